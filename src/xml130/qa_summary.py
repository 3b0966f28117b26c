"""Summaries of findings for people: counts by code and by table, and a Markdown digest (Prefect artifacts,
CI logs). The findings themselves stay the API; this only counts and formats them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .findings import ERROR, Finding


def summarise(findings: Iterable[Finding], files: int) -> dict:
    findings = list(findings)
    by_code = Counter(f.code for f in findings)
    by_table = Counter(f.table or "-" for f in findings)
    bad_files = {f.file for f in findings if f.severity == ERROR}
    return {
        "files": files,
        "files_with_errors": len(bad_files),
        "errors": sum(f.severity == ERROR for f in findings),
        "warnings": sum(f.severity != ERROR for f in findings),
        "by_code": dict(sorted(by_code.items())),
        "by_table": dict(sorted(by_table.items())),
    }


def markdown(summary: dict, findings: Iterable[Finding], limit: int = 50) -> str:
    lines = [
        "# Kết quả kiểm tra dữ liệu XML130",
        "",
        f"- Tệp: {summary['files']} ({summary['files_with_errors']} tệp có lỗi)",
        f"- Lỗi: {summary['errors']}, cảnh báo: {summary['warnings']}",
        "",
        "| mã lỗi | số lượng |",
        "|---|---|",
        *(f"| {code} | {n} |" for code, n in summary["by_code"].items()),
        "",
        "| bảng | số lượng |",
        "|---|---|",
        *(f"| {t} | {n} |" for t, n in summary["by_table"].items()),
    ]
    findings = list(findings)
    if findings:
        lines += ["", f"## Chi tiết (tối đa {limit})", "", "| tệp | MA_LK | bảng | trường | dòng | mã | thông báo |",
                  "|---|---|---|---|---|---|---|"]
        for f in findings[:limit]:
            msg = f.message.replace("|", "\\|")
            lines.append(f"| {f.file} | {f.ma_lk or ''} | {f.table or ''} | {f.field or ''} | {f.row or ''} | "
                         f"{f.code} | {msg} |")
    return "\n".join(lines) + "\n"
