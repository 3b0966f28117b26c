"""The catalogues a validation runs against (the index itself is :class:`xml130.store.catalogues.Catalog`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ..store.catalogues import Catalog

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
