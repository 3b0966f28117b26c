"""Signing with a PKCS#11 token (SoftHSM2, a throwaway token made by the tests): the key never leaves it; every
failure is a clear error and nothing is written; every signed file passes xmlsec1."""

from __future__ import annotations

import pytest
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11
from typer.testing import CliRunner

from xml130.cli import app
from xml130.signing import P12Signer, SigningError, verify
from xml130.signing.token import PIN_ENV, Pkcs11Signer, _module

from .pki import HOSPITAL_SUBJECT, xmlsec1_verify
from .softhsm import make_token


@pytest.fixture(scope="session")
def soft(pki, tmp_path_factory):
    return make_token(tmp_path_factory.mktemp("softhsm"), pki)


@pytest.mark.parametrize("name", ["outpatient_drugs_labs.xml", "checkin.xml"])
def test_token_signs_envelope_and_checkin(pki, soft, fixtures_dir, tmp_path, name):
    signer = Pkcs11Signer(soft.module, soft.token, "bv-ky-so", soft.pin)
    signed = signer.sign((fixtures_dir / "valid" / name).read_bytes())
    result = verify(signed, ca_pem=pki.ca_pem)
    assert (result.valid, result.subject) == (True, HOSPITAL_SUBJECT)
    r = xmlsec1_verify(signed, pki.ca_pem, tmp_path)
    assert r.returncode == 0, r.stderr


def test_the_private_key_never_leaves_the_token(soft):
    with _module(soft.module).get_token(token_label=soft.token).open(user_pin=soft.pin) as session:
        for label in ("bv-ky-so", "bv-nhap"):
            key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
            assert (key[Attribute.EXTRACTABLE], key[Attribute.SENSITIVE]) == (False, True)
            with pytest.raises(p11.AttributeSensitive):
                key[Attribute.PRIVATE_EXPONENT]


def test_same_key_same_bytes_whichever_signer(soft, fixtures_dir):
    """One core: a P12 file and a token holding the same key and certificate give identical files."""
    doc = (fixtures_dir / "valid" / "referral.xml").read_bytes()
    by_token = Pkcs11Signer(soft.module, soft.token, "bv-nhap", soft.pin).sign(doc)
    assert by_token == P12Signer(soft.imported_key, soft.imported_cert, []).sign(doc)


@pytest.mark.parametrize(("token", "key", "pin", "message"), [
    ("xml130-bv", "bv-ky-so", "000000", "sai PIN của token 'xml130-bv'"),
    ("khong-co", "bv-ky-so", None, "không thấy token 'khong-co' (USB token chưa cắm hoặc nhãn sai)"),
    ("xml130-bv", "khong-co", None, "token 'xml130-bv' không có khóa riêng nhãn 'khong-co'"),
    ("xml130-bv", "bv-het-han", None, "chứng thư số đã hết hạn"),
    ("xml130-bv", "bv-ma-hoa", None, "chứng thư số không cho phép ký"),
])
def test_token_failures_are_clear_and_write_nothing(soft, fixtures_dir, tmp_path, monkeypatch, token, key, pin,
                                                    message):
    monkeypatch.setenv(PIN_ENV, pin or soft.pin)
    out = tmp_path / "signed.xml"
    r = CliRunner().invoke(app, ["sign", str(fixtures_dir / "valid" / "referral.xml"), "--pkcs11-module",
                                 soft.module, "--token", token, "--key", key, "--out", str(out)])
    assert r.exit_code == 2 and message in r.output, r.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert soft.pin not in r.output


def test_sign_command_with_the_token_and_pin_sources(pki, soft, fixtures_dir, tmp_path, monkeypatch):
    out = tmp_path / "signed.xml"
    args = ["sign", str(fixtures_dir / "valid" / "checkin.xml"), "--pkcs11-module", soft.module, "--token",
            soft.token, "--key", "bv-ky-so", "--out", str(out)]
    monkeypatch.delenv(PIN_ENV, raising=False)
    monkeypatch.setattr("xml130.signing.token.secret_value", lambda env, block: None)  # no env, no Secret block
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "thiếu PIN của token: đặt XML130_PKCS11_PIN" in r.output and not out.exists()
    monkeypatch.undo()
    monkeypatch.setenv(PIN_ENV, soft.pin)
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert verify(out.read_bytes(), ca_pem=pki.ca_pem).valid
    assert xmlsec1_verify(out.read_bytes(), pki.ca_pem, tmp_path).returncode == 0


def test_pin_from_a_prefect_secret_block(soft, monkeypatch):
    """Without the environment variable the PIN is the Prefect Secret block ``xml130-pkcs11-pin``."""
    from prefect.blocks.system import Secret

    asked = []

    def load(name, *a, **kw):
        asked.append(name)
        return Secret(value=soft.pin)

    monkeypatch.delenv(PIN_ENV, raising=False)
    monkeypatch.setattr(Secret, "load", load)
    signer = Pkcs11Signer(soft.module, soft.token, "bv-ky-so")
    assert asked == ["xml130-pkcs11-pin"] and signer.certificate.not_valid_after_utc


def test_missing_module_is_a_clear_error(tmp_path):
    with pytest.raises(SigningError, match="không nạp được thư viện PKCS#11"):
        Pkcs11Signer(str(tmp_path / "libkhongco.so"), "t", "k", "1234")
