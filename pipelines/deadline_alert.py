"""Prefect flow ``deadline_alert``: hồ sơ versions about to miss their deadline within ``within_hours`` (or
already late) raise an alert through Prefect, each version once per deadline (:mod:`xml130.jobs.alerts`):

- a notification block (``notify``, as ``<block type>/<name>`` — e.g. ``custom-webhook/xml130-deadline-alert``,
  ``slack-webhook/…``, ``ms-teams-webhook/…``; ``prefect block ls`` lists them) gets the subject and the list;
- the event ``xml130.deadline.at-risk`` (resource ``xml130.facility.<MA_CSKCB>``, the list in its payload) is
  emitted, for an automation of the site's choosing.

Without the block the flow still emits the event, logs the list and warns that nobody was notified.
"""

from __future__ import annotations

from collections import defaultdict

from prefect import flow, get_run_logger
from prefect.blocks.core import Block
from prefect.events import emit_event

from xml130.jobs.alerts import EVENT, alert_text, due_soon, mark_alerted

from ._common import database_url

DEFAULT_BLOCK = "custom-webhook/xml130-deadline-alert"


@flow(name="deadline_alert")
def deadline_alert(within_hours: float = 6, notify: str | None = DEFAULT_BLOCK, ledger: str | None = None) -> dict:
    """``ledger``: none = XML130_LEDGER or the Secret block ``xml130-ledger-url`` (see ``_common``)."""
    log = get_run_logger()
    ledger = database_url("ledger", ledger)
    items = due_soon(ledger, within_hours)
    if not items:
        return {"due": 0, "notified": False}
    subject, body = alert_text(items, within_hours)
    log.warning("%s\n%s", subject, body)
    by_facility = defaultdict(list)
    for x in items:
        by_facility[x["facility"]].append(x)
    for facility, listed in by_facility.items():
        emit_event(event=EVENT, resource={"prefect.resource.id": f"xml130.facility.{facility}"},
                   payload={"within_hours": within_hours, "items": listed})
    notified = False
    if notify:
        try:
            block = Block.load(notify)
        except ValueError:
            log.warning("no notification block %s: nobody was notified (create it, see docs/operations.md)", notify)
        else:
            block.notify(body, subject=subject)
            notified = True
    mark_alerted(ledger, items)
    return {"due": len(items), "notified": notified}
