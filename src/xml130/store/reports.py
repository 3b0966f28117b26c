"""Reports over the ledger: counts by status and day, what is late, and a Parquet snapshot for analysis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, select

from ..codes import OPEN_STATUSES
from .tables import STATUSES, hoso_version, now


class Reports:
    engine: Engine

    versions: Callable[[], Iterator[dict[str, Any]]]  # :class:`.versions.Versions`

    def summary(self, today: dt.datetime | None = None, within_days: float = 2) -> dict[str, Any]:
        """Versions by status, by day staged, and ``late``: open versions whose deadline is past or within
        ``within_days`` (a fraction is hours), each with ``hours_left`` (negative: overdue by that much)."""
        today = today or now()
        t = hoso_version
        with self.engine.connect() as conn:
            by_status = dict(conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all())
            rows = conn.execute(select(t.c.staged_at, t.c.status)).all()
            late = conn.execute(select(t.c.ma_lk, t.c.version, t.c.status, t.c.deadline_at)
                                .where(t.c.status.in_(OPEN_STATUSES), t.c.deadline_at.is_not(None),
                                       t.c.deadline_at <= today + dt.timedelta(days=within_days))
                                .order_by(t.c.deadline_at, t.c.ma_lk)).all()
        by_day: dict[str, dict[str, int]] = {}
        for staged_at, status in rows:
            day = staged_at.date().isoformat()
            by_day.setdefault(day, {}).setdefault(status, 0)
            by_day[day][status] += 1
        return {
            "by_status": {**{s.value: 0 for s in STATUSES}, **by_status},  # and any status a later release adds
            "by_day": dict(sorted(by_day.items())),
            "late": [{"ma_lk": m, "version": v, "status": s, "deadline_at": d.isoformat(),
                      "hours_left": round((d - today).total_seconds() / 3600, 1), "overdue": d <= today}
                     for m, v, s, d in late],
        }

    PARQUET_SCHEMA = pa.schema([
        ("facility", pa.string()), ("ma_lk", pa.string()), ("version", pa.int32()),
        ("content_hash", pa.string()), ("spec_version", pa.string()), ("status", pa.string()),
        ("reasons", pa.string()), ("path", pa.string()), ("closed_at", pa.timestamp("s")),
        ("deadline_at", pa.timestamp("s")), ("staged_at", pa.timestamp("s")), ("updated_at", pa.timestamp("s")),
        ("run_id", pa.string()),
    ])

    def to_parquet(self, path, chunk: int = 20_000) -> int:
        """A snapshot of every hồ sơ version as Parquet (for analysis), streamed in chunks; returns the row count."""
        schema = self.PARQUET_SCHEMA
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = 0
        with pq.ParquetWriter(path, schema) as writer:
            batch: list[dict[str, Any]] = []
            for r in self.versions():
                batch.append({k: r[k] for k in schema.names})
                if len(batch) >= chunk:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    rows += len(batch)
                    batch = []
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            rows += len(batch)
        return rows
