"""The catalogues in memory, indexed by (kind, code): what the catalogue rules look rows up in.

Loaded once per validation run from the ledger; a lookup is one dictionary access plus a filter over the few
periods of that one code — never a scan of the catalogue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

EMPTY: tuple = ()


@dataclass(frozen=True)
class Entry:
    valid_from: dt.date | None
    valid_to: dt.date | None
    data: dict[str, Any]

    def valid_on(self, day: dt.date | None) -> bool:
        return day is None or ((self.valid_from is None or self.valid_from <= day)
                               and (self.valid_to is None or day <= self.valid_to))

    def get(self, column: str) -> Any:
        return self.data.get(column)


class Catalog:
    def __init__(self) -> None:
        self._index: dict[tuple[str, str], list[Entry]] = {}
        self._kinds: set[str] = set()

    def add(self, kind: str, code: str, valid_from: dt.date | None, valid_to: dt.date | None,
            data: dict[str, Any]) -> None:
        self._index.setdefault((kind, code.strip()), []).append(Entry(valid_from, valid_to, data))
        self._kinds.add(kind)

    @classmethod
    def from_ledger(cls, url: str) -> Catalog:
        from ..jobs.ledger import Ledger
        from .store import load_rows

        catalog = cls()
        for kind, code, valid_from, valid_to, data in load_rows(Ledger(url)):
            catalog.add(kind, code, valid_from, valid_to, data)
        return catalog

    def has(self, kind: str) -> bool:
        """Whether this kind of catalogue was imported at all (rules of a missing catalogue stay silent)."""
        return kind in self._kinds

    def entries(self, kind: str, code: str | None) -> list[Entry] | tuple:
        return self._index.get((kind, code.strip()), EMPTY) if code else EMPTY

    def on(self, kind: str, code: str | None, day: dt.date | None) -> list[Entry]:
        return [e for e in self.entries(kind, code) if e.valid_on(day)]

    def __len__(self) -> int:
        return sum(len(v) for v in self._index.values())


_ACTIVE: ContextVar[Catalog | None] = ContextVar("xml130_catalog", default=None)


def for_staging(ledger_url: str) -> Catalog | None:
    """The catalogues a staging run checks against: those already in force for this validation (``using``), else
    the ones imported into the run's ledger, else none (a facility that imported none gets no catalogue rules)."""
    current = active()
    if current is not None:
        return current
    approved = Catalog.from_ledger(ledger_url)
    return approved if len(approved) else None


def active() -> Catalog | None:
    """The catalogues the current validation runs against (set by :func:`using`), if any."""
    return _ACTIVE.get()


@contextmanager
def using(catalog: Catalog | None) -> Iterator[Catalog | None]:
    """Within the block, every ``run_rules`` call without an explicit catalogue uses ``catalog`` (this is how
    ``xml130 validate --catalog`` reaches the rules through the validation path without new parameters)."""
    token = _ACTIVE.set(catalog)
    try:
        yield catalog
    finally:
        _ACTIVE.reset(token)
