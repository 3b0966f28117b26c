"""What the flows share: retry on transient database errors, and publishing a run's report as artifacts."""

from __future__ import annotations

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext
from sqlalchemy.exc import DBAPIError, OperationalError

RETRY_DELAYS = [10, 60, 300]


def is_transient(task, task_run, state) -> bool:
    """Retry a task when the database connection dropped or timed out, not when the data or mapping is wrong."""
    try:
        state.result()
    except OperationalError:
        return True
    except DBAPIError as exc:
        return bool(exc.connection_invalidated)
    except Exception:
        return False
    return False


def publish(report: dict, key: str) -> None:
    """A Markdown summary and a table of counts, when running inside a Prefect flow run."""
    if FlowRunContext.get() is None:
        return
    counts = report["counts"]
    lines = [f"# {report['flow']} — {report['run_id']}", "", f"Window: {report['window']}", "",
             "| outcome | hồ sơ |", "|---|---|", *(f"| {k} | {v} |" for k, v in sorted(counts.items()))]
    if report["quarantined_by_code"]:
        lines += ["", "| quarantined by code | findings |", "|---|---|",
                  *(f"| {k} | {v} |" for k, v in report["quarantined_by_code"].items())]
    lines += ["", f"Files: `{report['report_dir']}` (summary.json, quarantine.json, ledger.parquet)"]
    create_markdown_artifact("\n".join(lines), key=f"{key}-summary", description="xml130 run summary")
    rows = [{"outcome": k, "count": v} for k, v in sorted(counts.items())]
    rows += [{"outcome": f"quarantined: {k}", "count": v} for k, v in report["quarantined_by_code"].items()]
    create_table_artifact(rows, key=f"{key}-counts", description="staged, quarantined by rule, skipped, replaced")
