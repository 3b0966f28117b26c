"""The standard as data: base tables, amendments, versions by date."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from importlib import resources
from pathlib import Path

import pytest

from xml130.spec import Field, SpecError, build_spec, load_spec

STANDARD = Path(__file__).resolve().parents[2] / "shared" / "standard" / "qd4750"


def test_versions_side_by_side(spec):
    assert [v.id for v in spec.versions] == ["4750", "3176", "dvhc2025", "1931"]
    assert [v.effective_from for v in spec.versions] == [dt.date(2024, 1, 1), dt.date(2025, 1, 1), dt.date(2025, 7, 1),
                                                         dt.date(2026, 7, 1)]
    assert spec.versions[-1].decisions == ("130", "4750", "3176", "dvhc2025", "1931")


@pytest.mark.parametrize(
    "when, expected",
    [("202406030800", "4750"), ("20241231", "4750"), ("20250101", "3176"), ("202506302359", "3176"),
     ("202507010000", "dvhc2025"), ("202606302359", "dvhc2025"),
     ("202607010000", "1931"), (dt.date(2026, 11, 2), "1931"), (None, "1931"), ("garbage", "1931")],
)
def test_version_chosen_by_episode_date(spec, when, expected):
    assert spec.for_date(when).id == expected


def test_all_sixteen_tables_with_element_names(spec):
    latest = spec.latest
    assert list(latest.tables) == [f"XML{i}" for i in range(16)]
    assert latest["XML0"].root == "CHI_TIEU_TRANG_THAI_KCB" and latest["XML0"].row == "TRANG_THAI_KCB"
    assert latest["XML1"].root == latest["XML1"].row == "TONG_HOP" and not latest["XML1"].is_list
    assert latest["XML2"].list == "DSACH_CHI_TIET_THUOC"
    assert latest["XML9"].row == "DU_LIEU_GIAY_CHUNG_SINH"
    assert len({t.root for t in latest}) == 16  # roots identify tables


# Field counts of the QĐ 4750 appendix (shared/standard/qd4750/*.csv), 479 in all.
APPENDIX_COUNTS = {"XML0": 26, "XML1": 65, "XML2": 38, "XML3": 47, "XML4": 12, "XML5": 9, "XML6": 47, "XML7": 26,
                   "XML8": 22, "XML9": 35, "XML10": 13, "XML11": 23, "XML12": 35, "XML13": 39, "XML14": 22,
                   "XML15": 20}


def test_base_holds_every_field_of_the_appendix_in_order(spec):
    base = spec.versions[0]
    assert {tid: len(t.fields) for tid, t in base.tables.items()} == APPENDIX_COUNTS
    assert sum(APPENDIX_COUNTS.values()) == 479
    if STANDARD.is_dir():  # where the reference notes are checked out beside the repo, compare names too
        for tid in base.tables:
            stem = "checkin" if tid == "XML0" else tid.lower()
            with (STANDARD / f"{stem}.csv").open(encoding="utf-8") as fh:
                appendix = [r["field"] for r in csv.DictReader(fh)]
            assert list(base[tid].names) == appendix, tid


def test_4750_changes_applied_in_base(spec):
    x1 = spec.versions[0]["XML1"]
    assert x1.field("MA_DOITUONG_KCB").size == 4  # "Tăng kích thước tối đa lên 4 ký tự"
    assert x1.field("MA_LOAI_KCB").kind == "code" and x1.field("MA_LOAI_KCB").pattern == r"\d{2}"
    assert x1.field("SO_CCCD").kind == "code"  # number → string
    assert spec.versions[0]["XML2"].field("MA_KHOA").size == 50
    assert spec.versions[0]["XML12"].field("DANG_HUONG_CHE_DO").size == 10
    assert x1.field("MA_LK").is_required and x1.field("MA_THE_BHYT").sep == ";"


def test_3176_adds_fields_after_their_neighbours(spec):
    old, new = spec.get("4750"), spec.get("3176")
    assert "NHOM_MAU" not in old["XML1"].names and "NGAY_TH_YL" not in old["XML2"].names
    names = new["XML1"].names
    assert names[names.index("GIOI_TINH") + 1] == "NHOM_MAU"
    names2 = new["XML2"].names
    assert names2[names2.index("NGAY_YL") + 1] == "NGAY_TH_YL"
    f = new["XML1"].field("NHOM_MAU")
    assert (f.source, f.since) == ("3176", dt.date(2025, 1, 1))


def test_1931_muc_huong_four_characters(spec):
    assert spec.get("3176")["XML2"].field("MUC_HUONG").kind == "integer"
    for tid in ("XML2", "XML3"):
        f = spec.get("1931")[tid].field("MUC_HUONG")
        assert (f.kind, f.size, f.source) == ("code", 4, "1931")


def test_kind_grammar():
    f = Field("X", "decimal", size=15, scale=2)
    assert f.compiled.fullmatch("12.34") and not f.compiled.fullmatch("12.345") and not f.compiled.fullmatch("1,5")
    multi = Field("GT_THE_TU", "date", sep=";")
    assert multi.compiled.fullmatch("20260101;20270101") and not multi.compiled.fullmatch("20260101;")
    with pytest.raises(SpecError):
        Field("X", "money")


def _copy_data(tmp_path: Path) -> Path:
    src = resources.files("xml130.spec") / "data"
    dst = tmp_path / "data"
    shutil.copytree(str(src), dst)
    return dst


def test_a_new_amendment_is_a_data_change(tmp_path):
    data = _copy_data(tmp_path)
    (data / "amendments" / "qd9999.toml").write_text(
        'id = "9999"\ntitle = "QĐ 9999 (test)"\neffective_from = 2027-01-01\n'
        '[[change]]\nop = "add"\ntable = "XML5"\nafter = "HOI_CHAN"\n'
        'field = { name = "MA_HOI_CHAN", kind = "code", size = 20, required = "no",'
        ' description = "Mã hội chẩn" }\n'
        '[[change]]\nop = "set"\ntable = "XML1"\nfield = "HO_TEN"\nset = { size = 300 }\n'
        '[[change]]\nop = "remove"\ntable = "XML1"\nfield = "MA_KHUVUC"\n',
        encoding="utf-8",
    )
    versions = data / "versions.toml"
    versions.write_text(versions.read_text(encoding="utf-8").replace('"qd1931"]', '"qd1931", "qd9999"]'), encoding="utf-8")
    spec = build_spec(data)
    v = spec.for_date("20270105")
    assert v.id == "9999"
    names = v["XML5"].names
    assert names[names.index("HOI_CHAN") + 1] == "MA_HOI_CHAN"
    assert v["XML5"].field("MA_HOI_CHAN").description == "Mã hội chẩn"
    assert v["XML1"].field("HO_TEN").size == 300 and "MA_KHUVUC" not in v["XML1"].names
    assert spec.for_date("20261231")["XML1"].field("HO_TEN").size == 255  # older versions unchanged


def test_bad_amendment_is_refused(tmp_path):
    data = _copy_data(tmp_path)
    (data / "amendments" / "qd3176.toml").write_text(
        'id = "3176"\ntitle = "x"\neffective_from = 2025-01-01\n'
        '[[change]]\nop = "set"\ntable = "XML1"\nfield = "NO_SUCH_FIELD"\nset = { size = 1 }\n', encoding="utf-8")
    with pytest.raises(SpecError, match="NO_SUCH_FIELD"):
        build_spec(data)


def test_every_field_of_every_version_has_a_description():
    for version in load_spec().versions:
        for table in version:
            for f in table.fields:
                assert len(f.description) >= 3, f"{version.id} {table.id}.{f.name}"
    v = load_spec().latest
    assert v["XML1"].field("MA_KHOA").description == "Mã khoa"
    assert v["XML2"].field("MA_KHOA").description == "Mã khoa chỉ định thuốc"  # a table's own wording first
    assert v["XML12"].field("HO_TEN").description == "Họ và tên người được giám định"
    assert v["XML2"].field("NGAY_TH_YL").description == "Thời điểm thực hiện y lệnh (yyyyMMddHHmm)"  # 3176's field


def test_a_field_without_description_or_a_misspelt_description_is_refused(tmp_path):
    data = _copy_data(tmp_path)
    (data / "amendments" / "qd3176.toml").write_text(
        'id = "3176"\ntitle = "x"\neffective_from = 2025-01-01\n'
        '[[change]]\nop = "add"\ntable = "XML5"\nfield = { name = "MA_MOI", kind = "code", size = 5 }\n',
        encoding="utf-8")
    with pytest.raises(SpecError, match=r"XML5\.MA_MOI: no description"):
        build_spec(data)
    data = _copy_data(tmp_path / "2")
    texts = data / "descriptions.toml"
    texts.write_text(texts.read_text(encoding="utf-8") + '\n[XML4]\nMA_KHOAA = "x"\n', encoding="utf-8")
    with pytest.raises(SpecError, match=r"\[XML4\] describes no such field \['MA_KHOAA'\]"):
        build_spec(data)
