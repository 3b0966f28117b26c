"""Checks across hồ sơ at minute cadence (docs/operations.md, "Checks across hồ sơ when they arrive one by one"):
the partner that arrives after the other was sent is held (an error) or flagged (a warning); the one already sent
is listed for correction, naming both MA_LK, in `status` (text and JSON) — never silently passed; correcting the
sent one releases the held one and empties the list."""

from __future__ import annotations

from xml130 import jobs
from xml130.catalog.crossstage import cross_stage
from xml130.demo import scenarios as sc
from xml130.jobs.status import ledger_status, status_lines
from xml130.store.cross import corrections_due
from xml130.store.ledger import Ledger

from .test_catalog_cross import H, _copy, _ledger, _stage


def test_an_overlap_found_after_the_first_was_sent_holds_the_late_one_and_lists_the_sent_one(tmp_path):
    ip = sc.inpatient_surgery_beds()
    url = _stage(tmp_path, [ip], "cycle-1", {"79999IP0002": "accepted"})  # sent and accepted a minute ago
    assert corrections_due(url) == []
    late = _copy(ip, 3, shift=H / 2)  # the same surgeon, half an hour later, on another patient
    _stage(tmp_path, [late], "cycle-2")
    report = jobs.RunReport("cycle-2", "nightly_export", "")
    cross_stage(url, tmp_path / "outbox", "79999", report)
    versions, _ = _ledger(url)
    assert versions["79999IP0003"][0] == "quarantined"  # held: not sent
    assert {r["code"] for r in versions["79999IP0003"][1]} == {"CROSS.PERFORMER_OVERLAP"}
    assert "79999IP0002" in versions["79999IP0003"][1][0]["message"]
    assert versions["79999IP0002"][0] == "accepted"  # the portal has it: unchanged, listed for correction
    assert report.counts["held_back_by_cross_check"] == 1 and report.quarantine[0]["ma_lk"] == "79999IP0003"
    due = corrections_due(url)
    assert [(d["ma_lk"], d["version"], d["status"], d["code"], d["others"]) for d in due] == [
        ("79999IP0002", 1, "accepted", "CROSS.PERFORMER_OVERLAP", ["79999IP0003"])]
    status = ledger_status(Ledger(url))
    assert status["to_correct"] == due
    assert ("to correct: 79999IP0002 v1 (accepted) CROSS.PERFORMER_OVERLAP with 79999IP0003 — resend 79999IP0002 "
            "--reason after correcting the HIS") in status_lines(status)

    # the sent one was wrong: corrected in the HIS and resent as version 2 (its run checks it against its days)
    fixed = _copy(ip, 2, patient=ip["XML1"]["MA_BN"], card=ip["XML1"]["MA_THE_BHYT"], shift=-3 * H)
    rel = "79999/2026-11-03/79999IP0002/v2.xml"
    from xml130.models import build_hoso
    from xml130.render import render_hoso

    (tmp_path / "outbox" / rel).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "outbox" / rel).write_bytes(render_hoso(build_hoso(fixed)))
    Ledger(url).add_versions([dict(facility="79999", ma_lk="79999IP0002", version=2, content_hash="v2",
                                   spec_version="3176", status="staged", reasons={"resend": "sửa giờ phẫu thuật"},
                                   path=rel, closed_at=fixed["XML1"]["NGAY_RA"], deadline_at=None,
                                   run_id="resend-1", replaces=1)])
    again = jobs.RunReport("resend-1", "resend", "")
    assert cross_stage(url, tmp_path / "outbox", "79999", again) == []
    versions, _ = _ledger(url)
    assert versions["79999IP0003"] == ("staged", None) and again.counts["released_by_cross_check"] == 1
    assert versions["79999IP0002"][0] == "staged"  # v2 (the dict keeps the last version read)
    assert corrections_due(url) == [] and ledger_status(Ledger(url))["to_correct"] == []


def test_both_partners_in_one_cycle_are_both_held_and_nothing_is_listed(tmp_path):
    ip = sc.inpatient_surgery_beds()
    url = _stage(tmp_path, [ip, _copy(ip, 3, shift=H / 2)], "cycle-1")
    cross_stage(url, tmp_path / "outbox", "79999", jobs.RunReport("cycle-1", "nightly_export", ""))
    versions, _ = _ledger(url)
    assert {m: s for m, (s, _) in versions.items()} == {"79999IP0002": "quarantined", "79999IP0003": "quarantined"}
    assert corrections_due(url) == []  # nothing was sent: nothing to correct at the portal


def test_a_per_day_limit_reached_by_a_late_hoso_flags_it_and_lists_nothing(tmp_path):
    op = sc.outpatient_drugs_labs()
    op["XML3"][0]["MA_NHOM"] = 13  # an examination by 0100000001
    url = _stage(tmp_path, [op], "cycle-1", {"79999OP0001": "submitted"})
    _stage(tmp_path, [_copy(op, 2, shift=H)], "cycle-2")
    report = jobs.RunReport("cycle-2", "nightly_export", "")
    found = cross_stage(url, tmp_path / "outbox", "79999", report, exam_limit=1)
    assert sorted((f.code, f.ma_lk, f.others) for f in found) == [
        ("CROSS.EXAMS_PER_DAY", "79999OP0001", ("79999OP0002",)),
        ("CROSS.EXAMS_PER_DAY", "79999OP0002", ("79999OP0001",))]
    versions, _ = _ledger(url)
    assert versions["79999OP0002"][0] == "staged"  # flagged, sent with the warning in its reasons
    assert [r["code"] for r in versions["79999OP0002"][1]] == ["CROSS.EXAMS_PER_DAY"]
    assert versions["79999OP0001"][0] == "submitted"
    assert [r["code"] for r in versions["79999OP0001"][1]] == ["CROSS.EXAMS_PER_DAY"]
    assert report.counts["cross_warnings"] == 2 and corrections_due(url) == []
