"""Any value in any field is a finding, never an exception (issue 24, class 6).

Arbitrary text — and text shaped like each field's grammar, so that documents also pass the XSD and reach the
models and the business rules — goes into every field of every table of every spec version. ``validate`` must
answer with findings (known codes, located in the table), whatever the text."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xml130 import findings as fnd
from xml130.demo.scenarios import NGAYLAP, outpatient_drugs_labs
from xml130.models import HosoError, build_hoso, build_rows, rows_from_texts
from xml130.parse import ParseError, parse_xml, row_elements, row_values, table_texts, version_hint
from xml130.render import render_envelope, render_hoso_tables, render_table
from xml130.rules import all_rules
from xml130.spec import Field, load_spec
from xml130.validate import validate_bytes

SPEC = load_spec()
CASES = [(v.id, t.id) for v in SPEC.versions for t in v]
KNOWN = set(fnd.MESSAGES) | {r.code for r in all_rules()}
# Characters a file can carry (no lone surrogates: they cannot be written as UTF-8 at all), XML-illegal ones
# included: they make a malformed document, which is a finding too.
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_SETTINGS = settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _shaped(f: Field) -> st.SearchStrategy[str]:
    """Text in the field's own grammar (any length): passes the XSD pattern more often than not."""
    if f.item_regex is None:
        return _TEXT
    one = st.from_regex(re.compile(f.item_regex), fullmatch=True)
    return st.lists(one, min_size=1, max_size=3).map(f.sep.join) if f.sep else one


def _value(f: Field) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), _TEXT, _shaped(f), _shaped(f))


def _row(table) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({f.name: _value(f) for f in table.fields})


def _check(found: list) -> None:
    assert isinstance(found, list)
    for f in found:
        assert isinstance(f, fnd.Finding) and f.code in KNOWN and f.message, f


@pytest.mark.parametrize(("version_id", "table_id"), CASES)
def test_any_text_in_any_field_of_a_table_document_is_a_finding(version_id, table_id):
    version = SPEC.get(version_id)
    table = version[table_id]

    @_SETTINGS
    @given(st.lists(_row(table), min_size=1, max_size=2 if table.is_list else 1))
    def check(rows):
        _check(validate_bytes(render_table(table, rows), "x.xml", version=version))
        problems: list = []
        build_rows(version, table_id, rows, problems=problems)  # the export's path: findings, no exception
        _check(problems)

    check()


_BASE = build_hoso(outpatient_drugs_labs())
_BASE_ROWS = {tid: [dict(m.__dict__) for m in rows] for tid, rows in _BASE.tables.items()}


@pytest.mark.parametrize("table_id", sorted(_BASE_ROWS))
def test_any_text_in_a_hoso_reaches_the_rules_as_findings(table_id):
    """One field of a valid hồ sơ replaced: the document often stays valid, so the business rules read it."""
    table = _BASE.version[table_id]

    @_SETTINGS
    @given(st.sampled_from(table.fields).flatmap(lambda f: st.tuples(st.just(f.name), _value(f))),
           st.integers(0, len(_BASE_ROWS[table_id]) - 1))
    def check(edit, index):
        name, value = edit
        tables = {tid: [dict(r) for r in rows] for tid, rows in _BASE_ROWS.items()}
        tables[table_id][index][name] = value
        files = [(tid, render_table(_BASE.version[tid], rows)) for tid, rows in sorted(tables.items(),
                                                                                        key=lambda x: int(x[0][3:]))]
        _check(validate_bytes(render_envelope("79999", NGAYLAP, [files]), "x.xml"))
        try:
            hoso = build_hoso(tables)
        except HosoError as exc:
            _check(exc.findings)
        else:
            render_hoso_tables(hoso)

    check()


@pytest.mark.parametrize(("version_id", "table_id"), CASES)
def test_the_text_pass_gives_what_the_row_checker_gives(version_id, table_id):
    """Validation reads a right document through the text pass (typed.TextRows): the same models, the same bytes
    rendered again, as the row checker's; and nothing when the row checker finds anything."""
    version = SPEC.get(version_id)
    table = version[table_id]

    @_SETTINGS
    @given(st.lists(_row(table), min_size=1, max_size=3 if table.is_list else 1))
    def check(rows):
        try:
            root = parse_xml(render_table(table, rows))
        except ParseError:
            return  # text XML cannot carry: a finding of its own (XML.MALFORMED)
        texts = table_texts(table, root)
        assert texts is not None  # rendering writes every field of every row
        problems: list = []
        expected = build_rows(version, table_id, [row_values(r) for r in row_elements(table, root)], problems=problems)
        fast = rows_from_texts(version, table_id, texts)
        if problems:
            assert fast is None
        else:
            assert fast == expected
            assert [m.model_fields_set for m in fast] == [m.model_fields_set for m in expected]
            assert render_table(table, fast) == render_table(table, expected)

    check()


def test_every_table_of_the_valid_fixtures_goes_the_text_pass(fixtures_dir):
    """The fast path is the path of right files: every table of every valid fixture takes it, with the models
    the row checker gives."""
    from xml130.parse import file_content

    seen = 0
    for path in sorted((fixtures_dir / "valid").glob("*.xml")):
        root = parse_xml(path.read_bytes())
        contents = [root] if root.tag != "GIAMDINHHS" else [
            parse_xml(file_content(c)) for c in root.iterfind("THONGTINHOSO/DANHSACHHOSO/HOSO/FILEHOSO/NOIDUNGFILE")]
        for doc in contents:
            version = SPEC.for_date(version_hint(doc))
            table = version[SPEC.latest.by_root[doc.tag].id]
            fast = rows_from_texts(version, table.id, table_texts(table, doc))
            assert fast is not None and fast == build_rows(version, table.id,
                                                           [row_values(r) for r in row_elements(table, doc)])
            seen += 1
    assert seen > 50
