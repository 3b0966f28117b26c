"""The rules of the papers a visit says happened (XML7 giấy ra viện, XML8 tóm tắt hồ sơ bệnh án, …) and of the
check-in documents (XML0). Run last, right after :mod:`.clinical`."""

from __future__ import annotations

from ..codes import (
    INPATIENT_KINDS,
    DischargeKind,
    ObjectCode,
    VisitKind,
)
from .engine import WARNING, Hit, RuleSet, View, items_of

RULES = RuleSet()
rule = RULES.rule


# --- papers the visit says happened ------------------------------------------------------------------------------------
@rule("R.PAPER.DISCHARGE", tables=("XML1", "XML7"), fields=("MA_LOAI_KCB", "MA_LOAI_RV"),
      title="Nội trú ra viện có giấy ra viện (XML7)",
      source="QĐ 130 (4750), XML7 «Chỉ tiêu dữ liệu giấy ra viện»: the paper a discharged inpatient (MA_LOAI_RV 1"
             " «Ra viện») receives",
      message="Nội trú ra viện (MA_LOAI_RV {rv}) nhưng không có XML7.")
def _xml7(v: View):
    if v.x1.MA_LOAI_KCB == VisitKind.INPATIENT and v.x1.MA_LOAI_RV == DischargeKind.DISCHARGED and not v.has("XML7"):
        yield Hit("XML7", None, None, {"rv": v.x1.MA_LOAI_RV})


@rule("R.PAPER.SUMMARY", tables=("XML1", "XML8"), fields=("MA_LOAI_KCB",),
      title="Nội trú, điều trị ban ngày có tóm tắt hồ sơ bệnh án (XML8)",
      source="QĐ 130 (4750), XML8 «Chỉ tiêu dữ liệu tóm tắt hồ sơ bệnh án»: sent for inpatient and day-care episodes"
             " (reference notes, ../shared/standard/README.md)",
      message="MA_LOAI_KCB = {kcb} nhưng không có XML8.")
def _xml8(v: View):
    if v.x1.MA_LOAI_KCB in INPATIENT_KINDS and not v.has("XML8"):
        yield Hit("XML8", None, None, {"kcb": v.x1.MA_LOAI_KCB})


@rule("R.PAPER.REFERRAL", tables=("XML1", "XML13"), fields=("MA_LOAI_RV", "GIAY_CHUYEN_TUYEN"),
      title="Chuyển tuyến (MA_LOAI_RV 2) có giấy chuyển tuyến (XML13)",
      source="QĐ 130 (4750), XML1, MA_LOAI_RV: «Mã \"2\": Chuyển tuyến theo yêu cầu chuyên môn»; XML13 «giấy chuyển"
             " tuyến» carries that paper",
      message="MA_LOAI_RV = 2 (chuyển tuyến) nhưng không có XML13.")
def _xml13(v: View):
    if v.x1.MA_LOAI_RV == DischargeKind.REFERRED and not v.has("XML13"):
        yield Hit("XML13", None, None, {})


@rule("R.PAPER.APPOINTMENT", tables=("XML1", "XML14"), fields=("NGAY_TAI_KHAM",),
      title="Có ngày tái khám thì có giấy hẹn khám lại (XML14)",
      source="QĐ 130 (4750), XML1, NGAY_TAI_KHAM: «ngày cơ sở KBCB hẹn người bệnh tái khám»; XML14 «giấy hẹn khám"
             " lại» carries that appointment",
      message="NGAY_TAI_KHAM = {day} nhưng không có XML14.")
def _xml14(v: View):
    if v.x1.NGAY_TAI_KHAM and not v.has("XML14"):
        yield Hit("XML14", None, None, {"day": v.x1.NGAY_TAI_KHAM})


@rule("R.PAPER.BIRTH", tables=("XML1", "XML9"), fields=("CAN_NANG_CON",),
      title="Sinh con: một dòng giấy chứng sinh (XML9) cho mỗi con",
      source="QĐ 130 (4750), XML1, CAN_NANG_CON: «sinh từ 02 con trở lên thì ghi lần lượt cân nặng của từng con»;"
             " XML9 «giấy chứng sinh», one row per baby",
      message="CAN_NANG_CON ghi {n} con nhưng XML9 có {rows} dòng.")
def _xml9(v: View):
    n = len(items_of(v.x1.CAN_NANG_CON))
    rows = len(v.rows("XML9"))
    if n and n != rows:
        yield Hit("XML9", None, None, {"n": n, "rows": rows})


# --- check-in documents (XML0) --------------------------------------------------------------------------------------
@rule("R.CHECKIN.EMERGENCY", severity=WARNING, tables=("XML0",), fields=("MA_DOITUONG_KCB",),
      title="Cấp cứu không cần gửi trạng thái KCB (check-in)",
      source="QĐ 3176, XML0 (check-in): not needed for emergencies (MA_DOITUONG_KCB 2), per the reference notes",
      message="Dòng check-in MA_LK {ma_lk} là cấp cứu (MA_DOITUONG_KCB 2): không cần gửi.")
def _checkin_emergency(v: View):
    for i, r in enumerate(v.rows("XML0"), start=1):
        if r.MA_DOITUONG_KCB == ObjectCode.EMERGENCY:
            yield Hit("XML0", "MA_DOITUONG_KCB", r.STT or i, {"ma_lk": r.MA_LK})


FIRST_COSTS = (("MA_DICH_VU", "TEN_DICH_VU"), ("MA_THUOC", "TEN_THUOC"), ("MA_VAT_TU", "TEN_VAT_TU"))


@rule("R.CHECKIN.FIRST_COST", tables=("XML0",), fields=tuple(f for pair in FIRST_COSTS for f in pair),
      title="Check-in ghi chi phí đầu tiên: dịch vụ (MA_DICH_VU, TEN_DICH_VU), thuốc (MA_THUOC, TEN_THUOC) hoặc vật tư"
            " (MA_VAT_TU, TEN_VAT_TU), mã kèm tên",
      source="QĐ 4750, XML0 (trạng thái KCB): MA_DICH_VU, TEN_DICH_VU «… là dịch vụ kỹ thuật hoặc tiền khám bệnh»;"
             " MA_THUOC, TEN_THUOC «… là thuốc»; MA_VAT_TU, TEN_VAT_TU «… là VTYT» (the portal's 130 list marks"
             " MA_DICH_VU and TEN_DICH_VU «x» from before these fields existed)",
      message="Dòng check-in MA_LK {ma_lk}: {problem}.")
def _checkin_first_cost(v: View):
    for i, r in enumerate(v.rows("XML0"), start=1):
        present = [(code, name) for code, name in FIRST_COSTS if getattr(r, code, None) or getattr(r, name, None)]
        if not present:
            yield Hit("XML0", "MA_DICH_VU", r.STT or i, {"ma_lk": r.MA_LK, "problem": "không có chi phí đầu tiên"
                      " (MA_DICH_VU/TEN_DICH_VU, MA_THUOC/TEN_THUOC hoặc MA_VAT_TU/TEN_VAT_TU)"})
        for code, name in present:
            missing = code if not getattr(r, code, None) else (name if not getattr(r, name, None) else None)
            if missing:
                yield Hit("XML0", missing, r.STT or i, {"ma_lk": r.MA_LK, "problem": f"có {code if missing == name else name}"
                          f" nhưng thiếu {missing}"})


# --- papers that repeat XML1 ------------------------------------------------------------------------------------------
# The fields whose description is «Sử dụng thông tin tại trường X trong Bảng 1» (QĐ 130 (4750), XML13 and XML14), read
# from the appendix. XML13 PP_DIEUTRI names a field XML1 does not have (its PP_DIEU_TRI is listed) and TEN_THUOC
# names XML2's: neither is compared.
SAME_AS_XML1 = {
    "XML13": ("MA_NOI_DI", "MA_NOI_DEN", "NGAY_SINH", "GIOI_TINH", "MA_QUOCTICH", "MA_DANTOC", "MA_NGHE_NGHIEP",
              "DIA_CHI", "MA_THE_BHYT", "GT_THE_DEN", "NGAY_VAO", "NGAY_VAO_NOI_TRU", "NGAY_RA", "CHAN_DOAN_RV",
              "MA_BENH_CHINH", "MA_BENH_KT", "MA_BENH_YHCT", "PP_DIEU_TRI", "MA_LOAI_RV"),
    "XML14": ("NGAY_SINH", "GIOI_TINH", "DIA_CHI", "MA_THE_BHYT", "GT_THE_DEN", "NGAY_VAO", "NGAY_VAO_NOI_TRU",
              "NGAY_RA", "CHAN_DOAN_RV", "MA_BENH_CHINH", "MA_BENH_KT", "MA_BENH_YHCT", "MA_DOITUONG_KCB"),
}


def _same_as_xml1_rule(table: str, fields: tuple[str, ...]) -> None:
    @rule(f"R.PAPER.SAME_AS_XML1.{table}", severity=WARNING, tables=(table, "XML1"), fields=fields,
          title=f"{table} ghi lại thông tin của XML1 như XML1",
          source=f"QĐ 130 (4750), {table}, each of {', '.join(fields)}: «Sử dụng thông tin tại trường … trong Bảng 1»;"
                 " a warning: the portal's own check is not published",
          message="{field} = «{found}» khác XML1 ({expected}): trường này lấy thông tin của XML1.")
    def check(v: View):
        for i, r in enumerate(v.rows(table), start=1):
            for name in fields:
                found, expected = getattr(r, name, None), getattr(v.x1, name, None)
                if str(found if found is not None else "") != str(expected if expected is not None else ""):
                    yield Hit(table, name, v.row_no(r, i), {"field": name, "found": found or "",
                                                            "expected": f"«{expected}»" if expected else "trống"})


for _t, _f in SAME_AS_XML1.items():
    _same_as_xml1_rule(_t, _f)
