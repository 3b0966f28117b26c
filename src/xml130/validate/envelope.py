"""Envelopes (GIAMDINHHS): the envelope's own XSD and counts, each HOSO checked (its FILEHOSO decoded, each
table document checked, then the business rules), from a whole tree or streamed hồ sơ by hồ sơ."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from .. import findings as fnd
from ..findings import Finding
from ..models import episode_date
from ..parse import (
    ENVELOPE_ROOT,
    SAFE_PARSING,
    ParseError,
    decode_base64,
    only_namespace_uri_errors,
    parse_xml,
    raw_content,
    syntax_detail,
    version_hint,
)
from ..spec import SpecVersion, Table, load_spec
from ..spec.xsd import ENVELOPE_NAME
from .declarations import _encoding_warning, _legacy, _mislabelled, _namespace_warning, _not_utf8
from .document import _DocCheck, _lxml_schema, _xmlschema

if TYPE_CHECKING:
    from ..store.catalog import Catalog


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
        from ..models import Hoso
        from ..rules import run_rules

        hoso = Hoso(version=version, tables={c.table.id: c.models for c in checks})
        out.extend(run_rules(hoso, file=file, catalog=catalog))
    out[:0] = _mislabelled(encodings, file)  # after the rules: the content was read whole, every check ran
    return [f.located(ma_lk=ma_lk) for f in out], ma_lk

