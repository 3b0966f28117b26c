"""Benchmark (not a test): the VNeID adoption report on a demo HIS spread over several weeks.

    python bench/bench_adoption.py --encounters 50000 --weeks 8 [--db sqlite|postgresql]

Spreads the episodes evenly over ``--weeks`` weeks from 2026-11-02, reports the last week with its 8-week trend,
and prints the examinations read, the time to compute the report, the time to write its files (XLSX, HTML, CSVs,
JSON) and the peak RSS of the process that does it (the demo HIS is made in a child process, so its memory is not
counted).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

from _his import add_his_arguments, his_url


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encounters", type=int, default=50_000)
    ap.add_argument("--weeks", type=int, default=8)
    add_his_arguments(ap)
    args = ap.parse_args()
    from sqlalchemy import create_engine, text

    from xml130.adoption import Period, build_report
    from xml130.adoption.outputs import write_outputs
    from xml130.demo import demo_mapping
    from xml130.demo.his import START, create_demo

    with tempfile.TemporaryDirectory() as tmp:
        his = his_url(args, tmp)
        t = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(
            target=create_demo, args=(his, args.encounters),
            kwargs={"minutes_between": args.weeks * 7 * 24 * 60 / args.encounters})
        child.start()
        child.join()
        made = time.perf_counter() - t
        period = Period.week_of(START.date())
        for _ in range(args.weeks - 1):
            period = Period.week_of(period.end.date())
        engine = create_engine(his)
        with engine.connect() as conn:
            exams = conn.execute(text("SELECT count(*) FROM examination WHERE examined_at < :end"),
                                 {"end": period.end}).scalar()
        engine.dispose()
        t = time.perf_counter()
        report = build_report(his, period, mapping=demo_mapping(), periods=args.weeks)
        computed = time.perf_counter() - t
        t = time.perf_counter()
        files = write_outputs(report, Path(tmp) / "out")
        written = time.perf_counter() - t
        print(json.dumps({
            "db": args.db, "episodes": args.encounters, "week": period.label, "examinations_read": exams,
            "patients_in_week": report.total.counts.examined, "drilldown_rows": len(report.patients),
            "demo_his_s": round(made, 1), "report_s": round(computed, 2), "files_s": round(written, 2),
            "examinations_per_s": round(exams / computed, 1),
            "xlsx_kb": round(files["xlsx"].stat().st_size / 1024, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }))


if __name__ == "__main__":
    main()
