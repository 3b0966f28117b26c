"""The demo job: the nightly export (and a check-in run) on the bundled demo HIS database.

This is what ``./run demo`` (``xml130 demo``) runs: it (re)creates the demo HIS (SQLite, under the output folder),
then runs exactly what the scheduled Prefect deployments run — ``nightly`` (HIS → mapping → models → envelopes in
the outbox, the ledger, quarantine with every reason) and ``checkin`` — and validates every file written; last,
the weekly VNeID adoption report of the demo's week (``adoption/``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from .. import jobs
from ..adoption.job import run_adoption_report, summary
from ..adoption.period import Period
from ..qa_summary import summarise
from ..store.files import write_json
from ..validate import iter_files, validate_path
from . import demo_mapping, mapping_path
from .catalog import prepare_demo
from .his import START, create_demo


def expected_quarantine(url: str) -> set[str]:
    """MA_LK the demo HIS marks as bad data or as breaking a business rule (they must end in quarantine)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT ma_lk FROM demo_case WHERE expect_valid = FALSE "
                                 "OR expect_rule IS NOT NULL")).all()
    engine.dispose()
    return {r[0] for r in rows}


def run_demo(output: Path, *, encounters: int = 500, seed: int = 130,
             progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    output.mkdir(parents=True, exist_ok=True)
    for old in ("ledger.db", "report.json"):  # the demo starts afresh each time: a new HIS, a new ledger
        (output / old).unlink(missing_ok=True)
    for folder in ("outbox", "adoption"):
        shutil.rmtree(output / folder, ignore_errors=True)
    his = output / "demo_his.db"
    url = f"sqlite:///{his}"
    outbox, ledger = output / "outbox", f"sqlite:///{output / 'ledger.db'}"
    planted, catalog = prepare_demo(create_demo(url, encounters, seed), output / "catalogues", ledger)
    # The nightly export applies the catalogues imported into its ledger by itself (as at a hospital); the
    # validation of the written files is given them explicitly (as `xml130 validate --catalog` does).
    mapping = demo_mapping()  # the demo HIS's own mapping: only the demo falls back to it
    nightly = jobs.nightly(url, outbox, ledger, mapping=mapping, on_batch=progress)
    checkin = jobs.checkin(url, outbox, ledger, mapping=mapping)
    files = list(iter_files([outbox]))
    findings = [f for path in files for f in validate_path(path, catalog=catalog)]
    quarantined = {q["ma_lk"] for q in nightly.quarantine}
    adoption, adoption_files = run_adoption_report(url, output / "adoption", mapping=mapping_path(),
                                                   period=Period.week_of(START.date()).label)
    report = {
        "his": str(his), "outbox": str(outbox), "ledger": ledger,
        "nightly": nightly.as_dict(), "checkin": checkin.as_dict(),
        "quarantine_as_expected": quarantined == expected_quarantine(url),
        "validation": summarise(findings, files=len(files)),
        "validation_findings": [f.to_dict() for f in findings],
        "adoption": summary(adoption, adoption_files),
        "catalogue_mismatches": planted,  # finding code → the MA_LK it was planted in (issue 14)
    }
    write_json(output / "report.json", report)
    return report
