"""Findings: the one error object of xml130, and the messages of its stable codes.

A finding names the file, the hồ sơ (MA_LK), the table (XML0…XML15 or GIAMDINHHS), the field, the row (STT or
1-based position), a stable code, a severity and a Vietnamese message for QA staff. Codes never change meaning;
messages may be reworded. :data:`MESSAGES` below is the single place where codes and messages live (the business
rules keep theirs with each rule, :mod:`xml130.rules`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is: ``error`` blocks sending (the hồ sơ goes to quarantine), ``warning`` is shown. Stored
    and printed as this text (JSON, JUnit, the ledger), so it compares equal to ``"error"``/``"warning"``."""

    ERROR = "error"
    WARNING = "warning"


ERROR, WARNING = Severity.ERROR, Severity.WARNING

# code → (severity, message template). Templates take the finding's context as keywords.
MESSAGES: dict[str, tuple[Severity, str]] = {
    "FILE.READ": (ERROR, "Không đọc được tệp: {detail}"),
    "XML.MALFORMED": (ERROR, "Tệp không phải XML hợp lệ (không đúng cú pháp hoặc không phải UTF-8): {detail}"),
    "FILE.NOT_XML": (
        ERROR,
        "Tệp không phải XML (bắt đầu bằng '{value}'{guess}): cổng BHXH chỉ nhận tệp XML theo QĐ 130.",
    ),
    "XML.NAMESPACE_URI": (
        WARNING,
        "Khai báo không gian tên {value} ({tables}) không phải URI hợp lệ; trình đọc của cổng BHXH (.NET) vẫn "
        "chấp nhận nên tệp vẫn được kiểm tra đầy đủ — nên sửa khai báo này ở phần mềm HIS.",
    ),
    "XML.ENCODING_DECLARED": (
        ERROR,
        "Khai báo XML ghi encoding=\"{value}\" ({tables}) nhưng nội dung là UTF-8 như QĐ 130 quy định: trình đọc XML "
        "theo byte (.NET XmlReader) từ chối khai báo sai này. Phần mềm HIS cần ghi encoding=\"utf-8\" (nội dung vẫn "
        "được kiểm tra đầy đủ).",
    ),
    "XML.ENCODING_NOT_UTF8": (
        WARNING,
        "Tài liệu XML ({tables}) được mã hóa {value}, không phải UTF-8 như QĐ 130 quy định: nội dung vẫn được đọc theo "
        "khai báo và kiểm tra đầy đủ, nhưng nên xuất UTF-8 để cổng BHXH đọc đúng tiếng Việt.",
    ),
    "XML.NIL": (
        WARNING,
        "Bảng {table} ghi xsi:nil=\"true\" cho {count} trường không có giá trị (đầu tiên: <{field}>) thay vì thẻ rỗng"
        " như chuẩn: được đọc như thẻ rỗng và mọi kiểm tra vẫn chạy; nên ghi thẻ rỗng ở phần mềm HIS.",
    ),
    "XML.LEGACY_STANDARD": (
        ERROR,
        "Hồ sơ theo chuẩn cũ QĐ 4210/QĐ-BYT (QĐ 917/QĐ-BHXH), không theo QĐ 130/QĐ-BYT (sửa đổi bởi QĐ 4750/QĐ-BYT): "
        "{tables} có thẻ {value} mà QĐ 130 đã bỏ hoặc đổi tên. Cần xuất lại hồ sơ theo QĐ 130.",
    ),
    "XML.ROOT": (
        ERROR,
        "Thẻ gốc <{value}> không phải tệp GIAMDINHHS, tệp check-in hay bảng nào của QĐ 130.",
    ),
    "FIELD.REQUIRED": (ERROR, "Trường {field} của bảng {table} là bắt buộc nhưng không có giá trị."),
    "FIELD.TOO_LONG": (
        ERROR,
        "Trường {field} của bảng {table} dài {length} ký tự, vượt quá tối đa {size} ký tự (không được cắt bớt).",
    ),
    "FIELD.FORMAT": (
        ERROR,
        "Giá trị '{value}' của trường {field} (bảng {table}) không đúng định dạng: {expected}.",
    ),
    "FIELD.DATE": (ERROR, "Giá trị '{value}' của trường {field} (bảng {table}) không phải ngày giờ có thật."),
    "FIELD.SCALE": (
        ERROR,
        "Giá trị {value} của trường {field} (bảng {table}) có quá {scale} chữ số sau dấu thập phân.",
    ),
    "FIELD.FLOAT": (
        ERROR,
        "Trường {field} (bảng {table}) nhận số thực nhị phân {value}; tiền và số lượng phải là số thập phân chính xác.",
    ),
    "FIELD.TYPE": (ERROR, "Trường {field} (bảng {table}) nhận giá trị kiểu {value} không dùng được."),
    "FIELD.CHARS": (ERROR, "Trường {field} (bảng {table}) chứa ký tự điều khiển không được phép trong XML."),
    "FIELD.UNKNOWN": (ERROR, "Trường {field} không thuộc bảng {table} theo chuẩn phiên bản {version}."),
    "ELEMENT.UNKNOWN": (ERROR, "Thẻ <{field}> không thuộc bảng {table} theo chuẩn phiên bản {version}."),
    "ELEMENT.ORDER": (
        ERROR,
        "Thẻ <{field}> của bảng {table} bị lặp trong cùng một dòng: không biết giá trị nào được tính.",
    ),
    "ELEMENT.OUT_OF_ORDER": (
        WARNING,
        "Thẻ <{field}> của bảng {table} không theo thứ tự của chuẩn (tại vị trí này chuẩn có <{expected}>), ở {rows}"
        " dòng. Các trường được đọc theo tên thẻ và mọi kiểm tra khác vẫn chạy; nên sửa thứ tự ở phần mềm HIS.",
    ),
    "XSD.OTHER": (ERROR, "Không hợp lệ theo lược đồ XSD của bảng {table}: {detail}"),
    "ENVELOPE.BASE64": (ERROR, "NOIDUNGFILE của {table} không giải mã được base64: {detail}"),
    "ENVELOPE.RAW_XML": (
        ERROR,
        "NOIDUNGFILE của {table} chứa XML trực tiếp (thẻ <{value}>) thay vì nội dung XML mã hóa base64 như QĐ 130 "
        "quy định (nội dung vẫn được kiểm tra).",
    ),
    "ENVELOPE.LOAIHOSO": (ERROR, "LOAIHOSO '{value}' không phải bảng XML1…XML15."),
    "ENVELOPE.TABLE_MISMATCH": (
        ERROR,
        "FILEHOSO khai LOAIHOSO {table} nhưng nội dung là thẻ gốc <{value}>.",
    ),
    "ENVELOPE.NO_XML1": (ERROR, "Hồ sơ không có bảng XML1 (tổng hợp)."),
    "ENVELOPE.DUPLICATE_TABLE": (ERROR, "Bảng {table} xuất hiện hơn một lần trong cùng một hồ sơ."),
    "ENVELOPE.COUNT": (ERROR, "SOLUONGHOSO = {value} nhưng tệp có {count} HOSO."),
    "ENVELOPE.DUPLICATE_MA_LK": (ERROR, "MA_LK {value} lặp lại trong cùng tệp: HOSO thứ {pos} trùng với HOSO thứ {first}."),
    "CARD.FORMAT": (ERROR, "Số thẻ BHYT '{value}' không đúng cấu trúc 15 ký tự (2 chữ, mức hưởng, mã tỉnh, mã số BHXH)."),
    "CARD.PREFIX": (ERROR, "Số thẻ BHYT '{value}' có mã đối tượng '{prefix}' không thuộc danh mục."),
    "CARD.LEVEL": (ERROR, "Số thẻ BHYT '{value}' có mức hưởng '{level}' ngoài 1–5."),
    "CARD.OFFICE": (ERROR, "Số thẻ BHYT '{value}' có mã nơi cấp '{office}' không hợp lệ."),
    "CARD.TEMPORARY": (ERROR, "Thẻ tạm của trẻ sơ sinh '{value}' phải là TE1 + mã tỉnh 2 số + 10 số."),
    "NEWBORN.NAME": (ERROR, "Trẻ sơ sinh chưa có tên và không có tên mẹ, cha, người giám hộ hay biên bản bàn giao để ghi HO_TEN."),
    "MAPPING.LOOKUP": (ERROR, "Mã '{value}' (cột {column}) không có trong bảng quy đổi {lookup} của cấu hình ánh xạ "
                              "(trường {field})."),
    "MAPPING.PLACEHOLDER": (WARNING, "Trường {field} (bảng {table}) là nội dung lâm sàng nhưng cấu hình ánh xạ ghi "
                            "hằng số '{value}': đó là giá trị tạm, không được gửi lên cổng giám định; lấy từ bệnh án "
                            "trong HIS."),
    "MAPPING.VALUE": (ERROR, "Giá trị '{value}' của HIS (cột {column}) không đọc được theo định dạng {expected} "
                             "(trường {field})."),
    "SUBMIT.CONTENT_CHANGED": (ERROR, "Tệp {path} ({ident}) không còn là tệp đã kiểm tra và ghi sổ (SHA-256 trong sổ "
                                      "{expected}, tệp hiện tại {actual}): không ký, không gửi. Tạo lại từ HIS bằng "
                                      "{remedy}."),
    "EXPORT.INTERNAL": (ERROR, "Lỗi nội bộ khi xử lý hồ sơ (đã đưa vào khu cách ly, cần kiểm tra): {detail}"),
    "EXPORT.NOT_FOUND": (ERROR, "Không tìm thấy đợt điều trị MA_LK '{value}' trong HIS."),
}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str
    file: str | None = None
    ma_lk: str | None = None
    table: str | None = None
    field: str | None = None
    row: int | None = None
    severity: Severity = ERROR

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: d[k] for k in ("file", "ma_lk", "table", "field", "row", "code", "severity", "message")}

    def located(self, **where: Any) -> Finding:
        """The same finding with more of its location filled in (never overwriting what is known)."""
        values = {k: v for k, v in where.items() if getattr(self, k) is None and v is not None}
        if not values:
            return self
        return Finding(**{**self._fields(), **values})

    def _fields(self) -> dict[str, Any]:
        return {s: getattr(self, s) for s in self.__slots__}

    def __str__(self) -> str:
        where = " ".join(
            f"{k}={v}" for k, v in (("ma_lk", self.ma_lk), ("table", self.table), ("field", self.field), ("row", self.row)) if v is not None
        )
        return f"{self.file or '-'}: {self.severity.upper()} {self.code} [{where}] {self.message}"


# Identity numbers never appear whole in a message (messages end up in logs and reports): last 4 characters only.
IDENTITY_FIELDS = frozenset({"SO_CCCD", "SO_CCCD_NND", "MA_THE_BHYT", "MA_THE_NND", "MA_THE_TAM", "MA_BHXH",
                             "MA_BHXH_NND", "MA_CHA", "MA_ME", "DIEN_THOAI"})


_IDENTITY_KEYS = frozenset({"card"})  # a message value that is always an identity number
_VALUE_KEYS = frozenset({"value", "found"})  # a message value that is the value of the finding's field


def mask(value: Any) -> str:
    """An identity number as it may be shown: its last 4 characters."""
    text = str(value)
    return text if len(text) <= 4 else "…" + text[-4:]


def shown(field: str | None, value: Any) -> str:
    """A value of ``field`` as it may be shown: masked when the field holds an identity number."""
    return mask(value) if field in IDENTITY_FIELDS else str(value)


def masked(values: dict[str, Any], field: str | None, *, identity: bool = False) -> dict[str, Any]:
    """The values of a message with every identity number masked: ``card`` always, ``value`` and ``found`` when
    the finding's field is an identity field (or ``identity``: the finding is about an identity number)."""
    ident = identity or field in IDENTITY_FIELDS
    return {k: mask(v) if k in _IDENTITY_KEYS or (ident and k in _VALUE_KEYS) else v for k, v in values.items()}


def make(code: str, *, file=None, ma_lk=None, table=None, field=None, row=None, **ctx: Any) -> Finding:
    """Build a finding from :data:`MESSAGES`; ``ctx`` fills the message template."""
    severity, template = MESSAGES[code]
    if ctx:
        ctx = masked(ctx, field, identity=code.startswith("CARD."))
    values = {"table": table, "field": field, **ctx}
    for key in ("value", "detail"):
        if key in values and isinstance(values[key], str) and len(values[key]) > 200:
            values[key] = values[key][:200] + "…"
    try:
        message = template.format(**values)
    except (KeyError, IndexError):
        message = template
    return Finding(code=code, message=message, file=file, ma_lk=ma_lk, table=table, field=field, row=row, severity=severity)


def has_errors(findings) -> bool:
    return any(f.severity == ERROR for f in findings)
