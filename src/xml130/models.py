"""Pydantic v2 models for every table, built from the spec (one model per table per spec version).

Values are held in their canonical form: text and codes as ``str`` (NFC-normalised, leading zeros kept),
integers as ``int``, money and quantities as exact ``Decimal``, dates and times as their ``yyyyMMdd[HHmm]`` text,
several values as one ``;``-joined ``str``. Inputs may be Python values from a database (``date``, ``datetime``,
``Decimal``, ``int``, lists for several values); binary floats are refused. Every violation carries a stable
finding code (see :mod:`xml130.findings`); nothing is truncated or rounded away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, SkipValidation, ValidationError, create_model, model_validator
from pydantic import Field as PydanticField

from . import findings as fnd
from .errors import Xml130Error
from .spec import Field, SpecVersion, Table, load_spec
from .typed import TextRows, python_type, row_checker

__all__ = ["model_for", "Hoso", "HosoError", "build_hoso", "build_rows", "rows_from_texts", "errors_to_findings"]

class TableModel(BaseModel):
    """Base of every generated table model: the row checker runs first, then pydantic's own type checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    __table_id__: str = ""
    __spec_version__: str = ""
    __checker__: Callable[[Any], Any]
    __text_rows__: TextRows
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
        if type(data) is not dict and not isinstance(data, Mapping):
            return cls.model_validate(data)
        values = cls.__checker__(data)  # raises ValidationError with every finding of the row
        fields = cls.__blank__.copy()  # every field, in the standard's order (rendering relies on it)
        fields.update(values)
        return cls._assemble(fields, set(values))

    @classmethod
    def _assemble(cls, fields: dict[str, Any], given: set[str]) -> TableModel:
        """The model of canonical values already checked (every field, in the standard's order)."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "__dict__", fields)
        object.__setattr__(obj, "__pydantic_fields_set__", given)
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
        return Annotated[python_type(f), SkipValidation], PydanticField(**facts)
    return Annotated[python_type(f) | None, SkipValidation], PydanticField(None, **facts)


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
    model.__checker__ = staticmethod(row_checker(table, version_id))
    model.__text_rows__ = TextRows(table)
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


def rows_from_texts(version: SpecVersion, table_id: str, texts: Sequence[str | None]) -> tuple[TableModel, ...] | None:
    """The rows of a table read from a file — every field's text (None when empty), in the standard's order,
    row after row — as models, when every value is right; else None (then :func:`build_rows` on the rows says
    what is wrong). The same models :func:`build_rows` gives."""
    model = model_for(version.id, table_id)
    checked = model.__text_rows__.rows(texts)
    if checked is None:
        return None
    return tuple([model._assemble(values, given) for values, given in checked])


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
