"""The rules of the rows' details: bid information (TT_THAU), performers and the fields the portal's list requires
by group or by another field's value (params ``required_when``), weights and durations. Run right after
:mod:`.clinical`, before :mod:`.papers`."""

from __future__ import annotations

from decimal import Decimal

from ..params import defaults
from .engine import (
    WARNING,
    Hit,
    RuleSet,
    View,
    items_of,
    matches,
    when,
)

RULES = RuleSet()
rule = RULES.rule


# --- bids, performers ------------------------------------------------------------------------------------------------
@rule("R.BID.SYNTAX", tables=("XML2", "XML3"), fields=("TT_THAU",),
      title="TT_THAU đúng cú pháp số QĐ;gói;nhóm;năm (thuốc: thêm Gi.YY, mã đơn vị áp thầu; vật tư: số QĐ.mã đơn vị;"
            " tự bào chế, tự sản xuất: số văn bản;năm)",
      source="QĐ 130 (4750), XML2 TT_THAU: «Số quyết định …; mã gói thầu; mã nhóm thầu; năm ban hành», «Gi.YY», «bổ"
             " sung mã đơn vị ban hành quyết định», «Số quyết định;XXXX»; XML3 TT_THAU: «Số quyết định.Mã đơn vị ban"
             " hành quyết định;Gi;Ni;XXXX», «…;Gi;XXXX» before Thông tư 14/2020",
      message="TT_THAU '{found}' sai cú pháp ({expected}).")
def _bid_syntax(v: View):
    for table, key, expected in (("XML2", "bid_info_drug", "số QĐ;Gi;Ni;năm[;Gi.YY][;mã đơn vị] hoặc số văn bản;năm"),
                                 ("XML3", "bid_info_supply", "số QĐ[.mã đơn vị];Gi;Ni;năm, số QĐ.mã đơn vị;Gi;năm"
                                                             " hoặc số văn bản;năm")):
        for i, r in enumerate(v.rows(table), start=1):
            if r.TT_THAU and not matches(v.p[key], r.TT_THAU):
                yield Hit(table, "TT_THAU", v.row_no(r, i), {"found": r.TT_THAU, "expected": expected})


@rule("R.BID.REQUIRED.XML2", tables=("XML2",), fields=("TT_THAU", "MA_NHOM"),
      title="Thuốc có TT_THAU (trừ MA_NHOM 7, 17)",
      source="QĐ 130 portal list, XML2, TT_THAU: «Bắt buộc trừ mã nhóm 7,17»", message="Thuốc {drug} (MA_NHOM {group}) thiếu TT_THAU.")
def _bid_x2(v: View):
    for i, r in enumerate(v.rows("XML2"), start=1):
        if not r.TT_THAU and r.MA_NHOM not in v.p["no_bid_groups"]:
            yield Hit("XML2", "TT_THAU", v.row_no(r, i), {"drug": r.MA_THUOC, "group": r.MA_NHOM})


@rule("R.BID.REQUIRED.XML3", tables=("XML3",), fields=("TT_THAU", "MA_NHOM"), title="Vật tư (MA_NHOM 10) có TT_THAU",
      source="QĐ 130 portal list, XML3, TT_THAU: «Bắt buộc khi MA_NHOM = 10»",
      message="Vật tư {item} thiếu TT_THAU.")
def _bid_x3(v: View):
    for i, r in enumerate(v.rows("XML3"), start=1):
        if r.MA_NHOM == 10 and not r.TT_THAU:
            yield Hit("XML3", "TT_THAU", v.row_no(r, i), {"item": r.MA_VAT_TU})


def _sends_sample(v: View, r) -> bool:
    """A row that sends a lab sample to another facility (MA_DICH_VU XX.YYYY.ZZZZ.K.WWWWW): 4750 exempts it."""
    return bool(r.MA_DICH_VU) and matches(v.p["sent_sample_service"], r.MA_DICH_VU)


_SENT_SAMPLE = "; 4750: «Trường này không bắt buộc trong trường hợp thực hiện chuyển gửi xét nghiệm cận lâm sàng»"


def _required_for_groups(code: str, field_: str, quote: str):
    """A field the portal's list requires on XML3 rows of the performer groups (1, 2, 3, 8, 18 — params), except
    rows that send a lab sample elsewhere: one family, each rule with its own code."""
    @rule(code, tables=("XML3",), fields=(field_, "MA_NHOM"),
          title=f"DVKT nhóm 1, 2, 3, 8, 18 có {field_} (trừ chuyển gửi xét nghiệm)",
          source=f"QĐ 130 portal list, XML3, {field_}: «{quote}»" + _SENT_SAMPLE,
          message=f"Dịch vụ {{service}} (MA_NHOM {{group}}) thiếu {field_}.")
    def check(v: View):
        for i, r in enumerate(v.rows("XML3"), start=1):
            if r.MA_NHOM in v.p["performer_groups"] and not getattr(r, field_) and not _sends_sample(v, r):
                yield Hit("XML3", field_, v.row_no(r, i), {"service": r.MA_DICH_VU, "group": r.MA_NHOM})


_required_for_groups("R.PERFORMER.XML3", "NGUOI_THUC_HIEN", "Bắt buộc MA_NHOM =1,2,3,8,18")
_required_for_groups("R.TH_YL_REQUIRED.XML3", "NGAY_TH_YL", "bắt buộc MA_NHOM =1,2,3,8,18")


@rule("R.REQUIRED.XML3", tables=("XML3",), fields=("NGAY_YL", "MA_BAC_SI"),
      title="NGAY_YL, MA_BAC_SI có trên mọi dòng XML3 trừ dòng chuyển gửi xét nghiệm",
      source="QĐ 130 portal list, XML3, NGAY_YL and MA_BAC_SI: «x» (required)" + _SENT_SAMPLE,
      message="Dòng {service} thiếu {field}.")
def _x3_required(v: View):
    for i, r in enumerate(v.rows("XML3"), start=1):
        if not _sends_sample(v, r):
            for name in ("NGAY_YL", "MA_BAC_SI"):
                if not getattr(r, name):
                    yield Hit("XML3", name, v.row_no(r, i), {"service": r.MA_DICH_VU or r.MA_VAT_TU, "field": name})


def _required_when_rule(spec: dict):
    table, when, fields = spec["table"], spec["when"], tuple(spec["fields"])

    @rule(f"R.REQUIRED_WHEN.{table}.{when}", tables=(table,), fields=fields + (when,),
          title=f"{', '.join(fields)} bắt buộc theo {when} ({table})",
          source=f"QĐ 130 portal list, {table}, {', '.join(fields)}: {spec['clause']}",
          message="{when} = {value} nên phải có {field}.")
    def check(v: View):
        for i, r in enumerate(v.rows(table), start=1):
            value = getattr(r, when, None)
            items = {str(x) for x in items_of(str(value))} if value not in (None, "") else set()
            if not items or ("unless" in spec and items <= set(spec["unless"])) or \
                    ("values" in spec and not items & set(spec["values"])):
                continue
            for name in fields:
                if getattr(r, name, None) in (None, ""):
                    yield Hit(table, name, v.row_no(r, i), {"when": when, "value": value, "field": name})


for _spec in defaults()["required_when"]:
    _required_when_rule(_spec)


# --- weights and durations --------------------------------------------------------------------------------------------
@rule("R.WEIGHT.BOUNDS", severity=WARNING, tables=("XML1",), fields=("CAN_NANG",),
      title="CAN_NANG trong giới hạn hợp lý (kg)",
      source="QĐ 130 (4750), XML1, CAN_NANG: «số kilogram (kg) cân nặng của người bệnh»; the bounds are ours (no"
             " clause gives them), hence a warning",
      message="CAN_NANG = {found} kg ngoài khoảng {lo}–{hi} kg.")
def _weight(v: View):
    lo, hi = (Decimal(x) for x in v.p["adult_weight_kg"])
    w = v.x1.CAN_NANG
    if w is not None and not lo <= w <= hi:
        yield Hit("XML1", "CAN_NANG", 1, {"found": w, "lo": lo, "hi": hi})


@rule("R.WEIGHT.BABY", severity=WARNING, tables=("XML1", "XML9"), fields=("CAN_NANG_CON",),
      title="Cân nặng con trong giới hạn (gram)",
      source="QĐ 130 (4750), XML1/XML9, CAN_NANG_CON: «số gram (ký hiệu là: g) … (ví dụ: 3.6 kg = 3600g)»; the bounds"
             " are ours (no clause gives them), hence a warning",
      message="CAN_NANG_CON = {found} g ngoài khoảng {lo}–{hi} g.")
def _baby_weight(v: View):
    lo, hi = (Decimal(x) for x in v.p["baby_weight_g"])
    for w in items_of(v.x1.CAN_NANG_CON):
        if not lo <= Decimal(w) <= hi:
            yield Hit("XML1", "CAN_NANG_CON", 1, {"found": w, "lo": lo, "hi": hi})
    for i, r in enumerate(v.rows("XML9"), start=1):
        if r.CAN_NANG_CON is not None and not lo <= r.CAN_NANG_CON <= hi:
            yield Hit("XML9", "CAN_NANG_CON", i, {"found": r.CAN_NANG_CON, "lo": lo, "hi": hi})


@rule("R.ARV_DAYS", tables=("XML6",), fields=("SO_NGAY_CAP_THUOC_ARV", "NGAY_BAT_DAU_XU_TRI", "NGAY_KET_THUC_XU_TRI"),
      title="Số ngày cấp thuốc ARV không vượt NGAY_KET_THUC_XU_TRI − NGAY_BAT_DAU_XU_TRI",
      source="QĐ 130 (4750), XML6, SO_NGAY_CAP_THUOC_ARV: «nhỏ hơn hoặc bằng với ngày trong trường thông tin"
             " NGAY_KET_THUC_XU_TRI trừ đi (-) ngày trong trường thông tin NGAY_BAT_DAU_XU_TRI»",
      message="SO_NGAY_CAP_THUOC_ARV = {found} vượt {limit} ngày ({start} – {end}).")
def _arv(v: View):
    for i, r in enumerate(v.rows("XML6"), start=1):
        start, end = when(r.NGAY_BAT_DAU_XU_TRI), when(r.NGAY_KET_THUC_XU_TRI)
        if start and end and (r.SO_NGAY_CAP_THUOC_ARV or 0) > (end - start).days:
            yield Hit("XML6", "SO_NGAY_CAP_THUOC_ARV", i, {"found": r.SO_NGAY_CAP_THUOC_ARV, "limit": (end - start).days,
                                                          "start": r.NGAY_BAT_DAU_XU_TRI, "end": r.NGAY_KET_THUC_XU_TRI})


@rule("R.LEAVE_DAYS", tables=("XML11",), fields=("SO_NGAY_NGHI", "TU_NGAY", "DEN_NGAY"),
      title="Giấy nghỉ việc: số ngày nghỉ khớp từ ngày – đến ngày, tối đa 180",
      source="QĐ 130 (4750), XML11, SO_NGAY_NGHI: «tối đa không quá 30 ngày», «bệnh lao … không quá 180 ngày», «sẩy"
             " thai … không quá 50 ngày»: the paper does not say which case applies, so 180 is the limit; TU_NGAY"
             " «ngày bắt đầu», DEN_NGAY «ngày kết thúc hưởng chế độ»",
      message="SO_NGAY_NGHI = {found} nhưng {tu} – {den} là {expected} ngày (tối đa {limit}).")
def _leave(v: View):
    for r in v.rows("XML11"):
        tu, den = when(r.TU_NGAY), when(r.DEN_NGAY)
        if tu and den:
            expected = (den - tu).days + 1
            if r.SO_NGAY_NGHI != expected or r.SO_NGAY_NGHI > v.p["max_leave_days"]:
                yield Hit("XML11", "SO_NGAY_NGHI", 1, {"found": r.SO_NGAY_NGHI, "tu": r.TU_NGAY, "den": r.DEN_NGAY,
                                                       "expected": expected, "limit": v.p["max_leave_days"]})
