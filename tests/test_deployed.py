"""The unattended path for real, loopback only: a temporary Prefect server, the set-up of docs/operations.md run
line by line (work pool, variables, Secret blocks, `prefect deploy --all`, a process worker), the paused `submit`
schedule resumed and paused again, the catalogue import that creates the ledger's PostgreSQL database, a schedule
that fires within a minute and is deleted from a script afterwards, and the nightly run the *scheduler* created,
completed by the worker, checked in the outbox and the ledger against an in-process run of the same HIS with the
same catalogues. The same through `python -m pipelines.serve`. Every process is stopped with one SIGTERM at the
end, a worker started in the background by a script too. These tests fail, never skip (about 2 minutes each)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from xml130 import jobs
from xml130.demo import demo_mapping
from xml130.store.ledger import Ledger
from xml130.store.tables import hoso_version

from .conftest import PG_URL, drop_pg_database
from .e2e import BIN, DEMO_MAPPING, ROOT, Site, doc_steps

DEMO = demo_mapping()  # the demo HIS built by these tests is read through its own mapping

PASSWORD = "e2e-Pw-never-on-the-server"  # 127.0.0.1 trusts this account, so any password connects
PORTAL_PASSWORD, P12_PASSWORD = "portal-Pw-e2e", "p12-Pw-e2e"
ENCOUNTERS, STAGED, QUARANTINED = 30, 27, 3  # the demo's episodes 12 (expired card), 13 and 17 (bad data)


@pytest.fixture(scope="module")
def his():
    """The demo HIS in a PostgreSQL database that does not exist yet: `xml130 demo-his` creates it. Its URL
    carries a password, which must never reach the Prefect server."""
    name = f"xml130_e2e_{os.getpid()}"
    url = make_url(PG_URL).set(password=PASSWORD, database=name).render_as_string(hide_password=False)
    drop_pg_database(name)
    r = subprocess.run([str(BIN / "xml130"), "demo-his", "--url", url, "--encounters", str(ENCOUNTERS)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"created database {name}" in r.stdout and PASSWORD not in r.stdout
    yield url
    drop_pg_database(name)


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    yield s
    s.close()


def ledger_rows(url: str) -> list[tuple]:
    with Ledger(url).engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(
            hoso_version.c.ma_lk, hoso_version.c.version, hoso_version.c.status, hoso_version.c.content_hash)
            .order_by(hoso_version.c.ma_lk, hoso_version.c.version))]


def envelopes(outbox: Path) -> dict[str, bytes]:
    facility = outbox / "79999"
    return {str(p.relative_to(facility)): p.read_bytes() for p in facility.rglob("v*.xml")
            if p.relative_to(facility).parts[0] != "checkin"}


def assert_staged_like_a_local_run(his: str, outbox: Path, ledger: str, tmp: Path,
                                   catalogues: list[Path] | None = None) -> None:
    """Exact counts in the ledger, and the same files and ledger rows as `jobs.nightly` in this process (with the
    same catalogues imported into its ledger, when given)."""
    rows = ledger_rows(ledger)
    assert Counter(r[2] for r in rows) == {"staged": STAGED, "quarantined": QUARANTINED}
    reference = f"sqlite:///{tmp / 'reference.db'}"
    if catalogues:
        from xml130.catalog.imports import import_files

        import_files(Ledger(reference), catalogues)
        assert approved_items(ledger) == approved_items(reference) != []  # the deployed ledger has them all
    jobs.nightly(his, tmp / "reference", reference, mapping=DEMO)
    assert rows == ledger_rows(reference)
    files = envelopes(outbox)
    assert len(files) == STAGED and files == envelopes(tmp / "reference")


def approved_items(url: str) -> list[tuple]:
    from xml130.store.tables import approved_item

    with Ledger(url).engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(approved_item.c.kind, approved_item.c.code,
                                                      approved_item.c.row_hash).order_by(approved_item.c.row_hash))]


def schedules(site: Site, deployment: str) -> list[tuple[str, bool]]:
    """(what, active) of each schedule of the deployment, as the server holds them."""
    dep = site.get(f"/deployments/name/{deployment}")
    return sorted((json.dumps(s["schedule"], sort_keys=True), s["active"]) for s in dep["schedules"])


def assert_no_secret_on_the_server(site: Site, secrets: list[str]) -> None:
    """Deployments (parameters, job variables, pull steps), variables and flow runs hold no password."""
    stored = json.dumps([site.post("/deployments/filter", {"limit": 200}), site.post("/variables/filter", {}),
                         site.post("/flow_runs/filter", {"limit": 200})])
    for secret in secrets:
        assert secret not in stored
    assert "postgresql" not in stored  # no database URL at all, with or without its password


def assert_one_at_a_time(deployment: dict, strategy: str) -> None:
    """The server holds the deployment's concurrency limit (prefect.yaml's or serve's ``concurrency_limit``)."""
    assert deployment["global_concurrency_limit"]["limit"] == 1
    assert deployment["concurrency_options"]["collision_strategy"] == strategy


def assert_scheduled_not_by_hand(run: dict, deployment: dict, since: dt.datetime, outbox: Path) -> None:
    assert run["deployment_id"] == deployment["id"]
    assert run["auto_scheduled"] is True  # the scheduler made it from a schedule, not a user
    assert run["created_by"]["type"] == "SCHEDULE" and run["created_by"]["display_value"] == "IntervalSchedule"
    assert dt.datetime.fromisoformat(run["expected_start_time"]) >= since
    assert run["parameters"] == {"outbox": str(outbox), "mapping": DEMO_MAPPING}


@pytest.fixture
def ledger_db():
    """The ledger: a PostgreSQL database that does not exist yet (the catalogue import of docs/operations.md
    creates it), its URL with a password."""
    name = f"xml130_e2e_ledger_{os.getpid()}"
    drop_pg_database(name)
    yield make_url(PG_URL).set(password=PASSWORD, database=name).render_as_string(hide_password=False), name
    drop_pg_database(name)


def test_prefect_server_scheduler_and_worker_run_the_nightly(his, site, tmp_path, ledger_db):
    from sqlalchemy import create_engine, text

    from xml130.demo.catalog import demo_catalog_files

    steps, trial = doc_steps("server"), doc_steps("trial")
    ledger, ledger_name = ledger_db
    engine = create_engine(his)
    catalogues = demo_catalog_files(engine, tmp_path / "catalogues")  # the HIS's approved catalogues, as exported
    engine.dispose()
    site.env.update(XML130_LEDGER=ledger, XML130_CATALOGUES=str(tmp_path / "catalogues"))
    stdin = {"xml130-source-url": his, "xml130-ledger-url": ledger, "xml130-portal-password": PORTAL_PASSWORD,
             "xml130-p12-password": P12_PASSWORD}
    procs, outputs = {}, {}
    for step in steps:  # docs/operations.md, in its order
        if step.startswith(("prefect server start", "prefect worker start")):
            procs[step.split()[1]] = proc = site.start(step)
            if step.startswith("prefect server start"):
                site.wait_for_server(proc)
        elif step.startswith("python -m pipelines.set_secret"):
            outputs[step] = site.run(step, stdin=stdin[step.split()[-1]])
        else:
            outputs[step] = site.run(step)
    assert set(procs) == {"server", "worker"}
    assert "nightly_export/nightly" in outputs["prefect deployment ls"]
    assert "submit/submit" in outputs["prefect deployment ls"]
    nightly = site.wait_for_deployment("nightly_export/nightly")
    assert nightly["parameters"] == {"outbox": str(site.outbox), "mapping": DEMO_MAPPING}
    assert_one_at_a_time(nightly, "CANCEL_NEW")
    submit = site.get("/deployments/name/submit/submit")
    assert submit["parameters"] == {"outbox": str(site.outbox), "portal": "http://127.0.0.1:9/",
                                    "user": "bv79999", "p12": str(tmp_path / "bv.p12")}
    assert [active for _, active in schedules(site, "submit/submit")] == [False]  # deployed paused
    resume, pause = doc_steps("submit")
    site.run(resume)
    assert [active for _, active in schedules(site, "submit/submit")] == [True]
    site.run(pause)
    assert [active for _, active in schedules(site, "submit/submit")] == [False]

    (import_step,) = doc_steps("catalogues")  # creates the ledger's database, then imports
    admin = create_engine(PG_URL)
    with admin.connect() as conn:
        assert conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": ledger_name}).first() is None
    site.run(import_step)
    with admin.connect() as conn:
        assert conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": ledger_name}).first()
    admin.dispose()

    only_cron = schedules(site, "nightly_export/nightly")
    since = dt.datetime.now(dt.UTC)
    site.run(trial[0])  # the 30 s schedule
    run = site.wait_for_completed_run(nightly["id"])
    assert_scheduled_not_by_hand(run, nightly, since, site.outbox)
    assert run["name"] in site.run(trial[1])  # prefect flow-run ls
    site.run(trial[2])  # the 30 s schedule deleted from a script
    assert schedules(site, "nightly_export/nightly") == only_cron
    assert_staged_like_a_local_run(his, site.outbox, ledger, tmp_path, catalogues)
    assert_no_secret_on_the_server(site, [PASSWORD, PORTAL_PASSWORD, P12_PASSWORD])

    assert site.stop(procs["worker"]) < 30  # one SIGTERM
    assert procs["worker"].returncode == 0
    assert_a_background_worker_stops_on_one_sigterm(site, tmp_path / "script")
    site.stop(procs["server"])


def assert_a_background_worker_stops_on_one_sigterm(site: Site, folder: Path) -> None:
    """The script form of docs/operations.md: started in the background inside `( … )` by a non-interactive shell,
    the worker still stops on one SIGTERM."""
    import time

    import psutil

    start, kill = doc_steps("background")
    folder.mkdir()
    site.run(start, cwd=folder)
    pid = int((folder / "worker.pid").read_text())
    deadline = time.monotonic() + 60
    while "started" not in (folder / "worker.log").read_text(errors="replace"):
        assert psutil.pid_exists(pid), (folder / "worker.log").read_text(errors="replace")
        assert time.monotonic() < deadline, "the background worker did not start within 60 s"
        time.sleep(0.5)
    t0 = time.monotonic()
    site.run(kill, cwd=folder)
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        if time.monotonic() - t0 > 30:
            os.kill(pid, 9)
            pytest.fail("the background worker did not stop within 30 s of one SIGTERM")
        time.sleep(0.2)


def test_the_systemd_units_start_the_documented_services():
    """The units of docs/operations.md run exactly the long-running steps the test starts."""
    import re

    from .e2e import DOC

    text = DOC.read_text(encoding="utf-8")
    units = re.findall(r"```ini\n(.*?)```", text, re.S)
    starts = [re.search(r"^ExecStart=/opt/xml130/\.venv/bin/(.+)$", u, re.M).group(1) for u in units]
    services = [s for s in doc_steps("server") if s.startswith(("prefect server start", "prefect worker start"))]
    assert starts == services


def test_serve_runs_the_scheduled_nightly(his, site, tmp_path):
    server = site.start(doc_steps("server")[0])
    site.wait_for_server(server)
    (serve_step,) = doc_steps("serve")
    r = subprocess.run(["bash", "-c", serve_step], cwd=ROOT, env=site.env, capture_output=True, text=True,
                       timeout=120)  # no XML130_SOURCE and no Secret block: it stops at once and says what to do
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == ("xml130 serve: source: no database URL — set XML130_SOURCE for "
                                                 "the worker (or serve) process, or create the Prefect Secret block "
                                                 "xml130-source-url")
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = {**site.env, "XML130_SOURCE": his, "XML130_LEDGER": ledger, "XML130_NIGHTLY_INTERVAL": "30"}
    since = dt.datetime.now(dt.UTC)
    serve = site.start(serve_step, env=env)
    nightly = site.wait_for_deployment("nightly_export/nightly")
    assert nightly["schedules"][0]["schedule"]["interval"] == 30.0
    assert_one_at_a_time(nightly, "CANCEL_NEW")
    run = site.wait_for_completed_run(nightly["id"])
    assert_scheduled_not_by_hand(run, nightly, since, site.outbox)
    assert_staged_like_a_local_run(his, site.outbox, ledger, tmp_path)
    assert_no_secret_on_the_server(site, [PASSWORD])
    listed = site.run("prefect deployment ls")
    for name in ("nightly_export/nightly", "checkin/near-real-time", "validate_fixtures/qa",
                 "adoption_report/adoption-weekly", "adoption_report/adoption-monthly"):
        assert name in listed
    assert run["name"] in site.run(doc_steps("trial")[1])  # prefect flow-run ls … COMPLETED

    assert site.stop(serve) < 30
    site.stop(server)

