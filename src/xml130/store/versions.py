"""Hồ sơ versions: re-staging the same content changes nothing (same hash, no new version); changed content
becomes version n+1 and the previous version is marked ``replaced``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select, update

from ..codes import TO_SEND, Status
from .tables import hoso_version, now, one_of


@dataclass
class Latest:
    version: int
    content_hash: str
    status: str
    path: str | None
    deadline_at: dt.datetime | None = None


class Versions:
    engine: Engine

    def latest(self, facility: str, ma_lk: str) -> Latest | None:
        t = hoso_version
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.version, t.c.content_hash, t.c.status, t.c.path)
                               .where(t.c.facility == facility, t.c.ma_lk == ma_lk)
                               .order_by(t.c.version.desc()).limit(1)).first()
        return Latest(*row) if row else None

    def latest_many(self, facility: str, ma_lks: list[str]) -> dict[str, Latest]:
        """The latest version of each MA_LK (one query per batch)."""
        t = hoso_version
        if not ma_lks:
            return {}
        newest = (select(t.c.ma_lk, func.max(t.c.version).label("v"))
                  .where(t.c.facility == facility, t.c.ma_lk.in_(ma_lks)).group_by(t.c.ma_lk).subquery())
        q = (select(t.c.ma_lk, t.c.version, t.c.content_hash, t.c.status, t.c.path, t.c.deadline_at)
             .join(newest, (t.c.ma_lk == newest.c.ma_lk) & (t.c.version == newest.c.v))
             .where(t.c.facility == facility))
        with self.engine.connect() as conn:
            return {r[0]: Latest(*r[1:]) for r in conn.execute(q)}

    def add_version(self, **row: Any) -> None:
        """Insert one version (and mark the one it replaces) in its own transaction."""
        self.add_versions([row])

    def add_versions(self, rows: list[dict[str, Any]]) -> None:
        """Insert versions and mark the ones they replace, all in one transaction (one per staged batch).

        Each row: facility, ma_lk, version, content_hash, spec_version, status, reasons, path, closed_at,
        deadline_at, run_id, and ``replaces`` (the version it supersedes, or None)."""
        if not rows:
            return
        stamp = now()
        with self.engine.begin() as conn:
            for r in rows:
                one_of(Status, r["status"])
                if r.get("replaces") is not None:
                    conn.execute(update(hoso_version).where(
                        hoso_version.c.facility == r["facility"], hoso_version.c.ma_lk == r["ma_lk"],
                        hoso_version.c.version == r["replaces"]).values(status=Status.REPLACED, updated_at=stamp))
            conn.execute(hoso_version.insert(), [{
                **{k: v for k, v in r.items() if k != "replaces"},
                "reasons": json.dumps(r["reasons"], ensure_ascii=False) if r.get("reasons") is not None else None,
                "staged_at": stamp, "updated_at": stamp} for r in rows])

    def set_status(self, facility: str, ma_lk: str, version: int, status: str) -> None:
        status = one_of(Status, status)
        with self.engine.begin() as conn:
            conn.execute(update(hoso_version).where(
                hoso_version.c.facility == facility, hoso_version.c.ma_lk == ma_lk,
                hoso_version.c.version == version).values(status=status, updated_at=now()))

    def versions(self) -> Iterator[dict[str, Any]]:
        with self.engine.connect() as conn:
            q = select(hoso_version).order_by(hoso_version.c.facility, hoso_version.c.ma_lk, hoso_version.c.version)
            for row in conn.execution_options(stream_results=True, yield_per=5000).execute(q):
                yield dict(row._mapping)

    def pending_hoso(self, facility: str | None = None) -> list[dict[str, Any]]:
        """Versions to send, oldest episode first: staged, or submitted without an answer (a retry then carries
        the same request id)."""
        t = hoso_version
        q = select(t).where(t.c.status.in_(TO_SEND))
        if facility:
            q = q.where(t.c.facility == facility)
        q = q.order_by(t.c.closed_at, t.c.ma_lk, t.c.version)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]
