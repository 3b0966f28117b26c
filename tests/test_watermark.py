"""No lost records: the nightly window starts ``lookback`` before the stored watermark, so a visit whose
transaction commits after a run had read past its closing time — or that closed in the same minute as the
watermark, with a HIS that keeps minutes only — is staged by the next run, and nothing is staged twice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, func, select, text

from xml130 import jobs
from xml130.demo import his as demo
from xml130.demo import his_vn as vn
from xml130.demo import mapping_path
from xml130.mapping import load_mapping
from xml130.store.ledger import Ledger
from xml130.store.tables import hoso_version

SHAPES = {  # HIS shape → (create, MA_LK of episode i, table, closing column, closing time as the HIS writes it)
    "demo (timestamps)": (demo.create_demo, lambda i: f"{demo.FACILITY}{demo.START:%y%m}{i:08d}", "encounter",
                          "closed_at", None),
    "vn (text dd/mm/yyyy hh:mm)": (vn.create_vn_his, vn.ma_lk, "luot_kham", "ngay_dong", vn.TEXT_DT),
}


def versions(ledger: str) -> dict[str, int]:
    with Ledger(ledger).engine.connect() as conn:
        return dict(conn.execute(select(hoso_version.c.ma_lk, func.count()).group_by(hoso_version.c.ma_lk)).all())


def _setup(shape: str, tmp_path, late: int):
    create, ma_lk, table, column, fmt = SHAPES[shape]
    url = f"sqlite:///{tmp_path / 'his.db'}"
    create(url, 30)
    mapping = load_mapping(mapping_path() if fmt is None else mapping_path("vn_his.toml"))
    engine = create_engine(url)
    with engine.begin() as conn:  # the late visit's transaction has not committed yet: no closing time visible
        stored = conn.execute(text(f"SELECT {column} FROM {table} WHERE ma_lk = :m"), {"m": ma_lk(late)}).scalar()
        conn.execute(text(f"UPDATE {table} SET {column} = NULL WHERE ma_lk = :m"), {"m": ma_lk(late)})
    closed = dt.datetime.strptime(stored, fmt) if fmt else (
        stored if isinstance(stored, dt.datetime) else dt.datetime.fromisoformat(stored))

    def commit() -> None:
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE {table} SET {column} = :v WHERE ma_lk = :m"), {"v": stored, "m": ma_lk(late)})
    return url, mapping, ma_lk, closed, commit


@pytest.mark.parametrize("shape", SHAPES)
def test_a_visit_committed_after_the_run_is_staged_by_the_next_run(shape, tmp_path):
    url, mapping, ma_lk, closed, commit = _setup(shape, tmp_path, late=10)
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    watermark = closed + dt.timedelta(minutes=50)  # the run read past the late visit's closing time
    first = jobs.nightly(url, outbox, ledger, mapping=mapping, until=watermark)
    assert ma_lk(10) not in versions(ledger) and Ledger(ledger).get_state(f"nightly:{mapping.facility}") == watermark
    commit()
    second = jobs.nightly(url, outbox, ledger, mapping=mapping)
    assert versions(ledger)[ma_lk(10)] == 1
    assert second.counts["staged"] + second.counts["quarantined"] == 30 - sum(first.counts[k] for k in
                                                                             ("staged", "quarantined"))
    assert second.counts["unchanged"] > 0  # the overlap was read again and changed nothing
    assert set(versions(ledger).values()) == {1} and len(versions(ledger)) == 30  # nothing staged twice
    third = jobs.nightly(url, outbox, ledger, mapping=mapping, since=dt.datetime(2000, 1, 1))
    assert dict(third.counts) == {"unchanged": 30, "ledger_rows": 30}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_visit_closed_in_the_same_minute_as_the_watermark_is_staged(shape, tmp_path):
    url, mapping, ma_lk, closed, commit = _setup(shape, tmp_path, late=12)
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    jobs.nightly(url, outbox, ledger, mapping=mapping, until=closed + dt.timedelta(seconds=22))  # 02:29:22
    commit()  # closed at 02:29 (the minute is all the HIS keeps), committed just after the run
    jobs.nightly(url, outbox, ledger, mapping=mapping)
    assert versions(ledger)[ma_lk(12)] == 1 and set(versions(ledger).values()) == {1}


def test_without_lookback_the_late_visit_would_be_lost(tmp_path):
    """The failure the lookback prevents, shown: the same late commit with no overlap is never read."""
    url, mapping, ma_lk, closed, commit = _setup("vn (text dd/mm/yyyy hh:mm)", tmp_path, late=10)
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    jobs.nightly(url, outbox, ledger, mapping=mapping, until=closed + dt.timedelta(minutes=50))
    commit()
    jobs.nightly(url, outbox, ledger, mapping=mapping, lookback=dt.timedelta(0))
    assert ma_lk(10) not in versions(ledger) and len(versions(ledger)) == 29
    assert mapping.lookback == dt.timedelta(days=1)
