"""The rule list, clinical part: code lists valid on the episode's date, the kind of visit, beds, diagnoses (bids,
performers, weights and durations are in :mod:`.details`; the papers a visit says happened and the check-in
documents in :mod:`.papers`). Run after :mod:`.cards` (the order :mod:`xml130.rules` lists them in)."""

from __future__ import annotations

import datetime as dt

from ..codes import (
    BED_KINDS,
    INPATIENT_KINDS,
    Sex,
    VisitKind,
)
from ..params import stay_hours
from .engine import (
    ERROR,
    WARNING,
    ZERO,
    Hit,
    RuleSet,
    Severity,
    View,
    _codelists,
    codes_on,
    items_of,
    matches,
)

RULES = RuleSet()
rule = RULES.rule


# --- code lists valid on the episode's date ------------------------------------------------------------------------
def _code_rule(field_: str, list_name: str, source: str, table: str = "XML1", since: dt.date | None = None):
    @rule(f"R.CODE.{field_}", tables=(table,), fields=(field_,), since=since, source=source,
          title=f"{field_} thuộc bộ mã có hiệu lực ngày ra",
          message=f"{field_} = '{{found}}' không thuộc bộ mã hiệu lực ngày {{day}}.")
    def check(v: View):
        allowed = codes_on(list_name, v.day)
        found = getattr(v.x1, field_)
        if found is not None and allowed is not None and str(found) not in allowed:
            yield Hit(table, field_, 1, {"found": found, "day": v.day.strftime("%d/%m/%Y") if v.day else "?"})


_code_rule("MA_LOAI_KCB", "MA_LOAI_KCB", "QĐ 130 (4750), XML1, MA_LOAI_KCB: «theo Bộ mã DMDC» (9 codes; QĐ 1804/2026:"
           " 16 codes from 01/08/2026)")
_code_rule("MA_DOITUONG_KCB", "MA_DOITUONG_KCB", "QĐ 130 (4750), XML1, MA_DOITUONG_KCB: «theo Bộ mã DMDC» (the list"
           " of QĐ 3276/2025)")
_code_rule("GIOI_TINH", "GIOI_TINH", "QĐ 130 (4750), XML1, GIOI_TINH: 1 nam, 2 nữ, 3 chưa xác định")
_code_rule("KET_QUA_DTRI", "KET_QUA_DTRI", "QĐ 130, XML1, KET_QUA_DTRI: mã 1–7; 4750: «Bổ sung mã \"8\": Tử vong"
           " ngoại viện»")
_code_rule("MA_LOAI_RV", "MA_LOAI_RV", "QĐ 130 (4750), XML1, MA_LOAI_RV: mã 1 ra viện … 5 chuyển tuyến theo yêu cầu"
           " người bệnh")


@rule("R.CODE.MA_KHOA", severity=WARNING, tables=("XML1", "XML2", "XML3"), fields=("MA_KHOA",),
      title="MA_KHOA đúng cú pháp K01–K99",
      source="QĐ 130 (4750), XML1/XML2/XML3, MA_KHOA: «theo Phụ lục số 5 … Quyết định số 5937/QĐ-BYT» (K01–K60, K99"
             " and sub-codes, QĐ 1804/2026); the sub-codes' shape is not published, hence a warning",
      message="MA_KHOA '{found}' sai cú pháp mã khoa.")
def _khoa(v: View):
    pattern = v.p["khoa_code"]
    for table in ("XML1", "XML2", "XML3"):
        rows = [v.x1] if table == "XML1" else v.rows(table)
        for i, r in enumerate(rows, start=1):
            for k in items_of(r.MA_KHOA):
                if not matches(pattern, k):
                    yield Hit(table, "MA_KHOA", v.row_no(r, i), {"found": k})


# --- kind of visit -------------------------------------------------------------------------------------------------
@rule("R.LOAI_KCB.SHORT_STAY", tables=("XML1",), fields=("MA_LOAI_KCB", "NGAY_VAO", "NGAY_RA"),
      title="Nội trú dưới 4 giờ phải là MA_LOAI_KCB 09",
      source="Bộ mã DMDC MA_LOAI_KCB (QĐ 130 XML1 «theo Bộ mã DMDC»; QĐ 1804/2026): 09 «nội trú dưới 4 giờ»",
      message="Nội trú {hours} giờ (< {limit} giờ) nhưng MA_LOAI_KCB = {found}; phải là 09.")
def _short(v: View):
    h = stay_hours(v.vao, v.ra)
    if v.x1.MA_LOAI_KCB == VisitKind.INPATIENT and h is not None and v.p.is_short_stay(v.vao, v.ra):
        yield Hit("XML1", "MA_LOAI_KCB", 1, {"hours": round(h, 1), "limit": v.p["short_stay_hours"],
                                             "found": v.x1.MA_LOAI_KCB})


@rule("R.LOAI_KCB.09_LONG", tables=("XML1",), fields=("MA_LOAI_KCB",), title="MA_LOAI_KCB 09 chỉ cho lưu dưới 4 giờ",
      source="Bộ mã DMDC MA_LOAI_KCB (QĐ 130 XML1 «theo Bộ mã DMDC»; QĐ 1804/2026): 09 «nội trú dưới 4 giờ»",
      message="MA_LOAI_KCB = 09 nhưng thời gian điều trị {hours} giờ.")
def _long09(v: View):
    h = stay_hours(v.vao, v.ra)
    if v.x1.MA_LOAI_KCB == VisitKind.SHORT_STAY and h is not None and not v.p.is_short_stay(v.vao, v.ra):
        yield Hit("XML1", "MA_LOAI_KCB", 1, {"hours": round(h, 1)})


@rule("R.LOAI_KCB.NOI_TRU_DATE", tables=("XML1",), fields=("NGAY_VAO_NOI_TRU", "MA_LOAI_KCB"),
      title="Nội trú, điều trị ban ngày có NGAY_VAO_NOI_TRU",
      source="QĐ 130 (4750), XML1, NGAY_VAO_NOI_TRU: «thời điểm người bệnh được bác sỹ chỉ định vào điều trị nội trú"
             " hoặc điều trị nội trú ban ngày»",
      message="MA_LOAI_KCB = {found} nhưng không có NGAY_VAO_NOI_TRU.")
def _nt_date(v: View):
    if v.x1.MA_LOAI_KCB in INPATIENT_KINDS and not v.x1.NGAY_VAO_NOI_TRU:
        yield Hit("XML1", "NGAY_VAO_NOI_TRU", 1, {"found": v.x1.MA_LOAI_KCB})


@rule("R.LOAI_KCB.COSTS", tables=("XML1", "XML2", "XML3"), fields=("T_TONGCHI_BV",),
      title="Có chi phí thì có dòng thuốc/dịch vụ, và ngược lại",
      source="QĐ 130 (4750), XML1, T_TONGCHI_BV: «là tổng số tiền THANH_TIEN_BV tại bảng XML2 và XML3»",
      message="T_TONGCHI_BV = {total} nhưng có {rows} dòng chi phí.")
def _costs_present(v: View):
    rows = len(v.rows("XML2")) + len(v.rows("XML3"))
    total = v.x1.T_TONGCHI_BV or ZERO
    if (total > 0) != (rows > 0):
        yield Hit("XML1", "T_TONGCHI_BV", 1, {"total": total, "rows": rows})


@rule("R.BED.OUTPATIENT", severity=WARNING, tables=("XML3", "XML1"), fields=("MA_NHOM", "MA_LOAI_KCB"),
      title="Tiền giường chỉ cho nội trú, ban ngày, lưu dưới 4 giờ",
      source="QĐ 130 (4750), XML3, MA_GIUONG: «mã giường tại khoa điều trị»; no clause forbids a bed row in other"
             " kinds of visit, hence a warning",
      message="Dòng giường (MA_NHOM {group}) trong lượt khám MA_LOAI_KCB = {kcb}.")
def _bed(v: View):
    if v.x1.MA_LOAI_KCB not in BED_KINDS:
        for i, r in enumerate(v.rows("XML3"), start=1):
            if r.MA_NHOM in v.p["bed_groups"]:
                yield Hit("XML3", "MA_NHOM", v.row_no(r, i), {"group": r.MA_NHOM, "kcb": v.x1.MA_LOAI_KCB})


@rule("R.BED.CODE", tables=("XML3",), fields=("MA_GIUONG",), title="MA_GIUONG đúng cú pháp (H/T/C/K + 3 số)",
      source="QĐ 130 (4750), XML3, MA_GIUONG: «gồm 04 ký tự»: H, T, C or K «+ số giường tại khoa điều trị (đánh số"
             " từ 001 đến hết)»; several beds «cách nhau bằng dấu chấm phẩy»",
      message="MA_GIUONG '{found}' sai cú pháp.")
def _bed_code(v: View):
    for i, r in enumerate(v.rows("XML3"), start=1):
        for g in items_of(r.MA_GIUONG):
            if not matches(v.p["bed_code"], g):
                yield Hit("XML3", "MA_GIUONG", v.row_no(r, i), {"found": g})


# --- diagnoses --------------------------------------------------------------------------------------------------
# ICD-10 codes as written in the field. QĐ 4469 (the ICD-10 the fields cite) prints the dual classification's marks
# beside the codes: † the cause (dagger), * the manifestation (asterisk). The mark is not part of the code.
ICD_MARKS = {"†": "dấu cộng (†, nguyên nhân)", "*": "dấu sao (*, biểu hiện)"}


def _bare(code: str | None) -> str:
    """The ICD-10 code without the mark it may be written with (G55.2* → G55.2)."""
    return (code or "").rstrip("".join(ICD_MARKS))


@rule("R.ICD.SEX", severity=WARNING, tables=("XML1",), fields=("MA_BENH_CHINH", "MA_BENH_KT", "GIOI_TINH"),
      title="Mã bệnh chỉ dành cho một giới khớp GIOI_TINH",
      source="ICD-10 (QĐ 4469/QĐ-BYT, cited by XML1 MA_BENH_CHINH) marks sex-specific codes; no clause of QĐ 130"
             " requires the check, hence a warning",
      message="Mã bệnh {code} chỉ dùng cho {sex} nhưng GIOI_TINH = {found}.")
def _icd_sex(v: View):
    x = v.x1
    for code in [x.MA_BENH_CHINH, *items_of(x.MA_BENH_KT)]:
        if not code:
            continue
        if code.startswith(tuple(v.p["icd_female"])) and x.GIOI_TINH == Sex.MALE:
            yield Hit("XML1", "MA_BENH_CHINH" if code == x.MA_BENH_CHINH else "MA_BENH_KT", 1,
                      {"code": code, "sex": "nữ", "found": x.GIOI_TINH})
        elif code.startswith(tuple(v.p["icd_male"])) and x.GIOI_TINH == Sex.FEMALE:
            yield Hit("XML1", "MA_BENH_CHINH" if code == x.MA_BENH_CHINH else "MA_BENH_KT", 1,
                      {"code": code, "sex": "nam", "found": x.GIOI_TINH})


@rule("R.ICD.KT_MAX", tables=("XML1",), fields=("MA_BENH_KT",), title="MA_BENH_KT tối đa 12 mã",
      source="QĐ 130 (4750), XML1, MA_BENH_KT: «Cơ sở KBCB chỉ được ghi tối đa 12 mã bệnh kèm theo»",
      message="MA_BENH_KT có {n} mã, tối đa {limit}.")
def _kt_max(v: View):
    n = len(items_of(v.x1.MA_BENH_KT))
    if n > v.p["max_benh_kt"]:
        yield Hit("XML1", "MA_BENH_KT", 1, {"n": n, "limit": v.p["max_benh_kt"]})


@rule("R.ICD.KT_NOT_CHINH", severity=WARNING, tables=("XML1",), fields=("MA_BENH_KT", "MA_BENH_CHINH"),
      title="Bệnh kèm theo không lặp bệnh chính",
      source="QĐ 130 (4750), XML1, MA_BENH_KT: «mã các bệnh kèm theo» (beside MA_BENH_CHINH); no clause forbids a"
             " repeat, hence a warning",
      message="MA_BENH_KT lặp lại bệnh chính {found}.")
def _kt_dup(v: View):
    main = _bare(v.x1.MA_BENH_CHINH)
    if main and main in {_bare(k) for k in items_of(v.x1.MA_BENH_KT)}:
        yield Hit("XML1", "MA_BENH_KT", 1, {"found": v.x1.MA_BENH_CHINH})


ICD_FIELDS = (("XML1", "MA_BENH_CHINH"), ("XML1", "MA_BENH_KT"), ("XML3", "MA_BENH"), ("XML13", "MA_BENH_CHINH"),
              ("XML13", "MA_BENH_KT"), ("XML14", "MA_BENH_CHINH"), ("XML14", "MA_BENH_KT"))
TT06 = dt.date(2026, 7, 1)  # TT 06/2026/TT-BYT: the ICD-10 code set from 01/07/2026, chosen by the end of the visit


def _icd_codes(v: View, fields=ICD_FIELDS):
    """(table, field, row, code as written) of every ICD-10 code of the hồ sơ."""
    for table, name in fields:
        rows = [v.x1] if table == "XML1" else v.rows(table)
        for i, r in enumerate(rows, start=1):
            for code in items_of(getattr(r, name, None)):
                yield table, name, (v.row_no(r, i) if table != "XML1" else 1), code


@rule("R.ICD.MARK", severity=WARNING, tables=tuple(dict.fromkeys(t for t, _ in ICD_FIELDS)),
      fields=tuple(dict.fromkeys(f for _, f in ICD_FIELDS)),
      title="Mã ICD-10 ghi kèm dấu † hoặc * của hệ song mã (được nhận, mã là phần trước dấu)",
      source="QĐ 130 (4750), XML1 MA_BENH_CHINH / MA_BENH_KT, XML3 MA_BENH: «mã ICD-10 do Bộ trưởng Bộ Y tế ban hành"
             " (Quyết định số 4469/QĐ-BYT …)»; QĐ 4469 prints † and * beside the codes of the dual classification, so"
             " a code written with its mark is the code of the list (accepted), but the mark is not part of the code",
      message="{field} ghi '{found}': {mark} là ký hiệu song mã ICD-10, không thuộc mã; mã bệnh là '{code}'.")
def _icd_mark(v: View):
    for table, name, row, code in _icd_codes(v):
        if code[-1] in ICD_MARKS:
            yield Hit(table, name, row, {"field": name, "found": code, "mark": ICD_MARKS[code[-1]], "code": code[:-1]})


def _asterisk_main_rule(code: str, severity: Severity, since, until, source: str, consequence: str):
    @rule(code, severity=severity, tables=("XML1",), fields=("MA_BENH_CHINH",), since=since, until=until,
          title="Mã dấu sao (*, biểu hiện bệnh) không làm bệnh chính", source=source,
          message="MA_BENH_CHINH '{found}' là mã dấu sao (biểu hiện bệnh): " + consequence)
    def check(v: View):
        main = v.x1.MA_BENH_CHINH
        if main and main.endswith("*"):
            yield Hit("XML1", "MA_BENH_CHINH", 1, {"found": main})


_asterisk_main_rule(
    "R.ICD.ASTERISK_MAIN", WARNING, None, TT06 - dt.timedelta(days=1),
    "ICD-10 (QĐ 4469/QĐ-BYT, cited by XML1 MA_BENH_CHINH): the asterisk code names a manifestation and goes with"
    " the dagger code of its cause; before TT 06/2026 no clause of QĐ 130 refuses it as the main disease, hence a"
    " warning",
    "bệnh chính nên là mã dấu cộng (†) của nguyên nhân, mã dấu sao ghi ở MA_BENH_KT.")
_asterisk_main_rule(
    "R.ICD.ASTERISK_MAIN_TT06", ERROR, TT06, None,
    "TT 06/2026/TT-BYT (ICD-10 from 01/07/2026, by the end of the visit): column 24, codes «không dùng làm bệnh"
    " chính»; an asterisk code (manifestation) is one of them",
    "từ 01/07/2026 (TT 06/2026/TT-BYT) mã này không được dùng làm bệnh chính; ghi mã dấu cộng (†) của nguyên nhân.")


@rule("R.ICD.REPLACED_TT06", tables=tuple(dict.fromkeys(t for t, _ in ICD_FIELDS)),
      fields=tuple(dict.fromkeys(f for _, f in ICD_FIELDS)), since=TT06,
      title="Mã ICD-10 đã bị thay thế từ 01/07/2026 (TT 06/2026/TT-BYT)",
      source="TT 06/2026/TT-BYT (ICD-10 from 01/07/2026, chosen by the end of the visit): codes replaced by another"
             " (Q87.11 → Q87.1); the list is codelists.toml ICD_REPLACED",
      message="{field} = '{found}' không còn dùng từ {since} (TT 06/2026/TT-BYT); ghi '{replacement}'.")
def _icd_replaced(v: View):
    periods = [p for p in _codelists()["ICD_REPLACED"] if v.day is None or p["from"] <= v.day]
    period = periods[-1] if periods else {"codes": []}
    for table, name, row, code in _icd_codes(v):
        bare = _bare(code)
        if bare in period["codes"]:
            yield Hit(table, name, row, {"field": name, "found": code, "since": period["from"].strftime("%d/%m/%Y"),
                                         "replacement": period["replacement"][bare]})
