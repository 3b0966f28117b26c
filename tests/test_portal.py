"""Submission to the local portal: end to end from the demo export, faults, receipts, never twice."""

from __future__ import annotations

import time

import pytest

from xml130 import pipeline
from xml130.his.demo import create_demo
from xml130.ledger import Ledger
from xml130.portal.client import PortalClient, PortalConfig, PortalError
from xml130.portal.sim import PortalSim


@pytest.fixture()
def portal(pki, monkeypatch):
    sim = PortalSim(ca_pem=pki.ca_pem)
    url = sim.start()
    monkeypatch.setenv("XML130_PORTAL_PASSWORD", sim.password)
    yield sim, url
    sim.stop()


def client_for(url: str, **kw) -> PortalClient:
    return PortalClient(PortalConfig(base_url=url, username="bv79999", backoff=0.01, **kw))


@pytest.fixture()
def staged(tmp_path):
    his = f"sqlite:///{tmp_path / 'his.db'}"
    create_demo(his, 40)
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    night = pipeline.nightly(his, outbox, ledger)
    check = pipeline.checkin(his, outbox, ledger)
    return outbox, ledger, night.counts["staged"], check.counts["staged"]


def test_end_to_end_from_the_demo_export(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    dry = pipeline.submit(outbox, ledger, None, None, dry_run=True)
    assert dry.counts["would_send"] == hoso + checkins and sim.requests == 0
    assert [i["kind"] for i in dry.items][:checkins] == ["checkin"] * checkins  # check-ins go first
    client = client_for(url)
    report = pipeline.submit(outbox, ledger, client, signer)
    assert dict(report.counts) == {"accepted": hoso + checkins}
    assert len(sim.received) == hoso + checkins
    subs = Ledger(ledger).submissions()
    assert len(subs) == hoso + checkins and all(s["ma_giao_dich"] and s["thoi_gian_tiep_nhan"] for s in subs)
    by_id = {r.request_id: r.data for r in sim.received}
    assert all(by_id[s["request_id"]] == s["sent_bytes"] for s in subs)  # the ledger keeps the exact bytes sent
    statuses = {r["status"] for r in Ledger(ledger).versions()}
    assert statuses <= {"accepted", "quarantined"}
    before = sim.requests
    again = pipeline.submit(outbox, ledger, client, signer)
    assert dict(again.counts) == {} and sim.requests == before  # nothing is sent twice


def test_token_refresh_5xx_retries_and_dropped_connection(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    client = client_for(url)
    client.token()
    sim.expire_tokens()  # the next request gets 401: the client takes a new token once and goes on
    sim.faults.fail_5xx = 2  # then two 503: retried with backoff
    sim.faults.drop = 1  # then one answer lost after the portal recorded the file
    report = pipeline.submit(outbox, ledger, client, signer)
    assert dict(report.counts) == {"accepted": hoso + checkins}
    assert len(sim.received) == hoso + checkins  # the dropped request was retried with its id: recorded once
    assert len({r.request_id for r in sim.received}) == len(sim.received)


def test_unsigned_or_changed_files_are_rejected_without_retry(portal, staged):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    client = client_for(url)
    report = pipeline.submit(outbox, ledger, client, None)  # no signer: the portal answers 123
    assert report.counts["rejected"] == hoso + checkins and report.quarantined_by_code == {"123": hoso + checkins}
    assert sim.requests == 1 + hoso + checkins  # one token, one request per file: data errors are not retried
    assert sim.received == []
    assert pipeline.submit(outbox, ledger, client, None).counts == {}  # rejected versions are not sent again


def test_slow_portal_times_out_then_the_same_bytes_go_again(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    sim.faults.slow = 0.6
    client = client_for(url, timeout=0.2, retries=1)
    first = pipeline.submit(outbox, ledger, client, signer)
    assert first.counts["unanswered"] == hoso + checkins
    sim.faults.slow = 0.0
    second = pipeline.submit(outbox, ledger, client_for(url), signer)
    assert dict(second.counts) == {"accepted": hoso + checkins}
    assert len(sim.received) == hoso + checkins  # what the slow portal had recorded is not recorded twice
    sent = {}
    for s in Ledger(ledger).submissions():
        sent.setdefault(s["request_id"], set()).add(s["sent_bytes"])
    assert all(len(v) == 1 for v in sent.values())  # a retry sends exactly the same signed bytes


def test_rate_limit_and_bad_password(portal, monkeypatch):
    sim, url = portal
    client = client_for(url, min_interval=0.05)
    client.token()
    t = time.monotonic()
    for i in range(5):  # five requests: at least four full intervals between them
        client.send_hoso(b"<x/>", f"r{i}")
    assert time.monotonic() - t >= 4 * 0.05
    monkeypatch.setenv("XML130_PORTAL_PASSWORD", "wrong")
    with pytest.raises(PortalError, match="token refused"):
        client_for(url).token()
