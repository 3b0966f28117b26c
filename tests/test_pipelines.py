"""Flows run as plain functions (no Prefect server)."""

from __future__ import annotations

import json

from pipelines.validate_fixtures import validate_fixtures


def test_validate_fixtures_flow_counts_and_reports(fixtures_dir, tmp_path):
    report = tmp_path / "qa.json"
    summary = validate_fixtures.fn(str(fixtures_dir / "invalid"), str(report))
    assert summary["files"] == 8 and summary["files_with_errors"] == 8
    assert summary["errors"] == 9
    assert summary["by_code"] == {"ELEMENT.ORDER": 1, "ELEMENT.UNKNOWN": 2, "ENVELOPE.BASE64": 1, "FIELD.DATE": 1,
                                  "FIELD.FORMAT": 2, "FIELD.REQUIRED": 1, "FIELD.TOO_LONG": 1}
    data = json.loads(report.read_text(encoding="utf-8"))
    assert len(data["findings"]) == 9 and data["summary"] == summary
    assert validate_fixtures.fn(str(fixtures_dir / "valid"))["errors"] == 0
