"""Flow state and runs: the named cursors (watermarks) each flow resumes from, and one row per run."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Engine, select, update

from .tables import flow_run, flow_state, now


class Runs:
    engine: Engine

    def get_state(self, name: str) -> dt.datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(select(flow_state.c.value).where(flow_state.c.name == name)).scalar()

    def set_state(self, name: str, value: dt.datetime | None) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(update(flow_state).where(flow_state.c.name == name).values(value=value, updated_at=now()))
            if done.rowcount == 0:
                conn.execute(flow_state.insert().values(name=name, value=value, updated_at=now()))

    def start_run(self, run_id: str, flow: str, window: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(flow_run.insert().values(run_id=run_id, flow=flow, started_at=now(), window=window,
                                                  status="running"))

    def finish_run(self, run_id: str, counts: dict[str, Any], status: str = "completed") -> None:
        with self.engine.begin() as conn:
            conn.execute(update(flow_run).where(flow_run.c.run_id == run_id).values(
                finished_at=now(), counts=json.dumps(counts, ensure_ascii=False, sort_keys=True), status=status))
