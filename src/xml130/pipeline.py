"""The unattended jobs: nightly export, near-real-time check-in, resend. Prefect flows (``pipelines/``) and the
CLI (``xml130 nightly``) both call these functions, so they run the same with or without a Prefect server.

Every job stages through the one stager (:mod:`xml130.jobs.stager`) and declares its write behaviour there:
nightly and resend write versions into the outbox and the ledger (same hash: left alone; changed content: version
n+1 replacing the previous one; resend: a new version even when unchanged), check-in writes each event once.
Files are written atomically under ``<outbox>/<facility>/<closing day>/<MA_LK>/v<version>.xml`` *before* their
ledger row, so a run killed at any point leaves no partial file and no ledger row without its file; the next run
produces whatever is missing. The watermark moves only when a run completes."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from .catalog.crossstage import cross_stage
from .catalog.lookup import for_staging, using
from .codes import ObjectCode, Outcome, Status
from .jobs.stager import (  # noqa: F401  (RunReport, new_run_id, sha256: the jobs' public names)
    CheckinItem,
    InsertOnce,
    RunReport,
    Stager,
    Versioned,
    new_run_id,
    sha256,
    stage_all,
)
from .ledger import Ledger
from .mapping import Mapping, load_mapping
from .mapping.derive import RuleContext
from .mapping.extract import Extractor, Selection
from .models import Hoso, build_rows
from .spec import load_spec
from .staging import clean_stale_temp, write_json

EPOCH = dt.datetime(1900, 1, 1)


def _finish(ledger: Ledger, report: RunReport, outbox: Path) -> RunReport:
    run_dir = outbox / "_runs" / report.run_id
    report.report_dir = str(run_dir)
    write_json(run_dir / "summary.json", report.as_dict())
    write_json(run_dir / "quarantine.json", report.quarantine)
    rows = ledger.to_parquet(run_dir / "ledger.parquet")
    report.counts["ledger_rows"] = rows
    ledger.finish_run(report.run_id, report.as_dict()["counts"])
    return report


@dataclass(frozen=True)
class NightlyPlan:
    """The window of one nightly run, decided once (from the watermark) and shared by all its partitions."""

    run_id: str
    since: dt.datetime | None
    until: dt.datetime

    @property
    def selection(self) -> Selection:
        return Selection(since=self.since, until=self.until)


def plan_nightly(outbox: Path, ledger_url: str, mapping: Mapping, *, since: dt.datetime | None = None,
                 until: dt.datetime | None = None, run_id: str | None = None,
                 lookback: dt.timedelta | None = None) -> NightlyPlan:
    """Start a run: read the watermark, record the run, clear what a killed run left half-written.

    The window starts ``lookback`` (default: the mapping's ``[episodes] lookback``) before the stored watermark:
    an episode whose transaction committed after the last run had read past its closing time, or whose closing
    time is kept to the minute, is read again and staged; what was already staged is unchanged by hash."""
    ledger = Ledger(ledger_url)
    if since is None:
        watermark = ledger.get_state(f"nightly:{mapping.facility}")
        since = watermark - (mapping.lookback if lookback is None else lookback) if watermark else None
    plan = NightlyPlan(run_id or new_run_id("nightly_export"), since, until or dt.datetime.now().replace(microsecond=0))
    clean_stale_temp(outbox)
    ledger.start_run(plan.run_id, "nightly_export", plan.selection.describe())
    return plan


def day_partitions(source: str, mapping: Mapping, plan: NightlyPlan) -> list[tuple[dt.datetime | None, dt.datetime]]:
    """The run's window cut at midnight of each closing day that has episodes: (since, until] pieces."""
    engine = create_engine(source)
    extractor = Extractor(engine, mapping)
    days: set[dt.date] = set()
    for batch in extractor.batches(plan.selection):
        days.update(c.date() for _, _, c in batch if c is not None)
    engine.dispose()
    cuts = [dt.datetime.combine(d, dt.time()) + dt.timedelta(days=1) for d in sorted(days)][:-1]
    bounds = [plan.since, *[c for c in cuts if (plan.since is None or c > plan.since) and c < plan.until], plan.until]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def stage_window(source: str, outbox: Path, ledger_url: str, mapping: Mapping, run_id: str,
                 since: dt.datetime | None, until: dt.datetime, *, batch_size: int = 500,
                 on_batch: Callable[[int], None] | None = None) -> RunReport:
    """Stage the episodes closed in (since, until] — a whole run's window or one partition of it."""
    selection = Selection(since=since, until=until)
    report = RunReport(run_id, "nightly_export", selection.describe())
    engine = create_engine(source)
    extractor = Extractor(engine, mapping, batch_size=batch_size)
    extractor.check()
    stager = Stager(Versioned(Ledger(ledger_url), outbox, mapping.facility, run_id), report)
    with using(for_staging(ledger_url)):  # the approved catalogues imported into the ledger, if any
        stage_all(stager, extractor.extract(selection), batch_size, on_batch)
    engine.dispose()
    return report


def complete_nightly(outbox: Path, ledger_url: str, mapping: Mapping, plan: NightlyPlan,
                     parts: Iterable[RunReport]) -> RunReport:
    """Merge the partitions' reports, move the watermark (never backwards), write the run's files."""
    report = RunReport(plan.run_id, "nightly_export", plan.selection.describe())
    for part in parts:
        report.counts.update(part.counts)
        report.quarantined_by_code.update(part.quarantined_by_code)
        report.quarantine.extend(part.quarantine)
    report.quarantine.sort(key=lambda q: q["ma_lk"])
    ledger = Ledger(ledger_url)
    state = f"nightly:{mapping.facility}"
    previous = ledger.get_state(state)
    ledger.set_state(state, max(plan.until, previous) if previous else plan.until)
    cross_stage(ledger_url, outbox, mapping.facility, report)  # checks across hồ sơ of the run's days (issue 14)
    return _finish(ledger, report, outbox)


def nightly(source: str, outbox: Path, ledger_url: str, *, mapping: Mapping | None = None,
            since: dt.datetime | None = None, until: dt.datetime | None = None, batch_size: int = 500,
            run_id: str | None = None, on_batch: Callable[[int], None] | None = None,
            lookback: dt.timedelta | None = None) -> RunReport:
    """Episodes closed after the watermark (or ``since``) up to ``until`` (default now) → outbox + ledger, in
    this process. The Prefect flow runs the same steps, optionally one partition per closing day on Dask."""
    mapping = mapping or load_mapping()
    plan = plan_nightly(outbox, ledger_url, mapping, since=since, until=until, run_id=run_id, lookback=lookback)
    part = stage_window(source, outbox, ledger_url, mapping, plan.run_id, plan.since, plan.until,
                        batch_size=batch_size, on_batch=on_batch)
    return complete_nightly(outbox, ledger_url, mapping, plan, [part])


def resend(source: str, outbox: Path, ledger_url: str, ma_lks: Iterable[str], reason: str, *,
           mapping: Mapping | None = None, run_id: str | None = None) -> RunReport:
    """Re-stage the given MA_LK as replacement versions (even when unchanged), recording the reason."""
    mapping = mapping or load_mapping()
    ledger = Ledger(ledger_url)
    run_id = run_id or new_run_id("resend")
    selection = Selection(ma_lk=tuple(ma_lks))
    report = RunReport(run_id, "resend", selection.describe() + f": {reason}")
    ledger.start_run(run_id, "resend", report.window)
    engine = create_engine(source)
    extractor = Extractor(engine, mapping)
    extractor.check()
    writer = Versioned(ledger, outbox, mapping.facility, run_id, force_reason=reason)
    with using(for_staging(ledger_url)):
        stage_all(Stager(writer, report), extractor.extract(selection), len(selection.ma_lk) or 1)
    engine.dispose()
    return _finish(ledger, report, outbox)


def checkin(source: str, outbox: Path, ledger_url: str, *, mapping: Mapping | None = None,
            since: dt.datetime | None = None, run_id: str | None = None) -> RunReport:
    """New check-in events since the last run → one XML0 document each (emergencies skipped)."""
    mapping = mapping or load_mapping()
    if mapping.checkin is None:
        raise ValueError(f"mapping {mapping.name!r} has no [checkin] section")
    tm = mapping.checkin
    ledger = Ledger(ledger_url)
    state = f"checkin:{mapping.facility}"
    since = since if since is not None else (ledger.get_state(state) or EPOCH)
    run_id = run_id or new_run_id("checkin")
    report = RunReport(run_id, "checkin", f"events after {since}")
    ledger.start_run(run_id, "checkin", report.window)
    version = load_spec().latest
    engine = create_engine(source)
    extractor = Extractor(engine, mapping)
    extractor.check()  # the mapping's queries, [checkin] included, before any data moves
    with engine.connect() as conn:
        lookups = extractor.lookups(conn)
        events = extractor.checkin_events(conn, since)
        keys = sorted({e["key"] for e in events})
        colls = {name: extractor.rows_by_key(conn, f"checkin.{name}", c.query, c.types, keys)
                 for name, c in tm.collections.items()}
    items = []
    for ev in events:
        ctx = RuleContext(ev["ma_lk"], mapping.facility, mapping.facility_name, mapping.params, table="XML0",
                          collections={n: by.get(ev["key"], []) for n, by in colls.items()})
        row = extractor.row(tm, ev, 1, ev["ma_lk"], ctx, lookups)
        if str(row.get("MA_DOITUONG_KCB")) == ObjectCode.EMERGENCY:  # emergencies need no check-in
            report.counts[Outcome.SKIPPED.value] += 1
            continue
        item = CheckinItem(ev["ma_lk"], ev["event"], ev["event_at"], findings=list(ctx.findings))
        if not item.findings:
            rows = build_rows(version, "XML0", [row], ma_lk=ev["ma_lk"], problems=item.findings)
            item.hoso = None if item.findings else Hoso(version, {"XML0": rows})
        items.append(item)
    stage_all(Stager(InsertOnce(ledger, outbox, mapping.facility, run_id), report), items, max(len(items), 1))
    ledger.set_state(state, max((ev["event_at"] for ev in events), default=since))
    engine.dispose()
    return _finish(ledger, report, outbox)


class SignerMissing(ValueError):
    """``submit`` without a signer: nothing is sent (the portal answers 123 to an unsigned file)."""


NO_SIGNER = ("Không có chữ ký số (--p12): chưa gửi hồ sơ nào, vì cổng giám định từ chối tệp chưa ký (mã 123). "
             "No signer: nothing sent. Give --p12 KEY.p12 (password in XML130_P12_PASSWORD), or --unsigned "
             "only against the local portal simulator.")


def submit(outbox: Path, ledger_url: str, client: Any | None, signer: Any | None, *, dry_run: bool = False,
           unsigned: bool = False, facility: str | None = None, run_id: str | None = None,
           stop_after_unanswered: int = 3) -> RunReport:
    """Send staged check-ins and hồ sơ versions to the portal, oldest first, each signed, until accepted.

    Without a signer nothing is sent (:class:`SignerMissing`) unless ``unsigned`` (a simulator). Before the bytes
    leave they are kept in the ledger and the file is ``submitted``; then the answer decides: ``accepted`` and
    ``rejected`` (the data: maKetQua, thongDiep) are final — a correction is a new version; no answer (5xx or
    network errors after the retries, timeouts, a dropped connection) leaves it ``submitted`` and the next run
    sends the very same bytes with the same request id; an answer that blames the sender (123 not signed, 125
    signature mismatch, 401 after a token refresh …) puts it back to ``staged``, signed afresh next run. Every
    attempt and its reason is a row of the ``submission`` table. The run stops early — the rest stays due — when
    the portal refuses the credentials or ``stop_after_unanswered`` files in a row get no answer. ``dry_run``
    lists what would be sent and changes nothing. The run's report goes to ``<outbox>/_runs/<run id>/``."""
    if signer is None and not unsigned and not dry_run:
        raise SignerMissing(NO_SIGNER)
    ledger = Ledger(ledger_url)
    run_id = run_id or new_run_id("submit")
    report = RunReport(run_id, "submit", "dry run" if dry_run else "send" + (" unsigned" if signer is None else ""))
    work = [("checkin", r) for r in ledger.pending_checkins(facility)] + [("hoso", r) for r in ledger.pending_hoso(facility)]
    if dry_run:
        for kind, row in work:
            report.items.append(_submit_item(kind, row))
            report.counts["would_send"] += 1
        return report
    ledger.start_run(run_id, "submit", report.window)
    try:
        _send_all(ledger, client, signer, outbox, work, report, stop_after_unanswered)
    except BaseException as exc:  # interrupted (signal) or unable to go on (e.g. the certificate expired)
        with contextlib.suppress(Exception):
            ledger.finish_run(run_id, dict(report.counts), "failed" if isinstance(exc, Exception) else "interrupted")
        raise
    return _finish(ledger, report, outbox)


def _submit_item(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    ident = f"v{row['version']}" if kind == "hoso" else row["event"]
    return {"kind": kind, "ma_lk": row["ma_lk"], "id": ident, "path": row["path"], "status": row["status"],
            "request_id": f"{row['facility']}:{row['ma_lk']}:{ident}"}


def _send_all(ledger: Ledger, client: Any, signer: Any | None, outbox: Path, work: list[tuple[str, dict]],
              report: RunReport, stop_after_unanswered: int) -> None:
    from .portal.client import AUTH_HTTP

    in_a_row = 0
    for n, (kind, row) in enumerate(work):
        item = _submit_item(kind, row)
        report.items.append(item)
        outcome, receipt, reason = _send_one(ledger, client, signer, outbox, kind, row, item["request_id"])
        item["outcome"] = outcome
        report.counts[outcome] += 1
        if outcome != "accepted":
            report.quarantine.append({k: item[k] for k in ("kind", "ma_lk", "id")} | {
                "outcome": outcome, "ma_ket_qua": getattr(receipt, "ma_ket_qua", None),
                "thong_diep": getattr(receipt, "thong_diep", None), "reason": reason})
        if outcome == "rejected":
            report.quarantined_by_code[str(receipt.ma_ket_qua)] += 1
        in_a_row = in_a_row + 1 if outcome == "unanswered" else 0
        auth = outcome == "refused" and (receipt is None or receipt.http_status in AUTH_HTTP)
        if (auth or in_a_row >= stop_after_unanswered) and n + 1 < len(work):
            report.counts["left_due"] = len(work) - n - 1  # not tried this run: still due, sent next run
            report.notes.append(f"stopped: {reason}")
            return


def _send_one(ledger: Ledger, client: Any, signer: Any | None, outbox: Path, kind: str, row: dict[str, Any],
              request_id: str) -> tuple[str, Any, str | None]:
    """One file: the same bytes again after a lost answer, else the staged file signed now."""
    from .portal.client import PortalAuthError, PortalError
    from .signing import SLOT
    from .signing.remote import RemoteSigner
    from .signing.waiting import clear as clear_pending
    from .signing.waiting import sign_or_wait

    data = ledger.bytes_in_flight(kind, row) if row["status"] == "submitted" else None
    path, remote = outbox / row["path"], isinstance(signer, RemoteSigner)
    if data is None:
        data = path.read_bytes()
        if signer is not None and f"<{SLOT}/>".encode() in data:
            if not remote:
                data = signer.sign(data)
            else:  # a person confirms on a phone: never wait for it, look again next run
                got = sign_or_wait(signer, path, data, request_id)
                if got.state != "signed":
                    waiting = got.state == "waiting"
                    ledger.mark_signing(kind, row, Status.AWAITING_SIGNATURE if waiting else Status.STAGED)
                    why = f"giao dịch ký {got.tran_id}: " + ("chờ người ký xác nhận" if waiting else
                                                            f"{got.state} ({got.message}), sẽ hỏi lại")
                    return ("awaiting_signature" if waiting else f"signature_{got.state}"), None, why
                data = got.data
    sub_id = ledger.begin_submission(kind, row, request_id, data)
    if remote:
        clear_pending(path)  # the signed bytes are in the ledger now
    receipt, reason = None, None
    try:
        receipt = client.send_hoso(data, request_id) if kind == "hoso" else client.send_checkin(data, request_id)
    except PortalAuthError as exc:
        outcome, reason = "refused", str(exc)
    except PortalError as exc:
        outcome, reason = "unanswered", str(exc)
    else:
        outcome = receipt.outcome
        if outcome != "accepted":
            reason = f"{receipt.ma_ket_qua or '-'} (HTTP {receipt.http_status}): {receipt.thong_diep or ''}".rstrip()
    ledger.finish_submission(kind, row, sub_id, receipt, outcome, reason)
    return outcome, receipt, reason
