"""The rule catalogue. One decorated function per rule; families (the same check on several tables) are declared
in a loop so that each member keeps its own code. ``xml130 rules`` lists them; docs/rules.md is generated."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from ..codes import (
    BED_KINDS,
    COUNTED_DAY_KINDS,
    INPATIENT_KINDS,
    ZERO_DAY_KINDS,
    DischargeKind,
    ObjectCode,
    Sex,
    VisitKind,
)
from ..mapping.derive import check_card
from ..params import is_newborn, is_short_stay, is_supply, params, stay_hours
from . import WARNING, Hit, View, codes_on, matches, rule, when

ZERO = Decimal(0)
LIST_TABLES = ("XML2", "XML3", "XML4", "XML5", "XML15")
CHILD_TABLES = tuple(f"XML{i}" for i in range(2, 16) if i != 12)


def _sum(rows, attr: str) -> Decimal:
    return sum((getattr(r, attr) or ZERO for r in rows), ZERO)


def _items(text: str | None) -> list[str]:
    return [x for x in (text or "").split(";") if x]


# --- structure across tables ----------------------------------------------------------------------------------
@rule("R.MA_LK_MATCH", tables=CHILD_TABLES, fields=("MA_LK",), title="MA_LK của mọi dòng bảng con trùng XML1",
      source="QĐ 130 (4750), mọi bảng, MA_LK: «mã đợt điều trị duy nhất (dùng để liên kết giữa … bảng XML 1 và các"
             " bảng còn lại)»",
      message="MA_LK '{found}' của bảng {table} không trùng MA_LK '{expected}' của XML1.")
def _ma_lk(v: View):
    for table in CHILD_TABLES:
        for i, r in enumerate(v.rows(table), start=1):
            if getattr(r, "MA_LK", None) not in (None, v.x1.MA_LK):
                yield Hit(table, "MA_LK", v.row_no(r, i), {"found": r.MA_LK, "expected": v.x1.MA_LK, "table": table})


def _stt_rule(table: str):
    @rule(f"R.STT.{table}", tables=(table,), fields=("STT",), title=f"STT của {table} chạy 1..n không thiếu",
          source=f"QĐ 130 (4750), {table}, STT: «Số thứ tự tăng từ 1 đến hết trong một lần gửi dữ liệu»",
          message="STT của bảng " + table + " là {found}; phải là 1..{n} liên tục.")
    def check(v: View):
        stts = [r.STT for r in v.rows(table)]
        if stts and stts != list(range(1, len(stts) + 1)):
            yield Hit(table, "STT", None, {"found": ",".join(map(str, stts)), "n": len(stts)})


for _t in LIST_TABLES:
    _stt_rule(_t)


# --- money: totals of XML1 --------------------------------------------------------------------------------------
def _total_rule(code: str, field_: str, title: str, compute, source: str):
    @rule(code, tables=("XML1", "XML2", "XML3"), fields=(field_,), title=title, source=source,
          message=f"{field_} = {{found}} nhưng tổng từ các dòng chi phí là {{expected}} (chênh {{diff}}).")
    def check(v: View):
        expected = compute(v)
        found = getattr(v.x1, field_) or ZERO
        if abs(found - expected) > v.tol:
            yield Hit("XML1", field_, 1, {"found": found, "expected": expected, "diff": found - expected})


def _both(v: View):
    return list(v.rows("XML2")) + list(v.rows("XML3"))


_total_rule("R.TOTAL.T_TONGCHI_BV", "T_TONGCHI_BV", "T_TONGCHI_BV = Σ THANH_TIEN_BV của XML2 và XML3",
            lambda v: _sum(_both(v), "THANH_TIEN_BV"),
            "QĐ 130 (4750), XML1, T_TONGCHI_BV: «là tổng số tiền THANH_TIEN_BV tại bảng XML2 và XML3»")
_total_rule("R.TOTAL.T_TONGCHI_BH", "T_TONGCHI_BH", "T_TONGCHI_BH = Σ THANH_TIEN_BH của XML2 và XML3",
            lambda v: _sum(_both(v), "THANH_TIEN_BH"),
            "QĐ 130 (4750), XML1, T_TONGCHI_BH: «là tổng số tiền THANH_TIEN_BH tại bảng XML2 và XML3»")
_total_rule("R.TOTAL.T_THUOC", "T_THUOC", "T_THUOC = Σ THANH_TIEN_BV của XML2",
            lambda v: _sum(v.rows("XML2"), "THANH_TIEN_BV"),
            "QĐ 130 (4750), XML1, T_THUOC: «tổng thành tiền (THANH_TIEN_BV) các khoản chi của thuốc … tại bảng XML 2»")
_total_rule("R.TOTAL.T_VTYT", "T_VTYT", "T_VTYT = Σ THANH_TIEN_BV của vật tư (MA_NHOM 10, 11) trong XML3",
            lambda v: _sum([r for r in v.rows("XML3") if is_supply(r.MA_NHOM)], "THANH_TIEN_BV"),
            "QĐ 130 (4750), XML1, T_VTYT: «tổng thành tiền của vật tư y tế trong trường thông tin THANH_TIEN_BV tại"
            " bảng XML 3» (VTYT = MA_NHOM 10, 11 of QĐ 5937 Phụ lục 3)")
for _f in ("T_BHTT", "T_BNCCT", "T_BNTT", "T_NGUONKHAC"):
    _total_rule(f"R.TOTAL.{_f}", _f, f"{_f} của XML1 = Σ {_f} của XML2 và XML3", lambda v, f=_f: _sum(_both(v), f),
                f"QĐ 130 (4750), XML1, {_f}: «là tổng số tiền {_f} tại bảng XML2 và XML3»" if _f != "T_BHTT" else
                "QĐ 130 (4750), XML1, T_BHTT: «T_BHTT = T_TONGCHI_BH - T_BNCCT», with T_TONGCHI_BH and T_BNCCT the"
                " sums of XML2 and XML3; each row's T_BHTT is THANH_TIEN_BH less its own shares")


@rule("R.SHARES.XML1", tables=("XML1",), fields=("T_BHTT", "T_BNCCT", "T_BNTT", "T_NGUONKHAC", "T_TONGCHI_BV"),
      title="T_BHTT + T_BNCCT + T_BNTT + T_NGUONKHAC = T_TONGCHI_BV",
      source="QĐ 130 (4750), XML1: T_TONGCHI_BV, T_BHTT, T_BNCCT, T_BNTT, T_NGUONKHAC are the sums of the rows"
             " (R.SHARES.XML2/XML3), whose shares add up to THANH_TIEN_BV",
      message="T_BHTT + T_BNCCT + T_BNTT + T_NGUONKHAC = {found} khác T_TONGCHI_BV = {expected}.")
def _shares_x1(v: View):
    x = v.x1
    found = sum((getattr(x, f) or ZERO for f in ("T_BHTT", "T_BNCCT", "T_BNTT", "T_NGUONKHAC")), ZERO)
    if abs(found - (x.T_TONGCHI_BV or ZERO)) > v.tol:
        yield Hit("XML1", "T_TONGCHI_BV", 1, {"found": found, "expected": x.T_TONGCHI_BV})


# --- money: per row ------------------------------------------------------------------------------------------
def _row_rules(table: str, price: str, rate: str | None, amount_clause: str):
    """The per-row rules of a cost table; ``rate`` is the share of the price paid (XML3: TYLE_TT_DV, in %)."""
    times = f" × {rate}/100" if rate else ""
    here = f"QĐ 130 (4750), {table}"

    @rule(f"R.AMOUNT.{table}", tables=(table,), fields=("THANH_TIEN_BV", "SO_LUONG", price) + ((rate,) if rate else ()),
          title=f"THANH_TIEN_BV = round(SO_LUONG × {price}{times}, 2) trong {table}", source=amount_clause,
          message="THANH_TIEN_BV = {found} nhưng SO_LUONG × " + price + times + " = {qty} × {price}"
                  + (" × {rate}%" if rate else "") + " = {expected}.")
    def amount(v: View):
        for i, r in enumerate(v.rows(table), start=1):
            pct = Decimal(getattr(r, rate)) if rate and getattr(r, rate) is not None else Decimal(100)
            expected = (r.SO_LUONG * getattr(r, price) * pct / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if abs(r.THANH_TIEN_BV - expected) > v.tol:
                yield Hit(table, "THANH_TIEN_BV", v.row_no(r, i), {"found": r.THANH_TIEN_BV, "qty": r.SO_LUONG,
                                                                    "price": getattr(r, price), "rate": pct,
                                                                    "expected": expected})

    @rule(f"R.SHARES.{table}", tables=(table,), fields=("T_BHTT", "T_BNCCT", "T_BNTT", "T_NGUONKHAC"),
          title=f"T_BHTT + T_BNCCT + T_BNTT + T_NGUONKHAC = THANH_TIEN_BV trong {table}",
          source=f"{here}, T_BHTT/T_BNCCT/T_BNTT: «T_BNTT (tạm tính) = THANH_TIEN_BV - THANH_TIEN_BH», «T_BNCCT (tạm"
                 " tính) = THANH_TIEN_BH - T_BHTT (tạm tính)», T_NGUONKHAC deducted from them: the four shares make"
                 " THANH_TIEN_BV",
          message="Tổng các phần chi trả = {found} khác THANH_TIEN_BV = {expected}.")
    def shares(v: View):
        for i, r in enumerate(v.rows(table), start=1):
            found = sum((getattr(r, f) or ZERO for f in ("T_BHTT", "T_BNCCT", "T_BNTT", "T_NGUONKHAC")), ZERO)
            if abs(found - r.THANH_TIEN_BV) > v.tol:
                yield Hit(table, "T_BHTT", v.row_no(r, i), {"found": found, "expected": r.THANH_TIEN_BV})

    @rule(f"R.NGUONKHAC.{table}", tables=(table,), fields=("T_NGUONKHAC",),
          title=f"T_NGUONKHAC = NSNN + VTNN + VTTN + CL trong {table}",
          source=f"{here}, T_NGUONKHAC: «T_NGUONKHAC = T_NGUONKHAC_NSNN + T_NGUONKHAC_VTNN + T_NGUONKHAC_VTTN +"
                 " T_NGUONKHAC_CL»",
          message="T_NGUONKHAC = {found} khác tổng các nguồn khác = {expected}.")
    def nguonkhac(v: View):
        for i, r in enumerate(v.rows(table), start=1):
            parts = sum((getattr(r, f) or ZERO for f in ("T_NGUONKHAC_NSNN", "T_NGUONKHAC_VTNN", "T_NGUONKHAC_VTTN",
                                                          "T_NGUONKHAC_CL")), ZERO)
            if abs(parts - (r.T_NGUONKHAC or ZERO)) > v.tol:
                yield Hit(table, "T_NGUONKHAC", v.row_no(r, i), {"found": r.T_NGUONKHAC, "expected": parts})

    @rule(f"R.BH_LE_BV.{table}", tables=(table,), fields=("THANH_TIEN_BH", "THANH_TIEN_BV"),
          title=f"THANH_TIEN_BH không vượt THANH_TIEN_BV trong {table}",
          source=f"{here}, T_BNTT: «T_BNTT (tạm tính) = THANH_TIEN_BV - THANH_TIEN_BH», a share that cannot be"
                 " negative; T_NGUONKHAC: «0 < T_NGUONKHAC < THANH_TIEN_BV»",
          message="THANH_TIEN_BH = {bh} lớn hơn THANH_TIEN_BV = {bv}.")
    def bh_le_bv(v: View):
        for i, r in enumerate(v.rows(table), start=1):
            if (r.THANH_TIEN_BH or ZERO) > r.THANH_TIEN_BV + v.tol:
                yield Hit(table, "THANH_TIEN_BH", v.row_no(r, i), {"bh": r.THANH_TIEN_BH, "bv": r.THANH_TIEN_BV})

    @rule(f"R.TYLE.{table}", tables=(table,), fields=("TYLE_TT_BH",), title=f"TYLE_TT_BH trong 0..100 ({table})",
          source=f"{here}, TYLE_TT_BH: «tỷ lệ thanh toán BHYT … (%)», «không quy định tỷ lệ thanh toán thì ghi"
                 " 100», «không thuộc phạm vi thanh toán … thì ghi là 0»",
          message="TYLE_TT_BH = {found} ngoài khoảng 0–100.")
    def tyle(v: View):
        for i, r in enumerate(v.rows(table), start=1):
            if r.TYLE_TT_BH is not None and not 0 <= r.TYLE_TT_BH <= 100:
                yield Hit(table, "TYLE_TT_BH", v.row_no(r, i), {"found": r.TYLE_TT_BH})

    @rule(f"R.MUC_HUONG.{table}", severity=WARNING, tables=(table,), fields=("MUC_HUONG",),
          title=f"MUC_HUONG thường là 80, 95 hoặc 100 ({table})",
          source=f"{here}, MUC_HUONG: «đúng tuyến ghi mức hưởng là 80 hoặc 95 hoặc 100»; «trái tuyến ghi mức hưởng"
                 " sau khi đã nhân với tỷ lệ hưởng trái tuyến» (e.g. 32): other values are allowed, hence a warning",
          message="MUC_HUONG = {found} khác các mức thường gặp {usual} (kiểm tra tỷ lệ trái tuyến).")
    def muc_huong(v: View):
        usual = {str(x) for x in v.p["muc_huong"]}
        for i, r in enumerate(v.rows(table), start=1):
            if r.MUC_HUONG is not None and str(r.MUC_HUONG) not in usual:
                yield Hit(table, "MUC_HUONG", v.row_no(r, i), {"found": r.MUC_HUONG, "usual": "/".join(sorted(usual))})

    @rule(f"R.YL_IN_STAY.{table}", tables=(table, "XML1"), fields=("NGAY_YL", "NGAY_VAO", "NGAY_RA"),
          title=f"NGAY_VAO ≤ NGAY_YL ≤ NGAY_RA ({table})",
          source=f"{here}, NGAY_YL: «thời điểm ra y lệnh» within XML1's «thời điểm người bệnh đến KBCB» (NGAY_VAO)"
                 " and «thời điểm người bệnh ra viện» (NGAY_RA)",
          message="NGAY_YL {yl} nằm ngoài đợt điều trị {vao} – {ra}.")
    def yl_in_stay(v: View):
        for i, r in enumerate(v.rows(table), start=1):
            yl = when(r.NGAY_YL)
            if yl and v.vao and v.ra and not v.vao <= yl <= v.ra:
                yield Hit(table, "NGAY_YL", v.row_no(r, i), {"yl": yl, "vao": v.vao, "ra": v.ra})

    @rule(f"R.TH_YL_AFTER_YL.{table}", tables=(table,), fields=("NGAY_TH_YL", "NGAY_YL"),
          title=f"NGAY_TH_YL không trước NGAY_YL ({table})",
          source=f"{here}, NGAY_TH_YL: «thời điểm thực hiện y lệnh», which follows «thời điểm ra y lệnh» (NGAY_YL)",
          message="Thực hiện y lệnh lúc {th} trước khi có y lệnh lúc {yl}.")
    def th_after_yl(v: View):
        for i, r in enumerate(v.rows(table), start=1):
            th, yl = when(getattr(r, "NGAY_TH_YL", None)), when(r.NGAY_YL)
            if th and yl and th < yl:
                yield Hit(table, "NGAY_TH_YL", v.row_no(r, i), {"th": th, "yl": yl})


_row_rules("XML2", "DON_GIA", None,
           "QĐ 130 (4750), XML2, THANH_TIEN_BV: «THANH_TIEN_BV = SO_LUONG * DON_GIA, làm tròn số đến 2 chữ số thập phân»")
_row_rules("XML3", "DON_GIA_BV", "TYLE_TT_DV",
           "QĐ 4750 đính chính, XML3, THANH_TIEN_BV: «THANH_TIEN_BV = SO_LUONG * DON_GIA_BV * TYLE_TT_DV, làm tròn số"
           " đến 2 chữ số thập phân» (TYLE_TT_DV is a percentage: 100, 50, 30 …)")


# --- dates --------------------------------------------------------------------------------------------------------
@rule("R.DATES.VAO_RA", tables=("XML1",), fields=("NGAY_VAO", "NGAY_RA"), title="NGAY_VAO ≤ NGAY_RA",
      source="QĐ 130 (4750), XML1, NGAY_VAO «thời điểm người bệnh đến KBCB», NGAY_RA «thời điểm … kết thúc điều trị»",
      message="NGAY_RA {ra} trước NGAY_VAO {vao}.")
def _vao_ra(v: View):
    if v.vao and v.ra and v.ra < v.vao:
        yield Hit("XML1", "NGAY_RA", 1, {"vao": v.vao, "ra": v.ra})


@rule("R.DATES.VAO_NOI_TRU", tables=("XML1",), fields=("NGAY_VAO_NOI_TRU",),
      title="NGAY_VAO ≤ NGAY_VAO_NOI_TRU ≤ NGAY_RA",
      source="QĐ 130 (4750), XML1, NGAY_VAO_NOI_TRU: «thời điểm người bệnh được bác sỹ chỉ định vào điều trị nội trú»,"
             " during the episode NGAY_VAO – NGAY_RA",
      message="NGAY_VAO_NOI_TRU {nt} ngoài đợt điều trị {vao} – {ra}.")
def _vao_noi_tru(v: View):
    nt = when(v.x1.NGAY_VAO_NOI_TRU)
    if nt and v.vao and v.ra and not v.vao <= nt <= v.ra:
        yield Hit("XML1", "NGAY_VAO_NOI_TRU", 1, {"nt": nt, "vao": v.vao, "ra": v.ra})


@rule("R.DATES.BORN_BEFORE_VAO", tables=("XML1",), fields=("NGAY_SINH", "NGAY_VAO"), title="NGAY_SINH trước NGAY_VAO",
      source="QĐ 130 (4750), XML1, NGAY_SINH: the birth date; an abandoned baby's is «thời điểm mà cơ sở KBCB tiếp"
             " nhận trẻ», so never after NGAY_VAO",
      message="NGAY_SINH {born} sau NGAY_VAO {vao}.")
def _born(v: View):
    born = when(v.x1.NGAY_SINH)
    if born and v.vao and born > v.vao:
        yield Hit("XML1", "NGAY_SINH", 1, {"born": born, "vao": v.vao})


@rule("R.DATES.TTOAN_AFTER_VAO", severity=WARNING, tables=("XML1",), fields=("NGAY_TTOAN",),
      title="NGAY_TTOAN không trước NGAY_VAO",
      source="QĐ 130 (4750), XML1, NGAY_TTOAN: «thời điểm người bệnh thanh toán chi phí KBCB»; no clause orders it,"
             " hence a warning",
      message="NGAY_TTOAN {tt} trước NGAY_VAO {vao}.")
def _ttoan(v: View):
    tt = when(v.x1.NGAY_TTOAN)
    if tt and v.vao and tt < v.vao:
        yield Hit("XML1", "NGAY_TTOAN", 1, {"tt": tt, "vao": v.vao})


@rule("R.DATES.KQ_AFTER_YL.XML3", tables=("XML3",), fields=("NGAY_KQ", "NGAY_YL"), title="Kết quả sau chỉ định (XML3)",
      source="QĐ 130 (4750), XML3, NGAY_KQ: «thời điểm có kết quả» of the service ordered at NGAY_YL",
      message="NGAY_KQ {kq} trước NGAY_YL {yl}.")
def _kq_x3(v: View):
    for i, r in enumerate(v.rows("XML3"), start=1):
        kq, yl = when(r.NGAY_KQ), when(r.NGAY_YL)
        if kq and yl and kq < yl:
            yield Hit("XML3", "NGAY_KQ", v.row_no(r, i), {"kq": kq, "yl": yl})


@rule("R.DATES.KQ_AFTER_ORDER.XML4", tables=("XML4", "XML3"), fields=("NGAY_KQ", "MA_DICH_VU"),
      title="Kết quả cận lâm sàng (XML4) sau chỉ định dịch vụ cùng mã (XML3)",
      source="QĐ 130 (4750), XML4, NGAY_KQ: «thời điểm có kết quả cận lâm sàng» of the service XML3 orders",
      message="Kết quả {service} lúc {kq} trước chỉ định sớm nhất lúc {yl}.")
def _kq_x4(v: View):
    first: dict[str, dt.datetime] = {}
    for r in v.rows("XML3"):
        yl = when(r.NGAY_YL)
        if r.MA_DICH_VU and yl and (r.MA_DICH_VU not in first or yl < first[r.MA_DICH_VU]):
            first[r.MA_DICH_VU] = yl
    for i, r in enumerate(v.rows("XML4"), start=1):
        kq = when(r.NGAY_KQ)
        if kq and r.MA_DICH_VU in first and kq < first[r.MA_DICH_VU]:
            yield Hit("XML4", "NGAY_KQ", v.row_no(r, i), {"service": r.MA_DICH_VU, "kq": kq, "yl": first[r.MA_DICH_VU]})


@rule("R.DATES.DBLS_IN_STAY", tables=("XML5",), fields=("THOI_DIEM_DBLS",), title="Diễn biến lâm sàng trong đợt điều trị",
      source="QĐ 130 (4750), XML5, THOI_DIEM_DBLS: the moment of the clinical note, within the episode of XML1",
      message="THOI_DIEM_DBLS {t} ngoài đợt điều trị {vao} – {ra}.")
def _dbls(v: View):
    for i, r in enumerate(v.rows("XML5"), start=1):
        t = when(r.THOI_DIEM_DBLS)
        if t and v.vao and v.ra and not v.vao <= t <= v.ra:
            yield Hit("XML5", "THOI_DIEM_DBLS", v.row_no(r, i), {"t": t, "vao": v.vao, "ra": v.ra})


@rule("R.SO_NGAY_DTRI", tables=("XML1",), fields=("SO_NGAY_DTRI", "MA_LOAI_KCB"),
      title="SO_NGAY_DTRI: 0 cho MA_LOAI_KCB 01, 07, 09; NGAY_RA − NGAY_VAO + 1 cho 02, 03, 04, 06",
      source="QĐ 4750, XML1, SO_NGAY_DTRI: «các mã \"01\", \"07\", \"09\" thì … SO_NGAY_DTRI = 0»; «các mã \"02\","
             " \"03\", \"04\", \"06\" thì … SO_NGAY_DTRI = Ngày RA trừ (-) ngày VÀO cộng (+) 1» (05, 08: days of"
             " drugs or services, not derivable from XML1)",
      message="SO_NGAY_DTRI = {found}, theo ngày vào/ra phải là {expected}.")
def _so_ngay(v: View):
    x = v.x1
    expected = None
    if x.MA_LOAI_KCB in ZERO_DAY_KINDS:
        expected = 0
    elif x.MA_LOAI_KCB in COUNTED_DAY_KINDS and v.ra and v.vao:
        expected = (v.ra.date() - v.vao.date()).days + 1
    if expected is not None and x.SO_NGAY_DTRI != expected:
        yield Hit("XML1", "SO_NGAY_DTRI", 1, {"found": x.SO_NGAY_DTRI, "expected": expected})


@rule("R.NAM_THANG_QT", tables=("XML1",), fields=("THANG_QT",), title="THANG_QT là một tháng (1–12)",
      source="QĐ 130 (4750), XML1, THANG_QT: «Ghi tháng mà cơ sở KBCB đề nghị cơ quan BHXH thanh toán»",
      message="THANG_QT = {m} không phải là một tháng (1–12).")
def _qt(v: View):
    if not 1 <= (v.x1.THANG_QT or 0) <= 12:
        yield Hit("XML1", "THANG_QT", 1, {"m": v.x1.THANG_QT})


@rule("R.NAM_THANG_QT.BEFORE_RA", severity=WARNING, tables=("XML1",), fields=("NAM_QT", "THANG_QT", "NGAY_RA"),
      title="Năm, tháng quyết toán không trước tháng ra viện",
      source="QĐ 130 (4750), XML1, NAM_QT/THANG_QT: «năm/tháng mà cơ sở KBCB đề nghị … thanh toán»; no clause ties"
             " it to NGAY_RA (hence a warning): a claim is made after the episode ends",
      message="NAM_QT/THANG_QT = {y}/{m} trước tháng ra viện (NGAY_RA {ra}).")
def _qt_before(v: View):
    x = v.x1
    if v.ra and 1 <= (x.THANG_QT or 0) <= 12 and (x.NAM_QT, x.THANG_QT) < (v.ra.year, v.ra.month):
        yield Hit("XML1", "THANG_QT", 1, {"y": x.NAM_QT, "m": x.THANG_QT, "ra": v.ra})


# --- cards ------------------------------------------------------------------------------------------------------
@rule("R.CARD.VALID_ON_ADMISSION", tables=("XML1",), fields=("MA_THE_BHYT", "GT_THE_TU", "GT_THE_DEN", "NGAY_VAO"),
      title="Một thẻ BHYT của đợt điều trị còn giá trị ngày vào",
      source="QĐ 130 (4750), XML1, GT_THE_TU/GT_THE_DEN: «thời điểm thẻ BHYT bắt đầu có giá trị» / «hết giá trị sử"
             " dụng», one per card of the episode; the portal checks the card on the day of the visit",
      message="Không thẻ nào có giá trị ngày {vao}: {periods}.")
def _card_valid(v: View):
    x = v.x1
    if not x.MA_THE_BHYT or not v.vao:
        return
    tu, den = _items(x.GT_THE_TU), _items(x.GT_THE_DEN)
    day = v.vao.date()
    for i in range(len(tu)):
        start = when(tu[i])
        end = when(den[i]) if i < len(den) else None
        if start and start.date() <= day and (end is None or day <= end.date()):
            return
    yield Hit("XML1", "GT_THE_DEN", 1, {"vao": day.strftime("%d/%m/%Y"),
                                        "periods": ", ".join(f"{a}→{b}" for a, b in zip(tu, den + [""] * len(tu), strict=False))})


@rule("R.CARD.LISTS_MATCH", tables=("XML1",), fields=("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN"),
      title="Nhiều thẻ: MA_THE_BHYT, MA_DKBD, GT_THE_TU, GT_THE_DEN có cùng số phần tử",
      source="QĐ 130 (4750), XML1, MA_THE_BHYT/MA_DKBD/GT_THE_TU/GT_THE_DEN: a new card during treatment: «ghi tiếp"
             " … cách nhau bằng dấu chấm phẩy» in each of the four fields; GT_THE_DEN empty only for a QN, HC, LS,"
             " XK, CY, CA card «mà không tra cứu được»",
      message="Số thẻ {n} nhưng MA_DKBD có {d}, GT_THE_TU có {t}, GT_THE_DEN có {e} giá trị.")
def _card_lists(v: View):
    x = v.x1
    n = len(_items(x.MA_THE_BHYT))
    d, t, e = len(_items(x.MA_DKBD)), len(_items(x.GT_THE_TU)), len(_items(x.GT_THE_DEN))
    unlooked = any(c[:2] in v.p["unlooked_card_prefixes"] for c in _items(x.MA_THE_BHYT))
    if n and (d != n or t != n or (e != n and not (unlooked and e == 0))):
        yield Hit("XML1", "MA_THE_BHYT", 1, {"n": n, "d": d, "t": t, "e": e})


@rule("R.CARD.STRUCTURE", tables=("XML1",), fields=("MA_THE_BHYT",),
      title="Số thẻ BHYT đúng cấu trúc (mã đối tượng, mức hưởng 1–5, nơi cấp, 10 số)",
      source="QĐ 130 (4750), XML1, MA_THE_BHYT: «mỗi mã thẻ gồm có 15 ký tự»; their structure (2 letters, level 1–5,"
             " office, 10 digits) is BHXH's card number as the portal's card look-up reads it",
      message="Số thẻ '{card}' sai cấu trúc ({why}).")
def _card_structure(v: View):
    for card in _items(v.x1.MA_THE_BHYT):
        bad = check_card(card, temporary=card.startswith("TE1"))
        if bad:
            yield Hit("XML1", "MA_THE_BHYT", 1, {"card": card, "why": bad[0]})


@rule("R.CARD.TEMPORARY", tables=("XML1",), fields=("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU"),
      title="Thẻ tạm trẻ sơ sinh (TE1, đến 28 ngày tuổi): MA_DKBD = mã tỉnh + 000, GT_THE_TU = ngày vào,"
            " GT_THE_DEN = ngày ra",
      source="QĐ 130 (4750), XML1, MA_DKBD: «mã tỉnh … + 000. Ví dụ: Hà Nội thì ghi là 01000», for children «theo"
             " Điều 10 Thông tư số 30/2020/TT-BYT»; GT_THE_TU/GT_THE_DEN «chưa có thẻ BHYT: Thay thời điểm thẻ BHYT"
             " có giá trị bằng thời gian người bệnh vào» / «… hết giá trị bằng thời gian người bệnh ra viện»",
      message="Thẻ tạm {card}: MA_DKBD phải là {dkbd}, GT_THE_TU phải là {tu}, GT_THE_DEN phải là {den}.")
def _temp_card(v: View):
    x = v.x1
    cards, dkbd, tu, den = _items(x.MA_THE_BHYT), _items(x.MA_DKBD), _items(x.GT_THE_TU), _items(x.GT_THE_DEN)
    born = when(x.NGAY_SINH)
    newborn = is_newborn(born, v.vao)
    for i, card in enumerate(cards):
        # a TE card of level 1 looks the same as a temporary one: only a newborn's card is taken as temporary
        if card.startswith("TE1") and v.vao and newborn:
            want = (card[3:5] + "000", v.vao.strftime("%Y%m%d"), v.ra.strftime("%Y%m%d") if v.ra else None)
            found = tuple(xs[i] if i < len(xs) else None for xs in (dkbd, tu, den))
            if found[:2] != want[:2] or (want[2] and found[2] != want[2]):
                yield Hit("XML1", "MA_DKBD", 1, {"card": card, "dkbd": want[0], "tu": want[1], "den": want[2]})


@rule("R.NEWBORN.BIRTH_TIME", tables=("XML1",), fields=("NGAY_SINH",),
      title="Trẻ đến 28 ngày tuổi: NGAY_SINH có giờ, phút",
      source="QĐ 130 (4750), XML1, NGAY_SINH: «trẻ mới sinh (từ đủ 28 ngày tuổi trở xuống) thì phải ghi đầy đủ thông"
             " tin ngày, tháng, năm, giờ, phút sinh của trẻ»",
      message="Trẻ {days} ngày tuổi nhưng NGAY_SINH {born} không có giờ, phút.")
def _birth_time(v: View):
    born = v.x1.NGAY_SINH
    b = when(born)
    if b and v.vao and is_newborn(b, v.vao) and born.endswith("0000"):
        yield Hit("XML1", "NGAY_SINH", 1, {"days": (v.vao - b).days, "born": born})


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
            for k in _items(r.MA_KHOA):
                if not matches(pattern, k):
                    yield Hit(table, "MA_KHOA", v.row_no(r, i), {"found": k})


# --- kind of visit -------------------------------------------------------------------------------------------------
@rule("R.LOAI_KCB.SHORT_STAY", tables=("XML1",), fields=("MA_LOAI_KCB", "NGAY_VAO", "NGAY_RA"),
      title="Nội trú dưới 4 giờ phải là MA_LOAI_KCB 09",
      source="Bộ mã DMDC MA_LOAI_KCB (QĐ 130 XML1 «theo Bộ mã DMDC»; QĐ 1804/2026): 09 «nội trú dưới 4 giờ»",
      message="Nội trú {hours} giờ (< {limit} giờ) nhưng MA_LOAI_KCB = {found}; phải là 09.")
def _short(v: View):
    h = stay_hours(v.vao, v.ra)
    if v.x1.MA_LOAI_KCB == VisitKind.INPATIENT and h is not None and is_short_stay(v.vao, v.ra):
        yield Hit("XML1", "MA_LOAI_KCB", 1, {"hours": round(h, 1), "limit": v.p["short_stay_hours"],
                                             "found": v.x1.MA_LOAI_KCB})


@rule("R.LOAI_KCB.09_LONG", tables=("XML1",), fields=("MA_LOAI_KCB",), title="MA_LOAI_KCB 09 chỉ cho lưu dưới 4 giờ",
      source="Bộ mã DMDC MA_LOAI_KCB (QĐ 130 XML1 «theo Bộ mã DMDC»; QĐ 1804/2026): 09 «nội trú dưới 4 giờ»",
      message="MA_LOAI_KCB = 09 nhưng thời gian điều trị {hours} giờ.")
def _long09(v: View):
    h = stay_hours(v.vao, v.ra)
    if v.x1.MA_LOAI_KCB == VisitKind.SHORT_STAY and h is not None and not is_short_stay(v.vao, v.ra):
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
        for g in _items(r.MA_GIUONG):
            if not matches(v.p["bed_code"], g):
                yield Hit("XML3", "MA_GIUONG", v.row_no(r, i), {"found": g})


# --- diagnoses --------------------------------------------------------------------------------------------------
@rule("R.ICD.SEX", severity=WARNING, tables=("XML1",), fields=("MA_BENH_CHINH", "MA_BENH_KT", "GIOI_TINH"),
      title="Mã bệnh chỉ dành cho một giới khớp GIOI_TINH",
      source="ICD-10 (QĐ 4469/QĐ-BYT, cited by XML1 MA_BENH_CHINH) marks sex-specific codes; no clause of QĐ 130"
             " requires the check, hence a warning",
      message="Mã bệnh {code} chỉ dùng cho {sex} nhưng GIOI_TINH = {found}.")
def _icd_sex(v: View):
    x = v.x1
    for code in [x.MA_BENH_CHINH, *_items(x.MA_BENH_KT)]:
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
    n = len(_items(v.x1.MA_BENH_KT))
    if n > v.p["max_benh_kt"]:
        yield Hit("XML1", "MA_BENH_KT", 1, {"n": n, "limit": v.p["max_benh_kt"]})


@rule("R.ICD.KT_NOT_CHINH", severity=WARNING, tables=("XML1",), fields=("MA_BENH_KT", "MA_BENH_CHINH"),
      title="Bệnh kèm theo không lặp bệnh chính",
      source="QĐ 130 (4750), XML1, MA_BENH_KT: «mã các bệnh kèm theo» (beside MA_BENH_CHINH); no clause forbids a"
             " repeat, hence a warning",
      message="MA_BENH_KT lặp lại bệnh chính {found}.")
def _kt_dup(v: View):
    if v.x1.MA_BENH_CHINH and v.x1.MA_BENH_CHINH in _items(v.x1.MA_BENH_KT):
        yield Hit("XML1", "MA_BENH_KT", 1, {"found": v.x1.MA_BENH_CHINH})


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


@rule("R.PERFORMER.XML3", tables=("XML3",), fields=("NGUOI_THUC_HIEN", "MA_NHOM"),
      title="DVKT nhóm 1, 2, 3, 8, 18 có NGUOI_THUC_HIEN (trừ chuyển gửi xét nghiệm)",
      source="QĐ 130 portal list, XML3, NGUOI_THUC_HIEN: «Bắt buộc MA_NHOM =1,2,3,8,18»" + _SENT_SAMPLE,
      message="Dịch vụ {service} (MA_NHOM {group}) thiếu NGUOI_THUC_HIEN.")
def _performer(v: View):
    for i, r in enumerate(v.rows("XML3"), start=1):
        if r.MA_NHOM in v.p["performer_groups"] and not r.NGUOI_THUC_HIEN and not _sends_sample(v, r):
            yield Hit("XML3", "NGUOI_THUC_HIEN", v.row_no(r, i), {"service": r.MA_DICH_VU, "group": r.MA_NHOM})


@rule("R.TH_YL_REQUIRED.XML3", tables=("XML3",), fields=("NGAY_TH_YL", "MA_NHOM"),
      title="DVKT nhóm 1, 2, 3, 8, 18 có NGAY_TH_YL (trừ chuyển gửi xét nghiệm)",
      source="QĐ 130 portal list, XML3, NGAY_TH_YL: «bắt buộc MA_NHOM =1,2,3,8,18»" + _SENT_SAMPLE,
      message="Dịch vụ {service} (MA_NHOM {group}) thiếu NGAY_TH_YL.")
def _th_yl_req(v: View):
    for i, r in enumerate(v.rows("XML3"), start=1):
        if r.MA_NHOM in v.p["performer_groups"] and not r.NGAY_TH_YL and not _sends_sample(v, r):
            yield Hit("XML3", "NGAY_TH_YL", v.row_no(r, i), {"service": r.MA_DICH_VU, "group": r.MA_NHOM})


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
            items = {str(x) for x in _items(str(value))} if value not in (None, "") else set()
            if not items or ("unless" in spec and items <= set(spec["unless"])) or \
                    ("values" in spec and not items & set(spec["values"])):
                continue
            for name in fields:
                if getattr(r, name, None) in (None, ""):
                    yield Hit(table, name, v.row_no(r, i), {"when": when, "value": value, "field": name})


for _spec in params()["required_when"]:
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
    for w in _items(v.x1.CAN_NANG_CON):
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
    n = len(_items(v.x1.CAN_NANG_CON))
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
