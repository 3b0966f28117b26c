"""From a HIS database to hồ sơ: the demo HIS on SQLite and on a real PostgreSQL, the mapping, the export."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from xml130.demo import demo_mapping, mapping_path
from xml130.demo.his import START, create_demo
from xml130.jobs.export import run_export
from xml130.mapping import MappingError, parse_mapping
from xml130.mapping.extract import Extractor, Selection
from xml130.parse import load_envelope
from xml130.validate import validate_path

DEMO = demo_mapping()  # the demo HIS built by these tests is read through its own mapping
N = 400  # covers every case of the demo HIS (the rarest repeats every 97 episodes)


def ma_lk(i: int) -> str:
    return f"79999{START:%y%m}{i:08d}"


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('his') / 'his.db'}"
    create_demo(url, N)
    return url


@pytest.fixture(scope="module")
def exported(sqlite_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    return out, run_export(sqlite_url, DEMO, out, Selection())


def hoso_of(out: Path, i: int):
    (h,) = load_envelope((out / f"{ma_lk(i)}.xml").read_bytes())
    return h


def expectations(url: str) -> dict[str, tuple[str, bool, str | None]]:
    with create_engine(url).connect() as conn:
        return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(text(
            "SELECT ma_lk, case_name, expect_valid, expect_code FROM demo_case"))}


def expectations_with_rules(url: str) -> dict[str, tuple]:
    with create_engine(url).connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(text(
            "SELECT ma_lk, case_name, expect_valid, expect_code, expect_rule FROM demo_case"))}


def test_demo_his_is_deterministic(tmp_path):
    dumps = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        create_demo(url, 60, seed=7)
        with create_engine(url).connect() as conn:
            dumps.append([conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all()
                          for t in ("patient", "encounter", "order_line", "insurance_card", "birth")])
    assert dumps[0] == dumps[1]


def test_export_writes_valid_envelopes_and_quarantines_exactly_the_bad_data(sqlite_url, exported):
    out, result = exported
    expected = expectations_with_rules(sqlite_url)
    assert result.counts["staged"] + result.counts["quarantined"] == N
    bad = {k for k, (_, ok, _, _) in expected.items() if not ok}
    broken = {k: rule for k, (_, _, _, rule) in expected.items() if rule}  # valid data that breaks a business rule
    assert len(bad) == 9 and len(broken) == 9 and not bad & set(broken)
    assert {q["ma_lk"] for q in result.quarantine} == bad | set(broken)
    for q in result.quarantine:
        case, _, code, rule = expected[q["ma_lk"]]
        if rule:  # the business rules run as in the nightly job: the error is the reason, warnings come along
            assert {r["code"] for r in q["reasons"] if r["severity"] == "error"} == {rule}
            continue
        where = {"name_too_long": [("XML1", "HO_TEN", 1)],  # the bad ICD code is also the examination's MA_BENH
                 "bad_icd": [("XML1", "MA_BENH_CHINH", 1), ("XML3", "MA_BENH", 1)]}[case]
        assert [(r["code"], r["table"], r["field"], r["row"]) for r in q["reasons"]] == [(code, *w) for w in where]
    assert json.loads((out / "quarantine.json").read_text(encoding="utf-8")) == result.quarantine
    files = sorted(out.glob("*.xml"))
    assert len(files) == N - len(bad) - len(broken) == result.counts["staged"]
    for f in files:  # what export writes passes the spec and every business rule
        assert [x for x in validate_path(f) if x.severity == "error"] == [], f.name


def _costs(h):
    return [(t, r.NGAY_YL, r.TYLE_TT_BH, r.MUC_HUONG, str(r.THANH_TIEN_BV), str(r.THANH_TIEN_BH), str(r.T_BNTT),
             str(r.T_BNCCT), str(r.T_BHTT)) for t in ("XML2", "XML3") for r in h.tables.get(t, ())]


def test_patients_without_a_card_pay_everything_and_carry_no_card(sqlite_url, exported):
    """Self-paying (38), VNeID only (54), a foreigner by passport (19): MA_DOITUONG_KCB 9, the card fields empty,
    TYLE_TT_BH and MUC_HUONG 0, the fund's amounts 0, T_BNTT the whole cost (docs/conformance.md)."""
    out, result = exported
    cases = {case for case, *_ in expectations(sqlite_url).values()}
    assert {"self_paying", "vneid_only", "foreigner", "card_mid_stay"} <= cases
    uninsured = [m for m, (case, _, _) in expectations(sqlite_url).items()
                 if case in ("self_paying", "vneid_only", "foreigner")]
    assert len(uninsured) == 55  # 35 self-paying, 12 VNeID only, 8 foreigners: 13.75 % of the 400 episodes
    assert not set(uninsured) & {q["ma_lk"] for q in result.quarantine}
    for m in uninsured:
        (h,) = load_envelope((out / f"{m}.xml").read_bytes())
        x = h.summary
        assert (x.MA_THE_BHYT, x.MA_DKBD, x.GT_THE_TU, x.GT_THE_DEN, x.NAM_NAM_LIEN_TUC) == (None,) * 5, m
        assert (x.MA_DOITUONG_KCB, x.T_TONGCHI_BH, x.T_BHTT, x.T_BNCCT) == ("9", 0, 0, 0), m
        assert x.T_BNTT == x.T_TONGCHI_BV > 0, m
    x = hoso_of(out, 38).summary
    assert (x.SO_CCCD, x.MA_QUOCTICH, x.MA_DOITUONG_KCB, str(x.T_TONGCHI_BV), str(x.T_BNTT)) == (
        "019756415962", "704", "9", "148330.50", "148330.50")
    assert _costs(hoso_of(out, 38)) == [
        ("XML2", "202611021141", 0, "0", "2350.50", "0.00", "2350.50", "0.00", "0.00"),
        ("XML2", "202611021141", 0, "0", "55200.00", "0.00", "55200.00", "0.00", "0.00"),
        ("XML2", "202611021141", 0, "0", "5880.00", "0.00", "5880.00", "0.00", "0.00"),
        ("XML3", "202611021101", 0, "0", "38700.00", "0.00", "38700.00", "0.00", "0.00"),
        ("XML3", "202611021116", 0, "0", "46200.00", "0.00", "46200.00", "0.00", "0.00")]
    x = hoso_of(out, 19).summary  # a foreigner: passport in SO_CCCD, nationality 276, address as declared
    assert (x.HO_TEN, x.SO_CCCD, x.MA_QUOCTICH, x.MA_DANTOC, str(x.T_TONGCHI_BV), str(x.T_BNTT)) == (
        "EMMA MÜLLER", "C00000019", "276", "55", "260653.50", "260653.50")
    assert x.DIA_CHI == "Khách sạn Ví Dụ, số 5 đường Lê Lợi, TP Hồ Chí Minh"
    assert hoso_of(out, 54).summary.SO_CCCD == "046267634320"  # identified by VNeID: the personal number


def test_a_card_that_turns_up_during_the_stay_pays_from_its_first_day(exported):
    """Episode 39 arrives without a card on 02/11 (11:03); a card valid from 03/11 turns up: the rows ordered on
    02/11 are the patient's, the bed-days, the infusion and the test from 03/11 the fund's (MUC_HUONG 100)."""
    out, _ = exported
    h = hoso_of(out, 39)
    x = h.summary
    assert (x.MA_THE_BHYT, x.MA_DKBD, x.GT_THE_TU, x.GT_THE_DEN, x.MA_DOITUONG_KCB) == (
        "TE1792966994315", "79001", "20261103", "20271231", "1.1")
    assert [str(v) for v in (x.T_TONGCHI_BV, x.T_TONGCHI_BH, x.T_BNTT, x.T_BNCCT, x.T_BHTT)] == [
        "1816800.00", "1132700.00", "684100.00", "0.00", "1132700.00"]
    assert [c for c in _costs(h) if c[5] != "0.00"] == [
        ("XML2", "202611030900", 100, "100", "11500.00", "11500.00", "0.00", "0.00", "11500.00"),
        ("XML3", "202611030800", 100, "100", "1075000.00", "1075000.00", "0.00", "0.00", "1075000.00"),
        ("XML3", "202611030830", 100, "100", "46200.00", "46200.00", "0.00", "0.00", "46200.00")]
    assert all(c[1] < "202611030000" and c[2:4] == (0, "0") for c in _costs(h) if c[5] == "0.00")
    assert [f for f in validate_path(out / f"{ma_lk(39)}.xml")] == []


def test_newborns_follow_the_standard(exported):
    out, _ = exported
    facility = "Bệnh viện Đa khoa Ví Dụ"
    for i, prefix in ((0, "Con bà "), (10, "Con ông "), (20, "Con người giám hộ "), (30, "Trẻ bị bỏ rơi tại ")):
        x1 = hoso_of(out, i).summary
        assert x1.HO_TEN.startswith(prefix), (i, x1.HO_TEN)
        assert re.fullmatch(r"TE179\d{10}", x1.MA_THE_BHYT) and x1.MA_DKBD == "79000"
        assert x1.GT_THE_TU == x1.NGAY_VAO[:8]  # the temporary card runs from the admission date
        assert x1.GT_THE_DEN == x1.NGAY_RA[:8]  # … to the discharge (QĐ 130 XML1 GT_THE_DEN, no card yet)
        assert x1.NGAY_SINH[8:] != "0000" or x1.NGAY_SINH.endswith("0000")  # hour and minute written as known
        assert x1.MA_LOAI_KCB == "03"
    assert hoso_of(out, 30).summary.HO_TEN == "Trẻ bị bỏ rơi tại " + facility
    assert hoso_of(out, 30).summary.DIA_CHI == "Số 1 đường Ví Dụ, TP Hồ Chí Minh"


def test_twins_two_cards_short_stay_and_emergency(exported):
    out, _ = exported
    twins = hoso_of(out, 5)
    assert twins.summary.CAN_NANG_CON == "2800.00;2650.00"
    assert [r.CAN_NANG_CON for r in twins.tables["XML9"]] == [Decimal("2800.00"), Decimal("2650.00")]
    assert all(re.fullmatch(r"TE179\d{10}", r.MA_THE_TAM) for r in twins.tables["XML9"])
    two = hoso_of(out, 7).summary
    lists = [getattr(two, f).split(";") for f in ("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN")]
    assert [len(x) for x in lists] == [2, 2, 2, 2]
    assert dt.datetime.strptime(lists[2][1], "%Y%m%d") == dt.datetime.strptime(lists[3][0], "%Y%m%d") + dt.timedelta(days=1)
    short = hoso_of(out, 9)
    assert short.summary.MA_LOAI_KCB == "09" and "XML8" not in short.tables
    assert hoso_of(out, 3).summary.MA_DOITUONG_KCB == "2"


def test_money_is_exact_and_totals_add_up(exported):
    out, _ = exported
    for i in (1, 5, 11, 21):
        h = hoso_of(out, i)
        rows = list(h.tables.get("XML2", ())) + list(h.tables.get("XML3", ()))
        for r in rows:
            price = r.DON_GIA if hasattr(r, "DON_GIA") else r.DON_GIA_BV
            assert r.THANH_TIEN_BV == (r.SO_LUONG * price).quantize(Decimal("0.01"))
        assert h.summary.T_TONGCHI_BV == sum(r.THANH_TIEN_BV for r in rows)
        assert h.summary.T_THUOC == sum(r.THANH_TIEN_BV for r in h.tables.get("XML2", ()))
        assert h.summary.T_BHTT + h.summary.T_BNCCT + h.summary.T_BNTT == h.summary.T_TONGCHI_BV


def test_postgresql_gives_byte_identical_files(pg_url, exported, tmp_path):
    out, result = exported
    create_demo(pg_url, N)
    pg = run_export(pg_url, DEMO, tmp_path, Selection())
    assert pg.quarantine == result.quarantine
    assert sorted(p.name for p in tmp_path.glob("*.xml")) == sorted(p.name for p in out.glob("*.xml"))
    for p in out.glob("*.xml"):
        assert (tmp_path / p.name).read_bytes() == p.read_bytes(), p.name


def test_rerun_and_batch_size_give_the_same_bytes(sqlite_url, exported, tmp_path):
    out, _ = exported
    run_export(sqlite_url, DEMO, tmp_path, Selection(ma_lk=tuple(ma_lk(i) for i in range(0, 60))),
               batch_size=7)
    for p in tmp_path.glob("*.xml"):
        assert p.read_bytes() == (out / p.name).read_bytes()


def test_selection_modes(sqlite_url):
    ex = Extractor(create_engine(sqlite_url), DEMO, batch_size=50)
    everything = [e.ma_lk for e in ex.extract(Selection())]
    assert len(everything) == N
    with create_engine(sqlite_url).connect() as conn:
        closed = {r[0]: r[1] for r in conn.execute(text("SELECT ma_lk, closed_at FROM encounter"))}
    closed = {k: (v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(v)) for k, v in closed.items()}
    mark = sorted(closed.values())[100]
    since = [e.ma_lk for e in ex.extract(Selection(since=mark))]
    assert set(since) == {k for k, v in closed.items() if v > mark} and len(since) == N - 101
    until = mark + dt.timedelta(hours=3)
    window = [e.ma_lk for e in ex.extract(Selection(since=mark, until=until))]
    assert set(window) == {k for k, v in closed.items() if mark < v <= until}
    picked = [e for e in ex.extract(Selection(ma_lk=(ma_lk(3), ma_lk(7), "79999NOPE")))]
    assert [e.ma_lk for e in picked] == [ma_lk(3), ma_lk(7), "79999NOPE"]
    assert [f.code for f in picked[2].findings] == ["EXPORT.NOT_FOUND"]
    assert ex.count(Selection(since=mark)) == N - 101


def _mapping_data():
    import tomllib


    return tomllib.loads(mapping_path().read_text(encoding="utf-8"))


def test_mapping_errors_are_caught_before_data_moves(sqlite_url):
    data = _mapping_data()
    data["tables"]["XML1"]["fields"]["HO_TEN_XX"] = "full_name"
    data["tables"]["XML2"]["fields"]["MA_KHOA"] = {"lookup": "nowhere", "column": "dept_local"}
    data["tables"]["XML3"]["fields"]["PHAM_VI"] = {"const": 1, "column": "x"}
    data["tables"]["XML4"]["rules"] = ["no_such_rule"]
    data["tables"]["XML5"]["types"] = {"noted_at": "timestamp"}
    with pytest.raises(MappingError) as info:
        parse_mapping(data)
    text_ = str(info.value)
    for piece in ("XML1 has no field HO_TEN_XX", "lookup 'nowhere' is not defined", "say exactly one of",
                  "unknown rule 'no_such_rule'", "unknown type 'timestamp'"):
        assert piece in text_, piece


def test_missing_column_is_caught_against_the_database(sqlite_url):
    data = _mapping_data()
    data["tables"]["XML1"]["fields"]["GHI_CHU"] = "remarks"
    data["tables"]["XML4"]["query"] = data["tables"]["XML4"]["query"].replace("lab_result r", "lab_results r")
    ex = Extractor(create_engine(sqlite_url), parse_mapping(data))
    with pytest.raises(MappingError) as info:
        ex.check()
    msg = str(info.value)
    assert "tables.XML1.fields.GHI_CHU: column 'remarks' is not returned by the query" in msg
    assert "tables.XML4: query fails" in msg


def test_unknown_local_code_sends_the_hoso_to_quarantine(sqlite_url):
    data = _mapping_data()
    data["lookups"]["departments"] = {"values": {"KB": "K01"}}  # every other department is unknown
    ex = Extractor(create_engine(sqlite_url), parse_mapping(data))
    items = {e.ma_lk: e for e in ex.extract(Selection(ma_lk=(ma_lk(1), ma_lk(2))))}
    inpatient, outpatient = items[ma_lk(1)], items[ma_lk(2)]  # episode 1 is in the NOI ward, 2 at KB
    assert inpatient.hoso is None
    assert {(f.code, f.table, f.field) for f in inpatient.findings} == {("MAPPING.LOOKUP", "XML2", "MA_KHOA"),
                                                                         ("MAPPING.LOOKUP", "XML3", "MA_KHOA")}
    assert outpatient.hoso is not None


def test_checkin_section_is_checked_before_data_moves(sqlite_url):
    data = _mapping_data()
    data["checkin"]["fields"]["TEN_DICH_VU"] = "service_title"
    with pytest.raises(MappingError) as info:
        Extractor(create_engine(sqlite_url), parse_mapping(data)).check()
    assert "checkin.fields.TEN_DICH_VU: column 'service_title' is not returned by the query" in str(info.value)
