"""Rendering: rows → each table's XML; a hồ sơ → its GIAMDINHHS envelope; check-in rows → the XML0 document.

Output is UTF-8, fields in the standard's order, every field written (empty element when there is no value),
text escaped, and byte-for-byte the same for the same input. Rendering works on validated models (or on
mappings of canonical values, for the fast paths), so it never has to guess a format.

Byte layout follows what the portal is known to accept: each table document starts with
``<?xml version="1.0" encoding="utf-8"?>``, each NOIDUNGFILE is one line of base64, the envelope has no
namespace declarations and ends with an empty ``CHUKYDONVI`` for the signer to fill.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .models import Hoso
from .spec import SpecVersion, Table

XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'
HOSPITAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:  # a bare CR would be turned into LF by any parser: keep it as a reference
        text = text.replace("\r", "&#13;")
    return text


def value_text(value: Any) -> str:
    """Canonical text of a model value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _text_of(kind: str, sep: str) -> Callable[[Any], str]:
    if sep or kind not in ("integer", "decimal"):
        return _escape  # text, codes, dates and joined lists are held as str
    if kind == "decimal":
        return _decimal_text
    return str


def _decimal_text(value: Decimal) -> str:
    text = str(value)  # 3x faster than format(value, "f"), and the same text unless it has an exponent
    return format(value, "f") if "E" in text else text


# Per table object: (name, open tag, close tag, empty element, text formatter, memo) for each field. Keyed by
# id() because hashing a Table hashes all its fields; the table is kept in the entry so its id is never reused.
# The memo maps a text value to its whole element: codes, units, names and dates repeat from row to row.
_TAGS: dict[int, tuple[Table, tuple[tuple[str, str, str, str, Callable[[Any], str], dict[str, str]], ...]]] = {}
_MEMO_SIZE = 4_096  # per field


def _tags(table: Table):
    entry = _TAGS.get(id(table))
    if entry is None:
        tags = tuple((f.name, f"<{f.name}>", f"</{f.name}>", f"<{f.name}/>", _text_of(f.kind, f.sep), {})
                     for f in table.fields)
        entry = _TAGS[id(table)] = (table, tags)
    return entry[1]


def _row_xml(table: Table, row: Any) -> str:
    tags = _tags(table)
    if isinstance(row, Mapping):
        values = [None if (v := row.get(t[0])) == "" else v for t in tags]
    else:
        values = row.__dict__.values()  # a model holds every field, in the standard's order (see models.py)
    parts = []
    for (_, open_, close, empty, text, memo), v in zip(tags, values, strict=True):
        if v is None:
            parts.append(empty)
        elif type(v) is str:
            element = memo.get(v)
            if element is None:
                if len(memo) >= _MEMO_SIZE:
                    memo.clear()
                element = memo[v] = open_ + _escape(v) + close
            parts.append(element)
        else:
            parts.append(open_ + text(v) + close)
    return "".join(parts)


def render_table(table: Table, rows: Iterable[Any], *, extra: str = "") -> bytes:
    """One table's XML document from its rows (models or mappings of canonical values)."""
    if table.is_list:
        body = "".join([f"<{table.row}>{_row_xml(table, r)}</{table.row}>\n" for r in rows])
        doc = f"{XML_DECL}<{table.root}>\n<{table.list}>\n{body}</{table.list}>\n{extra}</{table.root}>\n"
    else:
        (row,) = tuple(rows)
        doc = f"{XML_DECL}<{table.root}>{_row_xml(table, row)}</{table.root}>\n"
    return doc.encode("utf-8")


def render_checkin(version: SpecVersion, rows: Iterable[Any]) -> bytes:
    """The check-in (trạng thái KCB, XML0) document with its empty CHUKYDONVI slot after the list."""
    return render_table(version["XML0"], rows, extra="<CHUKYDONVI/>\n")


def render_hoso_tables(hoso: Hoso) -> list[tuple[str, bytes]]:
    """(LOAIHOSO, table XML) for every table the hồ sơ carries, XML1 first, in table order."""
    order = sorted(hoso.tables, key=lambda t: int(t[3:]))
    return [(tid, render_table(hoso.version[tid], hoso.tables[tid])) for tid in order]


def today_in_vietnam() -> str:
    return dt.datetime.now(HOSPITAL_TZ).strftime("%Y%m%d")


def render_envelope(macskcb: str, ngaylap: str, hosos: Iterable[Iterable[tuple[str, bytes]]]) -> bytes:
    """A GIAMDINHHS envelope holding the given hồ sơ (each a list of (LOAIHOSO, table XML)).

    Built as bytes: the base64 of each table is never decoded to text and encoded again."""
    blocks = []
    for files in hosos:
        parts = [b"<HOSO>\n"]
        for loai, xml in files:
            parts += [b"<FILEHOSO><LOAIHOSO>", loai.encode("ascii"), b"</LOAIHOSO><NOIDUNGFILE>",
                      base64.b64encode(xml), b"</NOIDUNGFILE></FILEHOSO>\n"]
        parts.append(b"</HOSO>\n")
        blocks.append(b"".join(parts))
    head = (
        f"{XML_DECL}<GIAMDINHHS>\n"
        f"<THONGTINDONVI><MACSKCB>{_escape(macskcb)}</MACSKCB></THONGTINDONVI>\n"
        f"<THONGTINHOSO><NGAYLAP>{_escape(ngaylap)}</NGAYLAP><SOLUONGHOSO>{len(blocks)}</SOLUONGHOSO>"
        f"<DANHSACHHOSO>\n"
    ).encode()
    return b"".join([head, *blocks, b"</DANHSACHHOSO></THONGTINHOSO>\n<CHUKYDONVI/>\n</GIAMDINHHS>\n"])


def render_hoso(hoso: Hoso, *, ngaylap: str | None = None, macskcb: str | None = None) -> bytes:
    """The signed-ready envelope of one hồ sơ (one hồ sơ per file, as the portal API takes them).

    ``ngaylap`` defaults to today in Asia/Ho_Chi_Minh; pass it for byte-identical re-runs. ``macskcb``
    defaults to the hồ sơ's MA_CSKCB."""
    return render_envelope(
        macskcb or hoso.summary.MA_CSKCB,  # type: ignore[attr-defined]
        ngaylap or today_in_vietnam(),
        [render_hoso_tables(hoso)],
    )
