"""The ledger: every hồ sơ version xml130 ever staged or quarantined, its status, and the state of each flow.

One object over one database (:mod:`.tables`), its methods grouped by concern: flow state and runs
(:mod:`.runs`), hồ sơ versions (:mod:`.versions`), check-in events (:mod:`.checkins`), submissions
(:mod:`.submissions`) and reports (:mod:`.reports`). The approved catalogues (:mod:`.catalog`) and the
findings across hồ sơ (:mod:`.cross`) live in the same database.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import OperationalError

from .checkins import Checkins
from .database import missing_database, permanent_error
from .reports import Reports
from .runs import Runs
from .submissions import Submissions
from .tables import metadata
from .versions import Versions


def _add_missing_columns(engine: Engine) -> None:
    """Columns added after a ledger was created (``create_all`` creates only missing tables)."""
    if "reason" not in {c["name"] for c in inspect(engine).get_columns("submission")}:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE submission ADD COLUMN reason TEXT"))


class Ledger(Runs, Versions, Checkins, Submissions, Reports):
    def __init__(self, url: str | Engine, *, create: bool = True):
        """``create``: a missing PostgreSQL or MariaDB database is created (as ``xml130 demo-his`` does; the account
        needs the right to), else :class:`~.database.LedgerDatabaseMissing` names the command to run. Missing
        tables and columns are always added."""
        if isinstance(url, str) and url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        # several Dask workers may write one SQLite ledger: wait for the lock instead of failing at once
        connect_args = {"timeout": 60} if isinstance(url, str) and url.startswith("sqlite") else {}
        self.engine = url if isinstance(url, Engine) else create_engine(url, connect_args=connect_args)
        try:
            metadata.create_all(self.engine)
        except OperationalError as exc:
            if isinstance(url, Engine) or permanent_error(exc) != "no database":
                raise
            self.engine.dispose()
            missing_database(url, exc, create)
            metadata.create_all(self.engine)
        _add_missing_columns(self.engine)
