"""When data must reach the portal: the dated limits of ``data/deadlines.toml`` (README of the standard, "When to
send"; /work/shared/standard/regulations-2026.md).

- TT 48/2017/TT-BYT: within 7 working days of the end of the visit (weekends and the public holidays of
  ``data/holidays_vn.toml`` do not count), and a month's data before the 5th of the next month;
- the draft that replaces TT 48 (expected from 01/01/2027, not signed): within 3 hours — a dated entry that a
  hospital switches on by configuration (``XML130_DEADLINES=DRAFT_TT48.3H``), off by default;
- TT 12/2026/TT-BTC (from 01/04/2026): a correction within 2 working days after the portal reports an error.

``deadline_for`` gives the last moment a version may reach the portal: the earliest of the ``hoso`` entries in
force on its NGAY_RA; ``correction_deadline`` the last moment for the correction of a version the portal
rejected. A new instrument is a new entry in the data file.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

SWITCH = "XML130_DEADLINES"  # the opt-in entries a hospital switches on, comma-separated ids


@dataclass(frozen=True)
class Limit:
    """One dated entry of ``data/deadlines.toml``."""

    id: str
    applies_to: str  # hoso | correction
    source: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    working_days: int | None = None
    before_day_of_next_month: int | None = None
    hours: float | None = None
    opt_in: bool = False

    def covers(self, at: dt.datetime, switched_on: frozenset[str]) -> bool:
        return (self.effective_from <= at.date() and (self.effective_to is None or at.date() <= self.effective_to)
                and (not self.opt_in or self.id in switched_on))

    def last_moment(self, at: dt.datetime, off: frozenset[dt.date]) -> dt.datetime:
        if self.working_days is not None:
            return dt.datetime.combine(add_working_days(at.date(), self.working_days, off), dt.time(23, 59, 59))
        if self.before_day_of_next_month is not None:
            first_next = (at.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            return dt.datetime.combine(first_next.date().replace(day=self.before_day_of_next_month), dt.time())
        assert self.hours is not None
        return at + dt.timedelta(hours=self.hours)


@cache
def limits() -> tuple[Limit, ...]:
    data = tomllib.loads((resources.files("xml130") / "data" / "deadlines.toml").read_text(encoding="utf-8"))
    out = tuple(Limit(**entry) for entry in data["deadline"])
    for limit in out:
        measures = [m for m in (limit.working_days, limit.before_day_of_next_month, limit.hours) if m is not None]
        if len(measures) != 1 or limit.applies_to not in ("hoso", "correction"):
            raise ValueError(f"data/deadlines.toml: {limit.id}: one measure and applies_to hoso|correction")
    return out


def switched_on() -> frozenset[str]:
    """The opt-in entries switched on in this process's environment (``XML130_DEADLINES``); an unknown id is an
    error naming the known ones."""
    ids = frozenset(x.strip() for x in os.environ.get(SWITCH, "").split(",") if x.strip())
    known = {x.id for x in limits() if x.opt_in}
    if ids - known:
        raise ValueError(f"{SWITCH}: unknown {', '.join(sorted(ids - known))}; the entries to switch on are "
                         f"{', '.join(sorted(known))} (data/deadlines.toml)")
    return ids


@cache
def holidays() -> frozenset[dt.date]:
    data = tomllib.loads((resources.files("xml130") / "data" / "holidays_vn.toml").read_text(encoding="utf-8"))
    days: set[dt.date] = set()
    years = {int(y) for y in data.get("years", {})} | set(range(2024, 2031))
    for year in years:
        for md in data.get("fixed", []):
            month, day = (int(x) for x in md.split("-"))
            days.add(dt.date(year, month, day))
    for listed in data.get("years", {}).values():
        days.update(dt.date.fromisoformat(d) for d in listed)
    return frozenset(days)


def is_working_day(day: dt.date, off: frozenset[dt.date] | None = None) -> bool:
    off = holidays() if off is None else off
    return day.weekday() < 5 and day not in off


def add_working_days(day: dt.date, n: int, off: frozenset[dt.date] | None = None) -> dt.date:
    current = day
    counted = 0
    while counted < n:
        current += dt.timedelta(days=1)
        if is_working_day(current, off):
            counted += 1
    return current


def governing(kind: str, at: dt.datetime, off: frozenset[dt.date] | None = None,
              on: frozenset[str] | None = None) -> tuple[dt.datetime, Limit] | None:
    """The earliest last moment of the ``kind`` entries in force at ``at``, with its entry (None: no entry)."""
    off = holidays() if off is None else off
    on = switched_on() if on is None else on
    found = [(limit.last_moment(at, off), limit) for limit in limits()
             if limit.applies_to == kind and limit.covers(at, on)]
    return min(found, key=lambda x: x[0]) if found else None


def deadline_for(discharged: dt.datetime, off: frozenset[dt.date] | None = None,
                 on: frozenset[str] | None = None) -> dt.datetime | None:
    """The last moment a version of a visit that ended at ``discharged`` may reach the portal (None before any
    entry applied)."""
    found = governing("hoso", discharged, off, on)
    return found[0] if found else None


def correction_deadline(reported: dt.datetime, off: frozenset[dt.date] | None = None,
                        on: frozenset[str] | None = None) -> dt.datetime | None:
    """The last moment for the correction of a version the portal reported an error on at ``reported`` (None
    before TT 12/2026 applied)."""
    found = governing("correction", reported, off, on)
    return found[0] if found else None
