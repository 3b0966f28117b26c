"""Shapes other software writes (issue 24: "the world outside is the oracle"): public generators and vendors' notes
were read for how they write the standard's files; each shape is reproduced in a synthetic fixture
(fixtures/quirks, exact findings in tests/test_text_decisions.py) and listed in docs/conformance.md. These tests pin
the classes that changed: a UTF-8 document declared UTF-16, amounts with zeros past their scale, an identity
number that lost its leading zero."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from xml130 import conformance as cf
from xml130.demo import scenarios as sc
from xml130.demo.quirks import QUIRKS
from xml130.models import build_hoso
from xml130.parse import ParseError, declared_wide_encoding, parse_xml
from xml130.render import render_checkin, render_hoso, render_table
from xml130.spec import load_spec
from xml130.validate import validate_bytes, validate_path

KEYS = ("code", "severity", "table", "field")


def _found(findings) -> list[tuple]:
    return [tuple(getattr(f, k) for k in KEYS) for f in findings]


def test_every_shape_names_its_fixtures_and_every_new_fixture_a_shape(root):
    shapes = cf.suite().shapes
    named = [n for s in shapes for n in s.fixture.split(", ") if n]
    assert len(shapes) == 20 and all(s.source and s.writes and s.decision and s.clause for s in shapes)
    assert set(named) <= set(QUIRKS)
    assert {"dotnet_xmlserializer", "dotnet_utf16_declaration", "dataset_writexml", "sql_money_four_decimals",
            "sql_money_not_rounded", "int_typed_model", "birth_date_year_only", "js_template", "java_double_amounts",
            "weight_placeholder", "hoso_without_envelope", "base64_without_padding",
            "amounts_out_of_order", "windows_1258_tables", "cdata_escaped",
            "older_standard_4210_layout", "list_without_wrapper", "xsi_nil_empty_fields",
            "unescaped_ampersand", "control_character"} <= set(named)
    doc = (root / "docs" / "conformance.md").read_text(encoding="utf-8")
    assert "## Shapes seen in other software" in doc
    assert "| `sql_money_four_decimals, sql_money_not_rounded` |" in doc


# --- a UTF-8 document declared encoding="utf-16" -------------------------------------------------------------------
UTF16_DECLARED = b'<?xml version="1.0" encoding="utf-16"?>\n<A><B>H\xe1\xbb\x93</B></A>'


@pytest.mark.parametrize("head, expected", [
    (b'<?xml version="1.0" encoding="utf-16"?><A/>', "utf-16"),
    (b"<?xml version='1.0' encoding='UTF-16LE'?><A/>", "UTF-16LE"),
    (b'<?xml version="1.0" encoding="unicode"?><A/>', "unicode"),
    (b'<?xml version="1.0" encoding="utf-8"?><A/>', None),
    (b'<?xml version="1.0" encoding="windows-1258"?><A/>', None),
    (b"<A/>", None),
])
def test_the_declared_wide_encoding(head, expected):
    assert declared_wide_encoding(head) == expected


def test_a_utf8_document_declared_utf16_is_read_as_utf8_only_when_the_caller_takes_note():
    said: list[str] = []
    assert parse_xml(UTF16_DECLARED, [], said)[0].text == "Hồ" and said == ["utf-16"]
    with pytest.raises(ParseError):
        parse_xml(UTF16_DECLARED)  # the same refusal as before for callers that do not report it
    with pytest.raises(ParseError, match="Invalid bytes"):  # declared UTF-16, and not UTF-8 either
        parse_xml(UTF16_DECLARED.replace(b"H", b"\xff"), [], [])
    # really UTF-16 (with or without its BOM): what it says it is, nothing to report
    for data in ('<?xml version="1.0" encoding="utf-16"?><A>Hồ</A>'.encode("utf-16"),
                 '<?xml version="1.0" encoding="utf-16"?><A>Hồ</A>'.encode("utf-16-le")):
        said = []
        assert parse_xml(data, [], said).text == "Hồ" and said == []


def test_a_document_not_in_utf8_is_one_warning_and_ascii_none(tmp_path):
    env = render_hoso(build_hoso(sc.VALID["outpatient_drugs_labs"]()), ngaylap=sc.NGAYLAP)
    path = tmp_path / "env16.xml"
    path.write_bytes(env.decode("utf-8").replace('encoding="utf-8"', 'encoding="utf-16"', 1).encode("utf-16"))
    assert _found(validate_path(path)) == [("XML.ENCODING_NOT_UTF8", "warning", "GIAMDINHHS", None)]
    ascii_only = env.decode("utf-8").replace('encoding="utf-8"', 'encoding="us-ascii"', 1)
    assert validate_bytes(ascii_only.encode("ascii", errors="xmlcharrefreplace")) == []


def test_the_mislabelled_envelope_and_bare_table_get_one_error_and_every_check(tmp_path):
    env = render_hoso(build_hoso(sc.VALID["outpatient_drugs_labs"]()), ngaylap=sc.NGAYLAP)
    path = tmp_path / "env.xml"
    path.write_bytes(env.replace(b'encoding="utf-8"', b'encoding="utf-16"', 1))
    assert _found(validate_path(path)) == [("XML.ENCODING_DECLARED", "error", "GIAMDINHHS", None)]
    latest = load_spec().latest
    from xml130.models import build_rows
    checkin = render_checkin(latest, build_rows(latest, "XML0", sc.checkin_rows()))
    # a check-in declared UTF-16 whose first cost lost its code: the rule still runs beside the encoding error
    broken = re.sub(rb"<MA_DICH_VU>K01.1918</MA_DICH_VU>", b"<MA_DICH_VU/>", checkin, count=1)
    got = validate_bytes(broken.replace(b'encoding="utf-8"', b'encoding="utf-16"', 1))
    assert _found(got) == [("XML.ENCODING_DECLARED", "error", "XML0", None),
                           ("R.CHECKIN.FIRST_COST", "error", "XML0", "MA_DICH_VU")]
    assert 'encoding="utf-16" (XML0)' in got[0].message


# --- amounts written with zeros past their scale --------------------------------------------------------------------
@pytest.mark.parametrize("table, name, ok, bad", [
    ("XML1", "T_TONGCHI_BV", ["65400.0000", "0.0000", "65400", "65400.5", "65400.50"], ["65400.5001", "65400.", "6,5"]),
    ("XML2", "DON_GIA", ["1200.0000", "1200.0000000", "650.750"], ["1200.0004", "650.7501"]),
])
def test_zeros_past_the_scale_are_the_same_amount(table, name, ok, bad):
    for version in load_spec().versions:
        f = version[table].field(name)
        assert [v for v in ok if not f.compiled.fullmatch(v)] == [], version.id
        assert [v for v in bad if f.compiled.fullmatch(v)] == [], version.id


def test_a_table_of_four_decimal_amounts_reads_as_the_same_amounts():
    assert validate_bytes(QUIRKS["sql_money_four_decimals"].make()) == []
    hoso = build_hoso(sc.VALID["outpatient_drugs_labs"]())
    latest = load_spec().get(hoso.version.id)
    xml2 = render_table(latest["XML2"], hoso.tables["XML2"]).replace(b"<DON_GIA>1200.000<", b"<DON_GIA>1200.0000<")
    from xml130.parse import load_table
    _, rows = load_table(xml2, version=latest)
    assert rows[0].DON_GIA == Decimal("1200")


# --- an identity number stored as a number ------------------------------------------------------------------------
def test_an_eleven_digit_identity_number_is_warned_in_the_checkin_too():
    latest = load_spec().latest
    from xml130.models import build_rows
    rows = sc.checkin_rows()
    twelve = rows[0]["SO_CCCD"]
    assert len(twelve) == 12 and twelve.startswith("0")
    rows[0]["SO_CCCD"] = twelve[1:]
    rows[1]["SO_CCCD"] = "C1234567890"  # letters: a passport, not a number that lost its 0
    got = validate_bytes(render_checkin(latest, build_rows(latest, "XML0", rows)))
    assert [(f.code, f.severity, f.table, f.field, f.row) for f in got] == [
        ("R.CCCD.ZERO.XML0", "warning", "XML0", "SO_CCCD", 1)]
    assert twelve[1:] not in got[0].message  # never the identity number itself


# --- a HOSO without its envelope ---------------------------------------------------------------------------------
def test_a_hoso_without_its_envelope_is_described_as_one(fixtures_dir):
    from xml130.decode import describe
    doc = describe((fixtures_dir / "quirks" / "hoso_without_envelope.xml").read_bytes())
    assert doc["kind"] == "envelope" and doc["macskcb"] is None
    assert [(h["ma_lk"], [t["table"] for t in h["tables"]]) for h in doc["hoso"]] == [
        ("79999OP0001", ["XML1", "XML2", "XML3", "XML4"])]


# --- fields in another order than the standard's -----------------------------------------------------------------
def _xml1_with(edit) -> bytes:
    hoso = build_hoso(sc.VALID["outpatient_drugs_labs"]())
    return edit(render_table(hoso.version["XML1"], hoso.tables["XML1"]))


def test_a_field_out_of_order_is_one_warning_and_a_repeated_one_an_error():
    swap = _xml1_with(lambda x: re.sub(rb"(<MA_BN>[^<]*</MA_BN>)(<HO_TEN>[^<]*</HO_TEN>)", rb"\2\1", x))
    got = validate_bytes(swap)
    assert _found(got) == [("ELEMENT.OUT_OF_ORDER", "warning", "XML1", "HO_TEN")]
    assert "<MA_BN>" in got[0].message and "1 dòng" in got[0].message
    # out of order and a bad value further on: the value is still found, the order stays a warning
    both = _xml1_with(lambda x: re.sub(rb"(<MA_BN>[^<]*</MA_BN>)(<HO_TEN>[^<]*</HO_TEN>)", rb"\2\1", x)
                      .replace(b"<MA_LOAI_KCB>01<", b"<MA_LOAI_KCB>1<"))
    assert _found(validate_bytes(both)) == [("ELEMENT.OUT_OF_ORDER", "warning", "XML1", "HO_TEN"),
                                            ("FIELD.FORMAT", "error", "XML1", "MA_LOAI_KCB")]
    # a field twice, even in its place, and another out of order in the same row
    twice = _xml1_with(lambda x: re.sub(rb"(<MA_BN>[^<]*</MA_BN>)(<HO_TEN>[^<]*</HO_TEN>)", rb"\2\1", x)
                       .replace(b"<GIOI_TINH>1</GIOI_TINH>", b"<GIOI_TINH>1</GIOI_TINH><GIOI_TINH>2</GIOI_TINH>"))
    assert sorted(_found(validate_bytes(twice))) == [("ELEMENT.ORDER", "error", "XML1", "GIOI_TINH"),
                                                     ("ELEMENT.OUT_OF_ORDER", "warning", "XML1", "HO_TEN")]


def test_xsi_nil_on_a_field_with_a_value_is_still_refused():
    nil = b' xsi:nil="true"'
    xsi = b'<TONG_HOP xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    data = _xml1_with(lambda x: x.replace(b"<TONG_HOP>", xsi).replace(b"<MA_BN>", b"<MA_BN" + nil + b">")
                      .replace(b"<GHI_CHU/>", b"<GHI_CHU" + nil + b"/>"))
    assert _found(validate_bytes(data)) == [("XSD.OTHER", "error", "XML1", "MA_BN"),  # the fields' order
                                            ("XML.NIL", "warning", "XML1", "GHI_CHU")]
