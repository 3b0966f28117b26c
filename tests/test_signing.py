"""Signing CHUKYDONVI with the one core (P12 here), and verification that names what is wrong.

Every signed file is also checked by xmlsec1, an independent XML-DSig implementation."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os

import pytest
from lxml import etree
from signxml import XMLVerifier
from typer.testing import CliRunner

from xml130.cli import app
from xml130.signing import DS, P12Signer, SigningError, core, verify
from xml130.validate import validate_bytes

from .pki import HOSPITAL_SUBJECT, ThrowawayPKI, xmlsec1_verify

NOW = dt.datetime.now(dt.UTC)


def _codes(result) -> list[str]:
    return [p.code for p in result.problems]


@pytest.fixture(scope="module")
def signed_referral(signer, fixtures_dir):
    return signer.sign((fixtures_dir / "valid" / "referral.xml").read_bytes())


@pytest.mark.parametrize("name", ["referral.xml", "checkin.xml"])
def test_signed_file_verifies_with_independent_verifiers(pki, signer, fixtures_dir, tmp_path, name):
    signed = signer.sign((fixtures_dir / "valid" / name).read_bytes())
    assert signed.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    root = b"GIAMDINHHS" if name == "referral.xml" else b"CHI_TIEU_TRANG_THAI_KCB"
    assert signed.rstrip().endswith(b"</ds:Signature></CHUKYDONVI>\n</" + root + b">")
    r = xmlsec1_verify(signed, pki.ca_pem, tmp_path)
    assert r.returncode == 0 and "OK" in r.stdout + r.stderr, r.stderr
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.ca_pem)
    assert XMLVerifier().verify(signed, x509_cert=signer.certificate).signed_xml is not None
    result = verify(signed, ca_pem=pki.ca_pem)
    assert (result.valid, result.code, result.exit_code, result.subject) == (True, "SIG.VALID", 0, HOSPITAL_SUBJECT)
    assert validate_bytes(signed) == []  # still valid against the XSDs and the rules


def test_keyinfo_holds_the_portal_subject_name_and_the_certificate(signer, signed_referral):
    data = etree.fromstring(signed_referral).find(f"CHUKYDONVI/{{{DS}}}Signature/{{{DS}}}KeyInfo/{{{DS}}}X509Data")
    assert [etree.QName(e).localname for e in data] == ["X509SubjectName", "X509Certificate"]
    assert data[0].text == "C=VN,ST=Hồ Chí Minh,L=Quận 1,CN=BỆNH VIỆN VÍ DỤ,UID=MST:0301234567"
    der = signer.certificate.public_bytes(core.Encoding.DER)
    assert base64.b64decode(data[1].text) == der


def test_any_changed_byte_is_content_changed(pki, signer, fixtures_dir, tmp_path):
    signed = signer.sign((fixtures_dir / "valid" / "outpatient_drugs_labs.xml").read_bytes())
    body_end = signed.index(b"<CHUKYDONVI>")
    text_positions = [p for p in range(40, body_end) if chr(signed[p]).isalnum()
                      and signed.rindex(b">", 0, p) > signed.rfind(b"<", 0, p)]  # inside element text
    for pos in text_positions[::max(1, len(text_positions) // 25)]:
        tampered = signed[:pos] + bytes([signed[pos] ^ 0x01]) + signed[pos + 1:]
        assert _codes(verify(tampered, ca_pem=pki.ca_pem)) == ["SIG.DIGEST"], pos
    reindented = signed.replace(b"<THONGTINHOSO>", b"<THONGTINHOSO>\n  ")
    result = verify(reindented)
    assert (result.code, result.exit_code) == ("SIG.DIGEST", 12)  # re-formatting is a change (the portal's 125)
    assert result.reason == "nội dung đã bị sửa sau khi ký (giá trị băm không khớp)"
    assert xmlsec1_verify(reindented, pki.ca_pem, tmp_path).returncode != 0


def test_wrong_signature_value(pki, signed_referral, tmp_path):
    start = signed_referral.index(b"<ds:SignatureValue>") + len(b"<ds:SignatureValue>") + 10
    flipped = b"B" if signed_referral[start:start + 1] != b"B" else b"C"
    tampered = signed_referral[:start] + flipped + signed_referral[start + 1:]
    result = verify(tampered, ca_pem=pki.ca_pem)
    assert (_codes(result), result.exit_code) == (["SIG.VALUE"], 13)
    assert xmlsec1_verify(tampered, pki.ca_pem, tmp_path).returncode != 0


def test_certificate_dates_are_their_own_problems(pki, signer, signed_referral):
    after = signer.certificate.not_valid_after_utc + dt.timedelta(days=1)
    before = signer.certificate.not_valid_before_utc - dt.timedelta(days=1)
    expired = verify(signed_referral, ca_pem=pki.ca_pem, at=after)
    assert (_codes(expired), expired.exit_code) == (["CERT.EXPIRED"], 14)
    early = verify(signed_referral, ca_pem=pki.ca_pem, at=before)
    assert (_codes(early), early.exit_code) == (["CERT.NOT_YET_VALID"], 15)


def test_untrusted_certificate(signed_referral):
    result = verify(signed_referral, ca_pem=ThrowawayPKI().ca_pem)
    assert (_codes(result), result.exit_code) == (["CERT.UNTRUSTED"], 16)
    assert result.reason.startswith("chứng thư số không do CA tin cậy cấp: không tìm thấy CA cấp cho C=VN,CN=xml130")


@pytest.mark.parametrize("usage", [None, "encipherment"])
def test_certificate_unfit_for_signing(pki, fixtures_dir, tmp_path, monkeypatch, usage):
    key, cert = pki.key_and_certificate(usage=usage)
    doc = (fixtures_dir / "valid" / "referral.xml").read_bytes()
    with pytest.raises(SigningError, match="KeyUsage"):
        P12Signer(key, cert, []).sign(doc)  # refused before signing
    monkeypatch.setattr(core, "check_signing_certificate", lambda cert, at=None: None)  # as another tool would
    signed = P12Signer(key, cert, []).sign(doc)
    result = verify(signed, ca_pem=pki.ca_pem)
    assert (_codes(result), result.exit_code) == (["CERT.KEY_USAGE"], 17)  # not blamed on the content
    assert xmlsec1_verify(signed, pki.ca_pem, tmp_path).returncode == 0  # the signature itself is sound


def test_unsigned_and_not_xml(fixtures_dir):
    plain = verify((fixtures_dir / "valid" / "referral.xml").read_bytes())
    assert (plain.code, plain.exit_code, plain.reason) == ("SIG.UNSIGNED", 10, "chưa ký số: CHUKYDONVI không có chữ ký")
    assert verify(b"<a").code == "SIG.NOT_XML"


def test_expired_or_future_certificates_are_refused(pki, tmp_path, fixtures_dir):
    doc = (fixtures_dir / "valid" / "referral.xml").read_bytes()
    for start, end, words in ((-40, -1, "đã hết hạn"), (2, 30, "chưa có hiệu lực")):
        path = tmp_path / f"k{start}.p12"
        path.write_bytes(pki.p12(start_days=start, end_days=end))
        with pytest.raises(SigningError, match=words):
            P12Signer.from_file(path, "secret").sign(doc)
    path = tmp_path / "ok.p12"
    path.write_bytes(pki.p12())
    with pytest.raises(SigningError, match="wrong password"):
        P12Signer.from_file(path, "nope")


def test_sign_and_verify_commands(pki, tmp_path, fixtures_dir, monkeypatch):
    runner = CliRunner()
    key = tmp_path / "bv.p12"
    key.write_bytes(pki.p12())
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.ca_pem)
    out = tmp_path / "signed.xml"
    referral = str(fixtures_dir / "valid" / "referral.xml")
    monkeypatch.setenv("XML130_P12_PASSWORD", "secret")
    r = runner.invoke(app, ["sign", referral, "--p12", str(key), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "secret" not in r.output
    r = runner.invoke(app, ["verify", str(out), "--ca", str(ca), "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.output)["code"] == "SIG.VALID"
    out.write_bytes(out.read_bytes().replace(b"<MACSKCB>79999", b"<MACSKCB>79998"))
    r = runner.invoke(app, ["verify", str(out), "--ca", str(ca), "--format", "json"])
    answer = json.loads(r.output)
    assert r.exit_code == 12 and answer["problems"] == [
        {"code": "SIG.DIGEST", "message": "nội dung đã bị sửa sau khi ký (giá trị băm không khớp)"}]
    r = runner.invoke(app, ["verify", str(out), "--ca", str(ca)])
    assert r.exit_code == 12 and "KHÔNG HỢP LỆ [SIG.DIGEST]" in r.output
    out.unlink()
    monkeypatch.setenv("XML130_P12_PASSWORD", "wrong")
    r = runner.invoke(app, ["sign", referral, "--p12", str(key), "--out", str(out)])
    assert r.exit_code == 2 and "wrong password" in r.output and not out.exists()
    r = runner.invoke(app, ["sign", referral, "--out", str(out)])
    assert r.exit_code == 2 and "chọn đúng một cách ký" in r.output and not out.exists()


def test_secret_blocks_keep_numeric_passwords_as_text(monkeypatch):
    """Prefect's ``Secret.get()`` turns "246810" into an int (and the flow then lost the password): blocks are
    read as stored text."""
    from prefect.blocks.system import Secret

    from pipelines.submit import _secret

    monkeypatch.setattr(Secret, "load", classmethod(lambda cls, name, **kw: Secret(value={"a": "246810",
                                                                                       "b": "012345"}[name])))
    for block, want in (("a", "246810"), ("b", "012345")):
        monkeypatch.delenv("XML130_TEST_SECRET", raising=False)
        _secret(block, "XML130_TEST_SECRET")
        assert os.environ["XML130_TEST_SECRET"] == want
    monkeypatch.setenv("XML130_TEST_SECRET", "from-env")
    _secret("a", "XML130_TEST_SECRET")
    assert os.environ["XML130_TEST_SECRET"] == "from-env"  # the environment wins
