"""`xml130 stream`: the cycle stage → checks → sign → send, every few seconds, through the existing jobs; faults of
the portal; a visit that closes between two cycles; without a portal (signs only, says so once); a signal in the
middle of sending (the file in hand is finished, nothing half-done, the next run sends the rest)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from xml130.demo import demo_mapping, mapping_path
from xml130.demo.his import create_demo
from xml130.demo.portal_sim import Faults, PortalSim
from xml130.jobs.stream import SIGNED, stream
from xml130.portal.client import PortalClient, PortalConfig
from xml130.signing import verify
from xml130.store.ledger import Ledger
from xml130.store.lock import JobBusy
from xml130.store.tables import submission

STAGED, QUARANTINED = 27, 3  # the demo's 30 first episodes: 12 (expired card), 13 and 17 (bad data) held back
LATE = ("79999261100000020", "79999261100000021")  # closed only after the first cycle


@pytest.fixture()
def his(tmp_path):
    url = f"sqlite:///{tmp_path / 'his.db'}"
    create_demo(url, 30)
    return url


def statuses(ledger: str) -> Counter:
    return Counter(r["status"] for r in Ledger(ledger).versions())


def reopen(his: str, ma_lks, closed_at) -> None:
    engine = create_engine(his)
    with engine.begin() as conn:
        for ma_lk in ma_lks:
            conn.execute(text("UPDATE encounter SET closed_at = :c WHERE ma_lk = :m"), {"c": closed_at, "m": ma_lk})
    engine.dispose()


def test_cycles_stage_sign_and_send_each_file_once_through_faults(his, tmp_path, pki, signer, monkeypatch):
    reopen(his, LATE, None)  # still open at the first cycle
    sim = PortalSim(ca_pem=pki.ca_pem, faults=Faults(fail_5xx=2, drop=1))
    url = sim.start()
    monkeypatch.setenv("XML130_PORTAL_PASSWORD", sim.password)
    outbox, ledger, mapping = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}", demo_mapping()
    seen = []
    try:
        with PortalClient(PortalConfig(base_url=url, username="bv79999", backoff=0.01)) as client:
            def on_cycle(c):
                seen.append(c)
                if c.number == 1:  # the two visits close now, their transaction committing a little late
                    reopen(his, LATE, dt.datetime.now() - dt.timedelta(minutes=2))
            n = stream(his, outbox, ledger, mapping, every=0.1, client=client, signer=signer, on_cycle=on_cycle,
                       cycles=3)
    finally:
        sim.stop()
    assert n == 3
    first, second, third = seen
    assert first.staged == {"staged": STAGED - 2, "quarantined": QUARANTINED}
    assert first.sent == {"accepted": STAGED - 2}  # the 503s and the dropped answer retried by the client
    assert second.staged == {"staged": 2}  # closed before the watermark, read again within the lookback (1 day)
    assert third.staged == {"unchanged": 2} and third.sent == {}  # nothing left to send
    assert statuses(ledger) == {"accepted": STAGED, "quarantined": QUARANTINED}
    hoso = [r for r in sim.received if r.path.endswith("guiHoSoXmlQD3176")]
    per_file = Counter(r.request_id for r in hoso)
    assert len(per_file) == STAGED and set(per_file.values()) == {1}  # each version received exactly once
    assert {f"79999:{m}:v1" for m in LATE} <= set(per_file)
    with Ledger(ledger).engine.connect() as conn:
        outcomes = Counter(r.outcome for r in conn.execute(select(submission.c.outcome)))
    assert outcomes == {"accepted": STAGED}
    assert sim.fault_counts == {("api/token/take", "fail_5xx"): 2, ("api/qd130/guiHoSoXmlQD3176", "drop"): 1}
    assert sim.requests == 3 + STAGED + 1  # two 503s, the token, each file once and the dropped one again


def xml130(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "xml130.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_line(proc: subprocess.Popen, start: str, timeout: float = 90) -> list[str]:
    lines, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stdout.readline()
        assert line, f"exited {proc.poll()}: {lines}\n{proc.stderr.read()}"
        lines.append(line.rstrip("\n"))
        if line.startswith(start):
            return lines
    pytest.fail(f"no line starting with {start!r}: {lines}")


def child_env(**extra: str) -> dict:
    root = Path(__file__).resolve().parents[1]
    return {**os.environ, "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}", **extra}


def test_without_a_portal_it_signs_only_and_says_so_once(his, tmp_path, pki):
    (tmp_path / "bv.p12").write_bytes(pki.p12())
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    proc = xml130("stream", "--source", his, "--ledger", ledger, "--outbox", str(outbox), "--every", "1",
                  "--mapping", str(mapping_path()),
                  "--p12", str(tmp_path / "bv.p12"), env=child_env(XML130_P12_PASSWORD="secret"))
    lines = wait_for_line(proc, "cycle 1;")
    time.sleep(2.5)  # two more cycles, which have nothing to do
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    said = [line for line in lines + rest.splitlines() if "No portal configured" in line]
    assert said == ["Không có cổng giám định (--portal): stream chỉ tạo và ký hồ sơ, không gửi. No portal "
                    "configured: the stream stages and signs only and sends nothing."]
    assert lines[-1] == (f"cycle 1; {lines[-1].split('; ')[1]}; stage: quarantined {QUARANTINED}, staged {STAGED}; "
                         f"signed {STAGED} into {SIGNED}/")
    assert "interrupted by SIGTERM" in err and "Traceback" not in err
    signed = sorted((outbox / SIGNED).rglob("v*.xml"))
    assert len(signed) == STAGED and all(verify(p.read_bytes(), ca_pem=pki.ca_pem).valid for p in signed)
    assert statuses(ledger) == {"staged": STAGED, "quarantined": QUARANTINED}  # nothing sent: still due
    assert not list(outbox.rglob("*.tmp*"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_sending_finishes_the_file_in_hand_and_the_next_run_sends_the_rest(his, tmp_path, pki,
                                                                                           sig):
    (tmp_path / "bv.p12").write_bytes(pki.p12())
    sim = PortalSim(ca_pem=pki.ca_pem, faults=Faults(slow=0.4))
    url = sim.start()
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    env = child_env(XML130_P12_PASSWORD="secret", XML130_PORTAL_PASSWORD=sim.password)
    args = ["stream", "--source", his, "--ledger", ledger, "--outbox", str(outbox), "--every", "1",
            "--mapping", str(mapping_path()), "--portal", url,
            "--user", "bv79999", "--p12", str(tmp_path / "bv.p12")]
    try:
        proc = xml130(*args, env=env)
        deadline = time.monotonic() + 90
        while len(sim.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[sig], err
        assert f"interrupted by {sig.name}" in err and "Traceback" not in err
        with Ledger(ledger).engine.connect() as conn:
            outcomes = Counter(r.outcome for r in conn.execute(select(submission.c.outcome)))
        assert set(outcomes) == {"accepted"}  # the file in hand was finished: none left "sending"
        sent_first = len(sim.received)
        assert 3 <= sent_first < STAGED  # stopped early
        counts = statuses(ledger)
        assert counts["submitted"] == 0 and counts["quarantined"] == QUARANTINED
        sim.faults.slow = 0
        proc = xml130(*args, env=env)
        wait_for_line(proc, "cycle 1;")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        sim.stop()
    assert statuses(ledger) == {"accepted": STAGED, "quarantined": QUARANTINED}
    assert len({r.request_id for r in sim.received}) == len(sim.received)  # nothing received twice


def test_the_stream_line_of_operations_runs_as_written(his, tmp_path, pki):
    """docs/operations.md's `xml130 stream` by hand, run by bash as written with the site's variables: its first cycle
    sends everything due to the portal (portal-sim), then one SIGTERM stops it while it waits for the next."""
    from .e2e import BIN, doc_steps

    (tmp_path / "bv.p12").write_bytes(pki.p12())
    sim = PortalSim(ca_pem=pki.ca_pem)
    url = sim.start()
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = child_env(PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", XML130_SOURCE=his, XML130_LEDGER=ledger,
                    XML130_OUTBOX=str(tmp_path / "outbox"), XML130_MAPPING=str(mapping_path()),
                    XML130_PORTAL_URL=url, XML130_PORTAL_USER="bv79999", XML130_P12_PATH=str(tmp_path / "bv.p12"),
                    XML130_P12_PASSWORD="secret", XML130_PORTAL_PASSWORD=sim.password)
    line = "\n".join(doc_steps("stream-by-hand"))  # one command continued by a backslash
    try:
        proc = subprocess.Popen(["bash", "-c", f"exec {line}"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        lines = wait_for_line(proc, "cycle 1;")
        proc.send_signal(signal.SIGTERM)  # waiting out --every 60
        _, err = proc.communicate(timeout=60)
    finally:
        sim.stop()
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert lines[-1].endswith(f"stage: quarantined {QUARANTINED}, staged {STAGED}; send: accepted {STAGED}"), lines
    assert statuses(ledger) == {"accepted": STAGED, "quarantined": QUARANTINED}


def test_a_failed_cycle_is_reported_and_the_next_one_goes_on(his, tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import xml130.jobs.stream as js

    real, calls = js.nightly, []

    def flaky(*args, **kw):  # the ledger locked by a nightly run for the first two cycles
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("UPDATE flow_state", {}, Exception("database is locked"))
        return real(*args, **kw)

    monkeypatch.setattr(js, "nightly", flaky)
    outbox, ledger, errors, seen = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}", [], []
    n = stream(his, outbox, ledger, demo_mapping(), every=0.01, cycles=3, on_cycle=seen.append,
               on_error=lambda k, exc: errors.append((k, type(exc).__name__)))
    assert n == 3 and errors == [(1, "OperationalError"), (2, "OperationalError")]
    assert [c.number for c in seen] == [3] and seen[0].staged == {"staged": STAGED, "quarantined": QUARANTINED}

    busy = []

    def locked(*args, **kw):  # the nightly holds the ledger for six cycles: never a failure
        busy.append(1)
        if len(busy) <= 6:
            raise JobBusy("hoso: nightly_export-… is running")
        return real(*args, **kw)

    monkeypatch.setattr(js, "nightly", locked)
    errors.clear()
    assert stream(his, outbox, ledger, demo_mapping(), every=0.01, cycles=7, max_failures=5,
                  on_error=lambda k, exc: errors.append((k, type(exc).__name__))) == 7
    assert errors == [(k, "JobBusy") for k in range(1, 7)]

    def broken(*args, **kw):
        raise OperationalError("SELECT", {}, Exception("no such table: encounter"))

    monkeypatch.setattr(js, "nightly", broken)
    errors.clear()
    with pytest.raises(OperationalError):  # five failures in a row: the stream stops with the error
        stream(his, outbox, ledger, demo_mapping(), every=0.01, max_failures=5,
               on_error=lambda k, exc: errors.append(k))
    assert errors == [1, 2, 3, 4]
