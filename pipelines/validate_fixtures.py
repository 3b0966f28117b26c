"""QA flow: validate a folder of files and publish the report (Prefect artifacts + a JSON file).

    python -m pipelines.validate_fixtures fixtures/invalid --report out/qa.json

Runs as a Prefect flow (a temporary local server is started when no PREFECT_API_URL is set). The flow body is
plain library calls, so tests call ``validate_fixtures.fn(...)`` without any server.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext

from xml130.qa_summary import markdown, summarise
from xml130.validate import iter_files, validate_path


def _log(message: str) -> None:
    if FlowRunContext.get() is not None:
        get_run_logger().info(message)


@flow(name="validate_fixtures", log_prints=False)
def validate_fixtures(folder: str = "fixtures", report: str | None = None) -> dict:
    """Validate every .xml under ``folder``; return the summary (and write the findings to ``report``)."""
    files = list(iter_files([folder]))
    findings = [f for path in files for f in validate_path(path)]
    summary = summarise(findings, files=len(files))
    _log(f"{summary['files']} files, {summary['errors']} errors, {summary['warnings']} warnings")
    if report:
        out = Path(report)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"summary": summary, "findings": [f.to_dict() for f in findings]},
                                  ensure_ascii=False, indent=2), encoding="utf-8")
    if FlowRunContext.get() is not None:
        create_markdown_artifact(markdown(summary, findings), key="xml130-validation", description="QA report")
        create_table_artifact([{"code": c, "count": n} for c, n in summary["by_code"].items()],
                              key="xml130-findings-by-code")
    return summary


if __name__ == "__main__":
    args = sys.argv[1:]
    folder = args[0] if args else "fixtures"
    report = args[args.index("--report") + 1] if "--report" in args else None
    result = validate_fixtures(folder, report)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    sys.exit(1 if result["errors"] else 0)
