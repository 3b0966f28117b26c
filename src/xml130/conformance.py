"""The standard's own text as a test: every worked example ("Ví dụ") of the appendix of QĐ 130/4750, and the formats
it states in words, placed into a valid hồ sơ of the right table and validated like any file (XSD, fields, rules).

The cases are data (``spec/data/examples.toml``): table, field, the values the text gives, the clause, and what must
happen (``valid``: no error; else the finding code the value must cause). A value is placed into a valid hồ sơ
of the case's table, given by the caller as :class:`Bases` (the tests give the synthetic scenarios of
:mod:`xml130.demo.scenarios`; this module imports no demo); a moment (date, date-time) moves the whole hồ sơ in
time so that the field carries exactly the example and every other date keeps its distance to it; XML1's totals
are summed again from the rows, as the text defines them. ``docs/conformance.md`` is generated from the same data (``xml130 spec-docs``).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from pydantic import ValidationError

from .dates import compact
from .findings import ERROR, Finding
from .models import HosoError, build_hoso, build_rows
from .render import render_checkin, render_hoso, render_table
from .spec import load_spec
from .validate import validate_bytes

VALID = "valid"
# the scenario each table's examples go into unless the case names another
HOME = {"XML0": "checkin", "XML1": "outpatient_drugs_labs", "XML2": "outpatient_drugs_labs",
        "XML3": "outpatient_drugs_labs", "XML4": "outpatient_drugs_labs", "XML5": "inpatient_surgery_beds",
        "XML6": "hiv_care", "XML7": "inpatient_surgery_beds", "XML8": "inpatient_surgery_beds", "XML9": "birth_twins",
        "XML10": "maternity_leave", "XML11": "sick_leave", "XML12": "xml12", "XML13": "referral",
        "XML14": "reexam_appointment", "XML15": "tb_treatment"}
_TOTALS = ("T_BHTT", "T_BNCCT", "T_BNTT", "T_NGUONKHAC")


@dataclass(frozen=True)
class Case:
    """Values of one field the standard's text gives (``source = "example"``) or states in words (``"words"``)."""

    table: str
    field: str
    values: tuple[str, ...]
    clause: str
    source: str = "example"
    expect: str = VALID  # "valid", or the finding code each value must cause
    scenario: str = ""
    where: dict[str, Any] = field(default_factory=dict)  # picks the row of a list table
    with_: dict[str, Any] = field(default_factory=dict)  # other fields of the same row, set as the example says
    xml1: dict[str, Any] = field(default_factory=dict)  # fields of XML1 the example implies
    anchor: str = ""  # the moment the hồ sơ is moved to (default: the field itself; else a field of ``with``)
    note: str = ""

    @property
    def home(self) -> str:
        return self.scenario or HOME[self.table]


@dataclass(frozen=True)
class Untestable:
    table: str
    field: str
    clause: str
    why: str


@dataclass(frozen=True)
class Contradiction:
    where: str  # decision, table, field or rule
    clause: str
    found: str
    decision: str


@dataclass(frozen=True)
class Shape:
    """How other software writes the standard's files (public generators, vendors' notes): what we answer."""

    source: str  # the kind of software, never a person or a hospital
    writes: str  # the shape, as bytes go
    decision: str  # what validate answers and why
    clause: str  # the text (or the parser behaviour) that decides
    fixture: str = ""  # fixtures/quirks/NAME.xml reproducing it (synthetic)


@dataclass(frozen=True)
class WithoutCard:
    """What fields hold for a visit without a card (MA_DOITUONG_KCB 9): the text's value, or the choice made."""

    fields: str
    value: str
    clause: str
    decision: str
    from_: str = "text"  # "text" or "choice" (the text is silent)


@dataclass(frozen=True)
class Written:
    """A value xml130 writes, read against the field's text in the appendix: the verdict, and the fix if any."""

    kind: str  # the kind of hồ sơ or check-in it was read on (demo HIS files)
    fields: str
    writes: str
    clause: str
    verdict: str  # "agrees", "fixed: …" or "unclear: …" (the text leaves it open; what was chosen)


@dataclass(frozen=True)
class Suite:
    """The conformance cases of examples.toml, and what the text leaves untestable or contradicts."""

    cases: tuple[Case, ...]
    untestable: tuple[Untestable, ...]
    contradictions: tuple[Contradiction, ...]
    appendix_fields: tuple[str, ...]  # "XMLn.FIELD" of every field whose appendix text has a "Ví dụ"
    without_card: tuple[WithoutCard, ...] = ()
    shapes: tuple[Shape, ...] = ()
    written: tuple[Written, ...] = ()


@cache
def suite() -> Suite:
    raw = tomllib.loads((resources.files("xml130.spec") / "data" / "examples.toml").read_text(encoding="utf-8"))
    cases = tuple(Case(**{("with_" if k == "with" else k): (tuple(v) if k == "values" else v) for k, v in c.items()})
                  for c in raw["case"])
    return Suite(cases, tuple(Untestable(**u) for u in raw.get("untestable", [])),
                 tuple(Contradiction(**c) for c in raw.get("contradiction", [])),
                 tuple(raw["appendix"]["fields_with_examples"]),
                 tuple(WithoutCard(**{("from_" if k == "from" else k): v for k, v in w.items()})
                       for w in raw.get("without_card", [])),
                 tuple(Shape(**c) for c in raw.get("shape", [])),
                 tuple(Written(**w) for w in raw.get("written", [])))


@dataclass(frozen=True)
class ListDecision:
    """Whether a code field holds several codes (``list``: ``;``-separated) or ``one``, and why (spec/data/
    list_audit.toml; the spec's ``sep`` must say the same)."""

    name: str
    tables: tuple[str, ...]
    decision: str
    reason: str


@cache
def list_audit() -> tuple[ListDecision, ...]:
    raw = tomllib.loads((resources.files("xml130.spec") / "data" / "list_audit.toml").read_text(encoding="utf-8"))
    return tuple(ListDecision(e["name"], tuple(e["tables"]), e["decision"], e["reason"]) for e in raw["field"])


# --- placing a value ------------------------------------------------------------------------------------------
def _moment(text: str) -> dt.datetime | None:
    return compact(text) if len(text) in (8, 12) else None


def _shift(value: Any, delta: dt.timedelta) -> Any:
    if isinstance(value, dt.datetime):
        return value + delta
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=delta.days)
    if isinstance(value, list):
        return [_shift(v, delta) for v in value]
    if isinstance(value, dict):
        return {k: _shift(v, delta) for k, v in value.items()}
    return value


def _rows(raw: Any, table: str) -> list[dict]:
    rows = raw[table] if table in raw else []
    return [rows] if isinstance(rows, dict) else rows


def _target(rows: list[dict], where: dict[str, Any]) -> dict:
    for r in rows:
        if all(r.get(k) == v for k, v in where.items()):
            return r
    raise LookupError(f"no row with {where}")


def _retotal(raw: dict) -> None:
    """XML1's totals as the text defines them: sums of the rows of XML2 and XML3."""
    x1, drugs, items = raw["XML1"], _rows(raw, "XML2"), _rows(raw, "XML3")
    rows = drugs + items

    def total(name: str, of: list[dict]) -> Decimal:
        return sum((Decimal(str(r.get(name) or 0)) for r in of), Decimal(0))

    x1["T_THUOC"] = total("THANH_TIEN_BV", drugs)
    x1["T_VTYT"] = total("THANH_TIEN_BV", [r for r in items if int(r["MA_NHOM"]) in (10, 11)])
    x1["T_TONGCHI_BV"], x1["T_TONGCHI_BH"] = total("THANH_TIEN_BV", rows), total("THANH_TIEN_BH", rows)
    for name in _TOTALS:
        x1[name] = total(name, rows)


@dataclass(frozen=True)
class Bases:
    """The valid documents a case's value is placed into, each made fresh per call: ``hoso`` by the name of a
    case's ``home`` (a raw hồ sơ: table → row or rows), the check-in rows (XML0), an XML12 row, and NGAYLAP."""

    hoso: Mapping[str, Callable[[], dict]]
    checkin_rows: Callable[[], list[dict]]
    xml12_row: Callable[[], dict]
    ngaylap: str


def place(case: Case, value: str, bases: Bases) -> bytes:
    """The file a hospital would send with ``value`` in the case's field: an envelope, or for XML0 / XML12 the
    table document that travels on its own."""
    home = case.home
    raw: Any = {"XML0": bases.checkin_rows()} if home == "checkin" else (
        {"XML12": [bases.xml12_row()]} if home == "xml12" else bases.hoso[home]())
    row = _target(_rows(raw, case.table), case.where)
    anchor = case.anchor or case.field
    moment, old = _moment(value if anchor == case.field else case.with_[anchor]), row.get(anchor)
    if moment is not None and isinstance(old, dt.date):
        base = old if isinstance(old, dt.datetime) else dt.datetime.combine(old, dt.time())
        raw = _shift(raw, moment - base)
        row = _target(_rows(raw, case.table), {k: _shift(v, moment - base) for k, v in case.where.items()})
    index = _rows(raw, case.table).index(row)
    row.update(case.with_)
    if "XML1" in raw:
        raw["XML1"].update(case.xml1)
    original, row[case.field] = row.get(case.field), value
    if "XML1" in raw:
        _retotal(raw)
    try:
        return _render(home, raw, bases.ngaylap)
    except (HosoError, ValidationError):  # a wrong value the models refuse: written into the file as text
        row[case.field] = original
        if "XML1" in raw:
            _retotal(raw)
        return _substitute(_render(home, raw, bases.ngaylap), case.table, case.field, index, value)


def _render(home: str, raw: dict, ngaylap: str) -> bytes:
    if home == "checkin":
        version = load_spec().for_date(raw["XML0"][0]["NGAY_VAO"])
        return render_checkin(version, build_rows(version, "XML0", _known(raw, version)["XML0"]))
    if home == "xml12":
        version = load_spec().latest
        return render_table(version["XML12"], build_rows(version, "XML12", raw["XML12"]))
    version = load_spec().for_date(raw["XML1"]["NGAY_RA"])
    return render_hoso(build_hoso(_known(raw, version), version=version), ngaylap=ngaylap)


def _substitute(data: bytes, table: str, field_: str, index: int, value: str) -> bytes:
    """``data`` with the ``index``-th ``field_`` element of ``table`` holding ``value`` (inside its NOIDUNGFILE)."""
    element = re.compile(rf"<{field_}>[^<]*</{field_}>|<{field_}/>".encode())

    def put(xml: bytes) -> bytes:
        spots = list(element.finditer(xml))
        at = spots[index]
        return xml[:at.start()] + f"<{field_}>{escape(value)}</{field_}>".encode() + xml[at.end():]

    if b"<GIAMDINHHS>" not in data[:200]:
        return put(data)
    files = re.compile(rb"(<LOAIHOSO>" + table.encode() + rb"</LOAIHOSO>\s*<NOIDUNGFILE>)([^<]+)(</NOIDUNGFILE>)")
    return files.sub(lambda m: m[1] + base64.b64encode(put(base64.b64decode(m[2]))) + m[3], data, count=1)


def _known(raw: dict, version) -> dict:
    """Only the fields of the version in force (a hồ sơ moved to 2017 has no 3176 fields)."""
    out: dict[str, Any] = {}
    for tid, rows in raw.items():
        names = set(version[tid].names)
        out[tid] = ({k: v for k, v in rows.items() if k in names} if isinstance(rows, dict)
                    else [{k: v for k, v in r.items() if k in names} for r in rows])
    return out


def check(case: Case, value: str, bases: Bases) -> list[Finding]:
    return validate_bytes(place(case, value, bases), file=f"{case.table}.{case.field}")


def outcome(findings: list[Finding]) -> str:
    """``valid`` when no finding is an error, else the codes of the errors."""
    errors = sorted({f.code for f in findings if f.severity == ERROR})
    return ", ".join(errors) if errors else VALID


def trials() -> Iterator[tuple[Case, str]]:
    for case in suite().cases:
        for value in case.values:
            yield case, value


# --- docs/conformance.md ----------------------------------------------------------------------------------------
def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown() -> str:
    cat = suite()
    tested = {f"{c.table}.{c.field}" for c in cat.cases if c.source == "example"}
    lines = [
        "# Conformance with the standard's own text",
        "",
        "Generated from `src/xml130/spec/data/examples.toml` by `xml130 spec-docs`; do not edit by hand."
        " `tests/test_conformance.py` places every value below into a valid hồ sơ of its table (a synthetic"
        " scenario; a date moves the whole hồ sơ in time so the field holds exactly the example; XML1's totals are"
        " summed again from the rows) and validates the file like `xml130 validate` does: *valid* means no finding"
        " of severity error (exit 0); a code means the value must cause that finding.",
        "",
        f"The appendix of QĐ 130/4750 (`../shared/standard/qd4750/*.csv`) gives worked examples (\"Ví dụ\") for"
        f" {len(cat.appendix_fields)} fields; {len(tested & set(cat.appendix_fields))} of them are tested below,"
        f" the others are listed under *Not testable* with the reason. *words* rows are formats the text states in"
        f" words (8 or 12 characters, `;`-lists, formulas, optional fields) rather than as an example.",
        "",
        "Fields with an example: " + ", ".join(
            f"{f} ({'tested' if f in tested else 'not testable'})" for f in cat.appendix_fields) + ".",
        "",
        "| table | field | from | values tried | expected | clause |",
        "|---|---|---|---|---|---|",
    ]
    for c in cat.cases:
        values = "<br>".join(f"`{_cell(v)}`" if v else "*(empty)*" for v in c.values)
        expect = c.expect if c.expect == VALID else f"`{c.expect}`"
        lines.append(f"| {c.table} | {c.field} | {c.source} | {values} | {expect} | {_cell(c.clause)}"
                     f"{' — ' + _cell(c.note) if c.note else ''} |")
    audit = list_audit()
    lines += ["", "## Several codes in one field: the audit", "",
              "Every code field of every table (and every field that holds a list), read for one question: do its"
              " size and its description allow several codes? *list* means the spec gives it the separator `;`"
              " (models, XSD patterns, rules and docs/spec.md follow), each item with the field's grammar; *one*"
              " means a `;` in it is `FIELD.FORMAT`. Data: `src/xml130/spec/data/list_audit.toml`"
              f" ({len(audit)} entries, {sum(len(a.tables) for a in audit)} fields; `tests/test_text_decisions.py`"
              " checks that it covers every such field and that the spec agrees).", "",
              "| field | tables | decision | reason from the text |", "|---|---|---|---|"]
    for a in sorted(audit, key=lambda a: (a.decision != "list", a.name)):
        lines.append(f"| {a.name} | {', '.join(a.tables)} | {a.decision} | {_cell(a.reason)} |")
    lines += ["", "## Not testable", "", "| table | field | clause | why |", "|---|---|---|---|"]
    for u in cat.untestable:
        lines.append(f"| {u.table} | {u.field} | {_cell(u.clause)} | {_cell(u.why)} |")
    lines += ["", "## Contradictions found, and what was decided", "",
              "Each one was a file the standard allows that `validate` rejected (or the reverse) before this audit.",
              "", "| where | clause | found | decision |", "|---|---|---|---|"]
    for k in cat.contradictions:
        lines.append(f"| {_cell(k.where)} | {_cell(k.clause)} | {_cell(k.found)} | {_cell(k.decision)} |")
    lines += ["", "## A visit without a card (MA_DOITUONG_KCB 9)", "",
              "Self-paying patients, foreigners identified by passport, patients identified only by VNeID or an ID"
              " number, and the part of a stay before a card turned up. *text*: the standard says so; *choice*: the"
              " text is silent and this is what xml130 writes, with the reason. `tests/test_his_shapes.py` and"
              " `tests/test_rules.py` assert these values on the demo HIS's files and the fixture"
              " `fixtures/valid/foreigner_self_paying.xml`.", "",
              "| fields | value | from | clause | decision |", "|---|---|---|---|---|"]
    for w in cat.without_card:
        lines.append(f"| {_cell(w.fields)} | {_cell(w.value)} | {w.from_} | {_cell(w.clause)} | {_cell(w.decision)} |")
    lines += ["", "## Values written, read against the text", "",
              "What the nightly export and the check-in job write, read on the demo HIS's files of each kind, field"
              " by field against the appendix's description and its amendments (an outside reading: the rules"
              " agreeing with the generator proves nothing). *agrees*: the value is the text's; *fixed*: it was"
              " not, and the test named asserts the text's value; *unclear*: the text leaves it open, with what"
              " is written and why.", "",
              "| kind | fields | writes | clause | verdict |", "|---|---|---|---|---|"]
    for w in cat.written:
        lines.append(f"| {_cell(w.kind)} | {_cell(w.fields)} | {_cell(w.writes)} | {_cell(w.clause)}"
                     f" | {_cell(w.verdict)} |")
    lines += ["", "## Shapes seen in other software", "",
              "How other programs write these files, read in public generators (C#/.NET, VB.NET, Java, JavaScript),"
              " the portal's published template and HIS vendors' change logs — never from a patient's file. Each"
              " shape is reproduced by hand in a synthetic fixture (`fixtures/quirks/NAME.xml` with its exact"
              " findings, `tests/test_text_decisions.py`). *accepted* means no finding.", "",
              "| source | writes | decision | clause | fixture |", "|---|---|---|---|---|"]
    for h in cat.shapes:
        fixture = f"`{h.fixture}`" if h.fixture else "—"
        lines.append(f"| {_cell(h.source)} | {_cell(h.writes)} | {_cell(h.decision)} | {_cell(h.clause)} | {fixture} |")
    return "\n".join(lines) + "\n"
