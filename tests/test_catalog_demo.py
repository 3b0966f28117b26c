"""The demo ships catalogues consistent with its HIS plus deliberate mismatches: each kind of finding appears,
in exactly the hồ sơ it was planted in; errors are held back, the warning is not."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from xml130.demo import demo_mapping
from xml130.demo.job import run_demo
from xml130.store.ledger import Ledger
from xml130.store.tables import cross_finding, hoso_version

DEMO = demo_mapping()  # the demo HIS built by these tests is read through its own mapping


def test_demo_shows_each_planted_mismatch_once(tmp_path):
    report = run_demo(tmp_path, encounters=160)
    planted = report["catalogue_mismatches"]
    assert set(planted) == {"R.CAT.DRUG.UNKNOWN", "R.CAT.DRUG.STRENGTH", "R.CAT.STAFF.UNKNOWN",
                            "R.CAT.MACHINE.NOT_VALID", "CROSS.PERFORMER_OVERLAP", "CROSS.EXAMS_PER_DAY"}
    assert report["quarantine_as_expected"] and report["validation"]["errors"] == 0
    entries = json.loads((Path(report["nightly"]["report_dir"]) / "quarantine.json").read_text(encoding="utf-8"))
    quarantine = {q["ma_lk"]: {r["code"] for r in q["reasons"]} for q in entries}
    for code, ma_lks in planted.items():
        holding = sorted(m for m, codes in quarantine.items() if code in codes)
        if code == "CROSS.EXAMS_PER_DAY":
            assert len(ma_lks) == 66  # a warning holds nothing back: what is held has an error besides it
            assert holding and all(quarantine[m] - {"CROSS.EXAMS_PER_DAY"} for m in holding)
        else:
            assert holding == ma_lks, code
    assert len(planted["CROSS.PERFORMER_OVERLAP"]) == 2
    with Ledger(report["ledger"]).engine.connect() as conn:
        rows = conn.execute(select(cross_finding.c.ma_lk, cross_finding.c.code, cross_finding.c.others)).all()
        staged = {r.ma_lk: json.loads(r.reasons or "[]") for r in conn.execute(
            select(hoso_version).where(hoso_version.c.status == "staged"))}
    assert {r.code for r in rows} == {"CROSS.PERFORMER_OVERLAP", "CROSS.EXAMS_PER_DAY"}
    a, b = planted["CROSS.PERFORMER_OVERLAP"]
    assert {(r.ma_lk, r.others) for r in rows if r.code == "CROSS.PERFORMER_OVERLAP"} == {
        (a, json.dumps([b])), (b, json.dumps([a]))}
    busy = [r for r in rows if r.code == "CROSS.EXAMS_PER_DAY"]
    involved = {r.ma_lk for r in busy}
    assert set(planted["CROSS.EXAMS_PER_DAY"]) <= involved
    assert all(set(json.loads(r.others)) == involved - {r.ma_lk} for r in busy)  # each names all the others
    assert all("CROSS.EXAMS_PER_DAY" in {x["code"] for x in staged[m]} for m in involved if m in staged)


def test_plain_nightly_applies_the_catalogues_imported_into_its_ledger(tmp_path):
    """No catalogue given to the run: a hospital imports its catalogues once (`xml130 catalog import`) and every
    later nightly export checks against them; a ledger without catalogues gets no catalog rule."""

    from xml130 import jobs
    from xml130.demo.catalog import prepare_demo
    from xml130.demo.his import create_demo

    his = f"sqlite:///{tmp_path / 'his.db'}"
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    planted, _ = prepare_demo(create_demo(his, 160, 130), tmp_path / "cat", ledger)
    report = jobs.nightly(his, tmp_path / "outbox", ledger, mapping=DEMO)
    reasons = {q["ma_lk"]: {r["code"] for r in q["reasons"]} for q in report.quarantine}
    for code in ("R.CAT.DRUG.UNKNOWN", "R.CAT.DRUG.STRENGTH", "R.CAT.STAFF.UNKNOWN", "R.CAT.MACHINE.NOT_VALID"):
        assert planted[code] and all(code in reasons.get(m, set()) for m in planted[code]), code

    bare = jobs.nightly(his, tmp_path / "outbox2", f"sqlite:///{tmp_path / 'bare.db'}", mapping=DEMO)
    assert not any(r["code"].startswith("R.CAT.") for q in bare.quarantine for r in q["reasons"])
