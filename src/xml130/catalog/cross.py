"""Checks across hồ sơ: what automated giám định sees only when it puts a day's hồ sơ side by side.

- ``CROSS.PERFORMER_OVERLAP`` (error): one performer on services of different patients whose NGAY_TH_YL–NGAY_KQ
  overlap, for the groups that need the performer present (``presence_groups``);
- ``CROSS.EXAMS_PER_DAY`` (warning): a doctor with more examinations in a day than ``exam_limit`` (``data/params.toml``, default 65);
- ``CROSS.PATIENT_OVERLAP`` / ``CROSS.CARD_OVERLAP`` (error): one patient (MA_BN) or one card in episodes
  whose NGAY_VAO–NGAY_RA overlap;
- ``CROSS.BEDS_OVER`` (warning): bed-days of a department on a day above its registered beds (department
  catalogue).

Every finding is attached to each hồ sơ involved and names all the others by MA_LK. Intervals are compared
after sorting by start (a sweep), counts through dictionaries: no pairwise scan of the day.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import findings as fnd
from ..params import Params, defaults
from ..store.catalog import Catalog
from .facts import HosoFacts

MESSAGES = {
    "CROSS.PERFORMER_OVERLAP": (fnd.ERROR, "Người thực hiện '{who}' làm dịch vụ {service} lúc {when} trùng thời gian "
                                           "với dịch vụ của người bệnh khác trong hồ sơ: {others}."),
    "CROSS.EXAMS_PER_DAY": (fnd.WARNING, "Bác sĩ '{who}' có {count} lượt khám ngày {day}, vượt giới hạn {limit} "
                                         "lượt/ngày; các hồ sơ khác: {others}."),
    "CROSS.PATIENT_OVERLAP": (fnd.ERROR, "Người bệnh {who} có đợt điều trị {when} trùng thời gian với hồ sơ: {others}."),
    "CROSS.CARD_OVERLAP": (fnd.ERROR, "Thẻ BHYT {who} dùng trong đợt điều trị {when} trùng thời gian với hồ sơ: "
                                      "{others}."),
    "CROSS.BEDS_OVER": (fnd.WARNING, "Khoa {who} có {count} ngày giường ngày {day}, vượt {limit} giường đã đăng ký; "
                                     "các hồ sơ khác: {others}."),
}


@dataclass(frozen=True)
class CrossFinding:
    code: str
    ma_lk: str
    version: int
    day: dt.date
    table: str
    field: str
    row: int | None
    others: tuple[str, ...]
    values: tuple[tuple[str, Any], ...]

    @property
    def severity(self) -> fnd.Severity:
        return MESSAGES[self.code][0]

    @property
    def message(self) -> str:
        return MESSAGES[self.code][1].format(others=", ".join(self.others), **dict(self.values))

    def finding(self) -> fnd.Finding:
        return fnd.Finding(code=self.code, message=self.message, ma_lk=self.ma_lk, table=self.table,
                           field=self.field, row=self.row, severity=self.severity)


def _span(start: dt.datetime, end: dt.datetime) -> str:
    return f"{start:%d/%m/%Y %H:%M}–{end:%d/%m/%Y %H:%M}"


def _overlaps(items: list[tuple[dt.datetime, dt.datetime, Any]]) -> Iterator[tuple[Any, Any]]:
    """Pairs of items whose [start, end) intervals overlap: sort by start, keep the ones still open."""
    items = sorted(items, key=lambda x: (x[0], x[1]))
    open_: list[tuple[dt.datetime, dt.datetime, Any]] = []
    for start, end, item in items:
        open_ = [o for o in open_ if o[1] > start]
        for o in open_:
            yield o[2], item
        open_.append((start, end, item))


def _group(pairs: Iterable[tuple[Any, Any]]) -> dict[Any, set]:
    """item → the items it overlaps with."""
    out: dict[Any, set] = defaultdict(set)
    for a, b in pairs:
        out[a].add(b)
        out[b].add(a)
    return out


def performer_overlaps(hosos: list[HosoFacts]) -> Iterator[CrossFinding]:
    by_performer: dict[str, list] = defaultdict(list)
    for h in hosos:
        for p in h.performances:
            by_performer[p.performer].append((p.start, p.end, (h, p)))
    for who, items in by_performer.items():
        pairs = ((a, b) for a, b in _overlaps(items)
                 if a[0].ma_lk != b[0].ma_lk and (a[0].patient is None or a[0].patient != b[0].patient))
        for (h, p), others in _group(pairs).items():
            yield CrossFinding("CROSS.PERFORMER_OVERLAP", h.ma_lk, h.version, p.start.date(), "XML3",
                               "NGUOI_THUC_HIEN", p.row, tuple(sorted({o[0].ma_lk for o in others})),
                               (("who", who), ("service", p.service), ("when", _span(p.start, p.end))))


def exams_per_day(hosos: list[HosoFacts], limit: int) -> Iterator[CrossFinding]:
    by_day: dict[tuple[str, dt.date], list[tuple[HosoFacts, int]]] = defaultdict(list)
    for h in hosos:
        for doctor, day, row in h.exams:
            by_day[(doctor, day)].append((h, row))
    for (doctor, day), seen in by_day.items():
        if len(seen) <= limit:
            continue
        ma_lks = sorted({h.ma_lk for h, _ in seen})
        first: dict[str, tuple[HosoFacts, int]] = {}
        for h, row in seen:
            first.setdefault(h.ma_lk, (h, row))
        for ma_lk, (h, row) in first.items():
            yield CrossFinding("CROSS.EXAMS_PER_DAY", ma_lk, h.version, day, "XML3", "MA_BAC_SI", row,
                               tuple(m for m in ma_lks if m != ma_lk),
                               (("who", doctor), ("count", len(seen)), ("day", f"{day:%d/%m/%Y}"), ("limit", limit)))


def episode_overlaps(hosos: list[HosoFacts]) -> Iterator[CrossFinding]:
    """Same patient first; the same card only for pairs not already reported by patient."""
    reported: set[frozenset[str]] = set()
    for code, field, keys in (("CROSS.PATIENT_OVERLAP", "MA_BN", lambda h: [h.patient] if h.patient else []),
                              ("CROSS.CARD_OVERLAP", "MA_THE_BHYT", lambda h: list(h.cards))):
        by_key: dict[str, list] = defaultdict(list)
        for h in hosos:
            if h.start and h.end:
                for key in keys(h):
                    by_key[key].append((h.start, h.end, h))
        for key, items in by_key.items():
            pairs = [(a, b) for a, b in _overlaps(items)
                     if a.ma_lk != b.ma_lk and frozenset((a.ma_lk, b.ma_lk)) not in reported]
            reported.update(frozenset((a.ma_lk, b.ma_lk)) for a, b in pairs)
            shown = fnd.shown(field, key)
            for h, others in _group(pairs).items():
                yield CrossFinding(code, h.ma_lk, h.version, h.start.date(), "XML1", field, 1,
                                   tuple(sorted(o.ma_lk for o in others)),
                                   (("who", shown), ("when", _span(h.start, h.end))))


def beds_over(hosos: list[HosoFacts], catalog: Catalog | None, columns: list[str]) -> Iterator[CrossFinding]:
    if catalog is None or not catalog.has("department"):
        return
    used: dict[tuple[str, dt.date], Decimal] = defaultdict(Decimal)
    rows: dict[tuple[str, dt.date], dict[str, tuple[HosoFacts, int]]] = defaultdict(dict)
    for h in hosos:
        for dept, first, days, row in h.bed_days:
            for k in range(max(1, math.ceil(days))):
                day = first + dt.timedelta(days=k)
                used[(dept, day)] += min(Decimal(1), days - k)
                rows[(dept, day)].setdefault(h.ma_lk, (h, row))
    for (dept, day), total in sorted(used.items()):
        entries = catalog.on("department", dept, day)
        if not entries:
            continue  # an unregistered department is R.CAT.DEPT.UNKNOWN's finding
        beds = sum(int(entries[-1].get(c) or 0) for c in columns)
        if total <= beds:
            continue
        involved = rows[(dept, day)]
        for ma_lk, (h, row) in involved.items():
            yield CrossFinding("CROSS.BEDS_OVER", ma_lk, h.version, day, "XML3", "MA_KHOA", row,
                               tuple(sorted(m for m in involved if m != ma_lk)),
                               (("who", dept), ("count", format(total.normalize(), "f")),
                                ("day", f"{day:%d/%m/%Y}"), ("limit", beds)))


def check_day(hosos: list[HosoFacts], catalog: Catalog | None = None, *, exam_limit: int | None = None,
              params: Params | None = None) -> list[CrossFinding]:
    """Every finding across these hồ sơ, sorted by MA_LK, code and row (``params``: default the file's)."""
    p = params if params is not None else defaults()
    limit = exam_limit if exam_limit is not None else p["exam_limit"]
    found = [*performer_overlaps(hosos), *exams_per_day(hosos, limit), *episode_overlaps(hosos),
             *beds_over(hosos, catalog, p["registered_bed_columns"])]
    return sorted(found, key=lambda f: (f.ma_lk, f.code, f.row or 0, f.others))
