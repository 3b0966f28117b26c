"""Benchmark (not a test): what the approved catalogues cost.

    python bench/bench_catalog.py --count 10000

1. Validation with the rules, without and with the catalog rules (R.CAT.*), against catalogues of realistic size
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
    ap.add_argument("--part", choices=("both", "validate", "cross"), default="both",
                    help="run one half alone (each holds the batch in memory)")
    args = ap.parse_args()
    from xml130.store.ledger import Ledger

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'ledger.db'}"
        ledger = Ledger(url)
        if args.part in ("both", "validate"):
            _validate(args.count, folder, ledger, url)
        if args.part in ("both", "cross"):
            _cross(args.count, folder, ledger, url)


def _validate(count: int, folder: Path, ledger, url: str) -> None:
    from xml130.catalog.imports import import_files
    from xml130.demo.catalog_synthetic import catalog_for, write_xlsx
    from xml130.demo.synthetic import generate_batch
    from xml130.models import build_hoso
    from xml130.render import render_hoso
    from xml130.store.catalog import Catalog
    from xml130.validate import validate_bytes

    hosos = [build_hoso(raw) for raw in generate_batch(count)]
    envelopes = [render_hoso(h, ngaylap="20261120") for h in hosos]
    t = time.perf_counter()
    import_files(ledger, [write_xlsx(folder / "dm.xlsx", _padded(catalog_for(hosos)))])
    import_s = time.perf_counter() - t
    t = time.perf_counter()
    catalog = Catalog.from_ledger(url)
    load_s = time.perf_counter() - t

    timings = {}  # CPU seconds of this process (the machine is shared: wall time varies with its load)
    for name, active in (("rules", None), ("rules_and_catalogue", catalog)):
        t = time.process_time()
        findings = sum(len(validate_bytes(env, catalog=active)) for env in envelopes)
        timings[name] = (time.process_time() - t, findings)

    with_rules, with_catalogue = timings["rules"][0], timings["rules_and_catalogue"][0]
    print(json.dumps({"hoso": count, "catalogue_rows": sum(SIZES.values()), "import_s": round(import_s, 2),
                      "load_s": round(load_s, 2), "validate_with_rules_cpu_s": round(with_rules, 2),
                      "validate_with_rules_and_catalogue_cpu_s": round(with_catalogue, 2),
                      "catalogue_overhead": f"{(with_catalogue / with_rules - 1) * 100:+.1f} %",
                      "findings": {k: v[1] for k, v in timings.items()}}), flush=True)


def _cross(count: int, folder: Path, ledger, url: str) -> None:
    from xml130.catalog.crossstage import cross_stage
    from xml130.demo.synthetic import generate_batch
    from xml130.jobs import RunReport
    from xml130.models import build_hoso
    from xml130.render import render_hoso

    rows = []
    for raw in generate_batch(count):  # streamed: only the files and the ledger rows are kept
        h = build_hoso(raw)
        data = render_hoso(h, ngaylap="20261120")
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
    print(json.dumps({"hoso": count, "cross_stage_s": round(cross_s, 2), "cross_stage_cpu_s": round(cross_cpu, 2),
                      "cross_findings": len(found)}), flush=True)
    _dense(count)


def _dense(count: int) -> None:
    """The checks alone on a dense day (the batch has no examinations or surgeries): every hồ sơ with one
    examination by one of 20 doctors and one 90-minute procedure by one of 50 performers within 10 hours."""
    import random

    from xml130.catalog.cross import check_day
    from xml130.catalog.facts import HosoFacts, Performance

    rng, start = random.Random(14), dt.datetime(2026, 11, 2, 7)
    facts = []
    for i in range(count):
        at = start + dt.timedelta(minutes=rng.randrange(600))
        f = HosoFacts(f"MA{i:06d}", 1, "staged", f"BN{i}", (f"CARD{i}",), at, at + dt.timedelta(hours=3))
        f.exams.append((f"BS{rng.randrange(20):02d}", at.date(), 1))
        f.performances.append(Performance(f"NTH{rng.randrange(50):02d}", at, at + dt.timedelta(minutes=90), 2, "X"))
        facts.append(f)
    t = time.process_time()
    found = check_day(facts)
    print(json.dumps({"dense_hoso": count, "dense_check_cpu_s": round(time.process_time() - t, 2),
                      "dense_findings": len(found)}))


if __name__ == "__main__":
    main()
