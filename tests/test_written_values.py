"""What the mapping writes, read field by field against the appendix of QĐ 130 (4750) and its amendments
(docs/conformance.md, "Values written, read against the text"): each test asserts the exact value the text's own
formula gives, on inputs where a looser reading would give another."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from xml130.demo import demo_mapping
from xml130.demo import scenarios as sc
from xml130.demo.his import create_demo
from xml130.jobs.export import run_export
from xml130.mapping.derive import RuleContext, costs, totals, visit_kind
from xml130.mapping.extract import Selection
from xml130.models import build_hoso
from xml130.parse import load_envelope
from xml130.rules import run_rules


def ctx() -> RuleContext:
    return RuleContext("79999X", "79999", "Bệnh viện", lambda name: {}, {}, table="XML3")


def shares(out: dict) -> tuple[str, ...]:
    return tuple(str(out[f]) for f in ("THANH_TIEN_BV", "THANH_TIEN_BH", "T_BHTT", "T_BNCCT", "T_BNTT"))


def test_thanh_tien_bh_uses_the_funds_unit_price_not_the_hospitals():
    """XML3 THANH_TIEN_BH «= SO_LUONG * DON_GIA_BH * TYLE_TT_DV/100 * TYLE_TT_BH/100»: a supply bought at 120 000
    whose payment limit is 100 000 (DON_GIA_BH, 4750's note) — the fund's base is 100 000, the 20 000 above it the
    patient's own (T_BNTT = THANH_TIEN_BV − THANH_TIEN_BH)."""
    row = {"qty": Decimal("1"), "price": Decimal("120000.000"), "don_gia_bh": Decimal("100000.000"),
           "pay_rate": Decimal(100), "benefit_pct": Decimal(80)}
    assert shares(costs(row, ctx())) == ("120000.00", "100000.00", "80000.00", "20000.00", "20000.00")


def test_thanh_tien_bh_is_rounded_once():
    """1 × 1.005 at 50 %: the text's product 0.5025 rounds to 0.50; rounding THANH_TIEN_BV (1.01) first and taking
    half of it would give 0.51."""
    row = {"qty": Decimal("1"), "price": Decimal("1.005"), "pay_rate": Decimal(50), "benefit_pct": Decimal(100)}
    assert shares(costs(row, ctx())) == ("1.01", "0.50", "0.50", "0.00", "0.51")


def test_a_shared_bed_applies_tyle_tt_dv_to_both_prices():
    """4750 đính chính, TYLE_TT_DV: two patients in one bed, 50; THANH_TIEN_BH «* TYLE_TT_DV/100 * TYLE_TT_BH/100»."""
    row = {"qty": Decimal("1"), "price": Decimal("215000.000"), "don_gia_bh": Decimal("199000.000"),
           "tyle_tt_dv": 50, "pay_rate": Decimal(100), "benefit_pct": Decimal(95)}
    out = costs(row, ctx())
    assert out["TYLE_TT_DV"] == 50
    assert shares(out) == ("107500.00", "99500.00", "94525.00", "4975.00", "8000.00")


def test_t_bhtt_gdv_is_the_funds_share_of_fee_for_service_rows():
    """XML1 T_BHTT_GDV «Là số tiền T_BHTT tại bảng XML2 và XML3 đối với các chi phí có MA_PTTT là "1"»: a DRG row
    (MA_PTTT 3) is left out; the other totals take every row."""
    c = ctx()
    c.tables = {
        "XML2": [{"THANH_TIEN_BV": Decimal("100.00"), "THANH_TIEN_BH": Decimal("100.00"), "T_BHTT": Decimal("80.00"),
                  "T_BNCCT": Decimal("20.00"), "T_BNTT": Decimal("0.00"), "MA_PTTT": 1}],
        "XML3": [{"THANH_TIEN_BV": Decimal("300.00"), "THANH_TIEN_BH": Decimal("300.00"), "T_BHTT": Decimal("240.00"),
                  "T_BNCCT": Decimal("60.00"), "T_BNTT": Decimal("0.00"), "MA_PTTT": 3, "MA_NHOM": 2},
                 {"THANH_TIEN_BV": Decimal("50.00"), "THANH_TIEN_BH": Decimal("50.00"), "T_BHTT": Decimal("40.00"),
                  "T_BNCCT": Decimal("10.00"), "T_BNTT": Decimal("0.00"), "MA_PTTT": "1", "MA_NHOM": 2}],
    }
    out = totals({}, c)
    assert (str(out["T_BHTT"]), str(out["T_BHTT_GDV"])) == ("360.00", "120.00")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The demo HIS of 80 episodes exported through the demo mapping: every hồ sơ, by MA_LK."""
    url = f"sqlite:///{tmp_path_factory.mktemp('his') / 'his.db'}"
    create_demo(url, 80)
    out = tmp_path_factory.mktemp("out")
    run_export(url, demo_mapping(), out, Selection())
    return {h.ma_lk: h for p in sorted(out.glob("*.xml")) for h in load_envelope(p.read_bytes())}


def test_papers_carry_xml1s_card_and_codes_as_the_text_says(exported):
    """XML13 and XML14 MA_THE_BHYT, GT_THE_DEN, MA_BENH_KT (and XML13 MA_NOI_DI, PP_DIEU_TRI): «Sử dụng thông tin
    tại trường … trong Bảng 1» — the demo wrote them empty (the card, the secondary codes) or its own code as
    MA_NOI_DI while XML1 leaves MA_NOI_DI empty for a patient who came without a referral."""
    same = {"XML13": ("MA_THE_BHYT", "GT_THE_DEN", "MA_BENH_KT", "MA_NOI_DI", "MA_NOI_DEN", "PP_DIEU_TRI",
                      "MA_BENH_CHINH", "NGAY_VAO", "NGAY_RA"),
            "XML14": ("MA_THE_BHYT", "GT_THE_DEN", "MA_BENH_KT", "MA_DOITUONG_KCB", "MA_BENH_CHINH")}
    seen = {t: 0 for t in same}
    for h in exported.values():
        x1 = h.summary
        for table, fields in same.items():
            for paper in h.tables.get(table, ()):
                seen[table] += 1
                assert {f: getattr(paper, f) for f in fields} == {f: getattr(x1, f) for f in fields}, (h.ma_lk,
                                                                                                   table)
    assert seen["XML13"] >= 1 and seen["XML14"] >= 1, seen
    referral = next(h for h in exported.values() if "XML13" in h.tables and h.summary.MA_THE_BHYT)
    paper = referral.tables["XML13"][0]
    assert (paper.MA_NOI_DI, paper.MA_CSKCB, len(paper.MA_THE_BHYT)) == (None, "79999", 15)


def test_a_checkin_before_the_ward_admission_is_an_examination():
    """XML0 at the first cost (QĐ 3176): a patient examined at 07:54 and admitted at 09:03 was announced at 07:54
    with MA_LOAI_KCB 03 — a fact of 09:03 —; a check-in sent then says 01, the one at the ward's first cost 03. A
    stay that ended within 4 hours is 09 only once it has ended: the check-in at admission says 03."""
    ctx_ = RuleContext("79999X", "79999", "Bệnh viện", lambda name: {}, {}, table="XML0")
    arrived, admitted = dt.datetime(2026, 11, 3, 7, 49), dt.datetime(2026, 11, 3, 9, 3)
    stay = {"kind": "inpatient", "arrived_at": arrived, "ward_admitted_at": admitted,
            "left_at": dt.datetime(2026, 11, 3, 11, 0)}
    codes = [visit_kind({**stay, "event_at": at}, ctx_)["MA_LOAI_KCB"]
             for at in (dt.datetime(2026, 11, 3, 7, 54), admitted, dt.datetime(2026, 11, 3, 11, 0))]
    assert codes == ["01", "03", "09"]
    assert visit_kind(stay, ctx_)["MA_LOAI_KCB"] == "09"  # the hồ sơ, written after the end


def test_muc_huong_is_the_cards_level_or_100_for_a_small_visit(exported):
    """XML2/XML3 MUC_HUONG: «đúng tuyến ghi mức hưởng là 80 hoặc 95 hoặc 100» — the level of the card's benefit code
    (its 3rd character, NĐ 146/2018 Điều 14: 1, 2, 5 → 100; 3 → 95; 4 → 80) — and «có tổng chi phí trong phạm vi
    được hưởng dưới 15% mức lương cơ sở … ghi mức hưởng 100» (351,000 đồng). The demo HIS drew it at random: a
    TE1 child's card at 80, an 80 % card at 100 for a large stay."""
    levels = {"1": 100, "2": 100, "3": 95, "4": 80, "5": 100}
    kinds = set()
    for h in exported.values():
        x1 = h.summary
        if not x1.MA_THE_BHYT:
            continue
        small = x1.T_TONGCHI_BH < Decimal("351000")
        expected = 100 if small else levels[x1.MA_THE_BHYT.split(";")[-1][2]]
        kinds.add((small, expected))
        for table in ("XML2", "XML3"):
            for r in h.tables.get(table, ()):
                if r.TYLE_TT_BH:
                    assert str(r.MUC_HUONG) == str(expected), (h.ma_lk, table, r.STT)  # a string from QĐ 1931
    assert {(True, 100), (False, 80), (False, 95), (False, 100)} <= kinds


def test_the_discharge_papers_health_code_is_the_patient_code(exported):
    """XML7 MA_YTE: «lấy theo mã số người bệnh quy định tại trường MA_BN tại Bảng XML 1» (the demo wrote its own
    YT… number)."""
    papers = [(h.tables["XML7"][0].MA_YTE, h.summary.MA_BN) for h in exported.values() if "XML7" in h.tables]
    assert papers and all(yte == bn for yte, bn in papers)
    assert papers[0][0].startswith("BN")


def test_a_bed_row_ends_when_the_bed_is_left(exported):
    """XML3 NGAY_KQ: «Đối với ngày giường bệnh: ghi thời điểm kết thúc sử dụng từng loại giường bệnh» — the next bed
    row's order (a card that turned up mid-stay splits the bed-days), else the discharge (the demo left it empty)."""
    stays = 0
    for h in exported.values():
        beds = [r for r in h.tables.get("XML3", ()) if r.MA_NHOM == 15]
        if beds:
            stays += 1
            ends = [nxt.NGAY_YL for nxt in beds[1:]] + [h.summary.NGAY_RA]
            assert [r.NGAY_KQ for r in beds] == ends, h.ma_lk
    assert stays


def test_a_newborn_on_a_temporary_card_has_no_identity_number(exported):
    """XML1 SO_CCCD «số căn cước công dân … số hộ chiếu …»: a baby whose card is temporary has no birth registration
    yet (QĐ 130 (4750), XML1 HO_TEN: «chưa được cơ quan BHXH cấp thẻ BHYT do chưa làm thủ tục cấp giấy khai
    sinh»), hence no personal identification number; the demo HIS gave every newborn one."""
    babies = [h.summary for h in exported.values()
              if h.summary.MA_THE_BHYT and h.summary.MA_THE_BHYT.startswith("TE1") and h.summary.MA_DKBD.endswith("000")]
    assert babies and all(x.SO_CCCD is None for x in babies)


def test_a_paper_that_does_not_repeat_xml1_is_a_warning_naming_the_field():
    """R.PAPER.SAME_AS_XML1.*: what the demo wrote before (XML13 without the card, its own code as MA_NOI_DI) is
    found, each field once; the referral fixture as rendered gives nothing."""
    raw = sc.referral()
    assert [f.code for f in run_rules(build_hoso(raw)) if f.code.startswith("R.PAPER.SAME")] == []
    (card,) = raw["XML1"]["MA_THE_BHYT"]
    raw["XML13"].update(MA_THE_BHYT=None, MA_NOI_DI="79999")
    got = [(f.code, f.severity.value, f.table, f.field, f.message) for f in run_rules(build_hoso(raw))
           if f.code.startswith("R.PAPER.SAME")]
    assert got == [
        ("R.PAPER.SAME_AS_XML1.XML13", "warning", "XML13", "MA_NOI_DI",
         "MA_NOI_DI = «79999» khác XML1 (trống): trường này lấy thông tin của XML1."),
        ("R.PAPER.SAME_AS_XML1.XML13", "warning", "XML13", "MA_THE_BHYT",
         f"MA_THE_BHYT = «» khác XML1 («{card}»): trường này lấy thông tin của XML1."),
    ]
