"""The command line as users run it: exit codes, JSON keys, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from xml130.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_validate_valid_folder_exits_0(fixtures_dir):
    r = run("validate", fixtures_dir / "valid")
    assert r.exit_code == 0, r.output
    assert "14 tệp, 0 lỗi, 0 cảnh báo." in r.output


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
    assert r.exit_code == 1
    assert [f["code"] for f in json.loads(r.stdout)] == ["XML.MALFORMED"]


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


def test_demo_writes_outbox_and_quarantine(tmp_path):
    r = run("demo", "--out", tmp_path, "--count", "5")
    assert r.exit_code == 0, r.output
    outbox = sorted(p.name for p in (tmp_path / "outbox").glob("*.xml"))
    assert len(outbox) == 12 + 5
    quarantine = json.loads((tmp_path / "quarantine.json").read_text(encoding="utf-8"))
    assert [(q["ma_lk"], [(x["code"], x["table"], x["field"]) for x in q["reasons"]]) for q in quarantine] == [
        ("79999QX0001", [("FIELD.TOO_LONG", "XML1", "HO_TEN")]),
        ("79999QX0002", [("FIELD.FLOAT", "XML2", "DON_GIA")]),
    ]
    assert not list((tmp_path / "outbox").glob(".*tmp*"))


@pytest.mark.slow
def test_console_script_prints_no_traceback(tmp_path):
    bad = tmp_path / "x.xml"
    bad.write_bytes(b"<GIAMDINHHS><THONGTINHOSO>")
    exe = [sys.executable, "-m", "xml130.cli"]
    p = subprocess.run([*exe, "inspect", str(bad)], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr + p.stdout
    p = subprocess.run([*exe, "validate", str(bad)], capture_output=True, text=True)
    assert p.returncode == 1 and "XML.MALFORMED" in p.stdout and "Traceback" not in p.stderr
