"""Validation of files: fixtures give exactly the expected findings; every finding is located."""

from __future__ import annotations

import base64
import json

import pytest

from xml130.models import build_hoso
from xml130.render import render_envelope, render_hoso_tables
from xml130.scenarios import INVALID, NGAYLAP, invalid_files, outpatient_drugs_labs, valid_files
from xml130.validate import validate_bytes, validate_path

KEYS = ("code", "table", "field", "row", "ma_lk")


def test_committed_fixtures_are_what_the_scenarios_render(fixtures_dir):
    for name, data in valid_files().items():
        assert (fixtures_dir / "valid" / name).read_bytes() == data, name
    for name, (data, expected) in invalid_files().items():
        path = fixtures_dir / "invalid" / name
        assert path.read_bytes() == data, name
        assert json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8")) == expected


def test_every_valid_fixture_passes(fixtures_dir):
    files = sorted((fixtures_dir / "valid").glob("*.xml"))
    assert len(files) == 14
    for path in files:
        assert validate_path(path) == [], path.name


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_fixture_gives_exactly_the_expected_findings(fixtures_dir, name):
    path = fixtures_dir / "invalid" / f"{name}.xml"
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    got = validate_path(path)
    assert [{k: getattr(f, k) for k in KEYS} for f in got] == expected
    for f in got:
        assert f.file == str(path) and f.severity == "error" and f.message
        assert f.field in f.message or f.table in f.message


def _envelope_with(table: str, edit) -> bytes:
    hoso = build_hoso(outpatient_drugs_labs())
    files = [(loai, edit(xml) if loai == table else xml) for loai, xml in render_hoso_tables(hoso)]
    return render_envelope("79999", NGAYLAP, [files])


def test_every_broken_row_is_reported_not_only_the_first():
    def edit(xml: bytes) -> bytes:
        text = xml.decode()
        text = text.replace("<STT>2</STT><MA_THUOC>", "<STT>2</STT><X/><MA_THUOC>", 1)  # content error in row 2
        return text.replace("<DON_GIA>", "<DON_GIA>x", 1).replace("<SO_LUONG>", "<SO_LUONG>+", 1).encode()

    got = [(f.code, f.field, f.row) for f in validate_bytes(_envelope_with("XML2", edit))]
    assert ("ELEMENT.UNKNOWN", "X", 2) in got
    assert ("FIELD.FORMAT", "DON_GIA", 1) in got and ("FIELD.FORMAT", "SO_LUONG", 1) in got
    assert len(got) == 3


def test_value_errors_after_a_content_error_in_the_same_row_are_reported():
    def edit(xml: bytes) -> bytes:
        return xml.replace(b"<MA_BN>", b"<X/><MA_BN>", 1).replace(b"<MA_DANTOC>01<", b"<MA_DANTOC>1<", 1)

    got = [(f.code, f.field) for f in validate_bytes(_envelope_with("XML1", edit))]
    assert got == [("ELEMENT.UNKNOWN", "X"), ("FIELD.FORMAT", "MA_DANTOC")]


def test_envelope_level_problems():
    hoso = build_hoso(outpatient_drugs_labs())
    files = render_hoso_tables(hoso)
    xml1 = dict(files)["XML1"]
    no_xml1 = render_envelope("79999", NGAYLAP, [[f for f in files if f[0] != "XML1"]])
    assert [f.code for f in validate_bytes(no_xml1)] == ["ENVELOPE.NO_XML1"]
    dup = render_envelope("79999", NGAYLAP, [[*files, ("XML1", xml1)]])
    assert [(f.code, f.table) for f in validate_bytes(dup)] == [("ENVELOPE.DUPLICATE_TABLE", "XML1")]
    mismatch = render_envelope("79999", NGAYLAP, [[("XML1", xml1), ("XML2", xml1)]])
    assert [(f.code, f.table) for f in validate_bytes(mismatch)] == [("ENVELOPE.TABLE_MISMATCH", "XML2")]
    unknown = render_envelope("79999", NGAYLAP, [[("XML1", xml1), ("XML16", xml1)]])
    assert [(f.code, f.table) for f in validate_bytes(unknown)] == [("ENVELOPE.LOAIHOSO", "XML16")]
    count = render_envelope("79999", NGAYLAP, [files]).replace(b"<SOLUONGHOSO>1<", b"<SOLUONGHOSO>2<")
    assert [f.code for f in validate_bytes(count)] == ["ENVELOPE.COUNT"]
    garbage = render_envelope("79999", NGAYLAP, [[("XML1", b"<TONG_HOP><MA_LK>")]])
    assert [(f.code, f.table) for f in validate_bytes(garbage)] == [("XML.MALFORMED", "XML1")]
    bad_head = render_envelope("7999", "2026", [files])
    got = [(f.code, f.table, f.field) for f in validate_bytes(bad_head)]
    assert got == [("XSD.OTHER", "GIAMDINHHS", "MACSKCB"), ("XSD.OTHER", "GIAMDINHHS", "NGAYLAP")]


def test_findings_name_the_hoso_of_each_row():
    hoso = build_hoso(outpatient_drugs_labs())
    files = [(t, x.replace(b"<SO_LUONG>", b"<SO_LUONG>?", 1) if t == "XML2" else x) for t, x in render_hoso_tables(hoso)]
    f, = validate_bytes(render_envelope("79999", NGAYLAP, [files]), "a.xml")
    assert (f.file, f.ma_lk, f.table, f.field, f.row) == ("a.xml", "79999OP0001", "XML2", "SO_LUONG", 1)


def test_other_documents(fixtures_dir):
    assert [f.code for f in validate_bytes(b"<a>", "x")] == ["XML.MALFORMED"]
    assert [f.code for f in validate_bytes(b"\xff\xfe<a/>", "x")] == ["XML.MALFORMED"]
    assert [(f.code, f.message) for f in validate_bytes(b"<HOADON/>", "x")] == [
        ("XML.ROOT", "Thẻ gốc <HOADON> không phải tệp GIAMDINHHS, tệp check-in hay bảng nào của QĐ 130.")]
    checkin = (fixtures_dir / "valid" / "checkin.xml").read_bytes()
    broken = checkin.replace(b"<NGAY_VAO>20261120", b"<NGAY_VAO>2026112x", 1)
    got = [(f.code, f.table, f.field, f.row, f.ma_lk) for f in validate_bytes(broken)]
    assert got == [("FIELD.FORMAT", "XML0", "NGAY_VAO", 1, "79999CI0001")]


def test_bare_table_versions_follow_its_dates():
    hoso = build_hoso(outpatient_drugs_labs())
    xml2 = dict(render_hoso_tables(hoso))["XML2"]
    assert validate_bytes(xml2) == []
    old = xml2.replace(b"<NGAY_YL>20261102", b"<NGAY_YL>20240102").replace(b"<NGAY_TH_YL>20261102", b"<NGAY_TH_YL>20240102")
    got = {(f.code, f.field) for f in validate_bytes(old)}
    assert ("ELEMENT.UNKNOWN", "NGAY_TH_YL") in got  # 4750 did not have it


def test_base64_detail_keeps_other_tables_checked():
    hoso = build_hoso(outpatient_drugs_labs())
    files = render_hoso_tables(hoso)
    env = render_envelope("79999", NGAYLAP, [files])
    enc = base64.b64encode(dict(files)["XML2"])
    env = env.replace(enc, b"@@" + enc[2:]).replace(b"<MA_LOAI_KCB>01<", b"<MA_LOAI_KCB>01<")
    assert [(f.code, f.table) for f in validate_bytes(env)] == [("ENVELOPE.BASE64", "XML2")]
