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
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from .. import findings as fnd
from ..rules import run_rules
from . import Mapping, MappingError, TableMapping, bundled_mapping_path, parse_mapping
from .check import mapping_problems
from .database import his_engine
from .extract import Extracted, Extractor, Selection

OK, PROBLEMS, UNUSABLE = 0, 1, 2


@dataclass
class CheckReport:
    path: Path
    exit_code: int = OK
    problems: list[tuple[int | None, str]] = field(default_factory=list)  # (line of the mapping, problem)
    tables: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # table → (field, how, sample)
    sampled: int = 0

    def add(self, text: str, source: str) -> None:
        self.problems.append((locate(source, _path_of(text)), text))
        self.exit_code = max(self.exit_code, PROBLEMS)

    def render(self) -> str:
        lines = [f"mapping {self.path}: {self.sampled} hồ sơ built in a dry run (nothing written)"]
        for table, rows in self.tables.items():
            lines.append(f"\n{table}")
            width = max(len(r[0]) for r in rows)
            lines += [f"  {name:<{width}}  {how:<34}  {sample}".rstrip() for name, how, sample in rows]
        lines.append(f"\n{len(self.problems)} problem(s)" + (":" if self.problems else ""))
        for line, text in self.problems:
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
    for f in ex.version[tm.table].fields:
        values = [v for it in items if it.hoso is not None for v in _values(it, tm.table, f.name)]
        how = _how(tm, f.name, columns)
        if not how:
            by_rules = tm.rules and f.name not in ("MA_LK", "STT")  # these two xml130 fills itself
            how = (f"derived (rules {', '.join(tm.rules)})" if by_rules else "derived (xml130)") if values \
                else "always empty"
        elif not values and not how.startswith("constant"):
            how += ", empty in the sample"
        rows.append((f.name, how, _sample(f.name, values[0] if values else None)))
    return rows


def _values(item: Extracted, table: str, name: str) -> list[Any]:
    rows = item.hoso.tables.get(table) if item.hoso else None
    if rows is None:
        return []
    rows = rows if isinstance(rows, list | tuple) else [rows]
    return [getattr(r, name, None) for r in rows if getattr(r, name, None) not in (None, "")]


def check_mapping(source: str, mapping_path: str | Path | None = None, sample: int = 20) -> CheckReport:
    path = Path(mapping_path) if mapping_path else bundled_mapping_path()
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
    with his_engine(source) as engine:
        return _against_database(report, engine, mapping, text, sample, source)


def _against_database(report: CheckReport, engine, mapping: Mapping, text: str, sample: int,
                      source: str) -> CheckReport:
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
    for item in items:
        found = item.findings or ([f for f in run_rules(item.hoso) if f.severity == fnd.ERROR] if item.hoso else [])
        for f in found:
            where = f"tables.{f.table}.fields.{f.field}" if f.table and f.field else f"tables.{f.table}"
            report.add(f"{where}: MA_LK {f.ma_lk}: {f.code}: {f.message}", text)
    by_table: dict[str, set[str]] = defaultdict(set)
    from .check import NO_KEYS
    with engine.connect() as conn:
        for tid, tm in mapping.tables.items():
            by_table[tid] = {c.lower() for c in conn.execute(ex._query(tid, tm.query), NO_KEYS).keys()}
    for tid, tm in sorted(mapping.tables.items(), key=lambda kv: int(kv[0][3:])):
        report.tables[tid] = _field_table(ex, items, tm, by_table[tid])
    return report
