"""Unattended runs: idempotence, replacement, watermark, crash-resume, check-in, resend, ledger, deadlines."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, func, select, text

from xml130 import jobs
from xml130.demo import demo_mapping, mapping_path
from xml130.demo.his import START, create_demo
from xml130.jobs.deadlines import add_working_days, deadline_for
from xml130.parse import load_table
from xml130.store.ledger import Ledger
from xml130.store.tables import LedgerValueError, checkin_event, hoso_version
from xml130.validate import iter_files, validate_path

DEMO = demo_mapping()  # the demo HIS built by these tests is read through its own mapping


def ma_lk(i: int) -> str:
    return f"79999{START:%y%m}{i:08d}"


@pytest.fixture()
def his(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'his.db'}"
    create_demo(url, 150)
    return url


def ledger_rows(url: str) -> list[tuple]:
    with Ledger(url).engine.connect() as conn:
        return conn.execute(select(hoso_version.c.ma_lk, hoso_version.c.version, hoso_version.c.status)
                            .order_by(hoso_version.c.ma_lk, hoso_version.c.version)).all()


def envelopes(outbox: Path) -> dict[str, bytes]:
    return {p.relative_to(outbox).as_posix(): p.read_bytes() for p in outbox.glob("79999/2*/*/v*.xml")}


def test_rerunning_the_same_window_changes_nothing(his, tmp_path):
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    first = jobs.nightly(his, outbox, ledger, mapping=DEMO)
    # bad data: episodes 13, 17, 106, 110; expired cards (rule R.CARD.VALID_ON_ADMISSION): 12, 57, 102, 147
    assert first.counts["staged"] == 142 and first.counts["quarantined"] == 8
    files, rows = envelopes(outbox), ledger_rows(ledger)
    assert len(files) == 142 and len(rows) == 150
    again = jobs.nightly(his, outbox, ledger, mapping=DEMO, since=dt.datetime(2000, 1, 1))  # the whole history again
    assert dict(again.counts) == {"unchanged": 150, "ledger_rows": 150}
    assert envelopes(outbox) == files and ledger_rows(ledger) == rows
    for path in list(iter_files([outbox / "79999"]))[:40]:
        assert validate_path(path) == []


def test_watermark_moves_forward_and_picks_up_later_episodes(his, tmp_path):
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    cut = dt.datetime(2026, 11, 2, 12, 0)
    part = jobs.nightly(his, outbox, ledger, until=cut, mapping=DEMO)
    with create_engine(his).connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM encounter WHERE closed_at <= :c"), {"c": str(cut)}).scalar()
    assert part.counts["staged"] + part.counts["quarantined"] == before
    assert Ledger(ledger).get_state("nightly:79999") == cut
    rest = jobs.nightly(his, outbox, ledger, mapping=DEMO)  # from the stored watermark
    assert rest.counts["staged"] + rest.counts["quarantined"] == 150 - before
    with create_engine(his).connect() as conn:  # the lookback (a day by default) reads again, changes nothing
        overlap = conn.execute(text("SELECT count(*) FROM encounter WHERE closed_at > :a AND closed_at <= :c"),
                               {"a": str(cut - dt.timedelta(days=1)), "c": str(cut)}).scalar()
    assert overlap > 0 and rest.counts["unchanged"] == overlap
    assert len(ledger_rows(ledger)) == 150


def test_a_changed_source_record_replaces_the_previous_version(his, tmp_path):
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    jobs.nightly(his, outbox, ledger, mapping=DEMO)
    with create_engine(his).begin() as conn:
        conn.execute(text("UPDATE encounter SET dx_out = 'Viêm phổi thùy' WHERE ma_lk = :m"), {"m": ma_lk(1)})
        conn.execute(text("UPDATE patient SET full_name = 'Nguyễn Thị Hoa' WHERE id = "
                          "(SELECT patient_id FROM encounter WHERE ma_lk = :m)"), {"m": ma_lk(13)})  # fixes the bad name
    report = jobs.nightly(his, outbox, ledger, since=dt.datetime(2000, 1, 1), mapping=DEMO)
    assert report.counts["replaced"] == 2 and report.counts["unchanged"] == 148
    rows = [r for r in ledger_rows(ledger) if r[0] in (ma_lk(1), ma_lk(13))]
    assert rows == [(ma_lk(1), 1, "replaced"), (ma_lk(1), 2, "staged"),
                    (ma_lk(13), 1, "replaced"), (ma_lk(13), 2, "staged")]  # the fixed record supersedes its quarantine
    v2 = next(outbox.glob(f"79999/*/{ma_lk(1)}/v2.xml"))
    assert "Viêm phổi thùy".encode() in __import__("base64").b64decode(
        v2.read_text(encoding="utf-8").split("<NOIDUNGFILE>")[1].split("<")[0])
    assert next(outbox.glob(f"79999/*/{ma_lk(1)}/v1.xml")).exists()  # history is kept


def test_resend_creates_a_replacement_with_its_reason(his, tmp_path):
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    jobs.nightly(his, outbox, ledger, mapping=DEMO)
    report = jobs.resend(his, outbox, ledger, [ma_lk(2), ma_lk(4)], "NGAY_TTOAN điền sau thanh toán", mapping=DEMO)
    assert dict(report.counts) == {"replaced": 2, "ledger_rows": 152}
    with Ledger(ledger).engine.connect() as conn:
        reasons = conn.execute(select(hoso_version.c.reasons).where(hoso_version.c.ma_lk == ma_lk(2),
                                                                     hoso_version.c.version == 2)).scalar()
    assert json.loads(reasons) == {"resend": "NGAY_TTOAN điền sau thanh toán"}


def start_big_nightly(tmp_path: Path, **popen) -> tuple[subprocess.Popen, list[str], Path, str]:
    """A nightly run of 3000 episodes in a child process, returned once 300 envelopes are written."""
    his = f"sqlite:///{tmp_path / 'his.db'}"
    create_demo(his, 3000)
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    cmd = [sys.executable, "-m", "xml130.cli", "nightly", "--source", his, "--outbox", str(outbox),
           "--ledger", ledger, "--mapping", str(mapping_path()), "--batch-size", "100"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, **popen)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(outbox.glob("79999/*/*/v1.xml"))) < 300:
        time.sleep(0.05)
    return proc, cmd, outbox, ledger


def check_stopped_then_resumed(cmd: list[str], outbox: Path, ledger: str) -> None:
    """Stopped mid-way: whole files only, the watermark unmoved; the next run completes, no duplicate row."""
    written = list(outbox.glob("79999/*/*/v1.xml"))
    assert 300 <= len(written) < 2900, "the run was not stopped mid-way"
    for p in written[:200]:  # every file that has its final name is whole
        assert p.read_bytes().endswith(b"</GIAMDINHHS>\n")
    assert Ledger(ledger).get_state("nightly:79999") is None  # the watermark did not move
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    assert not list(outbox.rglob(".*.tmp-*"))
    rows = ledger_rows(ledger)
    assert len(rows) == len({(m, v) for m, v, _ in rows}) == 3000
    assert {v for _, v, _ in rows} == {1}
    assert len(list(outbox.glob("79999/*/*/v1.xml"))) == sum(1 for r in rows if r[2] == "staged")


def test_killed_run_resumes_without_partial_files_or_duplicates(tmp_path):
    proc, cmd, outbox, ledger = start_big_nightly(tmp_path, stderr=subprocess.DEVNULL)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    check_stopped_then_resumed(cmd, outbox, ledger)


def test_checkin_documents_skip_emergencies_and_run_once(his, tmp_path):
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    first = jobs.checkin(his, outbox, ledger, mapping=DEMO)
    with create_engine(his).connect() as conn:
        emergencies = conn.execute(text("SELECT count(*) FROM encounter WHERE object_code = '2'")).scalar()
        ward = conn.execute(text("SELECT count(*) FROM encounter WHERE ward_admitted_at IS NOT NULL "
                                 "AND object_code <> '2'")).scalar()
    assert first.counts["skipped"] == emergencies
    assert first.counts["staged"] + first.counts["quarantined"] == (150 - emergencies) + ward
    docs = list(outbox.glob("79999/checkin/*/*.xml"))
    assert len(docs) == first.counts["staged"]
    for d in docs[:30]:
        assert validate_path(d) == []
    # every patient is announced: a self-paying one (38) without card fields, MA_DOITUONG_KCB 9; a stay whose card
    # turned up the next day (39) announces no card on its first day
    for i in (38, 39):
        (doc,) = outbox.glob(f"79999/checkin/*/{ma_lk(i)}-first_cost.xml")
        assert validate_path(doc) == []
        _, (row,) = load_table(doc.read_bytes())
        assert (row.MA_THE_BHYT, row.MA_DKBD, row.GT_THE_TU, row.GT_THE_DEN) == (None,) * 4
        assert row.MA_DOITUONG_KCB == {38: "9", 39: "1.1"}[i]
    second = jobs.checkin(his, outbox, ledger, mapping=DEMO)
    assert dict(second.counts) == {"ledger_rows": 0}
    with Ledger(ledger).engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(checkin_event)).scalar() == \
            first.counts["staged"] + first.counts["quarantined"]


def test_ledger_on_postgresql_and_parquet(his, tmp_path, pg_url):
    outbox = tmp_path / "outbox"
    first = jobs.nightly(his, outbox, pg_url, mapping=DEMO)
    again = jobs.nightly(his, outbox, pg_url, since=dt.datetime(2000, 1, 1), mapping=DEMO)
    assert again.counts["unchanged"] == 150 and len(ledger_rows(pg_url)) == 150
    table = pq.read_table(Path(first.report_dir) / "ledger.parquet")
    assert table.num_rows == 150
    assert set(table.column_names) >= {"ma_lk", "version", "content_hash", "spec_version", "status", "deadline_at"}
    assert sorted(set(table.column("status").to_pylist())) == ["quarantined", "staged"]


def test_deadlines_and_status():
    assert add_working_days(dt.date(2026, 11, 2), 7) == dt.date(2026, 11, 11)
    assert deadline_for(dt.datetime(2026, 11, 2, 10)) == dt.datetime(2026, 11, 11, 23, 59, 59)
    assert deadline_for(dt.datetime(2026, 11, 27, 10)) == dt.datetime(2026, 12, 5)  # month-end costs: before the 5th
    assert deadline_for(dt.datetime(2026, 2, 12, 9)) == dt.datetime(2026, 3, 2, 23, 59, 59)  # Tết does not count
    assert deadline_for(dt.datetime(2026, 8, 27, 9)) == dt.datetime(2026, 9, 5)


def test_status_lists_what_is_late(his, tmp_path):
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    jobs.nightly(his, outbox, ledger, mapping=DEMO)
    summary = Ledger(ledger).summary(today=dt.datetime(2026, 11, 12), within_days=0)
    assert summary["by_status"]["staged"] == 142 and summary["by_status"]["quarantined"] == 8
    late = summary["late"]
    assert late and all(x["overdue"] for x in late)
    assert all(dt.datetime.fromisoformat(x["deadline_at"]) <= dt.datetime(2026, 11, 12) for x in late)
    assert Ledger(ledger).summary(today=dt.datetime(2026, 11, 1), within_days=0)["late"] == []


def test_rule_warnings_travel_with_the_staged_version(his, tmp_path):
    with create_engine(his).begin() as conn:  # an out-of-route benefit level: a warning, not an error
        conn.execute(text("UPDATE encounter SET benefit_pct = 70 WHERE ma_lk = :m"), {"m": ma_lk(3)})
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    report = jobs.nightly(his, outbox, ledger, mapping=DEMO)
    assert report.counts["with_warnings"] == 1
    with Ledger(ledger).engine.connect() as conn:
        status, reasons = conn.execute(select(hoso_version.c.status, hoso_version.c.reasons)
                                       .where(hoso_version.c.ma_lk == ma_lk(3))).one()
    assert status == "staged"
    assert {r["code"] for r in json.loads(reasons)} == {"R.MUC_HUONG.XML2", "R.MUC_HUONG.XML3"}


def test_the_ledger_refuses_a_status_kind_or_outcome_it_does_not_keep(tmp_path):
    """Typed checks, not asserts: they hold under `python -O` and nothing is written."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    with pytest.raises(LedgerValueError, match=r"'sent' is not one of staged, quarantined, submitted"):
        ledger.set_status("79999", "X", 1, "sent")
    row = {"id": 1, "facility": "79999", "ma_lk": "X", "version": 1, "event": None}
    with pytest.raises(LedgerValueError, match=r"'ho_so' is not one of hoso, checkin \(Kind\)"):
        ledger.bytes_in_flight("ho_so", row)
    with pytest.raises(LedgerValueError, match=r"'accepted' is not one of awaiting_signature, staged \(Status\)"):
        ledger.mark_signing("hoso", row, "accepted")
    with pytest.raises(LedgerValueError, match=r"'maybe' is not one of sending, accepted"):
        ledger.finish_submission("hoso", row, 1, None, "maybe")
    with ledger.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(hoso_version)).scalar() == 0
