"""Benchmark (not a test): render + validate + envelope for a generated batch, against the floor.

    ./run bench                 # 10,000 hồ sơ (about 60–80 rows each across XML1–XML5)
    ./run bench --count 2000

The ratio is measured in one process, floor and pipeline taking turns on each hồ sơ, so that both see the same
load of a shared machine; ``--mode floor`` / ``--mode pipeline`` run one alone. QA runs in its own process.
Hồ sơ are generated one at a time and never held as a batch; generation time is measured and left out of every
figure.

- pipeline: dict rows → pydantic models (build_hoso) → each table's XML → lxml XSD validation of each table →
  GIAMDINHHS envelope (base64). This is what an export does per hồ sơ.
- floor: the same rows, already as canonical strings, joined into the same XML by plain string joining, then
  validated once by lxml (the cheapest way to produce checked XML at all).
- qa: the QA path on finished envelopes: ``validate_bytes`` (decode, XSD of envelope and tables, models, business
  rules), in its own process, with the floor on each hồ sơ in turn (the goal: QA at least the floor's rate / 1.5).
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
    from xml130.demo.synthetic import generate_batch

    gen = generate_batch(count, seed=seed)
    while True:
        t = time.perf_counter()
        try:
            raw = next(gen)
        except StopIteration:
            return
        yield raw, time.perf_counter() - t


def _steps():
    """One timed step per mode: raw hồ sơ → (seconds spent in the measured part, rows, bytes out)."""
    from xml130.models import build_hoso
    from xml130.render import render_envelope, render_hoso, render_hoso_tables, value_text
    from xml130.validate import _lxml_schema, validate_bytes

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

    def clock():
        return time.perf_counter(), time.process_time()

    def since(t):
        return time.perf_counter() - t[0], time.process_time() - t[1]

    def pipeline(raw):
        t = clock()
        hoso = build_hoso(raw)
        files = render_hoso_tables(hoso)
        for loai, xml in files:
            if not _lxml_schema(hoso.version.id, loai).validate(etree.fromstring(xml, parser)):
                raise SystemExit(f"invalid {loai}")
        env = render_envelope("79999", "20261120", [files])
        return since(t), sum(len(v) for v in hoso.tables.values()), len(env), hoso

    def floor(raw, hoso=None):
        hoso = hoso or build_hoso(raw)  # untimed: gives the canonical strings the floor starts from
        prepared = []
        for tid, models in hoso.tables.items():
            table = hoso.version[tid]
            prepared.append((table, [[(n, value_text(m.__dict__[n])) for n in table.names] for m in models]))
        out_bytes = 0
        t = clock()
        for table, trows in prepared:
            body = "".join(
                f"<{table.row}>" + "".join(f"<{n}>{v}</{n}>" for n, v in r) + f"</{table.row}>" for r in trows)
            doc = (f'<?xml version="1.0" encoding="utf-8"?>\n<{table.root}><{table.list}>{body}</{table.list}></{table.root}>'
                   if table.is_list else f'<?xml version="1.0" encoding="utf-8"?>\n{body}')
            if not _lxml_schema(hoso.version.id, table.id).validate(etree.fromstring(doc.encode(), parser)):
                raise SystemExit(f"floor invalid {table.id}")
            out_bytes += len(doc)
        return since(t), sum(len(r) for _, r in prepared), out_bytes, hoso

    def qa(raw):
        hoso = build_hoso(raw)
        env = render_hoso(hoso, ngaylap="20261120")  # untimed: the files QA receives
        t = clock()
        findings = validate_bytes(env)
        spent = since(t)
        if findings:
            raise SystemExit(f"unexpected findings: {findings[:3]}")
        return spent, 0, len(env), hoso

    return {"pipeline": pipeline, "floor": floor, "qa": qa}


def run_mode(mode: str, count: int, seed: int) -> dict:
    """``mode`` alone, or ``ratio``: pipeline then floor on each hồ sơ, so that both see the same machine load
    (on a shared machine the ratio of separate runs drifts with it). The floor takes the canonical strings of
    the pipeline's models, so it never warms the pipeline's caches. The ratio is of CPU time (what the work
    costs, whatever else the machine runs); wall-clock figures are reported too."""
    steps = _steps()
    names = {"ratio": ("pipeline", "floor"), "qa": ("qa", "floor")}.get(mode, (mode,))
    if any(n not in steps for n in names):
        raise SystemExit(f"unknown mode {mode}")
    spent = {n: [0.0, 0.0] for n in names}  # wall, CPU seconds
    rows = out_bytes = 0
    gen_time = 0.0
    for raw, g in _timed_stream(count, seed):
        gen_time += g
        (wall, cpu), r, b, hoso = steps[names[0]](raw)
        spent[names[0]][0] += wall
        spent[names[0]][1] += cpu
        rows, out_bytes = rows + r, out_bytes + b
        if len(names) == 2:
            wall, cpu = steps[names[1]](raw, hoso)[0]
            spent[names[1]][0] += wall
            spent[names[1]][1] += cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"mode": mode, "hoso": count, "rows": rows}
    for name, (wall, cpu) in spent.items():
        out[name] = {"seconds": round(wall, 2), "hoso_per_s": round(count / wall, 1), "cpu_seconds": round(cpu, 2),
                     "hoso_per_cpu_s": round(count / cpu, 1)}
    if len(names) == 2:
        out["ratio"] = round(spent[names[0]][1] / spent["floor"][1], 3)
        out["ratio_wall"] = round(spent[names[0]][0] / spent["floor"][0], 3)
    return {**out, "peak_rss_mb": round(peak_mb, 1), "generation_s_excluded": round(gen_time, 2), "bytes": out_bytes}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=130)
    ap.add_argument("--mode", choices=["ratio", "pipeline", "floor", "qa"])
    args = ap.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.count, args.seed)))
        return
    results = {}
    for mode in ("ratio", "qa"):
        p = subprocess.run([sys.executable, __file__, "--mode", mode, "--count", str(args.count), "--seed", str(args.seed)],
                           capture_output=True, text=True, check=True)
        results[mode] = json.loads(p.stdout.strip().splitlines()[-1])
        print(json.dumps(results[mode]), flush=True)
    r = results["ratio"]
    print(f"pipeline / floor = {r['ratio']:.2f}x CPU time (target ≤ 1.5x; wall {r['ratio_wall']:.2f}x), measured "
          f"hồ sơ by hồ sơ in one process; pipeline {r['pipeline']['hoso_per_cpu_s']} hồ sơ per CPU second, "
          f"floor {r['floor']['hoso_per_cpu_s']}, peak {r['peak_rss_mb']} MB; "
          f"QA validate {results['qa']['qa']['hoso_per_cpu_s']} hồ sơ per CPU second, "
          f"{results['qa']['ratio']:.2f}x the floor's CPU time in its process (target ≤ 1.5x)")


if __name__ == "__main__":
    main()
