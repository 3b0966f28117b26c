"""Checks across hồ sơ (CROSS.*): the facts read from envelopes, each check with a conflicting and a sound day,
every finding naming all the other MA_LK involved; and the nightly stage: errors hold a version back, warnings
do not, a re-run changes nothing, a resolved conflict releases the version."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

from sqlalchemy import select

from xml130 import jobs
from xml130.catalog.cross import check_day
from xml130.catalog.crossstage import cross_stage
from xml130.catalog.facts import read_facts
from xml130.demo import scenarios as sc
from xml130.demo.catalog_synthetic import catalog_for, to_catalog
from xml130.models import build_hoso
from xml130.render import render_hoso
from xml130.store.ledger import Ledger
from xml130.store.tables import cross_finding, hoso_version

H = dt.timedelta(hours=1)


def _copy(raw, n, *, patient=None, card=None, shift=dt.timedelta(0)):
    """The same episode under another MA_LK (and by default another patient and card), shifted in time."""
    out = copy.deepcopy(raw)
    ma_lk = raw["XML1"]["MA_LK"][:-1] + str(n)
    for rows in out.values():
        for r in rows if isinstance(rows, list) else [rows]:
            r["MA_LK"] = ma_lk
            for k, v in r.items():
                if isinstance(v, dt.datetime):
                    r[k] = v + shift
    out["XML1"]["MA_BN"] = patient or f"BN-OTHER-{n}"
    out["XML1"]["MA_THE_BHYT"] = card or [c[:-4] + f"{n:04d}" for c in raw["XML1"]["MA_THE_BHYT"]]
    return out


def _facts(*raws):
    return [f for raw in raws for f in read_facts(render_hoso(build_hoso(raw)))]


def _found(findings):
    return sorted((f.code, f.ma_lk, f.row, f.others) for f in findings)


def test_facts_read_from_the_envelope():
    (f,) = _facts(sc.inpatient_surgery_beds())
    assert (f.ma_lk, f.patient, f.start, f.end) == ("79999IP0002", sc.inpatient_surgery_beds()["XML1"]["MA_BN"],
                                                   dt.datetime(2026, 11, 3, 9, 15), dt.datetime(2026, 11, 7, 11, 15))
    assert [(p.performer, p.row, p.service) for p in f.performances] == [
        ("0100000001", 4, "10.0618.0560"), ("0100000002", 4, "10.0618.0560")]
    assert f.bed_days == [("K12", dt.date(2026, 11, 3), Decimal("4.000"), 6)]


def test_performer_on_two_patients_at_once_is_an_error_on_both():
    ip = sc.inpatient_surgery_beds()
    overlapping, later = _copy(ip, 3, shift=H / 2), _copy(ip, 4, shift=H)
    found = check_day(_facts(ip, overlapping, later))
    assert _found(found) == [
        ("CROSS.PERFORMER_OVERLAP", "79999IP0002", 4, ("79999IP0003",)),
        ("CROSS.PERFORMER_OVERLAP", "79999IP0002", 4, ("79999IP0003",)),
        ("CROSS.PERFORMER_OVERLAP", "79999IP0003", 4, ("79999IP0002", "79999IP0004")),
        ("CROSS.PERFORMER_OVERLAP", "79999IP0003", 4, ("79999IP0002", "79999IP0004")),
        ("CROSS.PERFORMER_OVERLAP", "79999IP0004", 4, ("79999IP0003",)),
        ("CROSS.PERFORMER_OVERLAP", "79999IP0004", 4, ("79999IP0003",)),
    ]  # the surgery (11:15 NGAY_TH_YL → 12:15 NGAY_KQ) has two performers; one hour later it only touches the first
    first = next(f for f in found if f.ma_lk == "79999IP0002")
    assert first.severity == "error" and first.finding().message == (
        "Người thực hiện '0100000001' làm dịch vụ 10.0618.0560 lúc 03/11/2026 11:15–03/11/2026 12:15 trùng thời "
        "gian với dịch vụ của người bệnh khác trong hồ sơ: 79999IP0003.")
    assert check_day(_facts(ip, _copy(ip, 5, shift=H))) == []  # back to back: no overlap


def test_examinations_above_the_daily_limit_warn_every_hoso_naming_the_others():
    op = sc.outpatient_drugs_labs()
    op["XML3"][0]["MA_NHOM"] = 13  # the first service is the examination (MA_BAC_SI 0100000001)
    raws = [op] + [_copy(op, n, shift=n * H) for n in (2, 3)]
    assert check_day(_facts(*raws), exam_limit=3) == []
    found = check_day(_facts(*raws), exam_limit=2)
    assert _found(found) == [
        ("CROSS.EXAMS_PER_DAY", "79999OP0001", 1, ("79999OP0002", "79999OP0003")),
        ("CROSS.EXAMS_PER_DAY", "79999OP0002", 1, ("79999OP0001", "79999OP0003")),
        ("CROSS.EXAMS_PER_DAY", "79999OP0003", 1, ("79999OP0001", "79999OP0002")),
    ]
    assert found[0].severity == "warning"
    assert "Bác sĩ '0100000001' có 3 lượt khám ngày 02/11/2026, vượt giới hạn 2 lượt/ngày" in found[0].message


def test_one_patient_or_one_card_in_overlapping_episodes():
    op = sc.outpatient_drugs_labs()
    same_patient = _copy(op, 2, patient=op["XML1"]["MA_BN"], shift=H)
    same_card = _copy(op, 3, card=op["XML1"]["MA_THE_BHYT"], shift=2 * H)
    next_day = _copy(op, 4, patient=op["XML1"]["MA_BN"], card=op["XML1"]["MA_THE_BHYT"], shift=24 * H)
    found = check_day(_facts(op, same_patient, same_card, next_day))
    assert _found(found) == [
        ("CROSS.CARD_OVERLAP", "79999OP0001", 1, ("79999OP0003",)),
        ("CROSS.CARD_OVERLAP", "79999OP0003", 1, ("79999OP0001",)),
        ("CROSS.PATIENT_OVERLAP", "79999OP0001", 1, ("79999OP0002",)),
        ("CROSS.PATIENT_OVERLAP", "79999OP0002", 1, ("79999OP0001",)),
    ]
    card = next(f for f in found if f.code == "CROSS.CARD_OVERLAP")
    (number,) = op["XML1"]["MA_THE_BHYT"]
    assert number not in card.message and f"Thẻ BHYT …{number[-4:]} dùng" in card.message


def test_bed_days_above_the_registered_beds_of_the_department():
    ip = sc.inpatient_surgery_beds()
    raws = [ip, _copy(ip, 3), _copy(ip, 4, shift=24 * H)]
    cats = catalog_for([build_hoso(ip)])
    for row in cats["department"]:
        row["GIUONG_PD"], row["GIUONG_TK"] = 1, 1
    found = [f for f in check_day(_facts(*raws), to_catalog(cats)) if f.code.startswith("CROSS.BEDS")]
    # K12: 2 beds; 03/11 two hồ sơ, 04/11–06/11 three (each bills 4 days from its first day)
    assert {(f.day, f.ma_lk) for f in found} == {(dt.date(2026, 11, d), m) for d in (4, 5, 6)
                                                  for m in ("79999IP0002", "79999IP0003", "79999IP0004")}
    assert all(f.code == "CROSS.BEDS_OVER" and f.severity == "warning" for f in found)  # (the copies' surgeries
    # overlap too: CROSS.PERFORMER_OVERLAP, tested above)
    one = next(f for f in found if f.ma_lk == "79999IP0002" and f.day == dt.date(2026, 11, 4))
    assert one.others == ("79999IP0003", "79999IP0004")
    assert "Khoa K12 có 3 ngày giường ngày 04/11/2026, vượt 2 giường đã đăng ký" in one.message
    assert [f for f in check_day(_facts(*raws)) if f.code.startswith("CROSS.BEDS")] == []  # no department catalogue


def _stage(tmp_path, raws, run_id, statuses=None):
    """Versions staged by ``run_id`` (files in the outbox, rows in the ledger), as the Stager leaves them."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(url)
    rows = []
    for raw in raws:
        ma_lk = raw["XML1"]["MA_LK"]
        rel = f"79999/2026-11-03/{ma_lk}/v1.xml"
        (tmp_path / "outbox" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "outbox" / rel).write_bytes(render_hoso(build_hoso(raw)))
        rows.append(dict(facility="79999", ma_lk=ma_lk, version=1, content_hash=ma_lk, spec_version="3176",
                         status=(statuses or {}).get(ma_lk, "staged"), reasons=None, path=rel,
                         closed_at=raw["XML1"]["NGAY_RA"], deadline_at=None, run_id=run_id, replaces=None))
    ledger.add_versions(rows)
    return url


def _ledger(url):
    with Ledger(url).engine.connect() as conn:
        versions = {r.ma_lk: (r.status, json.loads(r.reasons) if r.reasons else None)
                    for r in conn.execute(select(hoso_version))}
        found = conn.execute(select(cross_finding.c.ma_lk, cross_finding.c.code, cross_finding.c.others)).all()
    return versions, sorted(found)


def test_nightly_stage_holds_back_errors_keeps_warnings_and_reruns_the_same(tmp_path):
    ip = sc.inpatient_surgery_beds()
    earlier = _copy(ip, 3, shift=H / 2)  # staged by yesterday's run and already sent
    today = _copy(ip, 4, shift=4 * H)  # no conflict
    url = _stage(tmp_path, [earlier], "run-1", {"79999IP0003": "submitted"})
    _stage(tmp_path, [ip, today], "run-2")
    report = jobs.RunReport("run-2", "nightly_export", "")
    found = cross_stage(url, tmp_path / "outbox", "79999", report)
    assert {f.ma_lk for f in found} == {"79999IP0002", "79999IP0003"}
    versions, rows = _ledger(url)
    assert versions["79999IP0002"][0] == "quarantined"  # held back: the error is in the ledger with its partner
    assert [(r["code"], r["row"]) for r in versions["79999IP0002"][1]] == [("CROSS.PERFORMER_OVERLAP", 4)] * 2
    assert "79999IP0003" in versions["79999IP0002"][1][0]["message"]
    assert versions["79999IP0003"][0] == "submitted"  # already sent: recorded, not changed
    assert versions["79999IP0004"] == ("staged", None)
    assert rows == sorted([("79999IP0002", "CROSS.PERFORMER_OVERLAP", '["79999IP0003"]')] * 2
                          + [("79999IP0003", "CROSS.PERFORMER_OVERLAP", '["79999IP0002"]')] * 2)
    assert report.counts["held_back_by_cross_check"] == 1 and report.counts["cross_errors"] == 4
    assert [q["ma_lk"] for q in report.quarantine] == ["79999IP0002"]
    cross_json = json.loads((tmp_path / "outbox" / "_runs" / "run-2" / "cross.json").read_text(encoding="utf-8"))
    assert list(cross_json) == ["2026-11-03"] and len(cross_json["2026-11-03"]) == 4

    cross_stage(url, tmp_path / "outbox", "79999", jobs.RunReport("run-2", "nightly_export", ""))
    assert _ledger(url) == (versions, rows)  # the same day again: nothing new

    with Ledger(url).engine.begin() as conn:  # the conflicting version was replaced by a corrected one
        conn.execute(hoso_version.update().where(hoso_version.c.ma_lk == "79999IP0003").values(status="replaced"))
    again = jobs.RunReport("run-2", "nightly_export", "")
    assert cross_stage(url, tmp_path / "outbox", "79999", again) == []
    versions, rows = _ledger(url)
    assert versions["79999IP0002"] == ("staged", None) and again.counts["released_by_cross_check"] == 1
    assert [r for r in rows if r[0] == "79999IP0002"] == []  # (the replaced version keeps what was found for it)


def test_warnings_do_not_hold_back(tmp_path):
    op = sc.outpatient_drugs_labs()
    op["XML3"][0]["MA_NHOM"] = 13
    url = _stage(tmp_path, [op, _copy(op, 2, shift=H)], "run-1")
    report = jobs.RunReport("run-1", "nightly_export", "")
    found = cross_stage(url, tmp_path / "outbox", "79999", report, exam_limit=1)
    assert {f.code for f in found} == {"CROSS.EXAMS_PER_DAY"}
    versions, _ = _ledger(url)
    assert {m: (s, [r["code"] for r in reasons]) for m, (s, reasons) in versions.items()} == {
        "79999OP0001": ("staged", ["CROSS.EXAMS_PER_DAY"]), "79999OP0002": ("staged", ["CROSS.EXAMS_PER_DAY"])}
    assert report.counts["cross_warnings"] == 2 and "held_back_by_cross_check" not in report.counts
