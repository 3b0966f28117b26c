"""``xml130 adoption-report``: the VNeID health-book adoption report by department."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import MappingOption, app, err, mapping_file, out, run_job


@app.command("adoption-report")
def adoption_report(
    source: Annotated[str, typer.Option("--source", envvar="XML130_SOURCE", help="Database URL of the HIS.")],
    week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2026-W47 (default: the last "
                                                             "complete week in Asia/Ho_Chi_Minh).")] = None,
    month: Annotated[str | None, typer.Option("--month", help="A month instead, e.g. 2026-11.")] = None,
    output: Annotated[Path, typer.Option("--out", help="Folder for the XLSX, HTML, CSV and JSON files.")] = Path("out/adoption"),
    mapping: MappingOption = None,
    periods: Annotated[int | None, typer.Option("--periods", min=2, help="Periods in the trend (default 8).")] = None,
    notes: Annotated[Path | None, typer.Option("--notes", help="TOML with the staff survey's free-text answers.")] = None,
    rank_min: Annotated[int | None, typer.Option("--rank-min-patients", min=1, help="Rank only departments with at "
                                                  "least this many patients (default: labels.toml, 1).")] = None,
) -> None:
    """The VNeID health-book adoption report by department: XLSX to send, HTML with charts, CSV, drill-down."""
    from ..adoption.job import run_adoption_report
    from ..adoption.tables import pct

    if week and month:
        raise typer.BadParameter("give --week or --month, not both")
    mapping = mapping_file(mapping)
    report, files = run_job(lambda: run_adoption_report(
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

