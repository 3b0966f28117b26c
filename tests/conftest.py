from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

# Property tests: the suite runs once per landing and once in CI on a fresh machine, so by default every run draws
# the same examples (derandomize: a failure is a failure of the code, reproduced by running the test again, never a
# draw of luck), no example database (nothing carried over from an earlier run), no deadline (a loaded 2-core
# machine is slow, not wrong). To hunt for new failures draw afresh: HYPOTHESIS_PROFILE=explore, with
# --hypothesis-seed=N to replay a run.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return ROOT / "fixtures"


@pytest.fixture(scope="session")
def spec():
    from xml130.spec import load_spec

    return load_spec()


PG_URL = os.environ.get("XML130_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_URL = os.environ.get("XML130_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/")


def _scratch_database(admin_url: str, drop: str, create: str, url: str, hint: str):
    """Create a database named by the test process, yield its URL, drop it. No server is a failure with a clear
    message, never a skip: .ci/run starts the servers when they are down."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(drop))
            conn.execute(text(create))
    except OperationalError as exc:
        pytest.fail(f"The server is not reachable at {admin_url} ({str(exc).splitlines()[0]}). {hint}")
    yield url
    with admin.connect() as conn:
        conn.execute(text(drop))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A fresh PostgreSQL database for the tests."""
    name = f"xml130_test_{os.getpid()}"
    yield from _scratch_database(
        PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"',
        PG_URL.rsplit("/", 1)[0] + "/" + name,
        "Start PostgreSQL (pg_ctlcluster --skip-systemctl-redirect <version> main start) or set XML130_TEST_PG.")


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    """A fresh MariaDB database for the tests (utf8mb4, binary collation)."""
    name = f"xml130_test_{os.getpid()}"
    yield from _scratch_database(
        MARIADB_URL, f"DROP DATABASE IF EXISTS `{name}`",
        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
        MARIADB_URL.rstrip("/") + f"/{name}?charset=utf8mb4",
        "Start MariaDB (.ci/run installs it and runs start-stop-daemon --start --exec /usr/sbin/mariadbd) or set "
        "XML130_TEST_MARIADB.")


@pytest.fixture(scope="session")
def pki():
    """A throwaway CA made at test time (never a real one)."""
    from .pki import ThrowawayPKI

    return ThrowawayPKI()


@pytest.fixture(scope="session")
def signer(pki, tmp_path_factory):
    from xml130.signing import P12Signer

    path = tmp_path_factory.mktemp("keys") / "bv.p12"
    path.write_bytes(pki.p12())
    return P12Signer.from_file(path, "secret")


def drop_pg_database(name: str) -> None:
    """Drop a database of the tests' PostgreSQL server when it exists; no server is a failure with the message."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} ({str(exc).splitlines()[0]}); .ci/run starts it")
    finally:
        admin.dispose()
