"""One run of a job at a time on one ledger: the lock in the ledger's database (PostgreSQL advisory lock, MariaDB
GET_LOCK, a file lock next to a SQLite ledger), with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from xml130.store.ledger import Ledger
from xml130.store.lock import JobBusy, job_lock
from xml130.store.tables import flow_run

from .test_pipeline import start_big_nightly

HOLD = """
import sys, time
from pathlib import Path
from xml130.store.lock import job_lock
url, flag = sys.argv[1], Path(sys.argv[2])
with job_lock(url, "hoso", job="the first run"):
    flag.write_text("held")
    while True:
        time.sleep(0.1)
"""


def holding(url: str, tmp_path: Path) -> subprocess.Popen:
    """A child process that takes the lock and holds it until it is killed."""
    flag = tmp_path / "held"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, url, str(flag)])
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert proc.poll() is None, "the child could not take the lock"
        assert time.monotonic() < deadline, "the child did not take the lock within 60 s"
        time.sleep(0.05)
    return proc


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_url" if request.param == "postgresql" else "mariadb_url")


def test_a_second_process_stops_and_a_killed_holder_frees_the_lock(ledger_url, tmp_path):
    proc = holding(ledger_url, tmp_path)
    try:
        with pytest.raises(JobBusy) as busy, job_lock(ledger_url, "hoso"):
            pytest.fail("the block ran while another process held the lock")
        message = str(busy.value)
        assert message.startswith(f"another run holds the ledger's 'hoso' lock (the first run (pid {proc.pid} on ")
        assert message.endswith("): this run did nothing. Run it again when that one has finished, or let it wait "
                                "(--lock-wait SECONDS)")
        with job_lock(ledger_url, "submit"):  # another job's lock is free
            pass
        waited: list[str] = []
        t0 = time.monotonic()
        with pytest.raises(JobBusy), job_lock(ledger_url, "hoso", wait=1.0, poll=0.1, on_wait=waited.append):
            pass
        assert time.monotonic() - t0 >= 1.0 and len(waited) == 1 and waited[0].startswith("the first run (pid ")
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # dies holding it: the database (or the kernel) frees it
        proc.wait()
    ran = []
    with job_lock(ledger_url, "hoso", wait=30, poll=0.1):
        ran.append(True)
    assert ran == [True]
    with Ledger(ledger_url).engine.connect() as conn:  # the holder row is gone once the run ends
        from xml130.store.tables import job_lock as table

        assert conn.execute(select(table)).all() == []


def test_two_nightly_processes_never_stage_at_once(tmp_path):
    first, cmd, outbox, ledger = start_big_nightly(tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stdout + second.stderr
        assert "another run holds the ledger's 'hoso' lock (nightly_export-" in " ".join(second.stderr.split())
        with Ledger(ledger).engine.connect() as conn:  # the second did nothing, not even start a run
            assert len(conn.execute(select(flow_run)).all()) == 1
        third = subprocess.Popen([*cmd, "--lock-wait", "600", "--since", "2000-01-01"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        _, err = first.communicate(timeout=600)
        assert first.returncode == 0, err
        out, err = third.communicate(timeout=600)
        assert third.returncode == 0, err
        assert "waiting for the ledger's 'hoso' lock (nightly_export-" in " ".join(err.split())
        assert "unchanged 3000" in out  # it ran after the first one, which had staged everything
    finally:
        if first.poll() is None:
            first.kill()
    with Ledger(ledger).engine.connect() as conn:
        runs = conn.execute(select(flow_run.c.started_at, flow_run.c.finished_at, flow_run.c.status)
                            .order_by(flow_run.c.started_at)).all()
    assert [r.status for r in runs] == ["completed", "completed"]
    assert runs[1].started_at >= runs[0].finished_at  # never at once


def test_every_job_that_writes_takes_its_lock(tmp_path):
    """nightly and resend share the hồ sơ lock; checkin and submit have their own; the second stops, nothing done."""
    from xml130 import jobs
    from xml130.demo import mapping_path
    from xml130.demo.his import create_demo
    from xml130.mapping import load_mapping

    his, outbox, ledger = f"sqlite:///{tmp_path / 'his.db'}", tmp_path / "outbox", f"sqlite:///{tmp_path / 'l.db'}"
    create_demo(his, 5)
    mapping = load_mapping(mapping_path())
    runs = {
        "hoso": [lambda: jobs.nightly(his, outbox, ledger, mapping=mapping),
                 lambda: jobs.resend(his, outbox, ledger, ["x"], "sửa", mapping=mapping)],
        "checkin": [lambda: jobs.checkin(his, outbox, ledger, mapping=mapping)],
        "submit": [lambda: jobs.submit(outbox, ledger, None, None, unsigned=True)],
    }
    for name, calls in runs.items():
        with job_lock(ledger, name, job=f"held by the test ({name})"):
            for call in calls:
                with pytest.raises(JobBusy, match=rf"'{name}' lock \(held by the test \({name}\) \(pid "):
                    call()
    with Ledger(ledger).engine.connect() as conn:
        assert conn.execute(select(flow_run)).all() == []  # none of them started a run
    assert not outbox.exists()
    assert jobs.nightly(his, outbox, ledger, mapping=mapping).counts["staged"] == 5  # free again: it runs
