"""Signing (CHUKYDONVI) and verification of GIAMDINHHS envelopes and check-in documents.

An enveloped XML-DSig, RSA-SHA256 with SHA-256 digests (signxml), ``Reference URI=""`` over the whole document,
the ``Signature`` element inside ``CHUKYDONVI`` — the last child of the root for an envelope, after
``DSACH_TRANG_THAI_KCB`` for a check-in document — as the portal accepted in practice. The signed bytes are
shipped exactly as produced: any later re-formatting breaks the signature (the portal's code 125).

Hospitals sign with a PKCS#12 file (:class:`P12Signer`), a USB token or a remote-signing service: anything with a
``sign(document: bytes) -> bytes`` method and a ``certificate`` fits the :class:`Signer` protocol (a token
through PKCS#11, or a service such as SmartCA that returns the signature value, wraps its own call there). The
PKCS#12 password comes from the environment (``XML130_P12_PASSWORD``) or a Prefect Secret block, never from
code or logs.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from signxml import SignatureConfiguration, XMLSigner, XMLVerifier, methods
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature

DS = "http://www.w3.org/2000/09/xmldsig#"
SLOT = "CHUKYDONVI"
PASSWORD_ENV = "XML130_P12_PASSWORD"


class SigningError(ValueError):
    """Signing is impossible (certificate expired or not yet valid, wrong password, unknown document)."""


class Signer(Protocol):
    certificate: x509.Certificate

    def sign(self, document: bytes) -> bytes: ...


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_validity(cert: x509.Certificate, at: dt.datetime | None = None) -> None:
    at = at or _utc_now()
    if at < cert.not_valid_before_utc:
        raise SigningError(f"chứng thư số chưa có hiệu lực (từ {cert.not_valid_before_utc:%d/%m/%Y %H:%M} UTC)")
    if at > cert.not_valid_after_utc:
        raise SigningError(f"chứng thư số đã hết hạn ({cert.not_valid_after_utc:%d/%m/%Y %H:%M} UTC)")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _slot(root: etree._Element) -> etree._Element:
    slot = root.find(SLOT)
    if slot is None:
        raise SigningError(f"<{root.tag}> has no {SLOT} element to hold the signature")
    if len(slot):
        raise SigningError(f"{SLOT} of <{root.tag}> is not empty: the document is signed already")
    return slot


@dataclass
class P12Signer:
    """Signs with the key and certificate of a PKCS#12 file."""

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
            raise SigningError(f"cannot open {Path(path).name}: wrong password or not a PKCS#12 file") from None
        if key is None or cert is None:
            raise SigningError(f"{Path(path).name} holds no private key and certificate")
        return cls(key, cert, list(extra or []))

    def sign(self, document: bytes) -> bytes:
        check_validity(self.certificate)
        root = etree.fromstring(document, _parser())
        slot = _slot(root)
        etree.SubElement(slot, f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS})  # signxml fills it
        signer = XMLSigner(method=methods.enveloped, signature_algorithm="rsa-sha256", digest_algorithm="sha256",
                           c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
        signed = signer.sign(root, key=self.key, cert=[self.certificate, *self.chain])
        # the same declaration our unsigned files carry (double quotes), then the signed tree as serialised once
        return b'<?xml version="1.0" encoding="utf-8"?>\n' + etree.tostring(signed, encoding="utf-8",
                                                                            xml_declaration=False)


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: str
    subject: str | None = None


def verify(document: bytes, *, ca_pem: bytes | None = None, at: dt.datetime | None = None) -> Verification:
    """Check the signature in CHUKYDONVI and the signer's certificate (against ``ca_pem`` when given)."""
    try:
        root = etree.fromstring(document, _parser())
    except etree.XMLSyntaxError as exc:
        return Verification(False, f"not XML: {exc}")
    slot = root.find(SLOT)
    if slot is None or slot.find(f"{{{DS}}}Signature") is None:
        return Verification(False, "chưa ký số: CHUKYDONVI không có chữ ký")  # the portal's code 123
    cert_text = slot.findtext(f".//{{{DS}}}X509Certificate")
    if not cert_text:
        return Verification(False, "chữ ký không kèm chứng thư số")
    cert = x509.load_der_x509_certificate(base64.b64decode("".join(cert_text.split())))
    try:
        check_validity(cert, at)
    except SigningError as exc:
        return Verification(False, str(exc), cert.subject.rfc4514_string())
    config = SignatureConfiguration(require_x509=True, location="./" + SLOT + "/", expect_references=1)
    try:
        if ca_pem is not None:
            with tempfile.NamedTemporaryFile(suffix=".pem") as fh:  # signxml reads the CA bundle from a file
                fh.write(ca_pem)
                fh.flush()
                XMLVerifier().verify(document, expect_config=config, ca_pem_file=fh.name)
        else:
            XMLVerifier().verify(document, x509_cert=cert, expect_config=config)
    except (InvalidSignature, InvalidDigest, InvalidInput, InvalidCertificate) as exc:
        return Verification(False, f"chữ ký không khớp (tệp đã bị sửa sau khi ký?): {exc}",
                            cert.subject.rfc4514_string())
    return Verification(True, "hợp lệ", cert.subject.rfc4514_string())
