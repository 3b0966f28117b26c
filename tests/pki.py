"""A throwaway CA and signing certificates, made at test time (never a real one), and the independent verifier.

Subjects follow the shape of Vietnamese CAs' organisation certificates: C, ST, L, CN, then UID ``MST:<tax code>``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

HOSPITAL = [(NameOID.COUNTRY_NAME, "VN"), (NameOID.STATE_OR_PROVINCE_NAME, "Hồ Chí Minh"),
            (NameOID.LOCALITY_NAME, "Quận 1"), (NameOID.COMMON_NAME, "BỆNH VIỆN VÍ DỤ"),
            (NameOID.USER_ID, "MST:0301234567")]
HOSPITAL_SUBJECT = "C=VN,ST=Hồ Chí Minh,L=Quận 1,CN=BỆNH VIỆN VÍ DỤ,UID=MST:0301234567"
SIGNING = "signing"  # digitalSignature + nonRepudiation, as CAs issue for document signing


def _name(cn: str, attrs=None) -> x509.Name:
    attrs = attrs or [(NameOID.COUNTRY_NAME, "VN"), (NameOID.COMMON_NAME, cn)]
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs])


def _usage(kind: str) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=kind in (SIGNING, "ca"), content_commitment=kind == SIGNING,
                         key_encipherment=kind == "encipherment", data_encipherment=False, key_agreement=False,
                         key_cert_sign=kind == "ca", crl_sign=kind == "ca", encipher_only=False, decipher_only=False)


class ThrowawayPKI:
    def __init__(self):
        now = dt.datetime.now(dt.UTC)
        self.ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ca = (x509.CertificateBuilder().subject_name(_name("xml130 test CA")).issuer_name(_name("xml130 test CA"))
                   .public_key(self.ca_key.public_key()).serial_number(1)
                   .not_valid_before(now - dt.timedelta(days=2)).not_valid_after(now + dt.timedelta(days=60))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(_usage("ca"), critical=True).sign(self.ca_key, hashes.SHA256()))

    @property
    def ca_pem(self) -> bytes:
        return self.ca.public_bytes(serialization.Encoding.PEM)

    def certificate(self, public_key, *, start_days: int = -1, end_days: int = 30, usage: str | None = SIGNING,
                    cn: str | None = None) -> x509.Certificate:
        """A certificate for ``public_key``; ``usage`` None leaves the KeyUsage extension out."""
        now = dt.datetime.now(dt.UTC)
        builder = (x509.CertificateBuilder().subject_name(_name(cn) if cn else _name("", HOSPITAL))
                   .issuer_name(self.ca.subject).public_key(public_key).serial_number(x509.random_serial_number())
                   .not_valid_before(now + dt.timedelta(days=start_days))
                   .not_valid_after(now + dt.timedelta(days=end_days)))
        if usage is not None:
            builder = builder.add_extension(_usage(usage), critical=True)
        return builder.sign(self.ca_key, hashes.SHA256())

    def key_and_certificate(self, **kw) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key, self.certificate(key.public_key(), **kw)

    def p12(self, password: bytes = b"secret", *, key=None, cert=None, **kw) -> bytes:
        if key is None:
            key, cert = self.key_and_certificate(**kw)
        return pkcs12.serialize_key_and_certificates(b"bv", key, cert, None,
                                                     serialization.BestAvailableEncryption(password))


def xmlsec1_verify(signed: bytes, ca_pem: bytes, folder: Path) -> subprocess.CompletedProcess:
    """``xmlsec1 --verify`` (an independent XML-DSig implementation) of ``signed`` against the CA. Fails, never
    skips, when xmlsec1 is missing: .ci/run installs it (Debian package xmlsec1)."""
    exe = shutil.which("xmlsec1")
    assert exe, "xmlsec1 is missing: apt-get install -y xmlsec1 (.ci/run does it)"
    doc, ca = folder / "xmlsec1-input.xml", folder / "xmlsec1-ca.pem"
    doc.write_bytes(signed)
    ca.write_bytes(ca_pem)
    return subprocess.run([exe, "--verify", "--trusted-pem", str(ca), str(doc)], capture_output=True, text=True,
                          timeout=60)
