"""The `stream` deployment for real, loopback only: a temporary Prefect server set up as docs/operations.md says
(work pool, variables, Secret blocks, `prefect deploy --all`, a process worker), then its streaming steps run as
written — `prefect deployment run stream/stream` — against `portal-sim`: the worker's long-running run stages,
signs and sends every valid hồ sơ of the demo HIS once, a visit that closes while it runs reaches the portal too,
then `prefect flow-run cancel` ends the run and one SIGTERM the worker. Fails, never skips (a few minutes)."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest

from xml130.demo.his import create_demo
from xml130.demo.portal_sim import PortalSim
from xml130.store.ledger import Ledger

from .e2e import DEMO_MAPPING, Site, doc_steps
from .test_stream import LATE, QUARANTINED, STAGED, reopen

P12_PASSWORD = "p12-Pw-stream"


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    yield s
    s.close()


def statuses(ledger: str) -> Counter:
    return Counter(r["status"] for r in Ledger(ledger).versions())


def wait_until(check, seconds: float, what: str, site: Site) -> None:
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}\n{site.logs()}")
        time.sleep(1)


def test_the_stream_deployment_runs_on_a_worker_until_cancelled(site, tmp_path, pki):
    his, ledger = f"sqlite:///{tmp_path / 'his.db'}", f"sqlite:///{tmp_path / 'ledger.db'}"
    create_demo(his, 30)
    reopen(his, LATE, None)  # still open when the stream starts
    sim = PortalSim(ca_pem=pki.ca_pem)
    site.env["XML130_PORTAL_URL"] = sim.start()
    (tmp_path / "bv.p12").write_bytes(pki.p12(P12_PASSWORD.encode()))
    stdin = {"xml130-source-url": his, "xml130-ledger-url": ledger, "xml130-portal-password": sim.password,
             "xml130-p12-password": P12_PASSWORD}
    procs = {}
    try:
        for step in doc_steps("server"):
            if step.startswith(("prefect server start", "prefect worker start")):
                procs[step.split()[1]] = proc = site.start(step)
                if step.startswith("prefect server start"):
                    site.wait_for_server(proc)
            elif step.startswith("python -m pipelines.set_secret"):
                site.run(step, stdin=stdin[step.split()[-1]])
            else:
                site.run(step)
        deployment = site.wait_for_deployment("stream/stream")
        assert deployment["parameters"] == {"outbox": str(site.outbox), "mapping": DEMO_MAPPING, "every": 60,
                                            "portal": site.env["XML130_PORTAL_URL"], "user": "bv79999",
                                            "p12": str(tmp_path / "bv.p12")}
        assert deployment["global_concurrency_limit"]["limit"] == 1 and deployment["schedules"] == []
        start, look = doc_steps("stream")
        site.run(start)
        wait_until(lambda: statuses(ledger) == {"accepted": STAGED - 2, "quarantined": QUARANTINED}, 240,
                   "the first cycle to send every valid hồ sơ", site)
        (run,) = site.post("/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [deployment["id"]]}}})
        assert run["state_type"] == "RUNNING" and run["name"] in site.run(look)
        reopen(his, LATE, dt.datetime.now() - dt.timedelta(minutes=1))  # two visits close while it runs
        wait_until(lambda: statuses(ledger) == {"accepted": STAGED, "quarantined": QUARANTINED}, 150,
                   "the next cycle to send the visits closed meanwhile", site)
        per_file = Counter(r.request_id for r in sim.received)
        assert len(per_file) == STAGED and set(per_file.values()) == {1}  # each version once
        site.run(f"prefect flow-run cancel {run['id']}")
        wait_until(lambda: site.get(f"/flow_runs/{run['id']}")["state_type"] == "CANCELLED", 90,
                   "the run to be cancelled", site)
        assert site.stop(procs["worker"]) < 30 and procs["worker"].returncode == 0
        assert statuses(ledger) == {"accepted": STAGED, "quarantined": QUARANTINED}
        assert not list(site.outbox.rglob("*.tmp*"))
        site.stop(procs["server"])
    finally:
        sim.stop()
