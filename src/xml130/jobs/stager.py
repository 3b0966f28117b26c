"""The one stager: every job that turns extracted hồ sơ (or check-in events) into files goes through it.

The stager does what must be the same everywhere: the business rules on every hồ sơ that meets the spec (an
``error`` keeps it out with every finding; warnings travel with it), rendering, the content hash, the quarantine
entry with every reason, the counts, and never failing a run because of one hồ sơ (``EXPORT.INTERNAL``).
Where the result goes is the write behaviour a job declares by the writer it passes:

- :class:`Versioned` (``nightly``, ``resend``): the outbox and the ledger, with versions. Same content → nothing
  changes; changed content → version n+1 replacing the previous one; files written before their ledger rows.
- :class:`Folder` (``export``): ``<MA_LK>.xml`` in a plain folder, nothing remembered.
- :class:`InsertOnce` (``checkin``): one document per event, written once and never again.

So ``export`` quarantines exactly what ``nightly`` does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from .. import findings as fnd
from ..codes import Outcome, Status
from ..dates import compact
from ..models import Hoso
from ..params import Params
from ..render import render_checkin, render_hoso
from ..rules import run_rules
from ..store.catalog import Catalog
from ..store.files import write_atomic, write_json
from ..store.ledger import Ledger
from ..store.versions import Latest
from .deadlines import deadline_for


def new_run_id(flow: str) -> str:
    return f"{flow}-{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class RunReport:
    run_id: str
    flow: str
    window: str
    counts: Counter = field(default_factory=Counter)
    quarantined_by_code: Counter = field(default_factory=Counter)
    quarantine: list[dict] = field(default_factory=list)
    report_dir: str = ""
    items: list[dict] = field(default_factory=list)  # what a submit run sent (or would send)
    notes: list[str] = field(default_factory=list)  # why a run stopped early

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "flow": self.flow, "window": self.window, "counts": dict(self.counts),
                "quarantined_by_code": dict(sorted(self.quarantined_by_code.items())),
                "report_dir": self.report_dir, **({"notes": self.notes} if self.notes else {})}


@dataclass
class CheckinItem:
    """One check-in event: its XML0 row as a one-table hồ sơ, or the findings that keep it out."""

    ma_lk: str
    event: str
    event_at: dt.datetime
    hoso: Hoso | None = None
    findings: list[fnd.Finding] = field(default_factory=list)


@dataclass
class Judged:
    """An item after the rules: its document and hash, or (``data`` None) its quarantine reasons and their hash."""

    item: Any
    data: bytes | None
    digest: str
    reasons: list[dict] | None  # why it is quarantined; or the warnings that travel with a staged document

    @property
    def status(self) -> Status:
        return Status.QUARANTINED if self.data is None else Status.STAGED


class Writer(Protocol):
    """A declared write behaviour."""

    def render(self, item: Any) -> bytes: ...
    def label(self, item: Any) -> dict[str, Any]: ...  # what names the item in quarantine.json besides MA_LK
    def open_batch(self, items: list[Any]) -> None: ...
    def settled(self, item: Any) -> bool: ...  # written for good already: nothing to judge
    def put(self, judged: Judged) -> Outcome: ...
    def close_batch(self) -> None: ...


class Stager:
    """Judges and stages items batch by batch through one writer (one instance per run)."""

    def __init__(self, writer: Writer, report: RunReport, *, rules: bool = True, catalog: Catalog | None = None,
                 params: Params | None = None):
        """``catalog``: the approved catalogues the catalog rules check against (none: no R.CAT.* rule);
        ``params``: the thresholds of the rules (default: the file's)."""
        self.writer, self.report, self.rules = writer, report, rules
        self.catalog, self.params = catalog, params

    def stage_batch(self, items: list[Any]) -> None:
        self.writer.open_batch(items)
        for item in items:
            self.report.counts[self.stage(item).value] += 1
        self.writer.close_batch()

    def stage(self, item: Any) -> Outcome:
        if self.writer.settled(item):
            return Outcome.UNCHANGED
        try:
            return self.writer.put(self.judge(item))
        except Exception as exc:  # a bug or an I/O error on one hồ sơ never fails the run: record it loudly
            item.hoso = None
            item.findings = [fnd.make("EXPORT.INTERNAL", ma_lk=item.ma_lk, detail=f"{type(exc).__name__}: {exc}")]
            return self.writer.put(self.judge(item))

    def judge(self, item: Any) -> Judged:
        warnings = None
        if item.hoso is not None and self.rules:
            found = run_rules(item.hoso, catalog=self.catalog, params=self.params)
            if any(f.severity == fnd.ERROR for f in found):  # a rule the portal enforces: keep it back
                item.hoso, item.findings = None, found
            elif found:
                warnings = [f.to_dict() for f in found]
                self.report.counts["with_warnings"] += 1
        if item.hoso is not None:
            data = self.writer.render(item)
            return Judged(item, data, sha256(data), warnings)
        reasons = [f.to_dict() for f in item.findings]
        self.report.quarantine.append({"ma_lk": item.ma_lk, **self.writer.label(item), "reasons": reasons})
        self.report.quarantined_by_code.update(r["code"] for r in reasons)
        return Judged(item, None, sha256(json.dumps(reasons, ensure_ascii=False, sort_keys=True).encode()), reasons)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def stage_all(stager: Stager, items: Iterable[Any], batch_size: int,
              on_batch: Callable[[int], None] | None = None) -> RunReport:
    for batch in batched(items, batch_size):
        stager.stage_batch(batch)
        if on_batch:
            on_batch(len(batch))
    return stager.report


# --- hồ sơ: an envelope each -----------------------------------------------------------------------------------
class _Envelopes:
    """Hồ sơ render as GIAMDINHHS envelopes (NGAYLAP: the closing day, so a re-run gives the same bytes)."""

    def render(self, item: Any) -> bytes:
        return render_hoso(item.hoso, ngaylap=(item.closed_at or dt.datetime.now()).strftime("%Y%m%d"))

    def label(self, item: Any) -> dict[str, Any]:
        return {"closed_at": item.closed_at.isoformat() if item.closed_at else None}

    def open_batch(self, items: list[Any]) -> None:
        pass

    def settled(self, item: Any) -> bool:
        return False

    def close_batch(self) -> None:
        pass


class Folder(_Envelopes):
    """``<out>/<MA_LK>.xml`` per hồ sơ; a hồ sơ quarantined now loses the file an earlier export left."""

    def __init__(self, out: Path):
        self.out = out

    def put(self, judged: Judged) -> Outcome:
        path = self.out / f"{judged.item.ma_lk}.xml"
        if judged.data is None:
            path.unlink(missing_ok=True)
            return Outcome.QUARANTINED
        write_atomic(path, judged.data)
        return Outcome.STAGED


def outbox_path(outbox: Path, facility: str, closed_at: dt.datetime | None, ma_lk: str, version: int) -> Path:
    day = (closed_at or dt.datetime.now()).strftime("%Y-%m-%d")
    return outbox / facility / day / ma_lk / f"v{version}.xml"


class Versioned(_Envelopes):
    """The outbox and the ledger, with versions. Files first (each written whole), then the batch's ledger rows
    in one transaction: a run killed in between leaves files without rows, which the next run rewrites (same
    bytes) and records. ``force_reason`` (resend) makes a new version even of unchanged content."""

    def __init__(self, ledger: Ledger, outbox: Path, facility: str, run_id: str, *, force_reason: str | None = None):
        self.ledger, self.outbox, self.facility, self.run_id = ledger, outbox, facility, run_id
        self.force_reason = force_reason
        self.known: dict[str, Latest] = {}
        self.pending: list[dict[str, Any]] = []

    def open_batch(self, items: list[Any]) -> None:
        self.known = self.ledger.latest_many(self.facility, [i.ma_lk for i in items])
        self.pending = []

    def put(self, judged: Judged) -> Outcome:
        item, data = judged.item, judged.data
        latest = self.known.get(item.ma_lk)
        if latest is not None and latest.content_hash == judged.digest and self.force_reason is None:
            if data is not None and latest.path and not (self.outbox / latest.path).exists():
                write_atomic(self.outbox / latest.path, data)  # the file was removed by hand: put it back
            return Outcome.UNCHANGED
        version = latest.version + 1 if latest else 1
        rel, spec_version, deadline = None, None, None
        if data is not None:
            path = outbox_path(self.outbox, self.facility, item.closed_at, item.ma_lk, version)
            write_atomic(path, data)
            rel, spec_version = path.relative_to(self.outbox).as_posix(), item.hoso.version.id
            deadline = deadline_for(compact(item.hoso.summary.NGAY_RA))
        elif item.closed_at:
            deadline = deadline_for(item.closed_at)  # QA must fix it in time too
        if latest is not None and latest.status == Status.REJECTED and latest.deadline_at is not None:
            deadline = min(deadline, latest.deadline_at) if deadline else latest.deadline_at  # a correction's deadline
        reasons: Any = judged.reasons
        if self.force_reason is not None and reasons is None:
            reasons = {"resend": self.force_reason}
        self.pending.append(dict(
            facility=self.facility, ma_lk=item.ma_lk, version=version, content_hash=judged.digest,
            spec_version=spec_version, status=judged.status, reasons=reasons, path=rel, closed_at=item.closed_at,
            deadline_at=deadline, run_id=self.run_id,
            replaces=latest.version if latest is not None and latest.status != Status.REPLACED else None))
        if data is None:
            return Outcome.QUARANTINED
        return Outcome.REPLACED if latest is not None else Outcome.STAGED

    def close_batch(self) -> None:
        self.ledger.add_versions(self.pending)
        self.pending = []


# --- check-in events: an XML0 document each, once --------------------------------------------------------------
class InsertOnce:
    """``<outbox>/<facility>/checkin/<event day>/<MA_LK>-<event>.xml`` and a ledger row per event, never twice;
    an event whose document ``submit`` blocked (edited after staging) is written and checked again."""

    def __init__(self, ledger: Ledger, outbox: Path, facility: str, run_id: str):
        self.ledger, self.outbox, self.facility, self.run_id = ledger, outbox, facility, run_id
        self.known: set[tuple[str, str]] = set()
        self.blocked: set[tuple[str, str]] = set()  # documents submit blocked (edited after staging): written again
        self.pending: list[dict[str, Any]] = []
        self.again: list[dict[str, Any]] = []

    def render(self, item: Any) -> bytes:  # the stager renders only an item with a hồ sơ
        return render_checkin(item.hoso.version, item.hoso.tables["XML0"])

    def label(self, item: CheckinItem) -> dict[str, Any]:
        return {"event": item.event}

    def open_batch(self, items: list[CheckinItem]) -> None:
        keys = [(i.ma_lk, i.event) for i in items]
        self.blocked = self.ledger.checkin_blocked(self.facility, keys)
        self.known = self.ledger.checkin_known(self.facility, keys) - self.blocked
        self.pending, self.again = [], []

    def settled(self, item: CheckinItem) -> bool:
        return (item.ma_lk, item.event) in self.known

    def put(self, judged: Judged) -> Outcome:
        item = judged.item
        self.known.add((item.ma_lk, item.event))
        rel = None
        if judged.data is not None:
            path = (self.outbox / self.facility / "checkin" / item.event_at.strftime("%Y-%m-%d")
                    / f"{item.ma_lk}-{item.event}.xml")
            write_atomic(path, judged.data)
            rel = path.relative_to(self.outbox).as_posix()
        (self.again if (item.ma_lk, item.event) in self.blocked else self.pending).append(dict(
            facility=self.facility, ma_lk=item.ma_lk, event=item.event, event_at=item.event_at, run_id=self.run_id,
            content_hash=judged.digest, status=judged.status, path=rel,
            reasons=json.dumps(judged.reasons, ensure_ascii=False) if judged.reasons else None))
        return Outcome.QUARANTINED if judged.data is None else Outcome.STAGED

    def close_batch(self) -> None:
        self.ledger.add_checkins(self.pending)
        self.ledger.restage_checkins(self.again)
        self.pending, self.again = [], []


def finish_run(ledger: Ledger, report: RunReport, outbox: Path, *, snapshot: bool = True) -> RunReport:
    """Close a run: its summary, quarantine and a Parquet copy of the ledger under ``<outbox>/_runs/<run id>/``
    (``snapshot`` False: no Parquet copy — the stream's cycles, every few seconds, leave it to the nightly)."""
    run_dir = outbox / "_runs" / report.run_id
    report.report_dir = str(run_dir)
    write_json(run_dir / "summary.json", report.as_dict())
    write_json(run_dir / "quarantine.json", report.quarantine)
    if snapshot:
        report.counts["ledger_rows"] = ledger.to_parquet(run_dir / "ledger.parquet")
    ledger.finish_run(report.run_id, report.as_dict()["counts"])
    return report
