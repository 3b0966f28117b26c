"""The parameters of xml130 (``data/params.toml``), read by the mapping's derivations and the business rules alike,
and the facts both decide on through them: who is a newborn, what is a short stay, which rows are supplies.

The mapping derives MA_LOAI_KCB 09 for a stay the rule R.LOAI_KCB.SHORT_STAY would expect to be 09, with the same
threshold read from the same place; so are the newborn age and the supply groups. :class:`Params` is immutable and
passed explicitly (``Extractor(..., params=)``, ``run_rules(..., params=)``, the jobs' ``params=``); the file's
values are :func:`defaults`, and ``defaults().with_(...)`` gives other values for a test or a what-if run without
changing what anyone else reads. For good, edit the file.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any


class Params(Mapping[str, Any]):
    """Every parameter by name (immutable)."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"

    def with_(self, **values: Any) -> Params:
        """These parameters with ``values`` changed (unknown names are refused: a typo must not pass silently)."""
        unknown = sorted(set(values) - set(self._values))
        if unknown:
            raise KeyError(f"unknown parameters {unknown}; known: {sorted(self._values)}")
        return Params({**self._values, **values})

    def is_newborn(self, born: dt.datetime | dt.date | None, at: dt.datetime | None) -> bool:
        """A baby of at most ``newborn_days`` whole days at ``at`` (admission): named after a parent, and NGAY_SINH
        carries hour and minute (Thông tư 30/2020 Đ10 k1 b; QĐ 3176)."""
        if born is None or at is None:
            return False
        if not isinstance(born, dt.datetime):
            born = dt.datetime.combine(born, dt.time())
        return (_minute(at) - _minute(born)).days <= self["newborn_days"]

    def is_short_stay(self, start: dt.datetime | None, end: dt.datetime | None) -> bool:
        """An inpatient stay shorter than ``short_stay_hours`` (MA_LOAI_KCB 09)."""
        if start is None or end is None:
            return False
        return _minute(end) - _minute(start) < dt.timedelta(hours=self["short_stay_hours"])

    def is_supply(self, group: int | None) -> bool:
        """An XML3 row of medical supplies (VTYT), summed into T_VTYT."""
        return group in self["supply_groups"]


@cache
def defaults() -> Params:
    """The file's parameters (read once)."""
    return Params(tomllib.loads((resources.files("xml130") / "data" / "params.toml").read_text(encoding="utf-8")))


def _minute(t: dt.datetime) -> dt.datetime:
    # the standard writes times to the minute: decide on what is written, so the rules see the same thing
    return t.replace(second=0, microsecond=0)


def stay_hours(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    """The length of a stay in hours, as the standard's minute-precision times give it."""
    if start is None or end is None:
        return None
    return (_minute(end) - _minute(start)).total_seconds() / 3600
