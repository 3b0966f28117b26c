"""Benchmark (not a test): signing and verifying envelopes with each local signer.

    python bench/bench_signing.py --count 500

Envelopes from the synthetic generator (rendered first, not timed), a throwaway CA and key; the same key signs
as a PKCS#12 signer and from a SoftHSM2 token (needs the Debian package softhsm2). Reports files per second for
each signer, for ``verify`` and for the SignedInfo preparation alone (the part every signer shares). A remote
signer's time is the signer's confirmation on the phone, so it is not measured here.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rate(count: int, fn) -> float:
    t = time.perf_counter()
    fn()
    return round(count / (time.perf_counter() - t), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=500)
    args = ap.parse_args()
    from tests.pki import ThrowawayPKI
    from tests.softhsm import make_token
    from xml130.demo.synthetic import generate_batch
    from xml130.models import build_hoso
    from xml130.render import render_hoso
    from xml130.signing import P12Signer, prepare, verify
    from xml130.signing.token import Pkcs11Signer

    docs = [render_hoso(build_hoso(raw), ngaylap="20261120") for raw in generate_batch(args.count)]
    pki = ThrowawayPKI()
    soft = make_token(Path(tempfile.mkdtemp()), pki)
    p12 = P12Signer(soft.imported_key, soft.imported_cert, [])
    token = Pkcs11Signer(soft.module, soft.token, "bv-nhap", soft.pin)
    signed: list[bytes] = []
    out = {
        "count": args.count,
        "mean_envelope_bytes": sum(map(len, docs)) // len(docs),
        "prepare_per_s": rate(args.count, lambda: [prepare(d, p12.certificate) for d in docs]),
        "p12_sign_per_s": rate(args.count, lambda: signed.extend(p12.sign(d) for d in docs)),
        "token_sign_per_s": rate(args.count, lambda: [token.sign(d) for d in docs]),
        "verify_per_s": rate(args.count, lambda: [verify(s, ca_pem=pki.ca_pem) for s in signed]),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
