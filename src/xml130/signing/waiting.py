"""Signing that may wait for a remote signer's confirmation across runs, without blocking and without asking twice.

Beside the unsigned file ``<stem>.xml`` it keeps ``<stem>.pending.xml`` (the document with its signature built
except the value, see :func:`.core.prepare`) and ``<stem>.pending.json`` (the SignedInfo, the certificate and
the service's transaction id). Each call to :func:`sign_or_wait` either finds the signer's answer or asks once:

- no pending files: prepare, write them, request the signature, record the transaction id;
- pending without a transaction (a crash between writing and requesting): request it now;
- then one look at the transaction's status → ``waiting`` (nothing changes), ``signed`` (``<stem>.signed.xml``
  written, pending files removed), ``refused`` or ``expired`` (pending files removed: the next call asks again).

A process killed at any point leaves either no pending files or complete ones (each written whole, then
renamed), so the next run resumes the same transaction; the same document is never signed into two different
files, and a signed file is never produced twice.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ..staging import write_atomic
from .core import Pending, prepare
from .remote import CONFIRMED, WAITING, RemoteSigner

SIGNED = "signed"


@dataclass(frozen=True)
class Outcome:
    state: str  # signed, waiting, refused, expired
    data: bytes | None = None
    tran_id: str | None = None
    message: str = ""


def paths(unsigned: Path) -> tuple[Path, Path, Path]:
    """``<stem>.pending.xml``, ``<stem>.pending.json``, ``<stem>.signed.xml`` beside the unsigned file."""
    return tuple(unsigned.with_name(f"{unsigned.stem}.{suffix}") for suffix in ("pending.xml", "pending.json",
                                                                               "signed.xml"))


def _load(template_path: Path, meta_path: Path) -> tuple[Pending, str | None]:
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    cert = x509.load_pem_x509_certificate(meta["certificate"].encode())
    return Pending(template_path.read_bytes(), base64.b64decode(meta["signed_info"]), cert), meta.get("tran_id")


def _save_meta(meta_path: Path, pending: Pending, tran_id: str | None) -> None:
    meta = {"signed_info": base64.b64encode(pending.signed_info).decode(), "tran_id": tran_id,
            "certificate": pending.certificate.public_bytes(Encoding.PEM).decode()}
    write_atomic(meta_path, json.dumps(meta, indent=1).encode())


def sign_or_wait(signer: RemoteSigner, unsigned: Path, document: bytes, description: str = "") -> Outcome:
    template_path, meta_path, signed_path = paths(unsigned)
    if signed_path.exists():
        return Outcome(SIGNED, signed_path.read_bytes())
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
    try:
        if status.state == CONFIRMED:
            data = pending.complete(status.signature)  # a value that does not fit is never written
            write_atomic(signed_path, data)
            return Outcome(SIGNED, data, tran_id)
        return Outcome(status.state, tran_id=tran_id, message=status.message)
    finally:  # answered, one way or the other: the next call starts afresh
        template_path.unlink(missing_ok=True)
        meta_path.unlink(missing_ok=True)
