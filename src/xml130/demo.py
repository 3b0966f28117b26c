"""The demo job: synthetic hồ sơ → models → envelopes in an outbox, failures to quarantine, validated.

This is what ``xml130 demo`` (and the README's first command) runs until the HIS extraction and the Prefect
flows take over the same path. Envelopes are written atomically (temporary file, then rename); a hồ sơ whose
data breaks the spec is never written, never truncated and never dropped: it goes to ``quarantine.json``
with every reason.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from .models import HosoError, build_hoso
from .render import render_hoso, today_in_vietnam
from .staging import write_atomic, write_json
from .scenarios import VALID
from .synthetic import generate_batch, outpatient
from .validate import validate_bytes


def _broken_examples() -> dict[str, dict]:
    """Two records with data a HIS really produces wrong, to show quarantine at work."""
    rng = random.Random(7)
    long_name = outpatient(rng, "79999QX0001", dt.datetime(2026, 11, 19, 8, 0))
    long_name["XML1"]["HO_TEN"] = "Nguyễn Thị Ánh Dương " * 14
    float_money = outpatient(rng, "79999QX0002", dt.datetime(2026, 11, 19, 9, 0))
    float_money["XML2"][0]["DON_GIA"] = 1234.5  # a binary float from a badly typed column
    return {"79999QX0001": long_name, "79999QX0002": float_money}


def run_demo(output: Path, *, count: int = 200, seed: int = 130) -> dict[str, Any]:
    outbox = output / "outbox"
    ngaylap = today_in_vietnam()
    sources: list[tuple[str, dict]] = [(name, make()) for name, make in VALID.items()]
    sources += [(raw["XML1"]["MA_LK"], raw) for raw in generate_batch(count, seed=seed)]
    sources += list(_broken_examples().items())
    quarantine, findings, written = [], [], 0
    for label, raw in sources:
        try:
            hoso = build_hoso(raw, file=label)
        except HosoError as exc:
            quarantine.append({"ma_lk": raw.get("XML1", {}).get("MA_LK"), "source": label,
                               "reasons": [f.to_dict() for f in exc.findings]})
            continue
        data = render_hoso(hoso, ngaylap=ngaylap)
        path = outbox / f"{hoso.ma_lk}.xml"
        write_atomic(path, data)
        written += 1
        findings += [f.to_dict() for f in validate_bytes(data, str(path))]
    write_json(output / "quarantine.json", quarantine)
    report = {"written": written, "quarantined": len(quarantine), "findings": len(findings), "ngaylap": ngaylap,
              "outbox": str(outbox), "validation_findings": findings}
    write_json(output / "report.json", report)
    return report
