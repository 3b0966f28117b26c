"""Reporting periods: ISO weeks (Monday to Sunday) and calendar months, in Asia/Ho_Chi_Minh local time.

HIS timestamps are local wall-clock times without a zone (as everywhere else in xml130), so a period is a half-open
range of naive local datetimes ``[start, end)``: week 2026-W47 is 2026-11-16 00:00 up to 2026-11-23 00:00.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ..errors import Xml130Error

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ReportInputError(Xml130Error, ValueError):
    """A period, a notes file or a heading of labels.toml the report cannot use."""


@dataclass(frozen=True, order=True)
class Period:
    start: dt.datetime
    end: dt.datetime
    kind: str  # week | month

    # --- construction ----------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, value: str) -> Period:
        """``2026-W47`` (an ISO week) or ``2026-11`` (a month)."""
        m = WEEK.match(value.strip())
        if m:
            year, week = int(m[1]), int(m[2])
            try:
                monday = dt.date.fromisocalendar(year, week, 1)
            except ValueError:
                raise ReportInputError(f"{value}: year {year} has no ISO week {week}") from None
            return cls.week_of(monday)
        m = MONTH.match(value.strip())
        if m and 1 <= int(m[2]) <= 12:
            return cls.month_of(dt.date(int(m[1]), int(m[2]), 1))
        raise ReportInputError(f"{value!r}: expected an ISO week such as 2026-W47 or a month such as 2026-11")

    @classmethod
    def week_of(cls, day: dt.date) -> Period:
        monday = day - dt.timedelta(days=day.weekday())
        start = dt.datetime.combine(monday, dt.time())
        return cls(start, start + dt.timedelta(days=7), "week")

    @classmethod
    def month_of(cls, day: dt.date) -> Period:
        start = dt.datetime(day.year, day.month, 1)
        end = dt.datetime(day.year + day.month // 12, day.month % 12 + 1, 1)
        return cls(start, end, "month")

    @classmethod
    def last_complete(cls, kind: str, now: dt.datetime | None = None) -> Period:
        """The last week (or month) that has ended by ``now`` in Asia/Ho_Chi_Minh: what a Thursday run reports."""
        local = (now.astimezone(TZ) if now and now.tzinfo else now) or dt.datetime.now(TZ)
        current = cls.week_of(local.date()) if kind == "week" else cls.month_of(local.date())
        return current.previous()

    # --- navigation and names ------------------------------------------------------------------------------
    def previous(self) -> Period:
        day = (self.start - dt.timedelta(days=1)).date()
        return Period.week_of(day) if self.kind == "week" else Period.month_of(day)

    def history(self, count: int) -> list[Period]:
        """The ``count`` periods ending with this one, oldest first."""
        out = [self]
        while len(out) < count:
            out.append(out[-1].previous())
        return out[::-1]

    def contains(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def label(self) -> str:
        if self.kind == "week":
            year, week, _ = self.start.date().isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m}"

    @property
    def title(self) -> str:
        """Vietnamese name: ``Tuần 47/2026 (16/11/2026 – 22/11/2026)`` or ``Tháng 11/2026``."""
        if self.kind == "week":
            year, week, _ = self.start.date().isocalendar()
            last = (self.end - dt.timedelta(days=1)).date()
            return f"Tuần {week}/{year} ({self.start:%d/%m/%Y} – {last:%d/%m/%Y})"
        return f"Tháng {self.start.month}/{self.start.year}"

    @property
    def short(self) -> str:
        """For chart axes: ``T47`` or ``11/2026``."""
        return f"T{self.start.date().isocalendar()[1]}" if self.kind == "week" else f"{self.start:%m/%Y}"
