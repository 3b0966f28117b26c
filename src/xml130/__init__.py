"""xml130: Vietnamese health-insurance claim data (QĐ 130/QĐ-BYT as amended by 4750, 3176 and 1931).

The public API, importable from the package itself (each name is loaded on first use, so ``import xml130``
stays cheap for the command line):

- the standard as data: :func:`load_spec`, :class:`Spec`, :class:`SpecVersion`;
- models: :func:`build_hoso`, :func:`model_for`, :class:`Hoso`, :class:`HosoError`;
- XML out: :func:`render_hoso`, :func:`render_envelope`, :func:`render_table`, :func:`render_checkin`;
- XML in: :func:`load_envelope`, :func:`load_table`;
- QA: :func:`validate_bytes`, :func:`validate_path`, :func:`run_rules`, :class:`Finding`;
- :func:`describe` (what a file holds, decoded, as ``xml130 inspect`` shows it).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("xml130")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_HOME = {
    "load_spec": "spec", "Spec": "spec", "SpecVersion": "spec",
    "build_hoso": "models", "model_for": "models", "Hoso": "models", "HosoError": "models",
    "render_hoso": "render", "render_envelope": "render", "render_table": "render", "render_checkin": "render",
    "load_envelope": "parse", "load_table": "parse",
    "validate_bytes": "validate", "validate_path": "validate",
    "run_rules": "rules", "Finding": "findings",
    "describe": "decode",
}

__all__ = ["__version__", *_HOME]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'xml130' has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
