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
    out.print(f"{d['flow']} {d['run_id']}: {d['counts']}; {d['window']}", markup=False)
    if d["quarantined_by_code"]:
        out.print(f"quarantined by code: {d['quarantined_by_code']}", markup=False)
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
) -> None:
    """What to act on, per day: hồ sơ staged, check-ins, what was sent (accepted; rejected with maKetQua and
    thongDiep; unanswered; awaiting signature), then what is overdue or due within --within days."""
    from ..jobs.status import ledger_status, status_lines
    from ..store.ledger import Ledger

    summary = run_job(lambda: ledger_status(Ledger(existing_ledger(ledger), create=False), now, within))
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
