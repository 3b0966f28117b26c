"""Submission to the local portal: end to end from the demo export, faults, receipts, never twice."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from xml130 import jobs
from xml130.cli import app
from xml130.demo import demo_mapping
from xml130.demo.his import create_demo
from xml130.demo.portal_sim import PortalSim
from xml130.jobs import sha256
from xml130.jobs.deadlines import correction_deadline
from xml130.portal.client import PortalClient, PortalConfig, PortalError
from xml130.store.ledger import Ledger

DEMO = demo_mapping()  # the demo HIS built by these tests is read through its own mapping


@pytest.fixture()
def portal(pki, monkeypatch):
    sim = PortalSim(ca_pem=pki.ca_pem)
    url = sim.start()
    monkeypatch.setenv("XML130_PORTAL_PASSWORD", sim.password)
    yield sim, url
    sim.stop()


def client_for(url: str, **kw) -> PortalClient:
    return PortalClient(PortalConfig(base_url=url, username="bv79999", backoff=0.01, **kw))


@pytest.fixture()
def staged(tmp_path):
    his = f"sqlite:///{tmp_path / 'his.db'}"
    create_demo(his, 40)
    outbox, ledger = tmp_path / "outbox", f"sqlite:///{tmp_path / 'ledger.db'}"
    night = jobs.nightly(his, outbox, ledger, mapping=DEMO)
    check = jobs.checkin(his, outbox, ledger, mapping=DEMO)
    return outbox, ledger, night.counts["staged"], check.counts["staged"]


def due(ledger: str) -> dict[str, str]:
    """MA_LK:version → status of every hồ sơ version still to be sent (staged, or submitted without an answer)."""
    return {f"{r['ma_lk']}:v{r['version']}": r["status"] for r in Ledger(ledger).pending_hoso()}


def accepted_per_file(sim: PortalSim) -> Counter:
    return Counter(r.request_id for r in sim.received)


def test_end_to_end_from_the_demo_export(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    dry = jobs.submit(outbox, ledger, None, None, dry_run=True)
    assert dry.counts["would_send"] == hoso + checkins and sim.requests == 0
    assert [i["kind"] for i in dry.items][:checkins] == ["checkin"] * checkins  # check-ins go first
    client = client_for(url)
    report = jobs.submit(outbox, ledger, client, signer)
    assert report.counts["accepted"] == hoso + checkins and set(report.counts) == {"accepted", "ledger_rows"}
    assert len(sim.received) == hoso + checkins
    subs = Ledger(ledger).submissions()
    assert len(subs) == hoso + checkins and all(s["ma_giao_dich"] and s["thoi_gian_tiep_nhan"] for s in subs)
    by_id = {r.request_id: r.data for r in sim.received}
    assert all(by_id[s["request_id"]] == s["sent_bytes"] for s in subs)  # the ledger keeps the exact bytes sent
    assert not list(outbox.rglob("*.signed.xml"))  # signed bytes live in the ledger only
    summary = json.loads((Path(report.report_dir) / "summary.json").read_text(encoding="utf-8"))
    assert summary["flow"] == "submit" and summary["counts"]["accepted"] == hoso + checkins
    assert Path(report.report_dir) == outbox / "_runs" / report.run_id
    statuses = {r["status"] for r in Ledger(ledger).versions()}
    assert statuses <= {"accepted", "quarantined"}
    before = sim.requests
    again = jobs.submit(outbox, ledger, client, signer)
    assert set(again.counts) == {"ledger_rows"} and sim.requests == before  # nothing is sent twice


def test_patients_without_a_card_are_accepted_and_their_files_validate(portal, staged, signer):
    """Episodes 19 (a foreigner by passport) and 38 (self-paying) of the 40: MA_DOITUONG_KCB 9, no card; 39 has a
    card from its second day. Staged, signed, sent, accepted, and `validate` passes their files."""
    from xml130.demo.his import START
    from xml130.parse import load_envelope
    from xml130.validate import validate_path

    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    report = jobs.submit(outbox, ledger, client_for(url), signer)
    assert report.counts["accepted"] == hoso + checkins
    status = {r["ma_lk"]: r["status"] for r in Ledger(ledger).versions()}
    codes = {}
    for i in (19, 38, 39):
        ma_lk = f"79999{START:%y%m}{i:08d}"
        assert status[ma_lk] == "accepted", ma_lk
        (path,) = outbox.glob(f"79999/*/{ma_lk}/v1.xml")
        assert validate_path(path) == [], ma_lk
        (h,) = load_envelope(path.read_bytes())
        codes[i] = (h.summary.MA_DOITUONG_KCB, h.summary.MA_THE_BHYT is None, str(h.summary.T_BHTT))
    assert codes == {19: ("9", True, "0.00"), 38: ("9", True, "0.00"), 39: ("1.1", False, "1132700.00")}


def test_token_refresh_5xx_retries_and_dropped_connection(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    client = client_for(url)
    client.token()
    sim.expire_tokens()  # the next request gets 401: the client takes a new token once and goes on
    sim.faults.fail_5xx = 2  # then two 503: retried with backoff
    sim.faults.drop = 1  # then one answer lost after the portal recorded the file
    report = jobs.submit(outbox, ledger, client, signer)
    assert report.counts["accepted"] == hoso + checkins and set(report.counts) == {"accepted", "ledger_rows"}
    assert len(sim.received) == hoso + checkins  # the dropped request was retried with its id: recorded once
    assert len({r.request_id for r in sim.received}) == len(sim.received)


def test_a_503_on_the_token_call_is_retried(portal):
    sim, url = portal
    sim.faults.fail_5xx = 3
    client = client_for(url)
    assert client.token() and client.requests == 4 and sim.requests == 4  # three 503, then the token
    sim.faults.fail_5xx = 10
    with pytest.raises(PortalError, match=r"api/token/take: no answer after 5 attempts \(HTTP 503\)"):
        client_for(url).token()


def test_without_a_signer_nothing_is_sent(portal, staged, signer, tmp_path):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    with pytest.raises(jobs.SignerMissing, match="Không có chữ ký số"):
        jobs.submit(outbox, ledger, client_for(url), None)
    r = CliRunner().invoke(app, ["submit", "--outbox", str(outbox), "--ledger", ledger, "--portal", url,
                                 "--user", "bv79999"])
    assert r.exit_code == 2
    assert "Thiếu chữ ký số: Không có chữ ký số (--p12): chưa gửi hồ sơ nào" in r.output
    assert "--unsigned" in r.output
    assert sim.requests == 0 and sim.received == []
    assert len(due(ledger)) == hoso and set(due(ledger).values()) == {"staged"}
    assert Ledger(ledger).submissions() == []


def test_a_123_leaves_the_version_due_and_once_signed_it_is_accepted_once(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    client = client_for(url)
    first = jobs.submit(outbox, ledger, client, None, unsigned=True)  # only a simulator takes --unsigned
    assert first.counts["refused"] == hoso + checkins and "rejected" not in first.counts
    assert sim.requests == 1 + hoso + checkins  # one token, one request per file: not retried
    assert sim.received == []
    assert len(due(ledger)) == hoso and set(due(ledger).values()) == {"staged"}  # due again, not rejected
    subs = Ledger(ledger).submissions()
    assert {(s["outcome"], s["ma_ket_qua"], s["thong_diep"]) for s in subs} == {
        ("refused", "123", "File chưa được ký số")}
    assert all(s["reason"] == "123 (HTTP 200): File chưa được ký số" for s in subs)
    second = jobs.submit(outbox, ledger, client, signer)
    assert second.counts["accepted"] == hoso + checkins
    per_file = accepted_per_file(sim)
    assert len(per_file) == hoso + checkins and set(per_file.values()) == {1}  # each MA_LK accepted once
    assert due(ledger) == {}
    assert jobs.submit(outbox, ledger, client, signer).counts["accepted"] == 0


class ChangedAfterSigning:
    """A signer whose output is altered afterwards (the portal's 125)."""

    def __init__(self, signer):
        self.signer, self.certificate = signer, signer.certificate

    def sign(self, document: bytes) -> bytes:
        return self.signer.sign(document).replace(b"<NGAYLAP>", b"<NGAYLAP> ", 1)


def test_a_signature_our_verifier_refuses_never_leaves_and_401_after_refresh_leaves_it_due(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    client = client_for(url)
    first = jobs.submit(outbox, ledger, client, ChangedAfterSigning(signer))
    # every signed file goes through the verifier first: the changed ones are not sent (three in a row stop the
    # run), the check-ins (no NGAYLAP to change) go
    assert dict(first.counts) == {"accepted": checkins, "not_sent": 3, "left_due": hoso - 3,
                                  "ledger_rows": first.counts["ledger_rows"]}
    assert len(sim.received) == checkins
    refused = [s for s in Ledger(ledger).submissions() if s["kind"] == "hoso"]
    assert [(s["outcome"], s["sent_bytes"]) for s in refused] == [("not_sent", b"")] * 3
    assert refused[0]["reason"] == (
        "SUBMIT.SIGNATURE_INVALID: SIG.DIGEST nội dung đã bị sửa sau khi ký (giá trị băm không khớp) — chưa gửi: chữ "
        "ký không qua kiểm tra (kiểm tra chứng thư số/thiết bị ký), sẽ ký lại lần sau")
    assert set(due(ledger).values()) == {"staged"} and len(due(ledger)) == hoso
    # such a file sent by other means gets the portal's 125
    data = (outbox / Ledger(ledger).pending_hoso()[0]["path"]).read_bytes()
    receipt = client.send_hoso(ChangedAfterSigning(signer).sign(data), "r-125")
    assert (receipt.ma_ket_qua, receipt.outcome) == ("125", "refused") and len(sim.received) == checkins
    sim.token_ttl = 0  # every token is dead on arrival: 401, one refresh, 401 again → the run stops
    second = jobs.submit(outbox, ledger, client_for(url), signer)
    assert second.counts["refused"] == 1 and second.counts["left_due"] == hoso - 1
    assert second.notes == ["stopped: 401 (HTTP 401): Token không hợp lệ hoặc đã hết hạn"]
    assert set(due(ledger).values()) == {"staged"} and len(due(ledger)) == hoso
    sim.token_ttl = 3600
    third = jobs.submit(outbox, ledger, client_for(url), signer)
    assert third.counts["accepted"] == hoso and set(accepted_per_file(sim).values()) == {1}


def test_an_edited_staged_file_is_blocked_and_the_others_are_sent(portal, staged, pki, tmp_path, monkeypatch):
    """Only what was checked is signed: a staged file edited by hand (or gone) is blocked with its own finding —
    nothing of it signed or sent, exit 1 —, status names it, the others go; resend makes a new version that goes."""
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    edited, gone = Ledger(ledger).pending_hoso()[:2]
    path = outbox / edited["path"]
    changed = path.read_bytes().replace(b"<SOLUONGHOSO>1</SOLUONGHOSO>", b"<SOLUONGHOSO>2</SOLUONGHOSO>")
    path.write_bytes(changed)
    (outbox / gone["path"]).unlink()
    (tmp_path / "bv.p12").write_bytes(pki.p12())
    monkeypatch.setenv("XML130_P12_PASSWORD", "secret")
    args = ["submit", "--outbox", str(outbox), "--ledger", ledger, "--portal", url, "--user", "bv79999",
            "--p12", str(tmp_path / "bv.p12")]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 1, r.output
    assert len(sim.received) == hoso + checkins - 2
    sent_ids = {x.request_id for x in sim.received}
    assert f"79999:{edited['ma_lk']}:v1" not in sent_ids and f"79999:{gone['ma_lk']}:v1" not in sent_ids
    expected = {edited["ma_lk"]: (edited, sha256(changed)), gone["ma_lk"]: (gone, "không có tệp")}
    for ma_lk, (row, actual) in expected.items():
        message = (f"Tệp {row['path']} (v1) không còn là tệp đã kiểm tra và ghi sổ (SHA-256 trong sổ "
                   f"{row['content_hash']}, tệp hiện tại {actual}): không ký, không gửi. Tạo lại từ HIS bằng "
                   "`xml130 resend MA_LK --reason …`.")
        [version] = [v for v in Ledger(ledger).versions() if v["ma_lk"] == ma_lk]
        assert version["status"] == "blocked"
        assert json.loads(version["reasons"]) == [{
            "file": row["path"], "ma_lk": ma_lk, "table": None, "field": None, "row": None,
            "code": "SUBMIT.CONTENT_CHANGED", "severity": "error", "message": message,
            "expected_hash": row["content_hash"], "actual_hash": actual}]
        [attempt] = [s for s in Ledger(ledger).submissions() if s["ma_lk"] == ma_lk and s["kind"] == "hoso"]
        assert (attempt["outcome"], attempt["sent_bytes"]) == ("blocked", b"")
        assert f"  blocked: hoso {ma_lk} v1 — SUBMIT.CONTENT_CHANGED: {message}" in r.output
        assert f"    blocked (not what was checked): hoso {ma_lk} v1 — SUBMIT.CONTENT_CHANGED: {message} (now blocked)" \
            in CliRunner().invoke(app, ["status", "--ledger", ledger]).output
    status = json.loads(CliRunner().invoke(app, ["status", "--ledger", ledger, "--format", "json"]).stdout)
    assert status["by_status"]["blocked"] == 2 and status["days"][-1]["sent"]["blocked"] == 2
    again = CliRunner().invoke(app, args)  # blocked: not tried again, not sent
    assert again.exit_code == 0 and len(sim.received) == hoso + checkins - 2
    resent = jobs.resend(f"sqlite:///{tmp_path / 'his.db'}", outbox, ledger, [edited["ma_lk"], gone["ma_lk"]],
                         "tệp bị sửa trong hộp thư đi", mapping=DEMO)
    assert resent.counts["replaced"] == 2
    assert CliRunner().invoke(app, args).exit_code == 0
    assert {f"79999:{edited['ma_lk']}:v2", f"79999:{gone['ma_lk']}:v2"} <= {x.request_id for x in sim.received}
    assert {(v["ma_lk"], v["version"]): v["status"] for v in Ledger(ledger).versions()
            if v["ma_lk"] in expected} == {(m, 1): "replaced" for m in expected} | {(m, 2): "accepted" for m in expected}


def test_5xx_and_timeouts_leave_it_due_and_the_same_bytes_go_again(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    client = client_for(url, timeout=0.2, retries=1)
    client.token()  # the token came through; then the portal gets slow
    sim.faults.slow = 0.6
    second = jobs.submit(outbox, ledger, client, signer)
    assert second.counts["unanswered"] == 3 and second.counts["left_due"] == hoso + checkins - 3
    assert "ReadTimeout" in second.notes[0]
    pending = due(ledger)
    assert len(pending) == hoso and "rejected" not in {r["status"] for r in Ledger(ledger).versions()}
    sim.faults.slow = 0.0
    third = jobs.submit(outbox, ledger, client_for(url), signer)
    assert third.counts["accepted"] == hoso + checkins and set(third.counts) == {"accepted", "ledger_rows"}
    assert len(sim.received) == hoso + checkins  # what the slow portal had recorded is not recorded twice
    sent = {}
    for s in Ledger(ledger).submissions():
        sent.setdefault(s["request_id"], set()).add(s["sent_bytes"])
    assert all(len(v) == 1 for v in sent.values())  # a retry sends exactly the same signed bytes
    assert {s["outcome"] for s in Ledger(ledger).submissions()} == {"unanswered", "accepted"}


def test_a_token_outage_sends_nothing_and_status_says_so(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    sim.faults.token_5xx = 1000  # the token call gets no answer; the send endpoints are fine
    first = jobs.submit(outbox, ledger, client_for(url, retries=1), signer)
    # nothing signed, nothing sent: three files in a row without a token, then the run stops; all stay due
    reason = "chưa gửi: không lấy được token: api/token/take: no answer after 2 attempts (HTTP 503)"
    assert dict(first.counts) == {"not_sent": 3, "left_due": hoso + checkins - 3,
                                  "ledger_rows": first.counts["ledger_rows"]}
    assert first.notes == [f"stopped: {reason}"]
    assert sim.fault_counts == {("api/token/take", "token_5xx"): 6} and sim.received == []
    assert len(due(ledger)) == hoso and set(due(ledger).values()) == {"staged"}  # never "submitted"
    assert {r["status"] for r in Ledger(ledger).pending_checkins()} == {"staged"}
    subs = Ledger(ledger).submissions()
    assert [(s["outcome"], s["sent_bytes"], s["reason"]) for s in subs] == [("not_sent", b"", reason)] * 3
    status = json.loads(CliRunner().invoke(app, ["status", "--ledger", ledger, "--format", "json"]).stdout)
    assert status["by_status"]["submitted"] == 0 and status["checkins_by_status"]["staged"] == checkins
    [day] = status["days"]
    assert day["sent"] == {"accepted": 0, "rejected": 0, "unanswered": 0, "signature_refused": 0, "refused": 0,
                           "not_sent": 3, "blocked": 0}
    assert {(p["outcome"], p["reason"], p["status_now"]) for p in day["problems"]} == {
        ("not_sent", reason, "staged")}
    text = CliRunner().invoke(app, ["status", "--ledger", ledger]).output
    assert f"    not sent: checkin {subs[0]['ma_lk']} {subs[0]['event']} — {reason} (now staged)" in text
    sim.faults.token_5xx = 0
    again = jobs.submit(outbox, ledger, client_for(url), signer)
    assert again.counts["accepted"] == hoso + checkins and len(sim.received) == hoso + checkins


def test_a_refused_login_stops_the_run_at_once_and_sends_nothing(portal, staged, signer, monkeypatch):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    monkeypatch.setenv("XML130_PORTAL_PASSWORD", "sai-mat-khau")
    report = jobs.submit(outbox, ledger, client_for(url), signer)
    reason = "chưa gửi: cổng từ chối đăng nhập (token): token refused: HTTP 401 Sai tên đăng nhập hoặc mật khẩu"
    assert report.counts["not_sent"] == 1 and report.counts["left_due"] == hoso + checkins - 1
    assert report.notes == [f"stopped: {reason}"] and sim.received == []
    assert [s["outcome"] for s in Ledger(ledger).submissions()] == ["not_sent"]
    assert set(due(ledger).values()) == {"staged"}


def test_a_data_rejection_is_rejected_with_its_reasons(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    target = Ledger(ledger).pending_hoso()[0]
    sim.faults.reject_ma_lk = frozenset({target["ma_lk"]})  # the portal refuses this hồ sơ's data
    report = jobs.submit(outbox, ledger, client_for(url), signer)
    assert report.counts["rejected"] == 1 and report.counts["accepted"] == hoso + checkins - 1
    assert report.quarantined_by_code == {"422": 1}
    assert report.quarantine == [
        {"kind": "hoso", "ma_lk": target["ma_lk"], "id": "v1", "outcome": "rejected", "ma_ket_qua": "422",
         "thong_diep": "Dữ liệu không hợp lệ", "reason": "422 (HTTP 422): Dữ liệu không hợp lệ"}]
    quarantine = json.loads((Path(report.report_dir) / "quarantine.json").read_text(encoding="utf-8"))
    assert quarantine == report.quarantine
    [row] = [r for r in Ledger(ledger).versions() if r["ma_lk"] == target["ma_lk"]]
    assert row["status"] == "rejected"
    [sub] = [s for s in Ledger(ledger).submissions() if s["ma_lk"] == target["ma_lk"] and s["kind"] == "hoso"]
    assert (sub["outcome"], sub["http_status"], sub["ma_ket_qua"]) == ("rejected", 422, "422")
    assert json.loads(sub["answer"])["loi"] == [{
        "bang": "XML1", "truong": "MA_LK", "dong": 1, "ma": "SIM.REJECT",
        "thongDiep": f"Mô phỏng từ chối dữ liệu (theo danh sách MA_LK): MA_LK {target['ma_lk']}"}]
    assert sim.fault_counts == {("api/qd130/guiHoSoXmlQD3176", "reject"): 1}
    assert jobs.submit(outbox, ledger, client_for(url), signer).counts["rejected"] == 0  # final: not resent


def test_the_simulator_refuses_wrong_data_with_its_own_validator(portal, staged, signer):
    """A signed file whose envelope is wrong (SOLUONGHOSO 2 for one hồ sơ) is refused with the validator's code."""
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    target = Ledger(ledger).pending_hoso()[0]
    data = (outbox / target["path"]).read_bytes().replace(b"<SOLUONGHOSO>1</SOLUONGHOSO>",
                                                          b"<SOLUONGHOSO>2</SOLUONGHOSO>")
    receipt = client_for(url).send_hoso(signer.sign(data), "r-wrong")
    assert (receipt.http_status, receipt.ma_ket_qua, receipt.outcome) == (422, "422", "rejected")
    assert receipt.raw["loi"][0]["ma"] == "ENVELOPE.COUNT" and sim.received == []


def test_every_nth_file_is_refused_and_each_request_is_one_log_line(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    lines: list[str] = []
    sim.log, sim.faults.reject_every = lines.append, 5
    report = jobs.submit(outbox, ledger, client_for(url), signer)
    files = hoso + checkins
    assert report.counts["rejected"] == hoso // 5 and report.counts["accepted"] == files - hoso // 5
    assert len(lines) == 1 + files and sim.requests == 1 + files  # one token call, one request per file
    token, first = lines[0].split(" ", 1)[1], lines[1].split(" ", 1)[1]
    assert token == "api/token/take id=- HTTP 200 maKetQua=200 fault=-"
    first_id = report.items[0]["request_id"]
    assert first == f"api/qd130/checkInKcbQd3176 id={first_id} HTTP 200 maKetQua=200 fault=-"
    fifth = checkins + 4  # the fifth hồ sơ (the check-ins go first)
    assert lines[1 + fifth].split(" ", 1)[1] == (f"api/qd130/guiHoSoXmlQD3176 id={report.items[fifth]['request_id']} "
                                                 "HTTP 422 maKetQua=422 fault=reject")
    assert [i["ma_lk"] for i in report.items if i["outcome"] == "rejected"] == [
        i["ma_lk"] for i in report.items if i["kind"] == "hoso"][4::5]
    assert sim.fault_counts == {("api/qd130/guiHoSoXmlQD3176", "reject"): hoso // 5}


def test_a_drop_is_used_by_a_file_never_by_the_token_call(portal, staged, signer):
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    lines: list[str] = []
    sim.log = lines.append
    sim.faults.drop, sim.faults.token_5xx = 1, 1
    report = jobs.submit(outbox, ledger, client_for(url), signer)
    assert report.counts["accepted"] == hoso + checkins
    endpoints = [(line.split()[1], line.split(" ", 3)[3]) for line in lines[:4]]
    assert endpoints == [
        ("api/token/take", "HTTP 503 maKetQua=- fault=token_5xx"),  # the token outage: retried
        ("api/token/take", "HTTP 200 maKetQua=200 fault=-"),  # the drop is still there for the first file
        ("api/qd130/checkInKcbQd3176", "no answer fault=drop"),  # recorded, the answer lost
        ("api/qd130/checkInKcbQd3176", "HTTP 200 maKetQua=200 fault=-"),  # the same request id again
    ]
    assert lines[2].split()[2] == lines[3].split()[2]
    assert sim.fault_counts == {("api/token/take", "token_5xx"): 1, ("api/qd130/checkInKcbQd3176", "drop"): 1}
    assert sim.fault_summary() == "api/qd130/checkInKcbQd3176: drop 1; api/token/take: token_5xx 1"
    assert len(sim.received) == hoso + checkins


def test_status_lists_what_to_act_on_per_day(portal, signer, tmp_path):
    sim, url = portal
    his, outbox, ledger = f"sqlite:///{tmp_path / 'his.db'}", tmp_path / "outbox", f"sqlite:///{tmp_path / 'l.db'}"
    create_demo(his, 12)
    assert jobs.nightly(his, outbox, ledger, mapping=DEMO).counts["staged"] == 12
    assert jobs.checkin(his, outbox, ledger, mapping=DEMO).counts["staged"] == 17
    pending = Ledger(ledger).pending_hoso()
    sim.faults.reject_ma_lk = frozenset({pending[1]["ma_lk"]})  # the portal will refuse this one's data
    edited = outbox / pending[0]["path"]  # this one is edited by hand after staging: blocked, never sent
    edited.write_bytes(edited.read_bytes().replace(b"<SOLUONGHOSO>1</SOLUONGHOSO>", b"<SOLUONGHOSO>2</SOLUONGHOSO>"))
    changed = f"{pending[0]['content_hash']}, tệp hiện tại {sha256(edited.read_bytes())}"
    client = client_for(url, retries=0)
    client.token()
    sim.faults.fail_5xx = 1  # the first file (a check-in) gets no answer
    report = jobs.submit(outbox, ledger, client, signer)
    assert {k: report.counts[k] for k in ("accepted", "rejected", "unanswered", "blocked")} == {
        "accepted": 26, "rejected": 1, "unanswered": 1, "blocked": 1}
    today = dt.date.today().isoformat()
    r = CliRunner().invoke(app, ["status", "--ledger", ledger, "--now", "2026-11-13", "--within", "1"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        "hồ sơ: staged 0, quarantined 0, submitted 0, awaiting_signature 0, accepted 10, rejected 1, replaced 0, "
        "blocked 1",
        "check-in: accepted 16, submitted 1",
        today,
        "  hồ sơ staged that day, now: accepted 10, blocked 1, rejected 1",
        "  check-ins made that day, now: accepted 16, submitted 1",
        "  sent (each file's last attempt): accepted 26, rejected 1, unanswered 1, signature refused (123/125) 0, refused 0,"
        " not sent 0, blocked (not what was checked) 1",
        "    unanswered: checkin 79999261100000000 first_cost — api/qd130/checkInKcbQd3176: no answer after 1 attempts"
        " (HTTP 503) (now submitted)",
        f"    blocked (not what was checked): hoso {pending[0]['ma_lk']} v1 — SUBMIT.CONTENT_CHANGED: Tệp "
        f"{pending[0]['path']} (v1) không còn là tệp đã kiểm tra và ghi sổ (SHA-256 trong sổ {changed}): không ký, "
        "không gửi. Tạo lại từ HIS bằng `xml130 resend MA_LK --reason …`. (now blocked)",
        f"    rejected: hoso {pending[1]['ma_lk']} v1 — 422 Dữ liệu không hợp lệ (now rejected)",
        "late: 1 overdue, 0 due within 1 days",  # the rejected one has 2 working days from its rejection (TT 12)
        f"  QUÁ HẠN {pending[0]['ma_lk']} v1 blocked hạn 2026-11-11T23:59:59 (quá 24 giờ)",
    ]
    [rejected_row] = [v for v in Ledger(ledger).versions() if v["status"] == "rejected"]
    [rejected_at] = [s["sent_at"] for s in Ledger(ledger).submissions() if s["outcome"] == "rejected"]
    assert rejected_row["deadline_at"] == correction_deadline(rejected_at)
    j = CliRunner().invoke(app, ["status", "--ledger", ledger, "--format", "json", "--now", "2026-11-13"])
    status = json.loads(j.stdout)
    assert list(status) == ["at", "within_days", "within_hours", "by_status", "checkins_by_status", "days",
                            "to_correct", "late"]
    assert status["to_correct"] == []  # no check across hồ sơ found a sent version in conflict
    assert status["at"] == "2026-11-13T00:00:00" and status["within_days"] == 2
    [day] = status["days"]
    assert day["sent"] == {"accepted": 26, "rejected": 1, "unanswered": 1, "signature_refused": 0, "refused": 0,
                           "not_sent": 0, "blocked": 1}
    rejected = day["problems"][2]
    del rejected["sent_at"]
    assert rejected == {"kind": "hoso", "ma_lk": pending[1]["ma_lk"], "id": "v1", "outcome": "rejected",
                        "ma_ket_qua": "422", "thong_diep": "Dữ liệu không hợp lệ",
                        "reason": "422 (HTTP 422): Dữ liệu không hợp lệ", "status_now": "rejected"}
    # once fixed and sent again, the same day shows the last attempt of each file
    sim.faults.fail_5xx = 0
    again = jobs.submit(outbox, ledger, client_for(url), signer)
    assert again.counts["accepted"] == 1  # the unanswered check-in (same bytes); the blocked hồ sơ waits a resend
    [day] = json.loads(CliRunner().invoke(app, ["status", "--ledger", ledger, "--format", "json"]).stdout)["days"]
    assert day["sent"] == {"accepted": 27, "rejected": 1, "unanswered": 0, "signature_refused": 0, "refused": 0,
                           "not_sent": 0, "blocked": 1}


def test_rate_limit_and_bad_password(portal, monkeypatch):
    sim, url = portal
    client = client_for(url, min_interval=0.05)
    client.token()
    t = time.monotonic()
    for i in range(5):  # five requests: at least four full intervals between them
        client.send_hoso(b"<x/>", f"r{i}")
    assert time.monotonic() - t >= 4 * 0.05
    monkeypatch.setenv("XML130_PORTAL_PASSWORD", "wrong")
    with pytest.raises(PortalError, match="token refused"):
        client_for(url).token()


def test_the_submit_flow_needs_a_signer_unless_unsigned(portal, staged, monkeypatch):
    from pipelines.submit import send, submit

    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    assert submit.parameters.properties["unsigned"]["default"] is False
    monkeypatch.setenv("XML130_P12_PASSWORD", "unused")  # no Secret block lookups in this test
    with pytest.raises(jobs.SignerMissing):
        send.fn(str(outbox), ledger, url, "bv79999", {}, False, False)
    assert sim.requests == 0
    report = send.fn(str(outbox), ledger, url, "bv79999", {"p12": None}, False, True)
    assert report["counts"]["refused"] == hoso + checkins and sim.received == []
    assert len(due(ledger)) == hoso


def test_an_edited_check_in_document_is_blocked_then_written_again_by_checkin(portal, staged, signer, tmp_path):
    """A check-in document edited after staging is blocked like a hồ sơ; `xml130 checkin --since` before its event
    writes it again from the HIS, checked, and the next submit sends it."""
    sim, url = portal
    outbox, ledger, hoso, checkins = staged
    first_checkin = Ledger(ledger).pending_checkins()[0]
    path = outbox / first_checkin["path"]
    original = path.read_bytes()
    path.write_bytes(original.replace(b"</MA_LK>", b"</MA_LK>\n", 1))
    report = jobs.submit(outbox, ledger, client_for(url), signer)
    assert report.counts["blocked"] == 1 and report.counts["accepted"] == hoso + checkins - 1
    with Ledger(ledger).engine.connect() as conn:
        from xml130.store.tables import checkin_event

        status = conn.execute(select(checkin_event.c.status).where(checkin_event.c.id == first_checkin["id"])).scalar()
    assert status == "blocked"
    again = jobs.checkin(f"sqlite:///{tmp_path / 'his.db'}", outbox, ledger, mapping=DEMO,
                         since=dt.datetime(2000, 1, 1))
    with Ledger(ledger).engine.connect() as conn:
        events = len(conn.execute(select(checkin_event.c.id)).all())  # staged and quarantined
    assert (again.counts["staged"], again.counts["unchanged"], again.counts["quarantined"]) == (1, events - 1, 0)
    assert path.read_bytes() == original  # written afresh: the very bytes that were checked
    sent = jobs.submit(outbox, ledger, client_for(url), signer)
    assert dict(sent.counts) == {"accepted": 1, "ledger_rows": sent.counts["ledger_rows"]}
    assert set(accepted_per_file(sim).values()) == {1} and len(sim.received) == hoso + checkins
