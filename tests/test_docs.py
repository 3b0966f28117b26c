"""The README stays true: its two commands exist, CI runs the test one, every finding code is documented."""

from __future__ import annotations

from xml130.findings import CATALOGUE


def test_readme_commands_are_what_ci_and_run_use(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "./run demo" in readme and "./run test" in readme
    assert "./run test" in (root / ".ci" / "run").read_text(encoding="utf-8")
    run = (root / "run").read_text(encoding="utf-8")
    assert "demo)" in run and "test)" in run


def test_every_finding_code_is_in_the_readme(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    missing = [code for code in CATALOGUE if f"`{code}`" not in readme]
    assert missing == []
