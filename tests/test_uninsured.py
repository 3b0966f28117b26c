"""Every patient: the mapping's derivations for a visit without a card, a temporary card and TYLE_TT_DV, and what
the export does with a HIS that codes such visits in each possible way (docs/conformance.md, "A visit without a
card"; docs/mapping.md, "Cards, and visits without one")."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from xml130.demo import demo_mapping, mapping_path
from xml130.demo.his import START, create_demo
from xml130.jobs.export import run_export
from xml130.mapping import parse_mapping
from xml130.mapping.derive import Card, Coverage, RuleContext, cards, costs
from xml130.mapping.extract import Selection
from xml130.parse import load_envelope

ARRIVED, LEFT = dt.datetime(2026, 11, 2, 8, 0), dt.datetime(2026, 11, 5, 10, 0)


def ctx(collections=None, coverage=None) -> RuleContext:
    c = RuleContext("79999X", "79999", "Bệnh viện", lambda name: {}, collections or {}, table="XML1")
    c.coverage = coverage
    return c


def visit(**extra):
    return {"arrived_at": ARRIVED, "left_at": LEFT, "born_at": dt.datetime(1980, 1, 1), **extra}


def test_no_card_writes_no_card_fields_and_object_code_9():
    c = ctx({"cards": []})
    assert cards(visit(), c) == {"MA_DOITUONG_KCB": "9", "MA_THE_BHYT": None, "MA_DKBD": None, "GT_THE_TU": None,
                                 "GT_THE_DEN": None, "NAM_NAM_LIEN_TUC": None}
    assert c.findings == []


def test_object_code_9_drops_a_card_the_patient_does_not_use():
    card = {"card_no": "DN4790123456789", "registered_at": "79001", "valid_from": dt.date(2026, 1, 1),
            "valid_to": dt.date(2026, 12, 31)}
    out = cards(visit(object_code="9"), ctx({"cards": [card]}))
    assert (out["MA_DOITUONG_KCB"], out["MA_THE_BHYT"], out["MA_DKBD"]) == ("9", None, None)


def test_an_insured_code_without_a_card_is_kept_for_rule_r_card_missing():
    out = cards(visit(object_code="1.1"), ctx({"cards": []}))
    assert (out["MA_DOITUONG_KCB"], out["MA_THE_BHYT"]) == ("1.1", None)


def test_a_temporary_card_needs_only_its_number():
    """QĐ 130 (4750), XML1: MA_DKBD province + 000, GT_THE_TU the admission, GT_THE_DEN the discharge — from the
    visit, without a CASE in the mapping; a TE1 number of a newborn is temporary even without the flag."""
    baby = visit(born_at=ARRIVED - dt.timedelta(days=2))
    for card in ({"card_no": "TE1010123456789", "temporary": True},
                 {"card_no": "TE1010123456789", "registered_at": "99999", "valid_from": dt.date(2020, 1, 1)}):
        c = ctx({"cards": [card]})
        out = cards(baby, c)
        assert (out["MA_THE_BHYT"], out["MA_DKBD"], out["GT_THE_TU"], out["GT_THE_DEN"]) == (
            ["TE1010123456789"], ["01000"], [ARRIVED.date()], [LEFT.date()]), card
        assert "MA_DOITUONG_KCB" not in out and c.findings == []  # no HIS code given: the mapped one stays


def test_an_ordinary_card_without_its_data_is_a_finding():
    c = ctx({"cards": [{"card_no": "DN4790123456789", "temporary": False}]})
    cards(visit(), c)
    assert [(f.code, f.field) for f in c.findings] == [("MAPPING.VALUE", "MA_DKBD"), ("MAPPING.VALUE", "GT_THE_TU")]


def test_a_checkin_announces_only_a_card_valid_at_its_moment():
    card = {"card_no": "DN4790123456789", "registered_at": "79001", "valid_from": dt.date(2026, 11, 3),
            "valid_to": None}
    first_day = cards(visit(object_code="1.1", event_at=ARRIVED), ctx({"cards": [card]}))
    next_day = cards(visit(object_code="1.1", event_at=ARRIVED + dt.timedelta(days=1)), ctx({"cards": [card]}))
    assert (first_day["MA_THE_BHYT"], next_day["MA_THE_BHYT"]) == (None, ["DN4790123456789"])


ROW = {"qty": Decimal("2"), "price": Decimal("27600.000"), "pay_rate": Decimal(50), "benefit_pct": Decimal(80)}


@pytest.mark.parametrize(("coverage", "expected"), [
    (None, ("55200.00", "27600.00", 50, 80, "22080.00", "5520.00", "27600.00")),  # the mapping reads no cards
    (Coverage(False), ("55200.00", "0.00", 0, 0, "0.00", "0.00", "55200.00")),  # no card: the patient pays all
])
def test_costs_of_a_row_with_and_without_the_fund(coverage, expected):
    out = costs(dict(ROW), ctx(coverage=coverage))
    assert (str(out["THANH_TIEN_BV"]), str(out["THANH_TIEN_BH"]), out["TYLE_TT_BH"], out["MUC_HUONG"],
            str(out["T_BHTT"]), str(out["T_BNCCT"]), str(out["T_BNTT"])) == expected
    assert out["TYLE_TT_DV"] == 100  # QĐ 4750 đính chính, XML3 TYLE_TT_DV: the ordinary service is paid whole


def test_costs_follow_the_card_day_by_day_and_a_share_of_the_service():
    mid = Coverage(True, (Card("DN4790123456789", "79001", dt.date(2026, 11, 3), None),), "1.1")
    before = costs({**ROW, "ngay_yl": ARRIVED}, ctx(coverage=mid))
    after = costs({**ROW, "ngay_yl": ARRIVED + dt.timedelta(days=1), "tyle_tt_dv": 30}, ctx(coverage=mid))
    assert (before["TYLE_TT_BH"], before["MUC_HUONG"], str(before["T_BNTT"])) == (0, 0, "55200.00")
    # a 2nd examination: TYLE_TT_DV 30 → THANH_TIEN_BV = 2 × 27600 × 30/100
    assert (after["TYLE_TT_DV"], str(after["THANH_TIEN_BV"]), str(after["THANH_TIEN_BH"]), str(after["T_BHTT"])) == (
        30, "16560.00", "8280.00", "6624.00")
    c = ctx(coverage=mid)
    assert costs({**ROW, "benefit_pct": None, "ngay_yl": LEFT}, c) == {}  # the fund pays: a level is needed
    assert [(f.code, f.field) for f in c.findings] == [("MAPPING.VALUE", "MUC_HUONG")]


@pytest.fixture(scope="module")
def recoded(tmp_path_factory):
    """The demo HIS of 60 episodes where the HIS took episode 1's card away (object code kept, 1.1) and episode 4's
    too, with no object code at all."""
    url = f"sqlite:///{tmp_path_factory.mktemp('his') / 'his.db'}"
    create_demo(url, 60)
    with create_engine(url).begin() as conn:
        ids = {m: conn.execute(text("SELECT id FROM encounter WHERE ma_lk = :m"), {"m": m}).scalar()
               for m in (f"79999{START:%y%m}{i:08d}" for i in (1, 4))}
        for eid in ids.values():
            conn.execute(text("DELETE FROM encounter_card WHERE encounter_id = :e"), {"e": eid})
        conn.execute(text("UPDATE encounter SET object_code = NULL WHERE id = :e"),
                     {"e": ids[f"79999{START:%y%m}{4:08d}"]})
    out = tmp_path_factory.mktemp("out")
    return out, run_export(url, demo_mapping(), out, Selection())


def test_the_export_holds_an_insured_code_without_a_card_and_codes_9_when_the_his_says_nothing(recoded):
    out, result = recoded
    one, four = (f"79999{START:%y%m}{i:08d}" for i in (1, 4))
    held = {q["ma_lk"]: [(r["code"], r["field"]) for r in q["reasons"] if r["severity"] == "error"]
            for q in result.quarantine}
    assert held[one] == [("R.CARD.MISSING", "MA_THE_BHYT")]
    assert four not in held
    (h,) = load_envelope((out / f"{four}.xml").read_bytes())
    x = h.summary
    assert (x.MA_DOITUONG_KCB, x.MA_THE_BHYT, x.T_TONGCHI_BH, x.T_BHTT, x.T_BNTT) == ("9", None, 0, 0, x.T_TONGCHI_BV)


def test_a_mapping_that_maps_ma_doituong_kcb_itself_still_writes_a_code_9_visit_without_its_card(tmp_path):
    """A mapping written before `object_code` existed (MA_DOITUONG_KCB = "doi_tuong") and a HIS that codes a
    visit 9 although the patient has a card: no card fields, nothing asked of the fund."""
    raw = mapping_path().read_text(encoding="utf-8")
    raw = raw.replace("e.kind, e.object_code,", "e.kind, e.object_code AS doi_tuong,", 1)
    raw = raw.replace('MA_NOI_DI = "referral_from"', 'MA_DOITUONG_KCB = "doi_tuong"\nMA_NOI_DI = "referral_from"', 1)
    mapping = parse_mapping(tomllib.loads(raw), source="old-style")
    url = f"sqlite:///{tmp_path / 'his.db'}"
    create_demo(url, 8)
    one = f"79999{START:%y%m}{1:08d}"
    with create_engine(url).begin() as conn:
        conn.execute(text("UPDATE encounter SET object_code = '9' WHERE ma_lk = :m"), {"m": one})
    result = run_export(url, mapping, tmp_path / "out", Selection(ma_lk=(one,)))
    assert result.quarantine == []
    (h,) = load_envelope((tmp_path / "out" / f"{one}.xml").read_bytes())
    x = h.summary
    assert (x.MA_DOITUONG_KCB, x.MA_THE_BHYT, x.GT_THE_TU, x.T_TONGCHI_BH, x.T_BNTT) == ("9", None, None, 0,
                                                                                       x.T_TONGCHI_BV)
