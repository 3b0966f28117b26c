"""Deadline alerts: open versions about to miss their deadline (``data/deadlines.toml``, :mod:`.deadlines`) within
N hours, each announced once per deadline (table ``deadline_alert`` of the ledger).

The Prefect flow ``deadline_alert`` (``pipelines/deadline_alert.py``) sends :func:`alert_text` through a Prefect
notification block and emits the event ``xml130.deadline.at-risk`` (for an automation), then :func:`mark_alerted`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, select

from ..codes import OPEN_STATUSES
from ..store.ledger import Ledger
from ..store.tables import deadline_alert, hoso_version, now

EVENT = "xml130.deadline.at-risk"


def due_soon(ledger_url: str, within_hours: float, at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Open versions whose deadline is within ``within_hours`` of ``at`` (or past), not announced yet for that
    deadline, soonest first: ``facility``, ``ma_lk``, ``version``, ``status``, ``deadline_at``, ``hours_left``."""
    at = at or now()
    h, a = hoso_version, deadline_alert
    told = select(a.c.id).where(and_(a.c.facility == h.c.facility, a.c.ma_lk == h.c.ma_lk,
                                     a.c.version == h.c.version, a.c.deadline_at == h.c.deadline_at)).exists()
    q = (select(h.c.facility, h.c.ma_lk, h.c.version, h.c.status, h.c.deadline_at)
         .where(h.c.status.in_(OPEN_STATUSES), h.c.deadline_at.is_not(None),
                h.c.deadline_at <= at + dt.timedelta(hours=within_hours), ~told)
         .order_by(h.c.deadline_at, h.c.ma_lk, h.c.version))
    with Ledger(ledger_url).engine.connect() as conn:
        return [{"facility": r.facility, "ma_lk": r.ma_lk, "version": r.version, "status": r.status,
                 "deadline_at": r.deadline_at.isoformat(),
                 "hours_left": round((r.deadline_at - at).total_seconds() / 3600, 1)} for r in conn.execute(q)]


def alert_text(items: list[dict[str, Any]], within_hours: float, limit: int = 30) -> tuple[str, str]:
    """(subject, body) of the alert, in Vietnamese for the hospital's staff."""
    overdue = sum(x["hours_left"] <= 0 for x in items)
    subject = f"xml130: {len(items)} hồ sơ sắp quá hạn gửi cổng giám định (trong {within_hours:g} giờ)"
    lines = [f"{len(items)} hồ sơ chưa được cổng tiếp nhận sắp đến hạn trong {within_hours:g} giờ "
             f"({overdue} đã quá hạn):"]
    for x in items[:limit]:
        left = f"quá {-x['hours_left']:g} giờ" if x["hours_left"] <= 0 else f"còn {x['hours_left']:g} giờ"
        lines.append(f"- {x['ma_lk']} v{x['version']} ({x['status']}): hạn {x['deadline_at']}, {left}")
    if len(items) > limit:
        lines.append(f"… và {len(items) - limit} hồ sơ khác (xml130 status --hours {within_hours:g})")
    return subject, "\n".join(lines)


def mark_alerted(ledger_url: str, items: list[dict[str, Any]]) -> None:
    if not items:
        return
    stamp = now()
    with Ledger(ledger_url).engine.begin() as conn:
        conn.execute(deadline_alert.insert(), [{
            "facility": x["facility"], "ma_lk": x["ma_lk"], "version": x["version"],
            "deadline_at": dt.datetime.fromisoformat(x["deadline_at"]), "alerted_at": stamp} for x in items])
