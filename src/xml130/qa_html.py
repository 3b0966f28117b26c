"""Reports for people and CI systems: an offline HTML page and JUnit XML, from the same findings."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from html import escape
from xml.sax.saxutils import quoteattr

from .findings import ERROR, Finding
from .qa_summary import summarise


def _bars(title: str, counts: dict[str, int]) -> str:
    """A horizontal bar chart as inline SVG (no script, no network)."""
    if not counts:
        return f"<h3>{escape(title)}</h3><p>—</p>"
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    top = max(v for _, v in items)
    row_h, label_w, bar_w = 22, 260, 420
    height = row_h * len(items) + 10
    parts = [f'<h3>{escape(title)}</h3><svg role="img" width="{label_w + bar_w + 60}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">']
    for i, (label, n) in enumerate(items):
        y = 5 + i * row_h
        w = max(2, int(bar_w * n / top))
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row_h - 6}" fill="#c0392b"/>'
                     f'<text x="{label_w + w + 6}" y="{y + 15}">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_report(findings: Iterable[Finding], files: int, title: str = "Báo cáo kiểm tra dữ liệu XML130") -> str:
    findings = list(findings)
    s = summarise(findings, files)
    by_hoso: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:  # a hồ sơ is a MA_LK in a file (the same MA_LK may come in several files)
        by_hoso[(f.ma_lk or "(không rõ MA_LK)", f.file or "")].append(f)
    rows = []
    for ma_lk, _file in sorted(by_hoso):
        items = by_hoso[(ma_lk, _file)]
        errors = sum(f.severity == ERROR for f in items)
        rows.append(f'<details open><summary><b>{escape(ma_lk)}</b> — {errors} lỗi, {len(items) - errors} cảnh báo'
                    f' <small>{escape(items[0].file or "")}</small></summary><table><tr><th>mức</th><th>mã</th>'
                    f'<th>bảng</th><th>trường</th><th>dòng</th><th>thông báo</th></tr>')
        for f in items:
            rows.append(f'<tr class="{f.severity}"><td>{"lỗi" if f.severity == ERROR else "cảnh báo"}</td>'
                        f'<td><code>{escape(f.code)}</code></td><td>{escape(f.table or "")}</td>'
                        f'<td>{escape(f.field or "")}</td><td>{f.row if f.row is not None else ""}</td>'
                        f'<td>{escape(f.message)}</td></tr>')
        rows.append("</table></details>")
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: .5em 0 1em; }} td, th {{ border: 1px solid #ccc; padding: 3px 6px; }}
tr.error td:first-child {{ color: #c0392b; font-weight: bold; }} tr.warning td:first-child {{ color: #b9770e; }}
.kpi {{ display: inline-block; margin-right: 2em; font-size: 1.3em; }} details {{ margin-bottom: .4em; }}
</style></head><body>
<h1>{escape(title)}</h1>
<p><span class="kpi">{s['files']} tệp</span><span class="kpi">{s['files_with_errors']} tệp có lỗi</span>
<span class="kpi">{s['errors']} lỗi</span><span class="kpi">{s['warnings']} cảnh báo</span></p>
<div style="display:flex; gap:3em; flex-wrap:wrap">
<div>{_bars("Theo mã quy tắc", s['by_code'])}</div><div>{_bars("Theo bảng", s['by_table'])}</div></div>
<h2>Chi tiết theo hồ sơ</h2>
{''.join(rows) or '<p>Không có lỗi.</p>'}
</body></html>
"""


def junit_report(findings: Iterable[Finding], files: list[str]) -> str:
    """One test case per file; each error a <failure>, each warning in <system-out>."""
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_file[f.file or "-"].append(f)
    cases = []
    failures = 0
    for name in files:
        items = by_file.get(name, [])
        errors = [f for f in items if f.severity == ERROR]
        warnings = [f for f in items if f.severity != ERROR]
        body = ""
        if errors:
            failures += 1
            text = "\n".join(str(f) for f in errors)
            body += (f'<failure message={quoteattr(f"{len(errors)} lỗi: " + ", ".join(sorted(Counter(f.code for f in errors))))}'
                     f' type="xml130">{escape(text)}</failure>')
        if warnings:
            body += f"<system-out>{escape(chr(10).join(str(f) for f in warnings))}</system-out>"
        cases.append(f'<testcase classname="xml130.validate" name={quoteattr(name)}>{body}</testcase>')
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<testsuite name="xml130" tests="{len(files)}" failures="{failures}" errors="0">'
            + "".join(cases) + "</testsuite>\n")
