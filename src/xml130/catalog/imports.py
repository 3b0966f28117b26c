"""Importing the facility's catalogue spreadsheets into the ledger, and listing what is there.

Every file is read first (:mod:`.reader`: an unknown layout refuses the whole call before anything is written),
then each sheet is stored in its own transaction (:mod:`xml130.store.catalog`: a sheet imported twice adds
nothing). Bad rows are kept in the import's record with their sheet, row and reason, and reported to the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..store.catalog import SheetOutcome, items, store_sheet
from ..store.ledger import Ledger
from .reader import kinds, read_file

CATALOGUE_SUFFIXES = (".xlsx", ".csv")


def catalogue_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files to read: each file as given; a folder stands for its .xlsx and .csv files (not below), by name; a
    folder without any is an error (nothing would be imported, and nothing would say so)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(f for f in path.iterdir() if f.is_file() and f.suffix.lower() in CATALOGUE_SUFFIXES)
        if not found:
            raise FileNotFoundError(f"{path}: no .xlsx or .csv file in this folder")
        files.extend(found)
    return files


def import_files(ledger: Ledger, paths: Iterable[str | Path]) -> list[SheetOutcome]:
    """Read every file first (a folder: its .xlsx and .csv files), then store each sheet in its own transaction."""
    sheets = [s for p in catalogue_files(paths) for s in read_file(p)]
    return [store_sheet(ledger, s) for s in sheets]


def list_items(ledger: Ledger, kind: str | None = None, on: dt.date | None = None) -> list[dict[str, Any]]:
    """Items (optionally of one kind, optionally only those valid on a day), by kind, code and period."""
    titles = {k.name: k.title for k in kinds().values()}
    return [{"kind": k, "code": code, "name": data.get(titles[k]),
             "valid_from": valid_from.isoformat() if valid_from else None,
             "valid_to": valid_to.isoformat() if valid_to else None}
            for k, code, valid_from, valid_to, data in items(ledger, kind, on)]
