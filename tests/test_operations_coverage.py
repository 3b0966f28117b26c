"""Every fenced block of docs/operations.md is claimed: run by a test (``<!-- steps:NAME -->`` … ``<!-- /steps:NAME
-->``, read by ``tests.e2e.doc_steps("NAME")`` in a test), checked by a named test (``<!-- checked:
tests/test_x.py::test_name -->``), or exempted with its reason (``<!-- not run: why -->``), the marker on the line
before the block. A block added without one, a steps block no test reads, a test reading a steps block the page does
not have, or a ``checked`` marker naming a test that does not exist fails here, named."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .e2e import DOC, doc_steps

TESTS = Path(__file__).resolve().parent
MARKER = re.compile(r"<!-- (?:steps:(?P<steps>[\w-]+)|checked: (?P<checked>\S+)|not run: (?P<why>.+?)) -->")


def doc_blocks(text: str) -> list[tuple[int, str, str]]:
    """(line number of the opening fence, that fence, the non-blank line before it) for each fenced block."""
    lines, blocks, start = text.splitlines(), [], None
    for i, line in enumerate(lines):
        if line.startswith("```"):
            if start is None:
                start = i
                before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
                blocks.append((i + 1, line, before.strip()))
            else:
                start = None
    assert start is None, f"docs/operations.md line {start + 1}: a fence never closed"
    return blocks


def _functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _called(node: ast.AST) -> set[str]:
    return {c.func.id for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}


def steps_readers() -> dict[str, set[str]]:
    """The steps names read by ``doc_steps("NAME")`` in tests/test_*.py, each with the tests reading it (a test
    function, or a function of the same module such a test calls)."""
    readers: dict[str, set[str]] = {}
    for path in sorted(TESTS.glob("test_*.py")):
        functions = _functions(path)
        tests = {name: _called(f) for name, f in functions.items() if name.startswith("test_")}
        for name, f in functions.items():
            read = {c.args[0].value for c in ast.walk(f) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                    and c.func.id == "doc_steps" and c.args and isinstance(c.args[0], ast.Constant)}
            by = {name} if name in tests else {t for t, calls in tests.items() if name in calls}
            for step in read:
                readers.setdefault(step, set()).update(f"tests/{path.name}::{t}" for t in by)
    return readers


def test_every_block_of_operations_is_run_checked_or_exempted_with_its_reason():
    text = DOC.read_text(encoding="utf-8")
    readers = steps_readers()
    unclaimed, wrong, names = [], [], set()
    for line, fence, before in doc_blocks(text):
        m = MARKER.fullmatch(before)
        where = f"docs/operations.md line {line} ({fence})"
        if not m:
            unclaimed.append(where)
        elif m["steps"]:
            names.add(m["steps"])
            assert doc_steps(m["steps"]), f"{where}: steps:{m['steps']} holds no command"  # and is closed
            if not readers.get(m["steps"]):
                wrong.append(f"{where}: steps:{m['steps']} is read by no test")
        elif m["checked"]:
            file, _, func = m["checked"].partition("::")
            path = TESTS.parent / file
            f = _functions(path).get(func) if path.is_file() and file.startswith("tests/test_") else None
            if f is None or not func.startswith("test_"):
                wrong.append(f"{where}: checked by {m['checked']}, which does not exist")
            elif not {"DOC", "doc_steps"} & {n.id for n in ast.walk(f) if isinstance(n, ast.Name)}:
                wrong.append(f"{where}: {m['checked']} does not read docs/operations.md")
        elif len(m["why"].split()) < 3:
            wrong.append(f"{where}: 'not run' without a reason")
    assert not unclaimed, "blocks neither run, checked nor exempted (<!-- not run: why -->):\n" + "\n".join(unclaimed)
    assert not wrong, "\n".join(wrong)
    missing = {step: sorted(by) for step, by in readers.items() if step not in names}
    assert not missing, f"tests read steps blocks docs/operations.md does not have: {missing}"


def test_the_steps_blocks_and_their_readers():
    """The claims as they stand: which tests run which block (a block moved to another test changes this list)."""
    readers = steps_readers()
    deployed = "tests/test_deployed.py::test_prefect_server_scheduler_and_worker_run_the_nightly"
    serve = "tests/test_deployed.py::test_serve_runs_the_scheduled_nightly"
    morning = "tests/test_operations.py::test_the_morning_and_resend_blocks_of_operations_run_as_written"
    stream = "tests/test_stream_deployed.py::test_the_stream_deployment_runs_on_a_worker_until_cancelled"
    assert {step: sorted(by) for step, by in readers.items()} == {
        "anonymize": ["tests/test_anonymize.py::test_the_anonymize_block_of_operations_runs_as_written"],
        "background": [deployed],  # through assert_a_background_worker_stops_on_one_sigterm
        "catalogues": [deployed],
        "morning": [morning],
        "resend": [morning],
        "serve": [serve],
        "server": ["tests/test_deadline_alert.py::test_a_deadline_within_the_hours_is_notified_once_through_a_prefect_block",
                   deployed, serve, "tests/test_deployed.py::test_the_systemd_units_start_the_documented_services",
                   stream],
        "stream": [stream],
        "submit": [deployed],
        "stream-by-hand": ["tests/test_stream.py::test_the_stream_line_of_operations_runs_as_written"],
        "trial": [deployed, serve],
    }
