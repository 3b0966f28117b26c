"""``xml130 export``: HIS database → one envelope per hồ sơ in a folder, and a quarantine report.

The folder gets ``<MA_LK>.xml`` for every hồ sơ that meets the spec and ``quarantine.json`` with one entry per
hồ sơ kept out, listing every reason (table, field, row, code, message). NGAYLAP is the day the episode was
closed, so the same input gives byte-identical files whenever the export runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine

from .extract import Extracted, Extractor, Selection
from .mapping import Mapping
from .render import render_hoso
from .staging import write_atomic, write_json


@dataclass
class ExportResult:
    written: list[str] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.written) + len(self.quarantined)


def quarantine_entry(item: Extracted) -> dict:
    return {"ma_lk": item.ma_lk, "closed_at": item.closed_at.isoformat() if item.closed_at else None,
            "reasons": [f.to_dict() for f in item.findings]}


def envelope_bytes(item: Extracted) -> bytes:
    assert item.hoso is not None
    ngaylap = (item.closed_at or dt.datetime.now()).strftime("%Y%m%d")
    return render_hoso(item.hoso, ngaylap=ngaylap)


def run_export(source: str, mapping: Mapping, out: Path, selection: Selection, *, batch_size: int = 500,
               progress: Callable[[int], None] | None = None) -> ExportResult:
    engine = create_engine(source)
    extractor = Extractor(engine, mapping, batch_size=batch_size)
    extractor.check()
    result = ExportResult()
    for item in extractor.extract(selection):
        if item.hoso is not None:
            write_atomic(out / f"{item.ma_lk}.xml", envelope_bytes(item))
            result.written.append(item.ma_lk)
        else:
            result.quarantined.append(quarantine_entry(item))
        if progress:
            progress(1)
    write_json(out / "quarantine.json", result.quarantined)
    engine.dispose()
    return result
