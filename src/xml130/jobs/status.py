"""``xml130 status``: what a hospital can act on, read from the ledger.

The JSON shape (``xml130 status --format json``), every day a day of the machine's clock:

- ``at``, ``within_days``, ``within_hours``: when deadlines were evaluated, and how far ahead "due soon" looks
  (``within_hours`` = ``within_days`` × 24 unless given in hours);
- ``by_status``: hồ sơ versions by status now; ``checkins_by_status``: check-in documents by status now;
- ``days``: one entry per day with activity, oldest first: ``day``; ``staged`` (versions staged that day, by their
  status now); ``checkins`` (check-in documents made that day, by status now); ``sent`` (each file's last attempt
  that day: ``accepted``, ``rejected`` — the data —, ``unanswered``, ``signature_refused`` — the portal's 123 or
  125: sign again; not the ledger status ``awaiting_signature`` of a remote signer —, ``refused`` — credentials or settings —,
  ``not_sent`` — nothing left: no token from the portal, or a signature our verifier refused; the file is still due,
  its status unchanged —, ``blocked`` — nothing left: the staged file is not the one validated and recorded,
  ``SUBMIT.CONTENT_CHANGED``, the version ``blocked`` until a resend); ``problems``: every attempt counted in ``sent`` that was not
  accepted: ``kind``, ``ma_lk``, ``id`` (``v<version>`` or the check-in event), ``outcome``, ``ma_ket_qua``,
  ``thong_diep``, ``reason``, ``sent_at``, ``status_now`` (the file's status now: ``accepted`` once a later
  attempt went through, ``replaced`` after a correction);
- ``to_correct``: versions already sent that a check across hồ sơ found in conflict with another hồ sơ (usually a
  later one, held back): ``ma_lk``, ``version``, ``status``, ``code``, ``others`` (the other MA_LK), ``message``
  — correct in the HIS, then ``xml130 resend MA_LK --reason …`` (docs/operations.md);
- ``late``: open versions whose deadline is past (``overdue``) or within ``within_hours``: ``ma_lk``, ``version``,
  ``status``, ``deadline_at``, ``hours_left`` (negative: overdue by that many hours), ``overdue``. The deadlines
  are the dated entries of ``data/deadlines.toml`` (:mod:`.deadlines`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from ..codes import Kind
from ..portal.client import UNSIGNED_CODES
from ..store.cross import corrections_due
from ..store.ledger import Ledger
from ..store.tables import checkin_event, hoso_version, submission

SENT = ("accepted", "rejected", "unanswered", "signature_refused", "refused", "not_sent", "blocked")
LABELS = {"accepted": "accepted", "rejected": "rejected", "unanswered": "unanswered",
          "signature_refused": "signature refused (123/125)", "refused": "refused", "not_sent": "not sent",
          "blocked": "blocked (not what was checked)"}


def _group(outcome: str, ma_ket_qua: str | None) -> str:
    if outcome == "sending":  # the bytes left (or were about to) and no answer was recorded
        return "unanswered"
    if outcome == "refused" and ma_ket_qua in UNSIGNED_CODES:
        return "signature_refused"
    return outcome


def ledger_status(ledger: Ledger, at: dt.datetime | None = None, within_days: int = 2,
                  within_hours: float | None = None) -> dict[str, Any]:
    hours = within_hours if within_hours is not None else within_days * 24
    summary = ledger.summary(today=at, within_days=hours / 24)
    s, c = submission, checkin_event
    with ledger.engine.connect() as conn:
        checkins = dict(conn.execute(select(c.c.status, func.count()).group_by(c.c.status)).all())
        checkin_days = conn.execute(select(c.c.staged_at, c.c.status)).all()
        attempts = conn.execute(select(s.c.id, s.c.kind, s.c.facility, s.c.ma_lk, s.c.version, s.c.event,
                                       s.c.request_id, s.c.sent_at, s.c.outcome, s.c.ma_ket_qua, s.c.thong_diep,
                                       s.c.reason).order_by(s.c.id)).all()
        now_status = _status_now(conn, [a for a in attempts if a.outcome != "accepted"])
    days: dict[str, dict[str, Any]] = {}

    def day(d: dt.datetime) -> dict[str, Any]:
        return days.setdefault(d.date().isoformat(), {"day": d.date().isoformat(), "staged": {}, "checkins": {},
                                                      "sent": {k: 0 for k in SENT}, "problems": []})

    for d, counts in summary["by_day"].items():
        day(dt.datetime.fromisoformat(d))["staged"] = dict(sorted(counts.items()))
    for staged_at, status in checkin_days:
        counts = day(staged_at)["checkins"]
        counts[status] = counts.get(status, 0) + 1
    last: dict[tuple[str, str], Any] = {}  # each file's last attempt of the day
    for a in attempts:
        last[(a.sent_at.date().isoformat(), a.request_id)] = a
    for a in last.values():
        entry, group = day(a.sent_at), _group(a.outcome, a.ma_ket_qua)
        entry["sent"][group] += 1
        if group != "accepted":
            entry["problems"].append({
                "kind": a.kind, "ma_lk": a.ma_lk, "id": f"v{a.version}" if a.kind == Kind.HOSO else a.event,
                "outcome": group, "ma_ket_qua": a.ma_ket_qua, "thong_diep": a.thong_diep, "reason": a.reason,
                "sent_at": a.sent_at.isoformat(), "status_now": now_status.get(a.id)})
    for entry in days.values():
        entry["checkins"] = dict(sorted(entry["checkins"].items()))
    return {"at": (at or dt.datetime.now().replace(microsecond=0)).isoformat(), "within_days": within_days,
            "within_hours": hours,
            "by_status": summary["by_status"], "checkins_by_status": dict(sorted(checkins.items())),
            "days": [days[d] for d in sorted(days)], "to_correct": corrections_due(ledger),
            "late": summary["late"]}


def _status_now(conn, attempts: list[Any]) -> dict[int, str]:
    """The current status of the file behind each attempt (by submission id)."""
    if not attempts:
        return {}
    h, c = hoso_version, checkin_event
    ma_lks = sorted({a.ma_lk for a in attempts})
    versions = {(r.facility, r.ma_lk, r.version): r.status for r in conn.execute(
        select(h.c.facility, h.c.ma_lk, h.c.version, h.c.status).where(h.c.ma_lk.in_(ma_lks)))}
    events = {(r.facility, r.ma_lk, r.event): r.status for r in conn.execute(
        select(c.c.facility, c.c.ma_lk, c.c.event, c.c.status).where(c.c.ma_lk.in_(ma_lks)))}
    return {a.id: (versions.get((a.facility, a.ma_lk, a.version)) if a.kind == Kind.HOSO
                   else events.get((a.facility, a.ma_lk, a.event))) for a in attempts}


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"


def status_lines(status: dict[str, Any], limit: int = 50) -> list[str]:
    """The text form: totals, then each day, then what is late. Lists longer than ``limit`` say how many more
    there are (all of them are in the JSON)."""
    lines = [f"hồ sơ: {_counts(status['by_status'])}", f"check-in: {_counts(status['checkins_by_status'])}"]
    for d in status["days"]:
        lines.append(d["day"])
        if d["staged"]:
            lines.append(f"  hồ sơ staged that day, now: {_counts(d['staged'])}")
        if d["checkins"]:
            lines.append(f"  check-ins made that day, now: {_counts(d['checkins'])}")
        if any(d["sent"].values()):
            lines.append("  sent (each file's last attempt): " + ", ".join(f"{LABELS[k]} {v}" for k, v in d["sent"].items()))
        for p in d["problems"][:limit]:
            why = f"{p['ma_ket_qua']} {p['thong_diep'] or ''}".rstrip() if p["ma_ket_qua"] else p["reason"]
            lines.append(f"    {LABELS[p['outcome']]}: {p['kind']} {p['ma_lk']} {p['id']} — {why} "
                         f"(now {p['status_now']})")
        if len(d["problems"]) > limit:
            lines.append(f"    … {len(d['problems']) - limit} more (--format json lists them all)")
    for x in status["to_correct"][:limit]:
        lines.append(f"to correct: {x['ma_lk']} v{x['version']} ({x['status']}) {x['code']} with "
                     f"{', '.join(x['others'])} — resend {x['ma_lk']} --reason after correcting the HIS")
    late = status["late"]
    overdue = sum(x["overdue"] for x in late)
    within = status["within_hours"]
    ahead = f"{within / 24:g} days" if within % 24 == 0 else f"{within:g} hours"
    lines.append(f"late: {overdue} overdue, {len(late) - overdue} due within {ahead}")
    for x in late[:limit]:
        left = (f"quá {-x['hours_left']:g} giờ" if x["overdue"] else f"còn {x['hours_left']:g} giờ")
        lines.append(f"  {'QUÁ HẠN' if x['overdue'] else 'sắp đến hạn'} {x['ma_lk']} v{x['version']} {x['status']} "
                     f"hạn {x['deadline_at']} ({left})")
    if len(late) > limit:
        lines.append(f"  … {len(late) - limit} more (--format json lists them all)")
    return lines
