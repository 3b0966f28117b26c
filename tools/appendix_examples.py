"""List the fields whose text in the appendix of QĐ 130/4750 gives a worked example ("Ví dụ").

Reads ``../shared/standard/qd4750/*.csv`` (the reference notes, outside the package) and prints the TOML list kept
as ``[appendix] fields_with_examples`` in ``src/xml130/spec/data/examples.toml``; tests/test_conformance.py checks
that every one of them has a case or a reason why it cannot be tested. Usage:
``python tools/appendix_examples.py [DIR]``.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

EXAMPLE = re.compile(r"ví dụ", re.IGNORECASE)


def fields_with_examples(directory: Path) -> list[str]:
    out = []
    for i in range(16):
        name = "checkin" if i == 0 else f"xml{i}"
        with (directory / f"{name}.csv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if EXAMPLE.search(row["description"] + "\n" + row["amended_4750"]):
                    out.append(f"XML{i}.{row['field']}")
    return out


if __name__ == "__main__":
    here = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/standard/qd4750"
    found = fields_with_examples(here)
    print(f"fields_with_examples = [  # {len(found)} fields")
    for f in found:
        print(f'    "{f}",')
    print("]")
