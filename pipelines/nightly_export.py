"""Prefect flow ``nightly_export``: episodes closed since the watermark → mapping → validation → outbox + ledger.

The work is in :mod:`xml130.jobs`; this flow adds retries on transient database errors, can fan the window
out in partitions (one per closing day) on any task runner — threads by default, or a Dask cluster through
prefect-dask (:func:`on_dask`) — and publishes the run's counts as artifacts. A hồ sơ that fails is quarantined
with its reasons; it never fails the run. The result is the same, file for file, whatever the partitioning.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, task

from xml130 import jobs
from xml130.catalog.crossstage import publish_artifacts as publish_cross_artifacts
from xml130.dates import parse_datetime
from xml130.mapping import load_mapping
from xml130.store.lock import HOSO_LOCK, job_lock

from ._common import RETRY_DELAYS, database_url, is_transient, mapping_file, publish


def _when(value: str | None) -> dt.datetime | None:
    """Dates as the command line reads them (:func:`xml130.dates.parse_datetime`)."""
    return parse_datetime(value) if value else None


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=is_transient)
def plan_run(source: str, outbox: str, ledger: str, mapping: str, since: str | None, until: str | None,
             partition: str) -> tuple[jobs.NightlyPlan, list]:
    m = load_mapping(mapping)
    plan = jobs.plan_nightly(Path(outbox), ledger, m, since=_when(since), until=_when(until))
    parts = jobs.day_partitions(source, m, plan) if partition == "day" else [(plan.since, plan.until)]
    return plan, parts


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=is_transient)
def stage_partition(source: str, outbox: str, ledger: str, mapping: str, run_id: str,
                    since: dt.datetime | None, until: dt.datetime) -> jobs.RunReport:
    return jobs.stage_window(source, Path(outbox), ledger, load_mapping(mapping), run_id, since, until)


@task
def complete_run(outbox: str, ledger: str, mapping: str, plan: jobs.NightlyPlan,
                 parts: list[jobs.RunReport]) -> dict:
    return jobs.complete_nightly(Path(outbox), ledger, load_mapping(mapping), plan, parts).as_dict()


@flow(name="nightly_export")
def nightly_export(outbox: str, source: str | None = None, ledger: str | None = None, mapping: str | None = None,
                   since: str | None = None, until: str | None = None, partition: str = "none") -> dict:
    """``partition``: "none" (one window) or "day" (one task per closing day, run by the flow's task runner).
    ``source``/``ledger``: none = XML130_SOURCE/XML130_LEDGER or the Secret blocks; ``mapping``: the hospital's
    mapping file, none = XML130_MAPPING, required (see ``_common``). The flow holds the ledger's ``hoso`` lock
    from the plan to the end (no ``xml130 nightly`` or resend meanwhile; another holder: it fails at once, saying
    who)."""
    from prefect.runtime import flow_run

    source, ledger, mapping = database_url("source", source), database_url("ledger", ledger), mapping_file(mapping)
    with job_lock(ledger, HOSO_LOCK, job=f"nightly_export flow run {flow_run.name}"):
        plan, parts = plan_run(source, outbox, ledger, mapping, since, until, partition)
        futures = [stage_partition.submit(source, outbox, ledger, mapping, plan.run_id, lo, hi) for lo, hi in parts]
        report = complete_run(outbox, ledger, mapping, plan, [f.result() for f in futures])
    publish(report, "nightly-export")
    publish_cross_artifacts(report)  # one artifact per day: the findings across hồ sơ (issue 14)
    return report


def on_dask(address: str | None = None, n_workers: int = 2):
    """The flow with a Dask task runner: an existing scheduler at ``address``, else a LocalCluster."""
    from prefect_dask import DaskTaskRunner

    runner = (DaskTaskRunner(address=address) if address else
              DaskTaskRunner(cluster_kwargs={"n_workers": n_workers, "threads_per_worker": 1, "processes": True}))
    return nightly_export.with_options(task_runner=runner)
