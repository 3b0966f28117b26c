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
    assert ": staged 17, quarantined 3," in r.output  # episodes 12, 13, 17
    from xml130.store.ledger import Ledger
    from xml130.store.tables import hoso_version

    with Ledger(ledger).engine.connect() as conn:  # the ledger of XML130_LEDGER, not the default file
        assert conn.execute(select(func.count()).select_from(hoso_version)).scalar() == 20
    assert CliRunner().invoke(app, ["status", "--format", "json"], env=env).exit_code == 0


def _admin(url: str, *statements: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def demo_his(tmp_path):
    from xml130.demo.his import create_demo

    his = f"sqlite:///{tmp_path / 'his.db'}"
    create_demo(his, 10)
    return his


def test_a_missing_ledger_database_is_created_on_postgresql_and_mariadb(tmp_path, demo_his):
    import os

    from .conftest import MARIADB_URL

    name = f"xml130_ledger_new_{os.getpid()}"
    urls = {"postgresql": make_url(PG_URL).set(database=name).render_as_string(hide_password=False),
            "mariadb": MARIADB_URL.rstrip("/") + f"/{name}?charset=utf8mb4"}
    drop_pg_database(name)
    _admin(MARIADB_URL, f"DROP DATABASE IF EXISTS `{name}`")
    try:
        for kind, url in urls.items():
            r = CliRunner().invoke(app, ["nightly", "--source", demo_his, "--outbox", str(tmp_path / kind),
                                         "--ledger", url, "--mapping", str(mapping_path())])
            assert r.exit_code == 0, r.output
            assert ": staged 10," in r.output
            from xml130.store.ledger import Ledger

            assert len(list(Ledger(url).versions())) == 10
        engine = create_engine(MARIADB_URL)
        with engine.connect() as conn:
            collation = conn.execute(text("SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
                                          "WHERE SCHEMA_NAME = :n"), {"n": name}).scalar()
        engine.dispose()
        assert collation == "utf8mb4_bin"
    finally:
        drop_pg_database(name)
        _admin(MARIADB_URL, f"DROP DATABASE IF EXISTS `{name}`")


def test_a_ledger_database_the_account_may_not_create_stops_at_once_with_the_command(tmp_path, demo_his):
    import os

    role, name = f"xml130_nocreate_{os.getpid()}", f"xml130_ledger_denied_{os.getpid()}"
    _admin(PG_URL, f'DROP ROLE IF EXISTS "{role}"', f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    url = make_url(PG_URL).set(username=role, database=name).render_as_string(hide_password=False)
    try:
        r = CliRunner().invoke(app, ["nightly", "--source", demo_his, "--outbox", str(tmp_path / "o"),
                                     "--ledger", url, "--mapping", str(mapping_path())])
        assert r.exit_code == 2
        assert " ".join(r.output.split()) == (
            f"Không chạy được: the ledger database {name} does not exist on 127.0.0.1:5432 (not created: permission "
            f"denied to create database). Create it once, as the database administrator: createdb -h 127.0.0.1 "
            f"-p 5432 -U postgres -O {role} {name}")
        assert not (tmp_path / "o").exists()  # nothing was staged
        # a command that only reads never creates it
        r = CliRunner().invoke(app, ["status", "--ledger", make_url(PG_URL).set(database=name)
                                     .render_as_string(hide_password=False)])
        assert r.exit_code == 2 and "(a command that only reads does not create it)" in r.output
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None
        engine.dispose()
    finally:
        drop_pg_database(name)
        _admin(PG_URL, f'DROP ROLE IF EXISTS "{role}"')


class _State:
    def __init__(self, exc: BaseException):
        self.exc = exc

    def result(self):
        raise self.exc


def _error(url: str, query: str = "SELECT 1") -> Exception:
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(query))
    except DBAPIError as exc:
        return exc
    finally:
        engine.dispose()
    pytest.fail(f"{url}: {query} did not fail")


def test_errors_that_cannot_heal_are_never_retried_as_transient(tmp_path):
    from pipelines._common import is_transient
    from xml130.store.database import permanent_error

    from .conftest import MARIADB_URL
    from .e2e import free_port

    pg, maria = make_url(PG_URL), make_url(MARIADB_URL)
    cases = {
        "no database": [_error(pg.set(database="xml130_never_created").render_as_string(hide_password=False)),
                        _error(maria.set(database="xml130_never_created").render_as_string(hide_password=False))],
        "no table": [_error(PG_URL, "SELECT * FROM xml130_no_such_table"),
                     _error(MARIADB_URL.rstrip("/") + "/mysql", "SELECT * FROM xml130_no_such_table"),
                     _error(f"sqlite:///{tmp_path / 'empty.db'}", "SELECT * FROM encounter")],
        "authentication refused": [
            _error(pg.set(username="xml130_no_such_role").render_as_string(hide_password=False)),
            _error(maria.set(username="xml130_no_such_user", password="x").render_as_string(hide_password=False))],
    }
    for kind, errors in cases.items():
        for exc in errors:
            assert permanent_error(exc) == kind, exc
            assert is_transient(None, None, _State(exc)) is False, exc
    refused = _error(pg.set(port=free_port()).render_as_string(hide_password=False))  # the server is down: heals
    assert permanent_error(refused) is None and is_transient(None, None, _State(refused)) is True


def test_the_morning_and_resend_blocks_of_operations_run_as_written(tmp_path, demo_his):
    """docs/operations.md's `xml130 status` and `xml130 resend` lines, run by bash as written, on a staged ledger."""
    import json
    import os

    from xml130.store.ledger import Ledger

    from .e2e import BIN, doc_steps

    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    # the blocks call `xml130` as a user does: the command of this environment first on PATH (CI runs
    # .venv/bin/python -m pytest without activating the venv)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "XML130_SOURCE": demo_his,
           "XML130_LEDGER": ledger, "XML130_OUTBOX": str(tmp_path / "out"), "XML130_MAPPING": str(mapping_path())}
    first = CliRunner().invoke(app, ["nightly", "--outbox", str(tmp_path / "out")], env=env)
    assert first.exit_code == 0, first.output
    (morning,) = doc_steps("morning")
    r = subprocess.run(["bash", "-c", morning], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == ("hồ sơ: staged 10, quarantined 0, submitted 0, awaiting_signature 0, "
                                        "accepted 0, rejected 0, replaced 0, blocked 0")
    (resend,) = doc_steps("resend")
    r = subprocess.run(["bash", "-c", resend], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "): replaced 2," in r.stdout
    versions = {(v["ma_lk"], v["version"]): (v["status"], v["reasons"]) for v in Ledger(ledger).versions()
                if v["ma_lk"] in ("79999261100000001", "79999261100000002")}
    reason = json.dumps({"resend": "sửa MA_BENH_CHINH theo phản hồi giám định"}, ensure_ascii=False)
    assert versions == {("79999261100000001", 1): ("replaced", None), ("79999261100000002", 1): ("replaced", None),
                        ("79999261100000001", 2): ("staged", reason), ("79999261100000002", 2): ("staged", reason)}
