"""Catalogues as data: `xml130 catalog import` (XLSX, CSV; the date and money forms of the portal's exports;
validity periods; idempotent re-import; bad rows reported, never dropped; unknown layouts refused),
`catalog list`, and `validate --catalog` on files."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from xml130.catalog import Catalog, kinds
from xml130.catalog.values import BadValue, parse_date, parse_money
from xml130.cli import app
from xml130.demo import scenarios as sc
from xml130.demo.catalog_synthetic import catalog_for, write_csv, write_xlsx
from xml130.models import build_hoso
from xml130.store.ledger import Ledger
from xml130.store.tables import approved_import, approved_item

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _catalogues():
    return catalog_for([build_hoso(sc.outpatient_drugs_labs()), build_hoso(sc.inpatient_surgery_beds())])


def _count(url, table=approved_item):
    with Ledger(url).engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


@pytest.mark.parametrize("value, expected", [
    (45962, dt.date(2025, 11, 1)), (45962.5, dt.date(2025, 11, 1)), ("45962", dt.date(2025, 11, 1)),
    ("20261102", dt.date(2026, 11, 2)), (20261102, dt.date(2026, 11, 2)), ("202611020730", dt.date(2026, 11, 2)),
    ("02/11/2026", dt.date(2026, 11, 2)), ("2/1/2026", dt.date(2026, 1, 2)), (dt.datetime(2026, 1, 2, 8), dt.date(2026, 1, 2)),
    (None, None), ("  ", None),
])
def test_dates_in_every_form_the_exports_use(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["31/02/2026", "2026-11-02", "20261340", "hôm nay", 0])
def test_impossible_or_unknown_dates_are_refused(value):
    with pytest.raises(BadValue):
        parse_date(value)


@pytest.mark.parametrize("value, expected", [
    (1250000, Decimal("1250000")), (650.75, Decimal("650.75")), ("1.250.000", Decimal("1250000")),
    ("1,250,000", Decimal("1250000")), ("1 250 000", Decimal("1250000")), ("1.250.000,50", Decimal("1250000.50")),
    ("1,250,000.50", Decimal("1250000.50")), ("650,75", Decimal("650.75")), ("27600", Decimal("27600")),
    (None, None),
])
def test_money_with_or_without_separators(value, expected):
    assert parse_money(value) == expected


@pytest.mark.parametrize("value", ["12.34.5", "1,25,000", "abc", "1.250,000.5"])
def test_malformed_money_is_refused(value):
    with pytest.raises(BadValue):
        parse_money(value)


def test_import_xlsx_of_the_six_kinds_then_reimport_changes_nothing(tmp_path):
    cats = _catalogues()
    cats["drug"][0]["TU_NGAY"] = 43831  # Excel serial of 01/01/2020
    cats["staff"][0]["TU_NGAY"] = "01/01/2020"
    cats["service"][0]["DON_GIA"] = "65.400"
    cats["equipment"] = [{"MA_MAY": "XQ.1.79999.0001", "TEN_TB": "Máy X quang", "TU_NGAY": dt.date(2024, 1, 1),
                          "DEN_NGAY": "31/12/2025"}]
    book = write_xlsx(tmp_path / "danh_muc.xlsx", cats)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    r = run("catalog", "import", book, "--ledger", url)
    assert r.exit_code == 0, r.output
    for kind, rows in cats.items():
        assert f"danh_muc.xlsx / {kind}: {kind}, {len(rows)} dòng hợp lệ, {len(rows)} mục mới, 0 dòng lỗi" in r.output
    total = sum(len(v) for v in cats.values())
    assert _count(url) == total and set(kinds()) == set(cats)

    catalog = Catalog.from_ledger(url)
    (drug,) = catalog.on("drug", cats["drug"][0]["MA_THUOC"], dt.date(2026, 11, 2))[:1]
    assert drug.valid_from == dt.date(2020, 1, 1) and drug.valid_to is None
    assert catalog.on("service", cats["service"][0]["MA_TUONG_DUONG"], None)[0].get("DON_GIA") == "65400"
    (machine,) = catalog.entries("equipment", "XQ.1.79999.0001")
    assert (machine.valid_from, machine.valid_to) == (dt.date(2024, 1, 1), dt.date(2025, 12, 31))

    again = run("catalog", "import", book, "--ledger", url)
    assert again.exit_code == 0 and again.output.count("không đổi (đã nhập)") == len(cats)
    assert _count(url) == total and _count(url, approved_import) == len(cats)


def test_a_folder_stands_for_its_xlsx_and_csv_files_and_an_empty_one_is_refused(tmp_path):
    """What docs/operations.md's catalogue step gives: the folder the portal's exports were saved to, whichever of the
    two forms it holds (a shell pattern matching no file would be passed as it is and refused)."""
    cats = _catalogues()
    folder = tmp_path / "catalogues"
    folder.mkdir()
    write_xlsx(folder / "danh_muc.xlsx", {k: v for k, v in cats.items() if k != "service"})
    write_csv(folder / "dvkt.csv", "service", cats["service"])
    (folder / "ghi_chu.txt").write_text("not a catalogue", encoding="utf-8")
    (folder / "cu").mkdir()  # a folder below is not read
    write_csv(folder / "cu" / "dvkt_cu.csv", "service", cats["service"][:1])
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    r = run("catalog", "import", folder, "--ledger", url)
    assert r.exit_code == 0, r.output
    assert [line.split(":")[0] for line in r.output.splitlines()] == [
        f"danh_muc.xlsx / {k}" for k in cats if k != "service"] + ["dvkt.csv / dvkt"]
    assert _count(url) == sum(len(v) for v in cats.values()) and _count(url, approved_import) == len(cats)

    empty = tmp_path / "empty"
    (empty / "cu").mkdir(parents=True)
    r = run("catalog", "import", empty, "--ledger", url)
    assert r.exit_code == 2 and f"{empty}: no .xlsx or .csv file in this folder" in r.stderr, r.stderr


def test_a_new_file_adds_a_period_and_list_shows_what_is_valid_on_a_day(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    service = _catalogues()["service"]
    first = [dict(r, DENNGAY="20261130") for r in service]
    assert run("catalog", "import", write_csv(tmp_path / "dvkt_2026.csv", "service", first), "--ledger", url).exit_code == 0
    repriced = [dict(r, TUNGAY="01/12/2026", DON_GIA=r["DON_GIA"] + 1000) for r in service]
    r = run("catalog", "import", write_csv(tmp_path / "dvkt_12_2026.csv", "service", repriced), "--ledger", url)
    assert r.exit_code == 0 and f"{len(service)} mục mới" in r.output
    code = service[0]["MA_TUONG_DUONG"]
    periods = Catalog.from_ledger(url).entries("service", code)
    assert [(e.valid_from, e.valid_to) for e in periods] == [(dt.date(2020, 1, 1), dt.date(2026, 11, 30)),
                                                            (dt.date(2026, 12, 1), None)]
    listed = json.loads(run("catalog", "list", "--kind", "service", "--on", "2026-12-05", "--ledger", url,
                            "-f", "json").stdout)
    assert len(listed) == len(service)
    assert {"kind": "service", "code": code, "name": service[0]["TEN_DVKT_PHEDUYET"], "valid_from": "2026-12-01",
            "valid_to": None} in listed
    text = run("catalog", "list", "--kind", "service", "--on", "2026-11-05", "--ledger", url).output
    assert f"{code}" in text and "2020-01-01 → 2026-11-30" in text and f"{len(service)} mục." in text
    assert run("catalog", "list", "--kind", "drugs", "--ledger", url).exit_code == 2


def test_bad_rows_are_reported_with_sheet_row_and_reason_and_kept_in_the_ledger(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    staff = _catalogues()["staff"]
    staff[1]["TU_NGAY"] = "31/02/2026"
    staff[2]["MACCHN"] = None
    staff[3]["DEN_NGAY"] = "20190101"
    r = run("catalog", "import", write_xlsx(tmp_path / "nv.xlsx", {"staff": staff}), "--ledger", url)
    assert r.exit_code == 1
    assert "DÒNG LỖI nv.xlsx / staff, dòng 3: TU_NGAY: '31/02/2026' không phải ngày có thật" in r.output
    assert "DÒNG LỖI nv.xlsx / staff, dòng 4: MACCHN trống" in r.output
    assert "DÒNG LỖI nv.xlsx / staff, dòng 5: hết hiệu lực (01/01/2019) trước khi có hiệu lực (01/01/2020)" in r.output
    assert _count(url) == len(staff) - 3
    with Ledger(url).engine.connect() as conn:
        kept = json.loads(conn.execute(select(approved_import.c.bad_rows)).scalar())
    assert [(b["sheet"], b["row"]) for b in kept] == [("staff", 3), ("staff", 4), ("staff", 5)]


def test_unknown_header_layout_is_refused_with_the_expected_headers(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    path = tmp_path / "khoa.csv"
    headers = [h for h in kinds()["department"].headers if h != "GIUONG_PD"] + ["GHI_CHU"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([headers, ["1"] * len(headers)])
    good = write_csv(tmp_path / "dvkt.csv", "service", _catalogues()["service"])
    r = run("catalog", "import", good, path, "--ledger", url)
    assert r.exit_code == 2
    assert "khoa.csv / khoa: dòng tiêu đề không khớp danh mục nào. Gần nhất là danh mục department" in r.stderr
    assert "cần đúng các cột: " + ", ".join(kinds()["department"].headers) in r.stderr
    assert "Thiếu: GIUONG_PD. Thừa: GHI_CHU." in r.stderr
    assert _count(url) == 0  # nothing of the call is written


def test_validate_with_catalog_applies_the_catalogue_rules(tmp_path, fixtures_dir):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    cats = _catalogues()
    cats["staff"] = [r for r in cats["staff"] if r["MACCHN"] != "0100000003"]  # unregistered practitioner
    assert run("catalog", "import", write_xlsx(tmp_path / "dm.xlsx", cats), "--ledger", url).exit_code == 0
    file = fixtures_dir / "valid" / "outpatient_drugs_labs.xml"
    assert run("validate", file).exit_code == 0
    r = run("validate", file, "--catalog", url, "-f", "json")
    assert r.exit_code == 1
    found = {(f["code"], f["table"], f["field"], f["row"]) for f in json.loads(r.stdout)}
    assert found == {("R.CAT.STAFF.UNKNOWN", "XML2", "MA_BAC_SI", 1), ("R.CAT.STAFF.UNKNOWN", "XML2", "MA_BAC_SI", 2),
                     *{("R.CAT.STAFF.UNKNOWN", "XML4", "MA_BS_DOC_KQ", n) for n in range(1, 5)}}
    assert run("validate", file).exit_code == 0  # the catalogue applied to that call only
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    assert run("validate", file, "--catalog", empty).exit_code == 2


def test_unreadable_files_are_refused_without_a_traceback(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    fake = tmp_path / "danh_muc.xlsx"
    fake.write_bytes(b"not a zip")
    latin = tmp_path / "dvkt.csv"
    latin.write_bytes(",".join(kinds()["service"].headers).encode() + "\n1,02.1896,Khám\n".encode("cp1258"))
    for path, reason in ((fake, "không đọc được tệp XLSX"), (latin, "tệp CSV không phải UTF-8"),
                         (tmp_path / "missing.csv", "missing.csv")):
        r = run("catalog", "import", path, "--ledger", url)
        assert r.exit_code == 2 and reason in r.stderr, r.stderr
    assert _count(url) == 0
