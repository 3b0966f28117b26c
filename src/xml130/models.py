"""Pydantic v2 models for every table, built from the spec (one model per table per spec version).

Values are held in their canonical form: text and codes as ``str`` (NFC-normalised, leading zeros kept),
integers as ``int``, money and quantities as exact ``Decimal``, dates and times as their ``yyyyMMdd[HHmm]`` text,
several values as one ``;``-joined ``str``. Inputs may be Python values from a database (``date``, ``datetime``,
``Decimal``, ``int``, lists for several values); binary floats are refused. Every violation carries a stable
finding code (see :mod:`xml130.findings`); nothing is truncated or rounded away.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, SkipValidation, ValidationError, create_model, model_validator
from pydantic import Field as PydanticField
from pydantic_core import InitErrorDetails, PydanticCustomError

from . import findings as fnd
from .dates import compact
from .errors import Xml130Error
from .spec import Field, SpecVersion, Table, load_spec

__all__ = ["model_for", "Hoso", "HosoError", "build_hoso", "build_rows", "errors_to_findings"]

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


def _make_coercer(f: Field, table_id: str) -> Callable[[Any], Any]:
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


def _python_type(f: Field) -> Any:
    if f.sep:
        return str
    return {"integer": int, "decimal": Decimal}.get(f.kind, str)


_TEXT, _INT, _DEC = 0, 1, 2
_MEMO_SIZE = 50_000  # per table model: codes, units, names and dates repeat from row to row


def _make_row_checker(table: Table, version_id: str) -> Callable[[Any], Any]:
    """Check a whole row in one pass (one Python call per row, not per value): the fast paths for the value
    types HIS databases and parsers give (``str``, ``int``, ``Decimal``, ``datetime``) are inlined here, and
    anything else goes through the field's full check (:func:`_make_coercer`). Both give the same codes."""
    table_id = table.id
    info: dict[str, tuple] = {}
    for f in table.fields:
        conv = _TEXT if f.sep or f.kind not in ("integer", "decimal") else (_INT if f.kind == "integer" else _DEC)
        dated = f.kind in ("date", "partial_date", "datetime", "partial_datetime")
        limit = 10 ** f.size if (conv == _INT and f.size) else None
        info[f.name] = (conv, f.size, f.sep, dated, f.kind.endswith("datetime"), limit, f.scale,
                        _make_coercer(f, table_id))
    required = tuple(f.name for f in table.fields if f.is_required)
    datetime_cls = dt.datetime
    memo: dict[tuple[str, str], Any] = {}  # (field, text) → canonical value, for texts that passed

    def check(data: Any) -> Any:
        if not isinstance(data, Mapping):
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
            conv, size, sep, dated, with_time, limit, scale, slow = spec
            t = type(v)
            try:
                if t is str:
                    key = (name, v)
                    hit = memo.get(key)
                    if hit is None:  # the same text in the same field is checked once
                        hit = slow.check_text(v)
                        if len(memo) >= _MEMO_SIZE:
                            memo.clear()
                        memo[key] = hit
                    out[name] = hit
                elif t is int and conv == _INT and v >= 0 and (limit is None or v < limit):
                    out[name] = v
                elif t is Decimal and conv == _DEC:
                    text = str(v)  # 3x faster than format(v, "f"), and the same text unless it has an exponent
                    if "E" in text:
                        text = format(v, "f")
                    dot = text.find(".")
                    if (dot < 0 or len(text) - dot - 1 <= scale) and (size is None or len(text) <= size):
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
        for name in required:
            if name not in out and not any(e["loc"][0] == name for e in errors):
                errors.append(InitErrorDetails(type=_fail("FIELD.REQUIRED", field=name, table=table_id),
                                               loc=(name,), input=None))
        if errors:
            order = {n: i for i, n in enumerate(info)}
            errors.sort(key=lambda e: order.get(e["loc"][0], -1))
            raise ValidationError.from_exception_data(table_id, errors)
        return out

    return check


class TableModel(BaseModel):
    """Base of every generated table model: the row checker runs first, then pydantic's own type checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    __table_id__: str = ""
    __spec_version__: str = ""
    __checker__: Callable[[Any], Any]
    __blank__: dict[str, None]

    @model_validator(mode="before")
    @classmethod
    def _check_row(cls, data: Any) -> Any:
        return cls.__checker__(data)

    @classmethod
    def from_row(cls, data: Any) -> TableModel:
        """What ``model_validate(data)`` gives (an equal model, the same fields set, the same ValidationError),
        assembled without pydantic's second pass: the row check has produced every canonical value and each
        field is ``SkipValidation``, so that pass would only copy them (a fifth of the cost of a row)."""
        if not isinstance(data, Mapping):
            return cls.model_validate(data)
        values = cls.__checker__(data)  # raises ValidationError with every finding of the row
        obj = object.__new__(cls)
        fields = cls.__blank__.copy()  # every field, in the standard's order (rendering relies on it)
        fields.update(values)
        object.__setattr__(obj, "__dict__", fields)
        object.__setattr__(obj, "__pydantic_fields_set__", set(values))
        object.__setattr__(obj, "__pydantic_extra__", None)
        object.__setattr__(obj, "__pydantic_private__", None)
        return obj


def _model_field(f: Field) -> tuple[Any, Any]:
    """(annotation, pydantic field) of one spec field: its type, whether it is required, and the standard's
    facts for JSON schema readers (editors, mapping authors): description, maxLength, pattern (anchored)."""
    extra: dict[str, Any] = {}
    if f.size is not None:
        extra["maxLength"] = f.size
    if f.regex is not None:
        extra["pattern"] = f"^(?:{f.regex})$"
    facts = {"title": f.name, "description": f.description, "json_schema_extra": extra or None}
    if f.is_required:  # never None once the row check has passed: it reports FIELD.REQUIRED first
        return Annotated[_python_type(f), SkipValidation], PydanticField(**facts)
    return Annotated[_python_type(f) | None, SkipValidation], PydanticField(None, **facts)


@cache
def model_for(version_id: str, table_id: str) -> type[TableModel]:
    """The model of ``table_id`` under spec version ``version_id`` (built once, then cached)."""
    version = load_spec().get(version_id)
    table = version[table_id]
    # The row check has already produced the canonical type of every value: pydantic keeps the annotations
    # (documentation, JSON schema) without checking each value a second time.
    fields: dict[str, Any] = {f.name: _model_field(f) for f in table.fields}
    model = create_model(f"{table_id}_v{version_id}", __base__=TableModel, __doc__=table.title, **fields)
    model.__table_id__ = table_id
    model.__spec_version__ = version_id
    model.__checker__ = staticmethod(_make_row_checker(table, version_id))
    model.__blank__ = dict.fromkeys(table.names)
    return model


def errors_to_findings(exc: ValidationError, table: str, version: str, *, row: int | None = None,
                       ma_lk: str | None = None, file: str | None = None) -> list[fnd.Finding]:
    out = []
    for err in exc.errors(include_url=False):
        loc = err.get("loc") or ()
        field_name = str(loc[0]) if loc else None
        code = err["type"]
        if code == "missing":
            out.append(fnd.make("FIELD.REQUIRED", file=file, ma_lk=ma_lk, table=table, field=field_name, row=row))
        elif code in ("extra_forbidden", "FIELD.UNKNOWN"):
            out.append(fnd.make("FIELD.UNKNOWN", file=file, ma_lk=ma_lk, table=table, field=field_name, row=row,
                                version=version))
        elif code in fnd.MESSAGES:
            ctx = dict(err.get("ctx") or {})
            ctx.pop("table", None)
            ctx.pop("field", None)
            out.append(fnd.make(code, file=file, ma_lk=ma_lk, table=table, field=field_name, row=row, **ctx))
        else:
            out.append(fnd.make("FIELD.TYPE", file=file, ma_lk=ma_lk, table=table, field=field_name, row=row,
                                value=err.get("msg", code)))
    return out


class HosoError(Xml130Error, ValueError):
    """A hồ sơ whose data breaks the spec; ``findings`` holds every reason (for quarantine)."""

    def __init__(self, findings: list[fnd.Finding]):
        self.findings = findings
        super().__init__("; ".join(str(f) for f in findings[:5]) + (" …" if len(findings) > 5 else ""))


@dataclass(frozen=True)
class Hoso:
    """One hồ sơ (one episode of care): its spec version and the rows of each table it carries."""

    version: SpecVersion
    tables: dict[str, tuple[TableModel, ...]] = field(default_factory=dict)

    @property
    def ma_lk(self) -> str:
        return self.tables["XML1"][0].MA_LK  # type: ignore[attr-defined]

    @property
    def summary(self) -> TableModel:
        return self.tables["XML1"][0]


def _row_label(raw: Mapping[str, Any], index: int) -> int:
    stt = raw.get("STT")
    try:
        return int(stt) if stt not in (None, "") else index
    except (TypeError, ValueError):
        return index


def build_rows(version: SpecVersion, table_id: str, rows: Iterable[Mapping[str, Any]], *,
               ma_lk: str | None = None, file: str | None = None,
               problems: list[fnd.Finding] | None = None) -> tuple[TableModel, ...]:
    """Validate raw rows of one table. Errors are appended to ``problems`` (every row is tried)."""
    model = model_for(version.id, table_id)
    out = []
    for i, raw in enumerate(rows, start=1):
        try:
            out.append(model.from_row(raw))  # the row check skips absent and empty values
        except ValidationError as exc:
            if problems is None:
                raise
            row_ma_lk = raw.get("MA_LK") if isinstance(raw.get("MA_LK"), str) else None
            problems.extend(errors_to_findings(exc, table_id, version.id, row=_row_label(raw, i),
                                               ma_lk=row_ma_lk or ma_lk, file=file))
    return tuple(out)


def episode_date(summary: Any) -> Any:
    """The date of the episode, NGAY_RA, else NGAY_VAO, as given: it picks the spec version, the code lists and
    the rules that apply to a hồ sơ. ``summary`` is XML1 as a mapping, a model or an XML element."""
    if isinstance(summary, Mapping):
        get = summary.get
    elif hasattr(summary, "findtext"):
        get = summary.findtext
    else:
        def get(name: str) -> Any:
            return getattr(summary, name, None)
    return get("NGAY_RA") or get("NGAY_VAO")


def build_hoso(tables: Mapping[str, Any], *, version: SpecVersion | None = None, file: str | None = None) -> Hoso:
    """Validate a hồ sơ given as ``{"XML1": {...}, "XML2": [{...}, ...], ...}``; raise :class:`HosoError`
    with every finding when any value breaks the spec."""
    problems: list[fnd.Finding] = []
    raw1 = tables.get("XML1")
    if not raw1:
        raise HosoError([fnd.make("ENVELOPE.NO_XML1", file=file, table="XML1")])
    summary = raw1[0] if isinstance(raw1, (list, tuple)) else raw1
    if version is None:
        version = load_spec().for_date(episode_date(summary))
    ma_lk = summary.get("MA_LK") if isinstance(summary.get("MA_LK"), str) else None
    built: dict[str, tuple[TableModel, ...]] = {}
    for table_id in sorted(tables, key=lambda t: int(t[3:]) if t[3:].isdigit() else 99):
        if table_id not in version.tables or table_id == "XML0":
            problems.append(fnd.make("ENVELOPE.LOAIHOSO", file=file, ma_lk=ma_lk, table=table_id, value=table_id))
            continue
        rows = tables[table_id]
        if isinstance(rows, Mapping):
            rows = [rows]
        table: Table = version[table_id]
        if not table.is_list and len(rows) != 1:
            problems.append(fnd.make("ENVELOPE.DUPLICATE_TABLE", file=file, ma_lk=ma_lk, table=table_id))
            continue
        built[table_id] = build_rows(version, table_id, rows, ma_lk=ma_lk, file=file, problems=problems)
    if problems:
        raise HosoError(problems)
    return Hoso(version=version, tables=built)
