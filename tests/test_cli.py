"""The command line as users run it: exit codes, JSON keys, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xml130.cli import app
from xml130.demo import mapping_path

runner = CliRunner()
DEMO_MAPPING = str(mapping_path())  # the demo HIS these tests build is read through its own mapping


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_validate_valid_folder_exits_0(fixtures_dir):
    r = run("validate", fixtures_dir / "valid")
    assert r.exit_code == 0, r.output
    assert "15 tệp, 0 lỗi, 0 cảnh báo." in r.output


def test_validate_json_lists_findings_with_the_documented_keys(fixtures_dir):
    r = run("validate", fixtures_dir / "invalid" / "lost_leading_zero.xml", fixtures_dir / "valid" / "referral.xml",
            "--format", "json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data == [{
        "file": str(fixtures_dir / "invalid" / "lost_leading_zero.xml"), "ma_lk": "79999OP0001", "table": "XML1",
        "field": "MA_LOAI_KCB", "row": 1, "code": "FIELD.FORMAT", "severity": "error",
        "message": "Giá trị '1' của trường MA_LOAI_KCB (bảng XML1) không đúng định dạng: "
                   "mã (không chứa khoảng trắng) theo mẫu \\d{2}.",
    }]


def test_validate_unreadable_or_wrong_call_exits_2(tmp_path, fixtures_dir):
    assert run("validate", tmp_path / "missing.xml").exit_code == 2
    assert run("validate", tmp_path).exit_code == 2  # a folder with no .xml
    assert run("validate", fixtures_dir / "valid", "--format", "yaml").exit_code == 2
    assert run("validate", fixtures_dir / "valid", "--spec-version", "9").exit_code == 2
    assert run("validate").exit_code == 2


def test_garbage_is_a_finding_not_a_crash(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"\x00\x01not xml at all")
    r = run("validate", bad, "--format", "json")
    assert r.exit_code == 2  # not XML at all: unusable input, named as a finding
    assert [f["code"] for f in json.loads(r.stdout)] == ["FILE.NOT_XML"]
    broken = tmp_path / "broken.xml"  # XML that breaks off: a finding, exit 1
    broken.write_bytes(b"<TONG_HOP><MA_LK>")
    r = run("validate", broken, "--format", "json")
    assert r.exit_code == 1 and [f["code"] for f in json.loads(r.stdout)] == ["XML.MALFORMED"]


def test_a_file_that_is_not_xml_exits_2_and_the_others_are_still_checked(tmp_path, fixtures_dir):
    """JSON named .xml (issue 24): one FILE.NOT_XML finding, every other file of the folder checked, exit 2."""
    (tmp_path / "a_export.xml").write_text('{"MA_LK": "79999OP0001", "HO_TEN": "x"}', encoding="utf-8")
    (tmp_path / "b_ok.xml").write_bytes((fixtures_dir / "valid" / "referral.xml").read_bytes())
    (tmp_path / "c_bad.xml").write_bytes((fixtures_dir / "invalid" / "bad_date.xml").read_bytes())
    r = run("validate", tmp_path, "--format", "json")
    assert r.exit_code == 2
    got = [(Path(f["file"]).name, f["code"]) for f in json.loads(r.stdout)]
    assert got == [("a_export.xml", "FILE.NOT_XML"), ("c_bad.xml", "FIELD.DATE")]
    message = json.loads(r.stdout)[0]["message"]
    assert message == "Tệp không phải XML (bắt đầu bằng '{' — có vẻ là JSON): cổng BHXH chỉ nhận tệp XML theo QĐ 130."


def test_inspect_decodes_the_envelope(fixtures_dir):
    r = run("inspect", fixtures_dir / "valid" / "birth_twins.xml", "--format", "json")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["kind"] == "envelope" and doc["macskcb"] == "79999" and doc["signed"] is False
    tables = {t["loaihoso"]: t for t in doc["hoso"][0]["tables"]}
    assert list(tables) == ["XML1", "XML2", "XML3", "XML5", "XML7", "XML8", "XML9"]
    assert [r["CAN_NANG_CON"] for r in tables["XML9"]["rows"]] == ["2800", "2650"]
    assert tables["XML1"]["rows"][0]["MA_LK"] == doc["hoso"][0]["ma_lk"] == "79999BT0003"
    text = run("inspect", fixtures_dir / "valid" / "checkin.xml")
    assert text.exit_code == 0 and "XML0" in text.output


def test_inspect_shows_broken_parts_and_refuses_non_xml(fixtures_dir, tmp_path):
    r = run("inspect", fixtures_dir / "invalid" / "broken_base64.xml", "--format", "json")
    assert r.exit_code == 0
    xml4 = json.loads(r.stdout)["hoso"][0]["tables"][3]
    assert xml4["loaihoso"] == "XML4" and xml4["error"].startswith("NOIDUNGFILE không giải mã được base64")
    junk = tmp_path / "junk.xml"
    junk.write_text("hello")
    assert run("inspect", junk).exit_code == 2
    assert run("inspect", tmp_path / "none.xml").exit_code == 2


def test_schemas_check_passes_on_the_repo(root):
    r = run("schemas", "check", "--dir", root / "schemas")
    assert r.exit_code == 0 and "XSDs match the spec." in r.output


def test_demo_runs_the_nightly_export_on_the_demo_his(tmp_path):
    r = run("demo", "--out", tmp_path, "--encounters", "120")
    assert r.exit_code == 0, r.output
    assert "as the demo data expects" in r.output and "0 errors" in r.output
    assert f"next (with .venv/bin on PATH): xml130 status --ledger sqlite:///{tmp_path / 'ledger.db'}; " in r.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    counts = report["nightly"]["counts"]
    assert counts["staged"] + counts["quarantined"] == 120 and counts["quarantined"] == 7 + 4 + 2  # data: 13, 17, 106, 110; rules (expired card): 12, 57, 102; + the 4 planted catalogue mismatches + the 2 held back
    assert counts["held_back_by_cross_check"] == 2  # the planted overlapping surgeries (files kept, not sendable)
    assert report["validation"]["errors"] == 0
    assert len(list((tmp_path / "outbox" / "79999").glob("2*/*/v1.xml"))) == counts["staged"] + 2  # held-back files stay
    assert report["checkin"]["counts"]["staged"] > 0
    assert not list((tmp_path / "outbox").rglob(".*tmp*"))
    adoption = report["adoption"]
    assert adoption["period"] == "2026-W45" and adoption["total"]["examined"] == 120  # one patient per episode
    assert (tmp_path / "adoption" / "adoption-2026-W45.xlsx").exists() and "VNeID adoption report" in r.output
    again = run("status", "--ledger", f"sqlite:///{tmp_path / 'ledger.db'}", "--format", "json", "--now", "2026-11-01")
    by_status = json.loads(again.stdout)["by_status"]  # the run's counts are the ledger's
    assert (by_status["staged"], by_status["quarantined"]) == (counts["staged"], counts["quarantined"])
    rerun = run("demo", "--out", tmp_path, "--encounters", "120")  # the README's command can be run again
    assert rerun.exit_code == 0 and "as the demo data expects" in rerun.output


def test_export_cli_modes_and_errors(tmp_path):
    db = f"sqlite:///{tmp_path / 'his.db'}"
    assert run("demo-his", "--url", db, "--encounters", "40").exit_code == 0
    r = run("export", "--source", db, "--out", tmp_path / "a", "--mapping", DEMO_MAPPING, "--ma-lk",
            "79999261100000003", "--ma-lk", "79999261100000004")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "a").glob("*.xml")) == ["79999261100000003.xml", "79999261100000004.xml"]
    r = run("export", "--source", db, "--out", tmp_path / "b", "--mapping", DEMO_MAPPING, "--from", "2026-11-02",
            "--to", "2026-11-02T09:00")
    assert r.exit_code == 0 and "closed after" in r.output
    r = run("export", "--source", db, "--out", tmp_path / "c", "--mapping", DEMO_MAPPING)  # every closed episode:
    assert r.exit_code == 1  # 13 and 17 are bad data, 12 has a card expired on admission (a rule, as in nightly)
    q = json.loads((tmp_path / "c" / "quarantine.json").read_text(encoding="utf-8"))
    assert [(e["ma_lk"], e["reasons"][0]["code"]) for e in q] == [
        ("79999261100000012", "R.CARD.VALID_ON_ADMISSION"), ("79999261100000013", "FIELD.TOO_LONG"),
        ("79999261100000017", "FIELD.FORMAT")]
    assert run("export", "--source", db, "--out", tmp_path / "d", "--mapping", DEMO_MAPPING, "--since",
               "yesterday").exit_code == 2
    assert run("export", "--source", db, "--out", tmp_path / "d", "--mapping", DEMO_MAPPING, "--since", "2026-11-01",
               "--ma-lk", "x").exit_code == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[mapping]\nname = 'x'\n", encoding="utf-8")
    r = run("export", "--source", db, "--out", tmp_path / "e", "--mapping", bad)
    assert r.exit_code == 2 and "[mapping] needs facility" in r.output
    r = run("export", "--source", f"sqlite:///{tmp_path / 'nothing' / 'x.db'}", "--out", tmp_path / "f", "--mapping",
            DEMO_MAPPING)
    assert r.exit_code == 2 and "x.db does not exist" in r.output


def test_the_jobs_need_the_hospitals_mapping(tmp_path, monkeypatch):
    """No demo in production paths: without --mapping or XML130_MAPPING every command that reads a HIS is exit 2
    naming both, before anything is read or written; the demo's mapping is never taken instead."""
    monkeypatch.delenv("XML130_MAPPING", raising=False)
    his = f"sqlite:///{tmp_path / 'some_his.db'}"
    assert run("demo-his", "--url", his, "--encounters", "5").exit_code == 0
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    for args in (("nightly", "--source", his, "--outbox", tmp_path / "out", "--ledger", ledger),
                 ("checkin", "--source", his, "--outbox", tmp_path / "out", "--ledger", ledger),
                 ("resend", "79999261100000003", "--reason", "x", "--source", his, "--outbox", tmp_path / "out",
                  "--ledger", ledger),
                 ("export", "--source", his, "--out", tmp_path / "out"),
                 ("adoption-report", "--source", his, "--out", tmp_path / "out"),
                 ("mapping", "check", "--source", his)):
        r = run(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "Không có cấu hình ánh xạ: no mapping: give --mapping FILE or set XML130_MAPPING" in r.output, args
    assert not (tmp_path / "out").exists() and not (tmp_path / "ledger.db").exists()
    monkeypatch.setenv("XML130_MAPPING", DEMO_MAPPING)  # the same command with the mapping from the environment
    r = run("nightly", "--source", his, "--outbox", tmp_path / "out", "--ledger", ledger)
    assert r.exit_code == 0 and ": staged 5," in r.output, r.output


@pytest.mark.slow
def test_console_script_prints_no_traceback(tmp_path):
    bad = tmp_path / "x.xml"
    bad.write_bytes(b"<GIAMDINHHS><THONGTINHOSO>")
    exe = [sys.executable, "-m", "xml130.cli"]
    p = subprocess.run([*exe, "inspect", str(bad)], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr + p.stdout
    p = subprocess.run([*exe, "validate", str(bad)], capture_output=True, text=True)
    assert p.returncode == 1 and "XML.MALFORMED" in p.stdout and "Traceback" not in p.stderr


def test_rules_command_lists_the_catalogue(root):
    r = run("rules", "--format", "json")
    assert r.exit_code == 0
    rules = json.loads(r.stdout)
    assert len(rules) >= 60
    first = next(x for x in rules if x["code"] == "R.TOTAL.T_TONGCHI_BV")
    assert first["severity"] == "error" and first["tables"] == ["XML1", "XML2", "XML3"]
    assert set(first) == {"code", "severity", "tables", "fields", "period", "title", "message", "source",
                          "applies_to"}
    assert first["applies_to"] == "all"  # every visit; "insured" rules skip MA_DOITUONG_KCB 9
    assert {x["code"]: x["applies_to"] for x in rules if x["code"].startswith("R.UNINSURED.")} == {
        "R.UNINSURED.NO_CARD": "uninsured", "R.UNINSURED.NO_FUND": "uninsured"}
    assert first["source"].startswith("QĐ 130 (4750), XML1, T_TONGCHI_BV: «là tổng số tiền THANH_TIEN_BV")
    assert [x["code"] for x in rules if not x["source"].strip()] == []  # every rule names the clause it enforces
    listed = run("rules").stdout.splitlines()
    assert next(x for x in listed if x.startswith("R.MUC_HUONG.XML2 ")).endswith("[chỉ KCB BHYT]")
    assert next(x for x in listed if x.startswith("R.UNINSURED.NO_FUND ")).endswith("[chỉ MA_DOITUONG_KCB 9]")
    md = run("rules", "--format", "markdown")
    assert md.stdout == (root / "docs" / "rules.md").read_text(encoding="utf-8")  # docs/rules.md is generated


def test_validate_with_rules_junit_and_html(tmp_path, fixtures_dir):
    from decimal import Decimal

    from xml130.demo import scenarios as sc
    from xml130.models import build_hoso
    from xml130.render import render_hoso

    raw = sc.outpatient_drugs_labs()
    raw["XML1"]["T_THUOC"] += Decimal("1.00")
    bad = tmp_path / "rule.xml"
    bad.write_bytes(render_hoso(build_hoso(raw), ngaylap="20261120"))
    r = run("validate", bad, "--format", "json")
    assert r.exit_code == 1 and [f["code"] for f in json.loads(r.stdout)] == ["R.TOTAL.T_THUOC"]
    assert run("validate", bad, "--no-rules").exit_code == 0
    report = tmp_path / "r" / "report.html"
    junit = run("validate", bad, fixtures_dir / "valid" / "referral.xml", "--format", "junit", "--report", report)
    assert junit.exit_code == 1
    from lxml import etree

    suite = etree.fromstring(junit.stdout.encode())
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    assert suite.find("testcase/failure").get("message") == "1 lỗi: R.TOTAL.T_THUOC"
    html = report.read_text(encoding="utf-8")
    assert "<svg" in html and "R.TOTAL.T_THUOC" in html and "79999OP0001" in html
    assert "src=" not in html and "href=" not in html  # no external resource: readable offline


def test_mistyped_database_files_are_refused_not_created(tmp_path):
    """A mistyped SQLite path is exit 2 naming the file; nothing is created (a new empty ledger would read as
    "nothing to do" in the morning check)."""
    ledger = tmp_path / "typo.db"
    for args in (("status", "--ledger", f"sqlite:///{ledger}"), ("catalog", "list", "--ledger", f"sqlite:///{ledger}")):
        r = run(*args)
        assert r.exit_code == 2 and "typo.db does not exist" in r.output, (args, r.output)
        assert not ledger.exists()
    his = tmp_path / "his.dbx"
    r = run("export", "--source", f"sqlite:///{his}", "--out", tmp_path / "o", "--mapping", DEMO_MAPPING)
    assert r.exit_code == 2 and "his.dbx does not exist" in r.output and not his.exists()


def test_a_date_alone_as_upper_bound_is_the_whole_day():
    import datetime as dt

    from xml130.cli import when_end

    assert when_end("2026-11-06") == dt.datetime(2026, 11, 6, 23, 59, 59, 999999)
    assert when_end("06/11/2026") == dt.datetime(2026, 11, 6, 23, 59, 59, 999999)
    assert when_end("2026-11-06T09:00") == dt.datetime(2026, 11, 6, 9, 0)
    assert when_end(None) is None


def test_the_console_prints_colons_as_written():
    from xml130.cli import out

    with out.capture() as cap:
        out.print("demo_his.toml:100: tables.XML1.fields", markup=False)
    assert cap.get().strip() == "demo_his.toml:100: tables.XML1.fields"
