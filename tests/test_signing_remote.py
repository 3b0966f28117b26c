"""Remote signing with asynchronous confirmation, against the local simulator in each of its modes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from xml130.cli import app
from xml130.demo.signer_sim import SignerSim
from xml130.signing import P12Signer, SigningError, prepare, verify
from xml130.signing.remote import CONFIRMED, EXPIRED, REFUSED, WAITING, NotConfirmed, RemoteConfig, RemoteSigner

from .pki import HOSPITAL_SUBJECT, xmlsec1_verify

SECRET = "bi-mat-thu"


@pytest.fixture(scope="module")
def held(pki):
    return pki.key_and_certificate()


@pytest.fixture
def sim(held, monkeypatch):
    monkeypatch.setenv("XML130_REMOTE_SECRET", SECRET)
    started = []

    def start(mode="confirm", **kw):
        s = SignerSim(*held, secret=SECRET, mode=mode, **kw)
        url = s.start()
        started.append(s)
        return s, RemoteConfig(base_url=url, client_id="xml130", user_id="bv79999", poll_interval=0.05, wait=2.0)

    yield start
    for s in started:
        s.stop()


def test_confirmed_request_signs_a_file_both_verifiers_accept(pki, sim, fixtures_dir, tmp_path):
    s, config = sim("confirm", delay=0.2)
    signer = RemoteSigner(config)
    assert signer.certificate == s.certificate
    signed = signer.sign((fixtures_dir / "valid" / "referral.xml").read_bytes())
    result = verify(signed, ca_pem=pki.ca_pem)
    assert (result.valid, result.subject) == (True, HOSPITAL_SUBJECT)
    assert xmlsec1_verify(signed, pki.ca_pem, tmp_path).returncode == 0
    assert s.requests == 1  # one request, polled until confirmed
    # the same key in a P12 file gives the same bytes: one core for every signer
    assert signed == P12Signer(s.key, s.certificate, []).sign((fixtures_dir / "valid" / "referral.xml").read_bytes())


def test_the_service_sees_only_the_hash(sim, fixtures_dir):
    s, config = sim("never")
    signer = RemoteSigner(config)
    pending = prepare((fixtures_dir / "valid" / "checkin.xml").read_bytes(), signer.certificate)
    tran = signer.request(pending)
    assert s.transactions[tran].digest == pending.digest and len(pending.digest) == 32


def test_asynchronous_request_then_confirmation(pki, sim, fixtures_dir, tmp_path):
    s, config = sim("confirm", delay=0.3)
    signer = RemoteSigner(config)
    pending = prepare((fixtures_dir / "valid" / "checkin.xml").read_bytes(), signer.certificate)
    tran = signer.request(pending)
    assert signer.status(tran).state == WAITING  # request() and status() never wait
    time.sleep(0.35)
    answer = signer.status(tran)
    assert answer.state == CONFIRMED
    signed = pending.complete(answer.signature)
    assert verify(signed, ca_pem=pki.ca_pem).valid
    assert xmlsec1_verify(signed, pki.ca_pem, tmp_path).returncode == 0


def test_refused_request_writes_nothing(sim, fixtures_dir, tmp_path):
    s, config = sim("refuse", delay=0.1)
    signer = RemoteSigner(config)
    pending = prepare((fixtures_dir / "valid" / "referral.xml").read_bytes(), signer.certificate)
    tran = signer.request(pending)
    time.sleep(0.15)
    assert signer.status(tran).state == REFUSED
    out = tmp_path / "signed.xml"
    r = CliRunner().invoke(app, ["sign", str(fixtures_dir / "valid" / "referral.xml"), "--remote", config.base_url,
                                 "--client-id", "xml130", "--remote-user", "bv79999", "--out", str(out)])
    assert r.exit_code == 2 and "người ký đã từ chối yêu cầu ký" in r.output and not out.exists()


def test_never_answered_request_times_out_or_expires(sim, fixtures_dir):
    doc = (fixtures_dir / "valid" / "referral.xml").read_bytes()
    s, config = sim("never")
    config.wait = 0.3
    with pytest.raises(NotConfirmed, match="chưa được xác nhận sau 0.3 giây"):
        RemoteSigner(config).sign(doc)
    s2, config2 = sim("never", expire_after=0.1)
    signer = RemoteSigner(config2)
    tran = signer.request(prepare(doc, signer.certificate))
    time.sleep(0.15)
    assert signer.status(tran).state == EXPIRED
    with pytest.raises(SigningError, match="đã hết hạn mà chưa được xác nhận"):
        signer.sign(doc)


def test_wrong_credentials_and_a_signature_that_does_not_match(pki, sim, fixtures_dir, monkeypatch):
    s, config = sim("confirm")
    monkeypatch.setenv("XML130_REMOTE_SECRET", "sai")
    with pytest.raises(SigningError, match="từ chối thông tin đăng nhập"):
        RemoteSigner(config)
    monkeypatch.setenv("XML130_REMOTE_SECRET", SECRET)
    signer = RemoteSigner(config)
    s.key = pki.key_and_certificate()[0]  # the service signs with another key than the certificate's
    with pytest.raises(SigningError, match="không khớp chứng thư số"):
        signer.sign((fixtures_dir / "valid" / "referral.xml").read_bytes())
    assert s.requests == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_signer_sim_command_and_sign_remote_command(pki, held, fixtures_dir, tmp_path):
    key = tmp_path / "bv.p12"
    key.write_bytes(pki.p12(key=held[0], cert=held[1]))
    port = _free_port()
    env = {**os.environ, "XML130_P12_PASSWORD": "secret", "XML130_REMOTE_SECRET": SECRET}
    proc = subprocess.Popen([sys.executable, "-m", "xml130.cli", "signer-sim", "--p12", str(key), "--port", str(port),
                             "--mode", "confirm", "--delay", "0.2"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert "remote-signing simulator at" in proc.stdout.readline()
        out = tmp_path / "signed.xml"
        r = subprocess.run([sys.executable, "-m", "xml130.cli", "sign", str(fixtures_dir / "valid" / "referral.xml"),
                            "--remote", f"http://127.0.0.1:{port}/", "--client-id", "xml130", "--remote-user",
                            "bv79999", "--out", str(out)], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert verify(out.read_bytes(), ca_pem=pki.ca_pem).valid
        assert xmlsec1_verify(out.read_bytes(), pki.ca_pem, tmp_path).returncode == 0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def test_waiting_across_runs_asks_once_and_survives_a_crash(pki, sim, fixtures_dir, tmp_path):
    from xml130.signing.waiting import clear, paths, sign_or_wait

    unsigned = tmp_path / "v1.xml"
    unsigned.write_bytes((fixtures_dir / "valid" / "referral.xml").read_bytes())
    template, meta = paths(unsigned)
    s, config = sim("never")
    first = sign_or_wait(RemoteSigner(config), unsigned, unsigned.read_bytes())
    assert first.state == WAITING and template.exists() and meta.exists()
    again = sign_or_wait(RemoteSigner(config), unsigned, unsigned.read_bytes())  # a later run: polls, asks nothing
    assert (again.state, again.tran_id, s.requests) == (WAITING, first.tran_id, 1)
    s.transactions[first.tran_id].mode = "confirm"  # the signer confirms on the phone while no run is going
    done = sign_or_wait(RemoteSigner(config), unsigned, unsigned.read_bytes())
    assert (done.state, done.tran_id, s.requests) == ("signed", first.tran_id, 1)
    assert verify(done.data, ca_pem=pki.ca_pem).valid
    assert xmlsec1_verify(done.data, pki.ca_pem, tmp_path).returncode == 0
    # a crash before the caller kept the bytes: the same transaction gives the same bytes, nobody is asked again
    assert sign_or_wait(RemoteSigner(config), unsigned, unsigned.read_bytes()).data == done.data
    assert s.requests == 1 and template.exists()
    clear(unsigned)  # the caller has the bytes
    assert not template.exists() and not meta.exists()


def test_crash_before_the_request_and_a_refusal_ask_again(sim, fixtures_dir, tmp_path, monkeypatch):
    from xml130.signing.waiting import paths, sign_or_wait

    unsigned = tmp_path / "v2.xml"
    unsigned.write_bytes((fixtures_dir / "valid" / "checkin.xml").read_bytes())
    template, meta = paths(unsigned)
    s, config = sim("refuse", delay=0.2)
    signer = RemoteSigner(config)

    def killed(*a, **kw):
        raise KeyboardInterrupt  # the process dies between writing the pending files and the request

    monkeypatch.setattr(signer, "request", killed)
    with pytest.raises(KeyboardInterrupt):
        sign_or_wait(signer, unsigned, unsigned.read_bytes())
    assert template.exists() and meta.exists() and s.requests == 0
    asked = sign_or_wait(RemoteSigner(config), unsigned, unsigned.read_bytes())
    assert asked.state == WAITING and s.requests == 1
    time.sleep(0.25)
    refused = sign_or_wait(RemoteSigner(config), unsigned, unsigned.read_bytes())
    assert refused.state == REFUSED and not template.exists() and not meta.exists()
    assert sign_or_wait(RemoteSigner(config), unsigned, unsigned.read_bytes()).state == WAITING
    assert s.requests == 2  # refused: the next run asks the signer again


def test_a_signer_who_confirms_at_once_is_signed_in_the_same_call(pki, sim, fixtures_dir, tmp_path):
    from xml130.signing.waiting import paths, sign_or_wait

    unsigned = tmp_path / "v3.xml"
    unsigned.write_bytes((fixtures_dir / "valid" / "referral.xml").read_bytes())
    s, config = sim("confirm")
    got = sign_or_wait(RemoteSigner(config), unsigned, unsigned.read_bytes())
    assert got.state == "signed" and verify(got.data, ca_pem=pki.ca_pem).valid and s.requests == 1
    assert [p.exists() for p in paths(unsigned)] == [True, True]  # until the caller has kept the bytes
