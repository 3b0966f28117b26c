"""One run of a job at a time on one ledger, whatever starts it (a command, a flow, a timer, a second terminal).

:func:`job_lock` holds a lock *in the ledger's database* for as long as the job runs: a PostgreSQL session advisory
lock (``pg_try_advisory_lock``), a MariaDB/MySQL named lock (``GET_LOCK``), and for SQLite an exclusive ``flock``
on a file next to the database (``<ledger>.<name>.lock``). All three belong to the process's connection or file
descriptor, so a run that dies — SIGKILL, power loss — frees the lock with it; nothing stale to clean by hand.
A second run either stops at once with :class:`JobBusy` naming who holds the lock, or waits up to ``wait``
seconds for it. Who holds it (job, run, process, host, since when) is written to the ``job_lock`` table, for the
message only: the database's lock decides.

Names: ``hoso`` (the nightly export and resend both stage hồ sơ versions), ``checkin``, ``submit``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, delete, select, text

from ..errors import Xml130Error
from .tables import job_lock as job_lock_table
from .tables import metadata

HOSO_LOCK, CHECKIN_LOCK, SUBMIT_LOCK = "hoso", "checkin", "submit"


class JobBusy(Xml130Error, RuntimeError):
    """Another run holds the job's lock on this ledger: this run did nothing."""


def _key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(hashlib.sha256(f"xml130:{name}".encode()).digest()[:8], "big", signed=True)


class _Held:
    """How one backend takes and gives back the lock (``close`` frees it, held or not)."""

    held = False

    def take(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _Named(_Held):
    """A lock of the database server, owned by one connection (its session): PostgreSQL and MariaDB."""

    TAKE = RELEASE = ""

    def __init__(self, engine: Engine, key: int | str):
        self.conn: Connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.key = key

    def take(self) -> bool:
        self.held = self.conn.execute(text(self.TAKE), {"k": self.key}).scalar() == 1
        return self.held

    def close(self) -> None:
        if self.held:
            with contextlib.suppress(Exception):
                self.conn.execute(text(self.RELEASE), {"k": self.key})
        self.conn.close()  # a closed session frees its locks anyway


class _Postgres(_Named):
    TAKE = "SELECT CASE WHEN pg_try_advisory_lock(:k) THEN 1 ELSE 0 END"
    RELEASE = "SELECT pg_advisory_unlock(:k)"

    def __init__(self, engine: Engine, name: str):
        super().__init__(engine, _key(name))


class _MariaDB(_Named):
    TAKE = "SELECT GET_LOCK(:k, 0)"
    RELEASE = "SELECT RELEASE_LOCK(:k)"

    def __init__(self, engine: Engine, name: str):  # GET_LOCK names are server-wide: the database is in it
        super().__init__(engine, f"xml130:{engine.url.database or ''}:{name}"[:64])


class _File(_Held):
    def __init__(self, path: Path):
        self.path = path
        self.fh: IO[bytes] | None = None

    def take(self) -> bool:
        import fcntl

        fh = open(self.path, "a+b")  # noqa: SIM115 - held open for as long as the lock is
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        self.fh, self.held = fh, True
        return True

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()  # closing the descriptor frees the flock
            self.fh = None


class _Nothing(_Held):
    """An in-memory SQLite ledger lives in one process: nothing to exclude."""

    def take(self) -> bool:
        return True

    def close(self) -> None:
        pass


def _backend(engine: Engine, name: str) -> _Held:
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        return _Postgres(engine, name)
    if backend in ("mysql", "mariadb"):
        return _MariaDB(engine, name)
    database = engine.url.database
    if backend == "sqlite" and database and database != ":memory:":
        return _File(Path(f"{database}.{name}.lock"))
    return _Nothing()


def holder(engine: Engine, name: str) -> str | None:
    """Who holds (or last held) the lock, as written when it was taken."""
    with engine.connect() as conn:
        row = conn.execute(select(job_lock_table.c.holder, job_lock_table.c.since)
                           .where(job_lock_table.c.name == name)).first()
    return f"{row[0]}, since {row[1].isoformat(sep=' ')}" if row else None


def _log_wait(name: str) -> Callable[[str], None]:
    import logging

    return lambda who: logging.getLogger(__name__).warning("waiting for the ledger's '%s' lock (%s)", name, who)


def _write_holder(engine: Engine, name: str, who: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(job_lock_table).where(job_lock_table.c.name == name))
        conn.execute(job_lock_table.insert().values(name=name, holder=who[:300],
                                                    since=dt.datetime.now().replace(microsecond=0)))


def _forget_holder(engine: Engine, name: str) -> None:
    with contextlib.suppress(Exception), engine.begin() as conn:
        conn.execute(delete(job_lock_table).where(job_lock_table.c.name == name))


@contextlib.contextmanager
def job_lock(ledger: str | Engine, name: str, *, job: str = "", wait: float = 0.0, poll: float = 0.5,
             on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock ``name`` of the ledger's database while the block runs. Busy: wait up to ``wait`` seconds
    (calling ``on_wait(holder)`` once; default: a warning in the log), then raise :class:`JobBusy` — the block does not run. ``job`` (e.g. the
    run id) says who holds it. A ledger URL is opened as :class:`~.ledger.Ledger` (its database and tables
    created when missing)."""
    from .ledger import Ledger

    engine = ledger if isinstance(ledger, Engine) else Ledger(ledger).engine
    metadata.create_all(engine, tables=[job_lock_table])
    lock = _backend(engine, name)
    deadline = time.monotonic() + wait
    told = False
    try:
        while not lock.take():
            who = holder(engine, name) or "another process"
            if time.monotonic() >= deadline:
                raise JobBusy(f"another run holds the ledger's '{name}' lock ({who}): this run did nothing. Run "
                              f"it again when that one has finished, or let it wait (--lock-wait SECONDS)")
            if not told:
                (on_wait or _log_wait(name))(who)
                told = True
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))
        _write_holder(engine, name, f"{job or name} (pid {os.getpid()} on {socket.gethostname()})")
        try:
            yield
        finally:
            _forget_holder(engine, name)
    finally:
        lock.close()
        if not isinstance(ledger, Engine):
            engine.dispose()
