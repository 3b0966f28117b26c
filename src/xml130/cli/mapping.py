"""``xml130 mapping check``: every check of a mapping and a dry run of N hồ sơ."""

from __future__ import annotations

from typing import Annotated

import typer

from . import MappingOption, mapping_file, out

mapping_app = typer.Typer(no_args_is_help=True, help="Mappings from a HIS database to the QĐ 130 tables.")
from . import app  # noqa: E402

app.add_typer(mapping_app, name="mapping")


@mapping_app.command("check")
def mapping_check(
    source: Annotated[str, typer.Option("--source", help="Database URL of the HIS (SQLAlchemy).")],
    mapping: MappingOption = None,
    sample: Annotated[int, typer.Option("--sample", min=0, help="Hồ sơ built in a dry run.")] = 20,
) -> None:
    """Every check of a mapping, then N hồ sơ built in a dry run: each field mapped / constant / derived / always
    empty, sample values, and every problem with the line of the mapping to change. Exit 0 clean, 1 problems,
    2 unusable."""
    from ..mapping.dry_run import check_mapping
    from ..rules import run_rules

    report = check_mapping(source, mapping_file(mapping), sample, judge=run_rules)
    out.print(report.render(), markup=False)
    raise typer.Exit(report.exit_code)

