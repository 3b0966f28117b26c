"""The findings across hồ sơ in the ledger (``cross_finding``): the versions a run checks, and the findings and
status changes of a check stored together, in one transaction. What is checked is
:mod:`xml130.catalog.crossstage`'s."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import and_, delete, or_, select, update

from .ledger import Ledger
from .tables import cross_finding, hoso_version, now


def _versions(ledger: Ledger, facility: str, where) -> list[dict[str, Any]]:
    t = hoso_version
    q = select(t.c.ma_lk, t.c.version, t.c.status, t.c.path, t.c.reasons, t.c.closed_at, t.c.run_id).where(
        t.c.facility == facility, t.c.path.is_not(None), t.c.status != "replaced", where)
    with ledger.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def run_versions(ledger: Ledger, facility: str, run_id: str) -> list[dict[str, Any]]:
    """The versions (with a file, not replaced) that run ``run_id`` staged."""
    return _versions(ledger, facility, hoso_version.c.run_id == run_id)


def versions_closed(ledger: Ledger, facility: str, since: dt.datetime, until: dt.datetime, *,
                    except_run: str) -> list[dict[str, Any]]:
    """The versions (with a file, not replaced) of episodes closed in [since, until), other runs only."""
    t = hoso_version
    return _versions(ledger, facility, and_(t.c.run_id != except_run, t.c.closed_at >= since, t.c.closed_at < until))


def record_cross(ledger: Ledger, facility: str, keys: list[tuple[str, int]], findings: list[dict[str, Any]],
                 changes: list[dict[str, Any]]) -> None:
    """Replace the findings of the versions ``keys`` (MA_LK, version) by ``findings`` (rows of
    ``cross_finding``), and set each changed version's status and reasons (``changes``: ma_lk, version, status,
    reasons), all in one transaction."""
    t, c = hoso_version, cross_finding
    with ledger.engine.begin() as conn:
        for i in range(0, len(keys), 400):  # the findings of these versions are recomputed as a whole
            conn.execute(delete(c).where(c.c.facility == facility, or_(*[
                and_(c.c.ma_lk == m, c.c.version == v) for m, v in keys[i:i + 400]])))
        if findings:
            conn.execute(c.insert(), [{"facility": facility, **f} for f in findings])
        for ch in changes:
            conn.execute(update(t).where(t.c.facility == facility, t.c.ma_lk == ch["ma_lk"],
                                         t.c.version == ch["version"]).values(
                status=ch["status"], reasons=json.dumps(ch["reasons"], ensure_ascii=False) if ch["reasons"] else None,
                updated_at=now()))


def corrections_due(ledger: Ledger | str, facility: str | None = None) -> list[dict[str, Any]]:
    """Versions already sent (``submitted`` or ``accepted``) that a check across hồ sơ found in conflict (an error)
    with another hồ sơ — usually one that arrived later and is held back: to correct in the HIS and resend with a
    reason. One entry per version and code: ``ma_lk``, ``version``, ``status``, ``code``, ``others`` (the other
    MA_LK), ``message``. An entry leaves the list when its version is replaced."""
    c, h = cross_finding, hoso_version
    q = (select(c.c.ma_lk, c.c.version, c.c.code, c.c.others, c.c.message, h.c.status)
         .join(h, and_(h.c.facility == c.c.facility, h.c.ma_lk == c.c.ma_lk, h.c.version == c.c.version))
         .where(c.c.severity == "error", h.c.status.in_(("submitted", "accepted")))
         .order_by(c.c.ma_lk, c.c.version, c.c.code, c.c.id))
    if facility:
        q = q.where(c.c.facility == facility)
    seen: dict[tuple, dict[str, Any]] = {}
    ledger = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    with ledger.engine.connect() as conn:
        for r in conn.execute(q):
            entry = seen.setdefault((r.ma_lk, r.version, r.code), {
                "ma_lk": r.ma_lk, "version": r.version, "status": r.status, "code": r.code, "others": [],
                "message": r.message})
            entry["others"] = sorted(set(entry["others"]) | set(json.loads(r.others)))
    return list(seen.values())
