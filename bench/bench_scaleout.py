"""Benchmark (not a test): nightly_export on 1 process vs a 2-worker Dask LocalCluster (prefect-dask).

    python bench/bench_scaleout.py --encounters 10000

Both runs export the same demo HIS (SQLite) into separate outboxes and ledgers; the Dask run fans out one
partition per closing day. Reports wall time, hồ sơ per second, the peak RSS summed over the process tree
(sampled every 0.2 s with psutil) and whether the files are byte-identical. Runs a temporary Prefect server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: pipelines/


class TreeRss:
    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.2)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encounters", type=int, default=10_000)
    args = ap.parse_args()
    from pipelines.nightly_export import nightly_export, on_dask
    from xml130.demo import mapping_path
    from xml130.demo.his import create_demo

    with tempfile.TemporaryDirectory() as tmp:
        his = f"sqlite:///{tmp}/his.db"
        create_demo(his, args.encounters)
        until = "2100-01-01T00:00:00"
        results = {}
        for name, run, extra in (("1 process", nightly_export, {}),
                                 ("dask 2 workers", on_dask(n_workers=2), {"partition": "day"})):
            out = Path(tmp) / name.replace(" ", "_")
            with TreeRss() as rss:
                t = time.perf_counter()
                report = run(source=his, outbox=str(out), ledger=f"sqlite:///{out}.db", mapping=str(mapping_path()),
                             until=until, **extra)
                spent = time.perf_counter() - t
            results[name] = out
            print(json.dumps({"run": name, "episodes": args.encounters, "seconds": round(spent, 1),
                              "hoso_per_s": round(args.encounters / spent, 1),
                              "peak_rss_tree_mb": round(rss.peak / 2**20, 1), "counts": report["counts"]}), flush=True)
        a, b = results.values()
        names_a = sorted(p.relative_to(a) for p in (a / "79999").rglob("*.xml"))
        names_b = sorted(p.relative_to(b) for p in (b / "79999").rglob("*.xml"))
        same = names_a == names_b and all((a / n).read_bytes() == (b / n).read_bytes() for n in names_a)
        print(f"# byte-identical: {same} ({len(names_a)} files)")


if __name__ == "__main__":
    main()
