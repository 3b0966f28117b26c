"""Benchmark (not a test): what the approved catalogues cost.

    python bench/bench_catalog.py --count 10000

1. Validation with the rules, without and with the catalogue rules (R.CAT.*), against catalogues of realistic size
   (5,000 drugs, 3,000 services, 2,000 supplies, 500 staff — the batch's own items plus synthetic padding), loaded
   from a ledger database as ``xml130 validate --catalog`` loads them. Target: at most +30 %.
2. The checks across hồ sơ (:func:`xml130.catalog.crossstage.cross_stage`) on ``--count`` hồ sơ of one day, read
   from their files in an outbox through a SQLite ledger, as the nightly export runs them. Target: under 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

SIZES = {"drug": 5000, "service": 3000, "supply": 2000, "staff": 500}


def _padded(catalogues: dict) -> dict:
    for kind, size in SIZES.items():
        key = {"drug": "MA_THUOC", "service": "MA_TUONG_DUONG", "supply": "MA_VAT_TU", "staff": "MACCHN"}[kind]
        rows = catalogues[kind]
        template = dict(rows[0]) if rows else {"TU_NGAY": "20200101"}
        for n in range(size - len(rows)):
            rows.append({**template, key: f"PAD.{kind}.{n:05d}"})
    return catalogues


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    args = ap.parse_args()
    from xml130.catalog.crossstage import cross_stage
    from xml130.catalog.lookup import Catalog, using
    from xml130.catalog.store import import_files
    from xml130.catalog.synthetic import catalogue_for, write_xlsx
    from xml130.ledger import Ledger
    from xml130.models import build_hoso
    from xml130.pipeline import RunReport
    from xml130.render import render_hoso
    from xml130.synthetic import generate_batch
    from xml130.validate import validate_bytes

    hosos = [build_hoso(raw) for raw in generate_batch(args.count)]
    envelopes = [render_hoso(h, ngaylap="20261120") for h in hosos]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'ledger.db'}"
        ledger = Ledger(url)
        t = time.perf_counter()
        import_files(ledger, [write_xlsx(folder / "dm.xlsx", _padded(catalogue_for(hosos)))])
        import_s = time.perf_counter() - t
        t = time.perf_counter()
        catalog = Catalog.from_ledger(url)
        load_s = time.perf_counter() - t

        timings = {}  # CPU seconds of this process (the machine is shared: wall time varies with its load)
        for name, active in (("rules", None), ("rules_and_catalogue", catalog)):
            t = time.process_time()
            with using(active):
                findings = sum(len(validate_bytes(env)) for env in envelopes)
            timings[name] = (time.process_time() - t, findings)

        with_rules, with_catalogue = timings["rules"][0], timings["rules_and_catalogue"][0]
        print(json.dumps({"hoso": args.count, "catalogue_rows": sum(SIZES.values()), "import_s": round(import_s, 2),
                          "load_s": round(load_s, 2), "validate_with_rules_cpu_s": round(with_rules, 2),
                          "validate_with_rules_and_catalogue_cpu_s": round(with_catalogue, 2),
                          "catalogue_overhead": f"{(with_catalogue / with_rules - 1) * 100:+.1f} %",
                          "findings": {k: v[1] for k, v in timings.items()}}), flush=True)
        rows = []
        for h, data in zip(hosos, envelopes, strict=True):
            ma_lk = h.tables["XML1"][0].MA_LK
            rel = f"79999/2026-11-02/{ma_lk}/v1.xml"
            (folder / "outbox" / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / "outbox" / rel).write_bytes(data)
            rows.append(dict(facility="79999", ma_lk=ma_lk, version=1, content_hash=ma_lk, spec_version="3176",
                             status="staged", reasons=None, path=rel,
                             closed_at=dt.datetime.strptime(h.summary.NGAY_RA, "%Y%m%d%H%M"),
                             deadline_at=None, run_id="bench", replaces=None))
        ledger.add_versions(rows)
        report = RunReport("bench", "nightly_export", "")
        t, cpu = time.perf_counter(), time.process_time()
        found = cross_stage(url, folder / "outbox", "79999", report)
        cross_s, cross_cpu = time.perf_counter() - t, time.process_time() - cpu
    print(json.dumps({"hoso": args.count, "cross_stage_s": round(cross_s, 2), "cross_stage_cpu_s": round(cross_cpu, 2),
                      "cross_findings": len(found)}))


if __name__ == "__main__":
    main()
