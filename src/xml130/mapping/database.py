"""Connecting to a HIS database: an engine closed when the job is done (:func:`his_engine`), and creating a missing
PostgreSQL database (``xml130 demo-his --url …/newdb``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url


@contextmanager
def his_engine(url: str, **options) -> Iterator[Engine]:
    """An engine on the HIS database, disposed (its connections closed) when the block ends, however it ends."""
    engine = create_engine(url, **options)
    try:
        yield engine
    finally:
        engine.dispose()


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in ``url`` when it is missing (connecting to the server's ``postgres``
    database with the same account, which needs the CREATEDB right). True when it was created; other databases
    (SQLite creates its file itself) are left alone."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql" or not u.database:
        return False
    with his_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT") as admin, admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}).first():
            return False
        quoted = conn.dialect.identifier_preparer.quote_identifier(u.database)
        conn.execute(text(f"CREATE DATABASE {quoted}"))
        return True
