"""Prefect flow ``checkin``: new first costs and ward admissions since the last run → XML0 documents."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from xml130 import jobs
from xml130.mapping import load_mapping

from ._common import RETRY_DELAYS, database_url, is_transient, mapping_file, publish


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=is_transient)
def stage_events(source: str, outbox: str, ledger: str, mapping: str) -> dict:
    return jobs.checkin(source, Path(outbox), ledger, mapping=load_mapping(mapping)).as_dict()


@flow(name="checkin")
def checkin(outbox: str, source: str | None = None, ledger: str | None = None, mapping: str | None = None) -> dict:
    """``source``/``ledger``: none = XML130_SOURCE/XML130_LEDGER or the Secret blocks; ``mapping``: the hospital's
    mapping file, none = XML130_MAPPING, required (see ``_common``)."""
    source, ledger, mapping = database_url("source", source), database_url("ledger", ledger), mapping_file(mapping)
    report = stage_events(source, outbox, ledger, mapping)
    publish(report, "checkin")
    return report
