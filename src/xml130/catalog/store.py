"""The catalogues in the ledger database: import (idempotent), list, and load for lookups.

A sheet already imported (same kind, same rows) changes nothing; a new file adds its rows — a new price or a
new validity period is a new item row next to the old one, each with its own period. Bad rows are kept in the
import's record with their sheet, row and reason, and reported to the caller.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from ..jobs.ledger import Ledger, approved_import, approved_item, now
from .reader import BadRow, SheetResult, kinds, read_file


@dataclass
class SheetOutcome:
    file: str
    sheet: str
    kind: str
    rows: int
    added: int
    unchanged: bool
    bad: list[BadRow] = field(default_factory=list)


def import_files(ledger: Ledger, paths: Iterable[str | Path]) -> list[SheetOutcome]:
    """Read every file first (an unknown layout refuses the whole call before anything is written), then store
    each sheet in its own transaction."""
    sheets = [s for p in paths for s in read_file(p)]
    return [_store(ledger, s) for s in sheets]


def _store(ledger: Ledger, sheet: SheetResult) -> SheetOutcome:
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


def list_items(ledger: Ledger, kind: str | None = None, on: dt.date | None = None) -> list[dict[str, Any]]:
    """Items (optionally of one kind, optionally only those valid on a day), by kind, code and period."""
    t = approved_item
    q = select(t.c.kind, t.c.code, t.c.valid_from, t.c.valid_to, t.c.data)
    if kind:
        q = q.where(t.c.kind == kind)
    if on:
        q = q.where(or_(t.c.valid_from.is_(None), t.c.valid_from <= on), or_(t.c.valid_to.is_(None), t.c.valid_to >= on))
    q = q.order_by(t.c.kind, t.c.code, t.c.valid_from, t.c.id)
    titles = {k.name: k.title for k in kinds().values()}
    with ledger.engine.connect() as conn:
        return [{"kind": r.kind, "code": r.code, "name": json.loads(r.data).get(titles[r.kind]),
                 "valid_from": r.valid_from.isoformat() if r.valid_from else None,
                 "valid_to": r.valid_to.isoformat() if r.valid_to else None} for r in conn.execute(q)]


def load_rows(ledger: Ledger) -> Iterable[tuple[str, str, dt.date | None, dt.date | None, dict[str, Any]]]:
    """Every item, oldest import first (for :class:`xml130.catalog.lookup.Catalog`)."""
    t = approved_item
    with ledger.engine.connect() as conn:
        for r in conn.execute(select(t.c.kind, t.c.code, t.c.valid_from, t.c.valid_to, t.c.data).order_by(t.c.id)):
            yield r.kind, r.code, r.valid_from, r.valid_to, json.loads(r.data)
