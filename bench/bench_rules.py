"""Benchmark (not a test): validation of a generated batch with all business rules on, against XSD alone.

    python bench/bench_rules.py --count 10000

The envelopes are rendered first (not timed) and held as bytes; then each is validated three ways in one run:
``validate_bytes(rules=False)`` (XSD + field checks), ``validate_bytes(rules=True)`` (plus every rule), and the
bare lxml XSD validation of each table (the floor). Reports seconds and the ratios.
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    args = ap.parse_args()
    from xml130.demo.synthetic import generate_batch
    from xml130.models import build_hoso
    from xml130.parse import decode_base64, parse_xml
    from xml130.render import render_hoso
    from xml130.spec import load_spec
    from xml130.validate import _lxml_schema, validate_bytes

    envelopes = [render_hoso(build_hoso(raw), ngaylap="20261120") for raw in generate_batch(args.count)]
    by_root = load_spec().latest.by_root
    version = load_spec().latest.id

    t = time.perf_counter()
    for env in envelopes:
        for fh in parse_xml(env).iterfind("THONGTINHOSO/DANHSACHHOSO/HOSO/FILEHOSO"):
            doc = parse_xml(decode_base64(fh.findtext("NOIDUNGFILE")))
            _lxml_schema(version, by_root[doc.tag].id).validate(doc)
    xsd_only = time.perf_counter() - t

    timings = {}
    for rules in (False, True):
        t = time.perf_counter()
        findings = sum(len(validate_bytes(env, rules=rules)) for env in envelopes)
        timings[rules] = (time.perf_counter() - t, findings)
    print(json.dumps({
        "hoso": args.count, "xsd_only_s": round(xsd_only, 2),
        "validate_no_rules_s": round(timings[False][0], 2), "validate_with_rules_s": round(timings[True][0], 2),
        "findings_with_rules": timings[True][1],
        "rules_vs_xsd_only": round(timings[True][0] / xsd_only, 2),
        "rules_vs_no_rules": round(timings[True][0] / timings[False][0], 2),
    }))


if __name__ == "__main__":
    main()
