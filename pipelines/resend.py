"""Prefect flow ``resend``: re-stage a list of MA_LK as replacement versions, with a reason."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from xml130 import pipeline
from xml130.mapping import load_mapping

from ._common import RETRY_DELAYS, is_transient, publish


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=is_transient)
def restage(source: str, outbox: str, ledger: str, ma_lk: list[str], reason: str, mapping: str | None) -> dict:
    return pipeline.resend(source, Path(outbox), ledger, ma_lk, reason, mapping=load_mapping(mapping)).as_dict()


@flow(name="resend")
def resend(ma_lk: list[str], reason: str, source: str, outbox: str, ledger: str = "sqlite:///xml130-ledger.db",
           mapping: str | None = None) -> dict:
    report = restage(source, outbox, ledger, ma_lk, reason, mapping)
    publish(report, "resend")
    return report
