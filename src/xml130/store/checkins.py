"""Check-in events: each check-in document once (the unique key refuses an event twice)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update

from ..codes import TO_SEND, Status
from .tables import checkin_event, now


class Checkins:
    engine: Engine

    def checkin_known(self, facility: str, keys: list[tuple[str, str]], status: Status | None = None
                      ) -> set[tuple[str, str]]:
        """The events among ``keys`` the ledger has (with that ``status``, when given)."""
        if not keys:
            return set()
        t = checkin_event
        q = select(t.c.ma_lk, t.c.event).where(t.c.facility == facility, t.c.ma_lk.in_(sorted({k[0] for k in keys})))
        if status is not None:
            q = q.where(t.c.status == status)
        with self.engine.connect() as conn:
            return {(r[0], r[1]) for r in conn.execute(q)}

    def checkin_blocked(self, facility: str, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """The events among ``keys`` whose document ``submit`` blocked (not what was checked): staged again."""
        return self.checkin_known(facility, keys, Status.BLOCKED)

    def restage_checkins(self, rows: list[dict[str, Any]]) -> None:
        """Blocked events staged again (their document written afresh and checked), in one transaction."""
        if rows:
            t, stamp = checkin_event, now()
            with self.engine.begin() as conn:
                for r in rows:
                    conn.execute(update(t).where(
                        t.c.facility == r["facility"], t.c.ma_lk == r["ma_lk"], t.c.event == r["event"],
                        t.c.status == Status.BLOCKED).values(
                        content_hash=r["content_hash"], status=r["status"], path=r["path"], reasons=r["reasons"],
                        run_id=r["run_id"], staged_at=stamp))

    def add_checkins(self, rows: list[dict[str, Any]]) -> None:
        """Insert check-in events in one transaction (the unique key refuses an event twice)."""
        if rows:
            stamp = now()
            with self.engine.begin() as conn:
                conn.execute(checkin_event.insert(), [{**r, "staged_at": stamp} for r in rows])

    def pending_checkins(self, facility: str | None = None) -> list[dict[str, Any]]:
        t = checkin_event
        q = select(t).where(t.c.status.in_(TO_SEND))
        if facility:
            q = q.where(t.c.facility == facility)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q.order_by(t.c.event_at, t.c.ma_lk, t.c.event))]
