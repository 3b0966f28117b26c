"""Parsing: envelope, check-in or bare table XML back to rows and models.

Parsing never resolves entities or reaches the network. Values come back as text exactly as written (an
empty element is ``None``); turning them into models is :func:`xml130.models.build_hoso`'s job, so that
``render → parse → render`` is the identity.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from .errors import Xml130Error
from .models import Hoso, build_hoso, build_rows
from .spec import SpecVersion, Table, load_spec

ENVELOPE_ROOT = "GIAMDINHHS"
DATE_HINTS = ("NGAY_RA", "NGAY_VAO", "NGAY_YL", "NGAY_CT", "NGAY_KQ", "THOI_DIEM_DBLS")


class ParseError(Xml130Error, ValueError):
    """The bytes are not a document xml130 can read (detail in the message)."""


SAFE_PARSING = {"resolve_entities": False, "no_network": True, "huge_tree": True, "remove_comments": True}


_PARSERS = threading.local()  # an lxml parser is reused (half the cost of a small document) but never shared


def _parser() -> etree.XMLParser:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(**SAFE_PARSING)
    return parser


# An XML declaration naming a 16- or 32-bit encoding, at the start of bytes that are not (no UTF-16/32 BOM, the
# declaration readable one byte per character): .NET's XmlWriter over a StringBuilder or StringWriter writes
# encoding="utf-16", and the text then travels as UTF-8 (Encoding.UTF8.GetBytes → base64).
_WIDE_DECLARATION = re.compile(
    rb"^(?:\xef\xbb\xbf)?(<\?xml[^>]*?\bencoding\s*=\s*[\"'])(utf-?16[a-z]*|utf-?32[a-z]*|ucs-?[24]|unicode)([\"'])",
    re.IGNORECASE)


def declared_wide_encoding(data: bytes) -> str | None:
    """The encoding a document's declaration names when it is UTF-16/32 (or UCS-2/4) but the bytes are one byte
    per character (a UTF-8 document mislabelled), else None."""
    hit = _WIDE_DECLARATION.match(data)
    return hit[2].decode("ascii") if hit else None


def parse_xml(data: bytes, notes: list[str] | None = None,
              mislabelled: list[str] | None = None) -> etree._Element:
    """The document's root. A namespace declaration whose URI libxml2 refuses but the portal's parser (.NET)
    reads — ``xmlns:xsi="http://www.w3.org/2001/XMLSchema instance"``, with a space — is accepted: the
    declarations are appended to ``notes`` (for a warning) and the document is read as it stands. A UTF-8
    document whose declaration says ``encoding="utf-16"`` (:func:`declared_wide_encoding`) is read as the UTF-8
    it is, the declared encoding appended to ``mislabelled`` (for a finding); without that list it is refused."""
    parser = _parser()
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        wide = declared_wide_encoding(data) if mislabelled is not None else None
        if wide is not None:
            root = parse_xml(_WIDE_DECLARATION.sub(rb"\1utf-8\3", data, count=1), notes)
            mislabelled.append(wide)
            return root
        if not only_namespace_uri_errors(parser.error_log):
            raise ParseError(syntax_detail(exc, parser.error_log)) from None
    lenient = etree.XMLParser(recover=True, **SAFE_PARSING)
    root = etree.fromstring(data, lenient)
    if root is None or not only_namespace_uri_errors(lenient.error_log):  # recovering must change nothing
        raise ParseError(syntax_detail(None, lenient.error_log))
    if notes is not None:
        notes.extend(dict.fromkeys(e.message.split(" is not a valid URI")[0].replace(": ", "=", 1)
                                   for e in lenient.error_log))
    return root


_NS_URI_TYPES = frozenset({"WAR_NS_URI", "WAR_NS_URI_RELATIVE"})


def _is_ns_uri(entry) -> bool:
    return entry.domain_name == "NAMESPACE" and entry.type_name in _NS_URI_TYPES


def only_namespace_uri_errors(log) -> bool:
    """Whether every error of a failed parse (its parser's ``error_log``) is a namespace URI libxml2 refuses
    (what :func:`parse_xml` accepts): the document is otherwise well-formed and namespace-well-formed."""
    entries = list(log)
    return bool(entries) and all(_is_ns_uri(e) for e in entries)


def syntax_detail(exc: etree.XMLSyntaxError | None, log=()) -> str:
    """What is wrong and where (line, column), the same whether the bytes were parsed whole or streamed; a
    namespace URI :func:`parse_xml` would accept is not what is wrong when something else is."""
    entries = list(log)
    if exc is None or any(_is_ns_uri(e) for e in entries):
        for e in entries:
            if e.level_name in ("ERROR", "FATAL") and not _is_ns_uri(e):
                return f"{e.message}, line {e.line}, column {e.column}"
    return (exc.msg or str(exc)) if exc is not None else "?"


def table_for_root(tag: str) -> Table | None:
    """The table whose document root is ``tag`` (element names are the same in every spec version)."""
    return load_spec().latest.by_root.get(tag)


def row_elements(table: Table, root: etree._Element) -> list[etree._Element]:
    if not table.is_list:
        return [root]
    holder = root.find(table.list)
    return [] if holder is None else [e for e in holder if isinstance(e.tag, str)]


def row_values(row: etree._Element) -> dict[str, str | None]:
    """Field name → text (None for an empty element). A repeated element keeps its last value; the XSD
    reports the repetition."""
    return {c.tag: (c.text if c.text != "" else None) for c in row if isinstance(c.tag, str)}


def table_texts(table: Table, root: etree._Element) -> list[str | None] | None:
    """Every field's text (None when empty), in the standard's order, row after row — when every row carries
    every field (as the XSD allows them, in order), which one pass over the elements tells; else None (then
    :func:`row_values`, row by row). For a document its XSD has passed: only then is the order known."""
    if table.is_list:
        holder = root.find(table.list)
        if holder is None:
            return None
        texts = [e.text for e in holder.iter(etree.Element)]  # the list, then each row and its fields
        del texts[0]
        rows = len(holder)
    else:
        texts = [e.text for e in root.iter(etree.Element)]  # the row itself, then its fields
        rows = 1
    step = len(table.fields) + 1
    if len(texts) != rows * step:
        return None
    del texts[::step]  # the row elements' own (whitespace) text
    return texts


def read_table(root: etree._Element) -> tuple[Table, list[dict[str, str | None]]]:
    table = table_for_root(root.tag)
    if table is None:
        raise ParseError(f"<{root.tag}> is not the root of a QĐ 130 table")
    return table, [row_values(r) for r in row_elements(table, root)]


def version_hint(root: etree._Element) -> str | None:
    """A date inside a bare table document that picks its spec version (first of DATE_HINTS found)."""
    for name in DATE_HINTS:
        hit = root.find(f".//{name}")
        if hit is not None and hit.text:
            return hit.text
    return None


@dataclass
class EnvelopeFile:
    loaihoso: str
    content: bytes | None  # None when NOIDUNGFILE is not valid base64
    error: str | None = None


@dataclass
class Envelope:
    macskcb: str | None
    ngaylap: str | None
    soluonghoso: str | None
    hosos: list[list[EnvelopeFile]] = field(default_factory=list)
    signed: bool = False


def decode_base64(text: str | None) -> bytes:
    if text:
        try:  # one line of base64, as the portal's own files and ours are: no copy without the line breaks
            return binascii.a2b_base64(text, strict_mode=True)
        except binascii.Error:
            pass
    compact = "".join((text or "").split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ParseError(str(exc)) from None


def raw_content(content: etree._Element | None) -> tuple[bytes, str] | None:
    """A NOIDUNGFILE holding XML itself (as elements or as escaped text) instead of its base64: (the XML, its
    root tag), else None."""
    if content is None:
        return None
    child = next((c for c in content if isinstance(c.tag, str)), None)
    if child is not None:
        return etree.tostring(child, encoding="utf-8"), child.tag
    text = (content.text or "").strip()
    if text.startswith("<"):
        tag = "?xml" if text.startswith("<?") else text[1:].split(">", 1)[0].split()[0]
        return text.encode("utf-8"), tag
    return None


def file_content(content: etree._Element | None) -> bytes:
    """What a NOIDUNGFILE holds: its base64 decoded, or the XML it holds itself (raises ParseError)."""
    raw = raw_content(content)
    return raw[0] if raw is not None else decode_base64(content.text if content is not None else None)


def read_envelope(root: etree._Element) -> Envelope:
    if root.tag != ENVELOPE_ROOT:
        raise ParseError(f"<{root.tag}> is not a GIAMDINHHS envelope")
    env = Envelope(
        macskcb=root.findtext("THONGTINDONVI/MACSKCB"),
        ngaylap=root.findtext("THONGTINHOSO/NGAYLAP"),
        soluonghoso=root.findtext("THONGTINHOSO/SOLUONGHOSO"),
    )
    sig = root.find("CHUKYDONVI")
    env.signed = sig is not None and len(sig) > 0
    for hoso in root.iterfind("THONGTINHOSO/DANHSACHHOSO/HOSO"):
        files = []
        for fh in hoso.iterfind("FILEHOSO"):
            loai = (fh.findtext("LOAIHOSO") or "").strip()
            try:
                files.append(EnvelopeFile(loai, file_content(fh.find("NOIDUNGFILE"))))
            except ParseError as exc:
                files.append(EnvelopeFile(loai, None, str(exc)))
        env.hosos.append(files)
    return env


def iter_hoso_tables(files: list[EnvelopeFile]) -> Iterator[tuple[str, dict[str, str | None] | list]]:
    for f in files:
        if f.content is None:
            raise ParseError(f"{f.loaihoso}: NOIDUNGFILE is not base64 ({f.error})")
        table, rows = read_table(parse_xml(f.content))
        if table.id != f.loaihoso:
            raise ParseError(f"LOAIHOSO {f.loaihoso} holds <{table.root}>")
        yield table.id, rows


def load_envelope(data: bytes, *, file: str | None = None) -> list[Hoso]:
    """Every hồ sơ of an envelope as validated models (raises HosoError / ParseError)."""
    env = read_envelope(parse_xml(data))
    return [build_hoso(dict(iter_hoso_tables(files)), file=file) for files in env.hosos]


def load_table(data: bytes, *, version: SpecVersion | None = None):
    """A bare table document (or check-in document) as (table, validated rows)."""
    root = parse_xml(data)
    table, rows = read_table(root)
    version = version or load_spec().for_date(version_hint(root))
    return table, build_rows(version, table.id, rows)
