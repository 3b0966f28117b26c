"""Connecting to a HIS database: an engine closed when the job is done (:func:`his_engine`); a missing PostgreSQL or
MariaDB database is created by :func:`xml130.store.database.ensure_database` (``xml130 demo-his --url …/newdb``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url

from ..errors import Xml130Error


@contextmanager
def his_engine(url: str, **options) -> Iterator[Engine]:
    """An engine on the HIS database, disposed (its connections closed) when the block ends, however it ends.
    A SQLite file that does not exist is refused (SQLite would create it empty and fail later on a missing table)."""
    missing = missing_sqlite_file(url)
    if missing:
        raise DatabaseMissing(f"the HIS database file {missing} does not exist")
    engine = create_engine(url, **options)
    try:
        yield engine
    finally:
        engine.dispose()


class DatabaseMissing(Xml130Error, ValueError):
    """A database named by a URL is not there (a mistyped SQLite path)."""


def missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite database file that does not exist, else None (other engines, in-memory databases)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return None if Path(u.database).exists() else u.database
