"""The ledger's database itself: creating a missing PostgreSQL or MariaDB database (the ledger when it is opened,
and ``xml130 demo-his --url …/newdb``), the command an administrator runs when the account may not
(:func:`create_database_command`), and telling the errors that cannot heal by waiting — no database, no table,
refused credentials — from a dropped connection (:func:`permanent_error`)."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ..errors import Xml130Error

MARIADB_CHARSET = "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"  # every character, MA_LK compared exactly


class LedgerDatabaseMissing(Xml130Error, ValueError):
    """The ledger's PostgreSQL or MariaDB database does not exist and could not be created with the ledger's
    account: the message names the command an administrator runs once."""


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL or MariaDB/MySQL database named in ``url`` when it is missing, with the same account
    (connected to the server's ``postgres`` database, or to no database; it needs the CREATEDB right, or CREATE on
    MariaDB). True when it was created; other databases (SQLite creates its file itself) are left alone."""
    u = make_url(url)
    backend = u.get_backend_name()
    if backend not in ("postgresql", "mysql", "mariadb") or not u.database:
        return False
    if backend == "postgresql":
        admin_url, exists = u.set(database="postgres"), "SELECT 1 FROM pg_database WHERE datname = :n"
    else:
        admin_url, exists = u._replace(database=None), "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text(exists), {"n": u.database}).first():
                return False
            quoted = conn.dialect.identifier_preparer.quote_identifier(u.database)
            conn.execute(text(f"CREATE DATABASE {quoted}" + ("" if backend == "postgresql" else f" {MARIADB_CHARSET}")))
            return True
    finally:
        admin.dispose()


def create_database_command(url: str) -> str | None:
    """The shell command a database administrator runs to create the database of ``url`` for its account (None
    for SQLite and other engines)."""
    u = make_url(url)
    backend, host = u.get_backend_name(), u.host or "localhost"
    if backend == "postgresql":
        return f"createdb -h {host} -p {u.port or 5432} -U postgres -O {u.username or 'postgres'} {u.database}"
    if backend in ("mysql", "mariadb"):
        grant = f" GRANT ALL ON \\`{u.database}\\`.* TO '{u.username}'@'%';" if u.username not in (None, "root") else ""
        return (f"mariadb -h {host} -P {u.port or 3306} -u root -p -e "
                f"\"CREATE DATABASE \\`{u.database}\\` {MARIADB_CHARSET};{grant}\"")
    return None


def missing_database(url: str, cause: Exception, create: bool) -> None:
    """The ledger's database is missing: create it (``create``), else raise :class:`LedgerDatabaseMissing` with the
    command to run; ``cause`` again when there is nothing to create (SQLite)."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    command = create_database_command(url)
    if command is None:  # SQLite: its file cannot be opened — nothing to create
        raise cause
    u = make_url(url)
    why = "a command that only reads does not create it"
    if create:
        try:
            ensure_database(url)
            logging.getLogger(__name__).warning("created the ledger database %s on %s", u.database, u.host)
            return
        except SQLAlchemyError as exc:
            why = f"not created: {str(getattr(exc, 'orig', exc)).splitlines()[0]}"
    where = f"{u.host}:{u.port}" if u.port else u.host
    raise LedgerDatabaseMissing(f"the ledger database {u.database} does not exist on {where} ({why}). Create it "
                                f"once, as the database administrator: {command}") from None


# What cannot heal by waiting: (SQLSTATE, MariaDB error number, words of the message) per kind.
_PERMANENT = {
    "no database": ({"3D000"}, {1049}, ("does not exist", "unable to open database file")),
    "no table": ({"42P01", "42703"}, {1146, 1054}, ("no such table", "no such column")),
    "authentication refused": ({"28000", "28P01"}, {1044, 1045, 1698},
                               ("password authentication failed", "no pg_hba.conf entry", "role \"")),
}


def permanent_error(exc: BaseException) -> str | None:
    """``no database``, ``no table`` or ``authentication refused`` when the database error ``exc`` cannot heal by
    retrying (someone must act), else None (a dropped connection, a timeout, a server restarting…)."""
    orig = getattr(exc, "orig", exc)
    state = getattr(orig, "sqlstate", None)
    number = orig.args[0] if getattr(orig, "args", None) and isinstance(orig.args[0], int) else None
    message = str(orig).splitlines()[0] if str(orig) else ""
    for kind, (states, numbers, words) in _PERMANENT.items():
        if state in states or number in numbers:
            return kind
        if state is None and number is None and any(w in message for w in words):
            if kind == "no database" and "does not exist" in message and 'database "' not in message:
                continue  # psycopg says "role … does not exist" too: that is the credentials
            return kind
    return None
