"""Reading dates and times written as text, the one parser of the package.

HIS databases store dates as timestamps, as ISO text (SQLite), as Vietnamese text (``28/11/2026 02:29``) or in the
standard's own compact form (``202611280229``). :func:`parse_datetime` reads all of them the same way on every
engine; a value that fits none raises :class:`DateTextError` naming what was expected, so the caller can make a
finding of it. Day first always: Vietnamese dates are never month first.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from .errors import Xml130Error

__all__ = ["DateTextError", "KNOWN_FORMATS", "compact", "parse_datetime", "parse_date", "to_datetime"]

# Tried in this order when the mapping names no format. Each entry: a regular expression that decides, then the
# strptime format that reads (the expression keeps "20261128" from being read by a looser format).
KNOWN_FORMATS: tuple[tuple[str, str], ...] = (
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}\.\d{1,6}", "%Y-%m-%d{T}%H:%M:%S.%f"),
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}", "%Y-%m-%d{T}%H:%M:%S"),
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", "%Y-%m-%d{T}%H:%M"),
    (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
    (r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}", "%d/%m/%Y %H:%M:%S"),
    (r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}", "%d/%m/%Y %H:%M"),
    (r"\d{1,2}/\d{1,2}/\d{4}", "%d/%m/%Y"),
    (r"\d{1,2}-\d{1,2}-\d{4} \d{1,2}:\d{2}", "%d-%m-%Y %H:%M"),
    (r"\d{1,2}-\d{1,2}-\d{4}", "%d-%m-%Y"),
    (r"\d{14}", "%Y%m%d%H%M%S"),
    (r"\d{12}", "%Y%m%d%H%M"),
    (r"\d{8}", "%Y%m%d"),
)
_COMPILED = tuple((re.compile(rx), fmt) for rx, fmt in KNOWN_FORMATS)
DESCRIBED = "yyyy-mm-dd[ hh:mm[:ss]], dd/mm/yyyy[ hh:mm[:ss]], dd-mm-yyyy[ hh:mm], yyyymmdd[HHMM[SS]]"


class DateTextError(Xml130Error, ValueError):
    """A text that is no date in the expected format(s)."""

    def __init__(self, value: str, expected: str):
        self.value, self.expected = value, expected
        super().__init__(f"{value!r} is not a date in {expected}")


def parse_datetime(value: str, fmt: str | None = None) -> dt.datetime:
    """Text → datetime. With ``fmt`` (strptime) only that format; without, any of :data:`KNOWN_FORMATS`.
    Leading and trailing blanks are ignored; a time zone offset is refused (HIS times are local)."""
    text = value.strip()
    if fmt:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            raise DateTextError(value, fmt) from None
    for rx, pattern in _COMPILED:
        if rx.fullmatch(text):
            sep = "T" if "T" in text else " "
            try:
                return dt.datetime.strptime(text, pattern.replace("{T}", sep))
            except ValueError:  # well-formed but impossible: 31/11, 29/02 of a common year
                raise DateTextError(value, "a real calendar date") from None
    raise DateTextError(value, DESCRIBED)


@lru_cache(maxsize=65536)
def compact(text: str | None) -> dt.datetime | None:
    """The standard's compact form — ``yyyyMMdd``, ``yyyyMMddHHmm`` or ``yyyyMMddHHmmss`` — → datetime; None when
    the text is empty, of another form, or no real calendar moment (a partial date's month or day ``00``). The
    same texts recur in every row of every hồ sơ: cached."""
    if not text or len(text) not in (8, 12, 14) or not (text.isascii() and text.isdigit()):
        return None
    try:
        return dt.datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10] or 0),
                           int(text[10:12] or 0), int(text[12:14] or 0))
    except ValueError:
        return None


def parse_date(value: str, fmt: str | None = None) -> dt.date:
    return parse_datetime(value, fmt).date()


def to_datetime(value: object, fmt: str | None = None) -> dt.datetime:
    """A database value (datetime, date, or text in a known format) → datetime; anything else raises
    :class:`DateTextError`."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, int) and not isinstance(value, bool):  # 202611280229 kept in a BIGINT column
        value = str(value)
    if isinstance(value, str):
        return parse_datetime(value, fmt)
    raise DateTextError(repr(value), fmt or DESCRIBED)
