"""Verification that says what is wrong, each problem with a stable code, a Vietnamese message and an exit code.

The signature is checked first with the certificate it carries (signxml, the certificate's dates ignored there),
so a changed document (``SIG.DIGEST``) and a wrong signature value (``SIG.VALUE``) are told apart from the
certificate's own problems, which are checked after and separately: its dates (``CERT.EXPIRED``,
``CERT.NOT_YET_VALID``), whether it may sign (``CERT.KEY_USAGE``) and, with ``ca_pem``, whether it chains to a
trusted CA (``CERT.UNTRUSTED``). Every problem found is listed; the first one decides the exit code.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature as BadSignature
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import InvalidDigest, InvalidInput, InvalidSignature

from .core import DS, SLOT, SigningError, check_validity, parser, portal_subject, usage_problem, utc_now

# code -> (exit code, Vietnamese message); the exit codes are part of the command line's contract
PROBLEMS: dict[str, tuple[int, str]] = {
    "SIG.NOT_XML": (2, "tệp không phải XML"),
    "SIG.UNSIGNED": (10, "chưa ký số: CHUKYDONVI không có chữ ký"),
    "SIG.MALFORMED": (11, "chữ ký không đúng cấu trúc XML-DSig hoặc không kèm chứng thư số"),
    "SIG.DIGEST": (12, "nội dung đã bị sửa sau khi ký (giá trị băm không khớp)"),
    "SIG.VALUE": (13, "giá trị chữ ký sai (không khớp SignedInfo với khóa của chứng thư số)"),
    "CERT.EXPIRED": (14, "chứng thư số đã hết hạn"),
    "CERT.NOT_YET_VALID": (15, "chứng thư số chưa có hiệu lực"),
    "CERT.UNTRUSTED": (16, "chứng thư số không do CA tin cậy cấp"),
    "CERT.KEY_USAGE": (17, "chứng thư số không dùng để ký được (KeyUsage)"),
}
VALID_MESSAGE = "hợp lệ"


@dataclass(frozen=True)
class Problem:
    code: str
    detail: str = ""

    @property
    def message(self) -> str:
        return PROBLEMS[self.code][1] + (f": {self.detail}" if self.detail else "")

    @property
    def exit_code(self) -> int:
        return PROBLEMS[self.code][0]


@dataclass(frozen=True)
class Verification:
    problems: list[Problem] = field(default_factory=list)
    subject: str | None = None

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def code(self) -> str:
        return self.problems[0].code if self.problems else "SIG.VALID"

    @property
    def reason(self) -> str:
        return "; ".join(p.message for p in self.problems) if self.problems else VALID_MESSAGE

    @property
    def exit_code(self) -> int:
        return self.problems[0].exit_code if self.problems else 0

    def as_dict(self) -> dict:
        return {"valid": self.valid, "code": self.code, "message": self.reason, "exit_code": self.exit_code,
                "subject": self.subject,
                "problems": [{"code": p.code, "message": p.message} for p in self.problems]}


class _SignatureOnly(XMLVerifier):
    """signxml's verifier minus its certificate-date check: dates are reported as their own problem here."""

    def _check_cert_validity(self, cert, source):  # signxml's hook, see signxml.verifier
        return None


def _certificates(signature: etree._Element) -> list[x509.Certificate]:
    texts = [t.text or "" for t in signature.iterfind(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")]
    return [x509.load_der_x509_certificate(base64.b64decode("".join(t.split()))) for t in texts]


def _trust_problem(cert: x509.Certificate, carried: list[x509.Certificate], ca_pem: bytes,
                   at: dt.datetime) -> str | None:
    """None when ``cert`` chains (through the certificates the signature carries) to one of ``ca_pem``'s."""
    try:
        anchors = x509.load_pem_x509_certificates(ca_pem)
    except ValueError:
        return "tệp CA không đọc được"
    current = cert
    for _ in range(8):
        for issuer in anchors + carried:
            if issuer.subject != current.issuer or issuer is current:
                continue
            try:
                current.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, BadSignature):  # not this issuer
                continue
            try:
                check_validity(issuer, at)
            except SigningError as exc:
                return f"CA {portal_subject(issuer.subject)}: {exc}"
            if issuer in anchors:
                return None
            current = issuer
            break
        else:
            return f"không tìm thấy CA cấp cho {portal_subject(current.issuer)}"
    return "chuỗi chứng thư quá dài"


def verify(document: bytes, *, ca_pem: bytes | None = None, at: dt.datetime | None = None) -> Verification:
    """Check the signature in CHUKYDONVI and the signer's certificate (against ``ca_pem`` when given)."""
    at = at or utc_now()
    try:
        root = etree.fromstring(document, parser())
    except etree.XMLSyntaxError as exc:
        return Verification([Problem("SIG.NOT_XML", str(exc))])
    slot = root.find(SLOT)
    signature = slot.find(f"{{{DS}}}Signature") if slot is not None else None
    if signature is None:
        return Verification([Problem("SIG.UNSIGNED")])  # the portal's code 123
    try:
        certs = _certificates(signature)
    except ValueError as exc:
        return Verification([Problem("SIG.MALFORMED", f"X509Certificate: {exc}")])
    if not certs:
        return Verification([Problem("SIG.MALFORMED", "không có X509Certificate")])
    cert, subject = certs[0], portal_subject(certs[0].subject)
    problems: list[Problem] = []
    config = SignatureConfiguration(require_x509=True, location="./" + SLOT + "/", expect_references=1)
    try:
        _SignatureOnly().verify(document, x509_cert=cert, expect_config=config)
    except InvalidDigest:
        problems.append(Problem("SIG.DIGEST"))  # the portal's code 125
    except InvalidInput as exc:
        problems.append(Problem("SIG.MALFORMED", str(exc)))
    except InvalidSignature:
        problems.append(Problem("SIG.VALUE"))
    if at > cert.not_valid_after_utc:
        problems.append(Problem("CERT.EXPIRED", f"{cert.not_valid_after_utc:%d/%m/%Y %H:%M} UTC"))
    if at < cert.not_valid_before_utc:
        problems.append(Problem("CERT.NOT_YET_VALID", f"từ {cert.not_valid_before_utc:%d/%m/%Y %H:%M} UTC"))
    if usage := usage_problem(cert):
        problems.append(Problem("CERT.KEY_USAGE", usage))
    if ca_pem is not None and (why := _trust_problem(cert, certs[1:], ca_pem, at)):
        problems.append(Problem("CERT.UNTRUSTED", why))
    return Verification(problems, subject)
