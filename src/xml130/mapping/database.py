"""Creating the demo HIS's PostgreSQL database when it does not exist yet (``xml130 demo-his --url …/newdb``)."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in ``url`` when it is missing (connecting to the server's ``postgres``
    database with the same account, which needs the CREATEDB right). True when it was created; other databases
    (SQLite creates its file itself) are left alone."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql" or not u.database:
        return False
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}).first():
                return False
            quoted = conn.dialect.identifier_preparer.quote_identifier(u.database)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()
