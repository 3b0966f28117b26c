"""Benchmark (not a test): extraction + mapping + rendering of N demo-HIS episodes, SQLite and PostgreSQL.

    python bench/bench_export.py --encounters 10000 [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

Creates the demo HIS (not timed), then runs ``run_export`` in a fresh process per database and reports hồ sơ per
second and the process's peak RSS. Envelopes go to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_one(url: str, out: str, batch: int) -> dict:
    from xml130.demo import demo_mapping
    from xml130.jobs.export import run_export
    from xml130.mapping.extract import Selection

    t = time.perf_counter()
    result = run_export(url, demo_mapping(), Path(out), Selection(), batch_size=batch)
    spent = time.perf_counter() - t
    total = result.counts["staged"] + result.counts["quarantined"]
    return {"db": url.split(":")[0], "hoso": total, "written": result.counts["staged"],
            "quarantined": result.counts["quarantined"], "seconds": round(spent, 2),
            "hoso_per_s": round(total / spent, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encounters", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--one", nargs=2, metavar=("URL", "OUT"))
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], args.batch)))
        return
    from xml130.demo.his import create_demo

    with tempfile.TemporaryDirectory() as tmp:
        urls = [f"sqlite:///{tmp}/his.db", args.pg]
        for url in urls:
            t = time.perf_counter()
            create_demo(url, args.encounters)
            print(f"# demo HIS {url.split(':')[0]}: {args.encounters} episodes in {time.perf_counter() - t:.1f} s",
                  flush=True)
            out = Path(tmp) / ("out-" + url.split(":")[0])
            p = subprocess.run([sys.executable, __file__, "--batch", str(args.batch), "--one", url, str(out)],
                               capture_output=True, text=True, check=True)
            print(p.stdout.strip().splitlines()[-1], flush=True)
        a, b = (Path(tmp) / "out-sqlite"), (Path(tmp) / "out-postgresql+psycopg")
        same = all((b / f.name).read_bytes() == f.read_bytes() for f in a.glob("*.xml"))
        print(f"# SQLite and PostgreSQL files byte-identical: {same}")


if __name__ == "__main__":
    main()
