"""Job commands, each run once in-process (no Prefect server needed): ``export``, ``nightly``, ``checkin``,
``resend``, ``status``, ``submit``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..codes import DEFAULT_LEDGER
from . import (
    EXIT_FINDINGS,
    EXIT_OK,
    Format,
    MappingOption,
    app,
    counts_text,
    existing_ledger,
    fail,
    mapping_file,
    out,
    progress,
    run_job,
    when,
    when_end,
)
from .signing import P12, ClientId, Key, Pkcs11Module, Remote, RemoteUser, Token, Wait

# One run of a job at a time on a ledger (xml130.store.lock): the second stops at once (exit 2) or waits this long.
LockWait = Annotated[float, typer.Option("--lock-wait", min=0, help="Another run of this job holds the ledger's "
                                                                    "lock: wait up to this many seconds for it "
                                                                    "(default 0: stop at once, exit 2).")]


@app.command()
def export(
    source: Annotated[str, typer.Option("--source", envvar="XML130_SOURCE", help="Database URL of the HIS (SQLAlchemy).")],
    output: Annotated[Path, typer.Option("--out", help="Folder for the envelopes and quarantine.json.")],
    mapping: MappingOption = None,
    since: Annotated[dt.datetime | None, typer.Option("--since", parser=when, help="Episodes closed after this time.")] = None,
    date_from: Annotated[dt.datetime | None, typer.Option("--from", parser=when, help="Episodes closed from this time…")] = None,
    date_to: Annotated[dt.datetime | None, typer.Option("--to", parser=when_end, help="…up to this time (inclusive; a date alone: the whole day).")] = None,
    ma_lk: Annotated[list[str] | None, typer.Option("--ma-lk", help="Only these MA_LK (repeatable).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 500,
) -> None:
    """Export hồ sơ from a HIS database: one envelope per hồ sơ, and a quarantine report with every reason."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..jobs.export import run_export
    from ..mapping import MappingError, load_mapping
    from ..mapping.database import DatabaseMissing, his_engine
    from ..mapping.extract import Extractor, Selection

    mapping = mapping_file(mapping)
    modes = sum(x is not None and x != [] for x in (since, date_from or date_to, ma_lk))
    if modes > 1:
        raise typer.BadParameter("choose one of --since, --from/--to, --ma-lk")
    lower = since
    if date_from is not None:
        lower = date_from - dt.timedelta(microseconds=1)
    selection = Selection(since=lower, until=date_to, ma_lk=tuple(ma_lk or ()))
    try:
        m = load_mapping(mapping)
        with his_engine(source) as engine:
            total = Extractor(engine, m).count(selection)
        with progress(total, "export") as advance:
            result = run_export(source, m, output, selection, batch_size=batch_size, progress=advance)
    except MappingError as exc:
        fail("Cấu hình ánh xạ không hợp lệ:", exc)
    except DatabaseMissing as exc:
        fail("Không có CSDL:", exc)
    except SQLAlchemyError as exc:
        fail("Lỗi CSDL:", f"{source.split('@')[-1]}: {str(exc).splitlines()[0]}")
    out.print(f"{result.counts['staged']} envelopes written to {output}/, {len(result.quarantine)} hồ sơ "
              f"quarantined ({output}/quarantine.json); selection: {selection.describe()}", markup=False)
    raise typer.Exit(EXIT_FINDINGS if result.quarantine else EXIT_OK)


def print_run(report) -> None:
    d = report.as_dict()
    out.print(f"{d['flow']} {d['run_id']} ({d['window']}): {counts_text(d['counts'])}", markup=False)
    if d["quarantined_by_code"]:
        out.print(f"quarantined by code: {counts_text(d['quarantined_by_code'])}", markup=False)
    out.print(f"report: {d['report_dir']}/summary.json, quarantine.json, ledger.parquet", markup=False)


@app.command()
def nightly(
    source: Annotated[str, typer.Option("--source", envvar="XML130_SOURCE", help="Database URL of the HIS.")],
    outbox: Annotated[Path, typer.Option("--outbox", help="Outbox folder (facility/day/MA_LK/vN.xml).")],
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER", help="Ledger database URL.")] = DEFAULT_LEDGER,
    mapping: MappingOption = None,
    since: Annotated[dt.datetime | None, typer.Option("--since", parser=when, help="Override the stored watermark.")] = None,
    until: Annotated[dt.datetime | None, typer.Option("--until", parser=when)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 500,
    lock_wait: LockWait = 0.0,
) -> None:
    """Run nightly_export once, in-process (no Prefect server needed): stage what closed since the watermark.
    Never two at once on one ledger, nor with a resend: another one running, it stops (exit 2), or waits up to
    --lock-wait seconds."""
    from .. import jobs
    from ..mapping import load_mapping

    mapping = mapping_file(mapping)
    report = run_job(lambda: jobs.nightly(
        source, outbox, ledger, mapping=load_mapping(mapping), since=since,
        until=until, batch_size=batch_size, lock_wait=lock_wait))
    print_run(report)


@app.command()
def checkin(
    source: Annotated[str, typer.Option("--source", envvar="XML130_SOURCE")],
    outbox: Annotated[Path, typer.Option("--outbox")],
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER")] = DEFAULT_LEDGER,
    mapping: MappingOption = None,
    since: Annotated[dt.datetime | None, typer.Option("--since", parser=when)] = None,
    lock_wait: LockWait = 0.0,
) -> None:
    """Run the check-in job once: XML0 documents for new first costs and ward admissions (not emergencies).
    Never two at once on one ledger (exit 2, or wait up to --lock-wait seconds)."""
    from .. import jobs
    from ..mapping import load_mapping

    mapping = mapping_file(mapping)
    report = run_job(lambda: jobs.checkin(source, outbox, ledger, mapping=load_mapping(mapping), since=since,
                                          lock_wait=lock_wait))
    print_run(report)



@app.command()
def resend(
    ma_lk: Annotated[list[str], typer.Argument(help="MA_LK to re-stage as replacement versions.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the ledger).")],
    source: Annotated[str, typer.Option("--source", envvar="XML130_SOURCE")],
    outbox: Annotated[Path, typer.Option("--outbox")],
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER")] = DEFAULT_LEDGER,
    mapping: MappingOption = None,
    lock_wait: LockWait = 0.0,
) -> None:
    """Re-stage MA_LK as new versions that replace the previous ones, with a reason (never while a nightly export
    or another resend runs on the ledger: exit 2, or wait up to --lock-wait seconds)."""
    from .. import jobs
    from ..mapping import load_mapping

    mapping = mapping_file(mapping)
    report = run_job(lambda: jobs.resend(source, outbox, ledger, ma_lk, reason, mapping=load_mapping(mapping),
                                         lock_wait=lock_wait))
    print_run(report)


@app.command()
def status(
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER")] = DEFAULT_LEDGER,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
    within: Annotated[int, typer.Option("--within", help="Also list deadlines within this many days.")] = 2,
    now: Annotated[dt.datetime | None, typer.Option("--now", parser=when, help="Evaluate deadlines at this time (default: now).")] = None,
    hours: Annotated[float | None, typer.Option("--hours", min=0, help="List deadlines within this many hours "
                                                "(instead of --within days).")] = None,
) -> None:
    """What to act on, per day: hồ sơ staged, check-ins, what was sent (accepted; rejected with maKetQua and
    thongDiep; unanswered; awaiting signature), then what is overdue or due within --within days."""
    from ..jobs.status import ledger_status, status_lines
    from ..store.ledger import Ledger

    summary = run_job(lambda: ledger_status(Ledger(existing_ledger(ledger), create=False), now, within, hours))
    if format is Format.json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        return
    for line in status_lines(summary):
        out.print(line, markup=False)



@app.command()
def submit(
    outbox: Annotated[Path, typer.Option("--outbox")],
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER")] = DEFAULT_LEDGER,
    portal: Annotated[str | None, typer.Option("--portal", help="Base URL of the portal.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Portal user (password: XML130_PORTAL_PASSWORD).")] = None,
    p12: P12 = None,
    pkcs11_module: Pkcs11Module = None,
    token: Token = None,
    key: Key = None,
    remote: Remote = None,
    client_id: ClientId = None,
    remote_user: RemoteUser = None,
    wait: Wait = None,
    unsigned: Annotated[bool, typer.Option("--unsigned", help="Send without signing: only for the local "
                                                              "simulator (the portal answers 123).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")] = False,
    lock_wait: LockWait = 0.0,
) -> None:
    """Send staged check-ins and hồ sơ, signed (a PKCS#12 file, a USB token or a remote signer), in order, until
    accepted; keep every attempt in the ledger. A version a remote signer has not confirmed yet waits
    (awaiting_signature) while the others go. Exit 0 all accepted, 1 some rejected or still due, 2 nothing could be
    sent (no signer, bad settings)."""
    from .. import jobs
    from ..portal.client import PortalClient, PortalConfig
    from ..signing import SigningError
    from ..signing.choose import open_signer

    if dry_run:
        report = jobs.submit(outbox, ledger, None, None, dry_run=True)
        for item in report.items:
            out.print(f"{item['kind']:<8} {item['ma_lk']} {item['id']:<15} {item['status']:<10} {item['path']}",
                      markup=False)
        out.print(f"{len(report.items)} would be sent.", markup=False)
        return
    if not (p12 or pkcs11_module or remote) and not unsigned:
        fail("Thiếu chữ ký số:", jobs.NO_SIGNER)
    if not portal or not user:
        raise typer.BadParameter("--portal and --user are needed to send (or use --dry-run)")
    try:
        signer = None if unsigned else open_signer(
            p12=p12, pkcs11_module=pkcs11_module, token=token, key=key, remote=remote, client_id=client_id,
            remote_user=remote_user, wait=wait)
    except (SigningError, OSError) as exc:
        fail("Không mở được chứng thư số:", exc)
    with PortalClient(PortalConfig(base_url=portal, username=user)) as client:
        report = run_job(lambda: jobs.submit(outbox, ledger, client, signer, unsigned=unsigned, lock_wait=lock_wait))
    print_run(report)
    for q in report.quarantine:
        why = f"{q['ma_ket_qua']} {q['thong_diep'] or ''}".rstrip() if q["ma_ket_qua"] else q["reason"]
        out.print(f"  {q['outcome']}: {q['kind']} {q['ma_lk']} {q['id']} — {why}", markup=False)
    for note in report.notes:
        out.print(f"  {note}; {report.counts['left_due']} left due for the next run", markup=False)
    raise typer.Exit(EXIT_OK if set(report.counts) <= {"accepted", "ledger_rows"} else EXIT_FINDINGS)


NO_PORTAL = ("Không có cổng giám định (--portal): stream chỉ tạo{signed} hồ sơ, không gửi. No portal configured: "
             "the stream stages{signed_en} only and sends nothing.")


@app.command()
def stream(
    source: Annotated[str, typer.Option("--source", envvar="XML130_SOURCE", help="Database URL of the HIS.")],
    outbox: Annotated[Path, typer.Option("--outbox", help="Outbox folder (facility/day/MA_LK/vN.xml).")],
    every: Annotated[float, typer.Option("--every", min=1, help="Seconds between the starts of two cycles.")],
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER", help="Ledger database URL.")] = DEFAULT_LEDGER,
    mapping: MappingOption = None,
    lookback: Annotated[str | None, typer.Option("--lookback", help="Re-read this far before the watermark "
                                                 "(e.g. 10m, 2h, 1d; default: the mapping's [episodes] lookback).")] = None,
    portal: Annotated[str | None, typer.Option("--portal", envvar="XML130_PORTAL_URL", help="Base URL of the portal; "
                                               "without it the stream stages and signs only.")] = None,
    user: Annotated[str | None, typer.Option("--user", envvar="XML130_PORTAL_USER",
                                             help="Portal user (password: XML130_PORTAL_PASSWORD).")] = None,
    p12: P12 = None,
    pkcs11_module: Pkcs11Module = None,
    token: Token = None,
    key: Key = None,
    remote: Remote = None,
    client_id: ClientId = None,
    remote_user: RemoteUser = None,
    wait: Wait = None,
    unsigned: Annotated[bool, typer.Option("--unsigned", help="Send without signing: only for the local "
                                                              "simulator (the portal answers 123).")] = False,
) -> None:
    """Every --every seconds until SIGINT/SIGTERM: stage what closed since the watermark → checks across hồ sơ →
    sign → send. The first signal finishes the file in hand and stops (exit 130/143); a second rolls back at once."""
    import contextlib
    import threading

    from .. import jobs
    from ..jobs.stream import stream as run_stream
    from ..mapping import load_mapping
    from ..mapping.columns import parse_duration
    from ..portal.client import PortalClient, PortalConfig
    from ..signing import SigningError
    from ..signing.choose import open_signer
    from . import stop_softly, stopped_by_signal

    mapping = mapping_file(mapping)
    try:
        back = parse_duration(lookback) if lookback else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lookback") from exc
    if portal and not (p12 or pkcs11_module or remote) and not unsigned:
        fail("Thiếu chữ ký số:", jobs.NO_SIGNER)
    if portal and not user:
        raise typer.BadParameter("--portal needs --user (or XML130_PORTAL_USER)")
    signer = None
    if p12 or pkcs11_module or remote:
        try:
            signer = open_signer(p12=p12, pkcs11_module=pkcs11_module, token=token, key=key, remote=remote,
                                 client_id=client_id, remote_user=remote_user, wait=wait)
        except (SigningError, OSError) as exc:
            fail("Không mở được chứng thư số:", exc)
    if not portal:
        signs = signer is not None and not remote
        out.print(NO_PORTAL.format(signed=" và ký" if signs else "", signed_en=" and signs" if signs else ""),
                  markup=False)
        signer = signer if signs else None
    m = run_job(lambda: load_mapping(mapping))
    stop = threading.Event()
    stop_softly(stop)
    out.print(f"stream: every {every:g} s, {source.split('@')[-1]} → {outbox}; SIGINT or SIGTERM to stop",
              markup=False)

    told: set[tuple] = set()

    def show(c) -> None:  # a line per cycle that did something; each correction once
        if c.did_something() or c.number == 1:
            out.print(c.line(), markup=False)
        for x in c.corrections:
            if (x["ma_lk"], x["version"], x["code"]) not in told:
                told.add((x["ma_lk"], x["version"], x["code"]))
                out.print(f"  to correct: {x['ma_lk']} v{x['version']} ({x['status']}) {x['code']} with "
                          f"{', '.join(x['others'])}: xml130 resend {x['ma_lk']} --reason \"…\"", markup=False)

    def failed(n, exc) -> None:
        out.print(f"cycle {n} failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                  f"the next cycle tries again", markup=False)

    client_cm = PortalClient(PortalConfig(base_url=portal, username=user)) if portal else contextlib.nullcontext()
    with client_cm as client:
        n = run_job(lambda: run_stream(source, outbox, ledger, m, every=every, client=client, signer=signer,
                                       unsigned=unsigned, lookback=back, stop=stop, on_cycle=show,
                                       on_error=failed))
    out.print(f"stream: {n} cycles", markup=False)
    stopped_by_signal()
