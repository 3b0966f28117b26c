"""Signing with a USB token through PKCS#11 (python-pkcs11): the private key never leaves the device.

The token is found by its label, the key by its label; the certificate is read from the token (the object with
the key's CKA_ID, else the key's label). The PIN comes from ``XML130_PKCS11_PIN`` or the Prefect Secret block
``xml130-pkcs11-pin``, never from a parameter or a log. The token computes ``CKM_SHA256_RSA_PKCS`` over the
canonical SignedInfo that :func:`.core.prepare` built; nothing else is asked of it.

A wrong PIN, a missing module, token or key, or an unusable certificate raise :class:`SigningError` with a clear
message before anything is written.
"""

from __future__ import annotations

import contextlib
import functools
import threading

import pkcs11
from cryptography import x509
from pkcs11 import Attribute, Mechanism, ObjectClass
from pkcs11 import exceptions as p11

from .core import CoreSigner, Pending, SigningError, check_signing_certificate, secret_value

PIN_ENV = "XML130_PKCS11_PIN"
PIN_BLOCK = "xml130-pkcs11-pin"


@functools.cache
def _module(path: str):
    """A PKCS#11 module is loaded (and C_Initialize'd) once per process."""
    try:
        return pkcs11.lib(path)
    except p11.PKCS11Error as exc:
        raise SigningError(f"không nạp được thư viện PKCS#11 {path}: {exc}") from None


class Pkcs11Signer(CoreSigner):
    """Each use logs in, works and logs out (a token keeps one login state per process: sessions are serialised
    by a lock), so a wrong PIN is found at once and no session outlives its use."""

    _lock = threading.Lock()

    def __init__(self, module: str, token: str, key: str, pin: str | None = None):
        self._pin = pin or secret_value(PIN_ENV, PIN_BLOCK)
        if not self._pin:
            raise SigningError(f"thiếu PIN của token: đặt {PIN_ENV} hoặc Prefect Secret '{PIN_BLOCK}'")
        self._token, self._label = token, key
        lib = _module(str(module))
        try:
            self._device = lib.get_token(token_label=token)
        except p11.NoSuchToken:
            raise SigningError(f"không thấy token '{token}' (USB token chưa cắm hoặc nhãn sai)") from None
        except p11.MultipleTokensReturned:
            raise SigningError(f"nhiều token cùng nhãn '{token}'") from None
        with self._session() as session:
            self.certificate = self._certificate(session, self._private_key(session))
        check_signing_certificate(self.certificate)
        self.chain: list[x509.Certificate] = []

    @contextlib.contextmanager
    def _session(self):
        with self._lock:
            try:
                session = self._device.open(user_pin=self._pin)
            except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange):
                raise SigningError(f"sai PIN của token '{self._token}'") from None
            except p11.PinLocked:
                raise SigningError(f"PIN của token '{self._token}' đã bị khóa") from None
            except p11.TokenNotPresent:
                raise SigningError(f"token '{self._token}' đã bị rút ra") from None
            try:
                yield session
            finally:
                session.close()

    def _private_key(self, session):
        try:
            return session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=self._label)
        except p11.NoSuchKey:
            raise SigningError(f"token '{self._token}' không có khóa riêng nhãn '{self._label}'") from None
        except p11.MultipleObjectsReturned:
            raise SigningError(f"token '{self._token}' có nhiều khóa nhãn '{self._label}'") from None

    def _certificate(self, session, key) -> x509.Certificate:
        for attrs in ({Attribute.ID: key[Attribute.ID]}, {Attribute.LABEL: self._label}):
            for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, **attrs}):
                return x509.load_der_x509_certificate(bytes(obj[Attribute.VALUE]))
        raise SigningError(f"token không có chứng thư số cho khóa '{self._label}'")

    def signature(self, pending: Pending) -> bytes:
        with self._session() as session:
            key = self._private_key(session)
            try:
                return bytes(key.sign(pending.signed_info, mechanism=Mechanism.SHA256_RSA_PKCS))
            except p11.PKCS11Error as exc:
                raise SigningError(f"token từ chối ký: {type(exc).__name__}") from None
