"""Catalog rules (R.CAT.*): claim rows against the facility's approved catalogues in force on the row's day.

They run only when the caller gives the catalogues (``run_rules(..., catalog=Catalog)``, ``xml130 validate
--catalog LEDGER_URL``) and, for each kind, only when that catalogue was imported. The day of a row is its NGAY_YL
(XML4: NGAY_KQ; XML1: the episode's day). Every lookup is one index access by (kind, code) —
:mod:`xml130.store.catalog`. Source of every rule: the portal's catalogue checks as sender software applies them
(``catalogues.md`` of the standard notes); error where the portal rejects the row, warning where it only flags.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .engine import ERROR, WARNING, Hit, RuleSet, Severity, View, when

RULES = RuleSet()
rule = RULES.rule

SRC_DRUG = "Danh mục thuốc được phê duyệt (MA_THUOC, HAM_LUONG, SO_DANG_KY, TT_THAU, DON_GIA_BH; TU_NGAY–DEN_NGAY)"
SRC_SUPPLY = "Danh mục VTYT được phê duyệt (MA_VAT_TU, TT_THAU, DON_GIA_BH, TYLE_TT_BH; TU_NGAY–DENNGAY)"
SRC_SERVICE = "Danh mục DVKT được phê duyệt (MA_TUONG_DUONG, DON_GIA; TUNGAY–DENNGAY)"
SRC_STAFF = "Danh mục nhân viên y tế (MACCHN, PHAMVI_CM, DVKT_KHAC; TU_NGAY–DEN_NGAY)"
SRC_DEPT = "Danh mục khoa, giường (MA_KHOA; DEN_NGAY)"
SRC_MACHINE = "Danh mục trang thiết bị (MA_MAY; TU_NGAY–DEN_NGAY)"
STAFF_FIELDS = (("XML1", "MA_TTDV"), ("XML2", "MA_BAC_SI"), ("XML3", "MA_BAC_SI"), ("XML3", "NGUOI_THUC_HIEN"),
                ("XML4", "MA_BS_DOC_KQ"))
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def _codes(text: Any) -> tuple[str, ...]:
    """'a;b' or 'a, b' → ('a', 'b'). The same few codes recur in every row: cached."""
    return tuple(x.strip() for x in re.split(r"[;,]", str(text or "")) if x.strip()) if text else ()


@lru_cache(maxsize=65536)
def _norm(text: Any) -> str:
    return _SPACE.sub("", str(text or "")).casefold()


@lru_cache(maxsize=65536)
def _bid(text: Any, parts: int | None = None) -> str:
    items = [_norm(x) for x in str(text or "").split(";")]
    return ";".join(items[:parts] if parts else items)


def _day(v: View, r: Any, column: str = "NGAY_YL") -> dt.date | None:
    moment = when(getattr(r, column, None))
    return moment.date() if moment else v.day


def _active(v: View, kind: str) -> bool:
    return v.catalog is not None and v.catalog.has(kind)


def _money(value: Any) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


def _above(found: Decimal | None, approved: Decimal | None, v: View) -> bool:
    """A billed price above the approved one (beyond the money tolerance); unknown prices are not compared."""
    return found is not None and approved is not None and found - approved > v.tol


def _newest(entries: list) -> Any:
    return max(entries, key=lambda e: e.valid_from or dt.date.min)


# --- drugs: code → strength → registration number → bid, then price ------------------------------------------------
def _drug_checks(v: View) -> list[tuple[str, int, Any, dict[str, Any]]]:
    """(stage, row, XML2 row, values) of every XML2 row whose first difference is ``stage``; computed once per
    hồ sơ and shared by the five drug rules."""
    cached = getattr(v, "_catalog_drugs", None)
    if cached is not None:
        return cached
    out = []
    for i, r in enumerate(v.rows("XML2"), start=1):
        day, no = _day(v, r), v.row_no(r, i)
        entries = v.catalog.on("drug", r.MA_THUOC, day)
        if not entries:
            out.append(("UNKNOWN", no, r, {"found": r.MA_THUOC, "day": _show_day(day)}))
            continue
        stages = (("STRENGTH", "HAM_LUONG", _norm), ("REG_NO", "SO_DANG_KY", _norm),
                  ("BID", "TT_THAU", lambda t: _bid(t, 4)))
        for stage, column, key in stages:
            matching = [e for e in entries if key(e.get(column)) == key(getattr(r, column))]
            if not matching:
                expected = " | ".join(sorted({str(e.get(column) or "") for e in entries}))
                out.append((stage, no, r, {"code": r.MA_THUOC, "found": getattr(r, column), "expected": expected}))
                break
            entries = matching
        else:
            approved = _money(_newest(entries).get("DON_GIA_BH"))
            if _above(r.DON_GIA, approved, v):
                out.append(("PRICE", no, r, {"code": r.MA_THUOC, "found": r.DON_GIA, "expected": approved}))
    v._catalog_drugs = out  # type: ignore[attr-defined]
    return out


def _show_day(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "?"


def _drug_rule(stage: str, field: str, title: str, message: str, severity: Severity = ERROR,
               applies_to: str = "all"):
    @rule(f"R.CAT.DRUG.{stage}", severity=severity, tables=("XML2",), fields=(field,), title=title, message=message,
          source=SRC_DRUG, applies_to=applies_to)
    def check(v: View):
        if _active(v, "drug"):
            for s, no, _r, values in _drug_checks(v):
                if s == stage:
                    yield Hit("XML2", field, no, values)


_drug_rule("UNKNOWN", "MA_THUOC", "MA_THUOC có trong danh mục thuốc được duyệt, hiệu lực ngày y lệnh",
           "Mã thuốc '{found}' không có trong danh mục thuốc được duyệt có hiệu lực ngày {day}.")
_drug_rule("STRENGTH", "HAM_LUONG", "HAM_LUONG trùng hàm lượng của thuốc được duyệt",
           "Thuốc {code}: hàm lượng '{found}' khác danh mục được duyệt ('{expected}').")
_drug_rule("REG_NO", "SO_DANG_KY", "SO_DANG_KY trùng số đăng ký của thuốc được duyệt",
           "Thuốc {code}: số đăng ký '{found}' khác danh mục được duyệt ('{expected}').")
_drug_rule("BID", "TT_THAU", "Bốn phần đầu của TT_THAU trùng thông tin thầu của thuốc được duyệt",
           "Thuốc {code}: thông tin thầu '{found}' khác danh mục được duyệt ('{expected}').")
_drug_rule("PRICE", "DON_GIA", "DON_GIA không vượt DON_GIA_BH của thuốc được duyệt",
           "Thuốc {code}: đơn giá {found} cao hơn đơn giá BHYT được duyệt {expected}.", applies_to="insured")


# --- supplies and services (XML3) -------------------------------------------------------------------------------
def _xml3(v: View, supplies: bool):
    for i, r in enumerate(v.rows("XML3"), start=1):
        if bool(r.MA_VAT_TU) == supplies and (r.MA_VAT_TU or r.MA_DICH_VU):
            yield v.row_no(r, i), r, _day(v, r)


@rule("R.CAT.SUPPLY.UNKNOWN", tables=("XML3",), fields=("MA_VAT_TU",), source=SRC_SUPPLY,
      title="MA_VAT_TU có trong danh mục VTYT được duyệt, hiệu lực ngày y lệnh",
      message="Mã vật tư '{found}' không có trong danh mục VTYT được duyệt có hiệu lực ngày {day}.")
def _supply_unknown(v: View):
    if _active(v, "supply"):
        for no, r, day in _xml3(v, True):
            if not v.catalog.on("supply", r.MA_VAT_TU, day):
                yield Hit("XML3", "MA_VAT_TU", no, {"found": r.MA_VAT_TU, "day": _show_day(day)})


def _supply_match(v: View):
    """XML3 supply rows with their approved entries valid on the day (rows of an unknown code left out)."""
    for no, r, day in _xml3(v, True):
        entries = v.catalog.on("supply", r.MA_VAT_TU, day)
        if entries:
            yield no, r, entries, [e for e in entries if _bid(e.get("TT_THAU")) == _bid(r.TT_THAU)]


@rule("R.CAT.SUPPLY.BID", tables=("XML3",), fields=("TT_THAU",), source=SRC_SUPPLY,
      title="TT_THAU của vật tư trùng thông tin thầu được duyệt",
      message="Vật tư {code}: thông tin thầu '{found}' khác danh mục được duyệt ('{expected}').")
def _supply_bid(v: View):
    if _active(v, "supply"):
        for no, r, entries, same_bid in _supply_match(v):
            if not same_bid:
                expected = " | ".join(sorted({str(e.get("TT_THAU") or "") for e in entries}))
                yield Hit("XML3", "TT_THAU", no, {"code": r.MA_VAT_TU, "found": r.TT_THAU, "expected": expected})


@rule("R.CAT.SUPPLY.PRICE", applies_to="insured", tables=("XML3",), fields=("DON_GIA_BH",), source=SRC_SUPPLY,
      title="DON_GIA_BH của vật tư không vượt giá được duyệt",
      message="Vật tư {code}: đơn giá BHYT {found} cao hơn giá được duyệt {expected}.")
def _supply_price(v: View):
    if _active(v, "supply"):
        for no, r, _entries, same_bid in _supply_match(v):
            approved = _money(_newest(same_bid).get("DON_GIA_BH")) if same_bid else None
            if _above(r.DON_GIA_BH, approved, v):
                yield Hit("XML3", "DON_GIA_BH", no, {"code": r.MA_VAT_TU, "found": r.DON_GIA_BH, "expected": approved})


@rule("R.CAT.SUPPLY.RATE", applies_to="insured", tables=("XML3",), fields=("TYLE_TT_BH",), source=SRC_SUPPLY,
      title="TYLE_TT_BH của vật tư trùng tỷ lệ thanh toán được duyệt",
      message="Vật tư {code}: tỷ lệ thanh toán BHYT {found}% khác tỷ lệ được duyệt {expected}%.")
def _supply_rate(v: View):
    if _active(v, "supply"):
        for no, r, _entries, same_bid in _supply_match(v):
            approved = _newest(same_bid).get("TYLE_TT_BH") if same_bid else None
            if approved is not None and r.TYLE_TT_BH is not None and int(r.TYLE_TT_BH) != int(approved):
                yield Hit("XML3", "TYLE_TT_BH", no, {"code": r.MA_VAT_TU, "found": r.TYLE_TT_BH, "expected": approved})


@rule("R.CAT.SERVICE.UNKNOWN", tables=("XML3",), fields=("MA_DICH_VU",), source=SRC_SERVICE,
      title="MA_DICH_VU là MA_TUONG_DUONG của danh mục DVKT được duyệt, hiệu lực ngày y lệnh",
      message="Mã dịch vụ '{found}' không có trong danh mục DVKT được duyệt có hiệu lực ngày {day}.")
def _service_unknown(v: View):
    if _active(v, "service"):
        for no, r, day in _xml3(v, False):
            if not v.catalog.on("service", r.MA_DICH_VU, day):
                yield Hit("XML3", "MA_DICH_VU", no, {"found": r.MA_DICH_VU, "day": _show_day(day)})


@rule("R.CAT.SERVICE.PRICE", applies_to="insured", tables=("XML3",), fields=("DON_GIA_BH",), source=SRC_SERVICE,
      title="DON_GIA_BH của dịch vụ không vượt giá được duyệt đang hiệu lực",
      message="Dịch vụ {code}: đơn giá BHYT {found} cao hơn giá được duyệt {expected} có hiệu lực ngày {day}.")
def _service_price(v: View):
    if _active(v, "service"):
        for no, r, day in _xml3(v, False):
            entries = v.catalog.on("service", r.MA_DICH_VU, day)
            approved = _money(_newest(entries).get("DON_GIA")) if entries else None
            if _above(r.DON_GIA_BH, approved, v):
                yield Hit("XML3", "DON_GIA_BH", no, {"code": r.MA_DICH_VU, "found": r.DON_GIA_BH,
                                                     "expected": approved, "day": _show_day(day)})


# --- practitioners ------------------------------------------------------------------------------------------------
def _practitioners(v: View) -> list[tuple[str, str, int, str, dt.date | None, Any]]:
    """(table, field, row, code, day, entries of that code) for every practitioner named in the hồ sơ; computed
    once per hồ sơ for the two staff rules."""
    cached = getattr(v, "_catalog_staff", None)
    if cached is None:
        cached = []
        for table, field in STAFF_FIELDS:
            for i, r in enumerate(v.rows(table), start=1):
                codes = _codes(getattr(r, field, None))
                if not codes:
                    continue
                day = v.day if table == "XML1" else _day(v, r, "NGAY_KQ" if table == "XML4" else "NGAY_YL")
                cached.extend((table, field, v.row_no(r, i), code, day, v.catalog.entries("staff", code))
                              for code in codes)
        v._catalog_staff = cached  # type: ignore[attr-defined]
    return cached


@rule("R.CAT.STAFF.UNKNOWN", tables=tuple(dict.fromkeys(t for t, _ in STAFF_FIELDS)),
      fields=tuple(dict.fromkeys(f for _, f in STAFF_FIELDS)), source=SRC_STAFF,
      title="MA_BAC_SI, NGUOI_THUC_HIEN, MA_BS_DOC_KQ, MA_TTDV là MACCHN đã đăng ký",
      message="Mã CCHN '{found}' ({field}) chưa được duyệt: không có trong danh mục nhân viên y tế.")
def _staff_unknown(v: View):
    if _active(v, "staff"):
        for table, field, no, code, _, entries in _practitioners(v):
            if not entries:
                yield Hit(table, field, no, {"found": code, "field": field})


@rule("R.CAT.STAFF.NOT_VALID", tables=tuple(dict.fromkeys(t for t, _ in STAFF_FIELDS)),
      fields=tuple(dict.fromkeys(f for _, f in STAFF_FIELDS)), source=SRC_STAFF,
      title="Người hành nghề đăng ký còn hiệu lực vào ngày y lệnh / đọc kết quả",
      message="Mã CCHN '{found}' ({field}) không có đăng ký hành nghề hiệu lực ngày {day}.")
def _staff_not_valid(v: View):
    if _active(v, "staff"):
        for table, field, no, code, day, entries in _practitioners(v):
            if entries and not any(e.valid_on(day) for e in entries):
                yield Hit(table, field, no, {"found": code, "field": field, "day": _show_day(day)})


def _allows(entry: Any, service: str) -> bool | None:
    """Whether the staff row's scope covers the service: listed in DVKT_KHAC, or the service's chapter (the first
    part of MA_TUONG_DUONG) among PHAMVI_CM / PHAMVI_CMBS. None when the row declares no scope."""
    extra, scope = _codes(entry.get("DVKT_KHAC")), _codes(entry.get("PHAMVI_CM")) + _codes(entry.get("PHAMVI_CMBS"))
    if not extra and not scope:
        return None
    return service in extra or service.split(".")[0] in scope


@rule("R.CAT.STAFF.SCOPE", severity=WARNING, tables=("XML3",), fields=("NGUOI_THUC_HIEN",), source=SRC_STAFF,
      title="Dịch vụ nằm trong phạm vi chuyên môn của người thực hiện",
      message="Dịch vụ {service} ngoài phạm vi chuyên môn đăng ký của người thực hiện '{found}'.")
def _staff_scope(v: View):
    if _active(v, "staff"):
        for no, r, day in _xml3(v, False):
            for code in _codes(r.NGUOI_THUC_HIEN):
                verdicts = [_allows(e, r.MA_DICH_VU) for e in v.catalog.on("staff", code, day)]
                if verdicts and not any(x is None or x for x in verdicts):
                    yield Hit("XML3", "NGUOI_THUC_HIEN", no, {"found": code, "service": r.MA_DICH_VU})


# --- departments and machines -------------------------------------------------------------------------------------
@rule("R.CAT.DEPT.UNKNOWN", tables=("XML1", "XML2", "XML3"), fields=("MA_KHOA",), source=SRC_DEPT,
      title="MA_KHOA có trong danh mục khoa đã đăng ký, còn hiệu lực",
      message="Mã khoa '{found}' không có trong danh mục khoa đã đăng ký có hiệu lực ngày {day}.")
def _dept_unknown(v: View):
    if _active(v, "department"):
        for table in ("XML1", "XML2", "XML3"):
            for i, r in enumerate(v.rows(table), start=1):
                day = v.day if table == "XML1" else _day(v, r)
                for code in _codes(r.MA_KHOA):
                    if not v.catalog.on("department", code, day):
                        yield Hit(table, "MA_KHOA", v.row_no(r, i), {"found": code, "day": _show_day(day)})


def _machines(v: View):
    for i, r in enumerate(v.rows("XML3"), start=1):
        day = _day(v, r, "NGAY_TH_YL" if r.NGAY_TH_YL else "NGAY_YL")
        for code in _codes(r.MA_MAY):
            yield v.row_no(r, i), code, day, v.catalog.entries("equipment", code)


@rule("R.CAT.MACHINE.UNKNOWN", tables=("XML3",), fields=("MA_MAY",), source=SRC_MACHINE,
      title="MA_MAY có trong danh mục trang thiết bị đã đăng ký",
      message="Mã máy '{found}' không có trong danh mục trang thiết bị đã đăng ký.")
def _machine_unknown(v: View):
    if _active(v, "equipment"):
        for no, code, _d, entries in _machines(v):
            if not entries:
                yield Hit("XML3", "MA_MAY", no, {"found": code})


@rule("R.CAT.MACHINE.NOT_VALID", tables=("XML3",), fields=("MA_MAY",), source=SRC_MACHINE,
      title="Máy đăng ký còn hiệu lực vào ngày thực hiện",
      message="Mã máy '{found}' đã đăng ký nhưng không còn (chưa có) hiệu lực ngày {day}.")
def _machine_not_valid(v: View):
    if _active(v, "equipment"):
        for no, code, day, entries in _machines(v):
            if entries and not any(e.valid_on(day) for e in entries):
                yield Hit("XML3", "MA_MAY", no, {"found": code, "day": _show_day(day)})
