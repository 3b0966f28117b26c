"""The nightly export: episodes closed since the watermark → outbox + ledger, with versions.

Files are written atomically under ``<outbox>/<facility>/<closing day>/<MA_LK>/v<version>.xml`` *before* their
ledger row (:mod:`.stager`), so a run killed at any point leaves no partial file and no ledger row without its
file; the next run produces whatever is missing. The watermark moves only when a run completes. The Prefect flow
(``pipelines/nightly_export.py``) runs the same steps, optionally one partition per closing day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..catalog.crossstage import cross_stage
from ..mapping import Mapping
from ..mapping.database import his_engine
from ..mapping.extract import Extractor, Selection
from ..params import Params
from ..store.catalog import imported
from ..store.files import clean_stale_temp
from ..store.ledger import Ledger
from ..store.lock import HOSO_LOCK, job_lock
from .stager import RunReport, Stager, Versioned, finish_run, new_run_id, stage_all


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
    days: set[dt.date] = set()
    with his_engine(source) as engine:
        for batch in Extractor(engine, mapping).batches(plan.selection):
            days.update(c.date() for _, _, c in batch if c is not None)
    cuts = [dt.datetime.combine(d, dt.time()) + dt.timedelta(days=1) for d in sorted(days)][:-1]
    bounds = [plan.since, *[c for c in cuts if (plan.since is None or c > plan.since) and c < plan.until], plan.until]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def stage_window(source: str, outbox: Path, ledger_url: str, mapping: Mapping, run_id: str,
                 since: dt.datetime | None, until: dt.datetime, *, batch_size: int = 500,
                 on_batch: Callable[[int], None] | None = None, params: Params | None = None) -> RunReport:
    """Stage the episodes closed in (since, until] — a whole run's window or one partition of it."""
    selection = Selection(since=since, until=until)
    report = RunReport(run_id, "nightly_export", selection.describe())
    ledger = Ledger(ledger_url)
    # the approved catalogues imported into the ledger, if any
    stager = Stager(Versioned(ledger, outbox, mapping.facility, run_id), report, catalog=imported(ledger),
                    params=params)
    with his_engine(source) as engine:
        extractor = Extractor(engine, mapping, batch_size=batch_size, params=params)
        extractor.check()
        stage_all(stager, extractor.extract(selection), batch_size, on_batch)
    return report


def complete_nightly(outbox: Path, ledger_url: str, mapping: Mapping, plan: NightlyPlan,
                     parts: Iterable[RunReport], *, params: Params | None = None,
                     snapshot: bool = True) -> RunReport:
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
    cross_stage(ledger_url, outbox, mapping.facility, report, params=params)  # checks across hồ sơ of the run's days (issue 14)
    return finish_run(ledger, report, outbox, snapshot=snapshot)


def nightly(source: str, outbox: Path, ledger_url: str, *, mapping: Mapping,
            since: dt.datetime | None = None, until: dt.datetime | None = None, batch_size: int = 500,
            run_id: str | None = None, on_batch: Callable[[int], None] | None = None,
            lookback: dt.timedelta | None = None, params: Params | None = None,
            lock_wait: float = 0.0, snapshot: bool = True) -> RunReport:
    """Episodes closed after the watermark (or ``since``) up to ``until`` (default now) → outbox + ledger, in
    this process. The Prefect flow runs the same steps, optionally one partition per closing day on Dask; the
    stream (:mod:`.stream`) runs it every few seconds, without the Parquet ``snapshot``. One run at a time on a
    ledger (with resend: the ``hoso`` lock, :func:`~xml130.store.lock.job_lock`): another one running, it waits
    up to ``lock_wait`` seconds, then stops with :class:`~xml130.store.lock.JobBusy`."""
    run_id = run_id or new_run_id("nightly_export")
    with job_lock(ledger_url, HOSO_LOCK, job=run_id, wait=lock_wait):
        plan = plan_nightly(outbox, ledger_url, mapping, since=since, until=until, run_id=run_id, lookback=lookback)
        part = stage_window(source, outbox, ledger_url, mapping, plan.run_id, plan.since, plan.until,
                            batch_size=batch_size, on_batch=on_batch, params=params)
        return complete_nightly(outbox, ledger_url, mapping, plan, [part], params=params, snapshot=snapshot)
