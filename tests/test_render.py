"""Rendering and parsing: standard order, escaping, envelope layout, determinism, round trips for every table."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from xml130.demo.scenarios import VALID, checkin_rows, outpatient_drugs_labs, xml12_row
from xml130.models import build_hoso, build_rows
from xml130.parse import load_envelope, load_table, parse_xml, read_envelope
from xml130.render import render_checkin, render_hoso, render_hoso_tables, render_table
from xml130.spec import load_spec


@pytest.fixture(scope="module")
def hosos():
    return {name: build_hoso(make()) for name, make in VALID.items()}


def _schema(version: str, name: str) -> etree.XMLSchema:
    from xml130.validate import _lxml_schema

    return _lxml_schema(version, name)


def test_scenarios_cover_every_table(hosos):
    carried = {t for h in hosos.values() for t in h.tables}
    assert carried == {f"XML{i}" for i in range(1, 16)} - {"XML12"}  # XML12 is not sent by hospitals
    # XML0 and XML12 travel on their own: see test_checkin_document and test_bare_table_round_trip


@pytest.mark.parametrize("name", sorted(VALID))
def test_every_table_renders_valid_xml_and_round_trips(hosos, name):
    hoso = hosos[name]
    for loai, xml in render_hoso_tables(hoso):
        assert xml.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
        doc = etree.fromstring(xml)
        schema = _schema(hoso.version.id, loai)
        assert schema.validate(doc), (loai, schema.error_log)
        # field order is the standard's
        table = hoso.version[loai]
        rows = [doc] if not table.is_list else list(doc.find(table.list))
        for row in rows:
            assert [c.tag for c in row] == list(table.names)
    env = render_hoso(hoso, ngaylap="20261120")
    again = load_envelope(env)
    assert len(again) == 1 and again[0].tables == hoso.tables
    assert render_hoso(again[0], ngaylap="20261120") == env


def test_rendering_is_deterministic(hosos):
    first = render_hoso(build_hoso(outpatient_drugs_labs()), ngaylap="20261120")
    second = render_hoso(build_hoso(outpatient_drugs_labs()), ngaylap="20261120")
    assert first == second


def test_envelope_layout_the_portal_accepts(hosos):
    env = render_hoso(hosos["inpatient_surgery_beds"], ngaylap="20261120")
    text = env.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS>\n')
    assert "xmlns" not in text
    assert text.rstrip().endswith("<CHUKYDONVI/>\n</GIAMDINHHS>")
    contents = re.findall(r"<NOIDUNGFILE>([^<]*)</NOIDUNGFILE>", text)
    assert len(contents) == 7 and all("\n" not in c for c in contents)
    assert re.findall(r"<LOAIHOSO>([^<]*)</LOAIHOSO>", text) == ["XML1", "XML2", "XML3", "XML4", "XML5", "XML7", "XML8"]
    env_doc = parse_xml(env)
    assert _schema("1931", "GIAMDINHHS").validate(env_doc)
    parsed = read_envelope(env_doc)
    assert (parsed.macskcb, parsed.ngaylap, parsed.soluonghoso, parsed.signed) == ("79999", "20261120", "1", False)
    xml1 = base64.b64decode(contents[0]).decode("utf-8")
    assert "<MA_LOAI_KCB>03</MA_LOAI_KCB>" in xml1 and "<MA_KHOA>K01;K12</MA_KHOA>" in xml1


def test_exact_values_in_the_xml(hosos):
    hoso = hosos["birth_twins"]
    xml9 = dict(render_hoso_tables(hoso))["XML9"].decode("utf-8")
    assert xml9.count("<DU_LIEU_GIAY_CHUNG_SINH>") == 2
    assert "<CAN_NANG_CON>2800</CAN_NANG_CON>" in xml9 and "<CAN_NANG_CON>2650</CAN_NANG_CON>" in xml9
    xml1 = dict(render_hoso_tables(hoso))["XML1"].decode("utf-8")
    assert "<CAN_NANG_CON>2800;2650</CAN_NANG_CON>" in xml1
    nb = dict(render_hoso_tables(hosos["newborn_temporary_card"]))["XML1"].decode("utf-8")
    assert "<MA_THE_BHYT>TE1790000123456</MA_THE_BHYT><MA_DKBD>79000</MA_DKBD><GT_THE_TU>20261106</GT_THE_TU>" in nb
    assert "<NGAY_SINH>202611012305</NGAY_SINH>" in nb
    two = dict(render_hoso_tables(hosos["two_cards"]))["XML1"].decode("utf-8")
    assert re.search(r"<GT_THE_TU>20251201;20261201</GT_THE_TU><GT_THE_DEN>20261130;20271130</GT_THE_DEN>", two)
    old = dict(render_hoso_tables(hosos["outpatient_2024"]))
    assert b"<NHOM_MAU" not in old["XML1"] and b"<NGAY_TH_YL" not in old["XML2"]


def test_escaping_and_empty_elements():
    version = load_spec().latest
    raw = outpatient_drugs_labs()
    raw["XML1"]["DIA_CHI"] = 'Số 5 "A" & <B> \'C\'\r\nD'
    hoso = build_hoso(raw)
    xml1 = dict(render_hoso_tables(hoso))["XML1"]
    assert "<DIA_CHI>Số 5 \"A\" &amp; &lt;B&gt; 'C'&#13;\nD</DIA_CHI>".encode() in xml1
    assert b"<NGAY_MIEN_CCT/>" in xml1
    table, rows = load_table(xml1, version=version)
    assert rows[0].DIA_CHI == raw["XML1"]["DIA_CHI"]


def test_checkin_document():
    version = load_spec().latest
    rows = build_rows(version, "XML0", checkin_rows())
    doc = render_checkin(version, rows)
    root = etree.fromstring(doc)
    assert [c.tag for c in root] == ["DSACH_TRANG_THAI_KCB", "CHUKYDONVI"]
    assert _schema("1931", "XML0").validate(root)
    table, again = load_table(doc)
    assert table.id == "XML0" and again == rows
    assert render_checkin(version, again) == doc


def test_bare_table_round_trip():
    version = load_spec().latest
    rows = build_rows(version, "XML12", [xml12_row()])
    xml = render_table(version["XML12"], rows)
    assert _schema("1931", "XML12").validate(etree.fromstring(xml))
    assert render_table(version["XML12"], load_table(xml)[1]) == xml


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), min_size=1, max_size=255))
def test_any_text_round_trips(text):
    raw = outpatient_drugs_labs()
    raw["XML1"]["CHAN_DOAN_RV"] = text
    hoso = build_hoso(raw)
    env = render_hoso(hoso, ngaylap="20261120")
    assert render_hoso(load_envelope(env)[0], ngaylap="20261120") == env


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_text_is_the_plain_notation_whatever_the_exponent(value):
    from xml130.render import _decimal_text

    assert _decimal_text(value) == format(value, "f") and "E" not in _decimal_text(value)
