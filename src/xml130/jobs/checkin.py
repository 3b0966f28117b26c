"""Check-in: new first costs and ward admissions since the last run → one XML0 document each, written once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..codes import ObjectCode, Outcome
from ..mapping import Mapping, MappingError, TableMapping
from ..mapping.database import his_engine
from ..mapping.derive import RuleContext
from ..mapping.extract import Extractor
from ..models import Hoso, build_rows
from ..params import Params
from ..spec import load_spec
from ..store.ledger import Ledger
from ..store.lock import CHECKIN_LOCK, job_lock
from .stager import CheckinItem, InsertOnce, RunReport, Stager, finish_run, new_run_id, stage_all

EPOCH = dt.datetime(1900, 1, 1)


def checkin(source: str, outbox: Path, ledger_url: str, *, mapping: Mapping,
            since: dt.datetime | None = None, run_id: str | None = None, params: Params | None = None,
            lock_wait: float = 0.0) -> RunReport:
    """New check-in events since the last run → one XML0 document each (emergencies skipped). One run at a time
    on a ledger (the ``checkin`` lock; waits up to ``lock_wait`` s, then :class:`~xml130.store.lock.JobBusy`)."""
    if mapping.checkin is None:
        raise MappingError(f"mapping {mapping.name!r} has no [checkin] section")
    run_id = run_id or new_run_id("checkin")
    with job_lock(ledger_url, CHECKIN_LOCK, job=run_id, wait=lock_wait):
        return _checkin(source, outbox, ledger_url, mapping, mapping.checkin, since, run_id, params)


def _checkin(source: str, outbox: Path, ledger_url: str, mapping: Mapping, tm: TableMapping,
             since: dt.datetime | None, run_id: str, params: Params | None) -> RunReport:
    ledger = Ledger(ledger_url)
    state = f"checkin:{mapping.facility}"
    since = since if since is not None else (ledger.get_state(state) or EPOCH)
    report = RunReport(run_id, "checkin", f"events after {since}")
    ledger.start_run(run_id, "checkin", report.window)
    version = load_spec().latest
    with his_engine(source) as engine:
        extractor = Extractor(engine, mapping, params=params)
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
                              collections={n: by.get(ev["key"], []) for n, by in colls.items()},
                              shared=extractor.params)
            row = extractor.row(tm, ev, 1, ev["ma_lk"], ctx, lookups)
            if str(row.get("MA_DOITUONG_KCB")) == ObjectCode.EMERGENCY:  # emergencies need no check-in
                report.counts[Outcome.SKIPPED.value] += 1
                continue
            item = CheckinItem(ev["ma_lk"], ev["event"], ev["event_at"], findings=list(ctx.findings))
            if not item.findings:
                rows = build_rows(version, "XML0", [row], ma_lk=ev["ma_lk"], problems=item.findings)
                item.hoso = None if item.findings else Hoso(version, {"XML0": rows})
            items.append(item)
    stager = Stager(InsertOnce(ledger, outbox, mapping.facility, run_id), report, params=params)
    stage_all(stager, items, max(len(items), 1))
    ledger.set_state(state, max((ev["event_at"] for ev in events), default=since))
    return finish_run(ledger, report, outbox)
