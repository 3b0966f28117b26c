"""Long-running commands stop cleanly on SIGINT and SIGTERM, also when started in the background by a
non-interactive shell (which starts them with SIGINT ignored): real processes, real signals."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time

import pytest

from xml130.demo import demo_mapping
from xml130.demo.his import create_demo
from xml130.portal.client import PortalClient, PortalConfig
from xml130.store.ledger import Ledger

from .test_pipeline import check_stopped_then_resumed, ledger_rows, start_big_nightly

DEMO = demo_mapping()  # the demo HIS built by these tests is read through its own mapping

EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_portal_sim_started_in_the_background_stops_on_a_signal(tmp_path, monkeypatch, sig):
    port = free_port()
    monkeypatch.setenv("XML130_PORTAL_PASSWORD", "mat-khau-thu")
    cmd = shlex.join([sys.executable, "-m", "xml130.cli", "portal-sim", "--port", str(port), "--fail-5xx", "2"])
    # `&` in a non-interactive shell: the simulator starts with SIGINT ignored, as under a service script
    script = f"{cmd} >{tmp_path}/out 2>{tmp_path}/err & echo $! >{tmp_path}/pid; wait $!; echo $? >{tmp_path}/rc"
    shell = subprocess.Popen(["bash", "-c", script])
    try:
        wait_for(lambda: listening(port), 60, "the simulator to listen")
        # its fault mode from the command line: the token call gets two 503, and the client retries them
        client = PortalClient(PortalConfig(base_url=f"http://127.0.0.1:{port}/", username="bv79999", backoff=0.01))
        assert client.token() and client.requests == 3
        client.close()
        pid = int((tmp_path / "pid").read_text())
        t = time.monotonic()
        os.kill(pid, sig)
        shell.wait(timeout=10)
        assert time.monotonic() - t < 5
    finally:
        if shell.poll() is None:
            shell.kill()
    assert int((tmp_path / "rc").read_text()) == EXIT[sig]
    err = (tmp_path / "err").read_text()
    assert "Traceback" not in err
    assert "portal simulator stopped: 0 files received; faults injected: api/token/take: fail_5xx 2" in err
    lines = [line.split(" ", 1)[1] for line in (tmp_path / "out").read_text().splitlines()[1:]]
    assert lines == ["api/token/take id=- HTTP 503 maKetQua=- fault=fail_5xx"] * 2 + [
        "api/token/take id=- HTTP 200 maKetQua=200 fault=-"]  # one line per request, as it happens
    assert f"interrupted by {sig.name}: stopped cleanly" in err
    assert not listening(port)


def test_portal_sim_lists_its_fault_modes():
    r = subprocess.run([sys.executable, "-m", "xml130.cli", "portal-sim", "--help"], capture_output=True, text=True,
                       env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0
    for option in ("--slow", "--fail-5xx", "--drop", "--token-ttl", "--token-fail-5xx", "--reject-ma-lk",
                   "--reject-every"):
        assert option in r.stdout


def test_nightly_stopped_by_sigterm_leaves_no_partial_file_and_the_next_run_completes(tmp_path):
    proc, cmd, outbox, ledger = start_big_nightly(tmp_path, stderr=subprocess.PIPE, text=True)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 143
    assert "Traceback" not in err and "interrupted by SIGTERM: stopped cleanly" in err
    assert not list(outbox.rglob(".*.tmp-*"))  # the file being written when the signal came is gone at once
    staged = {r["path"] for r in Ledger(ledger).versions() if r["status"] == "staged"}
    assert all((outbox / p).exists() for p in staged)  # every ledger row has its whole file
    rows = ledger_rows(ledger)
    assert len(rows) < 3000 and len(rows) % 100 == 0  # whole batches only: the interrupted one rolled back
    check_stopped_then_resumed(cmd, outbox, ledger)


def test_submit_stopped_by_sigterm_resends_the_same_bytes_and_accepts_each_once(tmp_path, pki, signer):
    from xml130 import jobs
    from xml130.demo.portal_sim import PortalSim
    from xml130.store.tables import flow_run

    his, outbox, ledger = f"sqlite:///{tmp_path / 'his.db'}", tmp_path / "outbox", f"sqlite:///{tmp_path / 'l.db'}"
    create_demo(his, 40)
    staged = (jobs.nightly(his, outbox, ledger, mapping=DEMO).counts["staged"]
              + jobs.checkin(his, outbox, ledger, mapping=DEMO).counts["staged"])
    sim = PortalSim(ca_pem=pki.ca_pem)
    sim.faults.slow = 0.1
    url = sim.start()
    (tmp_path / "bv.p12").write_bytes(pki.p12())
    env = {**os.environ, "XML130_PORTAL_PASSWORD": sim.password, "XML130_P12_PASSWORD": "secret"}
    proc = subprocess.Popen([sys.executable, "-m", "xml130.cli", "submit", "--outbox", str(outbox), "--ledger", ledger,
                             "--portal", url, "--user", sim.username, "--p12", str(tmp_path / "bv.p12")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(sim.received) >= 5, 120, "five files at the portal")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 143 and "Traceback" not in err, err
        assert len(sim.received) < staged, "the run was not stopped mid-way"
        with Ledger(ledger).engine.connect() as conn:
            assert conn.execute(flow_run.select().where(flow_run.c.flow == "submit")).one().status == "interrupted"
        assert "rejected" not in {r["status"] for r in Ledger(ledger).versions()}
        sim.faults.slow = 0.0
        client = PortalClient(PortalConfig(base_url=url, username=sim.username, backoff=0.01))
        os.environ["XML130_PORTAL_PASSWORD"] = sim.password
        report = jobs.submit(outbox, ledger, client, signer)
        assert report.counts["accepted"] + len(sim.received) - report.counts["accepted"] == staged
    finally:
        os.environ.pop("XML130_PORTAL_PASSWORD", None)
        sim.stop()
    per_file = {}
    for r in sim.received:
        per_file[r.request_id] = per_file.get(r.request_id, 0) + 1
    assert len(per_file) == staged and set(per_file.values()) == {1}  # each accepted exactly once
    sent: dict[str, set[bytes]] = {}
    for s in Ledger(ledger).submissions():
        sent.setdefault(s["request_id"], set()).add(s["sent_bytes"])
    assert all(len(v) == 1 for v in sent.values())  # a file cut off mid-flight went again byte for byte
