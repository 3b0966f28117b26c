"""No silent mapping errors: what a mapping reads is checked against what the queries return before any data
moves; a value the mapping cannot read is a finding naming table, field, source column and MA_LK; keys of any
type; ``xml130 mapping check`` and its exit codes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from xml130.cli import app
from xml130.demo import mapping_path
from xml130.demo.his_vn import create_vn_his, ma_lk
from xml130.jobs.export import run_export
from xml130.mapping import MappingError, parse_mapping
from xml130.mapping.extract import Extractor, Selection

VN_MAPPING = mapping_path("vn_his.toml")


def vn_data() -> dict:
    return tomllib.loads(VN_MAPPING.read_text(encoding="utf-8"))


@pytest.fixture()
def vn_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'vn.db'}"
    create_vn_his(url, 12)
    return url


def _problems(url: str, data: dict) -> list[str]:
    with pytest.raises(MappingError) as info:
        Extractor(create_engine(url), parse_mapping(data)).check()
    return info.value.problems


def test_unused_columns_and_missing_rule_inputs_are_reported_before_data_moves(vn_url):
    data = vn_data()
    x1, x2 = data["tables"]["XML1"], data["tables"]["XML2"]
    x1["query"] = x1["query"].replace("AS settled_at", "AS settle_at").replace("AS kind", "AS visit_kind")
    x2["query"] = x2["query"].replace("t.ham_luong,", "t.ham_luong AS ham_luon,")  # a misspelled auto alias
    x2["types"] = {"gia": "decimal"}
    problems = _problems(vn_url, data)
    assert "tables.XML1: rule 'visit_kind' needs a column named kind (text, for MA_LOAI_KCB); the query does not " \
           "return it" in problems
    for col, where in (("settle_at", "tables.XML1"), ("visit_kind", "tables.XML1"), ("ham_luon", "tables.XML2")):
        assert f"{where}: column {col!r} is returned but nothing uses it (a misspelled alias? name it like a field " \
               f"for auto, map it under fields, or drop it from the query)" in problems
    assert "tables.XML2.types.gia: the query returns no column gia" in problems
    assert "tables.XML1.lookups.kind: the query returns no column kind" in problems
    assert problems[0].startswith("tables.XML1.fields.NGAY_TTOAN: column 'settled_at' is not returned by the query")
    assert len(problems) == 7, problems


def test_a_lookup_never_applied_is_a_problem():
    data = vn_data()
    data["lookups"]["wards"] = {"values": {"A": "K01"}}
    with pytest.raises(MappingError) as info:
        parse_mapping(data)
    assert info.value.problems == ['lookups.wards: defined but never applied (name it in a field\'s lookup = … or '
                                   'in a table\'s or collection\'s lookups = {column = "wards"})']


def test_value_problems_are_findings_naming_table_field_column_and_ma_lk(vn_url, tmp_path):
    with create_engine(vn_url).begin() as conn:
        conn.execute(text("UPDATE luot_kham SET ngay_vao = '31/11/2026 08:00' WHERE ma_lk = :m"), {"m": ma_lk(1)})
        conn.execute(text("UPDATE luot_kham SET can_nang = 'ba ký' WHERE ma_lk = :m"), {"m": ma_lk(2)})
        conn.execute(text("UPDATE benh_nhan SET gioi_tinh = 'Khác' WHERE ma_bn = 'BN-000004'"))
        conn.execute(text("UPDATE luot_kham SET ma_khoa = 'XYZ' WHERE ma_lk = :m"), {"m": ma_lk(6)})
        conn.execute(text("UPDATE chi_dinh_thuoc SET so_luong = NULL WHERE so_vao_vien = 'VV2611-00008'"))
        conn.execute(text("UPDATE luot_kham SET ngay_dong = 'hôm qua' WHERE ma_lk = :m"), {"m": ma_lk(9)})
    result = run_export(vn_url, parse_mapping(vn_data()), tmp_path, Selection())  # no crash, no "lỗi không mong đợi"
    reasons = {q["ma_lk"]: [(r["code"], r["table"], r["field"], r["message"]) for r in q["reasons"]]
               for q in result.quarantine}
    assert sorted(reasons) == [ma_lk(i) for i in (1, 2, 4, 6, 8, 9)] and result.counts["staged"] == 6
    assert reasons[ma_lk(1)] == [("MAPPING.VALUE", "XML1", "NGAY_VAO", "Giá trị '31/11/2026 08:00' của HIS (cột "
                                  "arrived_at) không đọc được theo định dạng a real calendar date (trường NGAY_VAO).")]
    assert reasons[ma_lk(2)] == [("MAPPING.VALUE", "XML1", "CAN_NANG", "Giá trị 'ba ký' của HIS (cột can_nang) không "
                                  "đọc được theo định dạng a number (12345 or 12345.67) (trường CAN_NANG).")]
    assert reasons[ma_lk(4)] == [("MAPPING.LOOKUP", "XML1", "GIOI_TINH", "Mã 'Khác' (cột gioi_tinh) không có trong "
                                  "bảng quy đổi sexes của cấu hình ánh xạ (trường GIOI_TINH).")]
    assert reasons[ma_lk(6)] == [("MAPPING.LOOKUP", "XML1", "MA_KHOA", "Mã 'XYZ' (cột collections.departments."
                                  "ma_khoa) không có trong bảng quy đổi departments của cấu hình ánh xạ (trường "
                                  "MA_KHOA).")]
    assert {r[:3] for r in reasons[ma_lk(8)]} == {("MAPPING.VALUE", "XML2", "SO_LUONG")}  # a rule input left empty
    assert "(cột qty)" in reasons[ma_lk(8)][0][3]
    assert reasons[ma_lk(9)][0][:3] == ("MAPPING.VALUE", "XML1", "NGAY_RA")  # a closing time that is no date
    assert "'hôm qua' của HIS (cột episodes.closed_at)" in reasons[ma_lk(9)][0][3]


def test_uuid_keys_on_postgresql_give_the_same_files(pg_url, tmp_path):
    """Keys of any type: the text keys of the VN shape become native UUIDs in every table; same bytes."""
    create_vn_his(f"sqlite:///{tmp_path / 'vn.db'}", 12)
    create_vn_his(pg_url, 12)
    with create_engine(pg_url).begin() as conn:
        for table in ("luot_kham", "the_bhyt", "chi_dinh_thuoc", "chi_dinh_dvkt"):
            conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN so_vao_vien TYPE uuid USING md5(so_vao_vien)::uuid"))
    mapping = parse_mapping(vn_data())
    a = run_export(f"sqlite:///{tmp_path / 'vn.db'}", mapping, tmp_path / "text", Selection())
    b = run_export(pg_url, mapping, tmp_path / "uuid", Selection())
    assert a.quarantine == b.quarantine == [] and b.counts["staged"] == 12
    for p in (tmp_path / "text").glob("*.xml"):
        assert (tmp_path / "uuid" / p.name).read_bytes() == p.read_bytes(), p.name


def test_mapping_check_command(vn_url, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["mapping", "check", "--source", vn_url, "--mapping", str(VN_MAPPING), "--sample", "4"])
    assert ok.exit_code == 0, ok.output
    assert "4 hồ sơ built in a dry run" in ok.output and "\n0 problem(s)" in ok.output
    xml1 = ok.output.split("\nXML1\n")[1].split("\n\n")[0].splitlines()
    lines = {line.split()[0]: line for line in xml1}
    assert "derived (xml130)" in ok.output.split("\nXML2\n")[1].splitlines()[1]  # XML2's STT
    assert "constant 1" in lines["STT"] and "always empty" in lines["NHOM_MAU"]
    assert "mapped (collection departments.ma_khoa, lookup departments)" in lines["MA_KHOA"]
    # the one table rule that filled each field, not every rule of the table
    for name, rule in (("HO_TEN", "person"), ("MA_THE_BHYT", "cards"), ("MA_LOAI_KCB", "visit_kind"),
                       ("THANG_QT", "settlement"), ("T_TONGCHI_BV", "totals")):
        assert f"derived (rule {rule}) " in lines[name], lines[name]
    assert "warning(s)" not in ok.output
    broken = tmp_path / "broken.toml"
    source = VN_MAPPING.read_text(encoding="utf-8").replace('GHI_CHU', 'GHI_CHU').replace(
        'LY_DO_VV = "ly_do"', 'LY_DO_VV = "ly_doo"')
    broken.write_text(source, encoding="utf-8")
    line = source.splitlines().index('LY_DO_VV = "ly_doo"') + 1
    bad = runner.invoke(app, ["mapping", "check", "--source", vn_url, "--mapping", str(broken)])
    assert bad.exit_code == 1
    assert f"broken.toml:{line}: tables.XML1.fields.LY_DO_VV: column 'ly_doo' is not returned by the query" \
        in bad.output
    assert "tables.XML1: column 'ly_do' is returned but nothing uses it" in bad.output
    missing = runner.invoke(app, ["mapping", "check", "--source", vn_url, "--mapping", str(tmp_path / "no.toml")])
    down = runner.invoke(app, ["mapping", "check", "--source", "postgresql+psycopg://nobody@127.0.0.1:1/x",
                               "--mapping", str(VN_MAPPING)])
    assert (missing.exit_code, down.exit_code) == (2, 2)
    assert "cannot read the mapping" in missing.output and "cannot connect to 127.0.0.1:1/x" in down.output


def test_text_dates_in_several_formats():
    import datetime as dt

    from xml130.dates import DateTextError, parse_datetime
    from xml130.mapping.columns import ColumnType, ValueProblem, coerce

    when = dt.datetime(2026, 11, 28, 2, 29)
    for text_ in ("28/11/2026 02:29", "2026-11-28 02:29", "2026-11-28T02:29:00", "202611280229", " 28-11-2026 02:29 ",
                  "2026-11-28 02:29:00.000000"):
        assert parse_datetime(text_) == when, text_
    assert parse_datetime("28/11/2026") == dt.datetime(2026, 11, 28)
    assert coerce(202611280229, ColumnType("datetime")) == when  # kept in a BIGINT column
    assert coerce("11-28-2026 02:29", ColumnType("datetime", "%m-%d-%Y %H:%M")) == when
    assert coerce("28/11/2026 02:29", ColumnType("date")) == dt.date(2026, 11, 28)
    assert coerce("", ColumnType("datetime")) is None
    with pytest.raises(DateTextError):
        parse_datetime("29/02/2026")
    with pytest.raises(ValueProblem):
        coerce("28.11.2026", ColumnType("datetime"))
    assert [coerce(v, ColumnType("decimal", scale=2)) for v in ("1,5", 125000, "-3")] == \
        [__import__("decimal").Decimal(x) for x in ("1.50", "125000.00", "-3.00")]
    assert [coerce(v, ColumnType("boolean")) for v in ("Có", "không", 1, 0, "x")] == [True, False, True, False, True]
    assert coerce(Path("/x").name, ColumnType("text")) == "x"


def test_mapping_check_groups_a_repeated_problem_and_says_why_fields_are_empty(vn_url, tmp_path):
    """One mapping mistake in every hồ sơ is one line (how many hồ sơ, the first MA_LK); when no hồ sơ could be
    built, an empty field is not called "always empty"."""
    with create_engine(vn_url).begin() as conn:
        conn.execute(text("UPDATE luot_kham SET ma_khoa = 'XYZ'"))
    r = CliRunner().invoke(app, ["mapping", "check", "--source", vn_url, "--mapping", str(VN_MAPPING),
                                 "--sample", "4"])
    assert r.exit_code == 1, r.output
    assert "4 hồ sơ built in a dry run (nothing written); 4 of them kept out by the problems below" in r.output
    problems = r.output.split("\n1 problem(s):\n")[1].splitlines()
    lines = VN_MAPPING.read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(lines) if t.startswith("MA_KHOA") and i > lines.index("[tables.XML1.fields]"))
    assert len(problems) == 1
    assert re.fullmatch(rf"  vn_his.toml:{line + 1}: tables.XML1.fields.MA_KHOA: 4 hồ sơ \(first MA_LK \d+\): "
                        r"MAPPING.LOOKUP: Mã 'XYZ' \(cột collections.departments.ma_khoa\) không có trong bảng quy "
                        r"đổi departments của cấu hình ánh xạ \(trường MA_KHOA\).", problems[0]), problems[0]
    xml1 = {line.split()[0]: line for line in r.output.split("\nXML1\n")[1].split("\n\n")[0].splitlines()}
    assert "empty: no hồ sơ of the sample was built (problems below)" in xml1["NHOM_MAU"]
    assert "derived (rule person)" in xml1["HO_TEN"]  # the values as built, though the hồ sơ was kept out


def test_a_constant_in_clinical_free_text_is_a_placeholder_warning(vn_url, tmp_path):
    source = VN_MAPPING.read_text(encoding="utf-8")
    anchor = "[tables.XML1.fields]\n"
    placeholder = tmp_path / "placeholder.toml"
    placeholder.write_text(source.replace(anchor, anchor + 'PP_DIEU_TRI = { const = "Điều trị nội khoa" }\n', 1),
                           encoding="utf-8")
    line = source.splitlines().index("[tables.XML1.fields]") + 2
    r = CliRunner().invoke(app, ["mapping", "check", "--source", vn_url, "--mapping", str(placeholder),
                                 "--sample", "2"])
    assert r.exit_code == 0, r.output  # a warning: the author decides, the check still passes
    assert r.output.split("\n1 warning(s):\n")[1].splitlines() == [
        f"  placeholder.toml:{line}: tables.XML1.fields.PP_DIEU_TRI: MAPPING.PLACEHOLDER: Trường PP_DIEU_TRI (bảng "
        "XML1) là nội dung lâm sàng nhưng cấu hình ánh xạ ghi hằng số 'Điều trị nội khoa': đó là giá trị tạm, không "
        "được gửi lên cổng giám định; lấy từ bệnh án trong HIS."]


def test_clinical_free_text_fields_are_fields_of_the_spec():
    from xml130.mapping.dry_run import clinical_text_fields
    from xml130.spec import load_spec

    names = {f.name: f.kind for v in load_spec().versions for t in v.tables.values() for f in t.fields}
    assert clinical_text_fields() and all(names.get(n) == "string" for n in clinical_text_fields())
