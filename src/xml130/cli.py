"""Command line: ``xml130 validate``, ``inspect``, ``schemas``, ``spec-docs``, ``fixtures``, ``demo``.

Exit codes: 0 nothing wrong, 1 findings of severity error, 2 the input cannot be read or the call is wrong.
No command prints a traceback for bad input.
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from . import findings as fnd
from .spec import load_spec

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="xml130: QĐ 130/4750/3176 claim data — spec, rendering, validation.")
schemas_app = typer.Typer(no_args_is_help=True, help="XSDs generated from the spec.")
app.add_typer(schemas_app, name="schemas")
err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2
DEFAULT_SCHEMAS = Path("schemas")


class Format(StrEnum):
    text = "text"
    json = "json"


def _version(value: str | None):
    if value is None:
        return None
    try:
        return load_spec().get(value)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0])) from None


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (folders: every *.xml below).")],
    format: Annotated[Format, typer.Option("--format", "-f", help="text or json")] = Format.text,
    spec_version: Annotated[str | None, typer.Option(help="Force a spec version (default: by the episode's date).")] = None,
) -> None:
    """Validate envelopes (GIAMDINHHS), check-in documents and bare table files against the standard."""
    from .validate import FileUnreadable, iter_files, validate_path

    version = _version(spec_version)
    all_findings: list[fnd.Finding] = []
    files = 0
    try:
        for path in iter_files(paths):
            files += 1
            all_findings.extend(validate_path(path, version=version))
    except FileUnreadable as exc:
        err.print(f"[red]Không đọc được:[/red] {exc}")
        raise typer.Exit(EXIT_UNUSABLE) from None
    if files == 0:
        err.print("[red]Không có tệp .xml nào để kiểm tra.[/red]")
        raise typer.Exit(EXIT_UNUSABLE)
    if format is Format.json:
        sys.stdout.write(json.dumps([f.to_dict() for f in all_findings], ensure_ascii=False, indent=2) + "\n")
    else:
        for f in all_findings:
            out.print(str(f), markup=False)
        errors = sum(f.severity == fnd.ERROR for f in all_findings)
        out.print(f"{files} tệp, {errors} lỗi, {len(all_findings) - errors} cảnh báo.", markup=False)
    raise typer.Exit(EXIT_FINDINGS if fnd.has_errors(all_findings) else EXIT_OK)


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="An envelope, check-in document or table file.")],
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
) -> None:
    """Decode an envelope into its tables (values exactly as written) and print them."""
    from .inspect import describe

    try:
        data = file.read_bytes()
    except OSError as exc:
        err.print(f"[red]Không đọc được:[/red] {file}: {exc.strerror or exc}")
        raise typer.Exit(EXIT_UNUSABLE) from None
    try:
        doc = describe(data)
    except ValueError as exc:
        err.print(f"[red]Không giải mã được {file}:[/red] {exc}")
        raise typer.Exit(EXIT_UNUSABLE) from None
    doc["file"] = str(file)
    if format is Format.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    from .inspect import print_text

    print_text(doc, out)


@schemas_app.command("generate")
def schemas_generate(directory: Annotated[Path, typer.Option("--dir")] = DEFAULT_SCHEMAS) -> None:
    """Write every XSD (all spec versions) under DIR."""
    from .spec.xsd import write_all

    written = write_all(directory)
    out.print(f"{len(written)} XSD files written under {directory}/", markup=False)


@schemas_app.command("check")
def schemas_check(directory: Annotated[Path, typer.Option("--dir")] = DEFAULT_SCHEMAS) -> None:
    """Exit 1 when the XSDs under DIR differ from what the spec generates."""
    from .spec.xsd import diff_all

    problems = diff_all(directory)
    for p in problems:
        out.print(p, markup=False)
    if problems:
        out.print("Run `xml130 schemas generate` and commit the result.", markup=False)
        raise typer.Exit(EXIT_FINDINGS)
    out.print("XSDs match the spec.", markup=False)


@app.command("spec-docs")
def spec_docs(output: Annotated[Path, typer.Option("--out")] = Path("docs/spec.md")) -> None:
    """Write the field reference of every spec version (Markdown), generated from the spec data."""
    from .spec.docs import render_markdown

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_markdown(), encoding="utf-8")
    out.print(f"written {output}", markup=False)


@app.command()
def fixtures(output: Annotated[Path, typer.Option("--out")] = Path("fixtures")) -> None:
    """Regenerate the synthetic fixtures (valid hồ sơ and invalid files with their expected findings)."""
    from .scenarios import write_fixtures

    written = write_fixtures(output)
    out.print(f"{len(written)} fixture files written under {output}/", markup=False)


@app.command()
def demo(
    output: Annotated[Path, typer.Option("--out")] = Path("out/demo"),
    count: Annotated[int, typer.Option("--count", min=0)] = 200,
    seed: Annotated[int, typer.Option("--seed")] = 130,
) -> None:
    """Render and validate the synthetic scenarios plus COUNT generated hồ sơ into an outbox folder."""
    from .demo import run_demo

    t0 = time.perf_counter()
    report = run_demo(output, count=count, seed=seed)
    dt_s = time.perf_counter() - t0
    out.print(
        f"{report['written']} envelopes written to {output}/outbox, {report['quarantined']} quarantined "
        f"(reasons in {output}/quarantine.json), {report['findings']} validation findings; "
        f"report: {output}/report.json ({dt_s:.1f} s)",
        markup=False,
    )
    raise typer.Exit(EXIT_FINDINGS if report["findings"] else EXIT_OK)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # never a traceback for the user; the message says what broke
        err.print(f"[red]xml130: lỗi không mong đợi ({type(exc).__name__}): {exc}[/red]")
        sys.exit(EXIT_UNUSABLE)


if __name__ == "__main__":
    main()
