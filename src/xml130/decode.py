"""Decoding for ``xml130 inspect``: what a file holds, decoded, with values exactly as written (no validation)."""

from __future__ import annotations

from typing import Any

from lxml import etree
from rich.console import Console
from rich.table import Table as RichTable

from .parse import ENVELOPE_ROOT, ParseError, parse_xml, read_envelope, read_table


def _table_doc(content: bytes) -> dict[str, Any]:
    table, rows = read_table(parse_xml(content))
    return {"table": table.id, "title": table.title, "root": table.root, "rows": rows}


def _enveloped(hoso: etree._Element) -> etree._Element:
    """A HOSO that came without its GIAMDINHHS envelope, inside one (validate checks such a hồ sơ too)."""
    root = etree.Element(ENVELOPE_ROOT)
    etree.SubElement(etree.SubElement(root, "THONGTINHOSO"), "DANHSACHHOSO").append(hoso)
    return root


def describe(data: bytes) -> dict[str, Any]:
    """A JSON-ready description of an envelope (or a HOSO without it), check-in document or bare table (raises
    :class:`ParseError`)."""
    root = parse_xml(data)
    if root.tag == "HOSO":
        root = _enveloped(root)
    if root.tag != ENVELOPE_ROOT:
        table, rows = read_table(root)
        kind = "checkin" if table.id == "XML0" else "table"
        return {"kind": kind, "table": table.id, "title": table.title, "rows": rows}
    env = read_envelope(root)
    hosos = []
    for files in env.hosos:
        tables = []
        for f in files:
            entry: dict[str, Any] = {"loaihoso": f.loaihoso}
            if f.content is None:
                entry["error"] = f"NOIDUNGFILE không giải mã được base64: {f.error}"
            else:
                try:
                    entry.update(_table_doc(f.content))
                except ParseError as exc:
                    entry["error"] = str(exc)
            tables.append(entry)
        xml1 = next((t for t in tables if t.get("table") == "XML1" and t.get("rows")), None)
        hosos.append({"ma_lk": xml1["rows"][0].get("MA_LK") if xml1 else None, "tables": tables})
    return {"kind": "envelope", "macskcb": env.macskcb, "ngaylap": env.ngaylap,
            "soluonghoso": env.soluonghoso, "signed": env.signed, "hoso": hosos}


def _print_rows(console: Console, title: str, rows: list[dict]) -> None:
    if not rows:
        console.print(f"  {title}: (không có dòng)", markup=False)
        return
    names = list(dict.fromkeys(k for r in rows for k in r))
    grid = RichTable(title=title, show_lines=False, title_justify="left")
    grid.add_column("trường")
    for i in range(len(rows)):
        grid.add_column(str(i + 1))
    for name in names:
        grid.add_row(name, *[("" if r.get(name) is None else str(r.get(name))) for r in rows])
    console.print(grid)


def print_text(doc: dict[str, Any], console: Console) -> None:
    if doc["kind"] != "envelope":
        console.print(f"{doc['file']}: {doc['table']} — {doc['title']} ({len(doc['rows'])} dòng)", markup=False)
        _print_rows(console, doc["table"], doc["rows"])
        return
    console.print(
        f"{doc['file']}: GIAMDINHHS MACSKCB={doc['macskcb']} NGAYLAP={doc['ngaylap']} "
        f"SOLUONGHOSO={doc['soluonghoso']} {'đã ký' if doc['signed'] else 'chưa ký'}",
        markup=False,
    )
    for h in doc["hoso"]:
        console.print(f"HOSO MA_LK={h['ma_lk']}: " + ", ".join(t["loaihoso"] for t in h["tables"]), markup=False)
        for t in h["tables"]:
            if "error" in t:
                console.print(f"  {t['loaihoso']}: LỖI {t['error']}", markup=False)
            else:
                _print_rows(console, f"{t['loaihoso']} — {t['title']}", t["rows"])
