"""Quality commands: ``validate``, ``rules``, ``inspect``, ``schemas generate|check``, ``spec-docs``, ``fixtures``."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .. import findings as fnd
from ..errors import Xml130Error
from ..spec import SpecError, load_spec
from . import EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE, Format, app, err, fail, out

schemas_app = typer.Typer(no_args_is_help=True, help="XSDs generated from the spec.")
app.add_typer(schemas_app, name="schemas")
DEFAULT_SCHEMAS = Path("schemas")


class ValidateFormat(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"


class RulesFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _version(value: str | None):
    if value is None:
        return None
    try:
        return load_spec().get(value)
    except SpecError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (folders: every *.xml below).")],
    format: Annotated[ValidateFormat, typer.Option("--format", "-f", help="text, json or junit")] = ValidateFormat.text,
    rules: Annotated[bool, typer.Option("--rules/--no-rules", help="Also run the business rules.")] = True,
    report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report (readable offline).")] = None,
    spec_version: Annotated[str | None, typer.Option(help="Force a spec version (default: by the episode's date).")] = None,
    catalog: Annotated[str | None, typer.Option("--catalog", help="Ledger URL holding the approved catalogues: "
                                                "also run the rules against them (R.CAT.*).")] = None,
) -> None:
    """Validate envelopes (GIAMDINHHS), check-in documents and bare table files against the standard."""
    from ..validate import FileUnreadable, iter_files, validate_path
    from .catalog import load_catalog

    version = _version(spec_version)
    approved = load_catalog(catalog) if catalog else None
    all_findings: list[fnd.Finding] = []
    names: list[str] = []
    try:
        for path in iter_files(paths):  # the catalog rules see the approved catalogues, if given
            names.append(str(path))
            all_findings.extend(validate_path(path, version=version, rules=rules, catalog=approved))
    except FileUnreadable as exc:
        fail("Không đọc được:", exc)
    if not names:
        err.print("[red]Không có tệp .xml nào để kiểm tra.[/red]")
        raise typer.Exit(EXIT_UNUSABLE)
    if report is not None:
        from ..qa_html import html_report

        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(html_report(all_findings, len(names)), encoding="utf-8")
    if format is ValidateFormat.json:
        sys.stdout.write(json.dumps([f.to_dict() for f in all_findings], ensure_ascii=False, indent=2) + "\n")
    elif format is ValidateFormat.junit:
        from ..qa_html import junit_report

        sys.stdout.write(junit_report(all_findings, names))
    else:
        for f in all_findings:
            out.print(str(f), markup=False)
        errors = sum(f.severity == fnd.ERROR for f in all_findings)
        out.print(f"{len(names)} tệp, {errors} lỗi, {len(all_findings) - errors} cảnh báo.", markup=False)
        if report is not None:
            out.print(f"báo cáo HTML: {report}", markup=False)
    if any(f.code == "FILE.NOT_XML" for f in all_findings):  # input that is not XML at all: unusable, exit 2
        raise typer.Exit(EXIT_UNUSABLE)
    raise typer.Exit(EXIT_FINDINGS if fnd.has_errors(all_findings) else EXIT_OK)


@app.command("rules")
def rules_cmd(format: Annotated[RulesFormat, typer.Option("--format", "-f")] = RulesFormat.text) -> None:
    """The rule list: each business rule's code, severity, tables, fields, period, message and the clause it
    enforces."""
    from ..rules import all_rules

    rule_list = all_rules()
    if format is RulesFormat.json:
        sys.stdout.write(json.dumps([r.describe() for r in rule_list], ensure_ascii=False, indent=2) + "\n")
    elif format is RulesFormat.markdown:
        from ..rules.docs import render_markdown

        sys.stdout.write(render_markdown())
    else:
        for r in rule_list:
            period = f" [{r.since or '…'} – {r.until or '…'}]" if (r.since or r.until) else ""
            visits = {"insured": " [chỉ KCB BHYT]", "uninsured": " [chỉ MA_DOITUONG_KCB 9]"}.get(r.applies_to, "")
            out.print(f"{r.code:<28} {r.severity:<8} {','.join(r.tables):<20} {r.title}{period}{visits}",
                      markup=False)
            out.print(f"{'':<28} nguồn: {r.source}", markup=False)
        out.print(f"{len(rule_list)} quy tắc.", markup=False)


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="An envelope, check-in document or table file.")],
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
) -> None:
    """Decode an envelope into its tables (values exactly as written) and print them."""
    from ..decode import describe

    try:
        data = file.read_bytes()
    except OSError as exc:
        fail("Không đọc được:", f"{file}: {exc.strerror or exc}")
    try:
        doc = describe(data)
    except Xml130Error as exc:
        fail("Không giải mã được:", f"{file}: {exc}")
    doc["file"] = str(file)
    if format is Format.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    from ..decode import print_text

    print_text(doc, out)


@schemas_app.command("generate")
def schemas_generate(directory: Annotated[Path, typer.Option("--dir")] = DEFAULT_SCHEMAS) -> None:
    """Write every XSD (all spec versions) under DIR."""
    from ..spec.xsd import write_all

    written = write_all(directory)
    out.print(f"{len(written)} XSD files written under {directory}/", markup=False)


@schemas_app.command("check")
def schemas_check(directory: Annotated[Path, typer.Option("--dir")] = DEFAULT_SCHEMAS) -> None:
    """Exit 1 when the XSDs under DIR differ from what the spec generates."""
    from ..spec.xsd import diff_all

    problems = diff_all(directory)
    for p in problems:
        out.print(p, markup=False)
    if problems:
        out.print("Run `xml130 schemas generate` and commit the result.", markup=False)
        raise typer.Exit(EXIT_FINDINGS)
    out.print("XSDs match the spec.", markup=False)


@app.command("spec-docs")
def spec_docs(output: Annotated[Path, typer.Option("--out")] = Path("docs/spec.md"),
              conformance: Annotated[Path, typer.Option("--conformance-out")] = Path("docs/conformance.md")) -> None:
    """Write the field reference of every spec version and the conformance cases (Markdown), from the spec data."""
    from ..conformance import render_markdown as render_conformance
    from ..spec.docs import render_markdown

    for path, text in ((output, render_markdown()), (conformance, render_conformance())):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out.print(f"written {path}", markup=False)


@app.command()
def fixtures(output: Annotated[Path, typer.Option("--out")] = Path("fixtures")) -> None:
    """Regenerate the synthetic fixtures (valid hồ sơ and invalid files with their expected findings)."""
    from ..demo.fixtures import write_fixtures

    written = write_fixtures(output)
    out.print(f"{len(written)} fixture files written under {output}/", markup=False)

