"""The unattended jobs: nightly export, near-real-time check-in, resend. Prefect flows (``pipelines/``) and the
CLI (``xml130 nightly``) both call these functions, so they run the same with or without a Prefect server.

Write behaviour is declared by the ledger, not coded per caller: a hồ sơ whose content hash is already the latest
version is left alone (re-running a window changes nothing); changed content becomes version n+1 and replaces the
previous one; a hồ sơ that breaks the spec is recorded as quarantined with its reasons. Files are written
atomically under ``<outbox>/<facility>/<closing day>/<MA_LK>/v<version>.xml`` *before* their ledger row, so a run
killed at any point leaves no partial file and no ledger row without its file; the next run produces whatever is
missing. The watermark moves only when a run completes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from . import findings as fnd
from .deadlines import deadline_for
from .export import envelope_bytes
from .extract import Extracted, Extractor, Selection
from .ledger import Latest, Ledger
from .mapping import Mapping, load_mapping
from .mapping.rules import RuleContext
from .models import build_rows
from .render import render_checkin
from .rules import run_rules
from .spec import load_spec
from .staging import clean_stale_temp, write_atomic, write_json

EPOCH = dt.datetime(1900, 1, 1)


def new_run_id(flow: str) -> str:
    return f"{flow}-{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class RunReport:
    run_id: str
    flow: str
    window: str
    counts: Counter = field(default_factory=Counter)
    quarantined_by_code: Counter = field(default_factory=Counter)
    quarantine: list[dict] = field(default_factory=list)
    report_dir: str = ""
    items: list[dict] = field(default_factory=list)  # what a submit run sent (or would send)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "flow": self.flow, "window": self.window, "counts": dict(self.counts),
                "quarantined_by_code": dict(sorted(self.quarantined_by_code.items())),
                "report_dir": self.report_dir}


def outbox_path(outbox: Path, facility: str, closed_at: dt.datetime | None, ma_lk: str, version: int) -> Path:
    day = (closed_at or dt.datetime.now()).strftime("%Y-%m-%d")
    return outbox / facility / day / ma_lk / f"v{version}.xml"


class Stager:
    """Stages extracted hồ sơ into the outbox and the ledger (one instance per run)."""

    def __init__(self, ledger: Ledger, outbox: Path, facility: str, run_id: str, report: RunReport, *,
                 rules: bool = True):
        self.ledger, self.outbox, self.facility, self.run_id, self.report = ledger, outbox, facility, run_id, report
        self.rules = rules  # business rules (errors quarantine the hồ sơ; warnings do not)

    def stage_batch(self, items: list[Extracted], *, force_reason: str | None = None) -> None:
        """Files first (each written whole), then the batch's ledger rows in one transaction: a run killed in
        between leaves files without rows, which the next run rewrites (same bytes) and records."""
        known = self.ledger.latest_many(self.facility, [i.ma_lk for i in items])
        self.pending: list[dict[str, Any]] = []
        for item in items:
            try:
                outcome = self.stage(item, known.get(item.ma_lk), force_reason=force_reason)
            except Exception as exc:  # a bug or an I/O error on one hồ sơ never fails the run: record it loudly
                item.hoso = None
                item.findings = [fnd.make("EXPORT.INTERNAL", ma_lk=item.ma_lk, detail=f"{type(exc).__name__}: {exc}")]
                outcome = self.stage(item, known.get(item.ma_lk))
            self.report.counts[outcome] += 1
        self.ledger.add_versions(self.pending)

    def stage(self, item: Extracted, latest: Latest | None, *, force_reason: str | None = None) -> str:
        warnings = None
        if item.hoso is not None and self.rules:
            found = run_rules(item.hoso)
            if any(f.severity == fnd.ERROR for f in found):  # a rule the portal enforces: keep it back
                item.hoso, item.findings = None, found
            elif found:  # warnings travel with the staged version, for QA
                warnings = [f.to_dict() for f in found]
                self.report.counts["with_warnings"] += 1
        if item.hoso is not None:
            data = envelope_bytes(item)
            digest, status, reasons = sha256(data), "staged", warnings
            spec_version = item.hoso.version.id
            ngay_ra = dt.datetime.strptime(item.hoso.summary.NGAY_RA, "%Y%m%d%H%M")  # type: ignore[attr-defined]
            deadline = deadline_for(ngay_ra)
        else:
            reasons = [f.to_dict() for f in item.findings]
            data, status, spec_version = None, "quarantined", None
            deadline = deadline_for(item.closed_at) if item.closed_at else None  # QA must fix it in time too
            digest = sha256(json.dumps(reasons, ensure_ascii=False, sort_keys=True).encode("utf-8"))
            self.report.quarantine.append({"ma_lk": item.ma_lk, "reasons": reasons})
            self.report.quarantined_by_code.update(r["code"] for r in reasons)
        if latest is not None and latest.content_hash == digest and force_reason is None:
            if data is not None and latest.path and not (self.outbox / latest.path).exists():
                write_atomic(self.outbox / latest.path, data)  # the file was removed by hand: put it back
            return "unchanged"
        version = latest.version + 1 if latest else 1
        rel = None
        if data is not None:
            path = outbox_path(self.outbox, self.facility, item.closed_at, item.ma_lk, version)
            write_atomic(path, data)
            rel = path.relative_to(self.outbox).as_posix()
        if force_reason is not None:
            reasons = {"resend": force_reason} if reasons is None else reasons
        self.pending.append(dict(
            facility=self.facility, ma_lk=item.ma_lk, version=version, content_hash=digest,
            spec_version=spec_version, status=status, reasons=reasons, path=rel, closed_at=item.closed_at,
            deadline_at=deadline, run_id=self.run_id,
            replaces=latest.version if latest is not None and latest.status != "replaced" else None))
        if status == "quarantined":
            return "quarantined"
        return "replaced" if latest is not None else "staged"


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
                 until: dt.datetime | None = None, run_id: str | None = None) -> NightlyPlan:
    """Start a run: read the watermark, record the run, clear what a killed run left half-written."""
    ledger = Ledger(ledger_url)
    since = since if since is not None else ledger.get_state(f"nightly:{mapping.facility}")
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
    report = RunReport(run_id, "nightly_export", Selection(since=since, until=until).describe())
    engine = create_engine(source)
    extractor = Extractor(engine, mapping, batch_size=batch_size)
    extractor.check()
    stager = Stager(Ledger(ledger_url), outbox, mapping.facility, run_id, report)
    for batch in extractor.batches(Selection(since=since, until=until)):
        items = list(extractor.assemble(batch))
        stager.stage_batch(items)
        if on_batch:
            on_batch(len(items))
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
    return _finish(ledger, report, outbox)


def nightly(source: str, outbox: Path, ledger_url: str, *, mapping: Mapping | None = None,
            since: dt.datetime | None = None, until: dt.datetime | None = None, batch_size: int = 500,
            run_id: str | None = None, on_batch: Callable[[int], None] | None = None) -> RunReport:
    """Episodes closed after the watermark (or ``since``) up to ``until`` (default now) → outbox + ledger, in
    this process. The Prefect flow runs the same steps, optionally one partition per closing day on Dask."""
    mapping = mapping or load_mapping()
    plan = plan_nightly(outbox, ledger_url, mapping, since=since, until=until, run_id=run_id)
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
    Stager(ledger, outbox, mapping.facility, run_id, report).stage_batch(list(extractor.extract(selection)),
                                                                         force_reason=reason)
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
    skip = set(mapping.params("checkin").get("skip_object_codes", ["2"]))
    version = load_spec().latest
    engine = create_engine(source)
    extractor = Extractor(engine, mapping)
    extractor.check()  # the mapping's queries, [checkin] included, before any data moves
    newest = since
    with engine.connect() as conn:
        lookups = extractor.lookups(conn)
        events = extractor.checkin_events(conn, since)
        keys = sorted({e["key"] for e in events})
        colls = {name: extractor.rows_by_key(conn, f"checkin.{name}", c.query, c.types, keys)
                 for name, c in tm.collections.items()}
    known = ledger.checkin_known(mapping.facility, [(e["ma_lk"], e["event"]) for e in events])
    for ev in events:
        newest = max(newest, ev["event_at"])
        if (ev["ma_lk"], ev["event"]) in known:
            report.counts["unchanged"] += 1
            continue
        ctx = RuleContext(ev["ma_lk"], mapping.facility, mapping.facility_name, mapping.params, table="XML0",
                          collections={n: by.get(ev["key"], []) for n, by in colls.items()})
        row = extractor.row(tm, ev, 1, ev["ma_lk"], ctx, lookups)
        if str(row.get("MA_DOITUONG_KCB")) in skip:
            report.counts["skipped"] += 1
            continue
        problems = list(ctx.findings)
        rows = build_rows(version, "XML0", [row], ma_lk=ev["ma_lk"], problems=problems) if not problems else ()
        base = dict(facility=mapping.facility, ma_lk=ev["ma_lk"], event=ev["event"], event_at=ev["event_at"],
                    run_id=run_id)
        if problems:
            reasons = [f.to_dict() for f in problems]
            report.quarantine.append({"ma_lk": ev["ma_lk"], "event": ev["event"], "reasons": reasons})
            report.quarantined_by_code.update(r["code"] for r in reasons)
            ledger.add_checkin(**base, content_hash=sha256(json.dumps(reasons, sort_keys=True).encode()),
                               status="quarantined", reasons=json.dumps(reasons, ensure_ascii=False), path=None)
            report.counts["quarantined"] += 1
            continue
        data = render_checkin(version, rows)
        path = outbox / mapping.facility / "checkin" / ev["event_at"].strftime("%Y-%m-%d") / f"{ev['ma_lk']}-{ev['event']}.xml"
        write_atomic(path, data)
        ledger.add_checkin(**base, content_hash=sha256(data), status="staged", reasons=None,
                           path=path.relative_to(outbox).as_posix())
        report.counts["staged"] += 1
    ledger.set_state(state, newest)
    engine.dispose()
    return _finish(ledger, report, outbox)


def submit(outbox: Path, ledger_url: str, client: Any | None, signer: Any | None, *, dry_run: bool = False,
           facility: str | None = None, run_id: str | None = None) -> RunReport:
    """Send staged check-ins and hồ sơ versions to the portal, oldest first, each signed and sent once.

    A version is marked ``submitted`` before it leaves, then ``accepted`` or ``rejected`` with the portal's
    receipt (kept with the exact bytes sent). A version left ``submitted`` by a lost answer is sent again with the
    same request id on the next run; ``accepted`` and ``rejected`` versions are never sent again (a correction is a
    new version). ``dry_run`` lists what would be sent and changes nothing."""
    from .portal.client import PortalError
    from .signing import SLOT

    ledger = Ledger(ledger_url)
    run_id = run_id or new_run_id("submit")
    report = RunReport(run_id, "submit", "dry run" if dry_run else "send")
    if not dry_run:
        ledger.start_run(run_id, "submit", report.window)
    work = [("checkin", r) for r in ledger.pending_checkins(facility)] + [("hoso", r) for r in ledger.pending_hoso(facility)]
    for kind, row in work:
        ident = f"v{row['version']}" if kind == "hoso" else row["event"]
        request_id = f"{row['facility']}:{row['ma_lk']}:{ident}"
        report.items.append({"kind": kind, "ma_lk": row["ma_lk"], "id": ident, "path": row["path"],
                             "status": row["status"]})
        if dry_run:
            report.counts["would_send"] += 1
            continue
        path = outbox / row["path"]
        data = path.read_bytes()
        signed_path = path.with_name(path.stem + ".signed.xml")
        if signed_path.exists():
            data = signed_path.read_bytes()  # sent before without an answer: the very same bytes again
        elif signer is not None and f"<{SLOT}/>".encode() in data:
            data = signer.sign(data)
            write_atomic(signed_path, data)
        ledger.mark(kind, row, "submitted")
        try:
            receipt = client.send_hoso(data, request_id) if kind == "hoso" else client.send_checkin(data, request_id)
        except PortalError as exc:
            ledger.record_submission(kind, row, request_id, data, None, "unanswered")
            report.counts["unanswered"] += 1
            report.quarantine.append({"ma_lk": row["ma_lk"], "id": ident, "reason": str(exc)})
            continue
        outcome = "accepted" if receipt.accepted else "rejected"
        ledger.record_submission(kind, row, request_id, data, receipt, outcome)
        report.counts[outcome] += 1
        if outcome == "rejected":
            report.quarantined_by_code[str(receipt.ma_ket_qua)] += 1
    if not dry_run:
        ledger.finish_run(run_id, dict(report.counts))
    return report
