"""What the flows share: where secrets come from, retry on transient database errors, and publishing a run's
report as artifacts.

Secrets never travel as flow parameters (a deployment's parameters are stored in plain text on the Prefect server
and printed by ``prefect deployment run``) nor as Prefect variables. The database URLs — which may carry a password —
come from the environment of the worker or serve process (``XML130_SOURCE``, ``XML130_LEDGER``), else from Prefect
Secret blocks (``xml130-source-url``, ``xml130-ledger-url``); a flow refuses a URL with a password as a parameter.
Every flow that reads the HIS needs the hospital's mapping (:func:`mapping_file`): a parameter or
``XML130_MAPPING``, never the demo's.
"""

from __future__ import annotations

import os

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext
from sqlalchemy.exc import DBAPIError, OperationalError

from xml130.codes import DEFAULT_LEDGER
from xml130.errors import SettingError
from xml130.mapping import MAPPING_ENV
from xml130.signing.core import secret_value
from xml130.store.database import permanent_error

RETRY_DELAYS = [10, 60, 300]

# One run at a time per deployment (Prefect's deployment concurrency limit, enforced by the server whatever starts
# the runs: the scheduler, `prefect deployment run`, a retry). A scheduled job whose next run covers the same ground
# again cancels a run that would overlap (CANCEL_NEW: nothing is lost, the watermark and the ledger carry on); a run
# asked for by hand with its own parameters waits for its turn (ENQUEUE). prefect.yaml declares the same
# (tests/test_pipelines.py compares them).
ONE_AT_A_TIME = {"nightly": "CANCEL_NEW", "near-real-time": "CANCEL_NEW", "submit": "CANCEL_NEW",
                 "resend": "ENQUEUE", "qa": "ENQUEUE", "adoption-weekly": "ENQUEUE", "adoption-monthly": "ENQUEUE",
                 "stream": "ENQUEUE", "deadline-alert": "CANCEL_NEW"}


def one_at_a_time(deployment: str):
    """The concurrency limit of a deployment: 1, with its collision strategy (:data:`ONE_AT_A_TIME`)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy(ONE_AT_A_TIME[deployment]))

# parameter -> (environment variable, Prefect Secret block) for the database URLs
URL_SOURCES = {"source": ("XML130_SOURCE", "xml130-source-url"), "ledger": ("XML130_LEDGER", "xml130-ledger-url")}
# every Secret block the flows read -> the environment variable that takes its place
SECRET_BLOCKS = {**{block: env for env, block in URL_SOURCES.values()},
                 "xml130-portal-password": "XML130_PORTAL_PASSWORD", "xml130-p12-password": "XML130_P12_PASSWORD"}


def secret(block: str, env: str) -> str | None:
    """The environment variable when set, else the Prefect Secret block of that name as stored text (None when
    neither exists)."""
    return secret_value(env, block)


def database_url(name: str, value: str | None) -> str:
    """The URL for parameter ``name`` ("source" or "ledger"): the parameter when given (never with a password),
    else the environment, else the Secret block; the ledger falls back to a local SQLite file."""
    from sqlalchemy.engine import make_url

    env, block = URL_SOURCES[name]
    if value:
        if make_url(value).password is not None:
            raise SettingError(f"{name}: a database URL with a password must not be a flow parameter (parameters are "
                             f"stored and printed in plain text); set {env} for the worker or the Secret block {block}")
        return value
    found = secret(block, env)
    if found:
        return found
    if name == "ledger":
        return DEFAULT_LEDGER
    raise SettingError(f"{name}: no database URL — set {env} for the worker (or serve) process, or create the Prefect "
                     f"Secret block {block}")


def mapping_file(value: str | None) -> str:
    """The hospital's mapping: the parameter ``mapping`` when given (prefect.yaml: the variable
    ``xml130_mapping``), else ``XML130_MAPPING`` of the worker (or serve) process. Never the demo's: neither is a
    :class:`~xml130.errors.SettingError` that names both, before anything is read."""
    found = value or os.environ.get(MAPPING_ENV)
    if not found:
        raise SettingError(f"mapping: no mapping file — give the parameter mapping (prefect.yaml: the Prefect "
                           f"variable xml130_mapping) or set {MAPPING_ENV} for the worker (or serve) process")
    return found


def is_transient(task, task_run, state) -> bool:
    """Retry a task when the database connection dropped or timed out, not when the data or mapping is wrong, and
    never when someone must act: no database, no table, credentials refused (:func:`permanent_error`)."""
    try:
        state.result()
    except OperationalError as exc:
        return permanent_error(exc) is None
    except DBAPIError as exc:
        return bool(exc.connection_invalidated) and permanent_error(exc) is None
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
