"""The root of every error xml130 raises on purpose.

Each error says, for the person running xml130, what input it cannot use — a file, a mapping, a database, a
certificate, an option's value — and derives from :class:`Xml130Error`, so the command line has one error policy:
an ``Xml130Error`` is exit 2 with its message; anything else is a bug (still exit 2, named as unexpected). A value
in a field of a hồ sơ is never an error: it is a finding (:mod:`xml130.findings`).

The errors keep the built-in base they had (``ValueError``, ``OSError``, ``RuntimeError``) as a second base, so a
caller that catches those still does. This module imports nothing: every floor may raise from it.
"""

from __future__ import annotations

__all__ = ["SettingError", "Xml130Error"]


class Xml130Error(Exception):
    """Input xml130 cannot use, said in a message for its user."""


class SettingError(Xml130Error, ValueError):
    """A setting a run needs is missing, or given where it must not be: a database URL, the mapping."""
