"""The standard as data.

Everything else in xml130 (models, XSDs, rendering, parsing, validation, docs) is derived from the files in
``spec/data``: ``tables.toml`` (element names), ``base/XML*.csv`` (QĐ 130 as amended by QĐ 4750: one row per
field) and ``amendments/*.toml`` (later decisions as add / set / remove operations with the date they apply
from). Each amendment yields a new :class:`SpecVersion`; all versions are held side by side and the one in force
for an episode is chosen by its date (:meth:`Spec.for_date`).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from ..dates import compact
from ..errors import Xml130Error

__all__ = ["Field", "Table", "SpecVersion", "Spec", "load_spec", "KINDS", "TABLE_IDS", "LegacyMarkers", "legacy_markers"]

TABLE_IDS = tuple(f"XML{i}" for i in range(16))

# Value grammar of each kind, as one regular expression valid both in Python and in XSD pattern facets.
_DATE = r"\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])"
_PARTIAL_DATE = r"\d{4}(0\d|1[0-2])([0-2]\d|3[01])"  # 00 allowed for an unknown month or day (NGAY_SINH)
_TIME = r"([01]\d|2[0-3])[0-5]\d"
KINDS: dict[str, str | None] = {
    "string": None,  # any text; only its length is bounded
    "code": r"[^\s;]+",  # a code: no spaces; kept as text (leading zeros, dots)
    "integer": r"\d+",
    "decimal": None,  # built from the field's scale
    "date": _DATE,  # yyyyMMdd
    "partial_date": _PARTIAL_DATE,
    "datetime": _DATE + _TIME,  # yyyyMMddHHmm
    "partial_datetime": _PARTIAL_DATE + _TIME,
}
REQUIRED_VALUES = ("yes", "no", "cond")


class SpecError(Xml130Error, ValueError):
    """The spec data itself is inconsistent (raised at load time, never for user data)."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    size: int | None = None  # maximum characters of the whole value (after NFC); None = no fixed limit
    scale: int | None = None  # decimals: maximum digits after "."
    required: str = "no"  # yes | no | cond (conditionally required: checked by rules, optional in the XSD)
    sep: str = ""  # ";" when the field holds several values
    pattern: str = ""  # overrides the kind's grammar for each value (exact code shapes)
    source: str = "130"  # decision that set the field as it stands
    since: dt.date | None = None  # date the source decision applies from
    note: str = ""
    description: str = ""  # what the field holds, short Vietnamese (spec/data/descriptions.toml)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SpecError(f"{self.name}: unknown kind {self.kind!r}")
        if self.required not in REQUIRED_VALUES:
            raise SpecError(f"{self.name}: required must be one of {REQUIRED_VALUES}")
        if self.kind == "decimal" and self.scale is None:
            raise SpecError(f"{self.name}: a decimal needs a scale")
        if self.pattern and self.kind in ("integer", "decimal"):
            # a number's grammar is its kind's: a pattern could admit text the number cannot hold (a passport
            # number in an "integer" SO_CCCD) or drop what it must keep (leading zeros): make it a code
            raise SpecError(f"{self.name}: a {self.kind} cannot have its own pattern (use kind code)")

    @property
    def is_required(self) -> bool:
        return self.required == "yes"

    @property
    def source_label(self) -> str:
        """The decision as people cite it: "QĐ 4750"; a change that is not a decision keeps its id ("dvhc2025")."""
        return f"QĐ {self.source}" if self.source.isdigit() else self.source

    @property
    def item_regex(self) -> str | None:
        """Grammar of one value (XSD/Python regex) or None when any text is allowed."""
        if self.pattern:
            return self.pattern
        if self.kind == "decimal":  # zeros after the scale do not change the amount (SQL money/decimal(18,4))
            return rf"-?\d+(\.\d{{1,{self.scale}}}0*)?"
        return KINDS[self.kind]

    @property
    def regex(self) -> str | None:
        """Grammar of the whole value, several values joined by ``sep`` where the field allows it."""
        item = self.item_regex
        if item is None:
            return None
        if self.sep:
            s = re.escape(self.sep)
            return f"({item})({s}({item}))*"
        return item

    @cached_property
    def compiled(self) -> re.Pattern[str] | None:
        r = self.regex
        return re.compile(r) if r else None

    def describe_format(self) -> str:
        """Short Vietnamese description of the expected format, for messages."""
        base = {
            "string": "chuỗi ký tự",
            "code": "mã (không chứa khoảng trắng)",
            "integer": "số nguyên",
            "decimal": f"số thập phân, dấu chấm, tối đa {self.scale} chữ số sau dấu chấm (không kể số 0 ở cuối)",
            "date": "ngày yyyyMMdd",
            "partial_date": "ngày yyyyMMdd (tháng/ngày 00 nếu không rõ)",
            "datetime": "thời điểm yyyyMMddHHmm",
            "partial_datetime": "thời điểm yyyyMMddHHmm (tháng/ngày 00 nếu không rõ)",
        }[self.kind]
        if self.pattern:
            base += f" theo mẫu {self.pattern}"
        if self.sep:
            base += f"; nhiều giá trị cách nhau bởi '{self.sep}'"
        return base


@dataclass(frozen=True)
class Table:
    id: str  # XML0 … XML15
    title: str
    root: str
    row: str
    list: str | None
    fields: tuple[Field, ...]
    sent_by_hospital: bool = True

    @property
    def is_list(self) -> bool:
        return self.list is not None

    @cached_property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        return self.by_name[name]


@dataclass(frozen=True)
class SpecVersion:
    id: str  # the newest decision applied, e.g. "3176"
    title: str
    effective_from: dt.date
    tables: dict[str, Table]
    decisions: tuple[str, ...]  # every decision applied, oldest first

    def __getitem__(self, table_id: str) -> Table:
        return self.tables[table_id]

    def __iter__(self) -> Iterator[Table]:
        return iter(self.tables.values())

    @cached_property
    def by_root(self) -> dict[str, Table]:
        return {t.root: t for t in self.tables.values()}


@dataclass(frozen=True)
class Spec:
    versions: tuple[SpecVersion, ...]  # oldest first

    @property
    def latest(self) -> SpecVersion:
        return self.versions[-1]

    def get(self, version_id: str) -> SpecVersion:
        for v in self.versions:
            if v.id == version_id:
                return v
        known = ", ".join(v.id for v in self.versions)
        raise SpecError(f"unknown spec version {version_id!r} (known: {known})")

    def for_date(self, when: dt.date | dt.datetime | str | None) -> SpecVersion:
        """The version in force on ``when`` (a date, or a yyyyMMdd[HHmm] string); the latest when unknown."""
        day = _as_date(when)
        if day is None:
            return self.latest
        chosen = self.versions[0]
        for v in self.versions:
            if v.effective_from <= day:
                chosen = v
        return chosen


def _as_date(when: Any) -> dt.date | None:
    if when is None or when == "":
        return None
    if isinstance(when, dt.datetime):
        return when.date()
    if isinstance(when, dt.date):
        return when
    moment = compact(str(when))
    return moment.date() if moment else None


def _int_or_none(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text else None


def _read_base_table(text: str, since: dt.date) -> tuple[Field, ...]:
    fields = []
    for row in csv.DictReader(text.splitlines()):
        fields.append(
            Field(
                name=row["name"],
                kind=row["kind"],
                size=_int_or_none(row["size"]),
                scale=_int_or_none(row["scale"]),
                required=row["required"],
                sep=row["sep"],
                pattern=row["pattern"],
                source=row["source"],
                since=since,
                note=row["note"],
            )
        )
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise SpecError(f"duplicate field names: {sorted(n for n in names if names.count(n) > 1)}")
    return tuple(fields)


_FIELD_KEYS = {"name", "kind", "size", "scale", "required", "sep", "pattern", "note", "description"}


def _described(tables: dict[str, Table], texts: dict[str, Any]) -> dict[str, Table]:
    """The tables with each field's description filled in from descriptions.toml ([XMLn] first, then
    [fields]), unless the decision that added the field gave one; a field none describes is a SpecError."""
    common = texts["fields"]
    out = {}
    for tid, table in tables.items():
        fields = []
        for f in table.fields:
            if not f.description:
                text = texts.get(tid, {}).get(f.name) or common.get(f.name)
                if not text:
                    raise SpecError(f"{tid}.{f.name}: no description in descriptions.toml")
                f = replace(f, description=text)
            fields.append(f)
        out[tid] = replace(table, fields=tuple(fields))
    return out


def _apply(tables: dict[str, Table], change: dict[str, Any], decision: str, since: dt.date) -> None:
    op, tid = change["op"], change["table"]
    table = tables[tid]
    fields = list(table.fields)
    names = [f.name for f in fields]
    if op == "add":
        spec = dict(change["field"])
        unknown = set(spec) - _FIELD_KEYS
        if unknown:
            raise SpecError(f"{decision}: unknown keys {unknown} for a field")
        new = Field(**spec, source=decision, since=since)
        if new.name in names:
            raise SpecError(f"{decision}: {tid}.{new.name} exists already")
        after = change.get("after")
        pos = names.index(after) + 1 if after else len(fields)
        fields.insert(pos, new)
    elif op == "set":
        name = change["field"]
        if name not in names:
            raise SpecError(f"{decision}: {tid}.{name} does not exist")
        i = names.index(name)
        fields[i] = replace(fields[i], **change["set"], source=decision, since=since)
    elif op == "remove":
        name = change["field"]
        if name not in names:
            raise SpecError(f"{decision}: {tid}.{name} does not exist")
        del fields[names.index(name)]
    else:
        raise SpecError(f"{decision}: unknown op {op!r}")
    tables[tid] = replace(table, fields=tuple(fields))


def build_spec(data: resources.abc.Traversable | None = None) -> Spec:
    """Read the spec data (by default the package's own) into every version."""
    data = data or resources.files("xml130.spec") / "data"
    meta = tomllib.loads((data / "tables.toml").read_text(encoding="utf-8"))
    versions_meta = tomllib.loads((data / "versions.toml").read_text(encoding="utf-8"))
    base = versions_meta["base"]
    since = base["effective_from"]
    tables: dict[str, Table] = {}
    for tid in TABLE_IDS:
        m = meta[tid]
        tables[tid] = Table(
            id=tid,
            title=m["title"],
            root=m["root"],
            row=m["row"],
            list=m.get("list"),
            fields=_read_base_table((data / "base" / f"{tid}.csv").read_text(encoding="utf-8"), since),
            sent_by_hospital=m.get("sent_by_hospital", True),
        )
    texts = tomllib.loads((data / "descriptions.toml").read_text(encoding="utf-8"))
    tables = _described(tables, texts)
    decisions = ["130", base["id"]]
    versions = [SpecVersion(base["id"], base["title"], since, dict(tables), tuple(decisions))]
    amendments = [
        tomllib.loads((data / "amendments" / f"{name}.toml").read_text(encoding="utf-8"))
        for name in versions_meta.get("amendments", [])
    ]
    for am in sorted(amendments, key=lambda a: a["effective_from"]):
        tables = dict(tables)
        for change in am.get("change", []):
            _apply(tables, change, am["id"], am["effective_from"])
        tables = _described(tables, texts)
        decisions.append(am["id"])
        versions.append(SpecVersion(am["id"], am["title"], am["effective_from"], tables, tuple(decisions)))
    _check_described(versions, texts)
    return Spec(tuple(versions))


def _check_described(versions: list[SpecVersion], texts: dict[str, Any]) -> None:
    """Every name descriptions.toml describes is a field of that table (of [fields]: of any table) in some
    version: a misspelt name would otherwise go unnoticed."""
    known: dict[str, set[str]] = {}
    for v in versions:
        for t in v:
            known.setdefault(t.id, set()).update(t.names)
    known["fields"] = set().union(*known.values())
    for section, own in texts.items():
        unknown = sorted(set(own) - known.get(section, set()))
        if unknown:
            raise SpecError(f"descriptions.toml: [{section}] describes no such field {unknown}")


@lru_cache(maxsize=1)
def load_spec() -> Spec:
    return build_spec()


@dataclass(frozen=True)
class LegacyMarkers:
    """What recognises a table document of the standard before QĐ 130 (``spec/data/legacy.toml``)."""

    decision: str
    min_markers: int
    tables: dict[str, frozenset[str]]  # table id → element names of the older standard that 130 has no more

    def found(self, table_id: str, tags: set[str]) -> list[str]:
        """The older standard's element names among ``tags`` (sorted), when there are enough to tell."""
        hits = sorted(tags & self.tables.get(table_id, frozenset()))
        return hits if len(hits) >= self.min_markers else []


@lru_cache(maxsize=1)
def legacy_markers() -> LegacyMarkers:
    data = tomllib.loads((resources.files("xml130.spec") / "data" / "legacy.toml").read_text(encoding="utf-8"))
    spec = load_spec()
    tables = {}
    for tid, names in data["tables"].items():
        current = set().union(*(v[tid].names for v in spec.versions if tid in v.tables))
        tables[tid] = frozenset(names) - current  # a field of any version is never a marker
    return LegacyMarkers(data["decision"], data["min_markers"], tables)
