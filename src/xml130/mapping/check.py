"""Checks of a mapping against the HIS database, before any data moves.

Every query runs once for no episode (``IN :keys`` bound to a single NULL, which matches nothing whatever the
key's type: integer, text or UUID). Then what the mapping reads is compared with what the queries return: a field's
column that no query returns, a rule input that is missing, a column that nothing uses (usually a misspelled alias),
a type or a lookup declared for a column that is not there, a lookup query that fails. Each problem names the place
in the mapping file (``tables.XML1.fields.GHI_CHU``) to change. A failed query is rolled back so the next one runs
(PostgreSQL aborts the whole transaction otherwise).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from ..spec import SpecVersion
from . import Mapping, TableMapping
from .columns import rule_inputs

NO_KEYS = {"keys": [None]}


class Queries(Protocol):
    """What the checks run through: the extractor's queries (:class:`xml130.mapping.extract.Extractor`, which
    calls :func:`mapping_problems` itself — so this module does not import it)."""

    mapping: Mapping
    engine: Engine
    version: SpecVersion

    def lookups(self, conn: Any) -> dict[str, dict[str, Any]]: ...
    def query(self, name: str, sql: str, types: Any = None, params: tuple[str, ...] = ("keys",)) -> Any: ...
CHECKIN_COLUMNS = {"key", "ma_lk", "event", "event_at"}
EPISODE_COLUMNS = {"key", "ma_lk", "closed_at"}


def _columns(conn, query, params: dict, where: str, problems: list[str]) -> set[str] | None:
    try:
        return {c.lower() for c in conn.execute(query, params).keys()}
    except SQLAlchemyError as exc:
        conn.rollback()
        problems.append(f"{where}: query fails: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
        return None


def mapping_problems(ex: Queries) -> list[str]:
    """Every problem of the mapping against the database (empty: the mapping is usable)."""
    m = ex.mapping
    problems: list[str] = []
    with ex.engine.connect() as conn:
        cols = _columns(conn, text(f"SELECT * FROM ({m.episodes_query}) ep WHERE 1 = 0"), {}, "[episodes]", problems)
        if cols is not None:
            if EPISODE_COLUMNS - cols:
                problems.append(f"[episodes] query lacks columns {sorted(EPISODE_COLUMNS - cols)}")
            for col in sorted(cols - EPISODE_COLUMNS):
                problems.append(f"[episodes]: column {col!r} is not used (the query returns key, ma_lk, closed_at)")
        for name, spec in m.lookups.items():
            if isinstance(spec, str):
                got = _columns(conn, text(f"SELECT * FROM ({spec}) lk WHERE 1 = 0"), {}, f"lookups.{name}", problems)
                if got is not None and len(got) != 2:
                    problems.append(f"lookups.{name}: the query must return two columns (local code, national "
                                    f"code); it returns {', '.join(sorted(got))}")
        if not any(p.startswith("lookups.") for p in problems):
            try:
                ex.lookups(conn)
            except SQLAlchemyError as exc:
                conn.rollback()
                problems.append(f"[lookups] query fails: {str(exc).splitlines()[0]}")
        for tid, tm in m.tables.items():
            _check_table(ex, conn, f"tables.{tid}", tm, NO_KEYS, {"key"}, problems)
        if m.checkin is not None:
            _check_table(ex, conn, "checkin", m.checkin, {"since": dt.datetime(9999, 1, 1)}, CHECKIN_COLUMNS,
                         problems)
    return problems


def used_columns(ex: Queries, tm: TableMapping, collection: str | None) -> set[str]:
    """The columns of a table's query (or of a collection) that the mapping reads."""
    used = {"key"}
    for rule in tm.rule_names():
        used |= set(rule_inputs(rule, collection))
    for rule in tm.fields.values():
        if (rule.collect or None) == collection:
            used |= {rule.column} if rule.column else set()
            used |= set(rule.join)
    if tm.auto and collection is None:
        used |= {f.name.lower() for f in ex.version[tm.table].fields}
    if tm is ex.mapping.checkin and collection is None:
        used |= CHECKIN_COLUMNS
    return used


def _check_table(ex: Queries, conn, where: str, tm: TableMapping, params: dict, required: set[str],
                 problems: list[str]) -> None:
    name = tm.table if "keys" in params else "checkin"
    cols = _columns(conn, ex.query(name, tm.query, params=tuple(params)), params, where, problems)
    if cols is None:
        return
    for col in sorted(required - cols):
        problems.append(f"{where}: the query must return a column named {col}")
    for fname, rule in tm.fields.items():
        for col in rule.columns():
            if col not in cols:
                problems.append(f"{where}.fields.{fname}: column {col!r} is not returned by the query "
                                f"(it returns: {', '.join(sorted(cols))})")
    _check_inputs(ex, where, tm, None, cols, problems)
    for cname, coll in tm.collections.items():
        cwhere = f"{where}.collections.{cname}"
        ccols = _columns(conn, ex.query(f"{name}.{cname}", coll.query), NO_KEYS, cwhere, problems)
        if ccols is None:
            continue
        if "key" not in ccols:
            problems.append(f"{cwhere}: the query must return a column named key")
        for fname, rule in tm.fields.items():
            if rule.collect == cname and rule.column not in ccols:
                problems.append(f"{where}.fields.{fname}: column {rule.column!r} is not returned by "
                                f"collection {cname} (it returns: {', '.join(sorted(ccols))})")
        _check_inputs(ex, cwhere, tm, cname, ccols, problems)


def _check_inputs(ex: Queries, where: str, tm: TableMapping, collection: str | None, cols: set[str],
                  problems: list[str]) -> None:
    """Rule inputs present; declared types and column lookups on columns that exist; nothing returned unused."""
    for rule in tm.rule_names():
        for col, inp in rule_inputs(rule, collection).items():
            if inp.required and col not in cols:
                problems.append(f"{where}: rule {rule!r} needs a column named {col} ({inp.type}, for {inp.field}); "
                                f"the query does not return it")
    declared = tm.types if collection is None else tm.collections[collection].types
    lookups = tm.lookups if collection is None else tm.collections[collection].lookups
    for col in sorted(set(declared) - cols):
        problems.append(f"{where}.types.{col}: the query returns no column {col}")
    for col in sorted(set(lookups) - cols):
        problems.append(f"{where}.lookups.{col}: the query returns no column {col}")
    for col in sorted(cols - used_columns(ex, tm, collection)):
        problems.append(f"{where}: column {col!r} is returned but nothing uses it (a misspelled alias? name it "
                        f"like a field for auto, map it under fields, or drop it from the query)")
