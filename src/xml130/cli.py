"""Command line: ``xml130 validate``, ``inspect``, ``schemas``, ``spec-docs``, ``fixtures``, ``demo``.

Exit codes: 0 nothing wrong, 1 findings of severity error, 2 the input cannot be read or the call is wrong.
No command prints a traceback for bad input.
"""

from __future__ import annotations

import json
import os
import signal
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

from .catalog.cli import app as catalog_app  # noqa: E402  (the `catalog` group: import, list)

app.add_typer(catalog_app, name="catalog")
err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2
DEFAULT_SCHEMAS = Path("schemas")


class Format(StrEnum):
    text = "text"
    json = "json"


class ValidateFormat(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"


class RulesFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _problem(title: str, detail: object) -> None:
    """A red title and the detail printed literally (file names and SQL may contain [brackets])."""
    err.print(f"[red]{title}[/red]", end=" ")
    err.print(str(detail), markup=False, highlight=False)


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
    format: Annotated[ValidateFormat, typer.Option("--format", "-f", help="text, json or junit")] = ValidateFormat.text,
    rules: Annotated[bool, typer.Option("--rules/--no-rules", help="Also run the business rules.")] = True,
    report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report (readable offline).")] = None,
    spec_version: Annotated[str | None, typer.Option(help="Force a spec version (default: by the episode's date).")] = None,
    catalog: Annotated[str | None, typer.Option("--catalog", help="Ledger URL holding the approved catalogues: "
                                                "also run the catalogue rules (R.CAT.*).")] = None,
) -> None:
    """Validate envelopes (GIAMDINHHS), check-in documents and bare table files against the standard."""
    from .catalog.cli import load_catalog
    from .catalog.lookup import using
    from .validate import FileUnreadable, iter_files, validate_path

    version = _version(spec_version)
    approved = load_catalog(catalog) if catalog else None
    all_findings: list[fnd.Finding] = []
    names: list[str] = []
    try:
        with using(approved):  # the catalogue rules see the approved catalogues
            for path in iter_files(paths):
                names.append(str(path))
                all_findings.extend(validate_path(path, version=version, rules=rules))
    except FileUnreadable as exc:
        _problem("Không đọc được:", exc)
        raise typer.Exit(EXIT_UNUSABLE) from None
    if not names:
        err.print("[red]Không có tệp .xml nào để kiểm tra.[/red]")
        raise typer.Exit(EXIT_UNUSABLE)
    if report is not None:
        from .report_html import html_report

        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(html_report(all_findings, len(names)), encoding="utf-8")
    if format is ValidateFormat.json:
        sys.stdout.write(json.dumps([f.to_dict() for f in all_findings], ensure_ascii=False, indent=2) + "\n")
    elif format is ValidateFormat.junit:
        from .report_html import junit_report

        sys.stdout.write(junit_report(all_findings, names))
    else:
        for f in all_findings:
            out.print(str(f), markup=False)
        errors = sum(f.severity == fnd.ERROR for f in all_findings)
        out.print(f"{len(names)} tệp, {errors} lỗi, {len(all_findings) - errors} cảnh báo.", markup=False)
        if report is not None:
            out.print(f"báo cáo HTML: {report}", markup=False)
    raise typer.Exit(EXIT_FINDINGS if fnd.has_errors(all_findings) else EXIT_OK)


@app.command("rules")
def rules_cmd(format: Annotated[RulesFormat, typer.Option("--format", "-f")] = RulesFormat.text) -> None:
    """List the business rules: code, severity, tables, fields, period, message and the clause each enforces."""
    from .rules import all_rules

    catalogue = all_rules()
    if format is RulesFormat.json:
        sys.stdout.write(json.dumps([r.describe() for r in catalogue], ensure_ascii=False, indent=2) + "\n")
    elif format is RulesFormat.markdown:
        from .rules.docs import render_markdown

        sys.stdout.write(render_markdown())
    else:
        for r in catalogue:
            period = f" [{r.since or '…'} – {r.until or '…'}]" if (r.since or r.until) else ""
            out.print(f"{r.code:<28} {r.severity:<8} {','.join(r.tables):<20} {r.title}{period}", markup=False)
            out.print(f"{'':<28} nguồn: {r.source}", markup=False)
        out.print(f"{len(catalogue)} quy tắc.", markup=False)


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="An envelope, check-in document or table file.")],
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
) -> None:
    """Decode an envelope into its tables (values exactly as written) and print them."""
    from .decode import describe

    try:
        data = file.read_bytes()
    except OSError as exc:
        _problem("Không đọc được:", f"{file}: {exc.strerror or exc}")
        raise typer.Exit(EXIT_UNUSABLE) from None
    try:
        doc = describe(data)
    except ValueError as exc:
        _problem("Không giải mã được:", f"{file}: {exc}")
        raise typer.Exit(EXIT_UNUSABLE) from None
    doc["file"] = str(file)
    if format is Format.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    from .decode import print_text

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
def spec_docs(output: Annotated[Path, typer.Option("--out")] = Path("docs/spec.md"),
              conformance: Annotated[Path, typer.Option("--conformance-out")] = Path("docs/conformance.md")) -> None:
    """Write the field reference of every spec version and the conformance cases (Markdown), from the spec data."""
    from .conformance import render_markdown as render_conformance
    from .spec.docs import render_markdown

    for path, text in ((output, render_markdown()), (conformance, render_conformance())):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out.print(f"written {path}", markup=False)


@app.command()
def fixtures(output: Annotated[Path, typer.Option("--out")] = Path("fixtures")) -> None:
    """Regenerate the synthetic fixtures (valid hồ sơ and invalid files with their expected findings)."""
    from .scenarios import write_fixtures

    written = write_fixtures(output)
    out.print(f"{len(written)} fixture files written under {output}/", markup=False)


@app.command()
def demo(
    output: Annotated[Path, typer.Option("--out")] = Path("out/demo"),
    encounters: Annotated[int, typer.Option("--encounters", min=1)] = 500,
    seed: Annotated[int, typer.Option("--seed")] = 130,
) -> None:
    """The demo job: create the demo HIS (SQLite), run the nightly export and a check-in run, validate; then the
    week's VNeID adoption report."""
    from .demo import run_demo

    t0 = time.perf_counter()
    with _progress(encounters, "nightly export") as advance:
        report = run_demo(output, encounters=encounters, seed=seed, progress=advance)
    v, n, c, a = report["validation"], report["nightly"], report["checkin"], report["adoption"]
    out.print(
        f"demo HIS: {report['his']}\n"
        f"nightly export: {n['counts']} → envelopes under {report['outbox']}/79999/<day>/<MA_LK>/v<n>.xml\n"
        f"quarantine (every reason): {n['report_dir']}/quarantine.json "
        f"({'as the demo data expects' if report['quarantine_as_expected'] else 'NOT what the demo data expects'})\n"
        f"check-in: {c['counts']} → {report['outbox']}/79999/checkin/\n"
        f"ledger: {report['ledger']} (Parquet copy: {n['report_dir']}/ledger.parquet)\n"
        f"validation of every file written: {v['files']} files, {v['errors']} errors\n"
        f"VNeID adoption report, {a['period_title']}: {a['total']['books']}/{a['total']['examined']} patients with a "
        f"health book → {Path(a['files']['xlsx']).parent}/ (xlsx, html, csv)\n"
        f"report: {output}/report.json ({time.perf_counter() - t0:.1f} s)",
        markup=False,
    )
    ok = v["errors"] == 0 and report["quarantine_as_expected"]
    raise typer.Exit(EXIT_OK if ok else EXIT_FINDINGS)


class _progress:
    """A progress bar on stderr for long runs (silent when stderr is not a terminal)."""

    def __init__(self, total: int | None, label: str):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                            disable=not err.is_terminal, transient=True)
        self.task = self.bar.add_task(label, total=total)

    def __enter__(self):
        self.bar.start()
        return lambda n=1: self.bar.advance(self.task, n)

    def __exit__(self, *exc):
        self.bar.stop()
        return False


@app.command("demo-his")
def demo_his(
    url: Annotated[str, typer.Option("--url", help="sqlite:///demo.db or postgresql+psycopg://…")] = "sqlite:///demo.db",
    encounters: Annotated[int, typer.Option("--encounters", min=1)] = 500,
    seed: Annotated[int, typer.Option("--seed")] = 130,
    every: Annotated[int, typer.Option("--every", min=1, help="Minutes between two arrivals (60 spreads 500 "
                                                              "episodes over three weeks).")] = 7,
) -> None:
    """Create (or re-create) the demo HIS database, deterministic for the same seed. A missing PostgreSQL database
    is created first (the account needs the CREATEDB right)."""
    from sqlalchemy.exc import SQLAlchemyError

    from .his.database import ensure_database
    from .his.demo import create_demo

    try:
        if ensure_database(url):
            out.print(f"created database {url.rsplit('/', 1)[-1]}", markup=False)
        with _progress(encounters, "demo HIS") as advance:
            done_so_far = [0]

            def report(done: int) -> None:  # create_demo reports a running total
                advance(done - done_so_far[0])
                done_so_far[0] = done

            create_demo(url, encounters, seed, progress=report, minutes_between=every)
    except SQLAlchemyError as exc:
        _problem("Không tạo được CSDL demo:", f"{url.split('@')[-1]}: {str(exc).splitlines()[0]}")
        raise typer.Exit(EXIT_UNUSABLE) from None
    from sqlalchemy.engine import make_url

    out.print(f"demo HIS with {encounters} episodes at {make_url(url).render_as_string(hide_password=True)}",
              markup=False)


def _parse_when(value: str | None, name: str):
    from .dates import DESCRIBED, DateTextError, parse_datetime

    if value is None:
        return None
    try:
        return parse_datetime(value)
    except DateTextError:
        raise typer.BadParameter(f"{value!r}: use {DESCRIBED}", param_hint=name) from None


@app.command()
def export(
    source: Annotated[str, typer.Option("--source", envvar="XML130_SOURCE", help="Database URL of the HIS (SQLAlchemy).")],
    output: Annotated[Path, typer.Option("--out", help="Folder for the envelopes and quarantine.json.")],
    mapping: Annotated[Path | None, typer.Option("--mapping", help="Mapping file (default: the demo HIS mapping).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Episodes closed after this time.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Episodes closed from this time…")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="…up to this time (inclusive).")] = None,
    ma_lk: Annotated[list[str] | None, typer.Option("--ma-lk", help="Only these MA_LK (repeatable).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 500,
) -> None:
    """Export hồ sơ from a HIS database: one envelope per hồ sơ, and a quarantine report with every reason."""
    from sqlalchemy.exc import SQLAlchemyError

    from .export import run_export
    from .extract import Extractor, Selection
    from .mapping import MappingError, load_mapping

    modes = sum(x is not None and x != [] for x in (since, date_from or date_to, ma_lk))
    if modes > 1:
        raise typer.BadParameter("choose one of --since, --from/--to, --ma-lk")
    lower = _parse_when(since, "--since")
    if date_from is not None:
        import datetime as dt

        lower = _parse_when(date_from, "--from") - dt.timedelta(microseconds=1)
    selection = Selection(since=lower, until=_parse_when(date_to, "--to"), ma_lk=tuple(ma_lk or ()))
    try:
        m = load_mapping(mapping)
        from sqlalchemy import create_engine

        total = Extractor(create_engine(source), m).count(selection)
        with _progress(total, "export") as advance:
            result = run_export(source, m, output, selection, batch_size=batch_size, progress=advance)
    except MappingError as exc:
        _problem("Cấu hình ánh xạ không hợp lệ:", exc)
        raise typer.Exit(EXIT_UNUSABLE) from None
    except SQLAlchemyError as exc:
        _problem("Lỗi CSDL:", f"{source.split('@')[-1]}: {str(exc).splitlines()[0]}")
        raise typer.Exit(EXIT_UNUSABLE) from None
    out.print(f"{result.counts['staged']} envelopes written to {output}/, {len(result.quarantine)} hồ sơ "
              f"quarantined ({output}/quarantine.json); selection: {selection.describe()}", markup=False)
    raise typer.Exit(EXIT_FINDINGS if result.quarantine else EXIT_OK)


DEFAULT_LEDGER = "sqlite:///xml130-ledger.db"


def _pipeline_errors(fn):
    """Run a pipeline call; a bad mapping or an unreachable database is exit 2 with a message."""
    from sqlalchemy.exc import SQLAlchemyError

    from .mapping import MappingError

    try:
        return fn()
    except (MappingError, SQLAlchemyError, ValueError) as exc:
        if _signals:  # a library turned the signal into an error of its own (e.g. a failed rollback)
            raise Interrupted(_signals[0]) from exc
        if isinstance(exc, MappingError):
            _problem("Cấu hình ánh xạ không hợp lệ:", exc)
        elif isinstance(exc, SQLAlchemyError):
            _problem("Lỗi CSDL:", str(exc).splitlines()[0])
        else:
            _problem("Không chạy được:", exc)
    raise typer.Exit(EXIT_UNUSABLE)


def _print_run(report) -> None:
    d = report.as_dict()
    out.print(f"{d['flow']} {d['run_id']}: {d['counts']}; {d['window']}", markup=False)
    if d["quarantined_by_code"]:
        out.print(f"quarantined by code: {d['quarantined_by_code']}", markup=False)
    out.print(f"report: {d['report_dir']}/summary.json, quarantine.json, ledger.parquet", markup=False)


@app.command()
def nightly(
    source: Annotated[str, typer.Option("--source", envvar="XML130_SOURCE", help="Database URL of the HIS.")],
    outbox: Annotated[Path, typer.Option("--outbox", help="Outbox folder (facility/day/MA_LK/vN.xml).")],
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER", help="Ledger database URL.")] = DEFAULT_LEDGER,
    mapping: Annotated[Path | None, typer.Option("--mapping")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Override the stored watermark.")] = None,
    until: Annotated[str | None, typer.Option("--until")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 500,
) -> None:
    """Run nightly_export once, in-process (no Prefect server needed): stage what closed since the watermark."""
    from . import pipeline
    from .mapping import load_mapping

    report = _pipeline_errors(lambda: pipeline.nightly(
        source, outbox, ledger, mapping=load_mapping(mapping), since=_parse_when(since, "--since"),
        until=_parse_when(until, "--until"), batch_size=batch_size))
    _print_run(report)


@app.command()
def checkin(
    source: Annotated[str, typer.Option("--source", envvar="XML130_SOURCE")],
    outbox: Annotated[Path, typer.Option("--outbox")],
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER")] = DEFAULT_LEDGER,
    mapping: Annotated[Path | None, typer.Option("--mapping")] = None,
    since: Annotated[str | None, typer.Option("--since")] = None,
) -> None:
    """Run the check-in job once: XML0 documents for new first costs and ward admissions (not emergencies)."""
    from . import pipeline
    from .mapping import load_mapping

    report = _pipeline_errors(lambda: pipeline.checkin(source, outbox, ledger, mapping=load_mapping(mapping),
                                                       since=_parse_when(since, "--since")))
    _print_run(report)


@app.command("adoption-report")
def adoption_report(
    source: Annotated[str, typer.Option("--source", envvar="XML130_SOURCE", help="Database URL of the HIS.")],
    week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2026-W47 (default: the last "
                                                             "complete week in Asia/Ho_Chi_Minh).")] = None,
    month: Annotated[str | None, typer.Option("--month", help="A month instead, e.g. 2026-11.")] = None,
    output: Annotated[Path, typer.Option("--out", help="Folder for the XLSX, HTML, CSV and JSON files.")] = Path("out/adoption"),
    mapping: Annotated[Path | None, typer.Option("--mapping")] = None,
    periods: Annotated[int | None, typer.Option("--periods", min=2, help="Periods in the trend (default 8).")] = None,
    notes: Annotated[Path | None, typer.Option("--notes", help="TOML with the staff survey's free-text answers.")] = None,
    rank_min: Annotated[int | None, typer.Option("--rank-min-patients", min=1, help="Rank only departments with at "
                                                  "least this many patients (default: labels.toml, 1).")] = None,
) -> None:
    """The VNeID health-book adoption report by department: XLSX to send, HTML with charts, CSV, drill-down."""
    from .adoption.job import run_adoption_report
    from .adoption.tables import pct

    if week and month:
        raise typer.BadParameter("give --week or --month, not both")
    report, files = _pipeline_errors(lambda: run_adoption_report(
        source, output, period=week or month, kind="month" if month else "week", mapping=mapping,
        periods=periods, notes=notes, rank_min_patients=rank_min))
    from rich.table import Table

    table = Table(title=f"Sổ sức khỏe điện tử — {report.period.title}")
    for h in ("hạng", "khoa", "khám", "đủ đk", "có sổ", "% tổng", "% đủ đk", "± điểm"):
        table.add_column(h, justify="left" if h == "khoa" else "right")
    for d in [*report.departments, report.total]:
        c = d.counts
        table.add_row(str(d.rank or ""), d.name, str(c.examined), str(c.eligible), str(c.books),
                      *(f"{v:.2f}" if v is not None else "—" for v in (pct(c.rate_all), pct(c.rate_eligible))),
                      f"{d.change_pp:+.2f}" if d.change_pp is not None else "—")
    out.print(table)
    for w in report.warnings:
        err.print(f"[yellow]{w['code']}[/yellow] {w['message']}", highlight=False)
    for kind, path in files.items():
        out.print(f"{kind}: {path}", markup=False)


@app.command()
def resend(
    ma_lk: Annotated[list[str], typer.Argument(help="MA_LK to re-stage as replacement versions.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the ledger).")],
    source: Annotated[str, typer.Option("--source", envvar="XML130_SOURCE")],
    outbox: Annotated[Path, typer.Option("--outbox")],
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER")] = DEFAULT_LEDGER,
    mapping: Annotated[Path | None, typer.Option("--mapping")] = None,
) -> None:
    """Re-stage MA_LK as new versions that replace the previous ones, with a reason."""
    from . import pipeline
    from .mapping import load_mapping

    report = _pipeline_errors(lambda: pipeline.resend(source, outbox, ledger, ma_lk, reason,
                                                      mapping=load_mapping(mapping)))
    _print_run(report)


@app.command()
def status(
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER")] = DEFAULT_LEDGER,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
    within: Annotated[int, typer.Option("--within", help="Also list deadlines within this many days.")] = 2,
    now: Annotated[str | None, typer.Option("--now", help="Evaluate deadlines at this time (default: now).")] = None,
) -> None:
    """What to act on, per day: hồ sơ staged, check-ins, what was sent (accepted; rejected with maKetQua and
    thongDiep; unanswered; awaiting signature), then what is overdue or due within --within days."""
    from .ledger import Ledger
    from .status import ledger_status, status_lines

    summary = _pipeline_errors(lambda: ledger_status(Ledger(ledger), _parse_when(now, "--now"), within))
    if format is Format.json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        return
    for line in status_lines(summary):
        out.print(line, markup=False)


@app.command()
def sign(
    file: Annotated[Path, typer.Argument(help="A GIAMDINHHS envelope or a check-in document.")],
    output: Annotated[Path, typer.Option("--out")],
    p12: Annotated[Path | None, typer.Option("--p12", help="PKCS#12 file (password: XML130_P12_PASSWORD).")] = None,
    pkcs11_module: Annotated[str | None, typer.Option("--pkcs11-module", help="The token's PKCS#11 library "
                                                      "(PIN: XML130_PKCS11_PIN).")] = None,
    token: Annotated[str | None, typer.Option("--token", help="Token label.")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Label of the key on the token.")] = None,
    remote: Annotated[str | None, typer.Option("--remote", help="Base URL of a remote-signing service "
                                               "(secret: XML130_REMOTE_SECRET).")] = None,
    client_id: Annotated[str | None, typer.Option("--client-id")] = None,
    remote_user: Annotated[str | None, typer.Option("--remote-user", help="The signer's account there.")] = None,
    wait: Annotated[float | None, typer.Option("--wait", help="Seconds to wait for the signer's confirmation.")] = None,
) -> None:
    """Sign a file (enveloped XML-DSig, RSA-SHA256, in CHUKYDONVI) with a PKCS#12 file, a token or a remote signer."""
    from .signing import SigningError
    from .signing.choose import open_signer
    from .staging import write_atomic

    try:
        signer = open_signer(p12=p12, pkcs11_module=pkcs11_module, token=token, key=key, remote=remote,
                             client_id=client_id, remote_user=remote_user, wait=wait)
        signed = signer.sign(file.read_bytes())
    except (SigningError, OSError) as exc:
        _problem("Không ký được:", exc)
        raise typer.Exit(EXIT_UNUSABLE) from None
    write_atomic(output, signed)
    out.print(f"signed: {output}", markup=False)


@app.command()
def verify(
    file: Annotated[Path, typer.Argument()],
    ca: Annotated[Path | None, typer.Option("--ca", help="PEM of the trusted CA(s).")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """Check a file's signature and certificate: exit 0 valid, else the exit code of the first problem
    (10 unsigned, 11 malformed, 12 content changed, 13 signature value wrong, 14 expired, 15 not yet valid,
    16 untrusted, 17 not for signing; 2 unreadable)."""
    from .signing import verify as check

    try:
        result = check(file.read_bytes(), ca_pem=ca.read_bytes() if ca else None)
    except OSError as exc:
        _problem("Không đọc được:", exc)
        raise typer.Exit(EXIT_UNUSABLE) from None
    if fmt == Format.json:
        out.print(json.dumps({"file": str(file), **result.as_dict()}, ensure_ascii=False), markup=False)
    else:
        out.print(f"{file}: {'HỢP LỆ' if result.valid else 'KHÔNG HỢP LỆ'} [{result.code}] {result.reason}"
                  + (f" ({result.subject})" if result.subject else ""), markup=False)
    raise typer.Exit(result.exit_code)


def _serve_until_stopped(sim, port: int, banner: str, farewell=None) -> None:
    """Start a local simulator, print where it listens (``{url}`` in ``banner``), serve until Ctrl-C or SIGTERM,
    then stop it and print ``farewell()`` when given."""
    try:
        url = sim.start(port=port)
    except OSError as exc:
        _problem("Không mở được cổng:", f"127.0.0.1:{port}: {exc.strerror or exc}")
        raise typer.Exit(EXIT_UNUSABLE) from None
    out.print(banner.format(url=url) + "; Ctrl-C or SIGTERM to stop", markup=False)
    try:
        while True:
            time.sleep(3600)
    finally:
        sim.stop()
        if farewell is not None:
            err.print(farewell(), highlight=False)


@app.command("signer-sim")
def signer_sim(
    p12: Annotated[Path, typer.Option("--p12", help="The signer's key (password: XML130_P12_PASSWORD).")],
    mode: Annotated[str, typer.Option("--mode", help="confirm | refuse | never")] = "confirm",
    delay: Annotated[float, typer.Option("--delay", help="Seconds before the signer answers.")] = 3.0,
    expire_after: Annotated[float | None, typer.Option("--expire-after")] = None,
    port: Annotated[int, typer.Option("--port")] = 8131,
    client_id: Annotated[str, typer.Option("--client-id")] = "xml130",
    user: Annotated[str, typer.Option("--user")] = "bv79999",
) -> None:
    """Run the local remote-signing simulator on 127.0.0.1 (secret from XML130_REMOTE_SECRET) until interrupted."""
    import os

    from .signing import P12Signer, SigningError
    from .signing.sim import SignerSim

    secret = os.environ.get("XML130_REMOTE_SECRET")
    try:
        if not secret:
            raise SigningError("set XML130_REMOTE_SECRET")
        held = P12Signer.from_file(p12)
        sim = SignerSim(held.key, held.certificate, client_id=client_id, secret=secret, user_id=user, mode=mode,
                        delay=delay, expire_after=expire_after)
    except (SigningError, ValueError, OSError) as exc:
        _problem("Không chạy được:", exc)
        raise typer.Exit(EXIT_UNUSABLE) from None
    _serve_until_stopped(sim, port, f"remote-signing simulator at {{url}} (mode {mode}, user {user})",
                         lambda: f"remote-signing simulator stopped: {sim.requests} signing requests")


@app.command("portal-sim")
def portal_sim(
    port: Annotated[int, typer.Option("--port")] = 8130,
    username: Annotated[str, typer.Option("--user")] = "bv79999",
    ca: Annotated[Path | None, typer.Option("--ca", help="PEM of the CA whose signatures it accepts.")] = None,
    slow: Annotated[float, typer.Option("--slow", min=0, help="Fault: delay every answer by this many seconds.")] = 0.0,
    fail_5xx: Annotated[int, typer.Option("--fail-5xx", min=0, help="Fault: the next N requests (token "
                                                                   "included) answer 503.")] = 0,
    drop: Annotated[int, typer.Option("--drop", min=0, help="Fault: the next N files are recorded, then the "
                                                            "connection closes without an answer.")] = 0,
    token_ttl: Annotated[float, typer.Option("--token-ttl", min=0, help="Fault: tokens expire after this many "
                                                                        "seconds (0: at once, every send gets "
                                                                        "401).")] = 3600.0,
) -> None:
    """Run the local portal simulator on 127.0.0.1 (password from XML130_PORTAL_PASSWORD) until SIGINT or
    SIGTERM."""
    from .portal.sim import Faults, PortalSim

    password = os.environ.get("XML130_PORTAL_PASSWORD")
    if not password:
        _problem("Thiếu mật khẩu:", "set XML130_PORTAL_PASSWORD")
        raise typer.Exit(EXIT_UNUSABLE)
    sim = PortalSim(username=username, password=password, ca_pem=ca.read_bytes() if ca else None,
                    token_ttl=token_ttl, faults=Faults(slow=slow, fail_5xx=fail_5xx, drop=drop))
    _serve_until_stopped(sim, port, f"portal simulator at {{url}} (user {username})",
                         lambda: f"portal simulator stopped: {len(sim.received)} files received")


@app.command()
def submit(
    outbox: Annotated[Path, typer.Option("--outbox")],
    ledger: Annotated[str, typer.Option("--ledger", envvar="XML130_LEDGER")] = DEFAULT_LEDGER,
    portal: Annotated[str | None, typer.Option("--portal", help="Base URL of the portal.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Portal user (password: XML130_PORTAL_PASSWORD).")] = None,
    p12: Annotated[Path | None, typer.Option("--p12", help="PKCS#12 to sign with (password: XML130_P12_PASSWORD).")] = None,
    unsigned: Annotated[bool, typer.Option("--unsigned", help="Send without signing: only for the local "
                                                              "simulator (the portal answers 123).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")] = False,
) -> None:
    """Send staged check-ins and hồ sơ, signed, in order, until accepted; keep every attempt in the ledger.
    Exit 0 all accepted, 1 some rejected or still due, 2 nothing could be sent (no signer, bad settings)."""
    from . import pipeline
    from .portal.client import PortalClient, PortalConfig
    from .signing import P12Signer, SigningError

    if dry_run:
        report = pipeline.submit(outbox, ledger, None, None, dry_run=True)
        for item in report.items:
            out.print(f"{item['kind']:<8} {item['ma_lk']} {item['id']:<15} {item['status']:<10} {item['path']}",
                      markup=False)
        out.print(f"{len(report.items)} would be sent.", markup=False)
        return
    if p12 is None and not unsigned:
        _problem("Thiếu chữ ký số:", pipeline.NO_SIGNER)
        raise typer.Exit(EXIT_UNUSABLE)
    if not portal or not user:
        raise typer.BadParameter("--portal and --user are needed to send (or use --dry-run)")
    try:
        signer = P12Signer.from_file(p12) if p12 else None
    except (SigningError, OSError) as exc:
        _problem("Không mở được chứng thư số:", exc)
        raise typer.Exit(EXIT_UNUSABLE) from None
    client = PortalClient(PortalConfig(base_url=portal, username=user))
    try:
        report = _pipeline_errors(lambda: pipeline.submit(outbox, ledger, client, signer, unsigned=unsigned))
    finally:
        client.close()
    _print_run(report)
    for q in report.quarantine:
        why = f"{q['ma_ket_qua']} {q['thong_diep'] or ''}".rstrip() if q["ma_ket_qua"] else q["reason"]
        out.print(f"  {q['outcome']}: {q['kind']} {q['ma_lk']} {q['id']} — {why}", markup=False)
    for note in report.notes:
        out.print(f"  {note}; {report.counts['left_due']} left due for the next run", markup=False)
    raise typer.Exit(EXIT_OK if set(report.counts) <= {"accepted", "ledger_rows"} else EXIT_FINDINGS)


_signals: list[int] = []  # the signal received, if any


class Interrupted(BaseException):
    """SIGINT or SIGTERM: unwinds the command like an exception (not an ``Exception``, so no handler mistakes it
    for a data error): transactions roll back, temporary files are removed, servers stop."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop_on_signals() -> None:
    """Install SIGINT and SIGTERM handlers explicitly: a command started in the background by a non-interactive
    shell inherits SIGINT *ignored*, and Python's default SIGTERM ends the process without unwinding. The first
    signal unwinds; a second one during the unwinding ends the process at once."""

    def at_once(signum, frame):
        os._exit(128 + signum)

    def unwind(signum, frame):
        _signals.append(signum)
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, at_once)
        raise Interrupted(signum)

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, unwind)


mapping_app = typer.Typer(no_args_is_help=True, help="Mappings from a HIS database to the QĐ 130 tables.")
app.add_typer(mapping_app, name="mapping")


@mapping_app.command("check")
def mapping_check(
    source: Annotated[str, typer.Option("--source", help="Database URL of the HIS (SQLAlchemy).")],
    mapping: Annotated[Path | None, typer.Option("--mapping", help="Mapping file (default: the demo HIS mapping).")] = None,
    sample: Annotated[int, typer.Option("--sample", min=0, help="Hồ sơ built in a dry run.")] = 20,
) -> None:
    """Every check of a mapping, then N hồ sơ built in a dry run: each field mapped / constant / derived / always
    empty, sample values, and every problem with the line of the mapping to change. Exit 0 clean, 1 problems,
    2 unusable."""
    from .mapping.report import check_mapping

    report = check_mapping(source, mapping, sample)
    out.print(report.render(), markup=False)
    raise typer.Exit(report.exit_code)


def main() -> None:
    _stop_on_signals()
    try:
        app()
    except Interrupted as exc:
        _interrupted(exc.signum)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit:
        if _signals:  # the signal was turned into an exit on the way out: still say it was a signal
            _interrupted(_signals[0])
        raise
    except Exception as exc:  # never a traceback for the user; the message says what broke
        if _signals:
            _interrupted(_signals[0])
        _problem("xml130: lỗi không mong đợi", f"({type(exc).__name__}): {exc}")
        sys.exit(EXIT_UNUSABLE)


def _interrupted(signum: int) -> None:
    """Exit 130 (SIGINT) or 143 (SIGTERM), as a shell reports a signalled command."""
    err.print(f"interrupted by {signal.Signals(signum).name}: stopped cleanly (no partial file; the next run goes "
              "on)", highlight=False)
    sys.exit(128 + signum)


if __name__ == "__main__":
    main()
