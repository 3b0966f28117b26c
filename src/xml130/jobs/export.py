"""``xml130 export``: HIS database → one envelope per hồ sơ in a folder, and a quarantine report.

The same stager as the nightly job (:mod:`xml130.jobs.stager`: models, business rules, quarantine), writing into
a plain folder: ``<MA_LK>.xml`` for every hồ sơ the nightly job would stage and ``quarantine.json`` with one entry
per hồ sơ kept out, listing every reason (table, field, row, code, message). NGAYLAP is the day the episode was
closed, so the same input gives byte-identical files whenever the export runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..mapping import Mapping
from ..mapping.database import his_engine
from ..mapping.extract import Extractor, Selection
from ..params import Params
from ..store.catalog import Catalog
from ..store.files import write_json
from .stager import Folder, RunReport, Stager, new_run_id, stage_all


def run_export(source: str, mapping: Mapping, out: Path, selection: Selection, *, batch_size: int = 500,
               progress: Callable[[int], None] | None = None, catalog: Catalog | None = None,
               params: Params | None = None) -> RunReport:
    with his_engine(source) as engine:
        extractor = Extractor(engine, mapping, batch_size=batch_size, params=params)
        extractor.check()
        report = RunReport(new_run_id("export"), "export", selection.describe())
        stager = Stager(Folder(out), report, catalog=catalog, params=params)
        stage_all(stager, extractor.extract(selection), batch_size, progress)
    report.quarantine.sort(key=lambda q: q["ma_lk"])  # as the nightly run lists them
    write_json(out / "quarantine.json", report.quarantine)
    return report
