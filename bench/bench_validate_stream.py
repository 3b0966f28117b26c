"""Benchmark (not a test): ``xml130 validate`` of one big multi-hồ-sơ envelope — time and peak memory.

    .venv/bin/python bench/bench_validate_stream.py                  # 7,500 hồ sơ, about 200 MB
    .venv/bin/python bench/bench_validate_stream.py --same-ma-lk     # the same MA_LK in all 7,500
    .venv/bin/python bench/bench_validate_stream.py --count 1000 --keep out/big.xml

The envelope is written hồ sơ by hồ sơ from the synthetic generator (never held whole in memory), in the
bytes ``render_envelope`` gives. Then ``xml130 validate FILE --format json`` (rules on, the default) runs in
its own process: its wall and CPU time and its peak RSS (ru_maxrss of the child) are the figures. The findings'
count and digest let two runs (before / after a change) be compared.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_envelope(path: Path, count: int, seed: int, per_kind: int, same_ma_lk: bool) -> int:
    """Write a GIAMDINHHS envelope of ``count`` synthetic outpatient hồ sơ (``per_kind`` drugs and as many
    services each) to ``path``; return its size in bytes. ``same_ma_lk``: every hồ sơ carries one MA_LK."""
    from xml130.demo.synthetic import outpatient
    from xml130.models import build_hoso
    from xml130.render import XML_DECL, render_hoso_tables

    rng = random.Random(seed)
    start = dt.datetime(2026, 11, 2, 7, 0)
    with path.open("wb") as out:
        out.write((f"{XML_DECL}<GIAMDINHHS>\n<THONGTINDONVI><MACSKCB>79999</MACSKCB></THONGTINDONVI>\n"
                   f"<THONGTINHOSO><NGAYLAP>20261120</NGAYLAP><SOLUONGHOSO>{count}</SOLUONGHOSO>"
                   "<DANHSACHHOSO>\n").encode())
        for i in range(count):
            ma_lk = f"79999BIG{0 if same_ma_lk else i:08d}"
            raw = outpatient(rng, ma_lk, start + dt.timedelta(minutes=i % 600), drugs=per_kind, services=per_kind)
            out.write(b"<HOSO>\n")
            for loai, xml in render_hoso_tables(build_hoso(raw)):
                out.write(b"<FILEHOSO><LOAIHOSO>" + loai.encode() + b"</LOAIHOSO><NOIDUNGFILE>"
                          + base64.b64encode(xml) + b"</NOIDUNGFILE></FILEHOSO>\n")
            out.write(b"</HOSO>\n")
        out.write(b"</DANHSACHHOSO></THONGTINHOSO>\n<CHUKYDONVI/>\n</GIAMDINHHS>\n")
    return path.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=7_500)
    ap.add_argument("--seed", type=int, default=130)
    ap.add_argument("--per-kind", type=int, default=7, help="drugs and services per hồ sơ (7: about 27 KB each)")
    ap.add_argument("--same-ma-lk", action="store_true", help="one MA_LK in every hồ sơ (duplicate findings)")
    ap.add_argument("--keep", type=Path, help="write (or reuse) the envelope here instead of a temporary file")
    args = ap.parse_args()
    tmp = None
    if args.keep:
        path = args.keep
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "big.xml"
    if not path.exists():
        t = time.perf_counter()
        size = write_envelope(path, args.count, args.seed, args.per_kind, args.same_ma_lk)
        print(f"wrote {path}: {args.count} hồ sơ, {size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s", flush=True)
    exe = Path(sys.executable).with_name("xml130")
    t = time.perf_counter()
    p = subprocess.run([str(exe), "validate", str(path), "--format", "json"], capture_output=True)
    seconds = time.perf_counter() - t
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    if p.returncode not in (0, 1):
        raise SystemExit(f"validate failed (exit {p.returncode}): {p.stderr.decode()[-2000:]}")
    findings = json.loads(p.stdout)
    codes: dict[str, int] = {}
    for f in findings:
        codes[f["code"]] = codes.get(f["code"], 0) + 1
    print(json.dumps({"file_mb": round(path.stat().st_size / 1e6, 1), "hoso": args.count, "exit": p.returncode,
                      "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "peak_rss_mb": round(peak_mb, 1), "findings": len(findings),
                      "by_code": codes, "digest": hashlib.sha256(p.stdout).hexdigest()[:16]}))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
