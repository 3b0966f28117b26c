"""Deadlines as dated data (data/deadlines.toml): TT 48/2017 (7 working days, before the 5th of the next month), the
draft's 3 hours from 01/01/2027 only when a hospital switches it on, TT 12/2026/TT-BTC's 2 working days for a
correction after the portal reports an error; the hours left in `status`."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from xml130 import jobs
from xml130.cli import app
from xml130.demo import demo_mapping
from xml130.demo.his import _case_of
from xml130.demo.live import DemoHis
from xml130.jobs.deadlines import correction_deadline, deadline_for, governing, limits, switched_on
from xml130.jobs.status import ledger_status, status_lines
from xml130.portal.client import Receipt
from xml130.store.ledger import Ledger
from xml130.store.tables import now

DRAFT = frozenset({"DRAFT_TT48.3H"})


def test_the_entries_name_their_instrument_and_date():
    assert [(x.id, x.applies_to, x.effective_from, x.opt_in) for x in limits()] == [
        ("TT48.7_WORKING_DAYS", "hoso", dt.date(2018, 3, 1), False),
        ("TT48.MONTH_END", "hoso", dt.date(2018, 3, 1), False),
        ("DRAFT_TT48.3H", "hoso", dt.date(2027, 1, 1), True),
        ("TT12_2026.CORRECTION_2_WORKING_DAYS", "correction", dt.date(2026, 4, 1), False)]
    assert all(x.source.startswith(("TT 48/2017/TT-BYT", "Draft replacing TT 48/2017", "TT 12/2026/TT-BTC"))
               for x in limits())


def test_tt48_seven_working_days_and_the_month_end():
    none = frozenset()
    assert deadline_for(dt.datetime(2026, 11, 2, 10), on=none) == dt.datetime(2026, 11, 11, 23, 59, 59)
    assert governing("hoso", dt.datetime(2026, 11, 27, 10), on=none)[1].id == "TT48.MONTH_END"
    assert deadline_for(dt.datetime(2026, 11, 27, 10), on=none) == dt.datetime(2026, 12, 5)
    assert deadline_for(dt.datetime(2017, 6, 1, 10), on=none) is None  # before TT 48 applied: no entry


def test_the_drafts_three_hours_apply_from_2027_only_when_switched_on():
    after = dt.datetime(2027, 1, 4, 10, 0)
    assert deadline_for(after, on=frozenset()) == dt.datetime(2027, 1, 13, 23, 59, 59)  # off: TT 48
    assert deadline_for(after, on=DRAFT) == dt.datetime(2027, 1, 4, 13, 0)
    assert governing("hoso", after, on=DRAFT)[1].id == "DRAFT_TT48.3H"
    before = dt.datetime(2026, 12, 31, 22, 0)  # switched on, but not in force yet
    assert deadline_for(before, on=DRAFT) == dt.datetime(2027, 1, 5)  # TT 48: before the 5th (1/1 a holiday)


def test_switching_on_by_configuration(monkeypatch):
    monkeypatch.setenv("XML130_DEADLINES", "DRAFT_TT48.3H")
    assert switched_on() == DRAFT and deadline_for(dt.datetime(2027, 2, 1, 8)) == dt.datetime(2027, 2, 1, 11)
    monkeypatch.setenv("XML130_DEADLINES", "DRAFT_3H")
    with pytest.raises(ValueError, match="XML130_DEADLINES: unknown DRAFT_3H; the entries to switch on are "
                                         "DRAFT_TT48.3H"):
        switched_on()


def test_tt12_two_working_days_to_correct_after_the_portal_reports_an_error():
    friday = dt.datetime(2026, 11, 6, 15, 0)
    assert correction_deadline(friday) == dt.datetime(2026, 11, 10, 23, 59, 59)  # Monday, Tuesday
    assert correction_deadline(dt.datetime(2026, 8, 31, 9)) == dt.datetime(2026, 9, 4, 23, 59, 59)  # 1–2/9 off
    assert correction_deadline(dt.datetime(2026, 3, 20, 9)) is None  # before TT 12/2026 applied


def _version(url: str, ma_lk: str, deadline: dt.datetime, status: str = "staged") -> dict:
    row = dict(facility="79999", ma_lk=ma_lk, version=1, content_hash=jobs.sha256(b"<GIAMDINHHS/>"),
               spec_version="3176", status=status,
               reasons=None, path=f"79999/x/{ma_lk}/v1.xml", closed_at=deadline - dt.timedelta(days=9),
               deadline_at=deadline, run_id="r", replaces=None)
    Ledger(url).add_versions([row])
    return row


def test_a_rejection_gives_the_version_the_correction_deadline_and_status_shows_hours_left(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(url)
    row = _version(url, "A1", dt.datetime(2030, 1, 1))
    (tmp_path / "outbox" / row["path"]).parent.mkdir(parents=True)
    (tmp_path / "outbox" / row["path"]).write_bytes(b"<GIAMDINHHS/>")

    class Rejects:  # the portal refuses the data (HTTP 422)
        def send_hoso(self, data, request_id):
            return Receipt(422, "422", None, None, "Dữ liệu không hợp lệ")

    before = now()
    report = jobs.submit(tmp_path / "outbox", url, Rejects(), None, unsigned=True)
    assert report.counts["rejected"] == 1
    (version,) = list(ledger.versions())
    assert version["status"] == "rejected"
    assert version["deadline_at"] in {correction_deadline(before), correction_deadline(now())}

    at = version["deadline_at"] - dt.timedelta(hours=5, minutes=30)
    status = ledger_status(ledger, at, within_hours=6)
    assert status["within_hours"] == 6
    assert status["late"] == [{"ma_lk": "A1", "version": 1, "status": "rejected",
                               "deadline_at": version["deadline_at"].isoformat(), "hours_left": 5.5,
                               "overdue": False}]
    lines = status_lines(status)
    assert lines[-2:] == ["late: 0 overdue, 1 due within 6 hours",
                          f"  sắp đến hạn A1 v1 rejected hạn {version['deadline_at'].isoformat()} (còn 5.5 giờ)"]
    assert ledger_status(ledger, at, within_hours=5)["late"] == []
    r = CliRunner().invoke(app, ["status", "--ledger", url, "--now", (at + dt.timedelta(hours=7)).isoformat(),
                                 "--hours", "1"])
    assert r.exit_code == 0, r.output
    assert f"  QUÁ HẠN A1 v1 rejected hạn {version['deadline_at'].isoformat()} (quá 1.5 giờ)" in r.output.splitlines()


def test_a_visit_after_2027_staged_with_the_three_hours_switched_on(tmp_path, monkeypatch):
    his_url, ledger = f"sqlite:///{tmp_path / 'his.db'}", f"sqlite:///{tmp_path / 'ledger.db'}"
    his = DemoHis(his_url)
    first = next(i for i in range(1000, 2000) if _case_of(i)[0] == "outpatient")
    ma_lk, case = his.close_now(first, dt.datetime(2027, 1, 4, 10, 30))  # left at 10:00 (NGAY_RA), closed 10:30
    assert case == "outpatient"
    monkeypatch.setenv("XML130_DEADLINES", "DRAFT_TT48.3H")
    report = jobs.nightly(his_url, tmp_path / "outbox", ledger, mapping=demo_mapping(), until=dt.datetime(2027, 1, 4, 11))
    assert report.counts["staged"] == 1
    (version,) = list(Ledger(ledger).versions())
    assert (version["ma_lk"], version["deadline_at"]) == (ma_lk, dt.datetime(2027, 1, 4, 13, 0))
    status = ledger_status(Ledger(ledger), dt.datetime(2027, 1, 4, 11, 15), within_hours=2)
    assert [(x["ma_lk"], x["hours_left"]) for x in status["late"]] == [(ma_lk, 1.8)]
