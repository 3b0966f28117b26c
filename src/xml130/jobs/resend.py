"""Resend: MA_LK re-staged as replacement versions (even when unchanged), with the reason kept in the ledger."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..catalog.crossstage import cross_stage
from ..mapping import Mapping
from ..mapping.database import his_engine
from ..mapping.extract import Extractor, Selection
from ..params import Params
from ..store.catalog import imported
from ..store.ledger import Ledger
from ..store.lock import HOSO_LOCK, job_lock
from .stager import RunReport, Stager, Versioned, finish_run, new_run_id, stage_all


def resend(source: str, outbox: Path, ledger_url: str, ma_lks: Iterable[str], reason: str, *,
           mapping: Mapping, run_id: str | None = None, params: Params | None = None,
           lock_wait: float = 0.0) -> RunReport:
    """Re-stage the given MA_LK as replacement versions (even when unchanged), recording the reason; then the
    checks across hồ sơ of their days, as after the nightly. Never while a nightly export or another resend runs
    on the ledger (the ``hoso`` lock; waits up to ``lock_wait`` s)."""
    run_id = run_id or new_run_id("resend")
    with job_lock(ledger_url, HOSO_LOCK, job=run_id, wait=lock_wait):
        return _resend(source, outbox, ledger_url, ma_lks, reason, mapping, run_id, params)


def _resend(source: str, outbox: Path, ledger_url: str, ma_lks: Iterable[str], reason: str, mapping: Mapping,
            run_id: str, params: Params | None) -> RunReport:
    ledger = Ledger(ledger_url)
    selection = Selection(ma_lk=tuple(ma_lks))
    report = RunReport(run_id, "resend", selection.describe() + f": {reason}")
    ledger.start_run(run_id, "resend", report.window)
    writer = Versioned(ledger, outbox, mapping.facility, run_id, force_reason=reason)
    stager = Stager(writer, report, catalog=imported(ledger), params=params)
    with his_engine(source) as engine:
        extractor = Extractor(engine, mapping, params=params)
        extractor.check()
        stage_all(stager, extractor.extract(selection), len(selection.ma_lk) or 1)
    cross_stage(ledger_url, outbox, mapping.facility, report, params=params)  # the new versions against their
    # days: a partner held back because of the version now corrected is released (operations.md, across hồ sơ)
    return finish_run(ledger, report, outbox)
