"""The standard's own text is the test: every worked example of the appendix of QĐ 130/4750 (and every format it
states in words) placed into a valid hồ sơ validates — or fails with the code named — like `xml130 validate`."""

from __future__ import annotations

import json
import re

import pytest

from xml130 import conformance as cf
from xml130.demo import scenarios as sc
from xml130.findings import ERROR

TRIALS = list(cf.trials())
BASES = cf.Bases(sc.VALID, sc.checkin_rows, sc.xml12_row, sc.NGAYLAP)  # the synthetic scenarios, given as input


def _id(trial):
    case, value = trial
    return f"{case.table}.{case.field}={value or '(empty)'}"


@pytest.mark.parametrize("trial", TRIALS, ids=[_id(t) for t in TRIALS])
def test_the_standards_value_gives_what_the_text_says(trial):
    case, value = trial
    data = cf.place(case, value, BASES)
    assert _carries(data, case.field, value), f"{case.field} does not hold {value!r} in the file"
    findings = cf.check(case, value, BASES)
    errors = [f for f in findings if f.severity == ERROR]
    if case.expect == cf.VALID:
        assert errors == [], [(f.code, f.table, f.field, f.message) for f in errors]
    else:
        assert [f.code for f in errors] == [case.expect], [(f.code, f.field, f.message) for f in findings]
        assert errors[0].field == case.field or case.expect.startswith("R.")


def _carries(data: bytes, field: str, value: str) -> bool:
    """The value travels exactly as the text writes it (inside the base64 of an envelope, or in the document)."""
    import base64

    texts = [data.decode("utf-8")]
    texts += [base64.b64decode(b).decode("utf-8") for b in re.findall(rb"<NOIDUNGFILE>([^<]+)<", data)]
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    wanted = f"<{field}>{escaped}</{field}>" if value else f"<{field}/>"
    return any(wanted in t or (not value and f"<{field}></{field}>" in t) for t in texts)


def test_every_appendix_example_has_a_case_or_a_reason():
    cat = cf.suite()
    assert len(cat.appendix_fields) == 53  # tools/appendix_examples.py on ../shared/standard/qd4750
    tested = {f"{c.table}.{c.field}" for c in cat.cases if c.source == "example"}
    reasons = {f"{u.table}.{u.field}" for u in cat.untestable}
    assert [f for f in cat.appendix_fields if f not in tested | reasons] == []
    assert tested | reasons <= set(cat.appendix_fields)  # an "example" is one the appendix really gives


def test_all_eleven_bid_examples_are_valid_in_their_table():
    bids = {(c.table, v) for c, v in TRIALS if c.field == "TT_THAU" and c.source == "example"}
    assert len({v for _, v in bids}) == 12  # eleven coded forms and the drug decision before coding (46/…;2020)
    assert all(cf.outcome(cf.check(c, v, BASES)) == cf.VALID for c, v in TRIALS if (c.table, v) in bids)


def test_the_bid_examples_pass_the_validate_command(tmp_path):
    """What a new user does: the appendix's TT_THAU in a real file, `xml130 validate` → exit 0."""
    from typer.testing import CliRunner

    from xml130.cli import app

    for i, (case, value) in enumerate((c, v) for c, v in TRIALS if c.field == "TT_THAU" and c.expect == cf.VALID):
        path = tmp_path / f"{case.table}-{i}.xml"
        path.write_bytes(cf.place(case, value, BASES))
        result = CliRunner().invoke(app, ["validate", str(path), "--format", "json"])
        assert (result.exit_code, json.loads(result.stdout)) == (0, []), (value, result.stdout)
    wrong = next((c, v) for c, v in TRIALS if c.field == "TT_THAU" and c.expect == "R.BID.SYNTAX")
    (tmp_path / "wrong.xml").write_bytes(cf.place(*wrong, BASES))
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "wrong.xml"), "--format", "json"])
    assert result.exit_code == 1 and [f["code"] for f in json.loads(result.stdout)] == ["R.BID.SYNTAX"]


def test_conformance_doc_is_generated(root):
    assert (root / "docs" / "conformance.md").read_text(encoding="utf-8") == cf.render_markdown()


def test_mapping_counts_treatment_days_and_temporary_cards_as_the_text_says():
    """The demo mapping follows the same clauses: SO_NGAY_DTRI from NGAY_VAO (not the ward admission), and a
    temporary card runs from the arrival to the discharge."""
    import datetime as dt

    from xml130.mapping.derive import RuleContext, cards, visit_kind

    ctx = RuleContext("79999X", "79999", "BV", params=lambda _: {})
    arrived, ward, left = dt.datetime(2026, 11, 2, 23, 0), dt.datetime(2026, 11, 3, 1, 0), dt.datetime(2026, 11, 5, 9)
    row = {"kind": "inpatient", "arrived_at": arrived, "ward_admitted_at": ward, "left_at": left}
    assert visit_kind(row, ctx) == {"MA_LOAI_KCB": "03", "SO_NGAY_DTRI": 4}  # 02/11 → 05/11: 5 − 2 + 1
    ctx.collections["cards"] = [{"card_no": "TE1790000123456", "registered_at": "79000", "valid_from": arrived.date(),
                                 "valid_to": None, "temporary": True}]
    got = cards(row, ctx)
    assert (got["GT_THE_TU"], got["GT_THE_DEN"], ctx.findings) == ([arrived.date()], [left.date()], [])
