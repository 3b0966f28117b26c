"""The rule engine: what a rule is (:class:`Rule`), what it reads (:class:`View`), what it finds (:class:`Hit`),
and the set a module of rules declares them into (:class:`RuleSet`: one decorated function per rule). Which sets
are run is decided in one place, :mod:`xml130.rules` — nothing registers itself by being imported elsewhere."""

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
from ..codes import ObjectCode
from ..dates import compact as when  # yyyyMMdd[HHmm] → datetime, None when absent or partial
from ..models import Hoso, TableModel, episode_date
from ..params import Params, defaults

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
    title: str  # one line for the rule list
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


ZERO = Decimal(0)


def items_of(text: str | None) -> list[str]:
    """The values of a ``;``-separated field."""
    return [x for x in (text or "").split(";") if x]


class RuleSet:
    """The rules one module declares, in their order: ``rule = RULES.rule`` then ``@rule(...)`` on each check."""

    def __init__(self) -> None:
        self.rules: dict[str, Rule] = {}

    def rule(self, code: str, *, severity: Severity = ERROR, tables: tuple[str, ...], fields: tuple[str, ...],
             message: str, title: str, source: str, since: dt.date | None = None, until: dt.date | None = None,
             applies_to: str = ALL):
        """Declare a rule (used as a decorator). ``applies_to="insured"``: a rule that only makes sense for a visit
        using BHYT (skipped for MA_DOITUONG_KCB 9); ``"uninsured"``: only for those."""

        def declare(fn: Callable[[View], Iterable[Hit]]) -> Callable[[View], Iterable[Hit]]:
            if code in self.rules:
                raise ValueError(f"rule {code} is declared twice")
            if not source:
                raise ValueError(f"rule {code} names no clause (source)")
            if applies_to not in VISITS:
                raise ValueError(f"rule {code}: applies_to {applies_to!r} is not one of {', '.join(VISITS)}")
            self.rules[code] = Rule(code, severity, tables, fields, message, title, fn, since, until, source,
                                    applies_to)
            return fn

        return declare


def combine(*sets: RuleSet) -> dict[str, Rule]:
    """The rules of ``sets``, in order (a code declared in two sets is refused)."""
    out: dict[str, Rule] = {}
    for s in sets:
        twice = sorted(set(out) & set(s.rules))
        if twice:
            raise ValueError(f"rules declared twice: {twice}")
        out.update(s.rules)
    return out


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

    def __init__(self, hoso: Hoso, *, catalog: Any = None, params: Params | None = None):
        self.hoso = hoso
        self.x1: Any = hoso.tables["XML1"][0] if hoso.tables.get("XML1") else None
        self.vao = when(self.x1.NGAY_VAO) if self.x1 is not None else None
        self.ra = when(self.x1.NGAY_RA) if self.x1 is not None else None
        day = when(episode_date(self.x1)) if self.x1 is not None else None
        self.day = day.date() if day else None
        self.p = params if params is not None else defaults()
        self.tol = Decimal(self.p["money_tolerance"])
        self.catalog = catalog  # the approved catalogues (xml130.store.catalog.Catalog) when the caller has them
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


def run(rules: Iterable[Rule], hoso: Hoso, *, file: str | None = None, catalog: Any = None,
        params: Params | None = None) -> list[fnd.Finding]:
    """Every finding of ``rules`` that apply on the hồ sơ's date."""
    view = View(hoso, catalog=catalog, params=params)
    checkin = "XML1" not in hoso.tables  # a check-in document: only the rules of XML0 apply
    out = []
    for r in rules:
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


def matches(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text) is not None
