"""The facility's approved catalogues in the ledger database: stored (idempotent), listed, and indexed in memory
by (kind, code) for the catalog rules.

A sheet already stored (same kind, same rows) changes nothing; a new file adds its rows — a new price or a new
validity period is a new item row next to the old one, each with its own period. Bad rows are kept in the
import's record with their sheet, row and reason. Reading the spreadsheets is :mod:`xml130.catalog.reader`'s.

A lookup in :class:`Catalog` is one dictionary access plus a filter over the few periods of that one code — never
a scan of the catalogue.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select

from .ledger import Ledger
from .tables import approved_import, approved_item, now

EMPTY: tuple = ()


@dataclass
class SheetOutcome:
    file: str
    sheet: str
    kind: str
    rows: int
    added: int
    unchanged: bool
    bad: list[Any] = field(default_factory=list)  # the sheet's bad rows (xml130.catalog.reader.BadRow)


def store_sheet(ledger: Ledger, sheet: Any) -> SheetOutcome:
    """Store one read sheet (:class:`xml130.catalog.reader.SheetResult`) in its own transaction."""
    digest = sheet.content_hash
    outcome = SheetOutcome(sheet.file, sheet.sheet, sheet.kind, len(sheet.rows), 0, True, sheet.bad)
    with ledger.engine.begin() as conn:
        seen = conn.execute(select(approved_import.c.id).where(
            approved_import.c.kind == sheet.kind, approved_import.c.content_hash == digest)).first()
        if seen is not None:
            return outcome
        import_id = conn.execute(approved_import.insert().values(
            kind=sheet.kind, file=sheet.file, sheet=sheet.sheet, content_hash=digest, imported_at=now(),
            rows=len(sheet.rows), added=0,
            bad_rows=json.dumps([b.__dict__ for b in sheet.bad], ensure_ascii=False))).inserted_primary_key[0]
        hashes = {r.row_hash: r for r in sheet.rows}
        known = set()
        for chunk in _chunks(list(hashes), 500):
            known.update(conn.execute(select(approved_item.c.row_hash).where(
                approved_item.c.kind == sheet.kind, approved_item.c.row_hash.in_(chunk))).scalars())
        new = [{"kind": r.kind, "code": r.code, "valid_from": r.valid_from, "valid_to": r.valid_to,
                "data": json.dumps(r.data, ensure_ascii=False, sort_keys=True), "row_hash": h, "import_id": import_id}
               for h, r in hashes.items() if h not in known]
        if new:
            conn.execute(approved_item.insert(), new)
        conn.execute(approved_import.update().where(approved_import.c.id == import_id).values(added=len(new)))
    outcome.added, outcome.unchanged = len(new), False
    return outcome


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def items(ledger: Ledger, kind: str | None = None,
          on: dt.date | None = None) -> Iterator[tuple[str, str, dt.date | None, dt.date | None, dict[str, Any]]]:
    """Items (optionally of one kind, optionally only those valid on a day), by kind, code and period."""
    t = approved_item
    q = select(t.c.kind, t.c.code, t.c.valid_from, t.c.valid_to, t.c.data)
    if kind:
        q = q.where(t.c.kind == kind)
    if on:
        q = q.where(or_(t.c.valid_from.is_(None), t.c.valid_from <= on), or_(t.c.valid_to.is_(None), t.c.valid_to >= on))
    with ledger.engine.connect() as conn:
        for r in conn.execute(q.order_by(t.c.kind, t.c.code, t.c.valid_from, t.c.id)):
            yield r.kind, r.code, r.valid_from, r.valid_to, json.loads(r.data)


def load_rows(ledger: Ledger) -> Iterator[tuple[str, str, dt.date | None, dt.date | None, dict[str, Any]]]:
    """Every item, oldest import first (for :class:`Catalog`)."""
    t = approved_item
    with ledger.engine.connect() as conn:
        for r in conn.execute(select(t.c.kind, t.c.code, t.c.valid_from, t.c.valid_to, t.c.data).order_by(t.c.id)):
            yield r.kind, r.code, r.valid_from, r.valid_to, json.loads(r.data)


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
    """The approved catalogues in memory, indexed by (kind, code): what the catalog rules look rows up in."""

    def __init__(self) -> None:
        self._index: dict[tuple[str, str], list[Entry]] = {}
        self._kinds: set[str] = set()

    def add(self, kind: str, code: str, valid_from: dt.date | None, valid_to: dt.date | None,
            data: dict[str, Any]) -> None:
        self._index.setdefault((kind, code.strip()), []).append(Entry(valid_from, valid_to, data))
        self._kinds.add(kind)

    @classmethod
    def from_ledger(cls, url: str | Ledger) -> Catalog:
        catalog = cls()
        for kind, code, valid_from, valid_to, data in load_rows(url if isinstance(url, Ledger) else Ledger(url)):
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


def imported(ledger: str | Ledger) -> Catalog | None:
    """The catalogues imported into a ledger, or None when it holds none (a facility that imported none gets no
    catalog rules)."""
    catalog = Catalog.from_ledger(ledger)
    return catalog if len(catalog) else None
