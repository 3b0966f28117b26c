"""Cell values of the portal's catalogue spreadsheets: dates and money as the exports actually carry them.

Dates come as Excel serial numbers (days since 1899-12-30), as cells Excel already typed as dates, as
``yyyymmdd`` (or ``yyyymmddHHMM``) text or numbers, or as ``dd/mm/yyyy`` text. Money comes as numbers or as text
with thousands separators (``1.250.000``, ``1,250,000``, ``1 250 000``) and possibly a decimal part
(``1.250.000,50`` or ``1,250,000.50``). Anything else is a :class:`BadValue` naming what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from ..dates import compact
from ..errors import Xml130Error

EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01, counting Excel's phantom 29/02/1900
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_DIGITS = re.compile(r"\d+")
_MONEY = re.compile(r"-?[\d.,\s\u00a0]+")


class BadValue(Xml130Error, ValueError):
    """A cell that cannot be read as the column requires (the message is the reason shown to the user)."""


def text(value: object) -> str | None:
    """The cell as trimmed text (None when empty); whole floats lose their '.0'."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y%m%d%H%M") if (value.hour or value.minute) else value.strftime("%Y%m%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    out = str(value).strip()
    return out or None


def parse_date(value: object) -> dt.date | None:
    """One of the catalogue date forms → date; None when the cell is empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = text(value) or ""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and len(raw) != 8 and len(raw) != 12:
            return _serial(float(value))
        if _DIGITS.fullmatch(raw):
            if len(raw) in (8, 12, 14):
                moment = compact(raw)
                if moment is None:
                    raise ValueError(raw)
                return moment.date()
            if len(raw) <= 6:
                return _serial(float(raw))
        m = _DMY.fullmatch(raw)
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except (ValueError, OverflowError):
        raise BadValue(f"'{raw}' không phải ngày có thật") from None
    raise BadValue(f"'{raw}' không phải ngày (số ngày Excel, yyyymmdd hoặc dd/mm/yyyy)")


def _serial(days: float) -> dt.date:
    if not 1 <= days < 2958466:  # Excel's own range (up to 31/12/9999)
        raise ValueError(days)
    return EXCEL_EPOCH + dt.timedelta(days=int(days))


def parse_money(value: object) -> Decimal | None:
    """A number or a text with thousands separators → Decimal; None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise BadValue(f"'{value}' không phải số tiền")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    raw = str(value).strip()
    if not _MONEY.fullmatch(raw) or not any(c.isdigit() for c in raw):
        raise BadValue(f"'{raw}' không phải số tiền")
    digits = raw.replace(" ", "").replace("\u00a0", "")
    try:
        return Decimal(_normalise_separators(digits))
    except InvalidOperation:
        raise BadValue(f"'{raw}' không phải số tiền") from None


def _normalise_separators(s: str) -> str:
    """'1.250.000,5' / '1,250,000.5' / '1.250.000' / '12,5' → plain decimal text.

    When both separators occur the last one is the decimal point. When only one kind occurs, it separates
    thousands if it recurs or if exactly three digits follow it (VND amounts have no minor unit), otherwise it is
    the decimal point."""
    if "." in s and "," in s:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
        thousands = "," if dec == "." else "."
        parts = s.split(thousands)
        if any(len(p) != 3 for p in parts[1:-1]) or len(parts[-1].split(dec)[0]) != 3:
            raise InvalidOperation(s)
        return s.replace(thousands, "").replace(dec, ".")
    for sep in (".", ","):
        if sep in s:
            parts = s.split(sep)
            if len(parts) > 2 or len(parts[1]) == 3:
                if any(len(p) != 3 for p in parts[1:]):
                    raise InvalidOperation(s)
                return s.replace(sep, "")
            return s.replace(sep, ".")
    return s


def parse_int(value: object) -> int | None:
    number = parse_money(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise BadValue(f"'{text(value)}' không phải số nguyên")
    return int(number)
