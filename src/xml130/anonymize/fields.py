"""Which fields are personal, and of which kind (``spec/data/personal.toml``); which fields of the spec are dates,
text or codes, and which elements are rows of a list table."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..spec import load_spec


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    method: str  # name | number | date
    fields: tuple[str, ...]
    keep_words: frozenset[str] = frozenset()
    shape: re.Pattern[str] | None = None
    keep: int = 0
    compare_with: frozenset[str] = frozenset()  # date kinds: the fields whose comparisons are kept
    age_in_months_below: int = 0


@cache
def _config() -> dict[str, Any]:
    return tomllib.loads((resources.files("xml130.spec") / "data" / "personal.toml").read_text(encoding="utf-8"))


@cache
def kinds() -> dict[str, Kind]:
    """Field name → its kind of personal value (spec/data/personal.toml)."""
    out: dict[str, Kind] = {}
    for name, k in _config()["kinds"].items():
        kind = Kind(name, k["label"], k["method"], tuple(k["fields"]), frozenset(k.get("keep_words", ())),
                    re.compile(k["shape"]) if k.get("shape") else None, int(k.get("keep", 0)),
                    frozenset(k.get("compare_with", ())), int(k.get("age_in_months_below", 0)))
        for f in kind.fields:
            out[f] = kind
    return out


def personal_fields() -> dict[str, str]:
    """Field name → kind name, and the fields deliberately kept (``kept``) → "kept" (for the completeness test)."""
    return {**{f: k.name for f, k in kinds().items()}, **{f: "kept" for f in _config().get("kept", {})}}


@cache
def _field_kinds() -> dict[str, set[str]]:
    """Field name → the spec kinds it has in any table of any version (date fields are the references)."""
    out: dict[str, set[str]] = {}
    for v in load_spec().versions:
        for t in v.tables.values():
            for f in t.fields:
                out.setdefault(f.name, set()).add(f.kind)
    return out


@cache
def is_searched_field(name: str) -> bool:
    """Text and code fields may repeat a personal value (a name in GHI_CHU, a patient number inside MA_LK)."""
    return bool({"string", "code"} & _field_kinds().get(name, set()))


@cache
def list_rows() -> frozenset[str]:
    return frozenset(t.row for t in load_spec().latest.tables.values() if t.is_list)
