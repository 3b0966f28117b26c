"""Signing with the key and certificate of a PKCS#12 file (password from ``XML130_P12_PASSWORD`` or a Prefect
Secret block, never from code or logs)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import pkcs12

from .core import CoreSigner, Pending, SigningError

PASSWORD_ENV = "XML130_P12_PASSWORD"


@dataclass
class P12Signer(CoreSigner):
    key: object
    certificate: x509.Certificate
    chain: list[x509.Certificate]

    @classmethod
    def from_file(cls, path: str | Path, password: str | bytes | None = None) -> P12Signer:
        if password is None:
            password = os.environ.get(PASSWORD_ENV)
        data = Path(path).read_bytes()
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(
                data, password.encode() if isinstance(password, str) else password)
        except ValueError:
            if password is None:
                raise SigningError(f"cannot open {Path(path).name}: no password given ({PASSWORD_ENV} is not set) "
                                   "or not a PKCS#12 file") from None
            raise SigningError(f"cannot open {Path(path).name}: wrong password or not a PKCS#12 file") from None
        if key is None or cert is None:
            raise SigningError(f"{Path(path).name} holds no private key and certificate")
        return cls(key, cert, list(extra or []))

    def signature(self, pending: Pending) -> bytes:
        return self.key.sign(pending.signed_info, padding.PKCS1v15(), hashes.SHA256())
