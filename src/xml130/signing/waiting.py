"""Signing that may wait for a remote signer's confirmation across runs, without blocking and without asking twice.

Beside the unsigned file ``<stem>.xml`` it keeps ``<stem>.pending.xml`` (the document with its signature built
except the value, see :func:`.core.prepare`) and ``<stem>.pending.json`` (the SignedInfo, the certificate and
the service's transaction id). Each call to :func:`sign_or_wait` either finds the signer's answer or asks once:

- no pending files: prepare, write them, request the signature, record the transaction id;
- pending without a transaction (a crash between writing and requesting): request it now;
- then one look at the transaction's status → ``waiting`` (nothing changes), ``signed`` (the signed bytes; the
  pending files stay until the caller has kept those bytes and calls :func:`clear`, so a crash in between gives
  the same bytes again from the same transaction), ``refused`` or ``expired`` (pending files removed: the next
  call asks again).

A process killed at any point leaves either no pending files or complete ones (each written whole, then
renamed), so the next run resumes the same transaction and the signer is not asked twice for one document.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ..store.files import write_atomic
from .core import Pending, SigningError, prepare
from .remote import CONFIRMED, WAITING, RemoteSigner

SIGNED = "signed"


@dataclass(frozen=True)
class Outcome:
    state: str  # signed, waiting, refused, expired
    data: bytes | None = None
    tran_id: str | None = None
    message: str = ""


def paths(unsigned: Path) -> tuple[Path, Path]:
    """``<stem>.pending.xml`` and ``<stem>.pending.json`` beside the unsigned file."""
    return unsigned.with_name(f"{unsigned.stem}.pending.xml"), unsigned.with_name(f"{unsigned.stem}.pending.json")


def clear(unsigned: Path) -> None:
    """Forget the pending request of ``unsigned`` (its signed bytes are kept elsewhere, or it was refused)."""
    for path in paths(unsigned):
        path.unlink(missing_ok=True)


def _load(template_path: Path, meta_path: Path) -> tuple[Pending, str | None]:
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    cert = x509.load_pem_x509_certificate(meta["certificate"].encode())
    return Pending(template_path.read_bytes(), base64.b64decode(meta["signed_info"]), cert), meta.get("tran_id")


def _save_meta(meta_path: Path, pending: Pending, tran_id: str | None) -> None:
    meta = {"signed_info": base64.b64encode(pending.signed_info).decode(), "tran_id": tran_id,
            "certificate": pending.certificate.public_bytes(Encoding.PEM).decode()}
    write_atomic(meta_path, json.dumps(meta, indent=1).encode())


def sign_or_wait(signer: RemoteSigner, unsigned: Path, document: bytes, description: str = "") -> Outcome:
    template_path, meta_path = paths(unsigned)
    if template_path.exists() and meta_path.exists():
        pending, tran_id = _load(template_path, meta_path)
    else:
        pending, tran_id = prepare(document, signer.certificate, signer.chain), None
        write_atomic(template_path, pending.template)
        _save_meta(meta_path, pending, None)
    if tran_id is None:
        tran_id = signer.request(pending, description)
        _save_meta(meta_path, pending, tran_id)
    status = signer.status(tran_id)  # asked just now or on an earlier run: one look, never a wait
    if status.state == WAITING:
        return Outcome(WAITING, tran_id=tran_id, message=status.message)
    if status.state != CONFIRMED:
        clear(unsigned)  # refused or expired: the next call asks again
        return Outcome(status.state, tran_id=tran_id, message=status.message)
    try:
        return Outcome(SIGNED, pending.complete(status.signature), tran_id)  # a value that does not fit: no file
    except SigningError:
        clear(unsigned)
        raise
