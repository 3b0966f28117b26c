"""A throwaway SoftHSM2 token for the PKCS#11 tests: its own token directory, keys generated on the token (never
extractable), certificates from the test CA stored beside them. Fails, never skips, when SoftHSM2 is missing:
.ci/run installs it (Debian package softhsm2)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from .pki import ThrowawayPKI

TOKEN, PIN, SO_PIN = "xml130-bv", "246810", "13579135"
MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")


@dataclass
class SoftToken:
    module: str
    token: str
    pin: str
    imported_key: rsa.RSAPrivateKey  # the same key as a P12 file, to compare signers byte for byte
    imported_cert: object


def make_token(folder: Path, pki: ThrowawayPKI) -> SoftToken:
    util = shutil.which("softhsm2-util")
    module = next((m for m in MODULES if Path(m).exists()), None)
    assert util and module, "SoftHSM2 is missing: apt-get install -y softhsm2 (.ci/run does it)"
    (folder / "tokens").mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read when the module is initialised, once per process
    subprocess.run([util, "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN],
                   check=True, capture_output=True, timeout=60)

    from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
    from pkcs11.util.rsa import decode_rsa_private_key

    from xml130.signing.token import _module

    never_leaves = {Attribute.EXTRACTABLE: False, Attribute.SENSITIVE: True, Attribute.SIGN: True,
                    Attribute.TOKEN: True, Attribute.PRIVATE: True}

    def store_cert(session, label: str, key_id: bytes, cert) -> None:
        session.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.TOKEN: True,
                               Attribute.CERTIFICATE_TYPE: CertificateType.X_509, Attribute.LABEL: label,
                               Attribute.ID: key_id, Attribute.SUBJECT: cert.subject.public_bytes(),
                               Attribute.VALUE: cert.public_bytes(Encoding.DER)})

    imported_key, imported_cert = pki.key_and_certificate()
    with _module(module).get_token(token_label=TOKEN).open(user_pin=PIN, rw=True) as session:
        for label, key_id, kw in (("bv-ky-so", b"\x01", {}), ("bv-het-han", b"\x02", {"start_days": -40, "end_days": -1}),
                                  ("bv-ma-hoa", b"\x03", {"usage": "encipherment"})):
            pub, _ = session.generate_keypair(KeyType.RSA, 2048, label=label, id=key_id, store=True,
                                              private_template=never_leaves)
            numbers = rsa.RSAPublicNumbers(int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big"),
                                           int.from_bytes(pub[Attribute.MODULUS], "big"))
            store_cert(session, label, key_id, pki.certificate(numbers.public_key(), **kw))
        der = imported_key.private_bytes(Encoding.DER, PrivateFormat.TraditionalOpenSSL, NoEncryption())
        attrs = decode_rsa_private_key(der)
        attrs.update(never_leaves)
        attrs.update({Attribute.LABEL: "bv-nhap", Attribute.ID: b"\x04"})
        session.create_object(attrs)
        store_cert(session, "bv-nhap", b"\x04", imported_cert)
    return SoftToken(module, TOKEN, PIN, imported_key, imported_cert)
