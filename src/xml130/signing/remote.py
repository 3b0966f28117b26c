"""Remote signing with asynchronous confirmation: a client for a hash-signing service.

Modelled on the public integration guides of Vietnamese remote-signing services (VNPT SmartCA and similar): the
relying party holds a client id and secret, the signer an account (``user_id``) whose certificate the service
keeps; a signing request carries the SHA-256 hash of what is signed (here the canonical SignedInfo, hex) and
returns a transaction id; the signer confirms or refuses on a phone; the relying party polls the transaction
until it is confirmed (the signature value comes back), refused (code 1 in SmartCA's published table) or expired
(62002). Paths, JSON field names and those codes are settings (:class:`RemoteConfig`), since guides differ.

The secret comes from ``XML130_REMOTE_SECRET`` or the Prefect Secret block ``xml130-remote-secret``.

Two ways to use it: :meth:`RemoteSigner.sign` waits (polling) until the signer answers or ``wait`` runs out —
for the command line; :meth:`RemoteSigner.request` and :meth:`RemoteSigner.status` never wait — for the
``submit`` flow, which keeps the pending document and the transaction id and finishes on a later run.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass

import httpx
from cryptography import x509

from .core import CoreSigner, Pending, SigningError, check_signing_certificate, secret_value

SECRET_ENV = "XML130_REMOTE_SECRET"
SECRET_BLOCK = "xml130-remote-secret"
WAITING, CONFIRMED, REFUSED, EXPIRED = "waiting", "confirmed", "refused", "expired"


class NotConfirmed(SigningError):
    """The signer has not answered within the wait (the request stays open at the service)."""


@dataclass
class RemoteConfig:
    base_url: str
    client_id: str
    user_id: str  # the hospital signer's account at the service
    certificate_path: str = "v1/credentials/get_certificate"
    sign_path: str = "v1/signatures/sign"
    status_path: str = "v1/signatures/sign/{tran_id}/status"
    ok_code: int = 0
    refused_codes: tuple[int, ...] = (1,)
    expired_codes: tuple[int, ...] = (62002,)
    timeout: float = 15.0  # one HTTP request
    poll_interval: float = 2.0  # between two status requests
    wait: float = 300.0  # how long sign() waits for the signer's confirmation

    def credentials(self) -> dict:
        secret = secret_value(SECRET_ENV, SECRET_BLOCK)
        if not secret:
            raise SigningError(f"thiếu mật khẩu dịch vụ ký từ xa: đặt {SECRET_ENV} hoặc Prefect Secret '{SECRET_BLOCK}'")
        return {"sp_id": self.client_id, "sp_password": secret, "user_id": self.user_id}


@dataclass(frozen=True)
class Status:
    state: str  # waiting, confirmed, refused, expired
    signature: bytes | None = None
    message: str = ""


class RemoteSigner(CoreSigner):
    def __init__(self, config: RemoteConfig, transport: httpx.BaseTransport | None = None):
        self.config = config
        self.http = httpx.Client(base_url=config.base_url, timeout=config.timeout, transport=transport)
        content = self._call(config.certificate_path, {})
        try:
            entry = content["user_certificates"][0]
            self.certificate = x509.load_der_x509_certificate(base64.b64decode(entry["cert_data"]))
            self.chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in entry.get("chain_data", [])]
        except (KeyError, IndexError, TypeError, ValueError):
            raise SigningError("dịch vụ ký từ xa không trả về chứng thư số của người ký") from None
        check_signing_certificate(self.certificate)

    def _call(self, path: str, body: dict) -> dict:
        try:
            r = self.http.post(path, json={**self.config.credentials(), **body})
        except httpx.HTTPError as exc:
            raise SigningError(f"không kết nối được dịch vụ ký từ xa: {type(exc).__name__}") from None
        if r.status_code in (401, 403):
            raise SigningError("dịch vụ ký từ xa từ chối thông tin đăng nhập (client id / mật khẩu)")
        try:
            answer = r.json()
        except ValueError:
            raise SigningError(f"dịch vụ ký từ xa trả lời HTTP {r.status_code} không phải JSON") from None
        code = answer.get("code")
        if r.status_code != 200 or code not in (self.config.ok_code, *self.config.refused_codes,
                                                *self.config.expired_codes):
            raise SigningError(f"dịch vụ ký từ xa báo lỗi {code}: {answer.get('message')}")
        return {"code": code, "message": answer.get("message", ""), **(answer.get("content") or {})}

    def request(self, pending: Pending, description: str = "") -> str:
        """Ask the signer to sign ``pending`` (its hash only); the transaction id to poll."""
        ours = uuid.uuid4().hex
        content = self._call(self.config.sign_path, {
            "transaction_id": ours, "transaction_desc": description or "Ký hồ sơ XML giám định BHYT",
            "sign_files": [{"data_to_be_signed": pending.digest.hex(), "doc_id": ours, "file_type": "xml",
                            "sign_type": "hash"}]})
        if content["code"] != self.config.ok_code or not content.get("tran_id"):
            raise SigningError(f"dịch vụ ký từ xa không nhận yêu cầu: {content['message']}")
        return str(content["tran_id"])

    def status(self, tran_id: str) -> Status:
        content = self._call(self.config.status_path.format(tran_id=tran_id), {})
        code, message = content["code"], content["message"]
        if code in self.config.refused_codes:
            return Status(REFUSED, message=message)
        if code in self.config.expired_codes:
            return Status(EXPIRED, message=message)
        signatures = content.get("signatures") or []
        if not signatures or not signatures[0].get("signature_value"):
            return Status(WAITING, message=message)
        return Status(CONFIRMED, base64.b64decode(signatures[0]["signature_value"]), message)

    def wait_for(self, tran_id: str) -> bytes:
        """Poll until the signer answers; the signature value, or SigningError (refused, expired, no answer)."""
        deadline = time.monotonic() + self.config.wait
        while True:
            st = self.status(tran_id)
            if st.state == CONFIRMED:
                return st.signature
            if st.state == REFUSED:
                raise SigningError(f"người ký đã từ chối yêu cầu ký {tran_id}")
            if st.state == EXPIRED:
                raise SigningError(f"yêu cầu ký {tran_id} đã hết hạn mà chưa được xác nhận")
            if time.monotonic() + self.config.poll_interval > deadline:
                raise NotConfirmed(f"yêu cầu ký {tran_id} chưa được xác nhận sau {self.config.wait:g} giây")
            time.sleep(self.config.poll_interval)

    def signature(self, pending: Pending) -> bytes:
        return self.wait_for(self.request(pending))

    def close(self) -> None:
        self.http.close()
