"""Operations without a Prefect server: where the flows' database URLs come from, `set_secret`'s checks, and
`xml130 demo-his` creating a missing PostgreSQL database (the real server of this machine)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from pipelines._common import database_url
from xml130.cli import app
from xml130.demo import mapping_path

from .conftest import PG_URL, ROOT, drop_pg_database


def test_a_url_with_a_password_is_refused_as_a_parameter(monkeypatch):
    monkeypatch.setenv("XML130_SOURCE", "postgresql+psycopg://reader:pw@his/his")
    with pytest.raises(ValueError) as exc:
        database_url("source", "postgresql+psycopg://reader:pw@his/his")
    message = str(exc.value)
    assert "XML130_SOURCE" in message and "xml130-source-url" in message and "pw@" not in message
    with pytest.raises(ValueError, match="XML130_LEDGER"):
        database_url("ledger", "postgresql+psycopg://xml130:pw@db/xml130")


def test_a_parameter_without_password_wins_else_the_environment(monkeypatch):
    monkeypatch.setenv("XML130_SOURCE", "postgresql+psycopg://reader:pw@his/his")
    monkeypatch.setenv("XML130_LEDGER", "postgresql+psycopg://xml130:pw@db/xml130")
    assert database_url("source", "sqlite:///his.db") == "sqlite:///his.db"
    assert database_url("source", "postgresql+psycopg://reader@his/his") == "postgresql+psycopg://reader@his/his"
    assert database_url("source", None) == "postgresql+psycopg://reader:pw@his/his"
    assert database_url("ledger", None) == "postgresql+psycopg://xml130:pw@db/xml130"


def set_secret(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.set_secret", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_set_secret_refuses_unknown_names_empty_values_and_bad_urls():
    r = set_secret("xml130-source")
    assert r.returncode == 2 and "xml130-source-url, xml130-ledger-url, xml130-portal-password" in r.stderr
    r = set_secret("xml130-portal-password", stdin="")
    assert r.returncode == 2 and "empty value, nothing saved" in r.stderr
    r = set_secret("xml130-ledger-url", stdin="xml130:pw@db/xml130")
    assert r.returncode == 2 and "not a database URL" in r.stderr and "pw" not in r.stderr + r.stdout


def test_demo_his_creates_a_missing_postgresql_database():
    name = "xml130_newdb_test"
    drop_pg_database(name)
    url = make_url(PG_URL).set(database=name, password="any-Pw").render_as_string(hide_password=False)
    try:
        first = CliRunner().invoke(app, ["demo-his", "--url", url, "--encounters", "5"])
        assert first.exit_code == 0, first.output
        assert f"created database {name}" in first.output and "any-Pw" not in first.output
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(text("encounter"))).scalar() == 5
        engine.dispose()
        again = CliRunner().invoke(app, ["demo-his", "--url", url, "--encounters", "5"])
        assert again.exit_code == 0 and "created database" not in again.output  # it exists now: re-created rows
    finally:
        drop_pg_database(name)


def test_prefect_yaml_holds_no_database_url_and_no_secret(root):
    import re

    import yaml

    data = yaml.safe_load((root / "prefect.yaml").read_text(encoding="utf-8"))
    params = {dep["name"]: dep.get("parameters", {}) for dep in data["deployments"]}
    assert not any({"source", "ledger"} & set(p) for p in params.values())
    declared = str(params)
    used = set(re.findall(r"prefect\.variables\.(\w+)", declared))
    assert used == {"xml130_outbox", "xml130_reports", "xml130_mapping", "xml130_portal_url", "xml130_portal_user",
                    "xml130_p12_path"}
    assert "secret" not in declared.lower() and "password" not in declared.lower()


def test_the_commands_read_the_database_urls_from_the_environment(tmp_path):
    from xml130.demo.his import create_demo

    his, ledger = f"sqlite:///{tmp_path / 'his.db'}", f"sqlite:///{tmp_path / 'ledger.db'}"
    create_demo(his, 20)
    env = {"XML130_SOURCE": his, "XML130_LEDGER": ledger, "XML130_MAPPING": str(mapping_path())}
    r = CliRunner().invoke(app, ["nightly", "--outbox", str(tmp_path / "outbox")], env=env)
    assert r.exit_code == 0, r.output
    assert "'staged': 17" in r.output and "'quarantined': 3" in r.output  # episodes 12, 13, 17
    from xml130.store.ledger import Ledger
    from xml130.store.tables import hoso_version

    with Ledger(ledger).engine.connect() as conn:  # the ledger of XML130_LEDGER, not the default file
        assert conn.execute(select(func.count()).select_from(hoso_version)).scalar() == 20
    assert CliRunner().invoke(app, ["status", "--format", "json"], env=env).exit_code == 0
