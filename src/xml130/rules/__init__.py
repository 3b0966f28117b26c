"""Business rules the portal enforces beyond the XSD: cross-field and cross-table checks per hồ sơ.

The rule list: each rule is declared once — in :mod:`.general`, :mod:`.cards`, :mod:`.clinical`, :mod:`.details`, :mod:`.papers` or
:mod:`.catalog_rules` — with a
stable code, severity (``error`` blocks sending, ``warning`` is shown), the tables and fields it reads, the period
it applies to, and a Vietnamese message that names the values found. Thresholds live in ``data/params.toml``
(:mod:`xml130.params`, shared with the mapping's derivations) and code lists (with their validity periods) in
``codelists.toml``: data, not code. Adding a rule is one decorated function.

Words: the *rule list* is this package's :data:`RULES` (``xml130 rules``, docs/rules.md); the *catalog* is the
facility's approved catalogues — danh mục — (:mod:`xml130.catalog`, stored by :mod:`xml130.store.catalog`) that the
*catalog rules* (R.CAT.*) check rows against; the *messages* of findings are :data:`xml130.findings.MESSAGES` and
each rule's own ``message``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import findings as fnd
from ..models import Hoso
from ..params import Params
from . import cards, catalog_rules, clinical, details, general, papers
from .engine import Rule, codes_on, combine, run

# Every rule xml130 runs, in this order; the catalog rules (R.CAT.*) stay silent without a catalogue.
RULES: dict[str, Rule] = combine(catalog_rules.RULES, general.RULES, cards.RULES, clinical.RULES, details.RULES,
                                 papers.RULES)


def run_rules(hoso: Hoso, *, file: str | None = None, codes: Iterable[str] | None = None, catalog: Any = None,
              params: Params | None = None) -> list[fnd.Finding]:
    """Every finding of every rule that applies on the hồ sơ's date (or only ``codes``), with ``params`` (default:
    the file's, :func:`xml130.params.defaults`); the catalog rules (R.CAT.*) only when ``catalog`` (an
    :class:`xml130.store.catalog.Catalog`) is given."""
    selected = [RULES[c] for c in codes] if codes is not None else RULES.values()
    return run(selected, hoso, file=file, catalog=catalog, params=params)


def all_rules() -> list[Rule]:
    """The rule list, sorted by code."""
    return sorted(RULES.values(), key=lambda r: r.code)


__all__ = ["RULES", "Rule", "all_rules", "codes_on", "run_rules"]
