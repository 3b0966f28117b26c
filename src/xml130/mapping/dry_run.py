"""``xml130 mapping check``: everything a developer extending a mapping needs, in one run.

Runs every check (the mapping against the spec, then against the database: :mod:`xml130.mapping.check`), then
builds up to N hồ sơ in a dry run (nothing is written) and reports, per table, each field of the standard as
*mapped* (a column, a lookup, a collection), *constant*, *derived* (a mapping rule, or filled by xml130) or
*always empty* in the sample, with a sample value (identity numbers masked), and every problem with the line of
the mapping file to change. Exit 0 clean, 1 problems, 2 unusable (file unreadable, database unreachable).
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from .. import findings as fnd
from ..models import Hoso
from . import Mapping, MappingError, TableMapping, parse_mapping
from .check import mapping_problems
from .database import his_engine
from .extract import Extracted, Extractor, Selection

OK, PROBLEMS, UNUSABLE = 0, 1, 2
# What judges a built hồ sơ beyond its models (the command line gives the business rules): the mapping sits below
# the rules and does not import them.
Judge = Callable[[Hoso], list[fnd.Finding]]


@dataclass
class CheckReport:
    path: Path
    exit_code: int = OK
    problems: list[tuple[int | None, str]] = field(default_factory=list)  # (line of the mapping, problem)
    warnings: list[tuple[int | None, str]] = field(default_factory=list)  # shown; the exit code stays
    tables: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # table → (field, how, sample)
    sampled: int = 0
    failed: int = 0  # hồ sơ of the sample kept out by a problem

    def add(self, text: str, source: str) -> None:
        self.problems.append((locate(source, _path_of(text)), text))
        self.exit_code = max(self.exit_code, PROBLEMS)

    def warn(self, text: str, source: str) -> None:
        self.warnings.append((locate(source, _path_of(text)), text))

    def render(self) -> str:
        failed = f"; {self.failed} of them kept out by the problems below" if self.failed else ""
        lines = [f"mapping {self.path}: {self.sampled} hồ sơ built in a dry run (nothing written){failed}"]
        for table, rows in self.tables.items():
            lines.append(f"\n{table}")
            width = max(len(r[0]) for r in rows)
            lines += [f"  {name:<{width}}  {how:<34}  {sample}".rstrip() for name, how, sample in rows]
        for title, entries in (("problem(s)", self.problems), ("warning(s)", self.warnings)):
            if title == "warning(s)" and not entries:
                continue
            lines.append(f"\n{len(entries)} {title}" + (":" if entries else ""))
            for line, text in entries:
                lines.append(f"  {self.path.name}:{line}: {text}" if line else f"  {self.path.name}: {text}")
        return "\n".join(lines)


def _path_of(problem: str) -> str:
    """The place in the mapping a problem names: ``tables.XML1.fields.GHI_CHU``, ``[episodes]`` → ``episodes``."""
    head = re.split(r"[: ]", problem.strip(), maxsplit=1)[0]
    return head.strip("[]")


def locate(source: str, path: str) -> int | None:
    """The line (1-based) of the TOML ``source`` that defines ``path`` (a dotted key), or of its nearest section."""
    parts = [p for p in path.split(".") if p]
    lines = source.splitlines()
    for k in range(len(parts), 0, -1):
        header = "[" + ".".join(parts[:k]) + "]"
        start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
        if start is None:
            continue
        if k == len(parts):
            return start + 1
        key = re.compile(rf"\s*\"?{re.escape(parts[k])}\"?\s*=")
        for i in range(start + 1, len(lines)):
            if lines[i].startswith("["):
                break
            if key.match(lines[i]):
                return i + 1
        return start + 1
    return None


def _how(tm: TableMapping, name: str, columns: set[str]) -> str:
    rule = tm.fields.get(name)
    if rule is None:
        return "mapped (auto: column " + name.lower() + ")" if tm.auto and name.lower() in columns else ""
    if rule.const is not None:
        return f"constant {rule.const!r}"
    if rule.rule:
        return f"derived (rule {rule.rule})"
    if rule.collect:
        how = f"mapped (collection {rule.collect}.{rule.column})"
    elif rule.join:
        how = f"mapped (join {', '.join(rule.join)})"
    else:
        how = f"mapped (column {rule.column})"
    return how[:-1] + f", lookup {rule.lookup})" if rule.lookup else how


def _sample(name: str, value: Any) -> str:
    if value in (None, "", []):
        return ""
    text = fnd.shown(name, value)
    return text if len(text) <= 60 else text[:57] + "…"


def _field_table(ex: Extractor, items: list[Extracted], tm: TableMapping, columns: set[str]) -> list[tuple]:
    rows = []
    built = any(it.hoso is not None for it in items)
    for f in ex.version[tm.table].fields:
        values = [v for it in items for v in _values(it, tm.table, f.name)]
        how = _how(tm, f.name, columns)
        if not how:
            # the one table rule that filled the field (several when it differs between hồ sơ)
            by = Counter(it.filled_by[(tm.table, f.name)] for it in items if (tm.table, f.name) in it.filled_by)
            if by:
                how = f"derived (rule {', '.join(name for name, _ in by.most_common())})"
            elif values:
                how = "derived (xml130)"  # MA_LK and STT
            else:
                how = "always empty" if built else "empty: no hồ sơ of the sample was built (problems below)"
        elif not values and not how.startswith("constant"):
            how += ", empty in the sample" if built else ", empty: no hồ sơ of the sample was built"
        rows.append((f.name, how, _sample(f.name, values[0] if values else None)))
    return rows


def _values(item: Extracted, table: str, name: str) -> list[Any]:
    """The field's values in a hồ sơ: from its models, or as built when a problem kept it out."""
    if item.hoso is not None:
        rows = item.hoso.tables.get(table)
        get = getattr
    else:
        rows = item.rows.get(table)
        def get(r, n, default):
            return r.get(n, default)
    if rows is None:
        return []
    rows = rows if isinstance(rows, list | tuple) else [rows]
    return [get(r, name, None) for r in rows if get(r, name, None) not in (None, "", [])]


@cache
def clinical_text_fields() -> frozenset[str]:
    """Fields of clinical free text (spec/data/free_text.toml): a constant there is a placeholder."""
    text = (resources.files("xml130.spec") / "data" / "free_text.toml").read_text(encoding="utf-8")
    return frozenset(tomllib.loads(text)["clinical"])


def placeholders(mapping: Mapping) -> list[str]:
    """MAPPING.PLACEHOLDER for every constant mapped into a field of clinical free text."""
    out = []
    for tid, tm in sorted(mapping.tables.items(), key=lambda kv: int(kv[0][3:])):
        for name, rule in tm.fields.items():
            if rule.const is not None and name in clinical_text_fields():
                f = fnd.make("MAPPING.PLACEHOLDER", table=tid, field=name, value=rule.const)
                out.append(f"tables.{tid}.fields.{name}: {f.code}: {f.message}")
    return out


def _grouped(items: list[Extracted], judge: Judge) -> list[str]:
    """The problems of the sampled hồ sơ, one line per place and code: how many hồ sơ, the first MA_LK and its
    message (a mapping mistake repeats in every hồ sơ)."""
    groups: dict[tuple[str, str], list[fnd.Finding]] = {}
    for item in items:
        found = item.findings or ([f for f in judge(item.hoso) if f.severity == fnd.ERROR] if item.hoso else [])
        for f in found:
            where = f"tables.{f.table}.fields.{f.field}" if f.table and f.field else f"tables.{f.table}"
            groups.setdefault((where, f.code), []).append(f)
    out = []
    for (where, code), found in groups.items():
        first = found[0]
        n = len({f.ma_lk for f in found})
        if n == 1:
            out.append(f"{where}: MA_LK {first.ma_lk}: {code}: {first.message}")
        else:
            out.append(f"{where}: {n} hồ sơ (first MA_LK {first.ma_lk}): {code}: {first.message}")
    return out


def check_mapping(source: str, mapping_path: str | Path, sample: int = 20, *, judge: Judge) -> CheckReport:
    """Every check of a mapping, then ``sample`` hồ sơ built in a dry run and judged by ``judge`` (the business
    rules, :func:`xml130.rules.run_rules`, as the command line gives them: their errors would hold the hồ sơ back)."""
    path = Path(mapping_path)
    report = CheckReport(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        report.problems.append((None, f"cannot read the mapping: {exc}"))
        report.exit_code = UNUSABLE
        return report
    try:
        mapping: Mapping = parse_mapping(data, source=str(path))
    except MappingError as exc:
        for p in exc.problems:
            report.add(p, text)
        return report
    for w in placeholders(mapping):
        report.warn(w, text)
    with his_engine(source) as engine:
        return _against_database(report, engine, mapping, text, sample, source, judge)


def _against_database(report: CheckReport, engine, mapping: Mapping, text: str, sample: int,
                      source: str, judge: Judge) -> CheckReport:
    """The checks that need the database, then the dry run of ``sample`` hồ sơ."""
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        report.problems.append((None, f"cannot connect to {source.split('@')[-1]}: {str(exc).splitlines()[0]}"))
        report.exit_code = UNUSABLE
        return report
    ex = Extractor(engine, mapping, batch_size=max(sample, 1))
    for p in mapping_problems(ex):
        report.add(p, text)
    if report.problems:  # the queries must be right before a dry run means anything
        return report
    items: list[Extracted] = []
    for batch in ex.batches(Selection()):
        items = list(ex.assemble(batch[:sample]))
        break
    report.sampled = len(items)
    report.failed = sum(1 for it in items if it.hoso is None)
    for problem in _grouped(items, judge):
        report.add(problem, text)
    by_table: dict[str, set[str]] = defaultdict(set)
    from .check import NO_KEYS
    with engine.connect() as conn:
        for tid, tm in mapping.tables.items():
            by_table[tid] = {c.lower() for c in conn.execute(ex.query(tid, tm.query), NO_KEYS).keys()}
    for tid, tm in sorted(mapping.tables.items(), key=lambda kv: int(kv[0][3:])):
        report.tables[tid] = _field_table(ex, items, tm, by_table[tid])
    return report
