"""Reading the portal's catalogue spreadsheets (XLSX, CSV) into typed catalogue rows.

Each sheet is matched to one of the six kinds of ``kinds.toml`` by its header row (the first of the sheet's
first rows whose cells are exactly one kind's headers, in any order and case). A sheet whose headers fit no kind
is refused with the nearest kind's expected headers, what is missing and what is extra — never guessed. Every
row is either read into a :class:`CatalogueRow` or reported as a :class:`BadRow` (sheet, row, reason); none is
dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import Xml130Error
from .values import BadValue, parse_date, parse_int, parse_money, text

HEADER_SEARCH_ROWS = 10  # title lines above the header row that exports sometimes carry


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    headers: tuple[str, ...]
    key: str
    title: str  # the column with the item's name
    valid_from: tuple[str, ...]
    valid_to: tuple[str, ...]
    dates: frozenset[str]
    money: frozenset[str]
    integers: frozenset[str]


@cache
def kinds() -> dict[str, Kind]:
    raw = tomllib.loads((resources.files("xml130.catalog") / "kinds.toml").read_text(encoding="utf-8"))
    return {name: Kind(name, k["label"], tuple(k["headers"]), k["key"], k["name"], tuple(k["valid_from"]),
                       tuple(k["valid_to"]), frozenset(k["dates"]), frozenset(k["money"]), frozenset(k["integers"]))
            for name, k in raw.items()}


@dataclass(frozen=True)
class CatalogueRow:
    kind: str
    code: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    data: dict[str, Any]  # every column, typed (dates ISO text, money as decimal text, the rest as text)
    sheet: str
    row: int

    @property
    def row_hash(self) -> str:
        body = json.dumps([self.kind, self.data], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BadRow:
    sheet: str
    row: int
    reason: str

    def __str__(self) -> str:
        return f"{self.sheet}, dòng {self.row}: {self.reason}"


class UnknownLayout(Xml130Error, ValueError):
    """A sheet whose header row matches no catalogue kind; the message lists the expected headers."""


@dataclass
class SheetResult:
    file: str
    sheet: str
    kind: str
    rows: list[CatalogueRow] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """The same rows in the same kind give the same hash, whatever the file is called."""
        digest = hashlib.sha256(self.kind.encode())
        for h in sorted(r.row_hash for r in self.rows):
            digest.update(h.encode())
        return digest.hexdigest()


def _sheets(path: Path) -> Iterator[tuple[str, Iterator[tuple[Any, ...]]]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise UnknownLayout(f"{path.name}: không đọc được tệp XLSX ({exc})") from None
        try:
            for ws in book.worksheets:
                yield ws.title, ws.iter_rows(values_only=True)
        finally:
            book.close()
    elif suffix in (".csv", ".txt"):
        try:
            content = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnknownLayout(f"{path.name}: tệp CSV không phải UTF-8 (lưu lại dưới dạng CSV UTF-8)") from None
        try:
            dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        yield path.stem, (tuple(r) for r in csv.reader(io.StringIO(content), dialect))
    else:
        raise UnknownLayout(f"{path.name}: chỉ đọc được tệp .xlsx và .csv")


def _norm_header(cell: Any) -> str:
    return (text(cell) or "").upper()


def _match(headers: list[str]) -> Kind | None:
    present = {h for h in headers if h}
    for kind in kinds().values():
        if present == set(kind.headers) and len([h for h in headers if h]) == len(kind.headers):
            return kind
    return None


def _refusal(file: str, sheet: str, headers: list[str]) -> UnknownLayout:
    present = {h for h in headers if h}
    nearest = max(kinds().values(), key=lambda k: len(present & set(k.headers)) - len(present - set(k.headers)))
    if not present & set(nearest.headers):
        return UnknownLayout(f"{file} / {sheet}: dòng tiêu đề không khớp danh mục nào. Các danh mục cần đúng các cột: "
                             + " | ".join(f"{k.name}: {', '.join(k.headers)}" for k in kinds().values()))
    missing = [h for h in nearest.headers if h not in present]
    extra = sorted(present - set(nearest.headers))
    return UnknownLayout(
        f"{file} / {sheet}: dòng tiêu đề không khớp danh mục nào. Gần nhất là danh mục {nearest.name} "
        f"({nearest.label}), cần đúng các cột: {', '.join(nearest.headers)}."
        + (f" Thiếu: {', '.join(missing)}." if missing else "") + (f" Thừa: {', '.join(extra)}." if extra else ""))


def read_file(path: str | Path) -> list[SheetResult]:
    """Every non-empty sheet of the file, each read as one catalogue kind. Raises :class:`UnknownLayout`."""
    path = Path(path)
    results = []
    for sheet, rows in _sheets(path):
        result = _read_sheet(path.name, sheet, rows)
        if result is not None:
            results.append(result)
    if not results:
        raise UnknownLayout(f"{path.name}: không có trang nào có dữ liệu")
    return results


def _read_sheet(file: str, sheet: str, rows: Iterator[tuple[Any, ...]]) -> SheetResult | None:
    first: list[str] | None = None
    for number, cells in enumerate(rows, start=1):
        headers = [_norm_header(c) for c in cells]
        if not any(headers):
            continue
        first = first or headers
        kind = _match(headers)
        if kind is not None:
            result = SheetResult(file, sheet, kind.name)
            for n, values in enumerate(rows, start=number + 1):
                if any(text(v) for v in values):
                    _read_row(kind, sheet, n, dict(zip(headers, values, strict=False)), result)
            return result
        if number >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        return None
    raise _refusal(file, sheet, first)


def read_rows(kind: str, sheet: str, rows: Iterable[dict[str, Any]]) -> SheetResult:
    """Rows already keyed by header (e.g. from another system), typed and checked exactly like a sheet's rows."""
    result = SheetResult("", sheet, kind)
    for n, row in enumerate(rows, start=2):
        _read_row(kinds()[kind], sheet, n, row, result)
    return result


def _read_row(kind: Kind, sheet: str, number: int, cells: dict[str, Any], result: SheetResult) -> None:
    data: dict[str, Any] = {}
    problems = []
    for header in kind.headers:
        value = cells.get(header)
        try:
            if header in kind.dates:
                day = parse_date(value)
                data[header] = day.isoformat() if day else None
            elif header in kind.money:
                amount = parse_money(value)
                data[header] = format(amount, "f") if isinstance(amount, Decimal) else None
            elif header in kind.integers:
                data[header] = parse_int(value)
            else:
                data[header] = text(value)
        except BadValue as exc:
            problems.append(f"{header}: {exc}")
    code = data.get(kind.key)
    if not code:
        problems.append(f"{kind.key} trống")
    valid_from = _first_date(data, kind.valid_from)
    valid_to = _first_date(data, kind.valid_to)
    if valid_from and valid_to and valid_to < valid_from:
        problems.append(f"hết hiệu lực ({valid_to:%d/%m/%Y}) trước khi có hiệu lực ({valid_from:%d/%m/%Y})")
    if problems:
        result.bad.append(BadRow(sheet, number, "; ".join(problems)))
        return
    data.pop("STT", None)  # the position in the sheet is not part of the approved item
    result.rows.append(CatalogueRow(kind.name, str(code), valid_from, valid_to, data, sheet, number))


def _first_date(data: dict[str, Any], columns: tuple[str, ...]) -> dt.date | None:
    for c in columns:
        if data.get(c):
            return dt.date.fromisoformat(data[c])
    return None
