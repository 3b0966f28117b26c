"""One table document checked (already parsed): the XSDs (lxml's for the fast path, xmlschema's for the detailed
one), the row numbering of findings, and :class:`_DocCheck` — the fast path, then the detailed one for a document
lxml rejects (see :mod:`xml130.validate`)."""

from __future__ import annotations

from collections import Counter
from functools import cache

import xmlschema
from lxml import etree

from .. import findings as fnd
from ..findings import Finding
from ..models import build_rows, rows_from_texts
from ..parse import row_elements, row_values, table_texts
from ..spec import SpecVersion, Table, legacy_markers, load_spec
from ..spec.xsd import ENVELOPE_NAME, envelope_xsd, table_xsd
from ..typed import value_finding


@cache
def _lxml_schema(version_id: str, name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(_xsd_text(version_id, name).encode("utf-8")))


@cache
def _xmlschema(version_id: str, name: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(_xsd_text(version_id, name))


def _xsd_text(version_id: str, name: str) -> str:
    version = load_spec().get(version_id)
    return envelope_xsd(version) if name == ENVELOPE_NAME else table_xsd(version, version[name])


def _row_number(table: Table, row: etree._Element) -> int:
    if table.is_list:
        stt = row.findtext("STT")
        if stt and stt.strip().isdigit():
            return int(stt)
        parent = row.getparent()
        return (parent.index(row) + 1) if parent is not None else 1
    return 1


XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


class _DocCheck:
    """Validates one table document (already parsed) and collects findings."""

    def __init__(self, root: etree._Element, table: Table, version: SpecVersion, file: str | None,
                 ma_lk: str | None):
        # the table as the chosen version defines it (element names are the same in every version)
        self.root, self.table, self.version = root, version[table.id], version
        self.file, self.ma_lk = file, ma_lk
        self.out: list[Finding] = []
        self.models: tuple | None = None  # the rows as models, when the document is valid
        self.legacy: list[str] = []  # element names of the standard before QĐ 130, when the document is of it
        self.unordered: list[tuple[etree._Element, str, list[str]]] = []  # (row, tag, expected): out of order

    def where(self, row: etree._Element | None) -> dict:
        ma_lk = self.ma_lk
        if row is not None:
            ma_lk = row.findtext("MA_LK") or ma_lk
        return {"file": self.file, "ma_lk": ma_lk, "row": _row_number(self.table, row) if row is not None else None}

    def run(self) -> list[Finding]:
        self._nil()
        if _lxml_schema(self.version.id, self.table.id).validate(self.root):
            self._models(in_order=True)
        else:
            tags = {c.tag for r in row_elements(self.table, self.root) for c in r if isinstance(c.tag, str)}
            self.legacy = legacy_markers().found(self.table.id, tags)
            if self.legacy:  # one finding for the hồ sơ says so (see _legacy), not one per unknown tag
                return []
            self._detailed()
        # stable order for QA: by row, then structural findings, then fields in the standard's order
        order = {name: i for i, name in enumerate(self.table.names)}
        return sorted(self.out, key=lambda f: (f.row or 0, order.get(f.field, -1)))

    def _nil(self) -> None:
        """xsi:nil="true" on an empty field (.NET's XmlSerializer writes it for a null decimal? or int? property)
        stands for the empty element the standard writes: the marker is dropped, one warning for the table. On a
        field that has a value it is left, for the XSD to refuse."""
        empty = [e for e in self.root.iter() if isinstance(e.tag, str) and e.get(XSI_NIL) in ("true", "1")
                 and not e.text and not len(e)]
        for e in empty:
            del e.attrib[XSI_NIL]
        if empty:
            row = empty[0].getparent()
            self.out.append(fnd.make("XML.NIL", table=self.table.id, field=empty[0].tag, count=len(empty),
                                     **self.where(row if row is not None and row.tag == self.table.row else None)))

    def _models(self, in_order: bool = False) -> None:
        """The rows as models (``self.models``, when every value is right) and the findings of those that are not.
        ``in_order``: the XSD has passed, so every row's fields stand in the standard's order."""
        if in_order:  # the fast way: every field's text, row after row, when every row has every field
            texts = table_texts(self.table, self.root)
            if texts is not None:
                self.models = rows_from_texts(self.version, self.table.id, texts)
                if self.models is not None:
                    return
        rows = [row_values(r) for r in row_elements(self.table, self.root)]
        before = len(self.out)
        models = build_rows(self.version, self.table.id, rows, ma_lk=self.ma_lk, file=self.file, problems=self.out)
        if len(self.out) == before:
            self.models = models

    def _detailed(self) -> None:
        table, fields = self.table, self.table.by_name
        seen: set[tuple[int | None, str | None]] = set()
        broken_rows: list[etree._Element] = []
        for err in _xmlschema(self.version.id, table.id).iter_errors(self.root):
            elem = err.elem
            if isinstance(err, xmlschema.XMLSchemaChildrenValidationError):
                if elem is not None and elem.tag == table.row:
                    broken_rows.append(elem)
                    self._content_error(err, elem, seen)
                else:
                    self._add(fnd.make("XSD.OTHER", table=table.id, field=getattr(elem, "tag", None),
                                       detail=err.reason or str(err), **self.where(None)), seen)
                continue
            row = elem.getparent() if elem is not None else None
            name = getattr(elem, "tag", None)
            if row is not None and row.tag == table.row and name in fields:
                f = value_finding(self.version, table, name, elem.text, **self.where(row))
                if f is not None:
                    self._add(f, seen)
                    continue
            self._add(fnd.make("XSD.OTHER", table=table.id, field=name, detail=err.reason or str(err),
                               **self.where(row if row is not None and row.tag == table.row else None)), seen)
        # xmlschema stops checking a row's children at its first content error: check the rest here.
        for row in broken_rows:
            where = self.where(row)
            for child in row:
                if isinstance(child.tag, str) and child.tag in fields:
                    f = value_finding(self.version, table, child.tag, child.text, **where)
                    if f is not None:
                        self._add(f, seen)
        if self.unordered:
            # Fields in another order than the standard's (a major HIS writes XML2/XML3 amounts so): read by name,
            # one warning for the document, and every other check — the rows as models, then the rules — runs.
            row, tag, expected = self.unordered[0]
            self.out.append(fnd.make("ELEMENT.OUT_OF_ORDER", table=table.id, field=tag,
                                     expected=", ".join(expected) or "?", rows=len(self.unordered),
                                     **self.where(row)))
            if not fnd.has_errors(self.out):
                self._models()

    def _content_error(self, err, row: etree._Element, seen) -> None:
        fields = self.table.by_name
        present = {c.tag for c in row if isinstance(c.tag, str)}
        expected = [getattr(x, "local_name", None) or getattr(x, "name", None) for x in (err.expected or [])]
        expected = [e for e in expected if e]
        where = self.where(row)
        tag = err.invalid_tag
        if tag is not None and tag not in fields:
            f = fnd.make("ELEMENT.UNKNOWN", table=self.table.id, field=tag, version=self.version.id, **where)
        else:
            missing = [e for e in expected if e not in present and fields.get(e) and fields[e].is_required]
            if missing:
                f = fnd.make("FIELD.REQUIRED", table=self.table.id, field=missing[0], **where)
            elif tag is None:
                f = fnd.make("XSD.OTHER", table=self.table.id, field=None, detail=err.reason or str(err), **where)
            else:
                f = None
        counts = Counter(c.tag for c in row if isinstance(c.tag, str) and c.tag in fields)
        if f is not None:
            self._add(f, seen)
        elif tag in fields and counts[tag] == 1:
            self.unordered.append((row, tag, expected))
        # A field written twice in the row: which value counts is unknown (an error, wherever it stands).
        for name in self.table.names:
            if counts[name] > 1:
                self._add(fnd.make("ELEMENT.ORDER", table=self.table.id, field=name, **where), seen)
        # Every other required field absent from the row is reported too (xmlschema stops at the first).
        for name in self.table.names:
            if name not in present and fields[name].is_required:
                self._add(fnd.make("FIELD.REQUIRED", table=self.table.id, field=name, **where), seen)

    def _add(self, f: Finding, seen) -> None:
        key = (f.row, f.field)
        if key in seen and f.field is not None:
            return
        seen.add(key)
        self.out.append(f)
