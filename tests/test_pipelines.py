"""Flows run as plain functions (no Prefect server)."""

from __future__ import annotations

import json

import pytest

from pipelines.validate_fixtures import validate_fixtures


def test_validate_fixtures_flow_counts_and_reports(fixtures_dir, tmp_path):
    report = tmp_path / "qa.json"
    summary = validate_fixtures.fn(str(fixtures_dir / "invalid"), str(report))
    assert summary["files"] == 8 and summary["files_with_errors"] == 8
    assert summary["errors"] == 9
    assert summary["by_code"] == {"ELEMENT.ORDER": 1, "ELEMENT.UNKNOWN": 2, "ENVELOPE.BASE64": 1, "FIELD.DATE": 1,
                                  "FIELD.FORMAT": 2, "FIELD.REQUIRED": 1, "FIELD.TOO_LONG": 1}
    data = json.loads(report.read_text(encoding="utf-8"))
    assert len(data["findings"]) == 9 and data["summary"] == summary
    assert validate_fixtures.fn(str(fixtures_dir / "valid"))["errors"] == 0


def test_a_flow_without_a_mapping_stops_naming_the_parameter_and_the_variable(tmp_path, monkeypatch):
    """The flows read the hospital's mapping (parameter, or XML130_MAPPING of the worker), never the demo's."""
    from pipelines._common import mapping_file
    from pipelines.nightly_export import nightly_export
    from xml130.errors import SettingError

    monkeypatch.delenv("XML130_MAPPING", raising=False)
    message = ("mapping: no mapping file — give the parameter mapping (prefect.yaml: the Prefect variable "
               "xml130_mapping) or set XML130_MAPPING for the worker (or serve) process")
    with pytest.raises(SettingError) as exc:
        nightly_export.fn(outbox=str(tmp_path / "out"), source=f"sqlite:///{tmp_path / 'his.db'}",
                          ledger=f"sqlite:///{tmp_path / 'l.db'}")
    assert str(exc.value) == message and not (tmp_path / "out").exists() and not (tmp_path / "l.db").exists()
    assert mapping_file("/etc/xml130/his.toml") == "/etc/xml130/his.toml"
    monkeypatch.setenv("XML130_MAPPING", "/etc/xml130/env.toml")
    assert mapping_file(None) == mapping_file("") == "/etc/xml130/env.toml"  # an unset Prefect variable renders ""


def test_every_deployment_in_prefect_yaml_points_at_a_flow(root):
    import importlib

    import yaml
    from prefect import Flow

    data = yaml.safe_load((root / "prefect.yaml").read_text(encoding="utf-8"))
    names = []
    for dep in data["deployments"]:
        path, _, attr = dep["entrypoint"].partition(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert isinstance(getattr(module, attr), Flow), dep["name"]
        flow_params = set(getattr(module, attr).parameters.properties)
        assert set(dep.get("parameters", {})) <= flow_params, dep["name"]
        for schedule in dep.get("schedules", []):
            assert schedule["timezone"] == "Asia/Ho_Chi_Minh"
        names.append(dep["name"])
    weekly = next(d for d in data["deployments"] if d["name"] == "adoption-weekly")
    assert weekly["schedules"] == [{"cron": "0 8 * * 4", "timezone": "Asia/Ho_Chi_Minh"}]  # Thursday, before 10:00
    assert {"nightly", "near-real-time", "adoption-weekly", "adoption-monthly"} <= set(names)
    reading_the_his = {d["name"] for d in data["deployments"] if "mapping" in d.get("parameters", {})}
    assert reading_the_his == {"nightly", "near-real-time", "resend", "stream", "adoption-weekly", "adoption-monthly"}


def test_every_deployment_runs_one_at_a_time_in_prefect_yaml_and_in_serve(root, monkeypatch, tmp_path):
    import yaml

    from pipelines import serve
    from pipelines._common import ONE_AT_A_TIME

    data = yaml.safe_load((root / "prefect.yaml").read_text(encoding="utf-8"))
    declared = {d["name"]: d["concurrency_limit"] for d in data["deployments"]}
    assert declared == {name: {"limit": 1, "collision_strategy": strategy} for name, strategy in ONE_AT_A_TIME.items()}
    monkeypatch.setenv("XML130_OUTBOX", str(tmp_path))
    monkeypatch.setenv("XML130_MAPPING", str(tmp_path / "mapping.toml"))
    served = {d.name: (d.concurrency_limit, d.concurrency_options.collision_strategy.value)
              for d in serve.deployments()}
    assert served == {name: (1, ONE_AT_A_TIME[name]) for name in served}
    assert set(served) == set(ONE_AT_A_TIME) - {"submit", "resend"}  # serve runs no submit and no resend
