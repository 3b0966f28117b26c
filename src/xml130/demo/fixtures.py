"""The fixture files: ``fixtures/valid``, ``fixtures/invalid`` and ``fixtures/quirks`` (the named scenarios of
:mod:`.scenarios`, :mod:`.invalid`, and the shapes real HIS write, :mod:`.quirks`), each file of the last two with its expected
findings (``xml130 fixtures``)."""

from __future__ import annotations

import json
from pathlib import Path

from .invalid import invalid_files
from .quirks import quirk_files
from .scenarios import valid_files


def write_fixtures(directory: Path) -> list[Path]:
    """fixtures/valid, fixtures/invalid and fixtures/quirks (each file of the last two with its expected findings)."""
    (directory / "valid").mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in valid_files().items():
        p = directory / "valid" / name
        p.write_bytes(data)
        written.append(p)
    for sub, files in (("invalid", invalid_files()), ("quirks", quirk_files())):
        (directory / sub).mkdir(parents=True, exist_ok=True)
        for name, (data, expected) in files.items():
            p = directory / sub / name
            p.write_bytes(data)
            e = p.with_suffix(".expected.json")
            e.write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            written += [p, e]
    return written
