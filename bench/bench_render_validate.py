"""Benchmark (not a test): render + validate + envelope for a generated batch, against the floor.

    ./run bench                 # 10,000 hồ sơ (about 60–80 rows each across XML1–XML5)
    ./run bench --count 2000

Each mode runs in its own process so that peak memory (ru_maxrss) is its own. Hồ sơ are generated one at a
time and never held as a batch; generation time is measured and left out of every figure.

- pipeline: dict rows → pydantic models (build_hoso) → each table's XML → lxml XSD validation of each table →
  GIAMDINHHS envelope (base64). This is what an export does per hồ sơ.
- floor: the same rows, already as canonical strings, joined into the same XML by plain string joining, then
  validated once by lxml (the cheapest way to produce checked XML at all).
- qa: the QA path on finished envelopes: ``validate_bytes`` (decode, XSD of envelope and tables, models).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from lxml import etree


def _timed_stream(count: int, seed: int):
    from xml130.synthetic import generate_batch

    gen = generate_batch(count, seed=seed)
    while True:
        t = time.perf_counter()
        try:
            raw = next(gen)
        except StopIteration:
            return
        yield raw, time.perf_counter() - t


def run_mode(mode: str, count: int, seed: int) -> dict:
    from xml130.models import build_hoso
    from xml130.render import render_envelope, render_hoso, render_hoso_tables, value_text
    from xml130.validate import _lxml_schema, validate_bytes

    spent = 0.0
    gen_time = 0.0
    rows = 0
    out_bytes = 0
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    for raw, g in _timed_stream(count, seed):
        gen_time += g
        if mode == "pipeline":
            t = time.perf_counter()
            hoso = build_hoso(raw)
            files = render_hoso_tables(hoso)
            for loai, xml in files:
                if not _lxml_schema(hoso.version.id, loai).validate(etree.fromstring(xml, parser)):
                    raise SystemExit(f"invalid {loai}")
            env = render_envelope("79999", "20261120", [files])
            spent += time.perf_counter() - t
            out_bytes += len(env)
            rows += sum(len(v) for v in hoso.tables.values())
        elif mode == "floor":
            hoso = build_hoso(raw)  # untimed: gives the canonical strings the floor starts from
            prepared = []
            for tid, models in hoso.tables.items():
                table = hoso.version[tid]
                prepared.append((table, [[(n, value_text(m.__dict__[n])) for n in table.names] for m in models]))
            t = time.perf_counter()
            for table, trows in prepared:
                body = "".join(
                    f"<{table.row}>" + "".join(f"<{n}>{v}</{n}>" for n, v in r) + f"</{table.row}>" for r in trows)
                doc = (f'<?xml version="1.0" encoding="utf-8"?>\n<{table.root}><{table.list}>{body}</{table.list}></{table.root}>'
                       if table.is_list else f'<?xml version="1.0" encoding="utf-8"?>\n{body}')
                if not _lxml_schema(hoso.version.id, table.id).validate(etree.fromstring(doc.encode(), parser)):
                    raise SystemExit(f"floor invalid {table.id}")
                out_bytes += len(doc)
            spent += time.perf_counter() - t
            rows += sum(len(r) for _, r in prepared)
        elif mode == "qa":
            env = render_hoso(build_hoso(raw), ngaylap="20261120")  # untimed: the files QA receives
            t = time.perf_counter()
            findings = validate_bytes(env)
            spent += time.perf_counter() - t
            if findings:
                raise SystemExit(f"unexpected findings: {findings[:3]}")
            out_bytes += len(env)
        else:
            raise SystemExit(f"unknown mode {mode}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "hoso": count, "rows": rows, "seconds": round(spent, 2),
            "hoso_per_s": round(count / spent, 1), "peak_rss_mb": round(peak_mb, 1),
            "generation_s_excluded": round(gen_time, 2), "bytes": out_bytes}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=130)
    ap.add_argument("--mode", choices=["pipeline", "floor", "qa"])
    args = ap.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.count, args.seed)))
        return
    results = {}
    for mode in ("floor", "pipeline", "qa"):
        p = subprocess.run([sys.executable, __file__, "--mode", mode, "--count", str(args.count), "--seed", str(args.seed)],
                           capture_output=True, text=True, check=True)
        results[mode] = json.loads(p.stdout.strip().splitlines()[-1])
        print(json.dumps(results[mode]), flush=True)
    ratio = results["pipeline"]["seconds"] / results["floor"]["seconds"]
    print(f"pipeline / floor = {ratio:.2f}x (target ≤ 2x); "
          f"pipeline {results['pipeline']['hoso_per_s']} hồ sơ/s, peak {results['pipeline']['peak_rss_mb']} MB; "
          f"floor {results['floor']['hoso_per_s']} hồ sơ/s; QA validate {results['qa']['hoso_per_s']} hồ sơ/s")


if __name__ == "__main__":
    main()
