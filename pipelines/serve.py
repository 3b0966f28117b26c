"""Serve the scheduled deployments from one long-running process (no work pool needed):

    XML130_SOURCE=postgresql+psycopg://reader:…@his/his XML130_LEDGER=postgresql+psycopg://xml130:…@db/xml130 \
    XML130_MAPPING=/etc/xml130/his.toml XML130_OUTBOX=/srv/xml130/outbox python -m pipelines.serve

nightly_export runs every night at 01:30 and checkin every 5 minutes, in Asia/Ho_Chi_Minh; the VNeID adoption
report every Thursday at 08:00 for the last week (due before 10:00) and on the 3rd of each month for the last
month, into XML130_REPORTS (default ./reports); ``deadline-alert`` every 15 minutes (versions due within
XML130_ALERT_HOURS, default 6); ``stream`` (no schedule: started once with ``prefect deployment run stream/stream``)
every XML130_STREAM_EVERY seconds, sending when XML130_PORTAL_URL is set. The same deployments are declared in
prefect.yaml for a Prefect server with workers. Each runs one at a time (``_common.ONE_AT_A_TIME``: a scheduled run
that would overlap the previous one is cancelled; a QA or report run, or a second start of the stream, waits for
its turn).

The database URLs are not parameters: each run reads XML130_SOURCE / XML130_LEDGER from this process's environment
(or the Secret blocks xml130-source-url / xml130-ledger-url), so no password is stored with the deployments. The
hospital's mapping (XML130_MAPPING, required: never the demo's) is a parameter of every deployment reading the
HIS.
XML130_NIGHTLY_INTERVAL=SECONDS replaces the nightly's 01:30 schedule by an interval — for a trial or a test that
wants to see the scheduled job run now (docs/operations.md), not for production.
"""

from __future__ import annotations

import datetime as dt
import os

from prefect import serve
from prefect.schedules import Cron, Interval

from xml130.errors import Xml130Error

from ._common import database_url, mapping_file, one_at_a_time
from .adoption_report import adoption_report
from .checkin import checkin
from .deadline_alert import deadline_alert
from .nightly_export import nightly_export
from .stream import stream
from .validate_fixtures import validate_fixtures

TZ = "Asia/Ho_Chi_Minh"


def parameters() -> dict:
    """What the deployments carry: the outbox and the mapping, never a database URL."""
    return {"outbox": os.environ["XML130_OUTBOX"], "mapping": mapping_file(None)}


def nightly_schedule():
    seconds = os.environ.get("XML130_NIGHTLY_INTERVAL")
    if seconds:
        return Interval(dt.timedelta(seconds=int(seconds)), timezone=TZ)
    return Cron("30 1 * * *", timezone=TZ)


def adoption_deployments(p: dict) -> list:
    """Weekly (Thursday 08:00) and monthly (3rd, 08:00) adoption reports for the last complete period."""
    base = {"out": os.environ.get("XML130_REPORTS", "reports"), "mapping": p["mapping"]}
    return [
        adoption_report.to_deployment("adoption-weekly", parameters={**base, "kind": "week"},
                                      schedule=Cron("0 8 * * 4", timezone=TZ),
                                      concurrency_limit=one_at_a_time("adoption-weekly")),
        adoption_report.to_deployment("adoption-monthly", parameters={**base, "kind": "month"},
                                      schedule=Cron("0 8 3 * *", timezone=TZ),
                                      concurrency_limit=one_at_a_time("adoption-monthly")),
    ]


def deployments() -> list:
    p = parameters()
    return [
        nightly_export.to_deployment("nightly", parameters=p, schedule=nightly_schedule(),
                                     concurrency_limit=one_at_a_time("nightly")),
        checkin.to_deployment("near-real-time", parameters=p, schedule=Interval(dt.timedelta(minutes=5), timezone=TZ),
                              concurrency_limit=one_at_a_time("near-real-time")),
        validate_fixtures.to_deployment("qa", parameters={"folder": os.environ.get("XML130_QA_FOLDER", "fixtures")},
                                        concurrency_limit=one_at_a_time("qa")),
        *adoption_deployments(p),
        stream.to_deployment("stream", parameters=stream_parameters(p), concurrency_limit=one_at_a_time("stream")),
        deadline_alert.to_deployment("deadline-alert", parameters={"within_hours": float(os.environ.get(
            "XML130_ALERT_HOURS", "6"))}, schedule=Interval(dt.timedelta(minutes=15), timezone=TZ),
            concurrency_limit=one_at_a_time("deadline-alert")),
    ]


def stream_parameters(p: dict) -> dict:
    """The stream's settings from this process's environment: XML130_STREAM_EVERY (seconds, default 60) and, to
    send, XML130_PORTAL_URL, XML130_PORTAL_USER, XML130_P12_PATH (no password: those stay in the environment)."""
    extra = {"every": float(os.environ.get("XML130_STREAM_EVERY", "60"))}
    for key, env in (("portal", "XML130_PORTAL_URL"), ("user", "XML130_PORTAL_USER"), ("p12", "XML130_P12_PATH")):
        if os.environ.get(env):
            extra[key] = os.environ[env]
    return {**p, **extra}


if __name__ == "__main__":
    import sys

    try:
        database_url("source", None)  # stop now, with the message, when no HIS URL or no mapping is configured
        mapping_file(None)
    except Xml130Error as exc:
        sys.exit(f"xml130 serve: {exc}")
    serve(*deployments())
