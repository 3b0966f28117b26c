"""One run of the adoption report, as the command and the scheduled flow both call it."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from ..mapping import load_mapping
from .counts import AdoptionReport, build_report, labels
from .outputs import write_outputs
from .period import Period, ReportInputError


def read_notes(path: str | Path | None) -> dict[str, str]:
    """The free-text answers of the staff survey (keys of ``[staff_notes]`` in labels.toml)."""
    if not path:
        return {}
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    known = labels()["staff_notes"]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ReportInputError(f"{path}: unknown keys {unknown} (known: {', '.join(known)})")
    return {k: str(v) for k, v in data.items()}


def resolve_period(period: str | None, kind: str = "week", now: dt.datetime | None = None) -> Period:
    """``2026-W47`` / ``2026-11``, or the last complete week (month) in Asia/Ho_Chi_Minh when not given."""
    if period:
        return Period.parse(period)
    if kind not in ("week", "month"):
        raise ReportInputError(f"{kind!r}: a report covers a week or a month")
    return Period.last_complete(kind, now)


def run_adoption_report(source: str, out: Path, *, period: str | None = None, kind: str = "week",
                        mapping: str | Path, periods: int | None = None,
                        notes: str | Path | None = None, rank_min_patients: int | None = None,
                        now: dt.datetime | None = None) -> tuple[AdoptionReport, dict[str, Path]]:
    chosen = resolve_period(period, kind, now)
    notes_text = read_notes(notes)  # read first: a wrong notes file stops the run before the database is asked
    report = build_report(source, chosen, mapping=load_mapping(mapping), periods=periods,
                          rank_min_patients=rank_min_patients, now=now)
    return report, write_outputs(report, out, notes_text)


def summary(report: AdoptionReport, files: dict[str, Path]) -> dict[str, Any]:
    """What the flow returns and publishes: the period, the totals, the ranking and where the files are."""
    d = report.as_dict()
    return {"period": d["period"], "period_title": d["period_title"], "total": d["total"],
            "departments": d["departments"], "warnings": d["warnings"],
            "files": {k: str(p) for k, p in files.items()}}
