"""A file as text: its documents (the file, each NOIDUNGFILE decoded), the personal values in them with where each
stands, the dates each is compared with; and writing them back with only those values changed."""

from __future__ import annotations

import base64
import binascii
import bisect
import codecs
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from html import unescape

from ..errors import Xml130Error
from ..parse import declared_wide_encoding
from .fields import Kind, is_searched_field, kinds, list_rows
from .pseudonyms import TOKEN, moment

_UNPADDED = re.compile(r"[A-Za-z0-9+/]+")


class AnonymizeError(Xml130Error, ValueError):
    """The file cannot be anonymized safely (nothing is written; the message says why, never a value)."""


# --- the document as text -------------------------------------------------------------------------------------------
_LEAF = re.compile(
    r"<(?P<tag>[A-Za-z_][\w.:-]*)(?P<attrs>\s[^<>]*?)?(?:/>|>(?P<body>(?:[^<]|<!\[CDATA\[.*?\]\]>)*)</(?P=tag)\s*>)",
    re.S)
_SIGNATURE = re.compile(r"<(?:[\w.-]+:)?CHUKYDONVI(?:\s[^<>]*)?>(.*?)</(?:[\w.-]+:)?CHUKYDONVI\s*>", re.S)
_PIECE = re.compile(r"<!\[CDATA\[|\]\]>|&#x[0-9a-fA-F]+;|&#\d+;|&\w+;|.", re.S)
_DECL = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _local(tag: str) -> str:
    return tag.rpartition(":")[2]


@dataclass
class Slot:
    doc: Doc
    start: int
    end: int
    field: str
    kind: Kind | None  # None: another text or code field, searched for full personal values
    body: str
    scope: tuple

    @property
    def value(self) -> str:
        return _body_value(self.body)


def _pieces(body: str) -> list[tuple[str, str | None]]:
    """(as written, the characters it stands for; None for a CDATA marker)."""
    out: list[tuple[str, str | None]] = []
    in_cdata = False
    for p in _PIECE.findall(body):
        if p == "<![CDATA[" or (p == "]]>" and in_cdata):
            in_cdata = p == "<![CDATA["
            out.append((p, None))
        else:
            out.append((p, p if in_cdata or not p.startswith("&") else unescape(p)))
    return out


def _body_value(body: str) -> str:
    return "".join(v for _, v in _pieces(body) if v is not None)


def rewrite_body(body: str, new_value: str) -> str:
    """The body with its value replaced character for character (the new value has the same length), entity
    references and CDATA kept where the character did not change."""
    out, i = [], 0
    for p, old in _pieces(body):
        if old is None:
            out.append(p)
            continue
        new = new_value[i:i + len(old)]
        i += len(old)
        out.append(p if new == old else new)
    return "".join(out)


@dataclass
class Child:
    start: int
    end: int
    body: str
    doc: Doc
    escaped: bool  # raw XML written as escaped text instead of base64
    unpadded: bool = False  # base64 without its '=' padding (written back so: validate still says so)


@dataclass
class Doc:
    text: str
    codec: str
    bom: bytes
    wide: bool
    slots: list[Slot] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    signatures: list[tuple[int, int]] = field(default_factory=list)  # contents of CHUKYDONVI, dropped


def _decode(data: bytes) -> tuple[str, str, bytes]:
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"),
                       (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, "surrogateescape" if codec == "utf-8" else "strict"), codec, bom
    m = _DECL.match(data)
    codec = "utf-8"
    if m and declared_wide_encoding(data) is None:  # a UTF-8 document declared UTF-16 is the UTF-8 it is
        try:
            codec = codecs.lookup(m[1].decode("ascii")).name
        except LookupError:
            raise AnonymizeError(f"bảng mã {m[1].decode('ascii')!r} không biết") from None
    try:
        return data.decode(codec, "surrogateescape" if codec == "utf-8" else "strict"), codec, b""
    except UnicodeDecodeError as exc:
        raise AnonymizeError(f"không đọc được theo bảng mã {codec}: {exc.reason}") from None


def _spans(text: str, tags: frozenset[str]) -> list[tuple[int, int]]:
    if not tags:
        return []
    names = "|".join(sorted(map(re.escape, tags)))
    return [m.span() for m in re.finditer(rf"<(?:[\w.-]+:)?(?:{names})[\s>].*?</(?:[\w.-]+:)?(?:{names})\s*>",
                                         text, re.S)]


def _scope_of(pos: int, spans: list[tuple[int, int]], default: tuple) -> tuple:
    """The span (of those found in order, not overlapping) holding ``pos``, as a scope under ``default``."""
    i = bisect.bisect_right(spans, (pos, float("inf"))) - 1
    if i >= 0 and spans[i][0] <= pos < spans[i][1]:
        return (*default, spans[i][0])
    return default


class Reader:
    """Reads a file into documents, slots and the reference dates of each scope."""

    def __init__(self) -> None:
        self.refs: dict[tuple, list[tuple[str, tuple[dt.datetime, bool]]]] = {}  # scope → (field, moment)
        self.docs = 0

    def read(self, data: bytes, scope: tuple | None = None) -> Doc:
        text, codec, bom = _decode(data)
        return self.read_text(text, codec, bom, scope)

    def read_text(self, text: str, codec: str, bom: bytes, scope: tuple | None) -> Doc:
        body = text.lstrip()
        if not body.startswith("<"):
            raise AnonymizeError("không phải tệp XML")
        self.docs += 1
        doc = Doc(text, codec, bom, codec.startswith("utf"))
        own = scope if scope is not None else (self.docs,)
        # the hồ sơ of an envelope, else the row of a list table, is the scope of its dates
        hosos = _spans(text, frozenset({"HOSO"}))
        rows = [] if scope is not None else _spans(text, list_rows())
        personal = kinds()
        opened = Counter(_local(m[1]) for m in re.finditer(r"<([A-Za-z_][\w.:-]*)(?=[\s/>])", text)
                         if _local(m[1]) in personal)
        found: Counter = Counter()
        # a signature no longer matches once a value changed, and a signer's certificate names a person
        doc.signatures = [m.span(1) for m in _SIGNATURE.finditer(text) if m[1].strip()]
        for m in _LEAF.finditer(text):
            name = _local(m["tag"])
            where = _scope_of(m.start(), hosos, own) if hosos else _scope_of(m.start(), rows, own)
            if m["body"] is None:
                found[name] += name in personal
                continue
            b0, b1 = m.span("body")
            if name == "NOIDUNGFILE":
                child = self._child(b0, b1, m["body"], where)
                if child is not None:
                    doc.children.append(child)
            elif name in personal:
                found[name] += 1
                doc.slots.append(Slot(doc, b0, b1, name, personal[name], m["body"], where))
            else:
                when = moment(m["body"].strip())
                if when:
                    self.refs.setdefault(where, []).append((name, when))
                if is_searched_field(name) and m["body"]:
                    doc.slots.append(Slot(doc, b0, b1, name, None, m["body"], where))
        for name, n in opened.items():
            if found[name] != n:
                raise AnonymizeError(f"<{name}> không phải là một trường có giá trị đơn giản ({n - found[name]}"
                                     " lần): không thể bảo đảm đã thay hết")
        return doc

    def _child(self, b0: int, b1: int, body: str, scope: tuple) -> Child | None:
        compact = "".join(body.split())
        if not compact:
            return None  # an empty NOIDUNGFILE holds nothing (validate says so)
        unpadded = bool(_UNPADDED.fullmatch(compact)) and len(compact) % 4 in (2, 3)
        try:
            content = base64.b64decode(compact + "=" * (-len(compact) % 4 if unpadded else 0), validate=True)
        except (binascii.Error, ValueError):
            content = None
        if content is None:
            raw = _body_value(body)
            if raw.lstrip().startswith("<"):  # XML written as text in NOIDUNGFILE
                return Child(b0, b1, body, self.read_text(raw, "utf-8", b"", scope), True)
            raise AnonymizeError("NOIDUNGFILE không phải base64 cũng không phải XML: không thể bảo đảm đã thay hết")
        return Child(b0, b1, body, self.read(content, scope), False, unpadded)


class Finder:
    """Finds whole personal values in a text, starting at a word or digit boundary (one pass over the text's
    tokens, whatever the number of values)."""

    def __init__(self, values) -> None:
        self.by_first: dict[str, list[str]] = {}
        for v in sorted(values, key=len, reverse=True):
            first = TOKEN.search(v)
            if first is not None and first.start() == 0:
                self.by_first.setdefault(first.group(), []).append(v)

    def find(self, text: str):
        """(position, value) of each value found, left to right, longest first, not overlapping."""
        at = 0
        for m in TOKEN.finditer(text):
            if m.start() < at:
                continue
            for v in self.by_first.get(m.group(), ()):
                if text.startswith(v, m.start()):
                    yield m.start(), v
                    at = m.start() + len(v)
                    break


def relayout(body: str, new: str) -> str:
    """``new`` base64 laid out like ``body``: the same whitespace at the same places when the length is the same,
    else the same line length and line ending."""
    compact_len = sum(1 for ch in body if not ch.isspace())
    if compact_len == len(new):
        it = iter(new)
        return "".join(ch if ch.isspace() else next(it) for ch in body)
    lead = body[:len(body) - len(body.lstrip())]
    trail = body[len(body.rstrip()):]
    core = body.strip()
    lines = re.split(r"(\s+)", core)
    if len(lines) == 1:
        return lead + new + trail
    width, sep = len(lines[0]), lines[1]
    return lead + sep.join(new[i:i + width] for i in range(0, len(new), width)) + trail


def all_docs(doc: Doc) -> list[Doc]:
    out = [doc]
    for c in doc.children:
        out.extend(all_docs(c.doc))
    return out


def texts(data: bytes) -> list[str]:
    """The file's text and the text of every NOIDUNGFILE in it, decoded (for the final check)."""
    try:
        doc = Reader().read(data)
    except AnonymizeError:
        return [data.decode("utf-8", "replace")]

    def walk(d: Doc) -> list[str]:
        return [d.text, *(t for c in d.children for t in walk(c.doc))]
    return walk(doc)
