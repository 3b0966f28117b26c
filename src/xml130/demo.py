"""The demo job: build the demo HIS database, export every closed episode, validate what was written.

This is what ``./run demo`` (``xml130 demo``) runs: the same path a hospital's nightly export takes — HIS database
→ mapping → models → envelopes in an outbox, failures to quarantine with every reason — on the bundled demo HIS
(SQLite, a file under the output folder) and the bundled mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from .export import run_export
from .extract import Selection
from .his.demo import create_demo
from .mapping import load_mapping
from .report import summarise
from .staging import write_json
from .validate import validate_path


def expected_quarantine(url: str) -> set[str]:
    """MA_LK the demo HIS marks as bad data (they must end in quarantine)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT ma_lk FROM demo_case WHERE expect_valid = FALSE")).all()
    engine.dispose()
    return {r[0] for r in rows}


def run_demo(output: Path, *, encounters: int = 500, seed: int = 130,
             progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    output.mkdir(parents=True, exist_ok=True)
    his = output / "demo_his.db"
    url = f"sqlite:///{his}"
    create_demo(url, encounters, seed)
    outbox = output / "outbox"
    result = run_export(url, load_mapping(), outbox, Selection(), progress=progress)
    findings = [f for ma_lk in result.written for f in validate_path(outbox / f"{ma_lk}.xml")]
    quarantined = {q["ma_lk"] for q in result.quarantined}
    report = {
        "his": str(his), "outbox": str(outbox), "quarantine": str(outbox / "quarantine.json"),
        "written": len(result.written), "quarantined": len(quarantined),
        "quarantine_as_expected": quarantined == expected_quarantine(url),
        "validation": summarise(findings, files=len(result.written)),
        "validation_findings": [f.to_dict() for f in findings],
    }
    write_json(output / "report.json", report)
    return report
