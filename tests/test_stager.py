"""One stager for every job, and each domain fact in one place (issue 12, items 1 and 2)."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from xml130.cli import app
from xml130.codes import Status
from xml130.demo import demo_mapping, mapping_path
from xml130.demo.his import START, create_demo
from xml130.jobs.export import run_export
from xml130.mapping import MappingError, parse_mapping
from xml130.mapping.extract import Extractor, Selection
from xml130.params import Params, defaults
from xml130.parse import load_envelope
from xml130.rules import run_rules

DEMO = demo_mapping()  # the demo HIS built by these tests is read through its own mapping

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def ma_lk(i: int) -> str:
    return f"79999{START:%y%m}{i:08d}"


# The demo HIS of 300 episodes, seed 7: four names too long and four bad ICD codes (the spec), seven cards expired
# on admission — export and nightly keep back the same hồ sơ for the same reasons. Episode 160, a newborn born at
# 00:00 (NGAY_SINH …0000, also "time unknown"), is sent with the warning R.NEWBORN.BIRTH_TIME, not held back.
QUARANTINED_SEED_7 = {
    12: "R.CARD.VALID_ON_ADMISSION", 13: "FIELD.TOO_LONG", 17: "FIELD.FORMAT", 57: "R.CARD.VALID_ON_ADMISSION",
    102: "R.CARD.VALID_ON_ADMISSION", 106: "FIELD.FORMAT", 110: "FIELD.TOO_LONG", 147: "R.CARD.VALID_ON_ADMISSION",
    192: "R.CARD.VALID_ON_ADMISSION", 195: "FIELD.FORMAT", 207: "FIELD.TOO_LONG",
    237: "R.CARD.VALID_ON_ADMISSION", 282: "R.CARD.VALID_ON_ADMISSION", 284: "FIELD.FORMAT",
}


def test_export_quarantines_exactly_what_nightly_does_and_writes_only_what_validate_accepts(tmp_path):
    his, out, outbox = f"sqlite:///{tmp_path / 'h.db'}", tmp_path / "o", tmp_path / "outbox"
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert run("demo-his", "--url", his, "--encounters", 300, "--seed", 7).exit_code == 0
    exported = run("export", "--source", his, "--out", out, "--mapping", mapping_path())
    assert exported.exit_code == 1, exported.output  # some quarantined
    assert "286 envelopes written" in exported.output and "14 hồ sơ quarantined" in exported.output
    night = run("nightly", "--source", his, "--outbox", outbox, "--ledger", ledger, "--until", "2030-01-01T00:00",
                "--mapping", mapping_path())
    assert night.exit_code == 0, night.output
    assert ("(closed after the beginning up to 2030-01-01 00:00:00): staged 286, quarantined 14, with_warnings 1, "
            "ledger_rows 300\nquarantined by code: FIELD.FORMAT 8, FIELD.TOO_LONG 3, R.CARD.VALID_ON_ADMISSION 7\n"
            ) in night.output  # words and numbers, not a Python dict

    by_export = json.loads((out / "quarantine.json").read_text(encoding="utf-8"))
    (run_dir,) = (outbox / "_runs").iterdir()
    by_nightly = json.loads((run_dir / "quarantine.json").read_text(encoding="utf-8"))
    errors = {q["ma_lk"]: {r["code"] for r in q["reasons"] if r["severity"] == "error"} for q in by_export}
    assert errors == {ma_lk(i): {code} for i, code in QUARANTINED_SEED_7.items()}
    assert by_nightly == by_export  # the same entries, reasons and order

    written = sorted(p.stem for p in out.glob("*.xml"))
    staged = sorted(p.parent.name for p in outbox.glob("79999/*/*/v1.xml"))
    assert written == staged and len(written) == 300 - len(QUARANTINED_SEED_7)
    for p in out.glob("*.xml"):  # the same bytes as the nightly job's version 1
        assert p.read_bytes() == next(outbox.glob(f"79999/*/{p.stem}/v1.xml")).read_bytes()
    checked = run("validate", out)  # rules on
    assert checked.exit_code == 0, checked.output
    assert "286 tệp, 0 lỗi" in checked.output

    with sqlite3.connect(tmp_path / "ledger.db") as conn:  # statuses are an enum, stored as the same text
        stored = set(conn.execute("SELECT status, typeof(status), count(*) FROM hoso_version GROUP BY status"))
    assert stored == {(Status.STAGED, "text", 286), (Status.QUARANTINED, "text", 14)}
    assert (Status.STAGED.value, Status.QUARANTINED.value) == ("staged", "quarantined")


@pytest.fixture(scope="module")
def small_his(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('his') / 'his.db'}"
    create_demo(url, 20)
    return url


def _extract(url: str, i: int, p: Params | None = None):
    (item,) = Extractor(create_engine(url), DEMO, params=p).extract(Selection(ma_lk=(ma_lk(i),)))
    assert item.hoso is not None, item.findings
    return item.hoso


def _codes(hoso, p: Params | None = None) -> set[str]:
    return {f.code for f in run_rules(hoso, params=p) if f.code.startswith("R.LOAI_KCB")}


def test_short_stay_hours_changes_what_the_mapping_derives_and_what_the_rule_checks(small_his):
    default = _extract(small_his, 9)  # the demo's short inpatient stay
    x1 = default.summary
    hours = (int(x1.NGAY_RA[8:10]) * 60 + int(x1.NGAY_RA[10:12]) - int(x1.NGAY_VAO[8:10]) * 60
             - int(x1.NGAY_VAO[10:12])) / 60
    assert x1.NGAY_RA[:8] == x1.NGAY_VAO[:8] and 1 < hours < defaults()["short_stay_hours"] == 4
    assert (x1.MA_LOAI_KCB, x1.SO_NGAY_DTRI) == ("09", 0) and _codes(default) == set()
    one_hour = defaults().with_(short_stay_hours=1)  # passed to the mapping and the rules alike
    shorter = _extract(small_his, 9, one_hour)
    assert (shorter.summary.MA_LOAI_KCB, shorter.summary.SO_NGAY_DTRI) == ("03", 1)  # an inpatient stay now
    assert _codes(shorter, one_hour) == set()  # the rule reads the same threshold: no disagreement
    assert _codes(default, one_hour) == {"R.LOAI_KCB.09_LONG"}  # 09 is wrong at 1 hour
    assert defaults()["short_stay_hours"] == 4  # nobody else sees the other value
    assert _codes(shorter) == {"R.LOAI_KCB.SHORT_STAY"}  # 03 is wrong at 4 hours
    with pytest.raises(KeyError, match="short_stay_hour"):
        defaults().with_(short_stay_hour=1)


def test_supply_groups_are_read_by_the_totals_and_their_rule(small_his):
    default = _extract(small_his, 1)  # the demo HIS bills no supplies (MA_NHOM 10, 11); episode 1 has a bed (15)
    assert [r.MA_NHOM for r in default.tables["XML3"]] == [13, 2, 2, 15] and default.summary.T_VTYT == 0
    bed = default.tables["XML3"][3].THANH_TIEN_BV
    beds_too = defaults().with_(supply_groups=[15])
    counted = _extract(small_his, 1, beds_too)
    assert counted.summary.T_VTYT == bed > 0
    assert [f.code for f in run_rules(counted, params=beds_too) if f.code == "R.TOTAL.T_VTYT"] == []
    assert [f.code for f in run_rules(default, params=beds_too) if f.code == "R.TOTAL.T_VTYT"] == ["R.TOTAL.T_VTYT"]


def test_a_job_passes_its_parameters_to_the_mapping_and_the_rules(small_his, tmp_path):
    one_hour = defaults().with_(short_stay_hours=1)
    run_export(small_his, DEMO, tmp_path / "default", Selection(ma_lk=(ma_lk(9),)))
    run_export(small_his, DEMO, tmp_path / "one_hour", Selection(ma_lk=(ma_lk(9),)), params=one_hour)
    (default,) = load_envelope((tmp_path / "default" / f"{ma_lk(9)}.xml").read_bytes())
    assert default.summary.MA_LOAI_KCB == "09"  # a short stay at 4 hours: staged
    # at 1 hour the mapping derives an inpatient stay (03), whose papers the demo HIS does not have
    (held,) = json.loads((tmp_path / "one_hour" / "quarantine.json").read_text(encoding="utf-8"))
    assert [(r["code"], r["message"]) for r in held["reasons"]] == [
        ("R.PAPER.DISCHARGE", "Nội trú ra viện (MA_LOAI_RV 1) nhưng không có XML7."),
        ("R.PAPER.SUMMARY", "MA_LOAI_KCB = 03 nhưng không có XML8.")]
    assert not (tmp_path / "one_hour" / f"{ma_lk(9)}.xml").exists()


def test_a_mapping_cannot_set_a_threshold_the_rules_share():
    import tomllib

    data = tomllib.loads(mapping_path().read_text(encoding="utf-8"))
    data["rules"]["visit_kind"] = {"under_hours": 6}
    data["rules"]["newborn"]["newborn_days"] = 30
    with pytest.raises(MappingError) as info:
        parse_mapping(data)
    msg = str(info.value)
    assert "rules.visit_kind: short_stay_hours is a parameter of xml130 (src/xml130/data/params.toml)" in msg
    assert "rules.newborn.newborn_days: unknown parameter" in msg


def test_export_into_a_used_folder_removes_the_file_of_a_hoso_now_quarantined(small_his, tmp_path):
    run_export(small_his, DEMO, tmp_path, Selection(ma_lk=(ma_lk(2),)))
    assert (tmp_path / f"{ma_lk(2)}.xml").exists()
    broken = tmp_path / "broken.db"
    shutil.copy(small_his.removeprefix("sqlite:///"), broken)
    with create_engine(f"sqlite:///{broken}").begin() as conn:
        conn.execute(text("UPDATE patient SET full_name = :n WHERE id = (SELECT patient_id FROM encounter "
                          "WHERE ma_lk = :m)"), {"n": "X" * 300, "m": ma_lk(2)})
    report = run_export(f"sqlite:///{broken}", DEMO, tmp_path, Selection(ma_lk=(ma_lk(2),)))
    assert [q["ma_lk"] for q in report.quarantine] == [ma_lk(2)]
    assert [r["code"] for r in report.quarantine[0]["reasons"]] == ["FIELD.TOO_LONG"]
    assert not (tmp_path / f"{ma_lk(2)}.xml").exists()
