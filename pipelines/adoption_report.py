"""Prefect flow ``adoption_report``: the VNeID health-book adoption report by department, weekly and monthly.

Scheduled on Thursdays at 08:00 Asia/Ho_Chi_Minh (the report is due before 10:00) for the last complete week, and
on the 3rd of each month for the last month (monthly summaries are due before the 5th). The files land in
``out`` (XLSX to send, HTML, CSV, JSON); the ranking is published as a table artifact.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext

from xml130.adoption.job import run_adoption_report, summary

from ._common import RETRY_DELAYS, database_url, is_transient, mapping_file


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=is_transient)
def build_and_write(source: str, out: str, period: str | None, kind: str, mapping: str,
                    periods: int | None, notes: str | None, rank_min_patients: int | None = None) -> dict:
    report, files = run_adoption_report(source, Path(out), period=period, kind=kind, mapping=mapping,
                                        periods=periods, notes=notes, rank_min_patients=rank_min_patients)
    return summary(report, files)


def publish(result: dict) -> None:
    if FlowRunContext.get() is None:
        return
    rows = [{"hạng": d["rank"], "khoa": d["name"], "khám": d["examined"], "đủ điều kiện": d["eligible"],
             "có sổ": d["books"], "% tổng": d["rate_all_pct"], "% đủ điều kiện": d["rate_eligible_pct"],
             "± điểm": d["change_pp"]} for d in [*result["departments"], result["total"]]]
    create_table_artifact(rows, key="adoption-ranking", description=f"Sổ SKĐT — {result['period_title']}")
    t = result["total"]
    lines = [f"# Sổ sức khỏe điện tử — {result['period_title']}", "",
             f"Toàn viện: {t['books']}/{t['examined']} người bệnh có sổ ({t['rate_all_pct']} %), "
             f"{t['rate_eligible_pct']} % người bệnh đủ điều kiện.", "",
             *(f"- **{w['code']}** {w['message']}" for w in result["warnings"]), "",
             *(f"- {k}: `{v}`" for k, v in result["files"].items())]
    create_markdown_artifact("\n".join(lines), key="adoption-summary", description="VNeID adoption report")


@flow(name="adoption_report")
def adoption_report(out: str, source: str | None = None, period: str | None = None, kind: str = "week",
                    mapping: str | None = None, periods: int | None = None, notes: str | None = None,
                    rank_min_patients: int | None = None) -> dict:
    """``period``: 2026-W47 or 2026-11; none = the last complete ``kind`` (week or month) in Asia/Ho_Chi_Minh.
    ``source``: none = XML130_SOURCE or the Secret block ``xml130-source-url``; ``mapping``: the hospital's mapping
    file, none = XML130_MAPPING, required (see ``_common``)."""
    source, mapping = database_url("source", source), mapping_file(mapping)
    result = build_and_write(source, out, period, kind, mapping, periods, notes, rank_min_patients)
    publish(result)
    return result
