"""The counts of the VNeID health-book adoption report (weekly or monthly), computed from the HIS through the mapping.

Definitions (also on the report's "Giải thích" sheet):

- *examined in a department*: distinct patients (the HIS's patient code) with at least one examination in that
  department in the period. A patient examined in two departments counts in both, and once in the hospital
  total, so the total is not the sum of the departments.
- A patient's facts in a department are those of their **latest** examination there in the period (the latest
  examination anywhere for the hospital total): the reception record of that visit (level-2 identity, health book)
  and the card presented at reception, valid on the examination date.
- *eligible*: a valid card and a level-2 electronic identity (the two conditions a hospital can see; the third,
  a smartphone, shows up as a reason).
- *rate against all* = health books / examined; *rate against eligible* = eligible patients with a health
  book / eligible. Rates are exact fractions; shown rounded half-up to 2 decimals of a percent.
- *change* = this period's rate against all − the previous period's, in percentage points.
- *rank*: by rate against all, highest first; equal rates share a rank (1, 2, 2, 4); a department with no
  patient in the period, or fewer than ``rank_min_patients`` (labels.toml), has none.
- *trend*: the report's period and the ones before it (8 by default, ``labels.toml``); leading periods without
  any examination (before the HIS has data) are left out, never the last two.

The examinations are streamed from the database and reduced to one fact per (period, department, patient), so
memory follows the number of patients, not of examinations. Only masked identity numbers (last 4) are kept.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any

from ..findings import mask
from ..mapping import Mapping
from ..mapping.adoption import adoption_rows, check_adoption
from ..mapping.database import his_engine
from ..mapping.extract import Extractor
from .period import Period

EXAM_COLUMNS = {"key", "ma_lk", "patient", "examined_at", "department", "department_name", "identified_by",
                "level2_identity", "health_book", "card_no", "card_valid_from", "card_valid_to"}
NO_DEPARTMENT = "?"  # examinations whose department the HIS does not say
STAFF_COLUMNS = {"key", "department", "department_name", "level2_identity", "level2_missing_reason",
                 "health_book", "card_integrated", "card_missing_reason"}


@cache
def labels() -> dict[str, Any]:
    return tomllib.loads((resources.files("xml130.adoption") / "labels.toml").read_text(encoding="utf-8"))


def percent(rate: Fraction | None) -> Decimal | None:
    """A rate as a percentage rounded half-up to 2 decimals (Fraction(1, 3) → 33.33)."""
    if rate is None:
        return None
    value = Decimal(rate.numerator) * 100 / Decimal(rate.denominator)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _ratio(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


@dataclass(frozen=True, slots=True)
class PatientFact:
    """One patient in one department (or the hospital) in the period: the drill-down row behind each count."""

    department: str
    patient: str
    ma_lk: str
    examined_at: dt.datetime
    identified_by: str | None
    level2_identity: bool
    card: str  # masked: last 4 characters
    card_valid: bool
    id_number: str  # masked
    health_book: bool
    reason: str | None  # why no health book (code), or None
    reception: bool  # a reception record was found

    @property
    def eligible(self) -> bool:
        return self.card_valid and self.level2_identity


@dataclass
class Counts:
    examined: int = 0
    eligible: int = 0
    books: int = 0
    books_eligible: int = 0
    no_reception: int = 0

    @classmethod
    def of(cls, facts) -> Counts:
        c = cls()
        for f in facts:
            c.examined += 1
            c.eligible += f.eligible
            c.books += f.health_book
            c.books_eligible += f.health_book and f.eligible
            c.no_reception += not f.reception
        return c

    @property
    def rate_all(self) -> Fraction | None:
        return _ratio(self.books, self.examined)

    @property
    def rate_eligible(self) -> Fraction | None:
        return _ratio(self.books_eligible, self.eligible)


@dataclass
class DepartmentRow:
    code: str
    name: str
    counts: Counts
    previous: Counts | None = None
    rank: int | None = None
    identified_by: Counter = field(default_factory=Counter)

    @property
    def change_pp(self) -> Decimal | None:
        """Change of the rate against all from the previous period, in percentage points (2 decimals)."""
        if self.previous is None or self.previous.rate_all is None or self.counts.rate_all is None:
            return None
        return percent(self.counts.rate_all - self.previous.rate_all)

    def as_dict(self) -> dict[str, Any]:
        c = self.counts
        return {"code": self.code, "name": self.name, "rank": self.rank, "examined": c.examined,
                "eligible": c.eligible, "books": c.books, "books_eligible": c.books_eligible,
                "rate_all_pct": _num(percent(c.rate_all)), "rate_eligible_pct": _num(percent(c.rate_eligible)),
                "previous_rate_all_pct": _num(percent(self.previous.rate_all)) if self.previous else None,
                "change_pp": _num(self.change_pp), "no_reception": c.no_reception,
                "identified_by": dict(sorted(self.identified_by.items()))}


def _num(d: Decimal | None) -> float | None:
    return float(d) if d is not None else None


@dataclass
class StaffRow:
    code: str
    name: str
    total: int = 0
    level2: int = 0
    level2_reasons: Counter = field(default_factory=Counter)
    books: int = 0
    cards: int = 0
    card_reasons: Counter = field(default_factory=Counter)

    @property
    def level2_missing(self) -> int:
        return self.total - self.level2

    @property
    def cards_missing(self) -> int:
        return self.total - self.cards

    def add(self, other: StaffRow) -> None:
        self.total += other.total
        self.level2 += other.level2
        self.books += other.books
        self.cards += other.cards
        self.level2_reasons.update(other.level2_reasons)
        self.card_reasons.update(other.card_reasons)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "total": self.total, "level2": self.level2,
                "level2_missing": self.level2_missing, "level2_reasons": dict(self.level2_reasons.most_common()),
                "books": self.books, "cards": self.cards, "cards_missing": self.cards_missing,
                "card_reasons": dict(self.card_reasons.most_common())}


def reasons_text(reasons: Counter) -> str:
    """``Chưa có điện thoại thông minh (3); …``, most frequent first."""
    return "; ".join(f"{r} ({n})" for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass
class TrendPoint:
    period: Period
    total: Counts
    by_department: dict[str, Counts]


@dataclass
class AdoptionReport:
    facility: str
    facility_name: str
    period: Period
    departments: list[DepartmentRow]
    total: DepartmentRow
    trend: list[TrendPoint]
    staff: list[StaffRow]
    staff_total: StaffRow
    patients: list[PatientFact]  # the drill-down: every (department, patient) of the period
    warnings: list[dict[str, Any]]
    generated_at: dt.datetime
    rank_min_patients: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "facility": self.facility, "facility_name": self.facility_name, "period": self.period.label,
            "period_title": self.period.title, "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(), "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "departments": [d.as_dict() for d in self.departments], "total": self.total.as_dict(),
            "trend": [{"period": t.period.label, "examined": t.total.examined, "eligible": t.total.eligible,
                       "books": t.total.books, "rate_all_pct": _num(percent(t.total.rate_all)),
                       "rate_eligible_pct": _num(percent(t.total.rate_eligible)),
                       "by_department": {k: _num(percent(c.rate_all)) for k, c in sorted(t.by_department.items())}}
                      for t in self.trend],
            "staff": [s.as_dict() for s in self.staff], "staff_total": self.staff_total.as_dict(),
            "patients": len(self.patients), "warnings": self.warnings,
        }


def _card_valid(row: dict[str, Any], day: dt.date) -> bool:
    start, end = row.get("card_valid_from"), row.get("card_valid_to")
    if not row.get("card_no") or start is None:
        return False
    return start <= day and (end is None or day <= end)


def _fact(row: dict[str, Any], department: str) -> PatientFact:
    reception = row.get("level2_identity") is not None or row.get("health_book") is not None
    level2, book = bool(row.get("level2_identity")), bool(row.get("health_book"))
    reason = None if book else (row.get("no_book_reason") or ("no_reception" if not reception
                                                             else "no_level2" if not level2 else None))
    return PatientFact(
        department=department, patient=str(row["patient"]), ma_lk=str(row["ma_lk"]), examined_at=row["examined_at"],
        identified_by=row.get("identified_by"), level2_identity=level2,
        card=mask(row["card_no"]) if row.get("card_no") else "", card_valid=_card_valid(row, row["examined_at"].date()),
        id_number=mask(row["id_number"]) if row.get("id_number") else "", health_book=book, reason=reason,
        reception=reception)


def build_report(source: str, period: Period, *, mapping: Mapping, periods: int | None = None,
                 rank_min_patients: int | None = None, now: dt.datetime | None = None) -> AdoptionReport:
    """Read the period (and the ``periods - 1`` before it, for the trend) from the HIS and compute the report."""
    periods = periods or int(labels()["report"]["trend_periods"])
    if rank_min_patients is None:
        rank_min_patients = int(labels()["report"]["rank_min_patients"])
    history = period.history(periods)
    with his_engine(source) as engine:
        ex = Extractor(engine, mapping)
        check_adoption(ex, {"examinations": EXAM_COLUMNS, "staff": STAFF_COLUMNS})
        # (period, department, patient) → (order, fact) of the latest examination; "" = the hospital as a whole
        latest: dict[tuple[int, str, str], tuple[tuple, PatientFact]] = {}
        names: dict[str, str] = {}
        for row in adoption_rows(ex, "examinations", start=history[0].start, end=period.end):
            at = row["examined_at"]
            idx = next((i for i, p in enumerate(history) if p.contains(at)), None)
            if idx is None:
                continue
            if row["department"] is None:  # listed under its own heading and warned about, never dropped
                row["department"], row["department_name"] = NO_DEPARTMENT, "(không rõ khoa/phòng)"
            if row["patient"] is None:  # no patient code: the visit stands for the patient
                row["patient"] = f"(MA_LK {row['ma_lk']})"
            dept, who = str(row["department"]), str(row["patient"])
            names[dept] = row.get("department_name") or dept
            order = (at, str(row["key"]))
            fact = None
            for k in ((idx, dept, who), (idx, "", who)):
                if k not in latest or latest[k][0] < order:
                    fact = fact or _fact(row, dept)
                    latest[k] = (order, fact)
        staff_rows = list(adoption_rows(ex, "staff"))

    facts: dict[int, dict[str, list[PatientFact]]] = defaultdict(lambda: defaultdict(list))
    for (idx, dept, _who), (_order, fact) in latest.items():
        facts[idx][dept].append(fact)
    last = len(history) - 1
    trend = [TrendPoint(p, Counts.of(facts[i][""]),
                        {d: Counts.of(fs) for d, fs in facts[i].items() if d}) for i, p in enumerate(history)]
    while len(trend) > 2 and trend[0].total.examined == 0:  # before the HIS has any data: not part of the trend
        trend.pop(0)
    previous = trend[-2] if len(trend) > 1 else None

    codes = sorted(names)
    departments = []
    for code in codes:
        current = facts[last].get(code, [])
        prev = previous.by_department.get(code, Counts()) if previous else None
        departments.append(DepartmentRow(code, names[code], Counts.of(current), prev,
                                         identified_by=Counter(f.identified_by or "unknown" for f in current)))
    _rank(departments, max(1, rank_min_patients))
    departments.sort(key=lambda d: (d.rank is None, d.rank or 0, d.code))
    hospital = facts[last].get("", [])
    total = DepartmentRow("", labels()["report"]["total_label"], Counts.of(hospital),
                          previous.total if previous else None,
                          identified_by=Counter(f.identified_by or "unknown" for f in hospital))
    patients = sorted((f for d in codes for f in facts[last].get(d, [])),
                      key=lambda f: (f.department, f.examined_at, f.patient))
    staff, staff_total = _staff(staff_rows)
    return AdoptionReport(mapping.facility, mapping.facility_name, period, departments, total, trend, staff,
                          staff_total, patients, _warnings(departments, total, staff_rows, period, patients),
                          now or dt.datetime.now(dt.UTC), max(1, rank_min_patients))


def _rank(rows: list[DepartmentRow], min_patients: int) -> None:
    ranked = sorted((r for r in rows if r.counts.examined >= min_patients), key=lambda r: r.counts.rate_all,
                    reverse=True)
    for i, r in enumerate(ranked):
        same = i and ranked[i - 1].counts.rate_all == r.counts.rate_all
        r.rank = ranked[i - 1].rank if same else i + 1


def _staff(rows: list[dict[str, Any]]) -> tuple[list[StaffRow], StaffRow]:
    by: dict[str, StaffRow] = {}
    unknown = "(không rõ lý do)"
    for r in rows:
        code = str(r["department"])
        s = by.setdefault(code, StaffRow(code, r.get("department_name") or code))
        s.total += 1
        if r.get("level2_identity"):
            s.level2 += 1
        else:
            s.level2_reasons[r.get("level2_missing_reason") or unknown] += 1
        s.books += bool(r.get("health_book"))
        if r.get("card_integrated"):
            s.cards += 1
        else:
            s.card_reasons[r.get("card_missing_reason") or unknown] += 1
    total = StaffRow("", labels()["report"]["total_label"])
    out = [by[k] for k in sorted(by)]
    for s in out:
        total.add(s)
    return out, total


def _some_ma_lk(facts, most: int = 5) -> str:
    """``MA_LK 7999…01, 7999…02 và 3 hồ sơ khác``: where QA finds the rows a warning is about."""
    found = sorted({f.ma_lk for f in facts})
    more = f" và {len(found) - most} hồ sơ khác" if len(found) > most else ""
    return "MA_LK " + ", ".join(found[:most]) + more


def _warnings(departments: list[DepartmentRow], total: DepartmentRow, staff_rows: list, period: Period,
              patients: list[PatientFact]) -> list:
    """What QA must look at before the report is sent (stable codes, Vietnamese messages)."""
    out = []
    if total.counts.examined == 0:
        out.append({"code": "ADOPTION.EMPTY_PERIOD", "count": 0,
                    "message": f"Không có lượt khám nào trong {period.title}: kiểm tra nguồn dữ liệu và truy vấn "
                               f"[adoption.examinations] trước khi gửi báo cáo."})
    lost = next((d for d in departments if d.code == NO_DEPARTMENT), None)
    if lost is not None:
        out.append({"code": "ADOPTION.NO_DEPARTMENT", "count": lost.counts.examined,
                    "message": f"{lost.counts.examined} người bệnh có lượt khám không ghi khoa/phòng (liệt kê ở dòng "
                               f"'{lost.name}'; {_some_ma_lk(f for f in patients if f.department == NO_DEPARTMENT)}):"
                               f" bổ sung khoa trong HIS hoặc sửa truy vấn [adoption.examinations]."})
    missing = {d.code: d.counts.no_reception for d in departments if d.counts.no_reception}
    if missing:
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(missing.items()))
        out.append({"code": "ADOPTION.NO_RECEPTION", "count": total.counts.no_reception,
                    "message": f"{total.counts.no_reception} người bệnh không có bản ghi tiếp đón (không biết tài "
                               f"khoản mức 2 và Sổ sức khỏe điện tử; được tính là chưa có sổ) — theo khoa: {detail}; "
                               f"{_some_ma_lk(f for f in patients if not f.reception)}."})
    lab = labels()
    for column, attr in (("identified_by", "identified_by"), ("no_book_reason", "reason")):
        known = lab[column]
        odd = [f for f in patients if getattr(f, attr) is not None and getattr(f, attr) not in known]
        if odd:
            unknown = Counter(getattr(f, attr) for f in odd)
            out.append({"code": "ADOPTION.UNKNOWN_CODE", "count": len(odd),
                        "message": f"Cột {column} có mã không có trong labels.toml: "
                                   f"{', '.join(f'{k!r} ({v})' for k, v in sorted(unknown.items()))} "
                                   f"({_some_ma_lk(odd)}) — thêm nhãn hoặc chuyển mã trong truy vấn "
                                   f"[adoption.examinations]."})
    if not staff_rows:
        out.append({"code": "ADOPTION.NO_STAFF", "count": 0,
                    "message": "Danh sách nhân viên trống: bảng khảo sát nhân viên (Phụ lục 1) không có số liệu."})
    return out


__all__ = ["AdoptionReport", "Counts", "DepartmentRow", "PatientFact", "StaffRow", "TrendPoint", "build_report",
           "labels", "percent", "reasons_text"]
