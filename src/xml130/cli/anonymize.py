"""``xml130 anonymize``: copies of failing files without personal data, to send to a vendor or to QA."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from . import EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE, app, err, fail, out


def _targets(paths: list[Path], out_dir: Path) -> list[tuple[Path, Path]]:
    """(file, where its copy goes): a file named goes to DIR/<name>, a folder's files to DIR/<folder>/<path>."""
    from ..validate import FileUnreadable, iter_files

    pairs: list[tuple[Path, Path]] = []
    try:
        for raw in paths:
            for f in iter_files([raw]):
                pairs.append((f, out_dir / (Path(raw.name) / f.relative_to(raw) if raw.is_dir() else f.name)))
    except FileUnreadable as exc:
        fail("Không đọc được:", exc)
    seen: dict[Path, Path] = {}
    for src, dst in pairs:
        if dst.resolve() == src.resolve():
            fail("Không ghi đè tệp gốc:", f"{src}: chọn --out khác")
        if dst in seen:
            fail("Hai tệp cùng tên trong --out:", f"{seen[dst]} và {src}")
        seen[dst] = src
    return pairs


def _counts(counts: Counter) -> str:
    return "; ".join(f"{kind}: {n}" for kind, n in sorted(counts.items()))


@app.command()
def anonymize(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (folders: every *.xml below).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the anonymized copies.")],
) -> None:
    """Copies of envelopes, check-in documents and table files with every personal value (names, ID, card and BHXH
    numbers, addresses, phones, birth dates) replaced by a synthetic one of the same format; the rest byte for
    byte. Prints the kinds replaced and how many, never a value."""
    from ..anonymize import AnonymizeError, anonymize_bytes

    pairs = _targets(paths, out_dir)
    if not pairs:
        err.print("[red]Không có tệp .xml nào.[/red]")
        raise typer.Exit(EXIT_UNUSABLE)
    total: Counter = Counter()
    refused = 0
    for src, dst in pairs:
        try:
            data = src.read_bytes()
        except OSError as exc:
            fail("Không đọc được:", f"{src}: {exc.strerror or exc}")
        try:
            result = anonymize_bytes(data)
        except AnonymizeError as exc:
            refused += 1
            err.print(f"{src}: KHÔNG ghi — {exc}", markup=False, highlight=False)
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".part")
        tmp.write_bytes(result.data)
        tmp.replace(dst)
        total.update(result.counts)
        kinds = _counts(result.counts) or "không có giá trị cá nhân"
        out.print(f"{src} → {dst}: {kinds}", markup=False, highlight=False)
    out.print(f"{len(pairs) - refused} tệp đã ẩn danh, {refused} tệp không ghi"
              + (f" — tổng: {_counts(total)}" if total else "") + ".",
              markup=False, highlight=False)
    raise typer.Exit(EXIT_FINDINGS if refused else EXIT_OK)
