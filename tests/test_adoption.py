"""The VNeID adoption report: counts checked against an independent computation from the raw HIS tables, exact
semantics on a hand-made week, the XLSX/CSV/HTML files, the command, the flow and the schedule."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from xml130.adoption import Period, build_report
from xml130.adoption.job import run_adoption_report
from xml130.demo import demo_mapping, mapping_path
from xml130.demo.his import create_demo
from xml130.mapping import MappingError, parse_mapping

DEMO = demo_mapping()  # the demo HIS built by these tests is read through its own mapping
DEMO_MAPPING = str(mapping_path())

WEEK = "2026-W47"  # the demo spread one episode an hour from Monday 2 November: W45, W46, W47 and part of W48


@pytest.fixture(scope="module")
def his(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("adoption") / "his.db"
    create_demo(f"sqlite:///{path}", 600, minutes_between=60)
    return str(path)


# --- an independent computation, straight from the tables ---------------------------------------------------------
def _pct(part: int, whole: int) -> float | None:
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def expected(path: str, start: dt.datetime, end: dt.datetime) -> dict[str, dict]:
    """Per department (and "" = hospital): examined, eligible, books, books_eligible, computed with sqlite3 and
    plain loops from examination, reception, encounter_card and insurance_card."""
    con = sqlite3.connect(path)
    rows = con.execute("""
        SELECT x.id, x.examined_at, d.local_code, p.code, r.level2_identity, r.health_book, c.valid_from, c.valid_to
        FROM examination x JOIN department d ON d.id = x.department_id
        JOIN encounter e ON e.id = x.encounter_id JOIN patient p ON p.id = e.patient_id
        LEFT JOIN reception r ON r.encounter_id = e.id
        LEFT JOIN encounter_card ec ON ec.encounter_id = e.id AND ec.seq = 1
        LEFT JOIN insurance_card c ON c.id = ec.card_id""").fetchall()
    con.close()
    last: dict[tuple[str, str], tuple] = {}
    for xid, at, dept, patient, level2, book, vfrom, vto in rows:
        when = dt.datetime.fromisoformat(at)
        if not (start <= when < end):
            continue
        day = when.date().isoformat()
        valid = vfrom is not None and vfrom <= day and (vto is None or day <= vto)
        fact = (when, xid, bool(level2) and valid, bool(book))
        for key in ((dept, patient), ("", patient)):
            if key not in last or last[key][:2] < fact[:2]:
                last[key] = fact
    out: dict[str, dict] = defaultdict(lambda: {"examined": 0, "eligible": 0, "books": 0, "books_eligible": 0})
    for (dept, _), (_, _, eligible, book) in last.items():
        o = out[dept]
        o["examined"] += 1
        o["eligible"] += eligible
        o["books"] += book
        o["books_eligible"] += book and eligible
    return dict(out)


def test_week_counts_match_an_independent_computation(his):
    period = Period.parse(WEEK)
    report = build_report(f"sqlite:///{his}", period, mapping=DEMO)
    want = expected(his, period.start, period.end)
    before = expected(his, period.previous().start, period.previous().end)
    got = {d.code: d for d in report.departments}
    assert set(got) == set(want) - {""} == {"KB", "CC", "NOI", "NGOAI", "SAN", "NHI", "TNHIEM"}
    for code, w in want.items():
        row = got[code] if code else report.total
        c = row.counts
        assert (c.examined, c.eligible, c.books, c.books_eligible) == (
            w["examined"], w["eligible"], w["books"], w["books_eligible"]), code
        d = row.as_dict()
        assert d["rate_all_pct"] == _pct(w["books"], w["examined"])
        assert d["rate_eligible_pct"] == _pct(w["books_eligible"], w["eligible"])
        assert d["previous_rate_all_pct"] == _pct(before[code]["books"], before[code]["examined"])
        assert d["change_pp"] == float((Decimal(w["books"]) * 100 / w["examined"]
                                        - Decimal(before[code]["books"]) * 100 / before[code]["examined"]
                                        ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    # a patient examined in two departments counts in both and once in the hospital: the total is smaller
    assert report.total.counts.examined < sum(d.counts.examined for d in report.departments)
    # ranks: by the exact rate, highest first, equal rates share a rank (competition ranking)
    rates = {code: Decimal(w["books"]) / w["examined"] for code, w in want.items() if code}
    for code, row in got.items():
        assert row.rank == 1 + sum(r > rates[code] for r in rates.values()), code
    assert [d.rank for d in report.departments] == sorted(d.rank for d in report.departments)
    # the drill-down: one row per (department, patient), and each count is a count of its rows
    for code, row in got.items():
        mine = [f for f in report.patients if f.department == code]
        assert len(mine) == row.counts.examined
        assert sum(f.eligible for f in mine) == row.counts.eligible
        assert sum(f.health_book for f in mine) == row.counts.books
    # the trend: the weeks with data, oldest first, ending with the report's week
    assert [t.period.label for t in report.trend] == ["2026-W45", "2026-W46", "2026-W47"]
    assert report.trend[-1].total.books == want[""]["books"]
    assert report.trend[-2].total.examined == before[""]["examined"]
    assert report.warnings == []


def test_staff_survey_matches_the_roster(his):
    report = build_report(f"sqlite:///{his}", Period.parse(WEEK), mapping=DEMO)
    con = sqlite3.connect(his)
    rows = con.execute("""SELECT d.local_code, s.level2_identity, s.level2_missing_reason, s.health_book,
                          s.card_integrated FROM staff s JOIN department d ON d.id = s.department_id
                          WHERE s.active = 1""").fetchall()
    inactive = con.execute("SELECT count(*) FROM staff WHERE active = 0").fetchone()[0]
    con.close()
    assert inactive == 1  # someone who left KB: not counted
    by = {s.code: s for s in report.staff}
    for code in {r[0] for r in rows}:
        mine = [r for r in rows if r[0] == code]
        s = by[code]
        assert (s.total, s.level2, s.books, s.cards) == (len(mine), sum(r[1] for r in mine),
                                                         sum(r[3] for r in mine), sum(r[4] for r in mine))
        assert s.level2_missing == len(mine) - s.level2
        assert sum(s.level2_reasons.values()) == s.level2_missing
        assert s.level2_reasons == {reason: sum(1 for r in mine if not r[1] and r[2] == reason)
                                    for reason in {r[2] for r in mine if not r[1]}}
    assert report.staff_total.total == len(rows) == 8 + 70 - 1  # 8 doctors, 70 others, 1 left


# --- exact semantics on a hand-made week ----------------------------------------------------------------------
@pytest.fixture()
def small(tmp_path) -> str:
    """Six visits of W45 whose examinations and reception records are replaced by hand."""
    url = f"sqlite:///{tmp_path / 'small.db'}"
    engine = create_demo(url, 6, minutes_between=24 * 60)
    mon = dt.datetime(2026, 11, 2)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM examination"))
        conn.execute(text("DELETE FROM reception"))
        ids = {r.local_code: r.id for r in conn.execute(text("SELECT id, local_code FROM department"))}
        # every card valid this week, but encounter 6's (expired), every patient the same level-2 yes
        conn.execute(text("UPDATE insurance_card SET valid_from = '2026-01-01', valid_to = '2026-12-31'"))
        conn.execute(text("UPDATE insurance_card SET valid_to = '2026-11-01' WHERE id = (SELECT card_id FROM "
                          "encounter_card WHERE encounter_id = 6 AND seq = 1)"))

        def exam(eid: int, dept: str, at: dt.datetime) -> None:
            conn.execute(text("INSERT INTO examination (encounter_id, department_id, examined_at, doctor_id) "
                              "VALUES (:e, :d, :at, 1)"), {"e": eid, "d": ids[dept], "at": at})

        def rec(eid: int, level2: bool, book: bool) -> None:
            conn.execute(text("INSERT INTO reception (encounter_id, received_at, identified_by, level2_identity, "
                              "health_book) VALUES (:e, :at, 'chip_card', :l, :b)"),
                         {"e": eid, "at": mon, "l": level2, "b": book})

        exam(1, "KB", mon + dt.timedelta(hours=8))                   # KB and NOI, with a book
        exam(1, "NOI", mon + dt.timedelta(hours=9))
        rec(1, True, True)
        exam(2, "KB", mon + dt.timedelta(days=6, hours=23, minutes=59))  # Sunday 23:59: inside the week
        rec(2, True, False)
        exam(3, "KB", mon + dt.timedelta(days=7))                      # next Monday 00:00: outside
        rec(3, True, True)
        exam(4, "NOI", mon + dt.timedelta(days=1))                     # no reception record
        exam(5, "SAN", mon + dt.timedelta(days=2))                     # book, level 2
        rec(5, True, True)
        exam(6, "SAN", mon + dt.timedelta(days=3))                     # book but expired card: not eligible
        rec(6, True, True)
    engine.dispose()
    return url


def no_rec_ma_lk(url: str) -> str:
    with create_engine(url).connect() as conn:
        return conn.execute(text("SELECT ma_lk FROM encounter WHERE id = 4")).scalar_one()


def test_hand_made_week(small):
    report = build_report(small, Period.parse("2026-W45"), periods=2, mapping=DEMO)
    rows = {d.code: d for d in report.departments}
    assert set(rows) == {"KB", "NOI", "SAN"}  # departments never examining in the window are not listed
    kb, noi, san, total = rows["KB"].counts, rows["NOI"].counts, rows["SAN"].counts, report.total.counts
    assert (kb.examined, kb.eligible, kb.books, kb.books_eligible) == (2, 2, 1, 1)
    assert (noi.examined, noi.eligible, noi.books, noi.no_reception) == (2, 1, 1, 1)
    assert (san.examined, san.eligible, san.books, san.books_eligible) == (2, 1, 2, 1)
    assert (total.examined, total.eligible, total.books, total.books_eligible) == (5, 3, 3, 2)
    assert rows["SAN"].as_dict()["rate_all_pct"] == 100.0 and rows["SAN"].as_dict()["rate_eligible_pct"] == 100.0
    assert [(d.code, d.rank) for d in report.departments] == [("SAN", 1), ("KB", 2), ("NOI", 2)]
    small_ones = build_report(small, Period.parse("2026-W45"), periods=2, rank_min_patients=3, mapping=DEMO)
    assert [(d.code, d.rank) for d in small_ones.departments] == [("KB", None), ("NOI", None), ("SAN", None)]
    assert [w["code"] for w in report.warnings] == ["ADOPTION.NO_RECEPTION"]
    assert "NOI: 1" in report.warnings[0]["message"]
    assert f"MA_LK {no_rec_ma_lk(small)}" in report.warnings[0]["message"]  # where QA finds the row
    no_rec = next(f for f in report.patients if f.department == "NOI" and not f.reception)
    assert no_rec.reason == "no_reception" and not no_rec.health_book
    # the previous week has no patient: no change, no previous rate
    assert rows["KB"].change_pp is None and rows["KB"].as_dict()["previous_rate_all_pct"] is None


def test_a_returning_patient_counts_once_with_the_latest_visit(small):
    engine = create_engine(small)
    with engine.begin() as conn:  # visit 2 (Sunday, no book recorded) becomes a second visit of visit 1's patient
        conn.execute(text("UPDATE encounter SET patient_id = (SELECT patient_id FROM encounter WHERE id = 1) "
                          "WHERE id = 2"))
    engine.dispose()
    report = build_report(small, Period.parse("2026-W45"), periods=2, mapping=DEMO)
    kb = next(d for d in report.departments if d.code == "KB").counts
    assert (kb.examined, kb.books) == (1, 0)  # one patient; the latest reception record says no book
    noi = next(d for d in report.departments if d.code == "NOI").counts
    assert (noi.examined, noi.books) == (2, 1)  # in NOI the patient's latest examination is visit 1's, with a book
    assert (report.total.counts.examined, report.total.counts.books) == (4, 2)


def test_codes_the_labels_do_not_know_are_reported(small):
    engine = create_engine(small)
    with engine.begin() as conn:
        conn.execute(text("UPDATE reception SET identified_by = 'QR', no_book_reason = 'lost_phone' WHERE encounter_id = 2"))
    engine.dispose()
    report = build_report(small, Period.parse("2026-W45"), periods=2, mapping=DEMO)
    unknown = [w for w in report.warnings if w["code"] == "ADOPTION.UNKNOWN_CODE"]
    assert len(unknown) == 2 and "'QR' (1)" in unknown[0]["message"] and "'lost_phone' (1)" in unknown[1]["message"]
    with create_engine(small).connect() as conn:
        ma_lk = conn.execute(text("SELECT ma_lk FROM encounter WHERE id = 2")).scalar_one()
    assert all(f"(MA_LK {ma_lk})" in w["message"] for w in unknown)
    assert next(d for d in report.departments if d.code == "KB").identified_by["QR"] == 1  # counted, under its own code, never dropped


def test_an_examination_without_department_is_listed_and_warned_about(small):
    engine = create_engine(small)
    with engine.begin() as conn:  # a hospital's own query may return no department for some rows
        conn.execute(text("UPDATE examination SET department_id = 999 WHERE encounter_id = 5"))
    engine.dispose()
    data = DEMO
    import dataclasses

    exams = data.adoption["examinations"]
    query = exams.query.replace("JOIN department d ON d.id = x.department_id",
                                "LEFT JOIN department d ON d.id = x.department_id")
    mapping = dataclasses.replace(data, adoption={**data.adoption,
                                                  "examinations": dataclasses.replace(exams, query=query)})
    report = build_report(small, Period.parse("2026-W45"), periods=2, mapping=mapping)
    lost = next(d for d in report.departments if d.code == "?")
    assert lost.counts.examined == 1 and lost.name == "(không rõ khoa/phòng)"
    assert "ADOPTION.NO_DEPARTMENT" in [w["code"] for w in report.warnings]
    assert report.total.counts.examined == 5  # still counted in the hospital


def test_an_empty_week_says_so(small):
    report = build_report(small, Period.parse("2026-W50"), periods=2, mapping=DEMO)
    assert report.departments == [] and report.total.counts.examined == 0
    assert [w["code"] for w in report.warnings] == ["ADOPTION.EMPTY_PERIOD"]


# --- files ----------------------------------------------------------------------------------------------------
SHEETS = ["Theo khoa", "Xu hướng", "Định danh", "PL1 Nhân viên", "Danh sách NB", "Giải thích"]


def test_xlsx_csv_html_and_json(his, tmp_path):
    notes = tmp_path / "notes.toml"
    notes.write_text('training = "Tập huấn 2 buổi cho điều dưỡng tiếp đón"\n', encoding="utf-8")
    report, files = run_adoption_report(f"sqlite:///{his}", tmp_path / "out", period=WEEK, notes=notes,
                                        mapping=DEMO_MAPPING)
    assert {p.name for p in files.values()} == {f"adoption-{WEEK}{s}" for s in
                                                 (".xlsx", ".html", ".csv", "-staff.csv", "-patients.csv", ".json")}
    wb = load_workbook(files["xlsx"])
    assert wb.sheetnames == SHEETS
    ws = wb["Theo khoa"]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    header = values.index(next(v for v in values if v[0] == "Xếp hạng"))
    body = values[header + 1: header + 1 + len(report.departments) + 1]
    total = body[-1]
    t = report.total.counts
    assert total[2] == "TOÀN VIỆN" and total[3:7] == [t.examined, t.eligible, t.books, t.books_eligible]
    assert total[7:9] == [_pct(t.books, t.examined), _pct(t.books_eligible, t.eligible)]
    assert [r[1] for r in body[:-1]] == [d.code for d in report.departments]
    assert [r[3] for r in body[:-1]] == [d.counts.examined for d in report.departments]
    staff = [[c.value for c in r] for r in wb["PL1 Nhân viên"].iter_rows()]
    staff_total = next(r for r in staff if r[2] == "TOÀN VIỆN")
    s = report.staff_total
    assert staff_total[3:6] == [s.total, s.level2, s.level2_missing] and staff_total[7:10] == [s.books, s.cards,
                                                                                              s.cards_missing]
    assert ["Công tác tập huấn, hướng dẫn", None, None, "Tập huấn 2 buổi cho điều dưỡng tiếp đón"] == staff[
        next(i for i, r in enumerate(staff) if r[0] == "Công tác tập huấn, hướng dẫn")][:4]
    drill = list(wb["Danh sách NB"].iter_rows(values_only=True))
    assert len(drill) - 1 == len(report.patients) == sum(d.counts.examined for d in report.departments)
    trend = [[c.value for c in r] for r in wb["Xu hướng"].iter_rows()]
    assert next(r for r in trend if r[0] == "Mã khoa")[2:5] == ["2026-W45", "2026-W46", "2026-W47"]

    with files["csv"].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[-1]["Khoa/phòng"] == "TOÀN VIỆN" and int(rows[-1]["Số người bệnh được khám"]) == t.examined
    assert [r["Mã khoa"] for r in rows[:-1]] == [d.code for d in report.departments]
    with files["patients_csv"].open(encoding="utf-8-sig", newline="") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == len(report.patients)

    page = files["html"].read_text(encoding="utf-8")
    from lxml import html as lhtml

    doc = lhtml.fromstring(page)
    assert len(doc.xpath("//svg")) == 2 and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    assert all(d.name in page for d in report.departments)
    assert len(doc.xpath("//details")) == len(report.departments)
    by_period = doc.xpath("//h2[contains(., 'qua các kỳ')]/following-sibling::table[1]//tr")
    assert [c.text_content() for c in by_period[0]] == ["Khoa/phòng", "2026-W45", "2026-W46", "2026-W47"]
    assert by_period[-1][0].text_content() == "TOÀN VIỆN" and by_period[-1][3].text_content() == (
        f"{report.total.as_dict()['rate_all_pct']:.2f}".replace(".", ","))
    summary = json.loads(files["json"].read_text(encoding="utf-8"))
    assert summary["period"] == WEEK and summary["total"]["examined"] == t.examined

    # no identity number in clear in any file: only the last 4 characters
    con = sqlite3.connect(his)
    secrets = [r[0] for r in con.execute("SELECT id_number FROM patient UNION SELECT card_no FROM insurance_card")]
    con.close()
    import zipfile

    blobs = [p.read_bytes() for k, p in files.items() if k != "xlsx"]
    with zipfile.ZipFile(files["xlsx"]) as z:
        blobs += [z.read(n) for n in z.namelist()]
    everything = b"\n".join(blobs).decode("utf-8", "replace")
    assert not [s for s in secrets if s and s in everything]
    assert any(f.card.startswith("…") and len(f.card) == 5 for f in report.patients)


def test_same_report_from_postgresql(his, pg_url):
    create_demo(pg_url, 600, minutes_between=60)
    period = Period.parse(WEEK)
    now = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
    a = build_report(f"sqlite:///{his}", period, now=now, mapping=DEMO).as_dict()
    b = build_report(pg_url, period, now=now, mapping=DEMO).as_dict()
    assert a == b


# --- periods ------------------------------------------------------------------------------------------------------
def test_periods():
    w = Period.parse("2026-W47")
    assert (w.start, w.end) == (dt.datetime(2026, 11, 16), dt.datetime(2026, 11, 23))
    assert w.title == "Tuần 47/2026 (16/11/2026 – 22/11/2026)" and w.previous().label == "2026-W46"
    assert Period.parse("2026-W01").start == dt.datetime(2025, 12, 29)  # ISO: the week of the first Thursday
    assert Period.parse("2027-01").previous().label == "2026-12" and Period.parse("2026-12").end == dt.datetime(2027, 1, 1)
    # Sunday 17:30 UTC is Monday 00:30 in Asia/Ho_Chi_Minh: the week just ended is the last complete one
    assert Period.last_complete("week", dt.datetime(2026, 11, 22, 17, 30, tzinfo=dt.UTC)).label == "2026-W47"
    assert Period.last_complete("week", dt.datetime(2026, 11, 22, 16, 30, tzinfo=dt.UTC)).label == "2026-W46"
    assert Period.last_complete("month", dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)).label == "2026-11"
    for bad in ("2026-W54", "2026-13", "W47"):
        with pytest.raises(ValueError):
            Period.parse(bad)


# --- mapping ----------------------------------------------------------------------------------------------------
def test_adoption_queries_are_checked_before_reading(his):
    import tomllib


    data = tomllib.loads(mapping_path().read_text(encoding="utf-8"))
    data["adoption"]["examinations"]["query"] = data["adoption"]["examinations"]["query"].replace(
        "p.code AS patient", "p.code AS patient_code")
    with pytest.raises(MappingError, match="adoption.examinations: the query must return a column named patient"):
        build_report(f"sqlite:///{his}", Period.parse(WEEK), mapping=parse_mapping(data))
    data["adoption"]["examinations"]["query"] = "SELECT 1 AS key"
    with pytest.raises(MappingError, match="must filter on :start"):
        parse_mapping(data)
    del data["adoption"]
    with pytest.raises(MappingError, match=r"\[adoption.examinations\] is missing"):
        build_report(f"sqlite:///{his}", Period.parse(WEEK), mapping=parse_mapping(data))
    assert set(DEMO.adoption) == {"examinations", "staff"}


# --- command, flow, schedule ------------------------------------------------------------------------------------------
def test_command(his, tmp_path):
    from typer.testing import CliRunner

    from xml130.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["adoption-report", "--source", f"sqlite:///{his}", "--week", WEEK,
                              "--out", str(tmp_path), "--mapping", DEMO_MAPPING], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "TOÀN VIỆN" in res.output and (tmp_path / f"adoption-{WEEK}.xlsx").exists()
    res = runner.invoke(app, ["adoption-report", "--source", f"sqlite:///{his}", "--month", "2026-11",
                              "--out", str(tmp_path), "--mapping", DEMO_MAPPING], catch_exceptions=False)
    assert res.exit_code == 0 and (tmp_path / "adoption-2026-11.xlsx").exists()
    res = runner.invoke(app, ["adoption-report", "--source", f"sqlite:///{his}", "--week", "2026-W60",
                              "--out", str(tmp_path), "--mapping", DEMO_MAPPING])
    assert res.exit_code == 2 and "2026-W60" in res.output
    res = runner.invoke(app, ["adoption-report", "--source", f"sqlite:///{tmp_path / 'none.db'}", "--week", WEEK,
                              "--out", str(tmp_path), "--mapping", DEMO_MAPPING])
    assert res.exit_code == 2 and "none.db does not exist" in res.output and not (tmp_path / "none.db").exists()
    (tmp_path / "empty.db").touch()  # a database without the HIS's tables: the mapping's query names itself
    res = runner.invoke(app, ["adoption-report", "--source", f"sqlite:///{tmp_path / 'empty.db'}", "--week", WEEK,
                              "--out", str(tmp_path), "--mapping", DEMO_MAPPING])
    assert res.exit_code == 2 and "adoption.examinations: query fails" in res.output


def test_month_counts_a_patient_once_across_weeks(his):
    month = build_report(f"sqlite:///{his}", Period.parse("2026-11"), mapping=DEMO)
    want = expected(his, dt.datetime(2026, 11, 1), dt.datetime(2026, 12, 1))
    assert month.total.counts.examined == want[""]["examined"] and month.total.counts.books == want[""]["books"]


def test_flow_task_as_a_function_and_the_schedules(his, tmp_path):
    from pipelines.adoption_report import build_and_write

    # the flow itself runs under the Prefect harness in test_flows.py; here its task as a plain function
    result = build_and_write.fn(f"sqlite:///{his}", str(tmp_path), WEEK, "week", DEMO_MAPPING, None, None)
    assert result["period"] == WEEK and result["total"]["examined"] == expected(
        his, Period.parse(WEEK).start, Period.parse(WEEK).end)[""]["examined"]
    assert set(result["files"]) == {"xlsx", "html", "csv", "staff_csv", "patients_csv", "json"}

    from pipelines.serve import TZ, adoption_deployments

    weekly, monthly = adoption_deployments({"outbox": "o", "mapping": "/etc/xml130/his.toml"})
    assert (weekly.name, weekly.parameters["kind"]) == ("adoption-weekly", "week")
    assert weekly.parameters["mapping"] == monthly.parameters["mapping"] == "/etc/xml130/his.toml"
    assert (monthly.name, monthly.parameters["kind"]) == ("adoption-monthly", "month")
    assert [(s.schedule.cron, s.schedule.timezone) for s in weekly.schedules] == [("0 8 * * 4", TZ)]
    assert [(s.schedule.cron, s.schedule.timezone) for s in monthly.schedules] == [("0 8 3 * *", TZ)]


def test_headings_are_data_and_must_fit_the_tables():
    from xml130.adoption.tables import DEPARTMENT_HEADERS, department_values, headers

    assert DEPARTMENT_HEADERS[0] == "Xếp hạng"
    from xml130.adoption.counts import Counts, DepartmentRow

    assert len(department_values(DepartmentRow("KB", "Khoa Khám bệnh", Counts()))) == len(DEPARTMENT_HEADERS)
    with pytest.raises(ValueError, match=r"\[headers\] staff: 11 headings for 12 columns"):
        headers("staff", 12)
