"""Extraction: a HIS database + a mapping → raw hồ sơ → validated models, streamed in batches.

Selection modes: episodes closed after a watermark (``since``, optionally up to ``until``: the nightly run), an
explicit date range, or a list of MA_LK. Episodes are read in ``closed_at, key`` order and handled ``batch_size``
at a time, so memory stays flat whatever the day's volume: each table's query runs once per batch with
``IN :keys``. A hồ sơ whose data breaks the spec or a mapping rule comes out as :class:`Extracted` with its
findings (for quarantine); the rest of the batch goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Engine, Integer, Numeric, Text, bindparam, text

from .. import findings as fnd
from ..models import Hoso, HosoError, build_hoso
from ..params import Params, defaults
from ..spec import SpecVersion, load_spec
from . import FieldRule, Mapping, MappingError, TableMapping
from .columns import KIND_TYPES, RULE_INPUTS, ColumnType, ValueProblem, coerce
from .derive import AFTER_TABLES, ROW_RULES, Coverage, RuleContext, coverage
from .reader import ColumnReader

SQL_TYPES = {"decimal": lambda: Numeric(asdecimal=True), "date": Date, "datetime": DateTime, "integer": Integer,
             "text": Text, "boolean": Boolean}  # the adoption facts only: every other query is read through coerce


@dataclass(frozen=True)
class Selection:
    """Which episodes to export: closed in (since, until], or the given MA_LK."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    ma_lk: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.ma_lk:
            return f"{len(self.ma_lk)} MA_LK"
        return f"closed after {self.since or 'the beginning'}" + (f" up to {self.until}" if self.until else "")


@dataclass
class Extracted:
    ma_lk: str
    key: Any
    closed_at: dt.datetime | None
    hoso: Hoso | None = None
    findings: list[fnd.Finding] = field(default_factory=list)
    rows: dict[str, Any] = field(default_factory=dict)  # table → the rows as built, before the models (mapping check)
    filled_by: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, field) → table rule that filled it


def lower_keys(row) -> dict[str, Any]:
    return {k.lower(): v for k, v in row._mapping.items()}


class ByKey(dict):
    """Rows grouped by episode key; looked up by the key as any driver gives it (1, "1", a UUID or its text)."""

    def get(self, key, default=None):
        return super().get(key_id(key), default)

    def __getitem__(self, key):
        return super().__getitem__(key_id(key))


def key_id(value: Any) -> str:
    """The episode key compared as text: the same for an integer, a text or a UUID key on every engine."""
    return value.strip() if isinstance(value, str) else str(value)


def with_object_code(tm: TableMapping, src: dict[str, Any]) -> dict[str, Any]:
    """The row with the HIS's object code under ``object_code`` (what rule ``cards`` reads) when the mapping maps a
    column straight to MA_DOITUONG_KCB: a visit the HIS codes 9 is then written without its card either way."""
    rule = tm.fields.get("MA_DOITUONG_KCB")
    if "object_code" in src or rule is None or not rule.column or rule.collect or rule.lookup:
        return src
    return {**src, "object_code": src.get(rule.column)}


class Extractor:
    def __init__(self, engine: Engine, mapping: Mapping, *, batch_size: int = 500,
                 version: SpecVersion | None = None, params: Params | None = None):
        self.engine, self.mapping, self.batch_size = engine, mapping, batch_size
        self.params = params if params is not None else defaults()  # the thresholds the derivations read
        self.version = version or load_spec().latest  # the field kinds used to type query columns
        self._lookups: dict[str, dict[str, Any]] | None = None
        self._queries: dict[tuple[str, str], Any] = {}
        self.reader = ColumnReader(mapping, self.version)

    def quote(self, name: str) -> str:
        """A column name as this engine needs it (``key`` is reserved in MariaDB)."""
        return self.engine.dialect.identifier_preparer.quote(name)

    # --- queries ---------------------------------------------------------------------------------------
    def query(self, name: str, sql: str, types: dict[str, ColumnType] | None = None,
               params: tuple[str, ...] = ("keys",)):
        """The query of a table, a collection (``IN :keys``), the check-in events (``> :since``) or the
        adoption facts (``:start``/``:end``): every other parameter is a datetime. Only the adoption facts are
        typed by the driver; the rest is converted by :func:`xml130.mapping.columns.coerce`."""
        key = (name, sql)
        if key not in self._queries:
            binds = [bindparam(p, expanding=True) if p == "keys" else bindparam(p, type_=DateTime()) for p in params]
            q = text(sql).bindparams(*binds)
            if types:
                q = q.columns(**{c: SQL_TYPES[t.type]() for c, t in types.items()})
            self._queries[key] = q
        return self._queries[key]

    def checkin_events(self, conn, since: dt.datetime) -> list[dict[str, Any]]:
        """Rows of the mapping's [checkin] query for events after ``since`` (``event_at`` read as a datetime)."""
        tm = self.mapping.checkin
        q = self.query("checkin", tm.query, params=("since",))
        rows = [lower_keys(r) for r in conn.execute(q, {"since": since})]
        bad = []
        for r in rows:
            try:
                r["event_at"] = coerce(r.get("event_at"), ColumnType("datetime"))
            except ValueProblem as exc:
                bad.append(f"checkin: event_at {exc.value!r} of MA_LK {r.get('ma_lk')} is not {exc.expected}")
        if bad:
            raise MappingError(bad)
        return rows

    def rows_by_key(self, conn, name: str, sql: str, types: Any, keys: list) -> dict[Any, list]:
        """Rows of a table or collection query for these episode keys, grouped by key (raw values: the caller
        converts them with :meth:`prepare`)."""
        grouped: dict[Any, list[dict[str, Any]]] = ByKey()
        if not keys:
            return grouped
        for row in conn.execute(self.query(name, sql), {"keys": keys}):
            r = lower_keys(row)
            grouped.setdefault(key_id(r["key"]), []).append(r)
        return grouped

    def lookups(self, conn) -> dict[str, dict[str, Any]]:
        if self._lookups is None:
            self._lookups = {}
            for name, spec in self.mapping.lookups.items():
                if isinstance(spec, dict):
                    self._lookups[name] = spec
                else:
                    self._lookups[name] = {str(r[0]).strip(): r[1] for r in conn.execute(text(spec))}
        return self._lookups

    # --- checks before any data moves --------------------------------------------------------------------
    def check(self) -> None:
        """Run every query for no episode and check what the mapping reads against what the queries return:
        columns missing or unused, rule inputs, lookups (MappingError listing every problem)."""
        from .check import mapping_problems

        problems = mapping_problems(self)
        if problems:
            raise MappingError(problems)

    # --- selection -----------------------------------------------------------------------------------------
    @property
    def text_closing_times(self) -> bool:
        """[episodes] types declares closed_at: the HIS keeps it as text, so SQL cannot compare it with a
        watermark; the window is then chosen here, after reading every closed episode's key, MA_LK and time."""
        return "closed_at" in self.mapping.episodes_types

    def _selection_sql(self, sel: Selection, count: bool = False):
        key, ma_lk, closed = (self.quote(c) for c in ("key", "ma_lk", "closed_at"))
        base = f"SELECT {key}, {ma_lk}, {closed} FROM ({self.mapping.episodes_query}) ep"
        params: dict[str, Any] = {}
        where = []
        if sel.ma_lk:
            where.append(f"{ma_lk} IN :ma_lks")
            params["ma_lks"] = list(sel.ma_lk)
        else:
            where.append(f"{closed} IS NOT NULL")
            if not self.text_closing_times:
                if sel.since is not None:
                    where.append(f"{closed} > :since")
                    params["since"] = sel.since
                if sel.until is not None:
                    where.append(f"{closed} <= :until")
                    params["until"] = sel.until
        sql = base + " WHERE " + " AND ".join(where)
        sql = f"SELECT count(*) FROM ({sql}) c" if count else sql + f" ORDER BY {closed}, {key}"
        q = text(sql)
        # typed parameters: the driver then writes a datetime exactly as the column stores it (SQLite compares text)
        binds = [bindparam(n, type_=DateTime()) for n in ("since", "until") if n in params]
        if sel.ma_lk:
            binds.append(bindparam("ma_lks", expanding=True))
        if binds:
            q = q.bindparams(*binds)
        return q, params

    def _episode(self, row, sel: Selection) -> tuple[Any, str, Any] | None:
        """(key, MA_LK, closing time) of one episode row, None when outside the selection; a closing time that
        cannot be read stays text (the episode is then quarantined with MAPPING.VALUE)."""
        types = self.mapping.episodes_types
        key, ma_lk, closed = row[0], coerce(row[1], ColumnType("text")), row[2]
        try:
            closed = coerce(closed, types.get("closed_at", ColumnType("datetime")))
        except ValueProblem:
            return (key, ma_lk, closed)
        if closed is None and not sel.ma_lk:
            return None
        if self.text_closing_times and not sel.ma_lk:
            if (sel.since is not None and closed <= sel.since) or (sel.until is not None and closed > sel.until):
                return None
        return (key, ma_lk, closed)

    def count(self, sel: Selection) -> int:
        if self.text_closing_times and not sel.ma_lk:
            return sum(len(b) for b in self.batches(sel))
        q, params = self._selection_sql(sel, count=True)
        with self.engine.connect() as conn:
            return int(conn.execute(q, params).scalar() or 0)

    def batches(self, sel: Selection) -> Iterator[list[tuple[Any, str, dt.datetime | None]]]:
        q, params = self._selection_sql(sel)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=self.batch_size).execute(q, params)
            if not self.text_closing_times:
                for part in result.partitions(self.batch_size):
                    yield [e for e in (self._episode(r, sel) for r in part) if e is not None]
                return
            chosen = [e for e in (self._episode(r, sel) for r in result) if e is not None]
        chosen.sort(key=lambda e: (not isinstance(e[2], dt.datetime), e[2] if isinstance(e[2], dt.datetime)
                                   else dt.datetime.min, key_id(e[0])))
        for i in range(0, len(chosen), self.batch_size):
            yield chosen[i:i + self.batch_size]

    # --- assembling hồ sơ ------------------------------------------------------------------------------------
    def extract(self, sel: Selection) -> Iterator[Extracted]:
        """Every selected episode, in order, as a hồ sơ or with the findings that keep it out."""
        found: set[str] = set()
        for batch in self.batches(sel):
            for item in self.assemble(batch):
                found.add(item.ma_lk)
                yield item
        for missing in sorted(set(sel.ma_lk) - found):
            yield Extracted(missing, None, None, findings=[fnd.make("EXPORT.NOT_FOUND", ma_lk=missing, value=missing)])

    def assemble(self, batch: list[tuple[Any, str, dt.datetime | None]]) -> Iterator[Extracted]:
        keys = [k for k, _, _ in batch]
        tables = sorted(self.mapping.tables.values(), key=lambda t: (t.table == "XML1", int(t.table[3:])))
        with self.engine.connect() as conn:
            lookups = self.lookups(conn)
            data: dict[str, dict[Any, list]] = {}
            colls: dict[str, dict[str, dict[Any, list]]] = {}
            for tm in tables:
                data[tm.table] = self.rows_by_key(conn, tm.table, tm.query, None, keys)
                colls[tm.table] = {name: self.rows_by_key(conn, f"{tm.table}.{name}", c.query, None, keys)
                                   for name, c in tm.collections.items()}
        x1 = self.mapping.tables.get("XML1")
        reads_cards = x1 is not None and "cards" in x1.rule_names()
        for key, ma_lk, closed_at in batch:
            item = Extracted(ma_lk, key, closed_at if isinstance(closed_at, dt.datetime) else None)
            ctx = RuleContext(ma_lk, self.mapping.facility, self.mapping.facility_name, self.mapping.params,
                              shared=self.params)
            if reads_cards:
                ctx.coverage = self.coverage(x1, data["XML1"].get(key, []), colls["XML1"]["cards"].get(key, []),
                                             ma_lk, lookups)
            if closed_at is not None and not isinstance(closed_at, dt.datetime):
                ctx.table = "XML1"
                bad = self.mapping.episodes_types.get("closed_at", ColumnType("datetime"))
                ctx.problem("MAPPING.VALUE", "NGAY_RA", value=closed_at, column="episodes.closed_at",
                            expected=bad.format or bad.describe())
            raw: dict[str, Any] = {}
            for tm in tables:
                rows = data[tm.table].get(key, [])
                if not rows:
                    continue
                ctx.table = tm.table
                ctx.collections = {name: by_key.get(key, []) for name, by_key in colls[tm.table].items()}
                built = [self.row(tm, r, i, ma_lk, ctx, lookups) for i, r in enumerate(rows, start=1)]
                ctx.tables[tm.table] = built
                raw[tm.table] = built if self.version[tm.table].is_list else built[0]
            item.findings, item.rows, item.filled_by = ctx.findings, raw, ctx.filled_by
            if not item.findings:
                try:
                    item.hoso = build_hoso(raw)
                except HosoError as exc:
                    item.findings = exc.findings
            yield item

    def coverage(self, x1: TableMapping, rows: list[dict[str, Any]], cards: list[dict[str, Any]], ma_lk: str,
                 lookups: dict[str, dict[str, Any]]) -> Coverage | None:
        """The visit's cards as XML1 will write them, read before the cost tables are built (the rows of XML2 and
        XML3 need to know which of them the fund pays). Problems with the values are reported once, by XML1."""
        if not rows:
            return None
        scratch = RuleContext(ma_lk, self.mapping.facility, self.mapping.facility_name, self.mapping.params,
                              table="XML1", shared=self.params)
        src = with_object_code(x1, self.reader.prepare(x1, rows[0], scratch, 1, lookups))
        return coverage(src, [self.reader.prepare(x1, r, scratch, n, lookups, "cards")
                              for n, r in enumerate(cards, start=1)], self.params)

    def row(self, tm: TableMapping, src: dict[str, Any], index: int, ma_lk: str, ctx: RuleContext,
             lookups: dict[str, dict[str, Any]]) -> dict[str, Any]:
        table = self.version[tm.table]
        src = with_object_code(tm, self.reader.prepare(tm, src, ctx, index, lookups))
        ctx.collections = {name: [self.reader.prepare(tm, r, ctx, n, lookups, name) for n, r in enumerate(rows, start=1)]
                           for name, rows in ctx.collections.items() if name in tm.collections}
        out: dict[str, Any] = {}
        if tm.auto:
            for f in table.fields:
                if f.name.lower() in src:
                    out[f.name] = src[f.name.lower()]
        for rule_name in tm.rules:
            derived = self._run_rule(rule_name, src if rule_name not in AFTER_TABLES else out, ctx, index)
            out.update(derived)
            for name, value in derived.items():
                if value in (None, "", []):
                    ctx.filled_by.pop((tm.table, name), None)
                else:
                    ctx.filled_by[(tm.table, name)] = rule_name
        for name, rule in tm.fields.items():
            out[name] = self._value(tm, rule, src, ctx, lookups, index)
        if "MA_LK" in table.by_name and out.get("MA_LK") is None:
            out["MA_LK"] = ma_lk
        if "STT" in table.by_name and out.get("STT") is None and table.is_list:
            out["STT"] = index
        return {k: v for k, v in out.items() if k in table.by_name}

    @staticmethod
    def _run_rule(name: str, src: dict[str, Any], ctx: RuleContext, index: int) -> dict[str, Any]:
        """A mapping rule on one row; a value it cannot use (a missing input) is a finding, never a crash."""
        try:
            return ROW_RULES[name](src, ctx)
        except (TypeError, KeyError, AttributeError, ArithmeticError, ValueError) as exc:
            coll, inputs = RULE_INPUTS.get(name, (None, {}))
            rows = ctx.collections.get(coll, []) if coll else [src]
            empty = sorted({c for r in rows for c, i in inputs.items() if i.required and r.get(c) is None})
            field_name = inputs[empty[0]].field if empty else name
            ctx.problem("MAPPING.VALUE", field_name, row=index, value=", ".join(empty) or type(exc).__name__,
                        expected=f"the inputs of rule {name} ({', '.join(c for c, i in inputs.items() if i.required)})",
                        column=", ".join(empty) or name)
            return {}

    def _value(self, tm: TableMapping, rule: FieldRule, src: dict[str, Any], ctx: RuleContext, lookups,
               row: int) -> Any:
        if rule.rule:
            return self._run_rule(rule.rule, src, ctx, row).get(rule.field)
        if rule.const is not None:
            return rule.const
        if rule.collect:
            values = [r.get(rule.column) for r in ctx.collections.get(rule.collect, [])]
            if rule.lookup:
                where = f"collections.{rule.collect}.{rule.column}"
                values = [self.reader.translate(v, rule.lookup, lookups, ctx, rule.field, row, where)
                          if v is not None else None for v in values]
            return [v for v in values if v is not None] or None
        if rule.join:
            parts = [str(src[c]) for c in rule.join if src.get(c) not in (None, "")]
            return rule.sep.join(parts) or None
        value = src.get(rule.column)
        if value is None:
            return None
        if rule.lookup:
            value = self.reader.translate(value, rule.lookup, lookups, ctx, rule.field, row, rule.column)
            kind = KIND_TYPES.get(self.version[tm.table].field(rule.field).kind)
            if value is None or kind is None:
                return value
            try:
                value = coerce(value, ColumnType(kind, rule.format))
            except ValueProblem as exc:
                ctx.problem("MAPPING.VALUE", rule.field, row=row, value=exc.value, expected=exc.expected,
                            column=f"lookups.{rule.lookup}")
                return None
        if rule.round is not None and isinstance(value, Decimal):
            value = value.quantize(Decimal(1).scaleb(-rule.round), rounding=ROUND_HALF_UP)
        return value

