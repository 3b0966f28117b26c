"""The few facts of a staged hồ sơ that the checks across hồ sơ need, read straight from its envelope.

Only XML1 and XML3 are decoded, and only the fields below are kept, so that a day of 10,000 hồ sơ is read in a
few seconds. Times are ``yyyyMMddHHmm`` as written; a time that cannot be read leaves the item out of the
interval checks (the per-hồ sơ rules report it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ..dates import compact as when
from ..params import Params, defaults
from ..parse import decode_base64, parse_xml, row_elements, table_for_root


@dataclass(frozen=True)
class Performance:
    performer: str
    start: dt.datetime
    end: dt.datetime
    row: int
    service: str


@dataclass(eq=False)  # compared and hashed by identity: one object per hồ sơ version
class HosoFacts:
    ma_lk: str
    version: int
    status: str
    patient: str | None
    cards: tuple[str, ...]
    start: dt.datetime | None
    end: dt.datetime | None
    performances: list[Performance] = field(default_factory=list)
    exams: list[tuple[str, dt.date, int]] = field(default_factory=list)  # (doctor, day, row)
    bed_days: list[tuple[str, dt.date, Decimal, int]] = field(default_factory=list)  # (department, day, days, row)


def _split(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(";") if x.strip()]


def _number(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


class _Row:
    """A row element read field by field (``row.get("MA_NHOM")``), empty elements as None."""

    __slots__ = ("element",)

    def __init__(self, element: Any):
        self.element = element

    def get(self, name: str) -> str | None:
        return self.element.findtext(name) or None

    def __getitem__(self, name: str) -> str | None:
        return self.get(name)


def read_facts(data: bytes, *, version: int = 1, status: str = "staged",
               params: Params | None = None) -> list[HosoFacts]:
    """Facts of every hồ sơ in a GIAMDINHHS envelope (groups of rows by ``params``, default the file's)."""
    p = params if params is not None else defaults()
    presence, exams, beds = set(p["presence_groups"]), set(p["exam_groups"]), set(p["bed_groups"])
    out = []
    for hoso in parse_xml(data).iterfind("THONGTINHOSO/DANHSACHHOSO/HOSO"):
        tables: dict[str, list[Any]] = {}
        for fh in hoso.iterfind("FILEHOSO"):
            loai = (fh.findtext("LOAIHOSO") or "").strip()
            if loai in ("XML1", "XML3"):
                root = parse_xml(decode_base64(fh.findtext("NOIDUNGFILE")))
                table = table_for_root(root.tag)
                if table is not None:  # only the few fields below are read, each with findtext
                    tables[loai] = [_Row(e) for e in row_elements(table, root)]
        if not tables.get("XML1"):
            continue
        x1 = tables["XML1"][0]
        facts = HosoFacts(x1.get("MA_LK") or "", version, status, x1.get("MA_BN"), tuple(_split(x1.get("MA_THE_BHYT"))),
                          when(x1.get("NGAY_VAO")), when(x1.get("NGAY_RA")))
        for i, r in enumerate(tables.get("XML3", ()), start=1):
            row = int(r.get("STT") or i)
            group = int(r.get("MA_NHOM") or 0)
            ordered = when(r.get("NGAY_YL"))
            if group in presence:
                start, end = when(r.get("NGAY_TH_YL")), when(r.get("NGAY_KQ"))
                if start and end and end > start:
                    facts.performances.extend(Performance(code, start, end, row, r.get("MA_DICH_VU") or "")
                                              for code in _split(r.get("NGUOI_THUC_HIEN")))
            if group in exams and ordered:
                facts.exams.extend((code, ordered.date(), row) for code in _split(r.get("MA_BAC_SI"))[:1])
            if group in beds and ordered and r.get("MA_KHOA"):
                facts.bed_days.append((r["MA_KHOA"], ordered.date(), _number(r.get("SO_LUONG")), row))
        out.append(facts)
    return out
