"""The rule list, first part (structure, money, dates, cards; the rest in :mod:`.clinical`). One
decorated function per rule; families (the same check on several tables) are declared in a loop so that each member
keeps its own code. ``xml130 rules`` lists them; docs/rules.md is generated."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from ..codes import (
    COUNTED_DAY_KINDS,
    ZERO_DAY_KINDS,
)
from ..mapping.derive import check_card
from .engine import INSURED, UNINSURED, WARNING, ZERO, Hit, RuleSet, View, items_of, when

RULES = RuleSet()
rule = RULES.rule

LIST_TABLES = ("XML2", "XML3", "XML4", "XML5", "XML15")
CHILD_TABLES = tuple(f"XML{i}" for i in range(2, 16) if i != 12)


def _sum(rows, attr: str) -> Decimal:
    return sum((getattr(r, attr) or ZERO for r in rows), ZERO)


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
            lambda v: _sum([r for r in v.rows("XML3") if v.p.is_supply(r.MA_NHOM)], "THANH_TIEN_BV"),
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

    @rule(f"R.MUC_HUONG.{table}", severity=WARNING, tables=(table,), fields=("MUC_HUONG",), applies_to=INSURED,
          title=f"MUC_HUONG thường là 80, 95 hoặc 100 ({table})",
          source=f"{here}, MUC_HUONG: «đúng tuyến ghi mức hưởng là 80 hoặc 95 hoặc 100»; «trái tuyến ghi mức hưởng"
                 " sau khi đã nhân với tỷ lệ hưởng trái tuyến» (e.g. 32): other values are allowed, hence a warning;"
                 " a row outside the fund (TYLE_TT_BH 0, e.g. before a card that turned up during the stay) has 0",
          message="MUC_HUONG = {found} khác các mức thường gặp {usual} (kiểm tra tỷ lệ trái tuyến).")
    def muc_huong(v: View):
        usual = {str(x) for x in v.p["muc_huong"]}
        for i, r in enumerate(v.rows(table), start=1):  # a row outside the fund (TYLE_TT_BH 0) has no benefit
            if r.MUC_HUONG is not None and str(r.MUC_HUONG) not in usual and r.TYLE_TT_BH != 0:
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
def _fund_rows(v: View):
    """(table, row number, row, order time) of the cost rows the fund pays a share of (THANH_TIEN_BH > 0)."""
    for table, no, r in v.costs():
        if (r.THANH_TIEN_BH or ZERO) > ZERO:
            yield table, no, r, when(r.NGAY_YL)


def _periods(x) -> list[tuple[dt.date | None, dt.date | None]]:
    tu, den = items_of(x.GT_THE_TU), items_of(x.GT_THE_DEN)
    out = []
    for i, t in enumerate(tu):
        start, end = when(t), when(den[i]) if i < len(den) else None
        out.append((start.date() if start else None, end.date() if end else None))
    return out


def _covered(periods, day: dt.date) -> bool:
    return any(start and start <= day and (end is None or day <= end) for start, end in periods)


@rule("R.CARD.VALID_ON_ADMISSION", applies_to=INSURED, tables=("XML1",),
      fields=("MA_THE_BHYT", "GT_THE_TU", "GT_THE_DEN", "NGAY_VAO"),
      title="Một thẻ BHYT của đợt điều trị còn giá trị ngày vào (thẻ có trong đợt điều trị: ngày đầu tiên quỹ chi trả)",
      source="QĐ 130 (4750), XML1, GT_THE_TU/GT_THE_DEN: «thời điểm thẻ BHYT bắt đầu có giá trị» / «hết giá trị sử"
             " dụng», one per card of the episode; the portal checks the card on the day of the visit. A card that"
             " turns up during a stay («Trường hợp trong thời gian điều trị, người bệnh được cấp thẻ BHYT mới …»)"
             " is checked on the first day the fund pays for (the earliest NGAY_YL with THANH_TIEN_BH > 0)",
      message="Không thẻ nào có giá trị ngày {vao}: {periods}.")
def _card_valid(v: View):
    x = v.x1
    if not x.MA_THE_BHYT or not v.vao:
        return
    days = [t.date() for _, _, _, t in _fund_rows(v) if t]
    day = min(days) if days and min(days) > v.vao.date() else v.vao.date()
    if _covered(_periods(x), day):
        return
    tu, den = items_of(x.GT_THE_TU), items_of(x.GT_THE_DEN)
    yield Hit("XML1", "GT_THE_DEN", 1, {"vao": day.strftime("%d/%m/%Y"),
                                        "periods": ", ".join(f"{a}→{b}" for a, b in zip(tu, den + [""] * len(tu), strict=False))})


@rule("R.CARD.COVERS_COSTS", applies_to=INSURED, tables=("XML1", "XML2", "XML3"),
      fields=("NGAY_YL", "THANH_TIEN_BH", "GT_THE_TU", "GT_THE_DEN"),
      title="Chi phí quỹ BHYT chi trả được chỉ định trong thời hạn của một thẻ",
      source="QĐ 130 (4750), XML1, GT_THE_TU/GT_THE_DEN: the period each card of the episode is valid; XML2/XML3,"
             " THANH_TIEN_BH «mức giá do quỹ BHYT thanh toán»: a cost ordered outside every card's period is not"
             " the fund's (a card that turns up during a stay pays from its GT_THE_TU)",
      message="Dòng chỉ định lúc {yl} có THANH_TIEN_BH = {bh} nhưng không thẻ nào có giá trị ngày đó ({periods}).")
def _card_covers(v: View):
    x = v.x1
    if not x.MA_THE_BHYT:
        return
    periods = _periods(x)
    for table, no, r, yl in _fund_rows(v):
        if yl and not _covered(periods, yl.date()):
            yield Hit(table, "THANH_TIEN_BH", no, {"yl": yl, "bh": r.THANH_TIEN_BH,
                                                   "periods": ", ".join(f"{a}→{b or ''}" for a, b in periods)})


@rule("R.CARD.MISSING", applies_to=INSURED, tables=("XML1",), fields=("MA_THE_BHYT", "MA_DOITUONG_KCB"),
      title="Hồ sơ KCB BHYT (MA_DOITUONG_KCB khác 9) có thẻ BHYT",
      source="QĐ 130 (4750), XML1, MA_THE_BHYT: only «Trường hợp người bệnh không KBCB BHYT thì để trống»; an"
             " emergency's card «tra cứu thông tin thẻ BHYT trước khi người bệnh ra viện»; QĐ 3276/2025: a patient"
             " not using BHYT is MA_DOITUONG_KCB 9",
      message="MA_DOITUONG_KCB = {code} (KCB BHYT) nhưng không có MA_THE_BHYT: ghi thẻ, hoặc MA_DOITUONG_KCB 9 nếu"
              " người bệnh không KCB BHYT.")
def _card_missing(v: View):
    if not v.x1.MA_THE_BHYT:
        yield Hit("XML1", "MA_THE_BHYT", 1, {"code": v.x1.MA_DOITUONG_KCB})


@rule("R.UNINSURED.NO_CARD", applies_to=UNINSURED, tables=("XML1",),
      fields=("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN"),
      title="Người bệnh không KCB BHYT (MA_DOITUONG_KCB 9): các trường thẻ để trống",
      source="QĐ 130 (4750), XML1, MA_THE_BHYT, MA_DKBD, GT_THE_TU, GT_THE_DEN: «Trường hợp người bệnh không KBCB"
             " BHYT thì để trống trường thông tin này»; QĐ 3276/2025: 9 «người bệnh không KCB BHYT»",
      message="MA_DOITUONG_KCB 9 (không KCB BHYT) nhưng {field} có giá trị.")
def _uninsured_card(v: View):
    for f in ("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN"):
        if getattr(v.x1, f):
            yield Hit("XML1", f, 1, {"field": f})


@rule("R.UNINSURED.NO_FUND", applies_to=UNINSURED, tables=("XML1", "XML2", "XML3"),
      fields=("THANH_TIEN_BH", "T_BHTT", "T_BNCCT", "T_TONGCHI_BH"),
      title="Người bệnh không KCB BHYT (MA_DOITUONG_KCB 9): quỹ không chi trả, người bệnh tự trả toàn bộ",
      source="QĐ 3276/2025: 9 «người bệnh không KCB BHYT»; QĐ 130 (4750), XML1 T_BHTT «số tiền đề nghị cơ quan"
             " bảo hiểm xã hội thanh toán», T_TONGCHI_BH «chi phí trong phạm vi quỹ BHYT thanh toán», T_BNCCT «cùng"
             " chi trả trong phạm vi quyền lợi được hưởng BHYT»: none for a visit outside BHYT",
      message="MA_DOITUONG_KCB 9 (không KCB BHYT) nhưng {field} = {found} (phải là 0).")
def _uninsured_fund(v: View):
    for f in ("T_TONGCHI_BH", "T_BHTT", "T_BNCCT"):
        if (getattr(v.x1, f) or ZERO) != ZERO:
            yield Hit("XML1", f, 1, {"field": f, "found": getattr(v.x1, f)})
    for table, no, r in v.costs():
        for f in ("THANH_TIEN_BH", "T_BHTT", "T_BNCCT"):
            if (getattr(r, f) or ZERO) != ZERO:
                yield Hit(table, f, no, {"field": f"{table} {f}", "found": getattr(r, f)})


@rule("R.CARD.LISTS_MATCH", applies_to=INSURED, tables=("XML1",), fields=("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN"),
      title="Nhiều thẻ: MA_THE_BHYT, MA_DKBD, GT_THE_TU, GT_THE_DEN có cùng số phần tử",
      source="QĐ 130 (4750), XML1, MA_THE_BHYT/MA_DKBD/GT_THE_TU/GT_THE_DEN: a new card during treatment: «ghi tiếp"
             " … cách nhau bằng dấu chấm phẩy» in each of the four fields; GT_THE_DEN empty only for a QN, HC, LS,"
             " XK, CY, CA card «mà không tra cứu được»",
      message="Số thẻ {n} nhưng MA_DKBD có {d}, GT_THE_TU có {t}, GT_THE_DEN có {e} giá trị.")
def _card_lists(v: View):
    x = v.x1
    n = len(items_of(x.MA_THE_BHYT))
    d, t, e = len(items_of(x.MA_DKBD)), len(items_of(x.GT_THE_TU)), len(items_of(x.GT_THE_DEN))
    unlooked = any(c[:2] in v.p["unlooked_card_prefixes"] for c in items_of(x.MA_THE_BHYT))
    if n and (d != n or t != n or (e != n and not (unlooked and e == 0))):
        yield Hit("XML1", "MA_THE_BHYT", 1, {"n": n, "d": d, "t": t, "e": e})


@rule("R.CARD.STRUCTURE", applies_to=INSURED, tables=("XML1",), fields=("MA_THE_BHYT",),
      title="Số thẻ BHYT đúng cấu trúc (mã đối tượng, mức hưởng 1–5, nơi cấp, 10 số)",
      source="QĐ 130 (4750), XML1, MA_THE_BHYT: «mỗi mã thẻ gồm có 15 ký tự»; their structure (2 letters, level 1–5,"
             " office, 10 digits) is BHXH's card number as the portal's card look-up reads it",
      message="Số thẻ '{card}' sai cấu trúc ({why}).")
def _card_structure(v: View):
    for card in items_of(v.x1.MA_THE_BHYT):
        bad = check_card(card, temporary=card.startswith("TE1"))
        if bad:
            yield Hit("XML1", "MA_THE_BHYT", 1, {"card": card, "why": bad[0]})


@rule("R.CARD.TEMPORARY", applies_to=INSURED, tables=("XML1",), fields=("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU"),
      title="Thẻ tạm trẻ sơ sinh (TE1, đến 28 ngày tuổi): MA_DKBD = mã tỉnh + 000, GT_THE_TU = ngày vào,"
            " GT_THE_DEN = ngày ra",
      source="QĐ 130 (4750), XML1, MA_DKBD: «mã tỉnh … + 000. Ví dụ: Hà Nội thì ghi là 01000», for children «theo"
             " Điều 10 Thông tư số 30/2020/TT-BYT»; GT_THE_TU/GT_THE_DEN «chưa có thẻ BHYT: Thay thời điểm thẻ BHYT"
             " có giá trị bằng thời gian người bệnh vào» / «… hết giá trị bằng thời gian người bệnh ra viện»",
      message="Thẻ tạm {card}: MA_DKBD phải là {dkbd}, GT_THE_TU phải là {tu}, GT_THE_DEN phải là {den}.")
def _temp_card(v: View):
    x = v.x1
    cards, dkbd, tu, den = items_of(x.MA_THE_BHYT), items_of(x.MA_DKBD), items_of(x.GT_THE_TU), items_of(x.GT_THE_DEN)
    born = when(x.NGAY_SINH)
    newborn = v.p.is_newborn(born, v.vao)
    for i, card in enumerate(cards):
        # a TE card of level 1 looks the same as a temporary one: only a newborn's card is taken as temporary
        if card.startswith("TE1") and v.vao and newborn:
            want = (card[3:5] + "000", v.vao.strftime("%Y%m%d"), v.ra.strftime("%Y%m%d") if v.ra else None)
            found = tuple(xs[i] if i < len(xs) else None for xs in (dkbd, tu, den))
            if found[:2] != want[:2] or (want[2] and found[2] != want[2]):
                yield Hit("XML1", "MA_DKBD", 1, {"card": card, "dkbd": want[0], "tu": want[1], "den": want[2]})


@rule("R.NEWBORN.BIRTH_TIME", severity=WARNING, tables=("XML1",), fields=("NGAY_SINH",),
      title="Trẻ đến 28 ngày tuổi: NGAY_SINH ghi 00:00 (giờ sinh không rõ hay sinh đúng 00:00) — giám định viên xác nhận",
      source="QĐ 130 (4750), XML1, NGAY_SINH: «trẻ mới sinh (từ đủ 28 ngày tuổi trở xuống) thì phải ghi đầy đủ thông"
             " tin ngày, tháng, năm, giờ, phút sinh của trẻ (nếu có)» and «không có thông tin giờ, phút sinh thì ký tự"
             " giờ và phút được mặc định là 0000»: …0000 is both a birth at 00:00 and an unknown time, so a file"
             " cannot be refused for it (a warning for the giám định staff)",
      message="Trẻ {days} ngày tuổi, NGAY_SINH {born} ghi giờ sinh 00:00: sinh đúng 00:00 hay không rõ giờ sinh?"
              " Giám định viên cần xác nhận (trẻ đến 28 ngày tuổi phải ghi giờ, phút sinh nếu có).")
def _birth_time(v: View):
    born = v.x1.NGAY_SINH
    b = when(born)
    if b and v.vao and v.p.is_newborn(b, v.vao) and born.endswith("0000"):
        yield Hit("XML1", "NGAY_SINH", 1, {"days": (v.vao - b).days, "born": born})


# --- identity numbers written by software that stores them as numbers ---------------------------------------
def _cccd_zero_rule(table: str, name: str):
    @rule(f"R.CCCD.ZERO.{table}", severity=WARNING, tables=(table,), fields=(name,),
          title=f"{table} {name}: 11 chữ số — số CCCD (12 chữ số, bắt đầu bằng 0) đã mất số 0 đầu?",
          source=f"QĐ 130 (4750), {table}, {name}: «số căn cước công dân hoặc số chứng minh thư nhân dân hoặc số hộ"
                 " chiếu»; a citizen identity number has 12 digits beginning with the province code 001–096"
                 " (TT 59/2021/TT-BCA), so 11 digits is one that lost its leading 0 — HIS models that type the field"
                 " as a number write it so (docs/conformance.md, shapes seen in other software); a warning, since a"
                 " foreign passport may be 11 digits",
          message=f"{name} của bảng {table} có 11 chữ số: số CCCD có 12 chữ số và bắt đầu bằng số 0 (mã tỉnh) — phần"
                  " mềm HIS có thể đã lưu số này dạng số nên mất số 0 đầu. Kiểm tra lại số giấy tờ.")
    def check(v: View):
        for i, r in enumerate(v.rows(table), start=1):
            value = getattr(r, name, None)
            if value and len(value) == 11 and value.isdigit():
                yield Hit(table, name, v.row_no(r, i), {})


for _t, _name in (("XML0", "SO_CCCD"), ("XML1", "SO_CCCD"), ("XML6", "SO_CCCD"), ("XML9", "SO_CCCD_NND"),
                  ("XML15", "SO_CCCD")):
    _cccd_zero_rule(_t, _name)

