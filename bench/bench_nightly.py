"""Benchmark (not a test): the nightly export (extract → map → validate → outbox + ledger) on the demo HIS.

    python bench/bench_nightly.py --encounters 10000 [--db sqlite|postgresql]

Reports hồ sơ per second and the process's peak RSS for the first run, and the time of an idempotent re-run of
the same window (everything unchanged).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import tempfile
import time
from pathlib import Path

from _his import add_his_arguments, his_url


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encounters", type=int, default=10_000)
    add_his_arguments(ap)
    args = ap.parse_args()
    from xml130 import jobs
    from xml130.demo import demo_mapping
    from xml130.demo.his import create_demo

    with tempfile.TemporaryDirectory() as tmp:
        his = his_url(args, tmp)
        t = time.perf_counter()
        create_demo(his, args.encounters)
        made = time.perf_counter() - t
        ledger = f"sqlite:///{tmp}/ledger.db"
        t = time.perf_counter()
        until = dt.datetime(2100, 1, 1)  # a big demo HIS has episodes closing after today (7 minutes apart)
        first = jobs.nightly(his, Path(tmp) / "outbox", ledger, mapping=demo_mapping(), until=until)
        first_s = time.perf_counter() - t
        t = time.perf_counter()
        again = jobs.nightly(his, Path(tmp) / "outbox", ledger, mapping=demo_mapping(),
                             since=dt.datetime(2000, 1, 1), until=until)
        again_s = time.perf_counter() - t
        print(json.dumps({
            "db": args.db, "episodes": args.encounters, "demo_his_s": round(made, 1),
            "first_run_s": round(first_s, 2), "hoso_per_s": round(args.encounters / first_s, 1),
            "counts": dict(first.counts), "rerun_s": round(again_s, 2), "rerun_counts": dict(again.counts),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }))


if __name__ == "__main__":
    main()
