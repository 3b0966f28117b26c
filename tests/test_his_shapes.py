"""The mapping language on two HIS shapes and three engines: the demo HIS and the Vietnamese-named HIS (text keys,
text dates in several formats, integer money, text quantities, 'Nam'/'Nữ') export the same bytes from SQLite,
PostgreSQL and MariaDB, and every file validates with the business rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from xml130.demo import demo_mapping, mapping_path
from xml130.demo.his import create_demo
from xml130.demo.his_vn import create_vn_his, ma_lk
from xml130.jobs.export import run_export
from xml130.mapping import load_mapping
from xml130.mapping.extract import Selection
from xml130.parse import load_envelope
from xml130.validate import validate_path

DEMO = demo_mapping()  # the demo HIS built by these tests is read through its own mapping

VN_MAPPING = mapping_path("vn_his.toml")
N = 40


def _export(url: str, mapping, out: Path):
    return run_export(url, mapping, out, Selection())


@pytest.fixture(scope="module")
def vn_sqlite(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('vn') / 'vn.db'}"
    create_vn_his(url, N)
    out = tmp_path_factory.mktemp("vn_out")
    return url, out, _export(url, load_mapping(VN_MAPPING), out)


def test_vn_shape_exports_valid_files_with_no_sql_cast(vn_sqlite):
    _, out, result = vn_sqlite
    assert result.quarantine == [] and result.counts["staged"] == N
    m = load_mapping(VN_MAPPING)
    queries = [m.episodes_query, *[t.query for t in m.tables.values()],
               *[c.query for t in m.tables.values() for c in t.collections.values()]]
    assert not [q for q in queries if any(w in q.upper() for w in ("CAST(", "::", "TO_TIMESTAMP", "STR_TO_DATE"))]
    for p in sorted(out.glob("*.xml")):
        assert validate_path(p) == [], p.name  # XSD, models and every business rule


def _hoso(out: Path, i: int):
    (h,) = load_envelope((out / f"{ma_lk(i)}.xml").read_bytes())
    return h


def test_vn_shape_values(vn_sqlite):
    url, out, _ = vn_sqlite
    with create_engine(url).connect() as conn:
        mother = conn.execute(text("SELECT ho_ten, dia_chi FROM benh_nhan WHERE ma_bn = 'BN-000002'")).one()
        sexes = dict(conn.execute(text("SELECT lk.ma_lk, bn.gioi_tinh FROM luot_kham lk "
                                       "JOIN benh_nhan bn ON bn.ma_bn = lk.ma_bn")).all())
        born = conn.execute(text("SELECT ngay_sinh FROM benh_nhan WHERE ma_bn = 'BN-000003'")).scalar()
        half = conn.execute(text("SELECT so_vao_vien, thu_tu, don_gia FROM chi_dinh_thuoc WHERE so_luong = '0,5' "
                                 "ORDER BY so_vao_vien, thu_tu")).first()
    baby = _hoso(out, 3).summary  # no name of its own; the mother is patient BN-000002
    assert baby.HO_TEN == "Con bà " + mother[0] and baby.DIA_CHI == mother[1]
    d, m, rest = born.split("/")  # 'dd/mm/yyyy hh:mm' text → yyyyMMddHHmm with the time of birth
    assert baby.NGAY_SINH == rest[:4] + m + d + rest[5:7] + rest[8:10]
    assert baby.MA_THE_BHYT.startswith("TE179") and baby.MA_DKBD == "79000"  # the HIS holds the number only:
    assert (baby.GT_THE_TU, baby.GT_THE_DEN) == (baby.NGAY_VAO[:8], baby.NGAY_RA[:8])  # derived from the visit
    two = _hoso(out, 5).summary
    assert len(two.MA_THE_BHYT.split(";")) == 2 and len(two.GT_THE_TU.split(";")) == 2
    assert _hoso(out, 7).summary.MA_LOAI_KCB == "09" and _hoso(out, 1).summary.MA_LOAI_KCB == "01"
    assert {_hoso(out, i).summary.GIOI_TINH for i in range(1, 11)} == {1, 2}
    assert all(_hoso(out, i).summary.GIOI_TINH == {"Nam": 1, "Nữ": 2}[sexes[ma_lk(i)]] for i in range(1, N + 1))
    assert _hoso(out, 3).summary.MA_KHOA == "K48"  # a lookup inside a collection is applied
    drug = _hoso(out, int(half[0][-5:])).tables["XML2"][half[1] - 1]  # text quantity '0,5', integer đồng
    assert (str(drug.SO_LUONG), str(drug.DON_GIA)) == ("0.500", f"{half[2]}.000")

def test_vn_shape_patients_without_a_card(vn_sqlite):
    """Episodes 8, 18, 28, 38 (self-paying) and 9, 29 (foreigners by passport): 6 of 40, doi_tuong 9, no card row.
    The files say so as the standard does (docs/conformance.md, "A visit without a card")."""
    url, out, _ = vn_sqlite
    with create_engine(url).connect() as conn:
        nine = sorted(conn.execute(text("SELECT ma_lk FROM luot_kham WHERE doi_tuong = '9'")).scalars())
    assert nine == [ma_lk(i) for i in (8, 9, 18, 28, 29, 38)]
    for m in nine:
        x = _hoso(out, int(m[-5:])).summary
        assert (x.MA_THE_BHYT, x.MA_DKBD, x.GT_THE_TU, x.GT_THE_DEN, x.MA_DOITUONG_KCB) == (None,) * 4 + ("9",)
        assert (x.T_TONGCHI_BH, x.T_BHTT, x.T_BNCCT, x.T_BNTT) == (0, 0, 0, x.T_TONGCHI_BV)
    x = _hoso(out, 9).summary
    assert (x.HO_TEN, x.SO_CCCD, x.MA_QUOCTICH, x.MA_DANTOC, str(x.T_TONGCHI_BV)) == (
        "TANAKA HIROSHI", "TK0000009", "392", "55", "103380.00")
    h = _hoso(out, 8)
    assert [(r.TYLE_TT_BH, r.MUC_HUONG, str(r.THANH_TIEN_BV), str(r.THANH_TIEN_BH), str(r.T_BNTT))
            for t in ("XML2", "XML3") for r in h.tables[t]] == [
        (0, "0", "600.00", "0.00", "600.00"), (0, "0", "7200.00", "0.00", "7200.00"),
        (0, "0", "600.00", "0.00", "600.00"), (0, "0", "38700.00", "0.00", "38700.00"),
        (0, "0", "46200.00", "0.00", "46200.00")]
    assert [r.TYLE_TT_DV for r in h.tables["XML3"]] == [100, 100]  # derived: the HIS has no such column


def test_vn_shape_is_byte_identical_on_postgresql_and_mariadb(vn_sqlite, pg_url, mariadb_url, tmp_path):
    _, out, result = vn_sqlite
    for name, url in (("postgresql", pg_url), ("mariadb", mariadb_url)):
        create_vn_his(url, N)
        got = _export(url, load_mapping(VN_MAPPING), tmp_path / name)
        assert got.quarantine == [] and got.counts["staged"] == N, name
        assert sorted(p.name for p in (tmp_path / name).glob("*.xml")) == sorted(p.name for p in out.glob("*.xml"))
        for p in out.glob("*.xml"):
            assert (tmp_path / name / p.name).read_bytes() == p.read_bytes(), (name, p.name)


def test_demo_his_is_byte_identical_on_mariadb(mariadb_url, tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'demo.db'}"
    create_demo(sqlite, 120)
    create_demo(mariadb_url, 120)
    a = _export(sqlite, DEMO, tmp_path / "sqlite")
    b = _export(mariadb_url, DEMO, tmp_path / "mariadb")
    assert b.quarantine == a.quarantine  # bad data 13, 17, 106, 110; expired cards 12, 57, 102
    assert len(a.quarantine) == 7 and a.counts["staged"] == b.counts["staged"] == 113
    assert sorted(p.name for p in (tmp_path / "mariadb").glob("*.xml")) == \
        sorted(p.name for p in (tmp_path / "sqlite").glob("*.xml"))
    for p in (tmp_path / "sqlite").glob("*.xml"):
        assert (tmp_path / "mariadb" / p.name).read_bytes() == p.read_bytes(), p.name
