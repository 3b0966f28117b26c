"""The README stays true: its two commands exist, CI runs the test one, every finding code is documented."""

from __future__ import annotations

from xml130.findings import MESSAGES


def test_readme_commands_are_what_ci_and_run_use(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "./run demo" in readme and "./run test" in readme
    assert "./run test" in (root / ".ci" / "run").read_text(encoding="utf-8")
    run = (root / "run").read_text(encoding="utf-8")
    assert "demo)" in run and "test)" in run


def test_every_finding_code_is_in_the_readme(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    missing = [code for code in MESSAGES if f"`{code}`" not in readme]
    assert missing == []


def test_every_source_path_in_the_readme_exists(root):
    """The README's tables are a map of the tree: each `src/...` path they name is there (the prose may name a file
    still to write, such as the next amendment's `qdNNNN.toml`)."""
    import re

    rows = [line for line in (root / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    paths = sorted({p for line in rows for p in re.findall(r"`(src/[^`\s]+)`", line)})
    assert len(paths) > 15  # the table names them
    missing = [p for p in paths if not (root / p).exists()]
    assert missing == []
