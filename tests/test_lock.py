"""constraints.txt: the installed environment is exactly the lock, the lock satisfies pyproject.toml's ranges, and
the documented refresh (`./run lock`, needs PyPI, about a minute) produces a lock that does too."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def pins(text: str) -> dict[str, str]:
    """name -> version of a pip freeze / constraints text (comments and blank lines ignored)."""
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"not an exact pin: {line!r}"
            found[canonicalize_name(name)] = version
    return found


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]]


def outside_ranges(lock: dict[str, str]) -> list[str]:
    """Every dependency of pyproject.toml (and its extras) missing from the lock or outside its range."""
    bad = []
    for req in requirements():
        name = canonicalize_name(req.name)
        if name not in lock:
            bad.append(f"{req.name}: not in the lock")
        elif not req.specifier.contains(Version(lock[name]), prereleases=True):
            bad.append(f"{req.name}=={lock[name]} outside {req.specifier}")
        for extra in req.extras:  # psycopg[binary] -> psycopg-binary
            if canonicalize_name(f"{req.name}-{extra}") not in lock:
                bad.append(f"{req.name}[{extra}]: {req.name}-{extra} not in the lock")
    return bad


def assert_the_documented_pins(lock: dict[str, str]) -> None:
    """Why they exist: pyproject.toml. The Prefect 3.8 server needs fastapi < 0.151 and SQLAlchemy < 2.1."""
    assert Version("3.8") <= Version(lock["prefect"]) < Version("3.9")
    assert Version("0.139") <= Version(lock["fastapi"]) < Version("0.151")
    assert Version("2.0") <= Version(lock["sqlalchemy"]) < Version("2.1")


def test_the_installed_environment_is_exactly_the_lock():
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True,
                            text=True, check=True).stdout
    installed = pins("\n".join(line for line in frozen.splitlines()
                               if not line.startswith("-e ") and not line.lower().startswith("xml130")))
    lock = pins((ROOT / "constraints.txt").read_text(encoding="utf-8"))
    assert {n: v for n, v in installed.items() if lock.get(n) != v} == {}, "installed but not as locked"
    assert {n: v for n, v in lock.items() if installed.get(n) != v} == {}, "locked but not installed"


def test_the_lock_satisfies_the_ranges_of_pyproject():
    lock = pins((ROOT / "constraints.txt").read_text(encoding="utf-8"))
    assert outside_ranges(lock) == []
    assert_the_documented_pins(lock)


def test_run_lock_refreshes_a_lock_that_satisfies_the_ranges(tmp_path):
    """`./run lock` in a copy of the project (its own throw-away venv, `pip check`, the frozen list)."""
    for name in ("run", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (tmp_path / "constraints.txt").write_text("stale==0\n", encoding="utf-8")
    r = subprocess.run(["./run", "lock"], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"./run lock failed (it needs PyPI):\n{r.stderr[-3000:]}"
    assert "constraints.txt rewritten" in r.stderr
    text = (tmp_path / "constraints.txt").read_text(encoding="utf-8")
    assert text.startswith("# Exact versions installed by ./run")
    lock = pins(text)
    assert "stale" not in lock and "xml130" not in lock
    assert outside_ranges(lock) == []
    assert_the_documented_pins(lock)
