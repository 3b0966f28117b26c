"""``xml130 catalog import`` and ``xml130 catalog list``: the facility's approved catalogues in the ledger.

Exit codes as for the other commands: 0 everything read, 1 some rows were bad (each printed with sheet, row and
reason; the good rows are stored), 2 a file cannot be used (unknown header layout: the expected headers are
printed; unreadable file; unreachable database).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..catalog.reader import kinds
from ..codes import DEFAULT_LEDGER
from . import app, existing_ledger, fail, out, when

catalog_app = typer.Typer(no_args_is_help=True, help="The facility's approved catalogues (danh mục) in the ledger.")
app.add_typer(catalog_app, name="catalog")


class ListFormat(StrEnum):
    text = "text"
    json = "json"


def _ledger(url: str):
    from sqlalchemy.exc import SQLAlchemyError

    from ..store.database import LedgerDatabaseMissing
    from ..store.ledger import Ledger

    try:
        return Ledger(url)  # a missing PostgreSQL/MariaDB database is created, or the command to run is named
    except LedgerDatabaseMissing as exc:
        fail("Không có sổ cái:", exc)
    except SQLAlchemyError as exc:
        fail("Lỗi CSDL:", str(exc).splitlines()[0])


@catalog_app.command("import")
def import_cmd(
    files: Annotated[list[Path], typer.Argument(help="Catalogue spreadsheets (.xlsx, .csv) as the portal exports them, or folders of them.")],
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER", help="Ledger database URL.")] = DEFAULT_LEDGER,
) -> None:
    """Load drugs, supplies, services, staff, departments/beds and equipment with their validity periods."""
    from ..catalog.imports import import_files
    from ..catalog.reader import UnknownLayout

    store = _ledger(ledger)
    try:
        outcomes = import_files(store, files)
    except UnknownLayout as exc:
        fail("Không nhận ra danh mục:", exc)
    except OSError as exc:
        fail("Không đọc được:", exc)
    bad = 0
    for o in outcomes:
        state = "không đổi (đã nhập)" if o.unchanged else f"{o.added} mục mới"
        out.print(f"{o.file} / {o.sheet}: {o.kind}, {o.rows} dòng hợp lệ, {state}, {len(o.bad)} dòng lỗi")
        for b in o.bad:
            out.print(f"  DÒNG LỖI {o.file} / {b}")
        bad += len(o.bad)
    raise typer.Exit(1 if bad else 0)


@catalog_app.command("list")
def list_cmd(
    kind: Annotated[str | None, typer.Option("--kind", help=f"One of: {', '.join(kinds())}.")] = None,
    on: Annotated[dt.datetime | None, typer.Option("--on", parser=when, help="Only items valid on this day.")] = None,
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER")] = DEFAULT_LEDGER,
    format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.text,
) -> None:
    """The approved items, by kind and code, each with its validity period."""
    from ..catalog.imports import list_items

    if kind is not None and kind not in kinds():
        fail("Loại danh mục không có:", f"{kind} (chọn một trong: {', '.join(kinds())})")
    day = on.date() if on else None
    items = list_items(_ledger(existing_ledger(ledger)), kind, day)
    if format is ListFormat.json:
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        return
    for i in items:
        period = f"{i['valid_from'] or '…'} → {i['valid_to'] or '…'}"
        out.print(f"{i['kind']:<10} {i['code']:<20} {period:<25} {i['name'] or ''}")
    out.print(f"{len(items)} mục.")


def load_catalog(url: str):
    """The catalogues of a ledger for ``xml130 validate --catalog`` (exit 2 when the database is unusable or holds
    no catalogue)."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..store.catalog import Catalog

    try:
        catalog = Catalog.from_ledger(url)
    except SQLAlchemyError as exc:
        fail("Lỗi CSDL:", str(exc).splitlines()[0])
    if not len(catalog):
        fail("Không có danh mục:", f"{url} chưa có danh mục nào (xml130 catalog import FILE... --ledger {url})")
    return catalog
