"""The mapping's [adoption] queries (what the VNeID adoption report reads from the HIS, :mod:`xml130.adoption`):
checked for the columns the report reads, then streamed, through an :class:`~.extract.Extractor`'s engine and typed
queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from . import ADOPTION_PARAMS, MappingError
from .extract import Extractor, lower_keys


def check_adoption(ex: Extractor, columns: dict[str, set[str]]) -> None:
    """Run the [adoption] queries for no row and check each returns the ``columns`` the report reads."""
    problems: list[str] = []
    with ex.engine.connect() as conn:
        for name, required in columns.items():
            if name not in ex.mapping.adoption:
                problems.append(f"[adoption.{name}] is missing from the mapping")
                continue
            spec = ex.mapping.adoption[name]
            params = {p.lstrip(":"): dt.datetime(9999, 1, 1) for p in ADOPTION_PARAMS[name]}
            sql = f"SELECT * FROM ({spec.query}) q WHERE 1 = 0"
            try:
                q = ex.query(f"adoption.{name}.check", sql, spec.types, params=tuple(params))
                cols = {c.lower() for c in conn.execute(q, params).keys()}
            except SQLAlchemyError as exc:
                problems.append(f"adoption.{name}: query fails: {exc.__class__.__name__}: "
                                f"{str(exc).splitlines()[0]}")
                continue
            for col in sorted(required - cols):
                problems.append(f"adoption.{name}: the query must return a column named {col}")
    if problems:
        raise MappingError(problems)


def adoption_rows(ex: Extractor, name: str, **params: dt.datetime) -> Iterator[dict[str, Any]]:
    """Rows of the mapping's [adoption.NAME] query, streamed (examinations between ``start`` and ``end``)."""
    if name not in ex.mapping.adoption:
        raise MappingError([f"mapping {ex.mapping.source or ex.mapping.name} has no [adoption.{name}] query "
                            f"(see docs/mapping.md)"])
    spec = ex.mapping.adoption[name]
    q = ex.query(f"adoption.{name}", spec.query, spec.types, params=tuple(params))
    with ex.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=ex.batch_size).execute(q, params)
        for row in result:
            yield lower_keys(row)
