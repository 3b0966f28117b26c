"""Submit: staged check-ins and hồ sơ versions sent to the portal, oldest first, each signed, until accepted."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..codes import Kind, Status, SubmissionOutcome
from ..errors import Xml130Error
from ..store.ledger import Ledger
from ..store.lock import SUBMIT_LOCK, job_lock
from ..store.tables import now
from .deadlines import correction_deadline
from .stager import RunReport, finish_run, new_run_id, sha256


class SignerMissing(Xml130Error, ValueError):
    """``submit`` without a signer: nothing is sent (the portal answers 123 to an unsigned file)."""


NO_SIGNER = ("Không có chữ ký số (--p12): chưa gửi hồ sơ nào, vì cổng giám định từ chối tệp chưa ký (mã 123). "
             "No signer: nothing sent. Give --p12 KEY.p12 (password in XML130_P12_PASSWORD), a USB token "
             "(--pkcs11-module, --token, --key; PIN in XML130_PKCS11_PIN) or a remote signer (--remote, --client-id, "
             "--remote-user), or --unsigned only against the local portal simulator.")


TOKEN_REFUSED = "chưa gửi: cổng từ chối đăng nhập (token)"  # nothing left; the run stops, the files stay due
NO_TOKEN = "chưa gửi: không lấy được token"  # nothing left; the file stays due
SIGNATURE_INVALID = "SUBMIT.SIGNATURE_INVALID"  # the signed bytes fail our own verifier: not sent, still due
SIGNATURE_INVALID_HINT = "chưa gửi: chữ ký không qua kiểm tra (kiểm tra chứng thư số/thiết bị ký), sẽ ký lại lần sau"


def submit(outbox: Path, ledger_url: str, client: Any | None, signer: Any | None, *, dry_run: bool = False,
           unsigned: bool = False, facility: str | None = None, run_id: str | None = None,
           stop_after_unanswered: int = 3, lock_wait: float = 0.0, should_stop: Callable[[], bool] | None = None,
           snapshot: bool = True) -> RunReport:
    """Send staged check-ins and hồ sơ versions to the portal, oldest first, each signed, until accepted.

    Without a signer nothing is sent (:class:`SignerMissing`) unless ``unsigned`` (a simulator). Before the bytes
    leave they are kept in the ledger and the file is ``submitted``; then the answer decides: ``accepted`` and
    ``rejected`` (the data: maKetQua, thongDiep) are final — a correction is a new version; no answer (5xx or
    network errors after the retries, timeouts, a dropped connection) leaves it ``submitted`` and the next run
    sends the very same bytes with the same request id; an answer that blames the sender (123 not signed, 125
    signature mismatch, 401 after a token refresh …) puts it back to ``staged``, signed afresh next run. No token
    (the portal's login unreachable or refusing) sends nothing and changes no status: ``not_sent``, with the reason,
    the file still due; a refused login stops the run at once. Only what was checked is signed: a staged file
    whose bytes are not the ones validated and recorded (SHA-256 = the ledger's content hash) is ``blocked`` with
    the finding ``SUBMIT.CONTENT_CHANGED`` and nothing of it is signed or sent (``xml130 resend`` makes a new
    version from the HIS); every signed file is checked by the verifier before it leaves (a failure: ``not_sent``,
    ``SUBMIT.SIGNATURE_INVALID``, still due). Every
    attempt and its reason is a row of the ``submission`` table. The run stops early — the rest stays due — when
    the portal refuses the credentials, ``stop_after_unanswered`` files in a row get no answer, or ``should_stop()``
    says so between two files (the stream asked to stop: the file in hand is finished first). ``dry_run``
    lists what would be sent and changes nothing. The run's report goes to ``<outbox>/_runs/<run id>/``. One run
    at a time on a ledger (the ``submit`` lock): another one running, it waits up to ``lock_wait`` seconds, then
    stops with :class:`~xml130.store.lock.JobBusy` having sent nothing."""
    if signer is None and not unsigned and not dry_run:
        raise SignerMissing(NO_SIGNER)
    ledger = Ledger(ledger_url)
    run_id = run_id or new_run_id("submit")
    report = RunReport(run_id, "submit", "dry run" if dry_run else "send" + (" unsigned" if signer is None else ""))
    if dry_run:
        for kind, row in _due(ledger, facility):
            report.items.append(_submit_item(kind, row))
            report.counts["would_send"] += 1
        return report
    with job_lock(ledger_url, SUBMIT_LOCK, job=run_id, wait=lock_wait):
        ledger.start_run(run_id, "submit", report.window)
        try:
            _send_all(ledger, client, signer, outbox, _due(ledger, facility), report, stop_after_unanswered,
                      should_stop)
        except BaseException as exc:  # interrupted (signal) or unable to go on (e.g. the certificate expired)
            with contextlib.suppress(Exception):
                ledger.finish_run(run_id, dict(report.counts),
                                  "failed" if isinstance(exc, Exception) else "interrupted")
            raise
        return finish_run(ledger, report, outbox, snapshot=snapshot)


def _due(ledger: Ledger, facility: str | None) -> list[tuple[Kind, dict[str, Any]]]:
    """What to send, check-ins first (read under the lock: what another run sent meanwhile is not due any more)."""
    return ([(Kind.CHECKIN, r) for r in ledger.pending_checkins(facility)]
            + [(Kind.HOSO, r) for r in ledger.pending_hoso(facility)])


def _not_sent(ledger: Ledger, kind: Kind, row: dict[str, Any], request_id: str, reason: str
              ) -> tuple[str, None, str]:
    ledger.note_not_sent(kind, row, request_id, SubmissionOutcome.NOT_SENT, reason)
    return SubmissionOutcome.NOT_SENT, None, reason


def checked_bytes(outbox: Path, kind: Kind, row: dict[str, Any]) -> tuple[bytes, None] | tuple[None, dict[str, Any]]:
    """The staged file's bytes when their SHA-256 is the content hash the ledger recorded when they were validated
    and staged; else the finding ``SUBMIT.CONTENT_CHANGED`` (path, MA_LK, both hashes) that blocks the file."""
    from .. import findings as fnd

    path = outbox / row["path"]
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data, actual = None, "không có tệp"
    else:
        actual = sha256(data)
        if actual == row["content_hash"]:
            return data, None
    hoso = kind == Kind.HOSO
    ident = f"v{row['version']}" if hoso else row["event"]
    remedy = ("`xml130 resend MA_LK --reason …`" if hoso else
              "`xml130 checkin --since …` (một thời điểm trước sự kiện)")  # a new version / the document again
    finding = fnd.make("SUBMIT.CONTENT_CHANGED", file=row["path"], ma_lk=row["ma_lk"], path=row["path"], ident=ident,
                       expected=row["content_hash"], actual=actual, remedy=remedy).to_dict()
    return None, finding | {"expected_hash": row["content_hash"], "actual_hash": actual}


def _submit_item(kind: Kind, row: dict[str, Any]) -> dict[str, Any]:
    ident = f"v{row['version']}" if kind == Kind.HOSO else row["event"]
    return {"kind": kind, "ma_lk": row["ma_lk"], "id": ident, "path": row["path"], "status": row["status"],
            "request_id": f"{row['facility']}:{row['ma_lk']}:{ident}"}


def _send_all(ledger: Ledger, client: Any, signer: Any | None, outbox: Path, work: list[tuple[str, dict]],
              report: RunReport, stop_after_unanswered: int, should_stop: Callable[[], bool] | None = None) -> None:
    from ..portal.client import AUTH_HTTP

    in_a_row = 0
    for n, (kind, row) in enumerate(work):
        if should_stop is not None and should_stop():
            report.counts["left_due"] = len(work) - n
            report.notes.append("stopped: asked to stop")
            return
        item = _submit_item(kind, row)
        report.items.append(item)
        outcome, receipt, reason = _send_one(ledger, client, signer, outbox, kind, row, item["request_id"])
        token_refused = outcome == SubmissionOutcome.NOT_SENT and reason.startswith(TOKEN_REFUSED)
        item["outcome"] = outcome
        report.counts[outcome] += 1
        if outcome != "accepted":
            report.quarantine.append({k: item[k] for k in ("kind", "ma_lk", "id")} | {
                "outcome": outcome, "ma_ket_qua": getattr(receipt, "ma_ket_qua", None),
                "thong_diep": getattr(receipt, "thong_diep", None), "reason": reason})
        if outcome == "rejected":
            report.quarantined_by_code[str(receipt.ma_ket_qua)] += 1
        in_a_row = in_a_row + 1 if outcome in (SubmissionOutcome.UNANSWERED, SubmissionOutcome.NOT_SENT) else 0
        auth = token_refused or (outcome == "refused" and (receipt is None or receipt.http_status in AUTH_HTTP))
        if (auth or in_a_row >= stop_after_unanswered) and n + 1 < len(work):
            report.counts["left_due"] = len(work) - n - 1  # not tried this run: still due, sent next run
            report.notes.append(f"stopped: {reason}")
            return


def _send_one(ledger: Ledger, client: Any, signer: Any | None, outbox: Path, kind: str, row: dict[str, Any],
              request_id: str) -> tuple[str, Any, str | None]:
    """One file: the same bytes again after a lost answer, else the staged file signed now."""
    from ..portal.client import PortalAuthError, PortalError
    from ..signing import SLOT, verify
    from ..signing.remote import RemoteSigner
    from ..signing.waiting import clear as clear_pending
    from ..signing.waiting import sign_or_wait

    data = ledger.bytes_in_flight(kind, row) if row["status"] == Status.SUBMITTED else None
    path, remote, staged = outbox / row["path"], isinstance(signer, RemoteSigner), data is None
    if staged:  # the file of the outbox: only the very bytes that were validated and recorded go
        data, finding = checked_bytes(outbox, kind, row)
        if finding is not None:
            ledger.block(kind, row, request_id, finding)
            return SubmissionOutcome.BLOCKED, None, f"{finding['code']}: {finding['message']}"
    if client is not None and hasattr(client, "token"):  # nothing is signed or marked sent without a token
        try:
            client.token()
        except PortalAuthError as exc:
            return _not_sent(ledger, kind, row, request_id, f"{TOKEN_REFUSED}: {exc}")
        except PortalError as exc:
            return _not_sent(ledger, kind, row, request_id, f"{NO_TOKEN}: {exc}")
    if staged and signer is not None and f"<{SLOT}/>".encode() in data:
        if not remote:
            data = signer.sign(data)
        else:  # a person confirms on a phone: never wait for it, look again next run
            got = sign_or_wait(signer, path, data, request_id)
            if got.state != "signed":
                waiting = got.state == "waiting"
                ledger.mark_signing(kind, row, Status.AWAITING_SIGNATURE if waiting else Status.STAGED)
                why = f"giao dịch ký {got.tran_id}: " + ("chờ người ký xác nhận" if waiting else
                                                        f"{got.state} ({got.message}), sẽ hỏi lại")
                return ("awaiting_signature" if waiting else f"signature_{got.state}"), None, why
            data = got.data
        check = verify(data)  # every signed file, before it leaves
        if not check.valid:
            return _not_sent(ledger, kind, row, request_id,
                             f"{SIGNATURE_INVALID}: {check.code} {check.reason} — {SIGNATURE_INVALID_HINT}")
    sub_id = ledger.begin_submission(kind, row, request_id, data)
    if remote:
        clear_pending(path)  # the signed bytes are in the ledger now
    receipt, reason = None, None
    try:
        receipt = client.send_hoso(data, request_id) if kind == Kind.HOSO else client.send_checkin(data, request_id)
    except PortalAuthError as exc:
        outcome, reason = SubmissionOutcome.REFUSED, str(exc)
    except PortalError as exc:
        outcome, reason = SubmissionOutcome.UNANSWERED, str(exc)
    else:
        outcome = receipt.outcome
        if outcome != SubmissionOutcome.ACCEPTED:
            reason = f"{receipt.ma_ket_qua or '-'} (HTTP {receipt.http_status}): {receipt.thong_diep or ''}".rstrip()
    fix_by = correction_deadline(now()) if kind == "hoso" and outcome == "rejected" else None  # TT 12/2026
    ledger.finish_submission(kind, row, sub_id, receipt, outcome, reason, deadline_at=fix_by)
    return outcome, receipt, reason
