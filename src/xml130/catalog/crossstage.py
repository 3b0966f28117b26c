"""The nightly stage of the checks across hồ sơ: the run's staged versions plus what the ledger holds for the
same days, checked together (:mod:`xml130.catalog.cross`).

Each finding is stored in ``cross_finding`` for every hồ sơ version involved (naming the others) and added to
that version's reasons. An error holds a version back — a ``staged`` version (not yet sent) becomes
``quarantined`` with its file kept — a warning does not. Re-running the stage recomputes the same days: the
same findings replace the old ones, and a version held back by this stage whose conflict is gone is staged again.
The findings of each day go to ``_runs/<run>/cross.json`` and, inside a Prefect flow, to one artifact per day.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .. import findings as fnd
from ..params import Params, defaults
from ..parse import ParseError
from ..store.catalog import imported
from ..store.cross import record_cross, run_versions, versions_closed
from ..store.files import write_json
from ..store.ledger import Ledger
from .cross import CrossFinding, check_day
from .facts import HosoFacts, read_facts

PREFIX = "CROSS."


def _facts(outbox: Path, rows: list[dict[str, Any]], params: Params) -> list[HosoFacts]:
    out = []
    for r in rows:
        try:
            out.extend(read_facts((outbox / r["path"]).read_bytes(), version=r["version"], status=r["status"],
                                  params=params))
        except (OSError, ParseError):  # a file removed or damaged by hand: nothing to compare (the Stager rewrites it)
            continue
    return out


def cross_stage(ledger_url: str, outbox: Path, facility: str, report: Any, *,
                exam_limit: int | None = None, params: Params | None = None) -> list[CrossFinding]:
    """Check the run ``report.run_id`` against its days; update the ledger and ``report`` (counts, quarantine)."""
    p = params if params is not None else defaults()
    ledger = Ledger(ledger_url)
    mine = run_versions(ledger, facility, report.run_id)
    facts = _facts(outbox, mine, p)
    if not facts:
        return []
    first = min((f.start for f in facts if f.start), default=None)
    last = max(r["closed_at"] for r in mine if r["closed_at"]) if any(r["closed_at"] for r in mine) else None
    others: list[dict[str, Any]] = []
    if first and last:
        since = dt.datetime.combine(first.date() - dt.timedelta(days=p["cross_lookback_days"]), dt.time())
        until = dt.datetime.combine(last.date() + dt.timedelta(days=1), dt.time())
        others = versions_closed(ledger, facility, since, until, except_run=report.run_id)
        facts += _facts(outbox, others, p)
    found = check_day(facts, imported(ledger), exam_limit=exam_limit, params=p)
    _record(ledger, facility, report, mine + others, found)
    _publish_files(outbox, report, found)
    return found


def _record(ledger: Ledger, facility: str, report: Any, rows: list[dict[str, Any]], found: list[CrossFinding]) -> None:
    by_version: dict[tuple[str, int], list[CrossFinding]] = defaultdict(list)
    for f in found:
        by_version[(f.ma_lk, f.version)].append(f)
    counts: Counter = Counter()
    changes: list[dict[str, Any]] = []
    for r in rows:
        mine = by_version.get((r["ma_lk"], r["version"]), [])
        old = json.loads(r["reasons"]) if r["reasons"] else []
        old = old if isinstance(old, list) else [old]  # a resend's reason stays, first
        reasons = [x for x in old if not str(x.get("code", "")).startswith(PREFIX)]
        reasons += [f.finding().to_dict() for f in mine]
        status = r["status"]
        errors = [f for f in mine if f.severity == fnd.ERROR]
        if errors and status == "staged":
            status = "quarantined"
            counts["held_back_by_cross_check"] += 1
            if r["run_id"] == report.run_id:  # staged by this run: count it where it ends, as the ledger does
                counts["staged"] -= 1
                counts["quarantined"] += 1
            report.quarantine.append({"ma_lk": r["ma_lk"], "reasons": reasons})
            report.quarantined_by_code.update(f.code for f in errors)
        elif not errors and status == "quarantined":  # held back by this stage before; the conflict is gone
            status = "staged"
            counts["released_by_cross_check"] += 1
        if status != r["status"] or reasons != old:
            changes.append({"ma_lk": r["ma_lk"], "version": r["version"], "status": status, "reasons": reasons})
    record_cross(ledger, facility, [(r["ma_lk"], r["version"]) for r in rows], [{
        "ma_lk": f.ma_lk, "version": f.version, "day": f.day, "code": f.code, "severity": f.severity, "row": f.row,
        "others": json.dumps(list(f.others)), "message": f.message, "run_id": report.run_id} for f in found], changes)
    counts.update(f"cross_{f.severity}s" for f in found)
    report.counts.update(counts)


def by_day(found: list[CrossFinding]) -> dict[str, list[dict[str, Any]]]:
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in found:
        days[f.day.isoformat()].append({**f.finding().to_dict(), "version": f.version, "others": list(f.others)})
    return dict(sorted(days.items()))


def _publish_files(outbox: Path, report: Any, found: list[CrossFinding]) -> None:
    write_json(outbox / "_runs" / report.run_id / "cross.json", by_day(found))


def publish_artifacts(report: dict[str, Any]) -> None:
    """One Markdown artifact per day listing the findings across hồ sơ (inside a Prefect flow run only)."""
    from prefect.artifacts import create_markdown_artifact
    from prefect.context import FlowRunContext

    path = Path(report["report_dir"]) / "cross.json"
    if FlowRunContext.get() is None or not path.exists():
        return
    for day, items in json.loads(path.read_text(encoding="utf-8")).items():
        lines = [f"# Kiểm tra chéo hồ sơ — {day}", "", "| MA_LK | mã | mức | dòng | hồ sơ liên quan | nội dung |",
                 "|---|---|---|---|---|---|"]
        lines += [f"| {i['ma_lk']} | {i['code']} | {i['severity']} | {i['row'] or ''} | {', '.join(i['others'])} "
                  f"| {i['message']} |" for i in items]
        create_markdown_artifact("\n".join(lines), key=f"cross-hoso-{day}", description=f"xml130: {len(items)} findings")
