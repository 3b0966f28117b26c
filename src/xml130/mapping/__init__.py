"""Declarative field mappings: how one hospital's HIS database becomes QĐ 130 tables.

A mapping is a TOML file (see ``docs/mapping.md`` and the demo's ``xml130/demo/demo_his.toml``):

- ``[mapping]``: name, facility code (MA_CSKCB), facility name.
- ``[episodes] query``: one row per episode with the columns ``key`` (the HIS's own id, of any type),
  ``ma_lk`` and ``closed_at`` (the export watermark). xml130 adds the selection (since a watermark, a date range
  or a list of MA_LK) around it, so the same query serves every mode. ``types = { closed_at = … }`` when the HIS
  keeps closing times as text (the window is then chosen in Python); ``lookback`` (default ``"1d"``) is how far
  before the stored watermark the nightly run reads again, for rows committed late or clocks to the minute.
- ``[tables.XMLn]``: ``query`` returning the table's rows with a ``key`` column, filtered by ``IN :keys``;
  ``auto = true`` maps every column named like a field of the standard; ``[tables.XMLn.fields]`` says how each
  other field is filled; ``[tables.XMLn.types]`` declares column types the driver may not give (SQLite returns
  text for dates and binary floats for NUMERIC); ``[tables.XMLn.collections.NAME]`` are extra queries whose rows
  become lists (several cards, several departments); ``rules = [...]`` names row rules from
  :mod:`xml130.mapping.derive`.
- ``[lookups.NAME]``: local code → national code, inline (``values = {…}``) or from a ``query``.
- ``[rules.NAME]``: parameters of the rules (newborn naming); shared thresholds are in ``data/params.toml``.
- ``[checkin]``: XML0 rows of new events (first cost, ward admission), filtered by ``event_at > :since``.
- ``[adoption.examinations]`` and ``[adoption.staff]``: the facts of the VNeID adoption report (one row per
  examination between ``:start`` and ``:end``; one row per active staff member), see :mod:`xml130.adoption`.

A field is filled by one of: ``"column"`` (shorthand), ``{column = …}``, ``{const = …}``, ``{lookup = …,
column = …}``, ``{join = [cols], sep = " "}``, ``{collect = NAME, column = …}`` (several values, ``;``-joined by the
model), ``{column = …, round = 2}`` (ROUND_HALF_UP), ``{column = …, format = "%d/%m/%Y"}`` (text dates), and
``{rule = NAME}``. ``types`` give a column's type as a name or ``{type = …, format = "%d/%m/%Y %H:%M"}``;
columns feeding a field or a rule are typed by it (:mod:`xml130.mapping.columns`). ``lookups = {column = NAME}``
translates a column (of a table, ``[checkin]`` or a collection) before anything reads it. Loading checks the
mapping against the spec, and :mod:`xml130.mapping.check` runs every query before any data moves.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SettingError, Xml130Error
from ..spec import SpecVersion, load_spec
from .columns import TYPE_NAMES, ColumnType, ValueProblem, parse_duration

__all__ = ["MAPPING_ENV", "Mapping", "TableMapping", "FieldRule", "MappingError", "MappingMissing", "load_mapping"]

ADOPTION_PARAMS = {"examinations": (":start", ":end"), "staff": ()}  # [adoption.NAME] and what each filters on
FIELD_KEYS = {"column", "const", "lookup", "join", "sep", "collect", "round", "format", "rule"}
DEFAULT_LOOKBACK = "1d"  # a HIS's commit lag and minute-precision closing times, re-read for free (ledger hash)


class MappingError(Xml130Error, ValueError):
    """The mapping is wrong (unknown field, missing column, wrong type…): raised before any data moves."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("mapping is invalid:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class FieldRule:
    field: str
    column: str | None = None
    const: Any = None
    lookup: str | None = None
    join: tuple[str, ...] = ()
    sep: str = " "
    collect: str | None = None
    round: int | None = None
    format: str | None = None
    rule: str | None = None

    def columns(self) -> list[str]:
        cols = [self.column] if self.column and not self.collect else []
        return cols + list(self.join)


@dataclass(frozen=True)
class Collection:
    name: str
    query: str
    types: dict[str, ColumnType]
    lookups: dict[str, str] = field(default_factory=dict)  # column → lookup applied before anything reads it


@dataclass(frozen=True)
class TableMapping:
    table: str
    query: str
    auto: bool
    fields: dict[str, FieldRule]
    types: dict[str, ColumnType]
    collections: dict[str, Collection]
    rules: tuple[str, ...]
    lookups: dict[str, str] = field(default_factory=dict)  # column → lookup applied before anything reads it

    def rule_names(self) -> list[str]:
        """Every mapping rule the table runs: its ``rules`` and the rules of its fields."""
        named = list(self.rules) + [r.rule for r in self.fields.values() if r.rule]
        return list(dict.fromkeys(named))


@dataclass(frozen=True)
class Mapping:
    name: str
    facility: str
    facility_name: str
    episodes_query: str
    tables: dict[str, TableMapping]
    lookups: dict[str, dict[str, Any] | str]  # inline values, or a query returning (local, national)
    rule_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = ""
    checkin: TableMapping | None = None  # [checkin]: XML0 rows of new events, filtered by event_at > :since
    adoption: dict[str, Collection] = field(default_factory=dict)  # [adoption.examinations], [adoption.staff]
    episodes_types: dict[str, ColumnType] = field(default_factory=dict)  # [episodes] types (key, ma_lk, closed_at)
    lookback: dt.timedelta = dt.timedelta(days=1)  # [episodes] lookback: re-read before the watermark

    def params(self, rule: str) -> dict[str, Any]:
        return self.rule_params.get(rule, {})


MAPPING_ENV = "XML130_MAPPING"  # where the command line and the flows look when no mapping is given


class MappingMissing(SettingError):
    """No mapping was given: a job never guesses how a hospital's HIS is laid out."""

    def __init__(self) -> None:
        super().__init__(f"no mapping: give --mapping FILE or set {MAPPING_ENV} to the hospital's mapping file "
                         "(docs/mapping.md); the bundled demo mappings are for `xml130 demo` only")


def _field_rule(table: str, name: str, raw: Any, problems: list[str]) -> FieldRule | None:
    if isinstance(raw, str):
        return FieldRule(name, column=raw.lower())
    if not isinstance(raw, dict):
        problems.append(f"{table}.{name}: a field is a column name or a table of {sorted(FIELD_KEYS)}")
        return None
    unknown = set(raw) - FIELD_KEYS
    if unknown:
        problems.append(f"{table}.{name}: unknown keys {sorted(unknown)} (allowed: {sorted(FIELD_KEYS)})")
        return None
    sources = [k for k in ("column", "const", "join", "collect", "rule") if k in raw]
    if "lookup" in raw and "column" not in raw:
        problems.append(f"{table}.{name}: a lookup needs the column it translates")
    if len(sources) != 1 and not ("collect" in raw and "column" in raw and len(sources) == 2):
        problems.append(f"{table}.{name}: say exactly one of column, const, join, collect, rule")
        return None
    if "collect" in raw and "column" not in raw:
        problems.append(f"{table}.{name}: collect needs the column of the collection to take")
    return FieldRule(
        name,
        column=raw["column"].lower() if "column" in raw else None,
        const=raw.get("const"),
        lookup=raw.get("lookup"),
        join=tuple(c.lower() for c in raw.get("join", ())),
        sep=raw.get("sep", " "),
        collect=raw.get("collect"),
        round=raw.get("round"),
        format=raw.get("format"),
        rule=raw.get("rule"),
    )


def _types(where: str, raw: dict[str, Any], problems: list[str]) -> dict[str, ColumnType]:
    """``types``: column → a type name, or ``{type = …, format = "…"}`` for a text date in one format."""
    out = {}
    for col, spec in (raw or {}).items():
        typ, fmt = (spec.get("type"), spec.get("format")) if isinstance(spec, dict) else (spec, None)
        if isinstance(spec, dict) and set(spec) - {"type", "format"}:
            problems.append(f"{where}.types.{col}: unknown keys {sorted(set(spec) - {'type', 'format'})} "
                            f"(allowed: type, format)")
        if typ not in TYPE_NAMES:
            problems.append(f"{where}: column {col} has unknown type {typ!r} (allowed: {', '.join(TYPE_NAMES)})")
        if fmt is not None and typ not in ("date", "datetime"):
            problems.append(f"{where}.types.{col}: a format is for date and datetime columns")
        out[col.lower()] = ColumnType(typ, fmt)
    return out


def _column_lookups(where: str, raw: Any, lookups: dict, problems: list[str]) -> dict[str, str]:
    out = {}
    for col, name in (raw or {}).items():
        if name not in lookups:
            problems.append(f"{where}.lookups.{col}: lookup {name!r} is not defined under [lookups]")
        out[col.lower()] = name
    return out


def parse_mapping(data: dict[str, Any], source: str = "", version: SpecVersion | None = None) -> Mapping:
    """Build and check a mapping against the spec (every field known, every rule known, every lookup defined)."""
    version = version or load_spec().latest
    problems: list[str] = []
    meta = data.get("mapping", {})
    for key in ("name", "facility"):
        if key not in meta:
            problems.append(f"[mapping] needs {key}")
    ep_raw = data.get("episodes", {})
    episodes = ep_raw.get("query")
    if not episodes:
        problems.append("[episodes] needs a query returning key, ma_lk and closed_at")
    ep_types = _types("episodes", ep_raw.get("types", {}), problems)
    for col in set(ep_types) - {"key", "ma_lk", "closed_at"}:
        problems.append(f"episodes.types.{col}: the episodes query has only key, ma_lk and closed_at")
    try:
        lookback = parse_duration(ep_raw.get("lookback", DEFAULT_LOOKBACK))
    except ValueProblem as exc:
        problems.append(f"episodes.lookback: {exc}")
        lookback = parse_duration(DEFAULT_LOOKBACK)
    lookups = {}
    for name, spec in data.get("lookups", {}).items():
        if "values" in spec:
            lookups[name] = {str(k): v for k, v in spec["values"].items()}
        elif "query" in spec:
            lookups[name] = spec["query"]
        else:
            problems.append(f"lookups.{name}: give values = {{…}} or a query")
    tables: dict[str, TableMapping] = {}
    for tid, raw in data.get("tables", {}).items():
        if tid == "XML0":
            problems.append("tables.XML0: check-in rows are not part of a hồ sơ; map them under [checkin]")
            continue
        if tid not in version.tables:
            problems.append(f"tables.{tid}: no such table in the standard (XML0…XML15)")
            continue
        tm = _table_mapping(tid, raw, version, lookups, problems, param=":keys", where=f"tables.{tid}")
        if tm is not None:
            tables[tid] = tm
    checkin = None
    if "checkin" in data:
        checkin = _table_mapping("XML0", data["checkin"], version, lookups, problems, param=":since",
                                 where="checkin")
    adoption = {}
    for name, spec in data.get("adoption", {}).items():
        where = f"adoption.{name}"
        if name not in ADOPTION_PARAMS:
            problems.append(f"{where}: unknown query (known: {', '.join(ADOPTION_PARAMS)})")
            continue
        if not isinstance(spec, dict) or "query" not in spec:
            problems.append(f"{where}: needs a query")
            continue
        for param in ADOPTION_PARAMS[name]:
            if param not in spec["query"]:
                problems.append(f"{where}: the query must filter on {param}")
        adoption[name] = Collection(name, spec["query"], _types(where, spec.get("types", {}), problems))
    if "XML1" not in tables:
        problems.append("tables.XML1 is required: every hồ sơ has its summary table")
    from .derive import check_params

    problems += check_params(data.get("rules", {}))
    used = {name for tm in [*tables.values(), *([checkin] if checkin else [])] for name in _lookups_used(tm)}
    for name in sorted(set(lookups) - used):
        problems.append(f"lookups.{name}: defined but never applied (name it in a field's lookup = … or in a "
                        f"table's or collection's lookups = {{column = \"{name}\"}})")
    if problems:
        raise MappingError(problems)
    return Mapping(meta["name"], str(meta["facility"]), meta.get("facility_name", ""), episodes, tables, lookups,
                   {k: v for k, v in data.get("rules", {}).items()}, source, checkin, adoption, ep_types, lookback)


def _lookups_used(tm: TableMapping) -> set[str]:
    return ({r.lookup for r in tm.fields.values() if r.lookup} | set(tm.lookups.values())
            | {name for c in tm.collections.values() for name in c.lookups.values()})


def _table_mapping(tid: str, raw: dict[str, Any], version: SpecVersion, lookups: dict, problems: list[str], *,
                   param: str, where: str) -> TableMapping | None:
    from .derive import ROW_RULES

    known = set(version[tid].names)
    if "query" not in raw:
        problems.append(f"{where}: needs a query with a key column and {param}")
        return None
    if param not in raw["query"]:
        problems.append(f"{where}: the query must filter on {param}")
    fields = {}
    for name, spec in raw.get("fields", {}).items():
        if name not in known:
            problems.append(f"{where}.fields.{name}: {tid} has no field {name} in spec version {version.id}")
            continue
        rule = _field_rule(tid, name, spec, problems)
        if rule is None:
            continue
        if rule.lookup and rule.lookup not in lookups:
            problems.append(f"{where}.fields.{name}: lookup {rule.lookup!r} is not defined under [lookups]")
        if rule.rule and rule.rule not in ROW_RULES:
            problems.append(f"{where}.fields.{name}: unknown rule {rule.rule!r} (known: {', '.join(sorted(ROW_RULES))})")
        fields[name] = rule
    collections = {}
    for cname, cspec in raw.get("collections", {}).items():
        if ":keys" not in cspec.get("query", ""):
            problems.append(f"{where}.collections.{cname}: needs a query with a key column and IN :keys")
            continue
        cwhere = f"{where}.collections.{cname}"
        collections[cname] = Collection(cname, cspec["query"], _types(cwhere, cspec.get("types", {}), problems),
                                        _column_lookups(cwhere, cspec.get("lookups"), lookups, problems))
    for name, rule in fields.items():
        if rule.collect and rule.collect not in collections:
            problems.append(f"{where}.fields.{name}: collection {rule.collect!r} is not defined")
    for r in raw.get("rules", []):
        if r not in ROW_RULES:
            problems.append(f"{where}.rules: unknown rule {r!r} (known: {', '.join(sorted(ROW_RULES))})")
    from .columns import RULE_INPUTS

    tm = TableMapping(tid, raw["query"], bool(raw.get("auto", False)), fields,
                      _types(where, raw.get("types", {}), problems), collections, tuple(raw.get("rules", [])),
                      _column_lookups(where, raw.get("lookups"), lookups, problems))
    for rule in tm.rule_names():
        coll = RULE_INPUTS.get(rule, (None, {}))[0]
        if coll and coll not in collections:
            problems.append(f"{where}: rule {rule!r} reads the collection {coll!r}: add "
                            f"[{where}.collections.{coll}]")
    return tm


def load_mapping(path: str | Path | None) -> Mapping:
    """Read a mapping file and check it against the spec; no path is :class:`MappingMissing`."""
    if not path:
        raise MappingMissing()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError([f"{p}: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError([f"{p}: not valid TOML: {exc}"]) from None
    return parse_mapping(data, source=str(p))
