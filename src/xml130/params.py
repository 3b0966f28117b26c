"""The parameters of xml130 (``data/params.toml``), read by the mapping's derivations and the business rules alike,
and the facts both decide on through them: who is a newborn, what is a short stay, which rows are supplies.

The mapping derives MA_LOAI_KCB 09 for a stay the rule R.LOAI_KCB.SHORT_STAY would expect to be 09, with the same
threshold read from the same place; so are the newborn age and the supply groups. ``override(...)`` changes
values for the duration of a ``with`` block in this process (tests, what-if runs); for good, edit the file.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from typing import Any

_overrides: list[dict[str, Any]] = []


@cache
def _file() -> dict[str, Any]:
    return tomllib.loads((resources.files("xml130") / "data" / "params.toml").read_text(encoding="utf-8"))


@cache
def _merged(key: int) -> dict[str, Any]:
    merged = dict(_file())
    for layer in _overrides[:key]:
        merged.update(layer)
    return merged


def params() -> dict[str, Any]:
    """Every parameter by name (the file, with any active override on top). Cheap: called once per hồ sơ."""
    return _merged(len(_overrides)) if _overrides else _file()


@contextmanager
def override(**values: Any) -> Iterator[dict[str, Any]]:
    """Change parameters inside a ``with`` block (unknown names are refused: a typo must not pass silently)."""
    unknown = sorted(set(values) - set(_file()))
    if unknown:
        raise KeyError(f"unknown parameters {unknown}; known: {sorted(_file())}")
    _overrides.append(values)
    _merged.cache_clear()
    try:
        yield params()
    finally:
        _overrides.pop()
        _merged.cache_clear()


def _minute(t: dt.datetime) -> dt.datetime:
    # the standard writes times to the minute: decide on what is written, so the rules see the same thing
    return t.replace(second=0, microsecond=0)


def is_newborn(born: dt.datetime | dt.date | None, at: dt.datetime | None) -> bool:
    """A baby of at most ``newborn_days`` whole days at ``at`` (admission): named after a parent, and NGAY_SINH
    carries hour and minute (Thông tư 30/2020 Đ10 k1 b; QĐ 3176)."""
    if born is None or at is None:
        return False
    if not isinstance(born, dt.datetime):
        born = dt.datetime.combine(born, dt.time())
    return (_minute(at) - _minute(born)).days <= params()["newborn_days"]


def is_short_stay(start: dt.datetime | None, end: dt.datetime | None) -> bool:
    """An inpatient stay shorter than ``short_stay_hours`` (MA_LOAI_KCB 09)."""
    if start is None or end is None:
        return False
    return _minute(end) - _minute(start) < dt.timedelta(hours=params()["short_stay_hours"])


def stay_hours(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    """The length of a stay in hours, as the standard's minute-precision times give it."""
    if start is None or end is None:
        return None
    return (_minute(end) - _minute(start)).total_seconds() / 3600


def is_supply(group: int | None) -> bool:
    """An XML3 row of medical supplies (VTYT), summed into T_VTYT."""
    return group in params()["supply_groups"]
