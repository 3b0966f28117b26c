"""Benchmark (not a test): the whole path, from a visit's closing in the HIS to the portal's receipt.

    python bench/bench_stream.py --minutes 2 --every 15 [--rate VISITS_PER_MINUTE] [--seed N]

A writer commits visits into a demo HIS database (SQLite) at ``--rate`` per minute on average (Poisson arrivals),
each one transaction whose closing time is the moment it commits, in the demo's mix (outpatients; inpatients,
day care and short stays; newborns on temporary cards, twins; emergencies; referrals, leave papers, HIV and TB
patients; expired cards and bad data, which must end in quarantine). ``xml130 stream --every S`` runs as its
own process against the local portal (``PortalSim``, in this process) with faults on: every 20 s the next two
requests answer 503 and the next answer is dropped after the file was recorded, and tokens expire every 60 s.
Writing stops after ``--minutes``; the stream gets ``S + 120`` seconds to drain, then one SIGTERM.

The last line printed is one JSON object: ``visits`` (committed), ``accepted`` (visits whose hồ sơ the portal
accepted), ``quarantined`` (held back with their reasons in the ledger — the demo's bad data and expired cards),
``unexpected_quarantine`` (held back although the demo expects them valid), ``lost`` (neither accepted nor
quarantined), ``duplicates`` (a visit accepted more than once under different request ids), ``p50_s``,
``p95_s``, ``max_s`` (seconds from the HIS commit of the visit's closing to the portal's first acceptance),
``mix`` (visits per demo case), ``stream_exit`` (143: stopped cleanly by the SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # this checkout, also for the stream process


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1], 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=2)
    ap.add_argument("--every", type=float, default=15)
    ap.add_argument("--rate", type=float, default=4, help="visits closing per minute (a mid-size hospital's peak)")
    ap.add_argument("--seed", type=int, default=130)
    args = ap.parse_args()
    from tests.pki import ThrowawayPKI
    from xml130.demo import mapping_path
    from xml130.demo.his import _case_of
    from xml130.demo.live import DemoHis
    from xml130.demo.portal_sim import PortalSim
    from xml130.store.ledger import Ledger

    class TimedPortal(PortalSim):
        """The simulator, noting when each request id was first accepted."""

        def __post_init__(self):
            super().__post_init__()
            self.accepted_at: dict[str, float] = {}

        def _receive(self, path, body, request_id):
            result = super()._receive(path, body, request_id)
            status, answer = result[0], result[1]
            if status == 200 and answer.get("maKetQua") == "200" and request_id and path.endswith("QD3176"):
                self.accepted_at.setdefault(request_id, time.time())
            return result

    pki = ThrowawayPKI()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bv.p12").write_bytes(pki.p12(b"bench-p12"))
        his_url, ledger = f"sqlite:///{folder / 'his.db'}", f"sqlite:///{folder / 'ledger.db'}"
        his = DemoHis(his_url, args.seed)
        portal = TimedPortal(ca_pem=pki.ca_pem, token_ttl=60)
        url = portal.start()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
               "XML130_P12_PASSWORD": "bench-p12", "XML130_PORTAL_PASSWORD": portal.password}
        log = (folder / "stream.log").open("w")
        stream = subprocess.Popen(
            [sys.executable, "-m", "xml130.cli", "stream", "--source", his_url, "--ledger", ledger, "--outbox",
             str(folder / "outbox"), "--mapping", str(mapping_path()), "--every", str(args.every), "--portal", url, "--user", portal.username,
             "--p12", str(folder / "bv.p12")], env=env, stdout=log, stderr=subprocess.STDOUT)
        while "cycle 1;" not in (folder / "stream.log").read_text():
            if stream.poll() is not None:
                sys.exit(f"stream exited {stream.returncode}:\n{(folder / 'stream.log').read_text()}")
            time.sleep(0.2)

        stop = threading.Event()

        def faults() -> None:
            while not stop.wait(20):
                with portal._lock:
                    portal.faults.fail_5xx, portal.faults.drop = 2, 1

        threading.Thread(target=faults, daemon=True).start()
        rng = random.Random(args.seed)
        committed: dict[str, float] = {}
        cases: dict[str, str] = {}
        end = time.monotonic() + args.minutes * 60
        i = first_i = rng.randrange(1_000, 1_000_000)  # episode numbers far from the demo's first, edge-case-rich ones
        while True:
            time.sleep(rng.expovariate(args.rate / 60))
            if time.monotonic() > end:
                break
            ma_lk, case = his.close_now(i)
            committed[ma_lk], cases[ma_lk] = time.time(), case
            i += 1
        print(f"writer: {len(committed)} visits in {args.minutes:g} min (episodes {first_i}–{i - 1})", flush=True)

        def hoso_accepted() -> set[str]:
            return {rid.split(":")[1] for rid in list(portal.accepted_at)}

        def quarantined() -> set[str]:
            latest: dict[str, str] = {}
            for r in Ledger(ledger).versions():
                latest[r["ma_lk"]] = r["status"]
            return {m for m, s in latest.items() if s == "quarantined"}

        drain_end = time.monotonic() + args.every + 120
        while time.monotonic() < drain_end and set(committed) - hoso_accepted() - quarantined():
            time.sleep(1)
        stop.set()
        stream.send_signal(signal.SIGTERM)
        try:
            stream_exit = stream.wait(120)
        except subprocess.TimeoutExpired:
            stream.kill()
            stream_exit = stream.wait()
        portal.stop()
        log.close()
        print((folder / "stream.log").read_text()[-2000:], flush=True)

        accepted_ids = dict(portal.accepted_at)
        per_visit = Counter(rid.split(":")[1] for rid in accepted_ids)
        held = quarantined() & set(committed)
        accepted = set(per_visit) & set(committed)
        expected_valid = {m for m, c in cases.items() if _case_of(int(m[-8:]))[1] and c != "expired_card"}
        first = {m: min(t for rid, t in accepted_ids.items() if rid.split(":")[1] == m) for m in accepted}
        latency = sorted(first[m] - committed[m] for m in accepted)
        print(json.dumps({
            "visits": len(committed), "accepted": len(accepted), "quarantined": len(held),
            "unexpected_quarantine": len(held & expected_valid), "lost": len(set(committed) - accepted - held),
            "duplicates": sum(n - 1 for n in per_visit.values()), "p50_s": quantile(latency, 0.5),
            "p95_s": quantile(latency, 0.95), "max_s": round(latency[-1], 1) if latency else None,
            "every_s": args.every, "minutes": args.minutes, "rate_per_min": args.rate,
            "portal_requests": portal.requests, "mix": dict(sorted(Counter(cases.values()).items())),
            "stream_exit": stream_exit,
        }, ensure_ascii=False))


if __name__ == "__main__":
    main()
