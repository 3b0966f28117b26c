"""Signing CHUKYDONVI: signed files verify independently; any changed byte breaks them; bad certificates refused."""

from __future__ import annotations

import pytest
from signxml import XMLVerifier
from typer.testing import CliRunner

from xml130.cli import app
from xml130.signing import P12Signer, SigningError, verify
from xml130.validate import validate_bytes

from .pki import ThrowawayPKI


@pytest.mark.parametrize("name", ["referral.xml", "checkin.xml"])
def test_signed_file_verifies_with_an_independent_verifier(pki, signer, fixtures_dir, tmp_path, name):
    signed = signer.sign((fixtures_dir / "valid" / name).read_bytes())
    assert signed.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    assert signed.rstrip().endswith(b"</ds:Signature></CHUKYDONVI>\n</GIAMDINHHS>") or name == "checkin.xml"
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.ca_pem)
    result = XMLVerifier().verify(signed, ca_pem_file=str(ca))  # signxml alone, with the test CA
    assert result.signed_xml is not None
    assert verify(signed, ca_pem=pki.ca_pem).valid
    assert validate_bytes(signed) == []  # still valid against the XSDs and the rules


def test_any_changed_byte_breaks_the_signature(pki, signer, fixtures_dir):
    signed = signer.sign((fixtures_dir / "valid" / "outpatient_drugs_labs.xml").read_bytes())
    body_end = signed.index(b"<CHUKYDONVI>")
    for pos in range(40, body_end, max(1, body_end // 25)):
        if signed[pos:pos + 1] in b"<>/\n":
            continue
        tampered = signed[:pos] + bytes([signed[pos] ^ 0x01]) + signed[pos + 1:]
        assert not verify(tampered, ca_pem=pki.ca_pem).valid, pos
    reindented = signed.replace(b"<THONGTINHOSO>", b"<THONGTINHOSO>\n  ")
    assert not verify(reindented).valid  # re-formatting counts as a change (the portal's code 125)


def test_unsigned_and_foreign_certificates(pki, signer, fixtures_dir):
    plain = (fixtures_dir / "valid" / "referral.xml").read_bytes()
    assert verify(plain).reason.startswith("chưa ký số")
    other = ThrowawayPKI()
    assert not verify(signer.sign(plain), ca_pem=other.ca_pem).valid


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
    monkeypatch.setenv("XML130_P12_PASSWORD", "secret")
    r = runner.invoke(app, ["sign", str(fixtures_dir / "valid" / "referral.xml"), "--p12", str(key), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "secret" not in r.output
    assert runner.invoke(app, ["verify", str(out), "--ca", str(ca)]).exit_code == 0
    out.write_bytes(out.read_bytes().replace(b"<MACSKCB>79999", b"<MACSKCB>79998"))
    r = runner.invoke(app, ["verify", str(out), "--ca", str(ca)])
    assert r.exit_code == 1 and "không khớp" in r.output
    monkeypatch.setenv("XML130_P12_PASSWORD", "wrong")
    r = runner.invoke(app, ["sign", str(fixtures_dir / "valid" / "referral.xml"), "--p12", str(key), "--out", str(out)])
    assert r.exit_code == 2 and "wrong password" in r.output
