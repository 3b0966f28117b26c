"""Validation of files: envelopes (each NOIDUNGFILE decoded), check-in documents and bare table documents.

Two paths:

- **fast**: lxml's ``XMLSchema`` on each document; a document that passes then goes through the typed pass of
  :mod:`xml130.typed` — the same checks the models and rendering use, for what an XSD cannot check (real
  calendar dates, lengths after NFC normalisation) — read as every field's text row after row
  (:func:`~xml130.parse.table_texts` → :func:`~xml130.models.rows_from_texts`), else row by row
  (:func:`~xml130.models.build_rows`), which says precisely what is wrong.
- **detailed**: only for a document lxml rejects, ``xmlschema`` explains every error; each is turned into a
  :class:`~xml130.findings.Finding` with the file, MA_LK, table, field, row (STT or position) and a stable code.
  Value errors are re-checked with the same field checks (:func:`xml130.typed.value_finding`), so a value gets
  the same code and message whichever path found it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import xmlschema
from lxml import etree

from . import findings as fnd
from .errors import Xml130Error
from .findings import Finding
from .models import build_rows, episode_date, rows_from_texts
from .parse import (
    ENVELOPE_ROOT,
    SAFE_PARSING,
    ParseError,
    decode_base64,
    only_namespace_uri_errors,
    parse_xml,
    raw_content,
    row_elements,
    row_values,
    syntax_detail,
    table_for_root,
    table_texts,
    version_hint,
)
from .spec import SpecVersion, Table, legacy_markers, load_spec
from .spec.xsd import ENVELOPE_NAME, envelope_xsd, table_xsd
from .typed import value_finding

if TYPE_CHECKING:
    from .store.catalog import Catalog

__all__ = ["validate_bytes", "validate_path", "iter_files", "FileUnreadable"]


class FileUnreadable(Xml130Error, OSError):
    """The input cannot be read at all (missing path, permission): the CLI exits 2."""


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


def _envelope_structure(root, file: str | None) -> list[Finding]:
    """XSD of the envelope itself; NOIDUNGFILE and LOAIHOSO are left to the walk, which says more."""
    version = load_spec().latest
    if _lxml_schema(version.id, ENVELOPE_NAME).validate(root):
        return []
    out = []
    for err in _xmlschema(version.id, ENVELOPE_NAME).iter_errors(root):
        tag = getattr(err.elem, "tag", None)
        if tag in ("NOIDUNGFILE", "LOAIHOSO"):
            continue
        out.append(fnd.make("XSD.OTHER", file=file, table=ENVELOPE_NAME, field=tag, detail=err.reason or str(err)))
    return out


_HOSO_PATH = ("THONGTINHOSO", "DANHSACHHOSO", "HOSO")


class _EnvelopeWalk:
    """The checks of one envelope, fed hồ sơ by hồ sơ: from a whole tree (:func:`validate_bytes`) or from a
    stream (:func:`validate_path`), with the same findings in the same order."""

    def __init__(self, file: str | None, version: SpecVersion | None, rules: bool, catalog: Catalog | None = None):
        self.file, self.version, self.rules, self.catalog = file, version, rules, catalog
        self.count = 0
        self.first: dict[str, int] = {}  # MA_LK → position of the HOSO that carried it first
        self.out: list[Finding] = []

    def hoso(self, elem: etree._Element) -> None:
        self.count += 1
        found, ma_lk = _validate_hoso(elem, self.file, self.version, self.rules, self.catalog)
        for content in elem.iterfind("FILEHOSO/NOIDUNGFILE"):
            # checked: only the skeleton stays for the envelope's XSD (an empty base64Binary is valid), which
            # need not read the contents again, and a stream holds one hồ sơ
            content.text = None
            for child in list(content):
                content.remove(child)
        self.out.extend(found)
        if ma_lk:
            first = self.first.setdefault(ma_lk, self.count)
            if first != self.count:
                self.out.append(fnd.make("ENVELOPE.DUPLICATE_MA_LK", file=self.file, ma_lk=ma_lk, table="XML1",
                                         field="MA_LK", row=self.count, value=ma_lk, first=first, pos=self.count))

    def finish(self, root: etree._Element) -> list[Finding]:
        """The envelope's own checks (its XSD, SOLUONGHOSO) first, then what each hồ sơ gave."""
        out = _envelope_structure(root, self.file)
        count = root.findtext("THONGTINHOSO/SOLUONGHOSO")
        if count is not None and count.strip().isdigit() and int(count) != self.count:
            out.append(fnd.make("ENVELOPE.COUNT", file=self.file, table=ENVELOPE_NAME, field="SOLUONGHOSO",
                                value=count, count=self.count))
        return out + self.out


def _validate_envelope(root, file: str | None, version: SpecVersion | None, rules: bool = True,
                       catalog: Catalog | None = None) -> list[Finding]:
    walk = _EnvelopeWalk(file, version, rules, catalog)
    for hoso in root.iterfind("/".join(_HOSO_PATH)):
        walk.hoso(hoso)
    return walk.finish(root)


def _listed_hoso(elem: etree._Element, root: etree._Element) -> bool:
    """Whether ``elem`` is a HOSO at THONGTINHOSO/DANHSACHHOSO/HOSO of ``root``."""
    node = elem
    for tag in reversed(_HOSO_PATH):
        if node is None or node.tag != tag:
            return False
        node = node.getparent()
    return node is root


def _validate_stream(path: Path, version: SpecVersion | None, rules: bool,
                     catalog: Catalog | None = None) -> list[Finding] | None:
    """An envelope read hồ sơ by hồ sơ (lxml iterparse, the same safe settings as :func:`parse_xml`): each
    HOSO is checked when its end tag is read, then its NOIDUNGFILE texts are let go, so memory holds one hồ sơ
    and the envelope's skeleton (which its XSD is checked on at the end). None when the file is not an
    envelope, or is broken before its first element: the caller reads it whole."""
    file = str(path)
    walk = _EnvelopeWalk(file, version, rules, catalog)
    root = None
    with path.open("rb") as stream:
        events = etree.iterparse(stream, events=("start", "end"), **SAFE_PARSING)
        try:
            for event, elem in events:
                if root is None:
                    if elem.tag != ENVELOPE_ROOT:
                        return None
                    root = elem
                elif event == "end" and elem.tag == "HOSO" and _listed_hoso(elem, root):
                    walk.hoso(elem)
        except etree.XMLSyntaxError as exc:
            if root is None or only_namespace_uri_errors(events.error_log):
                # broken before its first element, or a namespace URI the portal accepts: read it whole
                return None
            return [fnd.make("XML.MALFORMED", file=file, detail=syntax_detail(exc))]
    return _encoding_warning({ENVELOPE_NAME: _not_utf8(root)}, file) + walk.finish(root)


def _legacy(checks: list[_DocCheck], file: str | None) -> Finding | None:
    """One finding for a hồ sơ (or bare document) whose tables are of the standard before QĐ 130."""
    old = [c for c in checks if c.legacy]
    if not old:
        return None
    tags = list(dict.fromkeys(t for c in old for t in c.legacy))
    return fnd.make("XML.LEGACY_STANDARD", file=file, table=old[0].table.id, field=old[0].legacy[0],
                    value=", ".join(f"<{t}>" for t in tags), tables=", ".join(c.table.id for c in old))


def _declarations(code: str, notes: dict[str, list[str]], file: str | None) -> list[Finding]:
    """One finding for what :func:`parse_xml` read past in the tables' declarations (by table): namespace URIs
    libxml2 refuses and the portal's parser accepts (``XML.NAMESPACE_URI``), a UTF-8 document declared UTF-16
    (``XML.ENCODING_DECLARED``)."""
    notes = {table: declared for table, declared in notes.items() if declared}
    if not notes:
        return []
    declared = list(dict.fromkeys(d for ds in notes.values() for d in ds))
    return [fnd.make(code, file=file, table=next(iter(notes)), value=", ".join(declared), tables=", ".join(notes))]


def _namespace_warning(notes: dict[str, list[str]], file: str | None) -> list[Finding]:
    return _declarations("XML.NAMESPACE_URI", notes, file)


def _mislabelled(notes: dict[str, list[str]], file: str | None) -> list[Finding]:
    return _declarations("XML.ENCODING_DECLARED", notes, file)


_UTF8 = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})  # ASCII is UTF-8


def _not_utf8(root: etree._Element) -> list[str]:
    """The document's encoding (its declaration, or its BOM) when it is not UTF-8: windows-1258, UTF-16 …"""
    encoding = root.getroottree().docinfo.encoding or "UTF-8"
    return [] if encoding.lower() in _UTF8 else [encoding]


def _encoding_warning(notes: dict[str, list[str]], file: str | None) -> list[Finding]:
    return _declarations("XML.ENCODING_NOT_UTF8", notes, file)


def _validate_hoso(hoso, file: str | None, version: SpecVersion | None,
                   rules: bool = True, catalog: Catalog | None = None) -> tuple[list[Finding], str | None]:
    """The findings of one HOSO and its MA_LK (None when no XML1 gives it)."""
    out: list[Finding] = []
    docs: list[tuple[Table, etree._Element]] = []
    seen_tables: set[str] = set()
    namespaces: dict[str, list[str]] = {}
    encodings: dict[str, list[str]] = {}
    foreign: dict[str, list[str]] = {}  # tables not in UTF-8
    unwrapped: list[Finding] = []  # ENVELOPE.TABLE_MISMATCH of a list written without its wrapper
    for fh in hoso.iterfind("FILEHOSO"):
        loai = (fh.findtext("LOAIHOSO") or "").strip()
        expected = load_spec().latest.tables.get(loai)
        if expected is None or loai == "XML0":
            out.append(fnd.make("ENVELOPE.LOAIHOSO", file=file, table=loai or None, field="LOAIHOSO", value=loai))
            continue
        if loai in seen_tables:
            out.append(fnd.make("ENVELOPE.DUPLICATE_TABLE", file=file, table=loai, field="LOAIHOSO"))
            continue
        seen_tables.add(loai)
        raw = raw_content(fh.find("NOIDUNGFILE"))
        if raw is not None:
            content, tag = raw
            out.append(fnd.make("ENVELOPE.RAW_XML", file=file, table=loai, field="NOIDUNGFILE", value=tag))
        else:
            try:
                content = decode_base64(fh.findtext("NOIDUNGFILE"))
            except ParseError as exc:
                out.append(fnd.make("ENVELOPE.BASE64", file=file, table=loai, field="NOIDUNGFILE", detail=str(exc)))
                continue
        notes: list[str] = []
        try:
            doc = parse_xml(content, notes, encodings.setdefault(loai, []))
        except ParseError as exc:
            out.append(fnd.make("XML.MALFORMED", file=file, table=loai, field="NOIDUNGFILE", detail=str(exc)))
            continue
        if notes:
            namespaces[loai] = notes
        foreign[loai] = _not_utf8(doc)
        if doc.tag != expected.root:
            mismatch = fnd.make("ENVELOPE.TABLE_MISMATCH", file=file, table=loai, field="NOIDUNGFILE", value=doc.tag)
            if not (expected.is_list and doc.tag == expected.list):
                out.append(mismatch)
                continue
            # the list without its CHITIEU_ wrapper, as QĐ 4210's tables were: checked inside the wrapper, and the
            # mismatch said unless the hồ sơ turns out to be of that standard (one XML.LEGACY_STANDARD says it all)
            unwrapped.append(mismatch)
            wrapper = etree.Element(expected.root)
            wrapper.append(doc)
            doc = wrapper
        docs.append((expected, doc))
    summary = next((d for t, d in docs if t.id == "XML1"), None)
    ma_lk = summary.findtext("MA_LK") if summary is not None else None
    if summary is None and "XML1" not in seen_tables:
        out.append(fnd.make("ENVELOPE.NO_XML1", file=file, table="XML1"))
    if version is None and summary is not None:
        version = load_spec().for_date(episode_date(summary))
    checks = []
    for table, doc in docs:
        if version is None:
            version = load_spec().for_date(version_hint(doc))
        check = _DocCheck(doc, table, version, file, ma_lk)
        out.extend(check.run())
        checks.append(check)
    out[:0] = _namespace_warning(namespaces, file) + _encoding_warning(foreign, file)
    legacy = _legacy(checks, file)
    if legacy is not None:
        out.append(legacy)
    else:
        out.extend(unwrapped)
    if (legacy is None and rules and not fnd.has_errors(out) and summary is not None
            and all(c.models is not None for c in checks)):
        # the business rules read a structurally valid hồ sơ only: they would only repeat the errors above
        from .models import Hoso
        from .rules import run_rules

        hoso = Hoso(version=version, tables={c.table.id: c.models for c in checks})
        out.extend(run_rules(hoso, file=file, catalog=catalog))
    out[:0] = _mislabelled(encodings, file)  # after the rules: the content was read whole, every check ran
    return [f.located(ma_lk=ma_lk) for f in out], ma_lk


def _not_xml(data: bytes, file: str | None) -> Finding | None:
    """A file that is not XML at all (JSON, a spreadsheet, text named .xml): its first character is not '<'."""
    head = data.lstrip()
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            head = head[len(bom):].lstrip(b"\x00 \t\r\n")
    if not head or head.startswith(b"<"):
        return None
    first = head[:1].decode("latin-1")
    guess = " — có vẻ là JSON" if first in "{[" else (" — có vẻ là tệp nén/Excel" if head.startswith(b"PK") else "")
    return fnd.make("FILE.NOT_XML", file=file, value=first if first.isprintable() else repr(first), guess=guess)


def validate_bytes(data: bytes, file: str | None = None, *, version: SpecVersion | None = None,
                   rules: bool = True, catalog: Catalog | None = None) -> list[Finding]:
    """Every finding for one file's bytes (an envelope, a check-in document or a bare table); the catalog rules
    (R.CAT.*) run when ``catalog`` is given."""
    notes: list[str] = []
    wide: list[str] = []
    try:
        root = parse_xml(data, notes, wide)
    except ParseError as exc:
        not_xml = _not_xml(data, file)
        return [not_xml if not_xml is not None else fnd.make("XML.MALFORMED", file=file, detail=str(exc))]
    name = ENVELOPE_NAME if root.tag == ENVELOPE_ROOT else getattr(table_for_root(root.tag), "id", root.tag)
    first = (_mislabelled({name: wide}, file) + _namespace_warning({name: notes}, file)
             + _encoding_warning({name: _not_utf8(root)}, file))
    if root.tag == ENVELOPE_ROOT:
        return first + _validate_envelope(root, file, version, rules, catalog)
    table = table_for_root(root.tag)
    if table is None:
        out = first + [fnd.make("XML.ROOT", file=file, value=root.tag)]
        if root.tag == _HOSO_PATH[-1]:  # a hồ sơ without its envelope (integrations wrap such files): still checked
            out += _validate_hoso(root, file, version, rules, catalog)[0]
        return out
    out = _namespace_warning({table.id: notes}, file) + _encoding_warning({table.id: _not_utf8(root)}, file)
    if version is None:
        version = load_spec().for_date(version_hint(root))
    check = _DocCheck(root, table, version, file, None)
    out += check.run()
    legacy = _legacy([check], file)
    if legacy is not None:
        out.append(legacy)
    if rules and table.id == "XML0" and not fnd.has_errors(out) and check.models is not None:
        from .models import Hoso
        from .rules import run_rules

        out.extend(run_rules(Hoso(version=version, tables={"XML0": check.models}), file=file, catalog=catalog))
    return _mislabelled({table.id: wide}, file) + out


def validate_path(path: str | os.PathLike, *, version: SpecVersion | None = None,
                  rules: bool = True, catalog: Catalog | None = None) -> list[Finding]:
    """Every finding for one file; an envelope is read hồ sơ by hồ sơ, whatever its size."""
    p = Path(path)
    try:
        found = _validate_stream(p, version, rules, catalog)
        if found is not None:
            return found
        data = p.read_bytes()
    except OSError as exc:
        raise FileUnreadable(f"{p}: {exc.strerror or exc}") from None
    return validate_bytes(data, str(p), version=version, rules=rules, catalog=catalog)


def iter_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Files named, and *.xml files under folders named (sorted, for stable reports)."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            yield from sorted(x for x in p.rglob("*") if x.is_file() and x.suffix.lower() == ".xml")
        elif p.exists():
            yield p
        else:
            raise FileUnreadable(f"{p}: no such file or folder")
