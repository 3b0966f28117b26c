"""Serve the scheduled deployments from one long-running process (no work pool needed):

    XML130_SOURCE=postgresql+psycopg://reader@his/his XML130_OUTBOX=/srv/xml130/outbox \
    XML130_LEDGER=postgresql+psycopg://xml130@db/xml130 python -m pipelines.serve

nightly_export runs every night at 01:30 and checkin every 5 minutes, in Asia/Ho_Chi_Minh; the VNeID adoption
report every Thursday at 08:00 for the last week (due before 10:00) and on the 3rd of each month for the last
month, into XML130_REPORTS (default ./reports). The same deployments are declared in prefect.yaml for a Prefect
server with workers.
"""

from __future__ import annotations

import os

from prefect import serve
from prefect.schedules import Cron, Interval

from .adoption_report import adoption_report
from .checkin import checkin
from .nightly_export import nightly_export
from .validate_fixtures import validate_fixtures

TZ = "Asia/Ho_Chi_Minh"


def parameters() -> dict:
    params = {"source": os.environ["XML130_SOURCE"], "outbox": os.environ["XML130_OUTBOX"],
              "ledger": os.environ.get("XML130_LEDGER", "sqlite:///xml130-ledger.db")}
    if os.environ.get("XML130_MAPPING"):
        params["mapping"] = os.environ["XML130_MAPPING"]
    return params


def adoption_deployments(p: dict) -> list:
    """Weekly (Thursday 08:00) and monthly (3rd, 08:00) adoption reports for the last complete period."""
    base = {"source": p["source"], "out": os.environ.get("XML130_REPORTS", "reports"), **(
        {"mapping": p["mapping"]} if "mapping" in p else {})}
    return [
        adoption_report.to_deployment("adoption-weekly", parameters={**base, "kind": "week"},
                                      schedule=Cron("0 8 * * 4", timezone=TZ)),
        adoption_report.to_deployment("adoption-monthly", parameters={**base, "kind": "month"},
                                      schedule=Cron("0 8 3 * *", timezone=TZ)),
    ]


if __name__ == "__main__":
    import datetime as dt

    p = parameters()
    serve(
        nightly_export.to_deployment("nightly", parameters=p, schedule=Cron("30 1 * * *", timezone=TZ)),
        checkin.to_deployment("near-real-time", parameters=p,
                              schedule=Interval(dt.timedelta(minutes=5), timezone=TZ)),
        validate_fixtures.to_deployment("qa", parameters={"folder": os.environ.get("XML130_QA_FOLDER", "fixtures")}),
        *adoption_deployments(p),
    )
