"""A local stand-in for a remote-signing service (``xml130 signer-sim``), speaking what :mod:`.remote` speaks.

It holds one signer's key and certificate (from a PKCS#12 file or given), checks the client id, secret and user,
answers a signing request with a transaction id and then, per ``mode``:

- ``confirm``: the signer confirms after ``delay`` seconds — the status carries the signature of the hash;
- ``refuse``: the signer refuses after ``delay`` seconds (code 1);
- ``never``: the signer never answers — the transaction stays waiting, or expires (code 62002) after
  ``expire_after`` seconds when that is set.

Each transaction keeps the mode the simulator had when it was asked (``transactions[id].mode`` can be changed:
the signer answers later). ``requests`` counts the signing requests received (tests check nothing is asked twice).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding

from .localserver import serve

MODES = ("confirm", "refuse", "never")


@dataclass
class Transaction:
    digest: bytes
    created: float
    mode: str  # the simulator's mode when it was asked; tests may change one transaction's answer


@dataclass
class SignerSim:
    key: object
    certificate: object
    client_id: str = "xml130"
    secret: str = "bi-mat-thu"
    user_id: str = "bv79999"
    mode: str = "confirm"
    delay: float = 0.0
    expire_after: float | None = None
    script: list[str] = field(default_factory=list)  # modes of the next requests, in order, before ``mode``
    transactions: dict[str, Transaction] = field(default_factory=dict)
    requests: int = 0

    def __post_init__(self):
        if self.mode not in MODES or not set(self.script) <= set(MODES):
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server, url = serve(self._handle, host, port)
        return url

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.rfile.read(int(h.headers.get("Content-Length") or 0)) or b"{}")
        status, answer = self.route(h.path.strip("/"), body)
        data = json.dumps(answer, ensure_ascii=False).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def route(self, path: str, body: dict) -> tuple[int, dict]:
        if (body.get("sp_id"), body.get("sp_password")) != (self.client_id, self.secret):
            return 401, {"code": 401, "message": "Unauthorized"}
        if body.get("user_id") != self.user_id:
            return 200, {"code": 60000, "message": "Credential not exist"}
        if path == "v1/credentials/get_certificate":
            der = self.certificate.public_bytes(Encoding.DER)
            return 200, {"code": 0, "message": "Success",
                         "content": {"user_certificates": [{"cert_data": base64.b64encode(der).decode()}]}}
        if path == "v1/signatures/sign":
            return self._request(body)
        parts = path.split("/")
        if len(parts) == 5 and parts[:3] == ["v1", "signatures", "sign"] and parts[4] == "status":
            return self._status(parts[3])
        return 404, {"code": 404, "message": "Not found"}

    def _request(self, body: dict) -> tuple[int, dict]:
        try:
            digest = bytes.fromhex(body["sign_files"][0]["data_to_be_signed"])
        except (KeyError, IndexError, TypeError, ValueError):
            return 200, {"code": 62010, "message": "Signature data request invalid format"}
        if len(digest) != 32:
            return 200, {"code": 62010, "message": "Signature data request invalid format"}
        tran_id = uuid.uuid4().hex
        with self._lock:
            self.requests += 1
            self.transactions[tran_id] = Transaction(digest, time.monotonic(),
                                                    self.script.pop(0) if self.script else self.mode)
        return 200, {"code": 0, "message": "Success", "content": {"tran_id": tran_id}}

    def _status(self, tran_id: str) -> tuple[int, dict]:
        with self._lock:
            tx = self.transactions.get(tran_id)
        if tx is None:
            return 200, {"code": 62000, "message": "Signature transaction not found"}
        age = time.monotonic() - tx.created
        if tx.mode == "never" or age < self.delay:
            if self.expire_after is not None and age >= self.expire_after:
                return 200, {"code": 62002, "message": "Signature transaction expired"}
            return 200, {"code": 0, "message": "Waiting for user confirmation",
                         "content": {"tran_id": tran_id, "signatures": []}}
        if tx.mode == "refuse":
            return 200, {"code": 1, "message": "User rejected"}
        value = self.key.sign(tx.digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        return 200, {"code": 0, "message": "Success", "content": {
            "tran_id": tran_id, "signatures": [{"doc_id": tran_id, "signature_value": base64.b64encode(value).decode()}]}}
