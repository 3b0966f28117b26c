"""The rule list, first part (structure, money, dates; cards and identity in :mod:`.cards`, the rest in
:mod:`.clinical` and :mod:`.papers`). One
decorated function per rule; families (the same check on several tables) are declared in a loop so that each member
keeps its own code. ``xml130 rules`` lists them; docs/rules.md is generated."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from ..codes import (
    COUNTED_DAY_KINDS,
    ZERO_DAY_KINDS,
)
from .engine import INSURED, WARNING, ZERO, Hit, RuleSet, View, when

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


# --- text that carries markup: a CDATA section escaped by a writer that was handed it as text ------------------
HOSO_TABLES = tuple(f"XML{i}" for i in range(1, 16))


@rule("R.TEXT.CDATA", severity=WARNING, tables=HOSO_TABLES, fields=("any text field",),
      title="Giá trị chứa nguyên văn '<![CDATA[' (phần mềm HIS bọc CDATA rồi lại mã hóa thành chữ)",
      source="XML 1.0: a CDATA section is markup, never part of a value; a writer handed '<![CDATA[…]]>' as text"
             " escapes it, and the value then carries the markup (a HIS vendor's tracker: «Dữ liệu XML130.XML2 có"
             " chứa thẻ <![CDATA[......]]>», a bug); the portal stores it as written, so a warning",
      message="Trường {field} (bảng {table}) chứa nguyên văn '<![CDATA[': phần mềm HIS đã bọc CDATA rồi lại mã hóa"
              " thành chữ; giám định viên sẽ thấy cả thẻ này trong giá trị.")
def _cdata_as_text(v: View):
    for table in HOSO_TABLES:
        for i, r in enumerate(v.rows(table), start=1):
            for name, value in r.__dict__.items():
                if type(value) is str and "<![CDATA[" in value:
                    yield Hit(table, name, v.row_no(r, i), {"table": table, "field": name})
