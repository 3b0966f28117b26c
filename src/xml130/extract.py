"""Extraction: a HIS database + a mapping → raw hồ sơ → validated models, streamed in batches.

Selection modes: episodes closed after a watermark (``since``, optionally up to ``until``: the nightly run), an
explicit date range, or a list of MA_LK. Episodes are read in ``closed_at, key`` order and handled ``batch_size``
at a time, so memory stays flat whatever the day's volume: each table's query runs once per batch with
``IN :keys``. A hồ sơ whose data breaks the spec or a mapping rule comes out as :class:`Extracted` with its
findings (for quarantine); the rest of the batch goes on.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Engine, Integer, Numeric, Text, bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from . import findings as fnd
from .mapping import ADOPTION_PARAMS, FieldRule, Mapping, MappingError, TableMapping
from .mapping.rules import AFTER_TABLES, ROW_RULES, RuleContext
from .models import Hoso, HosoError, build_hoso
from .spec import SpecVersion, load_spec

SQL_TYPES = {"decimal": lambda: Numeric(asdecimal=True), "date": Date, "datetime": DateTime, "integer": Integer,
             "text": Text, "boolean": Boolean}
KIND_TYPES = {"decimal": "decimal", "date": "date", "partial_date": "date", "datetime": "datetime",
              "partial_datetime": "datetime"}


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


def _lower(row) -> dict[str, Any]:
    return {k.lower(): v for k, v in row._mapping.items()}


class Extractor:
    def __init__(self, engine: Engine, mapping: Mapping, *, batch_size: int = 500,
                 version: SpecVersion | None = None):
        self.engine, self.mapping, self.batch_size = engine, mapping, batch_size
        self.version = version or load_spec().latest  # the field kinds used to type query columns
        self._lookups: dict[str, dict[str, Any]] | None = None
        self._queries: dict[tuple[str, str], Any] = {}

    # --- queries ---------------------------------------------------------------------------------------
    def column_types(self, tm: TableMapping) -> dict[str, str]:
        """Declared types plus those implied by the fields a column feeds (decimal, date, datetime)."""
        types: dict[str, str] = {}
        table = self.version[tm.table]
        for name, rule in tm.fields.items():
            kind = KIND_TYPES.get(table.field(name).kind)
            if kind and rule.column and not rule.collect and not table.field(name).sep:
                types[rule.column] = kind
        if tm.auto:
            for f in table.fields:
                if KIND_TYPES.get(f.kind) and not f.sep:
                    types.setdefault(f.name.lower(), KIND_TYPES[f.kind])
        types.update(tm.types)
        return types

    def _query(self, name: str, sql: str, types: dict[str, str], params: tuple[str, ...] = ("keys",)):
        """The typed query of a table, a collection (``IN :keys``), the check-in events (``> :since``) or the
        adoption facts (``:start``/``:end``): every other parameter is a datetime."""
        key = (name, sql)
        if key not in self._queries:
            binds = [bindparam(p, expanding=True) if p == "keys" else bindparam(p, type_=DateTime()) for p in params]
            self._queries[key] = text(sql).bindparams(*binds).columns(**{c: SQL_TYPES[t]() for c, t in types.items()})
        return self._queries[key]

    def checkin_events(self, conn, since: dt.datetime) -> list[dict[str, Any]]:
        """Rows of the mapping's [checkin] query for events after ``since``."""
        tm = self.mapping.checkin
        q = self._query("checkin", tm.query, self.column_types(tm), params=("since",))
        return [_lower(r) for r in conn.execute(q, {"since": since})]

    def adoption_rows(self, name: str, **params: dt.datetime) -> Iterator[dict[str, Any]]:
        """Rows of the mapping's [adoption.NAME] query, streamed (examinations between ``start`` and ``end``)."""
        spec = self._adoption_spec(name)
        q = self._query(f"adoption.{name}", spec.query, spec.types, params=tuple(params))
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=self.batch_size).execute(q, params)
            for row in result:
                yield _lower(row)

    def _adoption_spec(self, name: str):
        if name not in self.mapping.adoption:
            raise MappingError([f"mapping {self.mapping.source or self.mapping.name} has no [adoption.{name}] query "
                                f"(see the bundled demo_his.toml)"])
        return self.mapping.adoption[name]

    def rows_by_key(self, conn, name: str, sql: str, types: dict[str, str], keys: list) -> dict[Any, list]:
        grouped: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for row in conn.execute(self._query(name, sql, types), {"keys": keys}):
            r = _lower(row)
            grouped[r["key"]].append(r)
        return grouped

    def lookups(self, conn) -> dict[str, dict[str, Any]]:
        if self._lookups is None:
            self._lookups = {}
            for name, spec in self.mapping.lookups.items():
                if isinstance(spec, dict):
                    self._lookups[name] = spec
                else:
                    self._lookups[name] = {str(r[0]): r[1] for r in conn.execute(text(spec))}
        return self._lookups

    # --- checks before any data moves --------------------------------------------------------------------
    def check(self) -> None:
        """Run every query for no episode and check the columns each field needs are there (MappingError)."""
        problems: list[str] = []
        with self.engine.connect() as conn:
            try:
                cols = set(conn.execute(text(f"SELECT * FROM ({self.mapping.episodes_query}) ep WHERE 1 = 0")).keys())
                missing = {"key", "ma_lk", "closed_at"} - {c.lower() for c in cols}
                if missing:
                    problems.append(f"[episodes] query lacks columns {sorted(missing)}")
            except SQLAlchemyError as exc:
                problems.append(f"[episodes] query fails: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
            try:
                self.lookups(conn)
            except SQLAlchemyError as exc:
                problems.append(f"[lookups] query fails: {str(exc).splitlines()[0]}")
            for tid, tm in self.mapping.tables.items():
                self._check_table(conn, f"tables.{tid}", tm, {"keys": []}, {"key"}, problems)
            if self.mapping.checkin is not None:
                self._check_table(conn, "checkin", self.mapping.checkin, {"since": dt.datetime(9999, 1, 1)},
                                  {"key", "ma_lk", "event", "event_at"}, problems)
        if problems:
            raise MappingError(problems)

    def check_adoption(self, columns: dict[str, set[str]]) -> None:
        """Run the [adoption] queries for no row and check each returns the ``columns`` the report reads."""
        problems: list[str] = []
        with self.engine.connect() as conn:
            for name, required in columns.items():
                if name not in self.mapping.adoption:
                    problems.append(f"[adoption.{name}] is missing from the mapping")
                    continue
                spec = self.mapping.adoption[name]
                params = {p.lstrip(":"): dt.datetime(9999, 1, 1) for p in ADOPTION_PARAMS[name]}
                sql = f"SELECT * FROM ({spec.query}) q WHERE 1 = 0"
                try:
                    q = self._query(f"adoption.{name}.check", sql, spec.types, params=tuple(params))
                    cols = {c.lower() for c in conn.execute(q, params).keys()}
                except SQLAlchemyError as exc:
                    problems.append(f"adoption.{name}: query fails: {exc.__class__.__name__}: "
                                    f"{str(exc).splitlines()[0]}")
                    continue
                for col in sorted(required - cols):
                    problems.append(f"adoption.{name}: the query must return a column named {col}")
        if problems:
            raise MappingError(problems)

    def _check_table(self, conn, where: str, tm: TableMapping, params: dict, required: set[str],
                     problems: list[str]) -> None:
        name = tm.table if "keys" in params else "checkin"
        try:
            result = conn.execute(self._query(name, tm.query, self.column_types(tm), params=tuple(params)), params)
            cols = {c.lower() for c in result.keys()}
        except SQLAlchemyError as exc:
            problems.append(f"{where}: query fails: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
            return
        for col in sorted(required - cols):
            problems.append(f"{where}: the query must return a column named {col}")
        for fname, rule in tm.fields.items():
            for col in rule.columns():
                if col not in cols:
                    problems.append(f"{where}.fields.{fname}: column {col!r} is not returned by the query "
                                    f"(it returns: {', '.join(sorted(cols))})")
        for cname, coll in tm.collections.items():
            try:
                ccols = {c.lower() for c in conn.execute(self._query(f"{name}.{cname}", coll.query, coll.types),
                                                         {"keys": []}).keys()}
            except SQLAlchemyError as exc:
                problems.append(f"{where}.collections.{cname}: query fails: {str(exc).splitlines()[0]}")
                continue
            for fname, rule in tm.fields.items():
                if rule.collect == cname and rule.column not in ccols:
                    problems.append(f"{where}.fields.{fname}: column {rule.column!r} is not returned by "
                                    f"collection {cname}")

    # --- selection -----------------------------------------------------------------------------------------
    def _selection_sql(self, sel: Selection, count: bool = False):
        base = f"SELECT key, ma_lk, closed_at FROM ({self.mapping.episodes_query}) ep"
        params: dict[str, Any] = {}
        where = []
        if sel.ma_lk:
            where.append("ma_lk IN :ma_lks")
            params["ma_lks"] = list(sel.ma_lk)
        else:
            where.append("closed_at IS NOT NULL")
            if sel.since is not None:
                where.append("closed_at > :since")
                params["since"] = sel.since
            if sel.until is not None:
                where.append("closed_at <= :until")
                params["until"] = sel.until
        sql = base + " WHERE " + " AND ".join(where)
        sql = f"SELECT count(*) FROM ({sql}) c" if count else sql + " ORDER BY closed_at, key"
        q = text(sql)
        # typed parameters: the driver then writes a datetime exactly as the column stores it (SQLite compares text)
        binds = [bindparam(n, type_=DateTime()) for n in ("since", "until") if n in params]
        if sel.ma_lk:
            binds.append(bindparam("ma_lks", expanding=True))
        if binds:
            q = q.bindparams(*binds)
        if not count:
            q = q.columns(closed_at=DateTime())
        return q, params

    def count(self, sel: Selection) -> int:
        q, params = self._selection_sql(sel, count=True)
        with self.engine.connect() as conn:
            return int(conn.execute(q, params).scalar() or 0)

    def batches(self, sel: Selection) -> Iterator[list[tuple[Any, str, dt.datetime | None]]]:
        q, params = self._selection_sql(sel)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=self.batch_size).execute(q, params)
            for part in result.partitions(self.batch_size):
                yield [(r[0], r[1], r[2]) for r in part]

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
                data[tm.table] = self.rows_by_key(conn, tm.table, tm.query, self.column_types(tm), keys)
                colls[tm.table] = {name: self.rows_by_key(conn, f"{tm.table}.{name}", c.query, c.types, keys)
                                   for name, c in tm.collections.items()}
        for key, ma_lk, closed_at in batch:
            item = Extracted(ma_lk, key, closed_at)
            ctx = RuleContext(ma_lk, self.mapping.facility, self.mapping.facility_name, self.mapping.params)
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
            item.findings = ctx.findings
            if not item.findings:
                try:
                    item.hoso = build_hoso(raw)
                except HosoError as exc:
                    item.findings = exc.findings
            yield item

    def row(self, tm: TableMapping, src: dict[str, Any], index: int, ma_lk: str, ctx: RuleContext,
             lookups: dict[str, dict[str, Any]]) -> dict[str, Any]:
        table = self.version[tm.table]
        out: dict[str, Any] = {}
        if tm.auto:
            for f in table.fields:
                if f.name.lower() in src:
                    out[f.name] = src[f.name.lower()]
        for rule_name in tm.rules:
            out.update(ROW_RULES[rule_name](src if rule_name not in AFTER_TABLES else out, ctx))
        for name, rule in tm.fields.items():
            out[name] = self._value(rule, src, ctx, lookups, index)
        if "MA_LK" in table.by_name and out.get("MA_LK") is None:
            out["MA_LK"] = ma_lk
        if "STT" in table.by_name and out.get("STT") is None and table.is_list:
            out["STT"] = index
        return {k: v for k, v in out.items() if k in table.by_name}

    def _value(self, rule: FieldRule, src: dict[str, Any], ctx: RuleContext, lookups, row: int) -> Any:
        if rule.rule:
            return ROW_RULES[rule.rule](src, ctx).get(rule.field)
        if rule.const is not None:
            return rule.const
        if rule.collect:
            return [r.get(rule.column) for r in ctx.collections.get(rule.collect, []) if r.get(rule.column) is not None] or None
        if rule.join:
            parts = [str(src[c]) for c in rule.join if src.get(c) not in (None, "")]
            return rule.sep.join(parts) or None
        value = src.get(rule.column)
        if value is None:
            return None
        if rule.lookup:
            table = lookups[rule.lookup]
            if str(value) not in table:
                ctx.problem("MAPPING.LOOKUP", rule.field, row=row, value=value, lookup=rule.lookup)
                return None
            value = table[str(value)]
        if rule.format and isinstance(value, str):
            try:
                value = dt.datetime.strptime(value, rule.format)
            except ValueError:
                ctx.problem("MAPPING.VALUE", rule.field, row=row, value=value, expected=rule.format)
                return None
        if rule.round is not None and isinstance(value, Decimal):
            value = value.quantize(Decimal(1).scaleb(-rule.round), rounding=ROUND_HALF_UP)
        return value
