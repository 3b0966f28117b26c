"""Command line ``xml130``: the app, its shared options and the one error policy; the commands live in the modules
of this package (:mod:`.qa`, :mod:`.jobs`, :mod:`.signing`, :mod:`.demo`, :mod:`.mapping`, :mod:`.catalog`,
:mod:`.adoption`).

Exit codes: 0 nothing wrong, 1 findings of severity error, 2 the input cannot be read or the call is wrong.
No command prints a traceback: unusable input — an :class:`~xml130.errors.Xml130Error`, the root of every error
xml130 raises on purpose, or a database error — is exit 2 with a message (:func:`fail`, :func:`run_job`), and
:func:`main` turns anything unexpected into exit 2 with its message too. A value in a field is a finding, never
an error.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="xml130: QĐ 130/4750/3176 claim data — spec, rendering, validation.")
err = Console(stderr=True, soft_wrap=True, emoji=False)  # no emoji: "toml:100:" must not print as a picture
out = Console(highlight=False, soft_wrap=True, emoji=False)

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2


class Format(StrEnum):
    text = "text"
    json = "json"


def problem(title: str, detail: object) -> None:
    """A red title and the detail printed literally (file names and SQL may contain [brackets])."""
    err.print(f"[red]{title}[/red]", end=" ")
    err.print(str(detail), markup=False, highlight=False)


def counts_text(counts: dict) -> str:
    """A run's counts as words and numbers ("staged 472, quarantined 28"), as `status` prints them."""
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing to do"


def fail(title: str, detail: object) -> typer.Exit:
    """Unusable input: print the problem and exit 2."""
    problem(title, detail)
    raise typer.Exit(EXIT_UNUSABLE)


# The --mapping option of every command that reads a hospital's HIS (export, nightly, checkin, resend,
# adoption-report, mapping check): required, from the option or XML130_MAPPING, never the demo's
# (:func:`mapping_file`).
MappingOption = Annotated[Path | None, typer.Option(
    "--mapping", envvar="XML130_MAPPING", show_envvar=False,
    help="The hospital's mapping file (TOML, docs/mapping.md); required, or set XML130_MAPPING.")]


def mapping_file(path: Path | None) -> Path:
    """The mapping a command reads: ``--mapping`` or ``XML130_MAPPING``; neither is exit 2 naming both."""
    if path is None:
        from ..mapping import MappingMissing

        fail("Không có cấu hình ánh xạ:", MappingMissing())
    return path


def when(value: str | dt.datetime | None) -> dt.datetime | None:
    """The option type of every date option (``typer.Option(parser=when)``): the package's one date parser, the
    one the Prefect flows use too."""
    from ..dates import DateTextError, parse_datetime

    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return parse_datetime(value)
    except DateTextError as exc:
        raise typer.BadParameter(f"{value!r}: use {exc.expected}") from None


def when_end(value: str | dt.datetime | None) -> dt.datetime | None:
    """The option type of an inclusive upper bound: a date alone means the end of that day."""
    moment = when(value)
    if isinstance(value, str) and moment is not None and ":" not in value and len(re.sub(r"\D", "", value)) <= 8:
        return moment + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return moment


def existing_ledger(url: str) -> str:
    """A command that only reads the ledger refuses a SQLite file that does not exist (a mistyped path would
    otherwise read as an empty ledger — "nothing to do" — and leave a new empty file behind)."""
    from ..mapping.database import missing_sqlite_file

    missing = missing_sqlite_file(url)
    if missing:
        fail("Không có sổ cái:", f"{missing} does not exist (check --ledger / XML130_LEDGER)")
    return url


def run_job(fn):
    """Run a job: the one error policy. An :class:`~xml130.errors.Xml130Error` (a bad mapping, a missing database,
    a refused value) or a database error is exit 2 with its message; a value in a field is a finding, never an
    error, so anything else is a bug (:func:`main` still makes it exit 2, named as unexpected)."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..errors import Xml130Error
    from ..mapping import MappingError

    try:
        return fn()
    except (Xml130Error, SQLAlchemyError) as exc:
        if _signals:  # a library turned the signal into an error of its own (e.g. a failed rollback)
            raise Interrupted(_signals[0]) from exc
        if isinstance(exc, MappingError):
            fail("Cấu hình ánh xạ không hợp lệ:", exc)
        elif isinstance(exc, SQLAlchemyError):
            fail("Lỗi CSDL:", str(exc).splitlines()[0])
        fail("Không chạy được:", exc)


class progress:
    """A progress bar on stderr for long runs (silent when stderr is not a terminal)."""

    def __init__(self, total: int | None, label: str):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                            disable=not err.is_terminal, transient=True)
        self.task = self.bar.add_task(label, total=total)

    def __enter__(self):
        self.bar.start()
        return lambda n=1: self.bar.advance(self.task, n)

    def __exit__(self, *exc):
        self.bar.stop()
        return False


def serve_until_stopped(sim, port: int, banner: str, farewell=None) -> None:
    """Start a local simulator, print where it listens (``{url}`` in ``banner``), serve until Ctrl-C or SIGTERM,
    then stop it and print ``farewell()`` when given."""
    try:
        url = sim.start(port=port)
    except OSError as exc:
        fail("Không mở được cổng:", f"127.0.0.1:{port}: {exc.strerror or exc}")
    out.print(banner.format(url=url) + "; Ctrl-C or SIGTERM to stop", markup=False)
    try:
        while True:
            time.sleep(3600)
    finally:
        sim.stop()
        if farewell is not None:
            err.print(farewell(), highlight=False)


_signals: list[int] = []  # the signal received, if any


class Interrupted(BaseException):
    """SIGINT or SIGTERM: unwinds the command like an exception (not an ``Exception``, so no handler mistakes it
    for a data error): transactions roll back, temporary files are removed, servers stop."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop_on_signals() -> None:
    """Install SIGINT and SIGTERM handlers explicitly: a command started in the background by a non-interactive
    shell inherits SIGINT *ignored*, and Python's default SIGTERM ends the process without unwinding. The first
    signal unwinds; a second one during the unwinding ends the process at once."""

    def at_once(signum, frame):
        os._exit(128 + signum)

    def unwind(signum, frame):
        _signals.append(signum)
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, at_once)
        raise Interrupted(signum)

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, unwind)


def stop_softly(stop) -> None:
    """For a command that loops (``stream``): the first SIGINT/SIGTERM only sets ``stop`` — the command finishes
    what it has in hand, then raises :class:`Interrupted` itself; a second signal unwinds at once (rollback), a
    third ends the process."""

    def at_once(signum, frame):
        os._exit(128 + signum)

    def unwind(signum, frame):
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, at_once)
        raise Interrupted(signum)

    def soft(signum, frame):
        _signals.append(signum)
        stop.set()
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, unwind)

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, soft)


def stopped_by_signal() -> None:
    """Raise :class:`Interrupted` for the signal :func:`stop_softly` received, if any."""
    if _signals:
        raise Interrupted(_signals[0])


def main() -> None:
    _stop_on_signals()
    try:
        app()
    except Interrupted as exc:
        _interrupted(exc.signum)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit:
        if _signals:  # the signal was turned into an exit on the way out: still say it was a signal
            _interrupted(_signals[0])
        raise
    except Exception as exc:  # never a traceback for the user; the message says what broke
        if _signals:
            _interrupted(_signals[0])
        problem("xml130: lỗi không mong đợi", f"({type(exc).__name__}): {exc}")
        sys.exit(EXIT_UNUSABLE)


def _interrupted(signum: int) -> None:
    """Exit 130 (SIGINT) or 143 (SIGTERM), as a shell reports a signalled command."""
    err.print(f"interrupted by {signal.Signals(signum).name}: stopped cleanly (no partial file; the next run goes "
              "on)", highlight=False)
    sys.exit(128 + signum)


# the commands register themselves on `app` (order: the order of `xml130 --help`)
from . import qa, demo, jobs, adoption, signing, catalog, mapping, anonymize  # noqa: E402,F401,I001
