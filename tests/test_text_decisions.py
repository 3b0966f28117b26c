"""Decisions read from the standard's text for the classes real 2026 exports showed (issue 24): `;`-lists in code
fields (the list audit), the 2025 reform of local government (no district from 01/07/2025), ICD-10 codes written
with their dagger/asterisk marks and TT 06/2026/TT-BYT, a check-in whose first cost is a drug, XML12's optional
fields, a newborn born at 00:00. Each class has a synthetic fixture (fixtures/quirks) with its exact findings."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from xml130 import conformance as cf
from xml130.demo import scenarios as sc
from xml130.demo.quirks import QUIRKS, quirk_files
from xml130.models import Hoso, HosoError, build_hoso, build_rows
from xml130.rules import RULES, run_rules
from xml130.spec import load_spec
from xml130.validate import validate_path

KEYS = ("code", "severity", "table", "field", "row", "ma_lk")


def test_committed_quirk_fixtures_are_what_the_scenarios_render(fixtures_dir):
    files = quirk_files()
    assert sorted(p.name for p in (fixtures_dir / "quirks").glob("*.xml")) == sorted(files)
    for name, (data, expected) in files.items():
        path = fixtures_dir / "quirks" / name
        assert path.read_bytes() == data, name
        assert json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8")) == expected, name


@pytest.mark.parametrize("name", sorted(QUIRKS))
def test_quirk_fixture_gives_exactly_the_expected_findings(fixtures_dir, name):
    path = fixtures_dir / "quirks" / f"{name}.xml"
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    got = validate_path(path)
    assert [{k: getattr(f, k) for k in KEYS} for f in got] == expected
    assert all(f.message and f.file == str(path) for f in got)


# --- 2. the list audit ---------------------------------------------------------------------------------------------
def _audited() -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for entry in cf.list_audit():
        assert entry.decision in ("list", "one"), entry
        for table in entry.tables:
            assert (table, entry.name) not in out, f"{table}.{entry.name} audited twice"
            out[(table, entry.name)] = entry.decision
    return out


def test_every_code_field_and_every_list_of_every_version_is_audited_and_the_spec_agrees():
    audited = _audited()
    seen = set()
    for version in load_spec().versions:
        for table in version:
            for f in table.fields:
                if f.kind == "code" or f.sep:
                    key = (table.id, f.name)
                    seen.add(key)
                    assert key in audited, f"{table.id}.{f.name} ({version.id}) is not in list_audit.toml"
                    assert (f.sep == ";") == (audited[key] == "list"), (version.id, key, f.sep, audited[key])
    assert set(audited) == seen  # no entry for a field that is not a code or a list
    assert len(seen) == 153  # XML15 SO_CCCD became a code (issue 24, class 6)


def test_xml3_ma_benh_is_a_list_of_icd10_codes_in_every_version():
    for version in load_spec().versions:
        f = version["XML3"].field("MA_BENH")
        assert (f.sep, f.size) == (";", 100)
        assert f.compiled.fullmatch("J30.3;K21.9;K30") and f.compiled.fullmatch("J02.9")
        assert not f.compiled.fullmatch("J30.3; K21.9") and not f.compiled.fullmatch("J30.3,K21.9")


def test_the_list_audit_is_in_the_conformance_doc(root):
    doc = (root / "docs" / "conformance.md").read_text(encoding="utf-8")
    assert "## Several codes in one field: the audit" in doc
    assert "| MA_BENH | XML3 | list | size 100 like MA_BENH_KT" in doc
    assert "| MA_BS_DOC_KQ | XML4 | one |" in doc


# --- 3. the 2025 reform of local government ---------------------------------------------------------------------------
def test_the_district_is_optional_from_the_first_of_july_2025_by_the_episodes_date():
    spec = load_spec()
    before, after = spec.for_date("20250630"), spec.for_date("20250701")
    assert (before.id, after.id, spec.for_date("20260701").id) == ("3176", "dvhc2025", "1931")
    for table in ("XML1", "XML9", "XML12"):
        assert before[table].field("MAHUYEN_CU_TRU").required == "yes"
        assert after[table].field("MAHUYEN_CU_TRU").required == "no"
        assert spec.latest[table].field("MAHUYEN_CU_TRU").source == "dvhc2025"
        assert after[table].field("MAXA_CU_TRU").pattern == r"\d{5}"  # commune codes keep 5 digits (QĐ 19/2025)
    assert "QĐ 19/2025/QĐ-TTg" in after["XML1"].field("MAXA_CU_TRU").note


def test_a_hoso_without_district_builds_from_july_2025_and_not_before():
    raw = sc.outpatient_2024()
    for day, ok in ((dt.datetime(2025, 6, 30, 8, 0), False), (dt.datetime(2025, 7, 1, 8, 0), True)):
        shifted = cf._shift(raw, day - raw["XML1"]["NGAY_VAO"])
        shifted["XML1"]["MAHUYEN_CU_TRU"] = ""
        if ok:
            hoso = build_hoso(shifted)
            assert hoso.version.id == "dvhc2025" and hoso.summary.MAHUYEN_CU_TRU is None
        else:
            with pytest.raises(HosoError) as err:
                build_hoso(shifted)
            assert [(f.code, f.field) for f in err.value.findings] == [("FIELD.REQUIRED", "MAHUYEN_CU_TRU")]


# --- 4. ICD-10 as written, TT 06/2026 --------------------------------------------------------------------------------
def test_icd_marks_are_accepted_at_the_end_of_a_code_in_every_icd_field():
    latest = load_spec().latest
    for table, name in (("XML1", "MA_BENH_CHINH"), ("XML1", "MA_BENH_KT"), ("XML3", "MA_BENH"),
                        ("XML13", "MA_BENH_CHINH"), ("XML14", "MA_BENH_KT")):
        f = latest[table].field(name)
        assert f.compiled.fullmatch("G55.2*") and f.compiled.fullmatch("A17.0†")
        assert not f.compiled.fullmatch("G55.2**") and not f.compiled.fullmatch("*G55.2")
    assert not latest["XML1"].field("MA_BENH_CHINH").compiled.fullmatch("G55*.2")  # a mark only ends a code


def test_tt06_applies_by_the_episodes_date():
    assert (RULES["R.ICD.ASTERISK_MAIN"].until, RULES["R.ICD.ASTERISK_MAIN_TT06"].since) == (
        dt.date(2026, 6, 30), dt.date(2026, 7, 1))
    assert (RULES["R.ICD.ASTERISK_MAIN"].severity, RULES["R.ICD.ASTERISK_MAIN_TT06"].severity) == ("warning", "error")
    raw = sc.outpatient_drugs_labs()
    raw["XML1"]["MA_BENH_KT"] = "Q87.11"
    codes = {}
    for day in (dt.datetime(2026, 6, 30, 7, 0), dt.datetime(2026, 7, 1, 7, 0)):
        shifted = cf._shift(raw, day - raw["XML1"]["NGAY_VAO"])
        codes[day.date()] = [(f.code, f.severity) for f in run_rules(build_hoso(shifted))]
    assert codes == {dt.date(2026, 6, 30): [], dt.date(2026, 7, 1): [("R.ICD.REPLACED_TT06", "error")]}


def test_the_replaced_code_message_names_the_replacement():
    raw = sc.outpatient_drugs_labs()
    raw["XML1"]["MA_BENH_KT"] = "Q87.11*"
    (f,) = [f for f in run_rules(build_hoso(raw)) if f.code == "R.ICD.REPLACED_TT06"]
    assert f.message == "MA_BENH_KT = 'Q87.11*' không còn dùng từ 01/07/2026 (TT 06/2026/TT-BYT); ghi 'Q87.1'."


def test_a_secondary_code_repeating_the_main_one_is_found_whatever_its_mark():
    raw = sc.outpatient_drugs_labs()
    raw["XML1"].update(MA_BENH_CHINH="A17.0†", MA_BENH_KT="K21.9;A17.0")
    got = [(f.code, f.field) for f in run_rules(build_hoso(raw))]
    assert got == [("R.ICD.KT_NOT_CHINH", "MA_BENH_KT"), ("R.ICD.MARK", "MA_BENH_CHINH")]


# --- 7. check-in first cost, XML12, newborn at 00:00 -------------------------------------------------------------
def _checkin(rows):
    version = load_spec().latest
    return run_rules(Hoso(version, {"XML0": build_rows(version, "XML0", rows)}))


def test_a_checkin_first_cost_is_one_kind_each_code_with_its_name():
    rows = sc.checkin_rows()
    rows[1].update(MA_DICH_VU=None, TEN_DICH_VU=None, MA_VAT_TU="N03.04.070", TEN_VAT_TU="Bơm tiêm 5ml")
    assert _checkin(rows) == []
    rows[1].update(TEN_VAT_TU=None)
    rows[0].update(MA_DICH_VU=None, TEN_DICH_VU=None)
    got = [(f.code, f.severity, f.field, f.row, f.ma_lk, f.message) for f in _checkin(rows)]
    assert got == [
        ("R.CHECKIN.FIRST_COST", "error", "MA_DICH_VU", 1, "79999CI0001",
         "Dòng check-in MA_LK 79999CI0001: không có chi phí đầu tiên (MA_DICH_VU/TEN_DICH_VU, MA_THUOC/TEN_THUOC"
         " hoặc MA_VAT_TU/TEN_VAT_TU)."),
        ("R.CHECKIN.FIRST_COST", "error", "TEN_VAT_TU", 2, "79999CI0002",
         "Dòng check-in MA_LK 79999CI0002: có MA_VAT_TU nhưng thiếu TEN_VAT_TU."),
    ]


def test_xml12_fields_said_to_be_optional_are_optional_in_every_version():
    for version in load_spec().versions:
        t = version["XML12"]
        assert (t.field("TONG_TYLE_TTCT").required, t.field("DANG_HUONG_CHE_DO").required) == ("no", "no")
        assert t.field("SO_VAN_BAN_CAN_CU").sep == ";"


def test_a_newborn_born_at_midnight_is_a_warning_not_a_held_hoso():
    raw = sc.newborn_temporary_card()
    raw["XML1"]["NGAY_SINH"] = dt.datetime(2026, 11, 1, 0, 0)
    (f,) = run_rules(build_hoso(raw))
    assert (f.code, f.severity, f.field) == ("R.NEWBORN.BIRTH_TIME", "warning", "NGAY_SINH")
    assert f.message == ("Trẻ 5 ngày tuổi, NGAY_SINH 202611010000 ghi giờ sinh 00:00: sinh đúng 00:00 hay không rõ giờ"
                         " sinh? Giám định viên cần xác nhận (trẻ đến 28 ngày tuổi phải ghi giờ, phút sinh nếu có).")
