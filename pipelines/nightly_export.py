"""Prefect flow ``nightly_export``: episodes closed since the watermark → mapping → validation → outbox + ledger.

The work is :func:`xml130.pipeline.nightly`; this flow adds retries on transient database errors and publishes
the run's counts as artifacts. A hồ sơ that fails is quarantined with its reasons; it never fails the run.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from xml130 import pipeline
from xml130.mapping import load_mapping

from ._common import RETRY_DELAYS, is_transient, publish


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=is_transient)
def stage_window(source: str, outbox: str, ledger: str, mapping: str | None, since: str | None) -> dict:
    import datetime as dt

    report = pipeline.nightly(source, Path(outbox), ledger, mapping=load_mapping(mapping),
                              since=dt.datetime.fromisoformat(since) if since else None)
    return report.as_dict()


@flow(name="nightly_export")
def nightly_export(source: str, outbox: str, ledger: str = "sqlite:///xml130-ledger.db",
                   mapping: str | None = None, since: str | None = None) -> dict:
    report = stage_window(source, outbox, ledger, mapping, since)
    publish(report, "nightly-export")
    return report
