"""The submit flow with a remote signer: a version the signer has not confirmed is ``awaiting_signature``, nothing
of it is sent, the others go on; the next runs look again (never asking twice), survive a crash while waiting,
and send it once when the confirmation arrives."""

from __future__ import annotations

from collections import Counter

import pytest

from xml130 import jobs
from xml130.demo.signer_sim import SignerSim
from xml130.signing import verify
from xml130.signing.remote import RemoteConfig, RemoteSigner
from xml130.signing.waiting import paths
from xml130.store.ledger import Ledger

from . import test_portal
from .pki import xmlsec1_verify
from .test_portal import client_for, due

portal, staged = test_portal.portal, test_portal.staged  # the portal's fixtures, shared

SECRET = "bi-mat-thu"


@pytest.fixture
def remote(pki, monkeypatch):
    monkeypatch.setenv("XML130_REMOTE_SECRET", SECRET)
    sims = []

    def start(script):
        sim = SignerSim(*pki.key_and_certificate(), secret=SECRET, script=list(script))
        url = sim.start()
        sims.append(sim)
        return sim, lambda: RemoteSigner(RemoteConfig(base_url=url, client_id="xml130", user_id="bv79999"))

    yield start
    for sim in sims:
        sim.stop()


def test_never_confirmed_version_waits_the_others_are_sent_and_it_goes_once_confirmed(
        portal, staged, remote, pki, tmp_path, monkeypatch):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    signer_sim, new_signer = remote(["confirm"] * checkins + ["never"])  # the first hồ sơ is never confirmed
    client = client_for(url)
    first = jobs.submit(outbox, ledger, client, new_signer())
    assert (first.counts["accepted"], first.counts["awaiting_signature"]) == (hoso + checkins - 1, 1)
    waiting = {k for k, v in due(ledger).items()}
    assert len(waiting) == 1 and set(due(ledger).values()) == {"awaiting_signature"}
    key = next(iter(waiting))
    ma_lk, version = key.split(":")
    assert all(not r.request_id.endswith(f"{ma_lk}:{version}") for r in sim.received)  # nothing of it was sent
    assert len(sim.received) == hoso + checkins - 1 and signer_sim.requests == hoso + checkins
    row = next(r for r in Ledger(ledger).pending_hoso() if r["ma_lk"] == ma_lk)
    assert all(p.exists() for p in paths(outbox / row["path"]))  # the prepared document and its transaction

    again = jobs.submit(outbox, ledger, client, new_signer())  # a later run: looks, asks nothing, sends nothing
    assert dict(again.counts) == {"awaiting_signature": 1, "ledger_rows": again.counts["ledger_rows"]}
    assert signer_sim.requests == hoso + checkins and len(sim.received) == hoso + checkins - 1

    crashing = new_signer()

    def killed(tran_id):
        raise KeyboardInterrupt  # the run dies while looking at the transaction

    monkeypatch.setattr(crashing, "status", killed)
    with pytest.raises(KeyboardInterrupt):
        jobs.submit(outbox, ledger, client, crashing)
    assert set(due(ledger).values()) == {"awaiting_signature"} and signer_sim.requests == hoso + checkins

    for tx in signer_sim.transactions.values():
        tx.mode = "confirm"  # the signer confirms on the phone between runs
    done = jobs.submit(outbox, ledger, client, new_signer())
    assert done.counts["accepted"] == 1 and due(ledger) == {}
    assert signer_sim.requests == hoso + checkins  # confirmed from the first request, never asked twice
    sent = Counter(r.request_id for r in sim.received)
    assert len(sent) == hoso + checkins and set(sent.values()) == {1}  # every file sent exactly once
    data = next(r.data for r in sim.received if r.request_id.endswith(f"{ma_lk}:{version}"))
    assert verify(data, ca_pem=pki.ca_pem).valid and xmlsec1_verify(data, pki.ca_pem, tmp_path).returncode == 0
    assert not any(p.exists() for p in paths(outbox / row["path"]))
    last = jobs.submit(outbox, ledger, client, new_signer())
    assert set(last.counts) == {"ledger_rows"} and len(sim.received) == hoso + checkins


def test_a_refused_signature_is_staged_again_and_asked_afresh(portal, staged, remote):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    signer_sim, new_signer = remote(["refuse"])  # the first file (a check-in) is refused, the rest confirmed
    first = jobs.submit(outbox, ledger, client_for(url), new_signer())
    assert (first.counts["signature_refused"], first.counts["accepted"]) == (1, hoso + checkins - 1)
    assert [r["status"] for r in Ledger(ledger).pending_checkins()] == ["staged"]
    assert due(ledger) == {} and len(sim.received) == hoso + checkins - 1
    refused = [q for q in first.quarantine if q.get("outcome") == "signature_refused"]
    assert len(refused) == 1 and "refused (User rejected), sẽ hỏi lại" in refused[0]["reason"]
    second = jobs.submit(outbox, ledger, client_for(url), new_signer())
    assert second.counts["accepted"] == 1 and signer_sim.requests == hoso + checkins + 1
    assert len(sim.received) == hoso + checkins


def test_submit_command_and_flow_sign_with_a_remote_signer(portal, staged, remote, tmp_path, monkeypatch):
    """`xml130 submit --remote …` and the `submit` flow's remote parameters choose the same signer as `sign`:
    the first run leaves the unconfirmed hồ sơ awaiting its signature (exit 1: still due), the next sends it."""
    from typer.testing import CliRunner

    from pipelines.submit import send
    from xml130.cli import app

    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    signer_sim, new_signer = remote(["confirm"] * checkins + ["never"])
    signer_url = new_signer().config.base_url
    args = ["submit", "--outbox", str(outbox), "--ledger", ledger, "--portal", url, "--user", "bv79999",
            "--remote", signer_url, "--client-id", "xml130", "--remote-user", "bv79999"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 1, first.output
    assert set(due(ledger).values()) == {"awaiting_signature"} and len(sim.received) == hoso + checkins - 1
    for tx in signer_sim.transactions.values():
        tx.mode = "confirm"
    settings = {"remote": signer_url, "client_id": "xml130", "remote_user": "bv79999"}
    report = send.fn(str(outbox), ledger, url, "bv79999", settings, False, False)
    assert report["counts"]["accepted"] == 1 and due(ledger) == {}
    sent = Counter(r.request_id for r in sim.received)
    assert len(sent) == hoso + checkins and set(sent.values()) == {1}

    both = CliRunner().invoke(app, args + ["--p12", str(tmp_path / "x.p12")])  # two signers: refused, exit 2
    assert both.exit_code == 2 and "chọn đúng một cách ký" in both.output
