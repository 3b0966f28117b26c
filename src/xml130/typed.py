"""The typed pass over a table's values: one check per field — text from a file or a value from a database →
its canonical value, or a finding code — shared by the models (:mod:`xml130.models`), the validation of files
(:mod:`xml130.validate`) and, through the models, rendering.

Two ways through the same checks, with the same codes and the same canonical values:

- :class:`TextRows` takes rows of text as read from a file, each row against the (field, text) pairs already
  known good in one set operation: the fast path of validation, where nearly every row is right;
- the row checker (:func:`row_checker`) takes one row at a time, of text or of a database's typed values, and
  says precisely what is wrong with it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from itertools import compress, repeat
from operator import is_
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from . import findings as fnd
from .dates import compact
from .spec import Field, SpecVersion, Table

__all__ = ["field_check", "row_checker", "TextRows", "value_finding", "python_type"]

_DT, _D = "%04d%02d%02d%02d%02d", "%04d%02d%02d"  # yyyyMMddHHmm, yyyyMMdd (%-formatting: 3x faster than strftime)


def _fail(code: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(code, fnd.MESSAGES[code][1], {k: str(v) for k, v in ctx.items()})


def _calendar_ok(text: str, partial: bool) -> bool:
    if partial and (text[4:6] == "00" or text[6:8] == "00"):
        return True
    return compact(text) is not None


def _to_text(f: Field, table_id: str, value: Any) -> str:
    """Turn one input value into its text form for field ``f`` (no checks on the text yet)."""
    kind = f.kind
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise _fail("FIELD.TYPE", field=f.name, table=table_id, value="bool")
    if isinstance(value, float):
        raise _fail("FIELD.FLOAT", field=f.name, table=table_id, value=repr(value))
    if isinstance(value, dt.datetime):
        if kind in ("datetime", "partial_datetime"):
            return _DT % (value.year, value.month, value.day, value.hour, value.minute)
        if kind in ("date", "partial_date"):
            return _D % (value.year, value.month, value.day)
    elif isinstance(value, dt.date):
        if kind in ("date", "partial_date"):
            return _D % (value.year, value.month, value.day)
        if kind == "partial_datetime":  # a birth date without a known time: hour and minute are 0000
            return _D % (value.year, value.month, value.day) + "0000"
    elif isinstance(value, int):
        return str(value)
    elif isinstance(value, Decimal):
        if kind == "decimal" and f.scale is not None and value.is_finite():
            exp = value.as_tuple().exponent
            if isinstance(exp, int) and exp < -f.scale:
                q = value.quantize(Decimal(1).scaleb(-f.scale))
                if q == value:  # trailing zeros beyond the scale (a driver's default precision) carry nothing
                    value = q
        if kind in ("decimal", "integer", "code", "string"):
            return format(value, "f")
    raise _fail("FIELD.TYPE", field=f.name, table=table_id, value=type(value).__name__)


_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def field_check(f: Field, table_id: str) -> Callable[[Any], Any]:
    """The check of one field: input value → canonical value, or a PydanticCustomError with a finding code.

    Strings (what parsing yields) get the full check: NFC, XML-legal characters, size, grammar, calendar.
    Typed values from a database take shorter, equivalent paths (a ``datetime`` is formatted, an ``int``
    or ``Decimal`` is bounded), so the export stays fast."""
    regex = f.compiled
    size = f.size
    name = f.name
    kind = f.kind
    sep = f.sep
    required = f.is_required
    expected = f.describe_format()
    dated = kind in ("date", "partial_date", "datetime", "partial_datetime")
    partial = kind.startswith("partial")
    textual = kind in ("string", "code")
    scale_q = Decimal(1).scaleb(-f.scale) if f.scale is not None else None

    def check_text(text: str) -> Any:
        if text == "":
            if required:
                raise _fail("FIELD.REQUIRED", field=name, table=table_id)
            return None
        if textual:
            if not text.isascii():
                text = unicodedata.normalize("NFC", text)
            if _ILLEGAL_RE.search(text) is not None:
                raise _fail("FIELD.CHARS", field=name, table=table_id)
        if size is not None and len(text) > size:
            raise _fail("FIELD.TOO_LONG", field=name, table=table_id, length=len(text), size=size)
        if regex is not None and regex.fullmatch(text) is None:
            raise _fail("FIELD.FORMAT", field=name, table=table_id, value=text, expected=expected)
        if dated:
            for part in text.split(sep) if sep else (text,):
                if not _calendar_ok(part, partial):
                    raise _fail("FIELD.DATE", field=name, table=table_id, value=text)
        if sep:
            return text
        if kind == "integer":
            return int(text)
        if kind == "decimal":
            return Decimal(text)
        return text

    def coerce(value: Any) -> Any:
        if value is None:
            if required:
                raise _fail("FIELD.REQUIRED", field=name, table=table_id)
            return None
        cls = type(value)
        if cls is str:
            return check_text(value)
        if sep and isinstance(value, (list, tuple)):
            return check_text(sep.join(_to_text(f, table_id, v) for v in value))
        if not sep:
            if cls is int and kind == "integer":
                if value < 0 or (size is not None and len(str(value)) > size):
                    return check_text(str(value))  # reports the precise problem
                return value
            if cls is Decimal and kind == "decimal":
                if not value.is_finite():
                    raise _fail("FIELD.FORMAT", field=name, table=table_id, value=str(value), expected=expected)
                exp = value.as_tuple().exponent
                if exp < -f.scale:
                    q = value.quantize(scale_q)
                    if q != value:
                        raise _fail("FIELD.SCALE", field=name, table=table_id, value=format(value, "f"), scale=f.scale)
                    value = q  # only trailing zeros dropped: the amount is unchanged
                elif exp > 0:
                    value = value.quantize(Decimal(1))  # 1E+2 → 100
                if size is not None and len(format(value, "f")) > size:
                    return check_text(format(value, "f"))
                return value
            if dated and isinstance(value, dt.date):
                return check_text(_to_text(f, table_id, value))
        return check_text(_to_text(f, table_id, value))

    coerce.check_text = check_text  # type: ignore[attr-defined]  # the row check's path for text
    return coerce


def python_type(f: Field) -> Any:
    if f.sep:
        return str
    return {"integer": int, "decimal": Decimal}.get(f.kind, str)


_TEXT, _INT, _DEC = 0, 1, 2
_MEMO_SIZE = 4_096  # per field: codes, units, names and dates repeat from row to row


def row_checker(table: Table, version_id: str) -> Callable[[Any], Any]:
    """Check a whole row in one pass (one Python call per row, not per value): the fast paths for the value
    types HIS databases and parsers give (``str``, ``int``, ``Decimal``, ``datetime``) are inlined here, and
    anything else goes through the field's full check (:func:`field_check`). Both give the same codes."""
    table_id = table.id
    info: dict[str, tuple] = {}
    for f in table.fields:
        conv = _TEXT if f.sep or f.kind not in ("integer", "decimal") else (_INT if f.kind == "integer" else _DEC)
        dated = f.kind in ("date", "partial_date", "datetime", "partial_datetime")
        limit = 10 ** f.size if (conv == _INT and f.size) else None
        info[f.name] = (conv, f.size, f.sep, dated, f.kind.endswith("datetime"), limit, f.scale,
                        field_check(f, table_id), {})  # the last: text → canonical value, for texts that passed
    required = tuple(f.name for f in table.fields if f.is_required)
    required_set = frozenset(required)
    datetime_cls = dt.datetime

    def check(data: Any) -> Any:
        if type(data) is not dict and not isinstance(data, Mapping):  # a dict without the ABC check
            return data  # pydantic reports the wrong input type
        out: dict[str, Any] = {}
        errors: list[InitErrorDetails] = []
        for name, v in data.items():
            if v is None or (type(v) is str and v == ""):
                continue  # absent and empty are the same to the standard
            spec = info.get(name)
            if spec is None:
                errors.append(InitErrorDetails(type=_fail("FIELD.UNKNOWN", field=name, table=table_id, version=version_id),
                                               loc=(name,), input=v))
                continue
            conv, size, sep, dated, with_time, limit, scale, slow, memo = spec
            t = type(v)
            try:
                if t is str:
                    hit = memo.get(v)
                    if hit is None:  # the same text in the same field is checked once
                        hit = slow.check_text(v)
                        if len(memo) >= _MEMO_SIZE:
                            memo.clear()
                        memo[v] = hit
                    out[name] = hit
                elif t is int and conv == _INT and v >= 0 and (limit is None or v < limit):
                    out[name] = v
                elif t is Decimal and conv == _DEC:
                    text = str(v)  # 3x faster than format(v, "f"), and the same text unless it has an exponent
                    if "E" in text:
                        text = format(v, "f")
                    dot = text.find(".")
                    if (dot < 0 or len(text) - dot - 1 <= scale) and (size is None or len(text) <= size) and (
                            v.is_finite()):  # NaN and Infinity: the full check's FIELD.FORMAT
                        out[name] = v
                    else:
                        out[name] = slow(v)
                elif dated and t is datetime_cls and not sep:
                    out[name] = (_DT % (v.year, v.month, v.day, v.hour, v.minute)) if with_time else (
                        _D % (v.year, v.month, v.day))
                else:
                    value = slow(v)
                    if value is not None:
                        out[name] = value
            except PydanticCustomError as exc:
                errors.append(InitErrorDetails(type=exc, loc=(name,), input=v))
        for name in (() if required_set.issubset(out) else required):
            if name not in out and not any(e["loc"][0] == name for e in errors):
                errors.append(InitErrorDetails(type=_fail("FIELD.REQUIRED", field=name, table=table_id),
                                               loc=(name,), input=None))
        if errors:
            order = {n: i for i, n in enumerate(info)}
            errors.sort(key=lambda e: order.get(e["loc"][0], -1))
            raise ValidationError.from_exception_data(table_id, errors)
        return out

    return check




# --- rows of text, as read from a file ---------------------------------------------------------------------------

_KNOWN_SIZE = 1_024  # per field: texts known good, with their canonical value (codes, units, dates repeat)
_MISS = object()


class TextRows:
    """Rows of text as read from a file — every field of every row, in the standard's order — checked against
    the texts each field already knows good (one ``map`` over a row, no Python per value), and only what is new
    through the field's check. It gives what the row checker gives — each row's canonical values in the
    standard's order and the fields the row gave — or None when something is wrong, for the row checker to say
    precisely what."""

    def __init__(self, table: Table):
        self.names = table.names
        self.width = len(self.names)
        self.checks = [field_check(f, table.id) for f in table.fields]
        self.known: list[dict[str | None, Any]] = [self._fresh(f) for f in table.fields]
        self.fields = table.fields

    @staticmethod
    def _fresh(f: Field) -> dict[str | None, Any]:
        return {} if f.is_required else {None: None, "": None}  # absent and empty are the same to the standard

    def rows(self, texts: Sequence[str | None]) -> list[tuple[dict[str, Any], set[str]]] | None:
        w, names, known = self.width, self.names, self.known
        if len(texts) % w:
            return None
        get = dict.get
        out = []
        for start in range(0, len(texts), w):
            row = texts[start:start + w]
            values = list(map(get, known, row, repeat(_MISS)))
            if any(map(is_, values, repeat(_MISS))) and not self._learn(row, values):  # by identity: no __eq__
                return None
            # a text gives a value exactly when it is not empty: the fields the row gave
            out.append((dict(zip(names, values, strict=True)), set(compress(names, row))))
        return out

    def _learn(self, row: Sequence[str | None], values: list[Any]) -> bool:
        for j, value in enumerate(values):
            if value is not _MISS:
                continue
            text = row[j]
            try:
                canonical = self.checks[j](text if text != "" else None)
            except PydanticCustomError:
                return False
            memo = self.known[j]
            if len(memo) >= _KNOWN_SIZE:
                memo.clear()
                memo.update(self._fresh(self.fields[j]))
            memo[text] = values[j] = canonical
        return True


# --- one value, for the findings of a document the XSD refused ---------------------------------------------------

_FIELD_CHECKS: dict[tuple[str, str], dict[str, Callable[[Any], Any]]] = {}


def value_finding(version: SpecVersion, table: Table, name: str, text: str | None, **where: Any) -> fnd.Finding | None:
    """The finding for one value as written in a file (None when it is right): the same check, the same code
    and message as the models give, whichever path found it."""
    checks = _FIELD_CHECKS.get((version.id, table.id))
    if checks is None:
        checks = _FIELD_CHECKS[(version.id, table.id)] = {f.name: field_check(f, table.id)
                                                         for f in version[table.id].fields}
    check = checks.get(name)
    if check is None:
        return None
    try:
        check(text if text != "" else None)
    except PydanticCustomError as err:
        ctx = {k: v for k, v in (err.context or {}).items() if k not in ("table", "field")}
        return fnd.make(err.type, table=table.id, field=name, **where, **ctx)
    return None
