"""Models built from the spec: sizes after NFC, leading zeros, exact decimals, formats."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

import pytest
from pydantic import ValidationError

from xml130.demo.scenarios import outpatient_2024, outpatient_drugs_labs
from xml130.models import HosoError, build_hoso, model_for
from xml130.spec import load_spec


def codes(exc: ValidationError) -> list[tuple[str, str]]:
    return [(e["loc"][0], e["type"]) for e in exc.errors()]


@pytest.fixture(scope="module")
def xml2_row():
    return outpatient_drugs_labs()["XML2"][0]


def test_model_per_version_and_table(spec):
    assert set(model_for("1931", "XML1").model_fields) == set(spec.latest["XML1"].names)
    assert "NHOM_MAU" not in model_for("4750", "XML1").model_fields
    assert model_for("1931", "XML1") is model_for("1931", "XML1")  # built once


def test_size_counts_characters_after_nfc():
    m = model_for("1931", "XML1")
    raw = outpatient_drugs_labs()["XML1"]
    decomposed = unicodedata.normalize("NFD", "Ễ" * 255)
    assert len(decomposed) > 255
    row = m.model_validate({**raw, "HO_TEN": decomposed})
    assert row.HO_TEN == "Ễ" * 255 and unicodedata.is_normalized("NFC", row.HO_TEN)
    with pytest.raises(ValidationError) as info:
        m.model_validate({**raw, "HO_TEN": "Ễ" * 256})
    assert codes(info.value) == [("HO_TEN", "FIELD.TOO_LONG")]
    assert "256 ký tự" in info.value.errors()[0]["msg"]


def test_leading_zeros_are_kept_and_lost_ones_refused():
    m = model_for("1931", "XML1")
    raw = outpatient_drugs_labs()["XML1"]
    assert m.model_validate(raw).MA_DANTOC == "01"
    with pytest.raises(ValidationError) as info:
        m.model_validate({**raw, "MA_DANTOC": 1, "MA_LOAI_KCB": "3"})
    assert codes(info.value) == [("MA_DANTOC", "FIELD.FORMAT"), ("MA_LOAI_KCB", "FIELD.FORMAT")]
    assert m.model_validate({**raw, "MA_DOITUONG_KCB": "1.11"}).MA_DOITUONG_KCB == "1.11"


def test_exact_decimals(xml2_row):
    m = model_for("1931", "XML2")
    row = m.model_validate({**xml2_row, "DON_GIA": "1234.567", "SO_LUONG": Decimal("0.500")})
    assert row.DON_GIA == Decimal("1234.567") and str(row.SO_LUONG) == "0.500"
    trailing = m.model_validate({**xml2_row, "THANH_TIEN_BV": Decimal("100.5000")})
    assert str(trailing.THANH_TIEN_BV) == "100.50"  # trailing zeros only: the amount is unchanged
    with pytest.raises(ValidationError) as info:
        m.model_validate({**xml2_row, "THANH_TIEN_BV": Decimal("100.505"), "DON_GIA": 1.5, "T_BHTT": "12a"})
    assert codes(info.value) == [("DON_GIA", "FIELD.FLOAT"), ("THANH_TIEN_BV", "FIELD.SCALE"), ("T_BHTT", "FIELD.FORMAT")]


def test_dates_and_times(xml2_row):
    m = model_for("1931", "XML2")
    row = m.model_validate({**xml2_row, "NGAY_YL": dt.datetime(2026, 2, 28, 23, 59, 41)})
    assert row.NGAY_YL == "202602282359"
    for bad, code in (("202602290800", "FIELD.DATE"), ("202613010800", "FIELD.FORMAT"), ("20260228", "FIELD.FORMAT"),
                      ("202602282460", "FIELD.FORMAT"), (dt.date(2026, 2, 28), "FIELD.TYPE")):
        with pytest.raises(ValidationError) as info:
            m.model_validate({**xml2_row, "NGAY_YL": bad})
        assert codes(info.value) == [("NGAY_YL", code)], bad


def test_birth_date_may_be_partial_and_takes_a_date():
    m = model_for("1931", "XML1")
    raw = outpatient_drugs_labs()["XML1"]
    assert m.model_validate({**raw, "NGAY_SINH": "195000000000"}).NGAY_SINH == "195000000000"
    assert m.model_validate({**raw, "NGAY_SINH": dt.date(1990, 5, 1)}).NGAY_SINH == "199005010000"
    assert m.model_validate({**raw, "NGAY_SINH": dt.datetime(2026, 11, 1, 23, 5)}).NGAY_SINH == "202611012305"
    with pytest.raises(ValidationError):
        m.model_validate({**raw, "NGAY_SINH": "199002300000"})


def test_several_values_joined_and_checked_item_by_item():
    m = model_for("1931", "XML1")
    raw = outpatient_drugs_labs()["XML1"]
    row = m.model_validate({**raw, "MA_THE_BHYT": ["DN4790000000001", "HT3790000000002"],
                            "GT_THE_TU": [dt.date(2026, 1, 1), "20260601"]})
    assert row.MA_THE_BHYT == "DN4790000000001;HT3790000000002" and row.GT_THE_TU == "20260101;20260601"
    with pytest.raises(ValidationError) as info:
        m.model_validate({**raw, "GT_THE_TU": "20260101;2026061"})
    assert codes(info.value) == [("GT_THE_TU", "FIELD.FORMAT")]


def test_required_unknown_and_control_characters():
    m = model_for("1931", "XML1")
    raw = outpatient_drugs_labs()["XML1"]
    with pytest.raises(ValidationError) as info:
        m.model_validate({**raw, "HO_TEN": "", "MA_BN": None, "BOGUS": "1", "DIA_CHI": "a\x00b"})
    assert sorted(codes(info.value)) == [("BOGUS", "FIELD.UNKNOWN"), ("DIA_CHI", "FIELD.CHARS"),
                                         ("HO_TEN", "FIELD.REQUIRED"), ("MA_BN", "FIELD.REQUIRED")]


def test_hoso_collects_every_reason_across_tables():
    raw = outpatient_drugs_labs()
    raw["XML1"]["HO_TEN"] = "x" * 300
    raw["XML2"][1]["DON_GIA"] = 12.5
    raw["XML3"][2]["NGAY_YL"] = "2026"
    with pytest.raises(HosoError) as info:
        build_hoso(raw)
    got = [(f.code, f.table, f.field, f.row, f.ma_lk) for f in info.value.findings]
    assert got == [("FIELD.TOO_LONG", "XML1", "HO_TEN", 1, "79999OP0001"),
                   ("FIELD.FLOAT", "XML2", "DON_GIA", 2, "79999OP0001"),
                   ("FIELD.FORMAT", "XML3", "NGAY_YL", 3, "79999OP0001")]


def test_hoso_version_follows_episode_date():
    assert build_hoso(outpatient_2024()).version.id == "4750"
    assert build_hoso(outpatient_drugs_labs()).version.id == "1931"
    with pytest.raises(HosoError) as info:
        build_hoso({"XML2": []})
    assert [f.code for f in info.value.findings] == ["ENVELOPE.NO_XML1"]


def test_identity_numbers_never_appear_whole_in_messages():
    raw = outpatient_drugs_labs()
    raw["XML1"]["SO_CCCD"] = "0791 2345 6789"  # spaces: not a code
    raw["XML1"]["MA_THE_BHYT"] = ["ZZ4791234567890"]  # wrong prefix: a business rule
    with pytest.raises(HosoError) as info:
        build_hoso(raw)
    (f,) = info.value.findings
    assert f.code == "FIELD.FORMAT" and "…6789" in f.message and "0791 2345" not in f.message
    raw["XML1"]["SO_CCCD"] = "079123456789"
    from xml130.rules import run_rules

    hits = [x for x in run_rules(build_hoso(raw)) if x.code == "R.CARD.STRUCTURE"]
    assert hits and "…7890" in hits[0].message and "ZZ4791234567890" not in hits[0].message


def test_json_schema_carries_the_standard_of_each_field():
    xml1 = model_for("1931", "XML1").model_json_schema()
    assert xml1["title"] == "XML1_v1931" and xml1["description"] == load_spec().latest["XML1"].title
    assert xml1["properties"]["MA_LK"] == {
        "title": "MA_LK", "type": "string", "maxLength": 100, "pattern": r"^(?:[^\s;]+)$",
        "description": "Mã liên kết: mã duy nhất của đợt khám, chữa bệnh, nối XML1 với các bảng khác"}
    card = xml1["properties"]["MA_THE_BHYT"]  # no size of its own: one or more cards joined by ";"
    assert "maxLength" not in card and card["pattern"] == r"^(?:([A-Z]{2}\d{13})(;([A-Z]{2}\d{13}))*)$"
    assert card["description"] == "Mã thẻ BHYT (nhiều thẻ trong một đợt: cách nhau bởi ';')"
    assert "MA_LK" in xml1["required"] and "MA_THE_BHYT" not in xml1["required"]
    xml2 = model_for("1931", "XML2").model_json_schema()
    tt_thau = xml2["properties"]["TT_THAU"]  # "cond": optional in the schema, left to the rules
    assert (tt_thau["maxLength"], "pattern" in tt_thau, "TT_THAU" in xml2["required"]) == (50, False, False)
    assert tt_thau["description"] == "Thông tin thầu: số quyết định; gói thầu; nhóm thầu; năm"
    assert xml2["properties"]["DON_GIA"]["pattern"] == r"^(?:-?\d+(\.\d{1,3}0*)?)$"  # 1500.0000: SQL money
    assert xml2["properties"]["MUC_HUONG"]["pattern"] == r"^(?:\d{1,3}(\.\d)?)$"  # QĐ 1931's code
    assert model_for("4750", "XML2").model_json_schema()["properties"]["MUC_HUONG"]["pattern"] == r"^(?:\d+)$"


def test_json_schema_of_every_model_matches_the_spec():
    for version in load_spec().versions:
        for table in version:
            schema = model_for(version.id, table.id).model_json_schema()
            assert list(schema["properties"]) == list(table.names)
            assert schema.get("required", []) == [f.name for f in table.fields if f.is_required]
            for f in table.fields:
                prop = schema["properties"][f.name]
                assert prop["description"] == f.description and prop["description"], (table.id, f.name)
                assert prop.get("maxLength") == f.size, (table.id, f.name)
                assert prop.get("pattern") == (f"^(?:{f.regex})$" if f.regex else None), (table.id, f.name)


def test_from_row_gives_what_model_validate_gives():
    model = model_for("1931", "XML2")
    raw = dict(build_hoso(outpatient_drugs_labs()).tables["XML2"][0].model_dump(exclude_none=True))
    raw["DON_GIA"] = Decimal("980.0000")  # trailing zeros beyond the scale: dropped by the row check
    fast, slow = model.from_row(raw), model.model_validate(raw)
    assert fast == slow and fast.model_fields_set == slow.model_fields_set == set(raw)
    assert list(fast.__dict__) == list(model.model_fields) and str(fast.DON_GIA) == "980.000"
    with pytest.raises(ValidationError, match="frozen"):
        fast.DON_GIA = Decimal(1)  # frozen, like every model
    broken = {**raw, "SO_LUONG": "x", "NO_SUCH": "1"}
    with pytest.raises(ValidationError) as fast_err:
        model.from_row(broken)
    with pytest.raises(ValidationError) as slow_err:
        model.model_validate(broken)
    assert fast_err.value.errors() == slow_err.value.errors()
    assert [e["type"] for e in fast_err.value.errors()] == ["FIELD.UNKNOWN", "FIELD.FORMAT"]


@pytest.mark.parametrize("amount", ["NaN", "-Infinity", "sNaN"])
def test_a_decimal_that_is_not_a_number_from_a_database_is_a_format_finding(amount):
    """The row checker's fast path for a database's Decimal took NaN (and rendered 'NaN')."""
    raw = outpatient_drugs_labs()
    raw["XML2"][0]["DON_GIA"] = Decimal(amount)
    with pytest.raises(HosoError) as exc:
        build_hoso(raw)
    assert [(f.code, f.table, f.field, f.row) for f in exc.value.findings] == [("FIELD.FORMAT", "XML2", "DON_GIA", 1)]
