"""Validation of files: fixtures give exactly the expected findings; every finding is located."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random

import pytest

from xml130.demo.invalid import INVALID, invalid_files
from xml130.demo.scenarios import NGAYLAP, outpatient_drugs_labs, valid_files
from xml130.demo.synthetic import outpatient
from xml130.models import build_hoso
from xml130.render import render_envelope, render_hoso_tables
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
    assert len(files) == 15  # 13 hồ sơ (one of a foreigner without BHYT), a check-in document, an XML12 table
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


def _outpatients(*ma_lks: str) -> list[list[tuple[str, bytes]]]:
    rng = random.Random(7)
    start = dt.datetime(2026, 11, 2, 7, 0)
    return [render_hoso_tables(build_hoso(outpatient(rng, m, start + dt.timedelta(minutes=i))))
            for i, m in enumerate(ma_lks)]


def _broken_envelope() -> bytes:
    """40 hồ sơ, most valid, with one of each kind of problem a hồ sơ or the envelope can have (the 2nd hồ sơ's
    XML1 is not base64, so its findings have no MA_LK)."""
    hosos = _outpatients(*[f"79999ST{i:04d}" for i in range(40)])
    hosos[3] = [(t, x.replace(b"<SO_LUONG>", b"<SO_LUONG>?", 1) if t == "XML2" else x) for t, x in hosos[3]]
    hosos[5] = [f for f in hosos[5] if f[0] != "XML1"]  # no XML1
    hosos[8] = [*hosos[8], hosos[8][0]]  # XML1 twice
    hosos[9] = [(t, b"<TONG_HOP><MA_LK>" if t == "XML1" else x) for t, x in hosos[9]]  # malformed table
    hosos[12] = [(t, x.replace(b"<MA_THE_BHYT>", b"<MA_THE_BHYT>X", 1) if t == "XML1" else x) for t, x in hosos[12]]
    hosos[15] = [(t, x.replace(b"<T_TONGCHI_BV>", b"<T_TONGCHI_BV>9", 1) if t == "XML1" else x) for t, x in hosos[15]]
    hosos[20] = hosos[2]  # the same hồ sơ again: a repeated MA_LK
    hosos[31] = hosos[2]
    env = render_envelope("79999", NGAYLAP, hosos)
    first = env.index(b"</NOIDUNGFILE>", env.index(b"<HOSO>", env.index(b"<HOSO>") + 1))
    bad64 = env.rindex(b"<NOIDUNGFILE>", 0, first) + len(b"<NOIDUNGFILE>")
    env = env[:bad64] + b"@@" + env[bad64 + 2:]  # the 2nd hồ sơ's XML1 is not base64
    return env.replace(b"<SOLUONGHOSO>40<", b"<SOLUONGHOSO>41<").replace(b"<MACSKCB>79999<", b"<MACSKCB>7999<")


def test_an_envelope_is_streamed_with_the_same_findings_as_the_whole_document(tmp_path, monkeypatch):
    import xml130.validate as validate_module

    data = _broken_envelope()
    path = tmp_path / "big.xml"
    path.write_bytes(data)
    whole = validate_bytes(data, str(path))

    def not_whole(*args, **kwargs):
        raise AssertionError("an envelope must not be read whole")

    monkeypatch.setattr(validate_module, "validate_bytes", not_whole)
    streamed = validate_path(path)
    assert streamed == whole
    assert [(f.code, f.ma_lk, f.table, f.field, f.row) for f in streamed] == [
        ("XSD.OTHER", None, "GIAMDINHHS", "MACSKCB", None),
        ("ENVELOPE.COUNT", None, "GIAMDINHHS", "SOLUONGHOSO", None),
        ("ENVELOPE.BASE64", None, "XML1", "NOIDUNGFILE", None),
        ("FIELD.FORMAT", "79999ST0003", "XML2", "SO_LUONG", 1),
        ("ENVELOPE.NO_XML1", None, "XML1", None, None),
        ("ENVELOPE.DUPLICATE_TABLE", "79999ST0008", "XML1", "LOAIHOSO", None),
        ("XML.MALFORMED", None, "XML1", "NOIDUNGFILE", None),
        ("FIELD.FORMAT", "79999ST0012", "XML1", "MA_THE_BHYT", 1),
        ("R.TOTAL.T_TONGCHI_BV", "79999ST0015", "XML1", "T_TONGCHI_BV", 1),  # the business rules, per hồ sơ
        ("R.SHARES.XML1", "79999ST0015", "XML1", "T_TONGCHI_BV", 1),
        ("ENVELOPE.DUPLICATE_MA_LK", "79999ST0002", "XML1", "MA_LK", 21),
        ("ENVELOPE.DUPLICATE_MA_LK", "79999ST0002", "XML1", "MA_LK", 32),
    ]


def test_a_ma_lk_repeated_in_one_envelope_is_a_finding(tmp_path):
    a, b = _outpatients("79999DUP0001", "79999DUP0002")
    data = render_envelope("79999", NGAYLAP, [a, b, a])
    path = tmp_path / "dup.xml"
    path.write_bytes(data)
    for got in (validate_bytes(data, str(path)), validate_path(path)):
        f, = got
        assert (f.code, f.ma_lk, f.table, f.field, f.row, f.file) == (
            "ENVELOPE.DUPLICATE_MA_LK", "79999DUP0001", "XML1", "MA_LK", 3, str(path))
        assert f.severity == "error"
        assert f.message == "MA_LK 79999DUP0001 lặp lại trong cùng tệp: HOSO thứ 3 trùng với HOSO thứ 1."


@pytest.mark.parametrize("cut", ["truncated", "trailing", "empty", "mismatch"])
def test_a_broken_envelope_gives_the_same_finding_streamed_or_whole(tmp_path, cut):
    env = render_envelope("79999", NGAYLAP, _outpatients("79999BRK0001", "79999BRK0002"))
    data = {"truncated": env[: len(env) * 2 // 3], "trailing": env + b"<x/>", "empty": b"",
            "mismatch": env.replace(b"</THONGTINHOSO>", b"</THONGTINHOS>")}[cut]
    path = tmp_path / "broken.xml"
    path.write_bytes(data)
    streamed = validate_path(path)
    assert [f.code for f in streamed] == ["XML.MALFORMED"]
    assert streamed == validate_bytes(data, str(path))
