"""Prefect flow ``resend``: re-stage a list of MA_LK as replacement versions, with a reason."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from xml130 import jobs
from xml130.mapping import load_mapping

from ._common import RETRY_DELAYS, database_url, is_transient, mapping_file, publish


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=is_transient)
def restage(source: str, outbox: str, ledger: str, ma_lk: list[str], reason: str, mapping: str) -> dict:
    return jobs.resend(source, Path(outbox), ledger, ma_lk, reason, mapping=load_mapping(mapping)).as_dict()


@flow(name="resend")
def resend(ma_lk: list[str], reason: str, outbox: str, source: str | None = None, ledger: str | None = None,
           mapping: str | None = None) -> dict:
    """``source``/``ledger``: none = XML130_SOURCE/XML130_LEDGER or the Secret blocks; ``mapping``: the hospital's
    mapping file, none = XML130_MAPPING, required (see ``_common``)."""
    source, ledger, mapping = database_url("source", source), database_url("ledger", ledger), mapping_file(mapping)
    report = restage(source, outbox, ledger, ma_lk, reason, mapping)
    publish(report, "resend")
    return report
