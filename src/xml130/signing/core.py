"""The one signing core behind every signer (PKCS#12 file, PKCS#11 token, remote-signing service).

An enveloped XML-DSig, RSA-SHA256 with SHA-256 digests (signxml), ``Reference URI=""`` over the whole document,
the ``Signature`` element inside ``CHUKYDONVI`` — the last child of the root for an envelope, after
``DSACH_TRANG_THAI_KCB`` for a check-in document — as the portal accepted in practice. KeyInfo carries
``X509SubjectName`` in the portal's form (``C=VN,ST=…,L=…,CN=…,UID=MST:…``: the subject's attributes in the
order the certificate holds them) and the ``X509Certificate`` of the signer (then any chain certificates).

The structure is built once, by :func:`prepare`, with a placeholder signature value; a signer only computes the
RSA PKCS#1 v1.5 signature of the canonical SignedInfo (a token on the device, a remote service from its SHA-256
hash) and :meth:`Pending.complete` puts it in. So the bytes of the three signers differ only in the signature
value — with the same key they are identical. The signed bytes are shipped exactly as produced: any later
re-formatting breaks the signature (the portal's code 125).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import XMLSigner, methods

from ..errors import Xml130Error

DS = "http://www.w3.org/2000/09/xmldsig#"
SLOT = "CHUKYDONVI"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'  # the declaration our unsigned files carry


class SigningError(Xml130Error, ValueError):
    """Signing is impossible (certificate unusable, wrong PIN or password, token or key missing, signer refused)."""


class Signer(Protocol):
    """Anything that signs a document: :class:`P12Signer`, ``Pkcs11Signer``, ``RemoteSigner``."""

    certificate: x509.Certificate

    def sign(self, document: bytes) -> bytes: ...


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def secret_value(env: str, block: str) -> str | None:
    """The environment variable, else the Prefect Secret block of that name as stored text (``Secret.get()``
    would turn "246810" into an int), else None."""
    if os.environ.get(env):
        return os.environ[env]
    from prefect.blocks.system import Secret

    try:
        raw = Secret.load(block).value.get_secret_value()
    except ValueError:  # no such block: the environment must provide it
        return None
    return str(raw) if raw is not None else None


def check_validity(cert: x509.Certificate, at: dt.datetime | None = None) -> None:
    at = at or utc_now()
    if at < cert.not_valid_before_utc:
        raise SigningError(f"chứng thư số chưa có hiệu lực (từ {cert.not_valid_before_utc:%d/%m/%Y %H:%M} UTC)")
    if at > cert.not_valid_after_utc:
        raise SigningError(f"chứng thư số đã hết hạn ({cert.not_valid_after_utc:%d/%m/%Y %H:%M} UTC)")


def usage_problem(cert: x509.Certificate) -> str | None:
    """Why the certificate may not sign documents, or None: it needs KeyUsage with digitalSignature or
    nonRepudiation (Vietnamese CAs' signing certificates carry both); a certificate without the extension is
    refused too, since nothing then says its holder meant it for signing."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "chứng thư số không có KeyUsage (digitalSignature/nonRepudiation): không dùng để ký được"
    if not (usage.digital_signature or usage.content_commitment):
        return "chứng thư số không cho phép ký (KeyUsage thiếu digitalSignature và nonRepudiation)"
    return None


def check_signing_certificate(cert: x509.Certificate, at: dt.datetime | None = None) -> None:
    """Refuse before signing what a verifier would refuse after: outside its validity, or not for signing."""
    check_validity(cert, at)
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise SigningError("chứng thư số không phải khóa RSA (chữ ký RSA-SHA256)")
    problem = usage_problem(cert)
    if problem:
        raise SigningError(problem)


def portal_subject(name: x509.Name) -> str:
    """``C=VN,ST=…,L=…,CN=…,UID=MST:…``: each attribute in the certificate's own order (RFC 4514 escaping of
    values, but not its reversed order), as the portal's accepted files write X509SubjectName."""
    return ",".join(rdn.rfc4514_string() for rdn in name.rdns)


def parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _slot(root: etree._Element) -> etree._Element:
    slot = root.find(SLOT)
    if slot is None:
        raise SigningError(f"<{root.tag}> has no {SLOT} element to hold the signature")
    if len(slot):
        raise SigningError(f"{SLOT} of <{root.tag}> is not empty: the document is signed already")
    return slot


def _key_info(cert: x509.Certificate, chain: list[x509.Certificate]) -> etree._Element:
    info = etree.Element(f"{{{DS}}}KeyInfo", nsmap={"ds": DS})
    data = etree.SubElement(info, f"{{{DS}}}X509Data")
    etree.SubElement(data, f"{{{DS}}}X509SubjectName").text = portal_subject(cert.subject)
    for c in (cert, *chain):
        der = c.public_bytes(encoding=Encoding.DER)
        etree.SubElement(data, f"{{{DS}}}X509Certificate").text = base64.b64encode(der).decode()
    return info


class _Recorder:
    """Stands in for the private key while signxml builds the structure: keeps the canonical SignedInfo it is
    asked to sign and answers with a placeholder of the signature's length."""

    def __init__(self, key_size: int):
        self.key_size = key_size
        self.signed_info: bytes | None = None

    def sign(self, data: bytes, padding=None, algorithm=None) -> bytes:  # noqa: A002 - signxml's keyword names
        self.signed_info = data
        return b"\0" * ((self.key_size + 7) // 8)


@dataclass(frozen=True)
class Pending:
    """A document with its signature built except the value: what a signer must sign, and how to finish."""

    template: bytes
    signed_info: bytes
    certificate: x509.Certificate

    @property
    def digest(self) -> bytes:
        """SHA-256 of the canonical SignedInfo: what a hash-signing service signs."""
        return hashlib.sha256(self.signed_info).digest()

    def complete(self, signature: bytes) -> bytes:
        """The signed document: the placeholder replaced by ``signature``, after checking it against the
        certificate (a wrong key or a service's wrong answer never reaches a file)."""
        try:
            self.certificate.public_key().verify(signature, self.signed_info, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise SigningError("chữ ký trả về không khớp chứng thư số (khóa khác với chứng thư?)") from None
        placeholder = _value_element(b"\0" * len(signature))
        if self.template.count(placeholder) != 1:
            raise SigningError(f"chữ ký dài {len(signature)} byte không khớp chỗ dành cho nó trong tài liệu")
        return self.template.replace(placeholder, _value_element(signature))


def _value_element(signature: bytes) -> bytes:
    return b"<ds:SignatureValue>" + base64.b64encode(signature) + b"</ds:SignatureValue>"


def prepare(document: bytes, certificate: x509.Certificate, chain: list[x509.Certificate] | tuple = (),
            at: dt.datetime | None = None) -> Pending:
    """Build the whole signature of ``document`` for ``certificate`` except its value."""
    check_signing_certificate(certificate, at)
    try:
        root = etree.fromstring(document, parser())
    except etree.XMLSyntaxError as exc:
        raise SigningError(f"not XML: {exc}") from None
    slot = _slot(root)
    etree.SubElement(slot, f"{{{DS}}}Signature", Id="placeholder", nsmap={"ds": DS})  # signxml fills it
    recorder = _Recorder(certificate.public_key().key_size)
    signer = XMLSigner(method=methods.enveloped, signature_algorithm="rsa-sha256", digest_algorithm="sha256",
                       c14n_algorithm=EXC_C14N)
    signed = signer.sign(root, key=recorder, key_info=_key_info(certificate, list(chain)))
    template = DECLARATION + etree.tostring(signed, encoding="utf-8", xml_declaration=False)
    if recorder.signed_info is None:
        raise SigningError("signxml did not ask for the signature value (no SignedInfo to sign)")
    return Pending(template, recorder.signed_info, certificate)


class CoreSigner:
    """Base of the signers: :meth:`sign` prepares once, asks :meth:`signature` for the RSA value of the pending
    SignedInfo, completes."""

    certificate: x509.Certificate
    chain: list[x509.Certificate]

    def signature(self, pending: Pending) -> bytes:  # pragma: no cover - each signer has its own
        raise NotImplementedError

    def sign(self, document: bytes) -> bytes:
        pending = prepare(document, self.certificate, self.chain)
        return pending.complete(self.signature(pending))
