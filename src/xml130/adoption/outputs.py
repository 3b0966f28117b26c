"""The adoption report's files: an XLSX ready to send (openpyxl), a CSV per table, the HTML page and a JSON summary.

Every file is named after the period (``adoption-2026-W47.xlsx``) and written atomically, so a scheduled run that
is cut off never leaves half a file where the administration office picks it up.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..store.files import write_atomic, write_json
from .counts import AdoptionReport, DepartmentRow, labels
from .html import html_page
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


def _csv(headers: list[str], rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so a spreadsheet opens the Vietnamese text right."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode("utf-8-sig")


# --- XLSX ----------------------------------------------------------------------------------------------------
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD = PatternFill("solid", fgColor="DDEBF7")
TOTAL = PatternFill("solid", fgColor="F2F2F2")
PCT = "0.00"


def _title(ws, report: AdoptionReport, title: str, width: int) -> int:
    ws.append([f"{report.facility_name} (mã cơ sở {report.facility})".strip()])
    ws.append([title])
    ws.append([report.period.title])
    for r in (1, 2, 3):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        ws.cell(r, 1).alignment = Alignment(horizontal="center")
    ws.cell(2, 1).font = Font(bold=True, size=13)
    ws.append([])
    return 5


def _table(ws, first_row: int, headers: list[str], rows: list[list[Any]], *, total: list[Any] | None = None,
           pct_cols: Iterable[int] = (), widths: dict[int, float] | None = None) -> int:
    """Headers, rows and an optional total row with borders and number formats; returns the next free row."""
    for j, h in enumerate(headers, start=1):
        c = ws.cell(first_row, j, h)
        c.font, c.fill, c.border = Font(bold=True), HEAD, BOX
        c.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    r = first_row
    for values in rows + ([total] if total else []):
        r += 1
        for j, v in enumerate(values, start=1):
            c = ws.cell(r, j, v)
            c.border = BOX
            if j in pct_cols:
                c.number_format = PCT
            if total is values:
                c.font, c.fill = Font(bold=True), TOTAL
            if isinstance(v, str) and len(v) > 40:
                c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[first_row].height = 48
    for j, width in (widths or {}).items():
        ws.column_dimensions[get_column_letter(j)].width = width
    return r + 1


def _landscape(ws) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def xlsx_bytes(report: AdoptionReport, notes: dict[str, str] | None = None) -> bytes:
    lab = labels()
    unit = "tuần" if report.period.kind == "week" else "tháng"
    wb = Workbook()

    ws = wb.active
    ws.title = "Theo khoa"
    row = _title(ws, report, f"{lab['report']['title']} — THEO KHOA/PHÒNG", len(DEPARTMENT_HEADERS))
    end = _table(ws, row, DEPARTMENT_HEADERS, [department_values(d) for d in report.departments],
                 total=department_values(report.total), pct_cols=(8, 9, 10, 11),
                 widths={1: 9, 2: 10, 3: 30, **{j: 16 for j in range(4, 12)}})
    ws.freeze_panes = ws.cell(row + 1, 4)
    if report.departments:  # the two rates of each department as a native chart, next to the table
        chart = BarChart()
        chart.type, chart.title, chart.y_axis.title = "bar", "Tỷ lệ có Sổ SKĐT (%)", "%"  # horizontal bars
        chart.y_axis.number_format = "0"
        chart.x_axis.scaling.orientation = "maxMin"  # rank 1 on top, as in the table
        chart.add_data(Reference(ws, min_col=8, max_col=9, min_row=row, max_row=end - 1), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=3, min_row=row + 1, max_row=end - 1))
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        chart.height, chart.width = 2 + 1.1 * len(report.departments), 18
        ws.add_chart(chart, f"B{end + 3}")
    ws.cell(end + 1, 1, f"Tổng toàn viện đếm mỗi người bệnh một lần (người bệnh khám ở nhiều khoa được tính ở mỗi "
                        f"khoa). Kỳ trước: {report.period.previous().title}. Xếp hạng theo tỷ lệ / tổng số người bệnh.")
    _landscape(ws)

    ws = wb.create_sheet("Xu hướng")
    periods = [t.period for t in report.trend]
    row = _title(ws, report, f"TỶ LỆ CÓ SỔ SỨC KHỎE ĐIỆN TỬ THEO {unit.upper()} (% / tổng số người bệnh)",
                 len(periods) + 2)
    rows = [[d.code, d.name, *(pct(t.by_department.get(d.code).rate_all) if t.by_department.get(d.code) else None
                               for t in report.trend)] for d in report.departments]
    total = ["", lab["report"]["total_label"], *(pct(t.total.rate_all) for t in report.trend)]
    end = _table(ws, row, ["Mã khoa", "Khoa/phòng", *(p.label for p in periods)], rows, total=total,
                 pct_cols=range(3, len(periods) + 3), widths={1: 10, 2: 30, **{j: 11 for j in range(3, len(periods) + 3)}})
    counts = [["", f"Số người bệnh được khám ({unit})", *(t.total.examined for t in report.trend)],
              ["", "Số người bệnh đủ điều kiện", *(t.total.eligible for t in report.trend)],
              ["", "Số người bệnh đã có sổ", *(t.total.books for t in report.trend)],
              ["", "Tỷ lệ / người bệnh đủ điều kiện (%)", *(pct(t.total.rate_eligible) for t in report.trend)]]
    _table(ws, end + 1, ["", "Toàn viện", *(p.label for p in periods)], counts, pct_cols=())
    for j in range(3, len(periods) + 3):  # the last row of the second table is a rate
        ws.cell(end + 1 + len(counts), j).number_format = PCT
    line = LineChart()
    line.title, line.y_axis.title, line.y_axis.number_format = "Toàn viện: tỷ lệ có Sổ SKĐT (%)", "%", "0"
    line.add_data(Reference(ws, min_col=2, max_col=len(periods) + 2, min_row=end - 1), from_rows=True,
                  titles_from_data=True)
    for series in line.series:
        series.smooth = False  # a trend of counts, not a curve
    line.set_categories(Reference(ws, min_col=3, max_col=len(periods) + 2, min_row=row))
    line.y_axis.scaling.min = 0
    line.height, line.width = 8, 18
    ws.add_chart(line, f"B{end + len(counts) + 4}")
    _landscape(ws)

    ws = wb.create_sheet("Định danh")
    ways = list(lab["identified_by"])
    extra = sorted({k for d in report.departments for k in d.identified_by} - set(ways))
    heads = ["Mã khoa", "Khoa/phòng", *(lab["identified_by"][w] for w in ways), *extra, "Tổng"]
    row = _title(ws, report, "HÌNH THỨC ĐỊNH DANH NGƯỜI BỆNH KHI TIẾP ĐÓN (số người bệnh)", len(heads))

    def ident(d: DepartmentRow) -> list[Any]:
        return [d.code, d.name, *(d.identified_by.get(w, 0) for w in ways + extra), sum(d.identified_by.values())]

    _table(ws, row, heads, [ident(d) for d in report.departments], total=ident(report.total),
           widths={1: 10, 2: 30, **{j: 16 for j in range(3, len(heads) + 1)}})
    _landscape(ws)

    ws = wb.create_sheet("PL1 Nhân viên")
    row = _title(ws, report, lab["report"]["staff_title"], len(STAFF_HEADERS))
    end = _table(ws, row, STAFF_HEADERS, [staff_values(n, s) for n, s in enumerate(report.staff, start=1)],
                 total=staff_values(None, report.staff_total),
                 widths={1: 6, 2: 10, 3: 28, 4: 12, 5: 13, 6: 13, 7: 40, 8: 12, 9: 14, 10: 13, 11: 40})
    r = end + 1
    for key, heading in lab["staff_notes"].items():
        ws.cell(r, 1, heading).font = Font(bold=True)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=3)
        ws.cell(r, 4, (notes or {}).get(key, ""))
        ws.merge_cells(start_row=r, start_column=4, end_row=r, end_column=len(STAFF_HEADERS))
        ws.cell(r, 4).alignment = Alignment(wrap_text=True, vertical="top")
        r += 1
    _landscape(ws)

    ws = wb.create_sheet("Danh sách NB")
    drill = [fact_row(f) for f in report.patients]
    heads = DRILL_HEADERS
    ws.append(heads)
    for c in ws[1]:
        c.font, c.fill = Font(bold=True), HEAD
    for d in drill:
        ws.append(list(d.values()))
    ws.freeze_panes = "A2"
    if drill:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(heads))}{len(drill) + 1}"
    for j in range(1, len(heads) + 1):
        ws.column_dimensions[get_column_letter(j)].width = 18

    ws = wb.create_sheet("Giải thích")
    for line in explanation(report):
        ws.append([line])
    ws.column_dimensions["A"].width = 140
    for w in report.warnings:
        ws.append([f"[{w['code']}] {w['message']}"])
        ws.cell(ws.max_row, 1).font = Font(bold=True, color="C0392B")

    buf = io.BytesIO()
    wb.properties.title = f"{lab['report']['title']} — {report.period.title}"
    wb.properties.creator = "xml130"
    wb.save(buf)
    return buf.getvalue()


# --- all files -------------------------------------------------------------------------------------------------
def write_outputs(report: AdoptionReport, out: Path, notes: dict[str, str] | None = None) -> dict[str, Path]:
    """Write the XLSX, the HTML page, the CSVs (departments, staff, drill-down) and a JSON summary."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"adoption-{report.period.label}"
    drill = [fact_row(f) for f in report.patients]
    files = {
        "xlsx": (out / f"{stem}.xlsx", xlsx_bytes(report, notes)),
        "html": (out / f"{stem}.html", html_page(report).encode("utf-8")),
        "csv": (out / f"{stem}.csv", _csv(DEPARTMENT_HEADERS, [department_values(d) for d in report.departments]
                                          + [department_values(report.total)])),
        "staff_csv": (out / f"{stem}-staff.csv", _csv(STAFF_HEADERS, [staff_values(n, s) for n, s in
                                                                      enumerate(report.staff, start=1)]
                                                      + [staff_values(None, report.staff_total)])),
        "patients_csv": (out / f"{stem}-patients.csv", _csv(DRILL_HEADERS, [list(d.values()) for d in drill])),
    }
    written = {}
    for key, (path, data) in files.items():
        write_atomic(path, data)
        written[key] = path
    summary = out / f"{stem}.json"
    write_json(summary, {**report.as_dict(), "files": {k: p.name for k, p in written.items()}})
    written["json"] = summary
    return written
