"""Every catalog rule (R.CAT.*): a hồ sơ and a catalogue consistent with it give no finding of the rule; one
deliberate mismatch gives exactly that finding (code, table, field, row). Catalogues are built from the hồ sơ by
:func:`xml130.demo.catalog_synthetic.catalog_for` and typed as an import types them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from xml130.demo import scenarios as sc
from xml130.demo.catalog_synthetic import catalog_for, to_catalog
from xml130.models import build_hoso
from xml130.render import render_hoso
from xml130.rules import all_rules, run_rules
from xml130.validate import validate_bytes

OP, IP = sc.outpatient_drugs_labs, sc.inpatient_surgery_beds


def _with_machine(raw):
    raw["XML3"][0]["MA_MAY"] = "XQ.1.79999.0001"


def _cat_row(kind, key, code, **changes):
    def edit(raw, cats):
        for row in cats[kind]:
            if row[key] == code:
                row.update(changes)
    return edit


def _hoso(table, row, **changes):
    def edit(raw, cats):
        raw[table][row].update(changes)
    return edit


def _drop(kind, key, code):
    def edit(raw, cats):
        cats[kind] = [r for r in cats[kind] if r[key] != code]
    return edit


# code → (scenario, preparation of the hồ sơ before its catalogue is derived, the mismatch, (table, field, row))
CASES = {
    "R.CAT.DRUG.UNKNOWN": (OP, None, _hoso("XML2", 2, MA_THUOC="40.999"), ("XML2", "MA_THUOC", 3)),
    "R.CAT.DRUG.STRENGTH": (OP, None, _hoso("XML2", 2, HAM_LUONG="1000mg"), ("XML2", "HAM_LUONG", 3)),
    "R.CAT.DRUG.REG_NO": (OP, None, _cat_row("drug", "MA_THUOC", "40.322", SO_DANG_KY="VD-99999-21"),
                          ("XML2", "SO_DANG_KY", 4)),
    "R.CAT.DRUG.BID": (OP, None, _cat_row("drug", "MA_THUOC", "40.677", TT_THAU="G2;N1;2025;01"),
                       ("XML2", "TT_THAU", 5)),
    "R.CAT.DRUG.PRICE": (OP, None, _cat_row("drug", "MA_THUOC", "40.555", DON_GIA_BH=Decimal("600")),
                         ("XML2", "DON_GIA", 3)),
    "R.CAT.SUPPLY.UNKNOWN": (IP, None, _hoso("XML3", 4, MA_VAT_TU="N03.01.999"), ("XML3", "MA_VAT_TU", 5)),
    "R.CAT.SUPPLY.BID": (IP, None, _cat_row("supply", "MA_VAT_TU", "N03.01.070", TT_THAU="G1;N2;2024;03"),
                         ("XML3", "TT_THAU", 5)),
    "R.CAT.SUPPLY.PRICE": (IP, None, _cat_row("supply", "MA_VAT_TU", "N03.01.070", DON_GIA_BH="30.000"),
                           ("XML3", "DON_GIA_BH", 5)),
    "R.CAT.SUPPLY.RATE": (IP, None, _cat_row("supply", "MA_VAT_TU", "N03.01.070", TYLE_TT_BH=50),
                          ("XML3", "TYLE_TT_BH", 5)),
    "R.CAT.SERVICE.UNKNOWN": (OP, None, _drop("service", "MA_TUONG_DUONG", "22.0120"), ("XML3", "MA_DICH_VU", 2)),
    "R.CAT.SERVICE.PRICE": (OP, None, _cat_row("service", "MA_TUONG_DUONG", "23.0020", DON_GIA="21.000"),
                            ("XML3", "DON_GIA_BH", 4)),
    "R.CAT.STAFF.UNKNOWN": (OP, None, _hoso("XML4", 1, MA_BS_DOC_KQ="0100000077"), ("XML4", "MA_BS_DOC_KQ", 2)),
    "R.CAT.STAFF.NOT_VALID": (OP, None, _cat_row("staff", "MACCHN", "0100000009", DEN_NGAY="31/10/2026"),
                              ("XML1", "MA_TTDV", 1)),
    "R.CAT.STAFF.SCOPE": (OP, None, _cat_row("staff", "MACCHN", "0100000002", PHAMVI_CM="18", DVKT_KHAC="23.0020"),
                          ("XML3", "NGUOI_THUC_HIEN", 2)),
    "R.CAT.DEPT.UNKNOWN": (IP, None, _drop("department", "MA_KHOA", "K01"), ("XML1", "MA_KHOA", 1)),
    "R.CAT.MACHINE.UNKNOWN": (OP, _with_machine, _hoso("XML3", 0, MA_MAY="XQ.1.79999.0002"), ("XML3", "MA_MAY", 1)),
    "R.CAT.MACHINE.NOT_VALID": (OP, _with_machine, _cat_row("equipment", "MA_MAY", "XQ.1.79999.0001",
                                                           DEN_NGAY=45960), ("XML3", "MA_MAY", 1)),
}


def _run(make, prep, edit=None):
    raw = make()
    if prep:
        prep(raw)
    cats = catalog_for([build_hoso(raw)])
    if edit:
        edit(raw, cats)
    return run_rules(build_hoso(raw), catalog=to_catalog(cats))


def test_every_catalogue_rule_has_a_case_and_a_source():
    rules = [r for r in all_rules() if r.code.startswith("R.CAT.")]
    assert {r.code for r in rules} == set(CASES)
    assert all(r.source for r in rules)


@pytest.mark.parametrize("code", sorted(CASES))
def test_catalogue_rule_flags_the_mismatch_and_passes_the_consistent_catalogue(code):
    make, prep, edit, (table, field, row) = CASES[code]
    assert [f for f in _run(make, prep) if f.code.startswith("R.CAT.")] == []
    hits = [f for f in _run(make, prep, edit) if f.code.startswith("R.CAT.")]
    assert [(f.code, f.table, f.field, f.row) for f in hits] == [(code, table, field, row)]
    assert hits[0].ma_lk == make()["XML1"]["MA_LK"]


def test_drug_names_the_first_difference_only():
    """A row differing in strength, registration number and bid is reported once, for the strength."""
    edit = _hoso("XML2", 3, HAM_LUONG="2g", SO_DANG_KY="VN-1-22", TT_THAU="G9;N9;2020;01")
    (f,) = [f for f in _run(OP, None, edit) if f.code.startswith("R.CAT.")]
    assert (f.code, f.row) == ("R.CAT.DRUG.STRENGTH", 4)
    assert f.message == "Thuốc 40.322: hàm lượng '2g' khác danh mục được duyệt ('1g')."


def test_price_in_force_on_the_order_day_is_used():
    """A service repriced (21 500 → 20 000): the order of 02/11/2026 is checked against the price in force that day."""
    def repriced(from_day):
        def edit(raw, cats):
            old = next(r for r in cats["service"] if r["MA_TUONG_DUONG"] == "23.0020")
            cats["service"].append({**old, "DON_GIA": Decimal("20000"), "TUNGAY": from_day})
            old["DENNGAY"] = (dt.datetime.strptime(from_day, "%Y%m%d") - dt.timedelta(days=1)).strftime("%d/%m/%Y")
        return edit

    assert [f.code for f in _run(OP, None, repriced("20261103")) if f.code.startswith("R.CAT.")] == []
    hits = [f for f in _run(OP, None, repriced("20261102")) if f.code.startswith("R.CAT.")]
    assert [(f.code, f.row) for f in hits] == [("R.CAT.SERVICE.PRICE", 4)]
    assert "giá được duyệt 20000 có hiệu lực ngày 02/11/2026" in hits[0].message


def test_silent_without_catalogue_and_for_kinds_not_imported():
    raw = OP()
    raw["XML2"][0]["MA_THUOC"] = "40.999"
    hoso = build_hoso(raw)
    assert [f for f in run_rules(hoso) if f.code.startswith("R.CAT.")] == []
    only_staff = to_catalog({"staff": catalog_for([build_hoso(OP())])["staff"]})
    assert [f for f in run_rules(hoso, catalog=only_staff) if f.code.startswith("R.CAT.")] == []
    whole = to_catalog(catalog_for([build_hoso(OP())]))
    assert [f.code for f in run_rules(hoso, catalog=whole) if f.code.startswith("R.CAT.")] == ["R.CAT.DRUG.UNKNOWN"]
    envelope = render_hoso(hoso)  # the validation path gives the catalogue to the rules the same way
    assert [f.code for f in validate_bytes(envelope, catalog=whole) if f.code.startswith("R.CAT.")] == [
        "R.CAT.DRUG.UNKNOWN"]
    assert [f for f in validate_bytes(envelope) if f.code.startswith("R.CAT.")] == []
