"""Synthetic catalogues consistent with given hồ sơ (every code they use approved, at the prices they bill), and
writers producing the portal's spreadsheet layouts — for the demo, the tests and the benchmark. No real data.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..catalog.reader import kinds, read_rows
from ..models import Hoso
from ..store.catalog import Catalog

SINCE = "20200101"  # approved since (yyyymmdd text, one of the forms the exports use)


def _codes(text: Any) -> list[str]:
    return [x.strip() for x in str(text or "").replace(",", ";").split(";") if x.strip()]


def _price(a: Any, b: Any) -> Any:
    return max(Decimal(a or 0), Decimal(b or 0))


def catalog_for(hosos: Iterable[Hoso]) -> dict[str, list[dict[str, Any]]]:
    """One approved row per distinct item the hồ sơ use (drugs by code, strength, registration number and bid;
    supplies by code and bid), each valid since 2020 with no end; returns kind → rows keyed by header."""
    found: dict[str, dict[tuple, dict[str, Any]]] = {k: {} for k in kinds()}

    def dept(text: Any) -> None:
        for code in _codes(text):
            put("department", (code,), {"MA_KHOA": code, "TEN_KHOA": f"Khoa {code}", "GIUONG_PD": 40})

    def put(kind: str, key: tuple, row: dict[str, Any], price: str | None = None) -> None:
        old = found[kind].get(key)
        if old is not None and price:
            old[price] = _price(old[price], row[price])
        else:
            found[kind][key] = row

    for h in hosos:
        x1 = h.tables["XML1"][0]
        dept(x1.MA_KHOA)
        for code in _codes(x1.MA_TTDV):
            put("staff", (code,), _staff(code))
        for r in h.tables.get("XML2", ()):
            put("drug", (r.MA_THUOC, r.HAM_LUONG, r.SO_DANG_KY, r.TT_THAU),
                {"MA_THUOC": r.MA_THUOC, "TEN_THUOC": r.TEN_THUOC, "HAM_LUONG": r.HAM_LUONG,
                 "SO_DANG_KY": r.SO_DANG_KY, "TT_THAU": r.TT_THAU, "DON_VI_TINH": r.DON_VI_TINH,
                 "DON_GIA": r.DON_GIA, "DON_GIA_BH": r.DON_GIA, "TU_NGAY": SINCE}, "DON_GIA_BH")
            for code in _codes(r.MA_BAC_SI):
                put("staff", (code,), _staff(code))
            dept(r.MA_KHOA)
        for r in h.tables.get("XML3", ()):
            if r.MA_VAT_TU:
                put("supply", (r.MA_VAT_TU, r.TT_THAU),
                    {"MA_VAT_TU": r.MA_VAT_TU, "TEN_VAT_TU": r.TEN_VAT_TU, "TT_THAU": r.TT_THAU,
                     "DON_GIA": r.DON_GIA_BH, "DON_GIA_BH": r.DON_GIA_BH, "TYLE_TT_BH": r.TYLE_TT_BH,
                     "TU_NGAY": SINCE}, "DON_GIA_BH")
            elif r.MA_DICH_VU:
                put("service", (r.MA_DICH_VU,), {"MA_TUONG_DUONG": r.MA_DICH_VU, "TEN_DVKT_PHEDUYET": r.TEN_DICH_VU,
                                                 "DON_GIA": r.DON_GIA_BH, "TUNGAY": SINCE}, "DON_GIA")
            for code in _codes(r.MA_BAC_SI) + _codes(r.NGUOI_THUC_HIEN):
                put("staff", (code,), _staff(code))
            dept(r.MA_KHOA)
            for code in _codes(r.MA_MAY):
                put("equipment", (code,), {"MA_MAY": code, "TEN_TB": f"Máy {code}", "TU_NGAY": SINCE})
        for r in h.tables.get("XML4", ()):
            for code in _codes(r.MA_BS_DOC_KQ):
                put("staff", (code,), _staff(code))
    return {k: list(v.values()) for k, v in found.items()}


def _staff(code: str) -> dict[str, Any]:
    return {"MACCHN": code, "HO_TEN": f"Người hành nghề {code[-4:]}", "TU_NGAY": SINCE}


def _cells(kind: str, rows: list[dict[str, Any]]) -> list[list[Any]]:
    headers = kinds()[kind].headers
    out: list[list[Any]] = [list(headers)]
    for n, row in enumerate(rows, start=1):
        out.append([n if h == "STT" else _cell(row.get(h)) for h in headers])
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value
    return value


def write_xlsx(path: Path, catalogues: dict[str, list[dict[str, Any]]]) -> Path:
    """One sheet per kind, named after it, in the portal's column order."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for kind, rows in catalogues.items():
        sheet = book.create_sheet(kind)
        for cells in _cells(kind, rows):
            sheet.append(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def write_csv(path: Path, kind: str, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["" if c is None else c for c in cells] for cells in _cells(kind, rows)])
    return path


def to_catalog(catalogues: dict[str, list[dict[str, Any]]]) -> Catalog:
    """The in-memory catalogue of these rows, typed as an import types them (bad rows raise: synthetic data)."""
    catalog = Catalog()
    for kind, rows in catalogues.items():
        result = read_rows(kind, kind, [{h: _cell(r.get(h)) for h in kinds()[kind].headers} for r in rows])
        if result.bad:
            raise ValueError(f"synthetic catalogue rows rejected: {result.bad}")
        for r in result.rows:
            catalog.add(r.kind, r.code, r.valid_from, r.valid_to, r.data)
    return catalog
