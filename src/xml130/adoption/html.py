"""The adoption report as one offline HTML page: a bar chart of departments, a trend line, the tables, the
drill-down. Inline SVG and CSS only (no script, no network), so it opens anywhere and can be mailed as is."""

from __future__ import annotations

from html import escape
from typing import Any

from .counts import AdoptionReport, labels, percent, reasons_text
from .tables import (
    DEPARTMENT_HEADERS,
    DRILL_HEADERS,
    STAFF_HEADERS,
    department_values,
    explanation,
    fact_row,
    pct,
    staff_values,
)

COLOURS = ("#1f77b4", "#2ca02c")  # rate against all, rate against eligible
GRID = "#dddddd"


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    return f"{v:.2f}".replace(".", ",") if not isinstance(v, int) else f"{v:,}".replace(",", ".")


def department_bars(report: AdoptionReport) -> str:
    """Two bars per department (rate against all, against eligible), in rank order, 0–100 %."""
    rows = report.departments + [report.total]
    label_w, bar_w, row_h = 220, 440, 40
    height = 30 + row_h * len(rows) + 24
    out = [f'<svg role="img" aria-label="Tỷ lệ có Sổ SKĐT theo khoa" width="{label_w + bar_w + 70}" '
           f'height="{height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">']
    for tick in range(0, 101, 20):
        x = label_w + bar_w * tick / 100
        out.append(f'<line x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{height - 20}" stroke="{GRID}"/>'
                   f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" fill="#666">{tick} %</text>')
    for i, d in enumerate(rows):
        y = 28 + i * row_h
        weight = ' font-weight="bold"' if d is report.total else ""
        rank = f"{d.rank}. " if d.rank else ""
        out.append(f'<text x="{label_w - 8}" y="{y + 20}" text-anchor="end"{weight}>{escape(rank + d.name)}</text>')
        for k, rate in enumerate((d.counts.rate_all, d.counts.rate_eligible)):
            value = percent(rate)
            w = 0 if value is None else bar_w * float(value) / 100
            yy = y + 3 + k * 16
            out.append(f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="14" fill="{COLOURS[k]}"/>'
                       f'<text x="{label_w + w + 5:.1f}" y="{yy + 11}" font-size="11">{_fmt(value)}</text>')
    out.append(f'<rect x="{label_w}" y="4" width="12" height="12" fill="{COLOURS[0]}"/>'
               f'<text x="{label_w + 16}" y="14">/ tổng số người bệnh</text>'
               f'<rect x="{label_w + 170}" y="4" width="12" height="12" fill="{COLOURS[1]}"/>'
               f'<text x="{label_w + 186}" y="14">/ người bệnh đủ điều kiện</text></svg>')
    return "".join(out)


def trend_line(report: AdoptionReport) -> str:
    """The hospital's two rates over the trend's periods (a gap where a period had no patient)."""
    points = report.trend
    w, h, left, top, bottom = 640, 260, 44, 28, 34
    step = (w - left - 20) / max(1, len(points) - 1)
    top_value = max([float(percent(r)) for t in points for r in (t.total.rate_all, t.total.rate_eligible)
                     if r is not None] + [10.0])
    scale = min(100.0, (int(top_value / 10) + 1) * 10)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + (h - top - bottom) * (1 - v / scale)

    out = [f'<svg role="img" aria-label="Xu hướng tỷ lệ toàn viện" width="{w}" height="{h}" '
           f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">']
    for k in range(0, 6):
        v = scale * k / 5
        _, y = xy(0, v)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{w - 10}" y2="{y:.1f}" stroke="{GRID}"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#666">{v:g}</text>')
    for i, t in enumerate(points):
        x, _ = xy(i, 0)
        out.append(f'<text x="{x:.1f}" y="{h - 12}" text-anchor="middle" fill="#666">{escape(t.period.short)}</text>')
    for k, attr in enumerate(("rate_all", "rate_eligible")):
        segments: list[list[str]] = [[]]
        for i, t in enumerate(points):
            rate = getattr(t.total, attr)
            if rate is None:
                segments.append([])
                continue
            value = float(percent(rate))
            x, y = xy(i, value)
            segments[-1].append(f"{x:.1f},{y:.1f}")
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{COLOURS[k]}"/>')
            if i == len(points) - 1:
                out.append(f'<text x="{x - 4:.1f}" y="{y - 8:.1f}" text-anchor="end" fill="{COLOURS[k]}">'
                           f'{_fmt(percent(rate))} %</text>')
        for seg in segments:
            if len(seg) > 1:
                out.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{COLOURS[k]}" stroke-width="2"/>')
    out.append(f'<rect x="{left + 6}" y="6" width="12" height="12" fill="{COLOURS[0]}"/>'
               f'<text x="{left + 22}" y="16">/ tổng số người bệnh</text>'
               f'<rect x="{left + 176}" y="6" width="12" height="12" fill="{COLOURS[1]}"/>'
               f'<text x="{left + 192}" y="16">/ người bệnh đủ điều kiện</text></svg>')
    return "".join(out)


def _table(headers: list[str], rows: list[list[Any]], total: list[Any] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for r in rows + ([total] if total else []):
        cls = ' class="total"' if r is total else ""
        body.append(f"<tr{cls}>" + "".join(
            f'<td class="num">{_fmt(v)}</td>' if isinstance(v, (int, float)) or v is None
            else f"<td>{escape(str(v))}</td>" for v in r) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html_page(report: AdoptionReport) -> str:
    lab = labels()
    t = report.total
    change = t.change_pp
    change_txt = "" if change is None else f" ({'+' if change >= 0 else ''}{_fmt(change)} điểm so với kỳ trước)"
    warnings = "".join(f'<p class="warn"><b>{escape(w["code"])}</b> {escape(w["message"])}</p>'
                       for w in report.warnings)
    drill = []
    for d in report.departments:
        rows = [list(fact_row(f).values()) for f in report.patients if f.department == d.code]
        drill.append(f"<details><summary>{escape(d.code)} — {escape(d.name)}: {len(rows)} người bệnh</summary>"
                     f"{_table(DRILL_HEADERS, rows)}</details>")
    staff = _table(STAFF_HEADERS, [staff_values(n, s) for n, s in enumerate(report.staff, start=1)],
                   staff_values(None, report.staff_total))
    ways = list(lab["identified_by"])
    ident = _table(["Khoa/phòng", *(lab["identified_by"][w] for w in ways)],
                   [[d.name, *(d.identified_by.get(w, 0) for w in ways)] for d in report.departments],
                   [t.name, *(t.identified_by.get(w, 0) for w in ways)])
    level2_reasons = reasons_text(report.staff_total.level2_reasons) or "—"
    by_period = _table(["Khoa/phòng", *(p.period.label for p in report.trend)],
                       [[d.name, *(pct(p.by_department[d.code].rate_all) if d.code in p.by_department else None
                                   for p in report.trend)] for d in report.departments],
                       [t.name, *(pct(p.total.rate_all) for p in report.trend)])
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>Sổ sức khỏe điện tử — {escape(report.period.title)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em 2em; color: #222; }}
h1 {{ font-size: 1.35em; margin-bottom: .2em; }} h2 {{ font-size: 1.1em; margin-top: 1.6em; }}
table {{ border-collapse: collapse; margin: .5em 0 1em; font-size: 13px; }}
td, th {{ border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }} th {{ background: #ddebf7; }}
td.num {{ text-align: right; }} tr.total td {{ font-weight: bold; background: #f2f2f2; }}
.kpi {{ display: inline-block; margin: .3em 2em .3em 0; }} .kpi b {{ font-size: 1.5em; display: block; }}
.warn {{ color: #c0392b; }} .charts {{ display: flex; gap: 2.5em; flex-wrap: wrap; align-items: flex-start; }}
small {{ color: #666; }}
</style></head><body>
<p><small>{escape(report.facility_name)} — mã cơ sở {escape(report.facility)}</small></p>
<h1>{escape(lab['report']['title'])}</h1>
<p>{escape(report.period.title)}</p>
{warnings}
<div>
<span class="kpi"><b>{_fmt(t.counts.examined)}</b>người bệnh được khám</span>
<span class="kpi"><b>{_fmt(t.counts.eligible)}</b>đủ điều kiện</span>
<span class="kpi"><b>{_fmt(t.counts.books)}</b>đã có Sổ SKĐT</span>
<span class="kpi"><b>{_fmt(percent(t.counts.rate_all))} %</b>/ tổng số{escape(change_txt)}</span>
<span class="kpi"><b>{_fmt(percent(t.counts.rate_eligible))} %</b>/ người bệnh đủ điều kiện</span>
</div>
<div class="charts">
<div><h2>Theo khoa/phòng (xếp hạng)</h2>{department_bars(report)}</div>
<div><h2>Xu hướng toàn viện (%)</h2>{trend_line(report)}</div>
</div>
<h2>Tỷ lệ / tổng số người bệnh qua các kỳ (%)</h2>
{by_period}
<h2>Bảng xếp hạng khoa/phòng</h2>
{_table(DEPARTMENT_HEADERS, [department_values(d) for d in report.departments], department_values(t))}
<h2>Hình thức định danh khi tiếp đón</h2>
{ident}
<h2>Khảo sát nhân viên (Phụ lục 1)</h2>
<p><small>Lý do chưa kích hoạt tài khoản mức 2 (toàn viện): {escape(level2_reasons)}</small></p>
{staff}
<h2>Danh sách người bệnh theo khoa</h2>
<p><small>Mỗi con số ở trên là số dòng của danh sách này; số định danh và thẻ chỉ hiện 4 ký tự cuối.</small></p>
{''.join(drill)}
<h2>Giải thích</h2>
<ul>{''.join(f"<li>{escape(line)}</li>" for line in explanation(report))}</ul>
</body></html>
"""
