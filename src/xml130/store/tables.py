"""The ledger's tables: every piece of state xml130 keeps, in one database (SQLite by default, PostgreSQL in
production; any SQLAlchemy URL) next to the outbox.

- ``hoso_version``: facility, MA_LK, version, content hash, spec version, status (staged, quarantined,
  submitted, accepted, rejected, replaced), reasons, outbox path, closing time, deadline, timestamps, run.
- ``checkin_event``: each check-in document (MA_LK, event, hash, status, path).
- ``submission``: each attempt to send a file, with the exact bytes sent and the portal's answer.
- ``flow_state``: named cursors (the nightly watermark, the check-in watermark): dlt's "state next to the data".
- ``flow_run``: one row per run with its window and counts.
- ``job_lock``: who holds each job's lock (:mod:`.lock`; the lock itself is the database's).
- ``approved_import``, ``approved_item``: the facility's approved catalogues (:mod:`.catalog`).
- ``cross_finding``: the findings across hồ sơ (:mod:`.cross`).

A unique key on (facility, MA_LK, version) makes a duplicate version impossible even when two runs race.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ..codes import Status
from ..errors import Xml130Error

metadata = MetaData()
E = TypeVar("E", bound=StrEnum)

STATUSES = tuple(Status)  # stored as their text (StrEnum)


class LedgerValueError(Xml130Error, ValueError):
    """A value the ledger does not keep — an unknown status, kind or outcome: a caller's bug, refused before any
    row is written (a check that holds under ``python -O`` too, unlike ``assert``)."""


def one_of(kind: type[E], value: object, allowed: tuple[E, ...] | None = None) -> E:
    """``value`` as a member of ``kind`` (of ``allowed`` when given), else :class:`LedgerValueError`."""
    try:
        member = kind(value)
    except ValueError:
        member = None
    if member is None or (allowed is not None and member not in allowed):
        raise LedgerValueError(f"{value!r} is not one of {', '.join(allowed or tuple(kind))} ({kind.__name__})")
    return member

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
    # again with the same bytes) | refused (the answer blames the sender: 123, 125, 401 … — due again) |
    # not_sent (nothing left: no token — the file stays due; sent_bytes empty)
    Column("outcome", String(20), nullable=False),
    Column("reason", Text),  # why an attempt was not accepted, in words (the portal's or the client's)
)

flow_state = Table(
    "flow_state", metadata,
    Column("name", String(100), primary_key=True),
    Column("value", DateTime),
    Column("updated_at", DateTime, nullable=False),
)

job_lock = Table(  # who holds each job's lock (store.lock): for the message of a second run only
    "job_lock", metadata,
    Column("name", String(40), primary_key=True),
    Column("holder", String(300), nullable=False),
    Column("since", DateTime, nullable=False),
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


# --- approved catalogues (danh mục; .catalogues) ------------------------------------------------------------
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
# Findings across hồ sơ (.cross): one row per hồ sơ version involved, naming the others.
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
# Deadline alerts sent (xml130.jobs.alerts): one row per version and deadline, so each is announced once.
deadline_alert = Table(
    "deadline_alert", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("facility", String(10), nullable=False),
    Column("ma_lk", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("deadline_at", DateTime, nullable=False),
    Column("alerted_at", DateTime, nullable=False),
    UniqueConstraint("facility", "ma_lk", "version", "deadline_at", name="uq_deadline_alert"),
)
# --- end of the catalogue tables ------------------------------------------------------------------------------


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)
