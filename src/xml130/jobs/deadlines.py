"""When a hồ sơ must reach the portal (README of the standard, "When to send").

- right after the visit or treatment ends (the export stages it at once);
- corrected or confirmed within 7 working days of discharge (weekends and public holidays do not count);
- costs of a month before the 5th of the next month.

``deadline_for`` gives the last moment that satisfies both dated limits: the earlier of the end of the 7th working
day after NGAY_RA and the start of the 5th of the following month. The holiday calendar is data
(``data/holidays_vn.toml``).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import cache
from importlib import resources

WORKING_DAYS = 7
MONTH_END_DAY = 5


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


def deadline_for(discharged: dt.datetime, off: frozenset[dt.date] | None = None) -> dt.datetime:
    seventh = add_working_days(discharged.date(), WORKING_DAYS, off)
    end_of_seventh = dt.datetime.combine(seventh, dt.time(23, 59, 59))
    first_next = (discharged.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    fifth = dt.datetime.combine(first_next.date().replace(day=MONTH_END_DAY), dt.time(0, 0))
    return min(end_of_seventh, fifth)
