"""The Prefect flows, run for real once against a temporary Prefect server (one harness for the module)."""

from __future__ import annotations

import pytest

from xml130.demo import mapping_path

DEMO_MAPPING = str(mapping_path())  # the flows read the demo HIS through its own mapping


# The harness lives for this module only: its exit drains Prefect's events client, whose websocket pings (a
# background thread, the global `random`) otherwise went on through the rest of the session and changed the
# random state while Hypothesis drew examples in later modules (HypothesisDeprecationWarning "Do not use the
# `random` module inside strategies", tests/test_validate_any_value.py).
@pytest.fixture(scope="module")
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_nightly_export_flow_publishes_its_counts(prefect_server, tmp_path):
    from pipelines.nightly_export import nightly_export
    from xml130.demo.his import create_demo

    his = f"sqlite:///{tmp_path / 'his.db'}"
    create_demo(his, 60)
    report = nightly_export(source=his, outbox=str(tmp_path / "outbox"), ledger=f"sqlite:///{tmp_path / 'l.db'}",
                            mapping=DEMO_MAPPING)
    assert report["counts"]["staged"] == 56 and report["counts"]["quarantined"] == 4  # 13, 17 data; 12, 57 expired card
    again = nightly_export(source=his, outbox=str(tmp_path / "outbox"), ledger=f"sqlite:///{tmp_path / 'l.db'}",
                           since="2000-01-01T00:00:00", mapping=DEMO_MAPPING)
    assert again["counts"]["unchanged"] == 60

    import asyncio

    from prefect.client.orchestration import get_client

    async def artifacts() -> list[dict]:
        # The filter body is written by hand: this server rejects the explicit nulls the 3.8 client sends for
        # omitted filters (422), so the typed helpers cannot be used here.
        body = {"artifacts": {"key": {"any_": ["nightly-export-summary", "nightly-export-counts"]}},
                "limit": 20, "offset": 0, "sort": "KEY_ASC"}
        async with get_client() as client:
            response = await client._client.post("/artifacts/filter", json=body)
            response.raise_for_status()
            return response.json()

    found = asyncio.run(artifacts())
    by_key: dict[str, list] = {}
    for art in found:
        by_key.setdefault(art["key"], []).append(art)
    assert set(by_key) == {"nightly-export-summary", "nightly-export-counts"}
    assert any("| unchanged | 60 |" in a["data"] for a in by_key["nightly-export-summary"])
    assert any({"outcome": "staged", "count": 56} in (a["data"] if isinstance(a["data"], list) else
               __import__("json").loads(a["data"])) for a in by_key["nightly-export-counts"])


def test_dask_partitions_give_the_same_files_as_one_process(prefect_server, tmp_path):
    from sqlalchemy import select

    from pipelines.nightly_export import nightly_export, on_dask
    from xml130.demo.his import create_demo
    from xml130.store.ledger import Ledger
    from xml130.store.tables import hoso_version

    his = f"sqlite:///{tmp_path / 'his.db'}"
    create_demo(his, 700)  # episodes close over several days: one partition each
    single = nightly_export(source=his, outbox=str(tmp_path / "one"), ledger=f"sqlite:///{tmp_path / 'one.db'}",
                            mapping=DEMO_MAPPING)
    fanned = on_dask(n_workers=2)(source=his, outbox=str(tmp_path / "dask"), ledger=f"sqlite:///{tmp_path / 'dask.db'}",
                                  partition="day", mapping=DEMO_MAPPING)
    assert single["counts"] == fanned["counts"] and single["quarantined_by_code"] == fanned["quarantined_by_code"]
    one = {p.relative_to(tmp_path / "one"): p.read_bytes() for p in (tmp_path / "one" / "79999").rglob("*.xml")}
    two = {p.relative_to(tmp_path / "dask"): p.read_bytes() for p in (tmp_path / "dask" / "79999").rglob("*.xml")}
    assert len(one) == single["counts"]["staged"] and one == two
    days = {p.parts[1] for p in one}
    assert len(days) >= 4  # one partition per closing day

    def rows(url):
        with Ledger(url).engine.connect() as conn:
            return conn.execute(select(hoso_version.c.ma_lk, hoso_version.c.version, hoso_version.c.content_hash,
                                       hoso_version.c.status).order_by(hoso_version.c.ma_lk)).all()

    assert rows(f"sqlite:///{tmp_path / 'one.db'}") == rows(f"sqlite:///{tmp_path / 'dask.db'}")


def test_adoption_report_flow_publishes_the_ranking(prefect_server, tmp_path):
    import asyncio
    import json

    from prefect.client.orchestration import get_client

    from pipelines.adoption_report import adoption_report
    from xml130.demo.his import create_demo

    his = f"sqlite:///{tmp_path / 'his.db'}"
    create_demo(his, 400, minutes_between=60)
    result = adoption_report(source=his, out=str(tmp_path / "reports"), period="2026-W46", mapping=DEMO_MAPPING)
    assert result["period"] == "2026-W46" and (tmp_path / "reports" / "adoption-2026-W46.xlsx").exists()

    async def ranking() -> list:
        body = {"artifacts": {"key": {"any_": ["adoption-ranking"]}}, "limit": 5, "offset": 0, "sort": "KEY_ASC"}
        async with get_client() as client:
            response = await client._client.post("/artifacts/filter", json=body)
            response.raise_for_status()
            return response.json()

    found = asyncio.run(ranking())
    assert found, "no adoption-ranking artifact"
    rows = found[0]["data"] if isinstance(found[0]["data"], list) else json.loads(found[0]["data"])
    assert [r["khoa"] for r in rows] == [d["name"] for d in result["departments"]] + ["TOÀN VIỆN"]
    assert rows[-1]["khám"] == result["total"]["examined"]


def test_nightly_export_flow_publishes_the_checks_across_hoso_per_day(prefect_server, tmp_path):
    import asyncio

    from prefect.client.orchestration import get_client

    from pipelines.nightly_export import nightly_export
    from xml130.demo.catalog import plant_mismatches
    from xml130.demo.his import create_demo

    his = f"sqlite:///{tmp_path / 'his.db'}"
    planted = plant_mismatches(create_demo(his, 160))
    report = nightly_export(source=his, outbox=str(tmp_path / "outbox"), ledger=f"sqlite:///{tmp_path / 'l.db'}",
                            mapping=DEMO_MAPPING)
    assert report["counts"]["held_back_by_cross_check"] == 2

    async def artifacts() -> list[dict]:
        body = {"artifacts": {"key": {"any_": ["cross-hoso-2026-11-02"]}}, "limit": 5, "offset": 0, "sort": "KEY_ASC"}
        async with get_client() as client:
            response = await client._client.post("/artifacts/filter", json=body)
            response.raise_for_status()
            return response.json()

    (art,) = asyncio.run(artifacts())
    first, second = planted["CROSS.PERFORMER_OVERLAP"]
    assert f"| {first} | CROSS.PERFORMER_OVERLAP | error | 6 | {second} |" in art["data"]
    assert f"| {second} | CROSS.PERFORMER_OVERLAP | error |" in art["data"]
    assert art["data"].count("CROSS.EXAMS_PER_DAY | warning") >= 66


def test_each_served_deployment_runs_one_at_a_time(prefect_server, tmp_path, monkeypatch):
    """The server itself keeps a second run of a deployment from starting while one is running: a scheduled job's
    run is cancelled (CANCEL_NEW), a QA or report run waits in Scheduled/AwaitingConcurrencySlot (ENQUEUE)."""
    from prefect.client.orchestration import get_client
    from prefect.states import Pending, Running

    from pipelines import serve
    from pipelines._common import ONE_AT_A_TIME

    monkeypatch.setenv("XML130_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.setenv("XML130_MAPPING", str(tmp_path / "mapping.toml"))
    with get_client(sync_client=True) as client:
        ids = {d.name: d.apply() for d in serve.deployments()}
        for name, dep_id in ids.items():
            dep = client.read_deployment(dep_id)
            assert dep.global_concurrency_limit.limit == 1, name
            assert dep.concurrency_options.collision_strategy.value == ONE_AT_A_TIME[name], name
        for name, second_state in (("nightly", "CANCELLED"), ("qa", "SCHEDULED")):
            first = client.create_flow_run_from_deployment(ids[name])
            second = client.create_flow_run_from_deployment(ids[name])
            assert client.set_flow_run_state(first.id, Pending()).status.value == "ACCEPT"
            assert client.set_flow_run_state(first.id, Running()).status.value == "ACCEPT"
            answer = client.set_flow_run_state(second.id, Pending())
            assert answer.status.value != "ACCEPT", name
            state = client.read_flow_run(second.id).state
            assert state.type.value == second_state, (name, state)
            if second_state == "SCHEDULED":
                assert state.name == "AwaitingConcurrencySlot"


def test_the_nightly_flow_holds_the_ledger_lock(prefect_server, tmp_path):
    """A deployed nightly and `xml130 nightly` on one ledger never stage at once: the flow takes the same lock."""
    from pipelines.nightly_export import nightly_export
    from xml130.demo import mapping_path
    from xml130.demo.his import create_demo
    from xml130.store.lock import JobBusy, job_lock

    his, ledger = f"sqlite:///{tmp_path / 'his.db'}", f"sqlite:///{tmp_path / 'l.db'}"
    create_demo(his, 5)
    with job_lock(ledger, "hoso", job="xml130 nightly in a terminal"), pytest.raises(
            JobBusy, match=r"'hoso' lock \(xml130 nightly in a terminal \(pid "):
        nightly_export(source=his, outbox=str(tmp_path / "outbox"), ledger=ledger, mapping=str(mapping_path()))
    assert not (tmp_path / "outbox").exists()
    report = nightly_export(source=his, outbox=str(tmp_path / "outbox"), ledger=ledger, mapping=str(mapping_path()))
    assert report["counts"]["staged"] == 5
