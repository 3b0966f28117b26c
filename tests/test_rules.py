"""Every rule of the catalogue: a minimal hồ sơ that breaks it (exact code, table, field, row) and the same hồ sơ
unbroken (no finding of that code). The valid scenarios pass every rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from xml130.demo import scenarios as sc
from xml130.models import build_hoso, build_rows
from xml130.rules import RULES, all_rules, codes_on, run_rules
from xml130.spec import load_spec

H = dt.timedelta(hours=1)


def _set(table, field, value, row=0):
    def edit(raw):
        target = raw[table] if isinstance(raw[table], dict) else raw[table][row]
        target[field] = value(target) if callable(value) else value
    return edit


def _bump(table, field, by="1.00", row=0):
    return _set(table, field, lambda r: r[field] + Decimal(by), row)


def _drop(table):
    def edit(raw):
        raw.pop(table)
    return edit


def _row_where(table, pred, field, value):
    def edit(raw):
        row = next(r for r in raw[table] if pred(r))
        row[field] = value(row) if callable(value) else value
    return edit


OP, IP, BT, NB, SL, HIV, TB, RF, RE, TC = (sc.outpatient_drugs_labs, sc.inpatient_surgery_beds, sc.birth_twins,
                                           sc.newborn_temporary_card, sc.sick_leave, sc.hiv_care, sc.tb_treatment,
                                           sc.referral, sc.reexam_appointment, sc.two_cards)
SP = sc.foreigner_self_paying  # MA_DOITUONG_KCB 9

# code → (scenario, edit, (table, field, row) of the expected finding)
CASES = {
    "R.MA_LK_MATCH": (OP, _set("XML2", "MA_LK", "79999OTHER"), ("XML2", "MA_LK", 1)),
    "R.STT.XML2": (OP, _set("XML2", "STT", 9), ("XML2", "STT", None)),
    "R.STT.XML3": (OP, _set("XML3", "STT", 9), ("XML3", "STT", None)),
    "R.STT.XML4": (OP, _set("XML4", "STT", 9), ("XML4", "STT", None)),
    "R.STT.XML5": (IP, _set("XML5", "STT", 9), ("XML5", "STT", None)),
    "R.STT.XML15": (TB, _set("XML15", "STT", 2), ("XML15", "STT", None)),
    "R.TOTAL.T_TONGCHI_BV": (OP, _bump("XML1", "T_TONGCHI_BV"), ("XML1", "T_TONGCHI_BV", 1)),
    "R.TOTAL.T_TONGCHI_BH": (OP, _bump("XML1", "T_TONGCHI_BH"), ("XML1", "T_TONGCHI_BH", 1)),
    "R.TOTAL.T_THUOC": (OP, _bump("XML1", "T_THUOC"), ("XML1", "T_THUOC", 1)),
    "R.TOTAL.T_VTYT": (IP, _bump("XML1", "T_VTYT"), ("XML1", "T_VTYT", 1)),
    "R.TOTAL.T_BHTT": (OP, _bump("XML1", "T_BHTT"), ("XML1", "T_BHTT", 1)),
    "R.TOTAL.T_BNCCT": (OP, _bump("XML1", "T_BNCCT"), ("XML1", "T_BNCCT", 1)),
    "R.TOTAL.T_BNTT": (OP, _bump("XML1", "T_BNTT"), ("XML1", "T_BNTT", 1)),
    "R.TOTAL.T_NGUONKHAC": (OP, _bump("XML1", "T_NGUONKHAC"), ("XML1", "T_NGUONKHAC", 1)),
    "R.SHARES.XML1": (OP, _bump("XML1", "T_BHTT"), ("XML1", "T_TONGCHI_BV", 1)),
    "R.AMOUNT.XML2": (OP, _bump("XML2", "THANH_TIEN_BV", "5.00"), ("XML2", "THANH_TIEN_BV", 1)),
    "R.AMOUNT.XML3": (OP, _bump("XML3", "THANH_TIEN_BV", "5.00"), ("XML3", "THANH_TIEN_BV", 1)),
    "R.SHARES.XML2": (OP, _bump("XML2", "T_BHTT"), ("XML2", "T_BHTT", 1)),
    "R.SHARES.XML3": (OP, _bump("XML3", "T_BHTT"), ("XML3", "T_BHTT", 1)),
    "R.NGUONKHAC.XML2": (OP, _set("XML2", "T_NGUONKHAC_NSNN", Decimal("5.00")), ("XML2", "T_NGUONKHAC", 1)),
    "R.NGUONKHAC.XML3": (OP, _set("XML3", "T_NGUONKHAC_NSNN", Decimal("5.00")), ("XML3", "T_NGUONKHAC", 1)),
    "R.BH_LE_BV.XML2": (OP, _set("XML2", "THANH_TIEN_BH", lambda r: r["THANH_TIEN_BV"] + 10), ("XML2", "THANH_TIEN_BH", 1)),
    "R.BH_LE_BV.XML3": (OP, _set("XML3", "THANH_TIEN_BH", lambda r: r["THANH_TIEN_BV"] + 10), ("XML3", "THANH_TIEN_BH", 1)),
    "R.TYLE.XML2": (OP, _set("XML2", "TYLE_TT_BH", 120), ("XML2", "TYLE_TT_BH", 1)),
    "R.TYLE.XML3": (OP, _set("XML3", "TYLE_TT_BH", 120), ("XML3", "TYLE_TT_BH", 1)),
    "R.MUC_HUONG.XML2": (OP, _set("XML2", "MUC_HUONG", 70), ("XML2", "MUC_HUONG", 1)),
    "R.MUC_HUONG.XML3": (OP, _set("XML3", "MUC_HUONG", 70), ("XML3", "MUC_HUONG", 1)),
    "R.YL_IN_STAY.XML2": (OP, _set("XML2", "NGAY_YL", lambda r: r["NGAY_YL"] - 5 * H), ("XML2", "NGAY_YL", 1)),
    "R.YL_IN_STAY.XML3": (OP, _set("XML3", "NGAY_YL", lambda r: r["NGAY_YL"] - 5 * H), ("XML3", "NGAY_YL", 1)),
    "R.TH_YL_AFTER_YL.XML2": (OP, _set("XML2", "NGAY_TH_YL", lambda r: r["NGAY_YL"] - H), ("XML2", "NGAY_TH_YL", 1)),
    "R.TH_YL_AFTER_YL.XML3": (OP, _set("XML3", "NGAY_TH_YL", lambda r: r["NGAY_YL"] - H), ("XML3", "NGAY_TH_YL", 1)),
    "R.DATES.VAO_RA": (OP, _set("XML1", "NGAY_RA", lambda r: r["NGAY_VAO"] - H), ("XML1", "NGAY_RA", 1)),
    "R.DATES.VAO_NOI_TRU": (IP, _set("XML1", "NGAY_VAO_NOI_TRU", lambda r: r["NGAY_VAO"] - H), ("XML1", "NGAY_VAO_NOI_TRU", 1)),
    "R.DATES.BORN_BEFORE_VAO": (OP, _set("XML1", "NGAY_SINH", dt.date(2027, 1, 1)), ("XML1", "NGAY_SINH", 1)),
    "R.DATES.TTOAN_AFTER_VAO": (OP, _set("XML1", "NGAY_TTOAN", lambda r: r["NGAY_VAO"] - 24 * H), ("XML1", "NGAY_TTOAN", 1)),
    "R.DATES.KQ_AFTER_YL.XML3": (OP, _set("XML3", "NGAY_KQ", lambda r: r["NGAY_YL"] - H), ("XML3", "NGAY_KQ", 1)),
    "R.DATES.KQ_AFTER_ORDER.XML4": (OP, _set("XML4", "NGAY_KQ", lambda r: r["NGAY_KQ"] - 10 * H), ("XML4", "NGAY_KQ", 1)),
    "R.DATES.DBLS_IN_STAY": (IP, _set("XML5", "THOI_DIEM_DBLS", lambda r: r["THOI_DIEM_DBLS"] - 24 * H), ("XML5", "THOI_DIEM_DBLS", 1)),
    "R.SO_NGAY_DTRI": (IP, _set("XML1", "SO_NGAY_DTRI", 12), ("XML1", "SO_NGAY_DTRI", 1)),
    "R.NAM_THANG_QT": (OP, _set("XML1", "THANG_QT", 13), ("XML1", "THANG_QT", 1)),
    "R.NAM_THANG_QT.BEFORE_RA": (OP, _set("XML1", "THANG_QT", 10), ("XML1", "THANG_QT", 1)),
    "R.CARD.VALID_ON_ADMISSION": (OP, _set("XML1", "GT_THE_DEN", [dt.date(2025, 12, 31)]), ("XML1", "GT_THE_DEN", 1)),
    "R.CARD.COVERS_COSTS": (OP, _set("XML1", "GT_THE_TU", [dt.date(2026, 11, 3)]), ("XML2", "THANH_TIEN_BH", 1)),
    "R.CARD.MISSING": (OP, _set("XML1", "MA_THE_BHYT", None), ("XML1", "MA_THE_BHYT", 1)),
    "R.UNINSURED.NO_CARD": (SP, _set("XML1", "MA_DKBD", ["79001"]), ("XML1", "MA_DKBD", 1)),
    "R.UNINSURED.NO_FUND": (SP, _set("XML3", "T_BHTT", Decimal("10.00"), row=1), ("XML3", "T_BHTT", 2)),
    "R.CARD.LISTS_MATCH": (TC, _set("XML1", "MA_DKBD", ["79001"]), ("XML1", "MA_THE_BHYT", 1)),
    "R.CARD.STRUCTURE": (OP, _set("XML1", "MA_THE_BHYT", ["ZZ4790000000001"]), ("XML1", "MA_THE_BHYT", 1)),
    "R.CARD.TEMPORARY": (NB, _set("XML1", "MA_DKBD", ["79001"]), ("XML1", "MA_DKBD", 1)),
    "R.NEWBORN.BIRTH_TIME": (NB, _set("XML1", "NGAY_SINH", dt.date(2026, 11, 1)), ("XML1", "NGAY_SINH", 1)),
    "R.CODE.MA_LOAI_KCB": (OP, _set("XML1", "MA_LOAI_KCB", "17"), ("XML1", "MA_LOAI_KCB", 1)),
    "R.CODE.MA_DOITUONG_KCB": (OP, _set("XML1", "MA_DOITUONG_KCB", "5.5"), ("XML1", "MA_DOITUONG_KCB", 1)),
    "R.CODE.GIOI_TINH": (OP, _set("XML1", "GIOI_TINH", 4), ("XML1", "GIOI_TINH", 1)),
    "R.CODE.KET_QUA_DTRI": (OP, _set("XML1", "KET_QUA_DTRI", 9), ("XML1", "KET_QUA_DTRI", 1)),
    "R.CODE.MA_LOAI_RV": (OP, _set("XML1", "MA_LOAI_RV", 7), ("XML1", "MA_LOAI_RV", 1)),
    "R.CODE.MA_KHOA": (OP, _set("XML1", "MA_KHOA", "KHOA1"), ("XML1", "MA_KHOA", 1)),
    "R.LOAI_KCB.SHORT_STAY": (OP, _set("XML1", "MA_LOAI_KCB", "03"), ("XML1", "MA_LOAI_KCB", 1)),
    "R.LOAI_KCB.09_LONG": (IP, _set("XML1", "MA_LOAI_KCB", "09"), ("XML1", "MA_LOAI_KCB", 1)),
    "R.LOAI_KCB.NOI_TRU_DATE": (IP, _set("XML1", "NGAY_VAO_NOI_TRU", None), ("XML1", "NGAY_VAO_NOI_TRU", 1)),
    "R.LOAI_KCB.COSTS": (OP, lambda raw: (raw.pop("XML2"), raw.pop("XML3"), raw.pop("XML4")), ("XML1", "T_TONGCHI_BV", 1)),
    "R.BED.OUTPATIENT": (IP, _set("XML1", "MA_LOAI_KCB", "01"), ("XML3", "MA_NHOM", 6)),
    "R.BED.CODE": (IP, _row_where("XML3", lambda r: r.get("MA_GIUONG"), "MA_GIUONG", "X12"), ("XML3", "MA_GIUONG", 6)),
    "R.ICD.SEX": (OP, _set("XML1", "MA_BENH_KT", "O80"), ("XML1", "MA_BENH_KT", 1)),
    "R.ICD.KT_MAX": (OP, _set("XML1", "MA_BENH_KT", ";".join(f"A0{i % 10}.{i}" for i in range(13))), ("XML1", "MA_BENH_KT", 1)),
    "R.ICD.KT_NOT_CHINH": (OP, _set("XML1", "MA_BENH_KT", "J02.9;K21.9"), ("XML1", "MA_BENH_KT", 1)),
    "R.ICD.MARK": (OP, _set("XML3", "MA_BENH", "J30.3;G55.1*"), ("XML3", "MA_BENH", 1)),
    "R.ICD.ASTERISK_MAIN": (sc.outpatient_2024, _set("XML1", "MA_BENH_CHINH", "G55.2*"), ("XML1", "MA_BENH_CHINH", 1)),
    "R.ICD.ASTERISK_MAIN_TT06": (OP, _set("XML1", "MA_BENH_CHINH", "G55.2*"), ("XML1", "MA_BENH_CHINH", 1)),
    "R.ICD.REPLACED_TT06": (OP, _set("XML1", "MA_BENH_KT", "K21.9;Q87.11"), ("XML1", "MA_BENH_KT", 1)),
    "R.BID.SYNTAX": (OP, _set("XML2", "TT_THAU", "G1-N1-2025"), ("XML2", "TT_THAU", 1)),
    "R.BID.REQUIRED.XML2": (OP, _set("XML2", "TT_THAU", None), ("XML2", "TT_THAU", 1)),
    "R.BID.REQUIRED.XML3": (IP, _row_where("XML3", lambda r: r["MA_NHOM"] == 10, "TT_THAU", None), ("XML3", "TT_THAU", 5)),
    "R.PERFORMER.XML3": (IP, _row_where("XML3", lambda r: r["MA_NHOM"] == 8, "NGUOI_THUC_HIEN", None), ("XML3", "NGUOI_THUC_HIEN", 4)),
    "R.TH_YL_REQUIRED.XML3": (IP, _row_where("XML3", lambda r: r["MA_NHOM"] == 8, "NGAY_TH_YL", None), ("XML3", "NGAY_TH_YL", 4)),
    "R.REQUIRED.XML3": (OP, _set("XML3", "MA_BAC_SI", None), ("XML3", "MA_BAC_SI", 1)),
    "R.REQUIRED_WHEN.XML3.MA_NHOM": (OP, _set("XML3", "MA_NHOM", 12), ("XML3", "MA_XANG_DAU", 1)),
    "R.REQUIRED_WHEN.XML4.GIA_TRI": (OP, _set("XML4", "NGAY_KQ", None), ("XML4", "NGAY_KQ", 1)),
    "R.REQUIRED_WHEN.XML6.LOAI_DTRI_LAO": (HIV, _set("XML6", "LOAI_DTRI_LAO", 1), ("XML6", "PHACDO_DTRI_LAO", 1)),
    "R.REQUIRED_WHEN.XML6.MA_TINH_TRANG_DK": (HIV, _set("XML6", "MA_TINH_TRANG_DK", "4;1"), ("XML6", "LAN_XN_PCR", 1)),
    "R.REQUIRED_WHEN.XML6.MA_XU_TRI": (HIV, _set("XML6", "NGAY_BAT_DAU_XU_TRI", None), ("XML6", "NGAY_BAT_DAU_XU_TRI", 1)),
    "R.REQUIRED_WHEN.XML6.MA_PHAC_DO_DIEU_TRI": (HIV, _set("XML6", "MA_PHAC_DO_DIEU_TRI", "KHAC"), ("XML6", "MA_BAC_PHAC_DO", 1)),
    "R.REQUIRED_WHEN.XML7.MA_DINH_CHI_THAI": (IP, _set("XML7", "MA_DINH_CHI_THAI", 1), ("XML7", "NGUYENNHAN_DINHCHI", 1)),
    "R.REQUIRED_WHEN.XML11.MA_DINH_CHI_THAI": (SL, _set("XML11", "MA_DINH_CHI_THAI", 1), ("XML11", "NGUYENNHAN_DINHCHI", 1)),
    "R.WEIGHT.BOUNDS": (OP, _set("XML1", "CAN_NANG", Decimal("500")), ("XML1", "CAN_NANG", 1)),
    "R.WEIGHT.BABY": (BT, _set("XML9", "CAN_NANG_CON", Decimal("9000")), ("XML9", "CAN_NANG_CON", 1)),
    "R.ARV_DAYS": (HIV, _set("XML6", "SO_NGAY_CAP_THUOC_ARV", 120), ("XML6", "SO_NGAY_CAP_THUOC_ARV", 1)),
    "R.LEAVE_DAYS": (SL, _set("XML11", "SO_NGAY_NGHI", 10), ("XML11", "SO_NGAY_NGHI", 1)),
    "R.PAPER.DISCHARGE": (IP, _drop("XML7"), ("XML7", None, None)),
    "R.PAPER.SUMMARY": (IP, _drop("XML8"), ("XML8", None, None)),
    "R.PAPER.REFERRAL": (RF, _drop("XML13"), ("XML13", None, None)),
    "R.PAPER.APPOINTMENT": (RE, _drop("XML14"), ("XML14", None, None)),
    "R.PAPER.SAME_AS_XML1.XML13": (RF, _set("XML13", "MA_THE_BHYT", None), ("XML13", "MA_THE_BHYT", 1)),
    "R.PAPER.SAME_AS_XML1.XML14": (RE, _set("XML14", "MA_BENH_CHINH", "J00"), ("XML14", "MA_BENH_CHINH", 1)),
    "R.PAPER.BIRTH": (BT, lambda raw: raw["XML9"].pop(), ("XML9", None, None)),
    "R.CCCD.ZERO.XML1": (OP, _set("XML1", "SO_CCCD", lambda r: r["SO_CCCD"][1:]), ("XML1", "SO_CCCD", 1)),
    "R.CCCD.ZERO.XML6": (HIV, _set("XML6", "SO_CCCD", lambda r: r["SO_CCCD"][1:]), ("XML6", "SO_CCCD", 1)),
    "R.CCCD.ZERO.XML9": (BT, _set("XML9", "SO_CCCD_NND", lambda r: r["SO_CCCD_NND"][1:], row=1),
                         ("XML9", "SO_CCCD_NND", 2)),
    "R.CCCD.ZERO.XML15": (TB, _set("XML15", "SO_CCCD", lambda r: r["SO_CCCD"][1:]), ("XML15", "SO_CCCD", 1)),
    "R.TEXT.CDATA": (IP, _set("XML3", "TEN_DICH_VU", lambda r: "<![CDATA[" + r["TEN_DICH_VU"] + "]]>", row=1),
                     ("XML3", "TEN_DICH_VU", 2)),
}


def test_every_rule_has_a_case_and_the_catalogue_is_large_enough():
    codes = {r.code for r in all_rules() if not r.code.startswith("R.CAT.")}  # R.CAT.*: tests/test_catalog_rules.py
    assert len(codes) >= 60
    # check-ins: below, and R.CCCD.ZERO.XML0 in tests/test_other_software.py
    assert codes - {"R.CHECKIN.EMERGENCY", "R.CHECKIN.FIRST_COST", "R.CCCD.ZERO.XML0"} == set(CASES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_flags_the_broken_hoso_and_passes_the_sound_one(code):
    make, edit, (table, field, row) = CASES[code]
    sound = build_hoso(make())
    assert [f for f in run_rules(sound) if f.code == code] == []
    raw = make()
    edit(raw)
    hits = [f for f in run_rules(build_hoso(raw)) if f.code == code]
    assert hits, f"{code} did not fire"
    assert (hits[0].table, hits[0].field, hits[0].row) == (table, field, row)
    assert hits[0].severity == RULES[code].severity and hits[0].message and hits[0].ma_lk == sound.ma_lk


@pytest.mark.parametrize("name", sorted(sc.VALID))
def test_valid_scenarios_break_no_rule(name):
    assert run_rules(build_hoso(sc.VALID[name]())) == []


def test_checkin_rule_on_emergencies():
    version = load_spec().latest
    rows = sc.checkin_rows()
    from xml130.models import Hoso

    assert run_rules(Hoso(version, {"XML0": build_rows(version, "XML0", rows)})) == []
    rows[1]["MA_DOITUONG_KCB"] = "2"
    (f,) = run_rules(Hoso(version, {"XML0": build_rows(version, "XML0", rows)}))
    assert (f.code, f.severity, f.table, f.row, f.ma_lk) == ("R.CHECKIN.EMERGENCY", "warning", "XML0", 2, "79999CI0002")


def test_insured_rules_skip_a_visit_without_bhyt_and_uninsured_rules_skip_the_others():
    """A visit of MA_DOITUONG_KCB 9 is checked by the rules for every visit and its own; the rules that only make
    sense with a card (benefit levels, card periods, catalogue prices) do not look at it."""
    raw = SP()
    for r in raw["XML2"] + raw["XML3"]:
        r["MUC_HUONG"] = 70  # would be R.MUC_HUONG.* for an insured visit
    raw["XML1"]["GT_THE_DEN"] = [dt.date(2025, 12, 31)]  # and R.CARD.VALID_ON_ADMISSION…
    findings = run_rules(build_hoso(raw))
    assert [(f.code, f.field) for f in findings] == [("R.UNINSURED.NO_CARD", "GT_THE_DEN")]
    insured = [r.code for r in all_rules() if r.applies_to == "insured"]
    assert sorted(insured) == ["R.CARD.COVERS_COSTS", "R.CARD.LISTS_MATCH", "R.CARD.MISSING", "R.CARD.STRUCTURE",
                               "R.CARD.TEMPORARY", "R.CARD.VALID_ON_ADMISSION", "R.CAT.DRUG.PRICE",
                               "R.CAT.SERVICE.PRICE", "R.CAT.SUPPLY.PRICE", "R.CAT.SUPPLY.RATE", "R.MUC_HUONG.XML2",
                               "R.MUC_HUONG.XML3"]
    sound = build_hoso(OP())  # an insured visit: the uninsured rules do not look at it
    assert run_rules(sound, codes=["R.UNINSURED.NO_FUND", "R.UNINSURED.NO_CARD"]) == []


def test_a_card_that_turns_up_during_the_stay_pays_from_its_first_day():
    """Rows ordered before the card's GT_THE_TU are the patient's (THANH_TIEN_BH 0); the card is checked on the
    first day the fund pays for, and a fund row before the card is R.CARD.COVERS_COSTS."""
    raw = OP()
    first = raw["XML3"][0]["NGAY_YL"]
    raw["XML1"]["GT_THE_TU"] = [first.date() + dt.timedelta(days=1)]
    for r in raw["XML2"] + raw["XML3"]:
        r["NGAY_YL"] = r["NGAY_TH_YL"] = first + dt.timedelta(days=1)
    raw["XML1"]["NGAY_RA"] = first + dt.timedelta(days=1, hours=2)
    raw["XML1"]["NGAY_TTOAN"] = raw["XML1"]["NGAY_RA"]
    for r in raw.get("XML4", []):
        r["NGAY_KQ"] = first + dt.timedelta(days=1, hours=1)
    for r in raw["XML3"]:
        r["NGAY_KQ"] = first + dt.timedelta(days=1, hours=1)
    codes = {f.code for f in run_rules(build_hoso(raw))} & {"R.CARD.VALID_ON_ADMISSION", "R.CARD.COVERS_COSTS"}
    assert codes == set()
    raw["XML2"][0]["NGAY_YL"] = raw["XML2"][0]["NGAY_TH_YL"] = first  # a fund row the day before the card
    hits = [(f.code, f.table, f.row) for f in run_rules(build_hoso(raw)) if f.code.startswith("R.CARD.")]
    assert hits == [("R.CARD.VALID_ON_ADMISSION", "XML1", 1), ("R.CARD.COVERS_COSTS", "XML2", 1)]


def test_code_lists_follow_the_episode_date():
    assert "16" in codes_on("MA_LOAI_KCB", dt.date(2026, 8, 1))
    assert "16" not in codes_on("MA_LOAI_KCB", dt.date(2026, 7, 31))
    old = sc.outpatient_2024()
    old["XML1"]["MA_LOAI_KCB"] = "13"  # y học gia đình: only from 01/08/2026
    assert [f.code for f in run_rules(build_hoso(old))] == ["R.CODE.MA_LOAI_KCB"]
    new = sc.outpatient_drugs_labs()
    new["XML1"]["MA_LOAI_KCB"] = "13"
    assert "R.CODE.MA_LOAI_KCB" not in [f.code for f in run_rules(build_hoso(new))]


def test_message_names_the_values():
    raw = sc.outpatient_drugs_labs()
    raw["XML1"]["T_THUOC"] += Decimal("1.00")
    (f,) = [f for f in run_rules(build_hoso(raw)) if f.code == "R.TOTAL.T_THUOC"]
    assert f.message.startswith(f"T_THUOC = {raw['XML1']['T_THUOC']} nhưng tổng từ các dòng chi phí là ")
    assert "(chênh 1.00)" in f.message
