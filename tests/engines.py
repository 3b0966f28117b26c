"""The MariaDB database of the tests (PostgreSQL's is ``pg_url`` in conftest): created per test process, dropped
after. No server is a failure with a clear message, never a skip: .ci/run installs and starts MariaDB."""

from __future__ import annotations

import os

import pytest

MARIADB_URL = os.environ.get("XML130_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/")


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(MARIADB_URL, isolation_level="AUTOCOMMIT")
    name = f"xml130_test_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    except OperationalError as exc:
        pytest.fail(f"MariaDB is not reachable at {MARIADB_URL} ({str(exc).splitlines()[0]}). Start it "
                    "(see .ci/run: start-stop-daemon --start --exec /usr/sbin/mariadbd) or set XML130_TEST_MARIADB.")
    yield MARIADB_URL.rstrip("/") + f"/{name}?charset=utf8mb4"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()
