"""Submissions: the exact bytes of each attempt, kept before they leave, and the portal's answer."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Engine, Table, select, update

from ..codes import NOTHING_LEFT, Kind, Status, SubmissionOutcome
from .tables import checkin_event, hoso_version, now, one_of, submission


def _table(kind: Kind) -> Table:
    return hoso_version if one_of(Kind, kind) is Kind.HOSO else checkin_event


def _stamp(kind: Kind) -> dict[str, Any]:
    return {"updated_at": now()} if kind == Kind.HOSO else {}  # check-in events carry no updated_at


class Submissions:
    engine: Engine

    def mark_signing(self, kind: Kind, row: dict[str, Any], status: Status) -> None:
        """``awaiting_signature`` while a remote signer has not answered; ``staged`` again when it refused or the
        request expired (asked afresh next run). Nothing is sent in either case."""
        status = one_of(Status, status, (Status.AWAITING_SIGNATURE, Status.STAGED))
        table = _table(kind)
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == row["id"]).values(status=status, **_stamp(kind)))

    def begin_submission(self, kind: Kind, row: dict[str, Any], request_id: str, sent: bytes) -> int:
        """Keep the exact bytes about to be sent and mark the file ``submitted``, in one transaction, before the
        bytes leave: a run stopped at any point after this sends the very same bytes again."""
        table = _table(kind)
        with self.engine.begin() as conn:
            sub_id = conn.execute(submission.insert().values(
                kind=kind, facility=row["facility"], ma_lk=row["ma_lk"], version=row.get("version"),
                event=row.get("event"), request_id=request_id, sent_bytes=sent, sent_at=now(),
                outcome=SubmissionOutcome.SENDING)).inserted_primary_key[0]
            conn.execute(update(table).where(table.c.id == row["id"]).values(status=Status.SUBMITTED,
                                                                             **_stamp(kind)))
        return sub_id

    def finish_submission(self, kind: Kind, row: dict[str, Any], sub_id: int, receipt: Any, outcome: str,
                          reason: str | None = None, deadline_at: dt.datetime | None = None) -> None:
        """The portal's answer (or why there is none) and the file's new status, in one transaction: accepted and
        rejected are final; unanswered stays ``submitted`` (the same bytes go again); refused is ``staged``
        again (signed afresh next run). ``deadline_at``: the version's new deadline (a rejected version's
        correction deadline, decided by ``xml130.jobs.deadlines``)."""
        outcome = one_of(SubmissionOutcome, outcome)
        table = _table(kind)
        status = {SubmissionOutcome.ACCEPTED: Status.ACCEPTED, SubmissionOutcome.REJECTED: Status.REJECTED,
                  SubmissionOutcome.REFUSED: Status.STAGED}.get(outcome, Status.SUBMITTED)
        with self.engine.begin() as conn:
            conn.execute(update(submission).where(submission.c.id == sub_id).values(
                http_status=getattr(receipt, "http_status", None), ma_ket_qua=getattr(receipt, "ma_ket_qua", None),
                ma_giao_dich=getattr(receipt, "ma_giao_dich", None),
                thoi_gian_tiep_nhan=getattr(receipt, "thoi_gian_tiep_nhan", None),
                thong_diep=getattr(receipt, "thong_diep", None),
                answer=json.dumps(getattr(receipt, "raw", {}), ensure_ascii=False), outcome=outcome, reason=reason))
            extra = {"deadline_at": deadline_at} if kind == Kind.HOSO and deadline_at is not None else {}
            conn.execute(update(table).where(table.c.id == row["id"]).values(status=status, **_stamp(kind), **extra))

    def note_not_sent(self, kind: Kind, row: dict[str, Any], request_id: str, outcome: SubmissionOutcome,
                      reason: str) -> None:
        """An attempt that sent nothing (``not_sent``: no token), with its reason; the file's status is unchanged
        (still due)."""
        outcome = one_of(SubmissionOutcome, outcome, NOTHING_LEFT)
        with self.engine.begin() as conn:
            conn.execute(submission.insert().values(
                kind=kind, facility=row["facility"], ma_lk=row["ma_lk"], version=row.get("version"),
                event=row.get("event"), request_id=request_id, sent_bytes=b"", sent_at=now(), outcome=outcome,
                reason=reason))

    def block(self, kind: Kind, row: dict[str, Any], request_id: str, finding: dict[str, Any]) -> None:
        """The staged file is not what was checked: an attempt that sent nothing (``blocked``, the finding's
        message as its reason) and the file ``blocked`` with the finding as its reasons, in one transaction. Only a
        new version (resend) replaces it."""
        table = _table(kind)
        with self.engine.begin() as conn:
            conn.execute(submission.insert().values(
                kind=kind, facility=row["facility"], ma_lk=row["ma_lk"], version=row.get("version"),
                event=row.get("event"), request_id=request_id, sent_bytes=b"", sent_at=now(),
                outcome=SubmissionOutcome.BLOCKED, reason=f"{finding['code']}: {finding['message']}"))
            conn.execute(update(table).where(table.c.id == row["id"]).values(
                status=Status.BLOCKED, reasons=json.dumps([finding], ensure_ascii=False), **_stamp(kind)))

    def bytes_in_flight(self, kind: Kind, row: dict[str, Any]) -> bytes | None:
        """The bytes of the file's last attempt that left when it got no answer (``sending`` or ``unanswered``),
        else None."""
        t = submission
        key = t.c.version == row["version"] if one_of(Kind, kind) is Kind.HOSO else t.c.event == row["event"]
        q = (select(t.c.sent_bytes, t.c.outcome).where(t.c.kind == kind, t.c.facility == row["facility"],
                                                       t.c.ma_lk == row["ma_lk"], key,
                                                       t.c.outcome.not_in(NOTHING_LEFT))
             .order_by(t.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            last = conn.execute(q).first()
        in_flight = (SubmissionOutcome.SENDING, SubmissionOutcome.UNANSWERED)
        return last[0] if last is not None and last[1] in in_flight else None

    def submissions(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(submission).order_by(submission.c.id))]
