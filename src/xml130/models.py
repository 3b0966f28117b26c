"""Pydantic v2 models for every table, built from the spec (one model per table per spec version).

Values are held in their canonical form: text and codes as ``str`` (NFC-normalised, leading zeros kept),
integers as ``int``, money and quantities as exact ``Decimal``, dates and times as their ``yyyyMMdd[HHmm]`` text,
several values as one ``;``-joined ``str``. Inputs may be Python values from a database (``date``, ``datetime``,
``Decimal``, ``int``, lists for several values); binary floats are refused. Every violation carries a stable
finding code (see :mod:`xml130.findings`); nothing is truncated or rounded away.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model
from pydantic_core import PydanticCustomError

from . import findings as fnd
from .spec import Field, SpecVersion, Table, load_spec

__all__ = ["model_for", "Hoso", "HosoError", "build_hoso", "build_rows", "errors_to_findings", "coerce_value"]

_XML_ILLEGAL = {c for c in range(32) if c not in (9, 10, 13)} | {0xFFFE, 0xFFFF}
_TRANS_ILLEGAL = dict.fromkeys(_XML_ILLEGAL)


def _fail(code: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(code, fnd.CATALOGUE[code][1], {k: str(v) for k, v in ctx.items()})


def _calendar_ok(text: str, partial: bool) -> bool:
    y, m, d = int(text[0:4]), int(text[4:6]), int(text[6:8])
    if partial and (m == 0 or d == 0):
        return True
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


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
            return value.strftime("%Y%m%d%H%M")
        if kind in ("date", "partial_date"):
            return value.strftime("%Y%m%d")
    elif isinstance(value, dt.date):
        if kind in ("date", "partial_date"):
            return value.strftime("%Y%m%d")
        if kind == "partial_datetime":  # a birth date without a known time: hour and minute are 0000
            return value.strftime("%Y%m%d") + "0000"
    elif isinstance(value, int):
        return str(value)
    elif isinstance(value, Decimal):
        if kind in ("decimal", "integer", "code", "string"):
            return format(value, "f")
    raise _fail("FIELD.TYPE", field=f.name, table=table_id, value=type(value).__name__)


def _make_coercer(f: Field, table_id: str) -> Callable[[Any], Any]:
    regex = f.compiled
    size = f.size
    name = f.name
    kind = f.kind
    sep = f.sep
    required = f.is_required
    expected = f.describe_format()
    dated = kind in ("date", "partial_date", "datetime", "partial_datetime")
    partial = kind.startswith("partial")

    def coerce(value: Any) -> Any:
        if value is None:
            if required:
                raise _fail("FIELD.REQUIRED", field=name, table=table_id)
            return None
        if sep and isinstance(value, (list, tuple)):
            value = sep.join(_to_text(f, table_id, v) for v in value)
        if kind == "decimal" and isinstance(value, Decimal) and not sep:
            exp = value.as_tuple().exponent
            if isinstance(exp, int) and exp < -f.scale:
                q = value.quantize(Decimal(1).scaleb(-f.scale))
                if q != value:
                    raise _fail("FIELD.SCALE", field=name, table=table_id, value=format(value, "f"), scale=f.scale)
                value = q  # only trailing zeros dropped: the amount is unchanged
        text = _to_text(f, table_id, value)
        if text == "":
            if required:
                raise _fail("FIELD.REQUIRED", field=name, table=table_id)
            return None
        if not text.isascii():
            text = unicodedata.normalize("NFC", text)
            if text.translate(_TRANS_ILLEGAL) != text:
                raise _fail("FIELD.CHARS", field=name, table=table_id)
        elif text.translate(_TRANS_ILLEGAL) != text:
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
            try:
                return Decimal(text)
            except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
                raise _fail("FIELD.FORMAT", field=name, table=table_id, value=text, expected=expected) from None
        return text

    return coerce


def _python_type(f: Field) -> Any:
    if f.sep:
        return str
    return {"integer": int, "decimal": Decimal}.get(f.kind, str)


class TableModel(BaseModel):
    """Base of every generated table model."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
    __table_id__: str = ""
    __spec_version__: str = ""


@cache
def model_for(version_id: str, table_id: str) -> type[TableModel]:
    """The model of ``table_id`` under spec version ``version_id`` (built once, then cached)."""
    version = load_spec().get(version_id)
    table = version[table_id]
    fields: dict[str, Any] = {}
    for f in table.fields:
        annotated = Annotated[_python_type(f) | None, BeforeValidator(_make_coercer(f, table_id))]
        fields[f.name] = (annotated, None)
    model = create_model(f"{table_id}_v{version_id}", __base__=TableModel, __doc__=table.title, **fields)
    model.__table_id__ = table_id
    model.__spec_version__ = version_id
    return model


def coerce_value(version: SpecVersion, table_id: str, field_name: str, value: Any) -> Any:
    """Validate one value as the model would (used by checks outside a model)."""
    return _make_coercer(version[table_id].field(field_name), table_id)(value)


def errors_to_findings(exc: ValidationError, table: str, version: str, *, row: int | None = None,
                       ma_lk: str | None = None, file: str | None = None) -> list[fnd.Finding]:
    out = []
    for err in exc.errors(include_url=False):
        loc = err.get("loc") or ()
        field_name = str(loc[0]) if loc else None
        code = err["type"]
        if code == "extra_forbidden":
            out.append(fnd.make("FIELD.UNKNOWN", file=file, ma_lk=ma_lk, table=table, field=field_name, row=row,
                                version=version))
        elif code in fnd.CATALOGUE:
            ctx = dict(err.get("ctx") or {})
            ctx.pop("table", None)
            ctx.pop("field", None)
            out.append(fnd.make(code, file=file, ma_lk=ma_lk, table=table, field=field_name, row=row, **ctx))
        else:
            out.append(fnd.make("FIELD.TYPE", file=file, ma_lk=ma_lk, table=table, field=field_name, row=row,
                                value=err.get("msg", code)))
    return out


class HosoError(ValueError):
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
            out.append(model.model_validate(raw))
        except ValidationError as exc:
            if problems is None:
                raise
            row_ma_lk = raw.get("MA_LK") if isinstance(raw.get("MA_LK"), str) else None
            problems.extend(errors_to_findings(exc, table_id, version.id, row=_row_label(raw, i),
                                               ma_lk=row_ma_lk or ma_lk, file=file))
    return tuple(out)


def episode_date(summary: Mapping[str, Any]) -> Any:
    """The date that picks the spec version of a hồ sơ: NGAY_RA, else NGAY_VAO."""
    return summary.get("NGAY_RA") or summary.get("NGAY_VAO")


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
