"""The report's tables as rows of values, and its explanation: shared by the XLSX, the CSVs and the HTML page."""

from __future__ import annotations

from typing import Any

from .counts import AdoptionReport, DepartmentRow, PatientFact, StaffRow, labels, percent, reasons_text
from .period import ReportInputError


def headers(table: str, width: int) -> list[str]:
    """A table's column headings from labels.toml, refused unless there is one per value of its rows."""
    names = list(labels()["headers"][table])
    if len(names) != width:
        raise ReportInputError(f"labels.toml [headers] {table}: {len(names)} headings for {width} columns")
    return names


DRILL_HEADERS = headers("patients", 12)


def fact_row(f: PatientFact) -> dict[str, Any]:
    """A drill-down row as written to the CSV and the XLSX (identity numbers masked)."""
    lab = labels()
    return dict(zip(DRILL_HEADERS, [
        f.department, f.patient, f.ma_lk, f.examined_at.strftime("%d/%m/%Y %H:%M"),
        lab["identified_by"].get(f.identified_by or "", f.identified_by or ""), f.id_number, f.card,
        _yes(f.card_valid), _yes(f.level2_identity), _yes(f.eligible), _yes(f.health_book),
        lab["no_book_reason"].get(f.reason or "", f.reason or "")], strict=True))


def _yes(v: bool) -> str:
    return "Có" if v else "Không"


DEPARTMENT_HEADERS = headers("departments", 11)
STAFF_HEADERS = headers("staff", 11)


def pct(value) -> float | None:
    p = percent(value)
    return float(p) if p is not None else None


def department_values(d: DepartmentRow) -> list[Any]:
    c = d.counts
    prev = d.previous.rate_all if d.previous else None
    return [d.rank, d.code, d.name, c.examined, c.eligible, c.books, c.books_eligible, pct(c.rate_all),
            pct(c.rate_eligible), pct(prev), float(d.change_pp) if d.change_pp is not None else None]


def staff_values(n: int | None, s: StaffRow) -> list[Any]:
    return [n, s.code, s.name, s.total, s.level2, s.level2_missing, reasons_text(s.level2_reasons), s.books,
            s.cards, s.cards_missing, reasons_text(s.card_reasons)]


def explanation(report: AdoptionReport) -> list[str]:
    return [
        f"Kỳ báo cáo: {report.period.title}, từ {report.period.start:%d/%m/%Y %H:%M} đến trước "
        f"{report.period.end:%d/%m/%Y %H:%M} (giờ Việt Nam, tuần tính từ thứ Hai đến Chủ nhật).",
        "Số người bệnh được khám: số người bệnh khác nhau có ít nhất một lượt khám tại khoa trong kỳ.",
        "Mỗi người bệnh được xét theo lượt khám cuối cùng trong kỳ tại khoa (toàn viện: lượt khám cuối cùng trong kỳ).",
        "Đủ điều kiện: thẻ BHYT xuất trình khi tiếp đón còn giá trị vào ngày khám và có tài khoản định danh điện tử mức 2.",
        "Đã có Sổ SKĐT: theo ghi nhận của bộ phận tiếp đón ở lượt khám đó; không có bản ghi tiếp đón được tính là chưa có.",
        "Tỷ lệ / tổng số = số đã có sổ ÷ số người bệnh được khám; tỷ lệ / đủ điều kiện = số đủ điều kiện đã có sổ ÷ "
        "số đủ điều kiện. Làm tròn 2 chữ số thập phân.",
        "Thay đổi = tỷ lệ / tổng số kỳ này − kỳ trước (điểm phần trăm). Xếp hạng theo tỷ lệ / tổng số, bằng nhau "
        f"cùng hạng; khoa có dưới {max(1, report.rank_min_patients)} người bệnh trong kỳ không xếp hạng.",
        "Danh sách NB: từng người bệnh đứng sau mỗi con số (lọc theo Mã khoa và các cột Có/Không); số định danh và "
        "số thẻ chỉ hiện 4 ký tự cuối.",
        f"Lập bởi xml130 lúc {report.generated_at:%d/%m/%Y %H:%M} UTC.",
    ]
