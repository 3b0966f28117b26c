"""What real hospitals' exports carry (issue 24, classes 1, 5, 6): each class has a synthetic fixture under
fixtures/quirks/ and gives exactly the expected findings."""

from __future__ import annotations

import base64

import pytest

from xml130.demo.quirks import BAD_NAMESPACES
from xml130.demo.scenarios import NGAYLAP, outpatient_drugs_labs, tb_treatment
from xml130.models import build_hoso, build_rows
from xml130.render import render_envelope, render_hoso_tables, render_table
from xml130.spec import Field, SpecError, legacy_markers, load_spec
from xml130.validate import validate_bytes, validate_path

KEYS = ("code", "severity", "table", "field", "row", "ma_lk")


def _got(findings) -> list[dict]:
    return [{k: getattr(f, k) for k in KEYS} for f in findings]


# The quirk fixtures themselves (fixtures/quirks/namespace_uri_space_*, older_standard_4210, noidungfile_raw_xml,
# not_xml, passport_in_xml15) give exactly their expected findings in tests/test_text_decisions.py.


# --- 1. namespace declarations libxml2 refuses and the portal's parser (.NET) accepts ---------------------------

def test_the_namespace_warning_names_the_declaration_and_the_tables(fixtures_dir):
    warning = validate_path(fixtures_dir / "quirks" / "namespace_uri_space_rule.xml")[0]
    assert warning.message == (
        "Khai báo không gian tên xmlns:xsi='http://www.w3.org/2001/XMLSchema instance' (XML1, XML2, XML3, XML4) "
        "không phải URI hợp lệ; trình đọc của cổng BHXH (.NET) vẫn chấp nhận nên tệp vẫn được kiểm tra đầy đủ — "
        "nên sửa khai báo này ở phần mềm HIS.")


def test_a_valid_hoso_with_the_namespace_quirk_has_only_the_warning(tmp_path):
    hoso = build_hoso(outpatient_drugs_labs())
    files = [(t, x.replace(b"?>\n<" + x.split(b"?>\n<", 1)[1].split(b">", 1)[0] + b">",
                           b"?>\n<" + x.split(b"?>\n<", 1)[1].split(b">", 1)[0] + BAD_NAMESPACES.encode() + b">", 1))
             for t, x in render_hoso_tables(hoso)]
    got = validate_bytes(render_envelope("79999", NGAYLAP, [files]))
    assert [(f.code, f.severity, f.table) for f in got] == [("XML.NAMESPACE_URI", "warning", "XML1")]


def test_the_quirk_on_the_envelope_or_a_bare_table(tmp_path):
    hoso = build_hoso(outpatient_drugs_labs())
    env = render_envelope("79999", NGAYLAP, [render_hoso_tables(hoso)])
    quirky = env.replace(b"<GIAMDINHHS>", b"<GIAMDINHHS" + BAD_NAMESPACES.encode() + b">", 1)
    path = tmp_path / "env.xml"
    path.write_bytes(quirky)  # the stream refuses it: read whole, with the same checks
    assert [(f.code, f.table) for f in validate_path(path)] == [("XML.NAMESPACE_URI", "GIAMDINHHS")]
    xml2 = dict(render_hoso_tables(hoso))["XML2"]
    bare = xml2.replace(b"<CHITIEU_CHITIET_THUOC>", b"<CHITIEU_CHITIET_THUOC" + BAD_NAMESPACES.encode() + b">", 1)
    bare = bare.replace(b"<SO_LUONG>2<", b"<SO_LUONG>2,5<", 1)
    got = [(f.code, f.severity, f.table, f.field) for f in validate_bytes(bare)]
    assert got == [("XML.NAMESPACE_URI", "warning", "XML2", None), ("FIELD.FORMAT", "error", "XML2", "SO_LUONG")]


def test_other_xml_errors_beside_the_namespace_quirk_stay_malformed():
    doc = b'<TONG_HOP xmlns:xsi="http://www.w3.org/2001/XMLSchema instance"><MA_LK>1</MA_LK>'
    (f,) = validate_bytes(doc, "x.xml")
    assert f.code == "XML.MALFORMED" and "Premature end of data" in f.message and "URI" not in f.message


# --- 5. files of an older standard; NOIDUNGFILE holding XML; not XML at all -------------------------------------

def test_legacy_markers_are_never_fields_of_the_spec():
    markers = legacy_markers()
    assert markers.decision == "QĐ 4210/QĐ-BYT (QĐ 917/QĐ-BHXH)" and markers.min_markers == 2
    assert markers.tables["XML1"] >= {"MA_THE", "TEN_BENH", "MA_BENH"}
    for v in load_spec().versions:
        for t in v:
            assert not (markers.tables.get(t.id, frozenset()) & set(t.names)), (v.id, t.id)
    assert markers.found("XML1", {"MA_THE", "MA_LK"}) == []  # one marker alone is not enough to tell
    assert markers.found("XML1", {"MA_THE", "TEN_BENH", "MA_LK"}) == ["MA_THE", "TEN_BENH"]


def test_a_bare_table_of_the_older_standard_is_one_finding():
    xml1 = dict(render_hoso_tables(build_hoso(outpatient_drugs_labs())))["XML1"]
    old = xml1.replace(b"MA_THE_BHYT>", b"MA_THE>").replace(b"CHAN_DOAN_RV>", b"TEN_BENH>")
    got = validate_bytes(old, "x.xml")
    assert [(f.code, f.table, f.field) for f in got] == [("XML.LEGACY_STANDARD", "XML1", "MA_THE")]
    assert "<MA_THE>, <TEN_BENH>" in got[0].message
    one = xml1.replace(b"MA_THE_BHYT>", b"MA_THE>")  # a single renamed tag is an ordinary error
    assert [(f.code, f.field) for f in validate_bytes(one)] == [("ELEMENT.UNKNOWN", "MA_THE")]


def test_noidungfile_as_escaped_xml_text_is_said_too():
    files = render_hoso_tables(build_hoso(outpatient_drugs_labs()))
    env = render_envelope("79999", NGAYLAP, [files])
    xml3 = dict(files)["XML3"]
    escaped = xml3.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
    got = validate_bytes(env.replace(base64.b64encode(xml3), escaped.replace(b"<SO_LUONG>", b"<SO_LUONG>")))
    assert [(f.code, f.table, f.field) for f in got] == [("ENVELOPE.RAW_XML", "XML3", "NOIDUNGFILE")]
    broken = escaped.replace(b"&lt;SO_LUONG&gt;1", b"&lt;SO_LUONG&gt;x", 1)
    got = validate_bytes(env.replace(base64.b64encode(xml3), broken))  # the content is still checked
    assert [(f.code, f.table, f.field) for f in got] == [("ENVELOPE.RAW_XML", "XML3", "NOIDUNGFILE"),
                                                         ("FIELD.FORMAT", "XML3", "SO_LUONG")]


# --- 6. a passport number in XML15 SO_CCCD -------------------------------------------------------------------

def test_a_passport_number_in_xml15_is_valid_and_keeps_leading_zeros():
    latest = load_spec().latest
    rows = tb_treatment()["XML15"]
    for cccd in ("C1234567", "B12345678", "001234567890"):
        (model,) = build_rows(latest, "XML15", [{**rows[0], "SO_CCCD": cccd}])
        assert model.SO_CCCD == cccd
        doc = render_table(latest["XML15"], [model])
        assert f"<SO_CCCD>{cccd}</SO_CCCD>".encode() in doc and validate_bytes(doc) == []
    got = validate_bytes(doc.replace(b"<SO_CCCD>001234567890<", b"<SO_CCCD>C-1234567<"))
    assert [(f.code, f.field) for f in got] == [("FIELD.FORMAT", "SO_CCCD")]


def test_a_number_with_its_own_pattern_is_refused_by_the_spec():
    with pytest.raises(SpecError, match="SO_CCCD: a integer cannot have its own pattern"):
        Field("SO_CCCD", "integer", size=15, pattern="[0-9A-Za-z]{1,15}")
