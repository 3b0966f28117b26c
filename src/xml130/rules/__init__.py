"""Business rules the portal enforces beyond the XSD: cross-field and cross-table checks per hồ sơ.

Each rule is declared once in :mod:`xml130.rules.catalogue` with a stable code, severity (``error`` blocks sending,
``warning`` is shown), the tables and fields it reads, the period it applies to, and a Vietnamese message that
names the values found. Thresholds live in ``data/params.toml`` (:mod:`xml130.params`, shared with the mapping's
derivations) and code lists (with their validity periods) in
``codelists.toml``: data, not code. Adding a rule is one decorated function.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from .. import findings as fnd
from ..catalog.lookup import active as _active_catalog
from ..codes import ObjectCode
from ..dates import compact as when  # yyyyMMdd[HHmm] → datetime, None when absent or partial
from ..models import Hoso, TableModel, episode_date
from ..params import params

Severity = fnd.Severity
ERROR, WARNING = Severity.ERROR, Severity.WARNING
ALL, INSURED, UNINSURED = "all", "insured", "uninsured"
VISITS = (ALL, INSURED, UNINSURED)


@dataclass(frozen=True)
class Hit:
    """One breach found by a rule: where, and the values for the message."""

    table: str
    field: str | None
    row: int | None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    tables: tuple[str, ...]
    fields: tuple[str, ...]
    message: str  # Vietnamese template; {placeholders} come from the Hit's values
    title: str  # one line for the catalogue
    check: Callable[[View], Iterable[Hit]]
    since: dt.date | None = None
    until: dt.date | None = None
    source: str = ""  # decision, table, field and the clause enforced, quoted short (or the practice it follows)
    applies_to: str = ALL  # the visits it concerns: all, insured (BHYT) or uninsured (MA_DOITUONG_KCB 9)

    def applies(self, day: dt.date | None, insured: bool | None = None) -> bool:
        if insured is not None and self.applies_to != ALL and (self.applies_to == INSURED) != insured:
            return False
        if day is None:
            return True
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)

    def describe(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "tables": list(self.tables), "fields": list(self.fields),
                "period": {"from": self.since.isoformat() if self.since else None,
                           "to": self.until.isoformat() if self.until else None},
                "title": self.title, "message": self.message, "source": self.source, "applies_to": self.applies_to}


RULES: dict[str, Rule] = {}


def rule(code: str, *, severity: Severity = ERROR, tables: tuple[str, ...], fields: tuple[str, ...], message: str,
         title: str, source: str, since: dt.date | None = None, until: dt.date | None = None,
         applies_to: str = "all"):
    """Register a rule (used as a decorator in the catalogue). ``applies_to="insured"``: a rule that only makes
    sense for a visit using BHYT (skipped for MA_DOITUONG_KCB 9); ``"uninsured"``: only for those."""

    def register(fn: Callable[[View], Iterable[Hit]]) -> Callable[[View], Iterable[Hit]]:
        if code in RULES:
            raise ValueError(f"rule {code} is declared twice")
        if not source:
            raise ValueError(f"rule {code} names no clause (source)")
        if applies_to not in VISITS:
            raise ValueError(f"rule {code}: applies_to {applies_to!r} is not one of {', '.join(VISITS)}")
        RULES[code] = Rule(code, severity, tables, fields, message, title, fn, since, until, source, applies_to)
        return fn

    return register


@cache
def _codelists() -> dict[str, list[dict[str, Any]]]:
    return tomllib.loads((resources.files("xml130.rules") / "codelists.toml").read_text(encoding="utf-8"))


def codes_on(name: str, day: dt.date | None) -> frozenset[str] | None:
    """The codes of list ``name`` valid on ``day`` (the newest list when the day is unknown; None when no
    period covers the day)."""
    periods = _codelists()[name]
    if day is None:
        return frozenset(periods[-1]["codes"])
    for period in periods:
        if period["from"] <= day and (period.get("to") is None or day <= period["to"]):
            return frozenset(period["codes"])
    return None


class View:
    """What a rule reads: the hồ sơ's tables, its summary, its dates, and the parameters."""

    def __init__(self, hoso: Hoso):
        self.hoso = hoso
        self.x1: Any = hoso.tables["XML1"][0] if hoso.tables.get("XML1") else None
        self.vao = when(self.x1.NGAY_VAO) if self.x1 is not None else None
        self.ra = when(self.x1.NGAY_RA) if self.x1 is not None else None
        day = when(episode_date(self.x1)) if self.x1 is not None else None
        self.day = day.date() if day else None
        self.p = params()
        self.tol = Decimal(self.p["money_tolerance"])
        self.catalog: Any = None  # the approved catalogues (xml130.catalog.Catalog) when the caller has them
        # a visit using BHYT: any MA_DOITUONG_KCB but 9 (QĐ 3276/2025: «người bệnh không KCB BHYT»); None for a
        # check-in document (each row has its own code: every rule of XML0 applies)
        self.insured: bool | None = (None if self.x1 is None else
                                     str(self.x1.MA_DOITUONG_KCB or "").strip() != ObjectCode.UNINSURED)

    def rows(self, table: str) -> tuple[Any, ...]:
        return self.hoso.tables.get(table, ())

    def has(self, table: str) -> bool:
        return bool(self.hoso.tables.get(table))

    def costs(self) -> Iterator[tuple[str, int, Any]]:
        for table in ("XML2", "XML3"):
            for i, r in enumerate(self.rows(table), start=1):
                yield table, (r.STT or i), r

    def row_no(self, r: TableModel, i: int) -> int:
        return getattr(r, "STT", None) or i


def run_rules(hoso: Hoso, *, file: str | None = None, codes: Iterable[str] | None = None,
              catalog: Any = None) -> list[fnd.Finding]:
    """Every finding of every rule that applies on the hồ sơ's date (or only ``codes``); the catalogue rules
    (R.CAT.*) only when ``catalog`` (an :class:`xml130.catalog.Catalog`) is given or active
    (:func:`xml130.catalog.lookup.using`)."""
    from . import catalog_rules, catalogue  # noqa: F401  (registers the rules)

    view = View(hoso)
    view.catalog = catalog if catalog is not None else _active_catalog()
    selected = [RULES[c] for c in codes] if codes is not None else list(RULES.values())
    checkin = "XML1" not in hoso.tables  # a check-in document: only the rules of XML0 apply
    out = []
    for r in selected:
        if not r.applies(view.day, view.insured) or (r.tables == ("XML0",)) != checkin:
            continue
        for hit in r.check(view):
            values = {k: _show(v) for k, v in fnd.masked(hit.values, hit.field).items()}
            try:
                message = r.message.format(**values)
            except (KeyError, IndexError):
                message = r.message
            ma_lk = view.x1.MA_LK if view.x1 is not None else hit.values.get("ma_lk")
            out.append(fnd.Finding(code=r.code, message=message, file=file, ma_lk=ma_lk, table=hit.table,
                                   field=hit.field, row=hit.row, severity=r.severity))
    return out


def _show(v: Any) -> str:
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dt.datetime):
        return v.strftime("%d/%m/%Y %H:%M")
    return str(v)


def all_rules() -> list[Rule]:
    """The catalogue, sorted by code."""
    from . import catalog_rules, catalogue  # noqa: F401  (registers the rules)

    return sorted(RULES.values(), key=lambda r: r.code)


def matches(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text) is not None
