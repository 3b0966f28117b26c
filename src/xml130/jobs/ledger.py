"""The ledger: every hồ sơ version xml130 ever staged or quarantined, its status, and the state of each flow.

One database (SQLite by default, PostgreSQL in production; any SQLAlchemy URL) next to the outbox:

- ``hoso_version``: facility, MA_LK, version, content hash, spec version, status (staged, quarantined,
  submitted, accepted, rejected, replaced), reasons, outbox path, closing time, deadline, timestamps, run.
- ``checkin_event``: each check-in document (MA_LK, event, hash, status, path).
- ``flow_state``: named cursors (the nightly watermark, the check-in watermark): dlt's "state next to the data".
- ``flow_run``: one row per run with its window and counts.

Re-staging the same content changes nothing (same hash, no new version); changed content becomes version n+1 and
the previous version is marked ``replaced``. A unique key on (facility, MA_LK, version) makes a duplicate row
impossible even when two runs race.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    func,
    inspect,
    select,
    text,
    update,
)

from ..codes import OPEN_STATUSES, TO_SEND, Status

metadata = MetaData()

STATUSES = tuple(Status)  # stored as their text (StrEnum)

hoso_version = Table(
    "hoso_version", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("facility", String(10), nullable=False),
    Column("ma_lk", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("spec_version", String(10)),
    Column("status", String(20), nullable=False),
    Column("reasons", Text),  # JSON list of findings (quarantine), or the reason given for a resend
    Column("path", String(500)),
    Column("closed_at", DateTime),
    Column("deadline_at", DateTime),
    Column("staged_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("run_id", String(40), nullable=False),
    UniqueConstraint("facility", "ma_lk", "version", name="uq_hoso_version"),
)

checkin_event = Table(
    "checkin_event", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("facility", String(10), nullable=False),
    Column("ma_lk", String(100), nullable=False),
    Column("event", String(20), nullable=False),  # first_cost | ward_admission
    Column("event_at", DateTime, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reasons", Text),
    Column("path", String(500)),
    Column("staged_at", DateTime, nullable=False),
    Column("run_id", String(40), nullable=False),
    UniqueConstraint("facility", "ma_lk", "event", name="uq_checkin_event"),
)

submission = Table(
    "submission", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False),  # hoso | checkin
    Column("facility", String(10), nullable=False),
    Column("ma_lk", String(100), nullable=False),
    Column("version", Integer),  # hồ sơ version (None for a check-in)
    Column("event", String(20)),  # check-in event (None for a hồ sơ)
    Column("request_id", String(200), nullable=False),
    Column("sent_bytes", LargeBinary, nullable=False),  # exactly what was sent (signed)
    Column("sent_at", DateTime, nullable=False),
    Column("http_status", Integer),
    Column("ma_ket_qua", String(20)),
    Column("ma_giao_dich", String(100)),
    Column("thoi_gian_tiep_nhan", String(30)),
    Column("thong_diep", Text),
    Column("answer", Text),  # the whole answer, JSON
    # sending (recorded before the bytes leave) | accepted | rejected (the data) | unanswered (no answer: sent
    # again with the same bytes) | refused (the answer blames the sender: 123, 125, 401 … — due again)
    Column("outcome", String(20), nullable=False),
    Column("reason", Text),  # why an attempt was not accepted, in words (the portal's or the client's)
)

flow_state = Table(
    "flow_state", metadata,
    Column("name", String(100), primary_key=True),
    Column("value", DateTime),
    Column("updated_at", DateTime, nullable=False),
)

flow_run = Table(
    "flow_run", metadata,
    Column("run_id", String(40), primary_key=True),
    Column("flow", String(50), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("window", String(200)),
    Column("counts", Text),
    Column("status", String(20), nullable=False),
)


SUBMISSION_OUTCOMES = ("sending", "accepted", "rejected", "unanswered", "refused")

# --- approved catalogues (danh mục; xml130.catalog) ------------------------------------------------------------
# (Named approved_*: a HIS sharing the database may have its own catalog tables.) One row per approved item and
# validity period; a sheet imported twice adds nothing (unique content hash), an
# identical row in a later file is the same item (unique row hash). Lookups go by (kind, code).
approved_import = Table(
    "approved_import", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # drug | supply | service | staff | department | equipment
    Column("file", String(500), nullable=False),
    Column("sheet", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("added", Integer, nullable=False),
    Column("bad_rows", Text),  # JSON list of {sheet, row, reason}
    UniqueConstraint("kind", "content_hash", name="uq_approved_import"),
)

approved_item = Table(
    "approved_item", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("code", String(255), nullable=False),
    Column("valid_from", Date),  # None: valid since always
    Column("valid_to", Date),  # None: still valid
    Column("data", Text, nullable=False),  # JSON: every column of the approved row, typed
    Column("row_hash", String(64), nullable=False),
    Column("import_id", Integer, nullable=False),
    UniqueConstraint("kind", "row_hash", name="uq_approved_item"),
    Index("ix_approved_item_kind_code", "kind", "code"),
)
# Findings across hồ sơ (xml130.catalog.crossstage): one row per hồ sơ version involved, naming the others.
cross_finding = Table(
    "cross_finding", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("facility", String(10), nullable=False),
    Column("ma_lk", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("day", Date, nullable=False),
    Column("code", String(40), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("row", Integer),
    Column("others", Text, nullable=False),  # JSON list of the other MA_LK
    Column("message", Text, nullable=False),
    Column("run_id", String(40), nullable=False),
    Index("ix_cross_finding_hoso", "facility", "ma_lk", "version"),
    Index("ix_cross_finding_day", "facility", "day"),
)
# --- end of the catalogue tables ------------------------------------------------------------------------------

def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _stamp(kind: str) -> dict[str, Any]:
    return {"updated_at": now()} if kind == "hoso" else {}  # check-in events carry no updated_at


@dataclass
class Latest:
    version: int
    content_hash: str
    status: str
    path: str | None


def _add_missing_columns(engine: Engine) -> None:
    """Columns added after a ledger was created (``create_all`` creates only missing tables)."""
    if "reason" not in {c["name"] for c in inspect(engine).get_columns("submission")}:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE submission ADD COLUMN reason TEXT"))


class Ledger:
    def __init__(self, url: str | Engine):
        if isinstance(url, str) and url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        # several Dask workers may write one SQLite ledger: wait for the lock instead of failing at once
        connect_args = {"timeout": 60} if isinstance(url, str) and url.startswith("sqlite") else {}
        self.engine = url if isinstance(url, Engine) else create_engine(url, connect_args=connect_args)
        metadata.create_all(self.engine)
        _add_missing_columns(self.engine)

    # --- state -------------------------------------------------------------------------------------------
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

    # --- hồ sơ versions ------------------------------------------------------------------------------------
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
        q = (select(t.c.ma_lk, t.c.version, t.c.content_hash, t.c.status, t.c.path)
             .join(newest, (t.c.ma_lk == newest.c.ma_lk) & (t.c.version == newest.c.v))
             .where(t.c.facility == facility))
        with self.engine.connect() as conn:
            return {r[0]: Latest(r[1], r[2], r[3], r[4]) for r in conn.execute(q)}

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
                assert r["status"] in STATUSES
                if r.get("replaces") is not None:
                    conn.execute(update(hoso_version).where(
                        hoso_version.c.facility == r["facility"], hoso_version.c.ma_lk == r["ma_lk"],
                        hoso_version.c.version == r["replaces"]).values(status=Status.REPLACED, updated_at=stamp))
            conn.execute(hoso_version.insert(), [{
                **{k: v for k, v in r.items() if k != "replaces"},
                "reasons": json.dumps(r["reasons"], ensure_ascii=False) if r.get("reasons") is not None else None,
                "staged_at": stamp, "updated_at": stamp} for r in rows])

    def set_status(self, facility: str, ma_lk: str, version: int, status: str) -> None:
        assert status in STATUSES
        with self.engine.begin() as conn:
            conn.execute(update(hoso_version).where(
                hoso_version.c.facility == facility, hoso_version.c.ma_lk == ma_lk,
                hoso_version.c.version == version).values(status=status, updated_at=now()))

    def versions(self) -> Iterator[dict[str, Any]]:
        with self.engine.connect() as conn:
            q = select(hoso_version).order_by(hoso_version.c.facility, hoso_version.c.ma_lk, hoso_version.c.version)
            for row in conn.execution_options(stream_results=True, yield_per=5000).execute(q):
                yield dict(row._mapping)

    # --- check-in ------------------------------------------------------------------------------------------
    def checkin_known(self, facility: str, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        if not keys:
            return set()
        t = checkin_event
        ma_lks = sorted({k[0] for k in keys})
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.ma_lk, t.c.event).where(t.c.facility == facility, t.c.ma_lk.in_(ma_lks)))
            return {(r[0], r[1]) for r in rows}

    def add_checkins(self, rows: list[dict[str, Any]]) -> None:
        """Insert check-in events in one transaction (the unique key refuses an event twice)."""
        if rows:
            stamp = now()
            with self.engine.begin() as conn:
                conn.execute(checkin_event.insert(), [{**r, "staged_at": stamp} for r in rows])

    # --- submission -----------------------------------------------------------------------------------------
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

    def pending_checkins(self, facility: str | None = None) -> list[dict[str, Any]]:
        t = checkin_event
        q = select(t).where(t.c.status.in_(TO_SEND))
        if facility:
            q = q.where(t.c.facility == facility)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q.order_by(t.c.event_at, t.c.ma_lk, t.c.event))]

    def mark_signing(self, kind: str, row: dict[str, Any], status: Status) -> None:
        """``awaiting_signature`` while a remote signer has not answered; ``staged`` again when it refused or the
        request expired (asked afresh next run). Nothing is sent in either case."""
        assert status in (Status.AWAITING_SIGNATURE, Status.STAGED)
        table = hoso_version if kind == "hoso" else checkin_event
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == row["id"]).values(status=status, **_stamp(kind)))

    def begin_submission(self, kind: str, row: dict[str, Any], request_id: str, sent: bytes) -> int:
        """Keep the exact bytes about to be sent and mark the file ``submitted``, in one transaction, before the
        bytes leave: a run stopped at any point after this sends the very same bytes again."""
        table = hoso_version if kind == "hoso" else checkin_event
        with self.engine.begin() as conn:
            sub_id = conn.execute(submission.insert().values(
                kind=kind, facility=row["facility"], ma_lk=row["ma_lk"], version=row.get("version"),
                event=row.get("event"), request_id=request_id, sent_bytes=sent, sent_at=now(),
                outcome="sending")).inserted_primary_key[0]
            conn.execute(update(table).where(table.c.id == row["id"]).values(status=Status.SUBMITTED,
                                                                             **_stamp(kind)))
        return sub_id

    def finish_submission(self, kind: str, row: dict[str, Any], sub_id: int, receipt: Any, outcome: str,
                          reason: str | None = None) -> None:
        """The portal's answer (or why there is none) and the file's new status, in one transaction: accepted and
        rejected are final; unanswered stays ``submitted`` (the same bytes go again); refused is ``staged``
        again (signed afresh next run)."""
        assert outcome in SUBMISSION_OUTCOMES
        table = hoso_version if kind == "hoso" else checkin_event
        status = {"accepted": Status.ACCEPTED, "rejected": Status.REJECTED, "refused": Status.STAGED}.get(
            outcome, Status.SUBMITTED)
        with self.engine.begin() as conn:
            conn.execute(update(submission).where(submission.c.id == sub_id).values(
                http_status=getattr(receipt, "http_status", None), ma_ket_qua=getattr(receipt, "ma_ket_qua", None),
                ma_giao_dich=getattr(receipt, "ma_giao_dich", None),
                thoi_gian_tiep_nhan=getattr(receipt, "thoi_gian_tiep_nhan", None),
                thong_diep=getattr(receipt, "thong_diep", None),
                answer=json.dumps(getattr(receipt, "raw", {}), ensure_ascii=False), outcome=outcome, reason=reason))
            conn.execute(update(table).where(table.c.id == row["id"]).values(status=status, **_stamp(kind)))

    def bytes_in_flight(self, kind: str, row: dict[str, Any]) -> bytes | None:
        """The bytes of the file's last attempt when it got no answer (``sending`` or ``unanswered``), else None."""
        t = submission
        key = t.c.version == row["version"] if kind == "hoso" else t.c.event == row["event"]
        q = (select(t.c.sent_bytes, t.c.outcome).where(t.c.kind == kind, t.c.facility == row["facility"],
                                                       t.c.ma_lk == row["ma_lk"], key)
             .order_by(t.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            last = conn.execute(q).first()
        return last[0] if last is not None and last[1] in ("sending", "unanswered") else None

    def submissions(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(submission).order_by(submission.c.id))]

    # --- reports -------------------------------------------------------------------------------------------
    def summary(self, today: dt.datetime | None = None, within_days: int = 2) -> dict[str, Any]:
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
                      "overdue": d <= today} for m, v, s, d in late],
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
