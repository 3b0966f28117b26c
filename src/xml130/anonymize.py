"""Anonymizing a file before it travels (``xml130 anonymize``): every personal value replaced by a synthetic one of
the same length and format, everything else left byte for byte.

Which fields are personal, and how each kind is replaced, is data: ``spec/data/personal.toml``. The file is edited
as text, not parsed and written again, so namespaces, the BOM, the XML declaration, element order, line endings,
entity references and the line breaks of the base64 in NOIDUNGFILE stay as they were; a NOIDUNGFILE is decoded,
anonymized as a document of its own and encoded again (letters are replaced by letters of the same UTF-8 size, so
the base64 keeps its length and its line breaks). One pseudonym per original value (per word of a name, per run of
digits of a number) in the whole file, so the same person stays the same person across tables and hồ sơ; the
pseudonyms come from a random key drawn for each file and never written anywhere.

A file it cannot vouch for is refused (:class:`AnonymizeError`) rather than written: not XML, a personal element
that is not a simple value, a NOIDUNGFILE that is neither base64 nor XML, or a whole personal value still found in
the result where a word begins (a comment). A whole personal value written again in another text or code field
(a name in GHI_CHU, a patient number heading MA_LK) gets the same pseudonym there.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import codecs
import datetime as dt
import random
import re
import secrets
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from html import unescape
from importlib import resources
from typing import Any

from .dates import compact
from .errors import Xml130Error
from .params import defaults
from .parse import declared_wide_encoding
from .spec import load_spec

__all__ = ["AnonymizeError", "Result", "anonymize_bytes", "personal_fields"]

OTHER_FIELDS = "trong trường khác"  # full personal values found again in other text and code fields
SIGNATURES = "chữ ký số đã bỏ"  # CHUKYDONVI emptied (the element stays)
KEPT_DATES = "ngày giữ nguyên"  # dates no other day of their month keeps with the same findings


class AnonymizeError(Xml130Error, ValueError):
    """The file cannot be anonymized safely (nothing is written; the message says why, never a value)."""


@dataclass
class Result:
    data: bytes
    counts: Counter = field(default_factory=Counter)  # kind label → values replaced


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    method: str  # name | number | date
    fields: tuple[str, ...]
    keep_words: frozenset[str] = frozenset()
    shape: re.Pattern[str] | None = None
    keep: int = 0
    compare_with: frozenset[str] = frozenset()  # date kinds: the fields whose comparisons are kept
    age_in_months_below: int = 0


@cache
def _config() -> dict[str, Any]:
    return tomllib.loads((resources.files("xml130.spec") / "data" / "personal.toml").read_text(encoding="utf-8"))


@cache
def kinds() -> dict[str, Kind]:
    """Field name → its kind of personal value (spec/data/personal.toml)."""
    out: dict[str, Kind] = {}
    for name, k in _config()["kinds"].items():
        kind = Kind(name, k["label"], k["method"], tuple(k["fields"]), frozenset(k.get("keep_words", ())),
                    re.compile(k["shape"]) if k.get("shape") else None, int(k.get("keep", 0)),
                    frozenset(k.get("compare_with", ())), int(k.get("age_in_months_below", 0)))
        for f in kind.fields:
            out[f] = kind
    return out


def personal_fields() -> dict[str, str]:
    """Field name → kind name, and the fields deliberately kept (``kept``) → "kept" (for the completeness test)."""
    return {**{f: k.name for f, k in kinds().items()}, **{f: "kept" for f in _config().get("kept", {})}}


@cache
def _field_kinds() -> dict[str, set[str]]:
    """Field name → the spec kinds it has in any table of any version (date fields are the references)."""
    out: dict[str, set[str]] = {}
    for v in load_spec().versions:
        for t in v.tables.values():
            for f in t.fields:
                out.setdefault(f.name, set()).add(f.kind)
    return out


@cache
def _is_searched_field(name: str) -> bool:
    """Text and code fields may repeat a personal value (a name in GHI_CHU, a patient number inside MA_LK)."""
    return bool({"string", "code"} & _field_kinds().get(name, set()))


@cache
def _list_rows() -> frozenset[str]:
    return frozenset(t.row for t in load_spec().latest.tables.values() if t.is_list)


# --- pseudonyms ---------------------------------------------------------------------------------------------------
_ASCII_LOWER = "abcdefghijklmnopqrstuvwxyz"
_VN_LOWER = "àáâãèéêìíòóôõùúýăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
_TOKEN = re.compile(r"[^\W\d_]+|\d+")


def _pool(size: int, wide: bool) -> str:
    """Lower-case letters of ``size`` UTF-8 bytes whose upper case has the same size (wide: any letter the
    document's encoding writes; otherwise ASCII only)."""
    if not wide:
        return _ASCII_LOWER
    return _POOLS.get(size) or _ASCII_LOWER


_POOLS = {n: "".join(c for c in _ASCII_LOWER + _VN_LOWER
                     if len(c.encode()) == n and len(c.upper()) == 1 and len(c.upper().encode()) == n)
          for n in (1, 2, 3)}


class Pseudonyms:
    """One pseudonym per original word / run of digits / date in a file, drawn from a random key."""

    def __init__(self, key: bytes | None = None) -> None:
        self._rng = random.Random(key if key is not None else secrets.token_bytes(32))
        self._words: dict[tuple[str, bool], str] = {}
        self._digits: dict[str, str] = {}
        self._used: set[Any] = set()  # pseudonyms given, and every original (a pseudonym never equals one)

    def forbid(self, value: str, kind: Kind) -> None:
        """No pseudonym may be a word or run of digits of ``value`` (another person's original), kept heads
        excepted: the pseudonym of another number with the same head would be this one."""
        parts = [item[len(self._head(item, kind)):] for item in value.split(";")] if kind.method == "number" \
            else [value]
        self._used.update(t.lower() for part in parts for t in _TOKEN.findall(part))

    @staticmethod
    def _head(item: str, kind: Kind) -> str:
        return item[:kind.keep] if kind.shape is not None and kind.shape.fullmatch(item) else ""

    def _fresh(self, original: Any, draw) -> Any:
        for _ in range(50):
            new = draw()
            if new != original and new not in self._used:
                break
        self._used.add(new)
        return new

    def digits(self, run: str) -> str:
        if run not in self._digits:
            self._digits[run] = self._fresh(run, lambda: "".join(self._rng.choice("0123456789") for _ in run))
        return self._digits[run]

    def word(self, word: str, wide: bool) -> str:
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in word)
        key = (low, wide)
        if key not in self._words:
            def draw() -> str:
                return "".join(self._rng.choice(_pool(len(c.encode()), wide)) if c.isalpha() else c for c in low)
            self._words[key] = self._fresh(low, draw)
        new = self._words[key]
        return "".join(n.upper() if o.isupper() else n for o, n in zip(word, new, strict=True))

    def text(self, value: str, wide: bool, keep_words: frozenset[str] | None = None) -> str:
        """Every word replaced (``keep_words`` excepted), and every run of digits unless ``keep_words`` is given
        (a name or address: "Con 2", "Số 22" say nothing once the name and the street are replaced); spaces,
        punctuation and marks kept."""
        def sub(m: re.Match[str]) -> str:
            tok = m.group()
            if tok.isdigit():
                return tok if keep_words is not None else self.digits(tok)
            if keep_words is not None and tok in keep_words:
                return tok
            return self.word(tok, wide)
        return _TOKEN.sub(sub, value)

    def number(self, value: str, kind: Kind, wide: bool) -> str:
        items = []
        for item in value.split(";"):
            head = self._head(item, kind)
            items.append(head + self.text(item[len(head):], wide))
        return ";".join(items)

    def shuffled(self, items: list[Any]) -> list[Any]:
        items = list(items)
        self._rng.shuffle(items)
        return items


# --- dates ----------------------------------------------------------------------------------------------------------
_DATE_TEXT = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{4})?")


def _moment(text: str) -> tuple[dt.datetime, bool] | None:
    """yyyyMMdd[HHmm] → (datetime, has time), None when partial or not a date."""
    moment = compact(text) if len(text) in (8, 12) else None
    return (moment, len(text) == 12) if moment is not None else None


def _whole_months(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month - (b.day < a.day)


def _signature(born: dt.datetime, ref: tuple[dt.datetime, bool], has_time: bool, months_below: int) -> tuple:
    """What a rule may decide comparing a birth (or issue) date with a date of the episode."""
    at, ref_time = ref
    exact = (at > born) - (at < born) if has_time and ref_time else None
    days = (at.date() - born.date()).days
    months = _whole_months(born.date(), at.date())
    return (exact, (days > 0) - (days < 0), (at - born).days <= defaults()["newborn_days"], months // 12,
            months if months < months_below else None)


def _date_candidates(value: str, pseudo: Pseudonyms) -> list[str]:
    """Other values of the same year and month, 00 kept as 00, a time of 0000 kept (shuffled; the original last)."""
    m = _DATE_TEXT.fullmatch(value)
    if m is None:  # the caller passes dates of the standard's form only: nothing else to choose from
        return [value]
    y, mo, d, t = m[1], m[2], m[3], m[4]
    if mo == "00" or d == "00":
        days = [d]  # an unknown month or day: nothing to choose but the year, which stays
    else:
        try:
            last = ((dt.date(int(y) + int(mo) // 12, int(mo) % 12 + 1, 1)) - dt.timedelta(days=1)).day
        except ValueError:
            return []
        days = [f"{i:02d}" for i in range(1, last + 1)]
    if t is None:
        times = [""]
    elif t == "0000":
        times = ["0000"]
    else:
        times = pseudo.shuffled([f"{h:02d}{mi:02d}" for h in range(24) for mi in range(0, 60, 1)])[:40] + [t]
    out = [y + mo + dd + tt for dd in pseudo.shuffled(days) for tt in times]
    return sorted(out, key=lambda c: c == value)


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
class _Slot:
    doc: _Doc
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


def _rewrite_body(body: str, new_value: str) -> str:
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
class _Child:
    start: int
    end: int
    body: str
    doc: _Doc
    escaped: bool  # raw XML written as escaped text instead of base64


@dataclass
class _Doc:
    text: str
    codec: str
    bom: bytes
    wide: bool
    slots: list[_Slot] = field(default_factory=list)
    children: list[_Child] = field(default_factory=list)
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


class _Reader:
    """Reads a file into documents, slots and the reference dates of each scope."""

    def __init__(self) -> None:
        self.refs: dict[tuple, list[tuple[str, tuple[dt.datetime, bool]]]] = {}  # scope → (field, moment)
        self.docs = 0

    def read(self, data: bytes, scope: tuple | None = None) -> _Doc:
        text, codec, bom = _decode(data)
        return self.read_text(text, codec, bom, scope)

    def read_text(self, text: str, codec: str, bom: bytes, scope: tuple | None) -> _Doc:
        body = text.lstrip()
        if not body.startswith("<"):
            raise AnonymizeError("không phải tệp XML")
        self.docs += 1
        doc = _Doc(text, codec, bom, codec.startswith("utf"))
        own = scope if scope is not None else (self.docs,)
        # the hồ sơ of an envelope, else the row of a list table, is the scope of its dates
        hosos = _spans(text, frozenset({"HOSO"}))
        rows = [] if scope is not None else _spans(text, _list_rows())
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
                doc.slots.append(_Slot(doc, b0, b1, name, personal[name], m["body"], where))
            else:
                moment = _moment(m["body"].strip())
                if moment:
                    self.refs.setdefault(where, []).append((name, moment))
                if _is_searched_field(name) and m["body"]:
                    doc.slots.append(_Slot(doc, b0, b1, name, None, m["body"], where))
        for name, n in opened.items():
            if found[name] != n:
                raise AnonymizeError(f"<{name}> không phải là một trường có giá trị đơn giản ({n - found[name]}"
                                     " lần): không thể bảo đảm đã thay hết")
        return doc

    def _child(self, b0: int, b1: int, body: str, scope: tuple) -> _Child | None:
        compact = "".join(body.split())
        if not compact:
            return None  # an empty NOIDUNGFILE holds nothing (validate says so)
        try:
            content = base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            content = None
        if content is None:
            raw = _body_value(body)
            if raw.lstrip().startswith("<"):  # XML written as text in NOIDUNGFILE
                return _Child(b0, b1, body, self.read_text(raw, "utf-8", b"", scope), True)
            raise AnonymizeError("NOIDUNGFILE không phải base64 cũng không phải XML: không thể bảo đảm đã thay hết")
        return _Child(b0, b1, body, self.read(content, scope), False)


# --- deciding and writing -------------------------------------------------------------------------------------------
class _Writer:
    def __init__(self, reader: _Reader, pseudo: Pseudonyms) -> None:
        self.reader = reader
        self.pseudo = pseudo
        self.counts: Counter = Counter()
        self.originals: dict[str, str] = {}  # full personal value → its pseudonym (other fields and the check)
        self.dates: dict[str, str] = {}
        self.new: dict[int, str] = {}  # id(slot) → its new value
        self.finder: _Finder | None = None

    def decide(self, docs: list[_Doc]) -> None:
        """Every personal slot's new value, before any other field is searched for the originals."""
        self._decide_dates(docs)
        for d in docs:
            for s in d.slots:
                if s.kind is not None and s.kind.method != "date":
                    self.pseudo.forbid(s.value, s.kind)
        for d in docs:
            for s in d.slots:
                if s.kind is not None:
                    self.new[id(s)] = self._replace(s)
        for d in docs:
            for s in d.slots:
                if s.kind is None:
                    self.new[id(s)] = self._other_field(s)

    def _decide_dates(self, docs: list[_Doc]) -> None:
        """Each distinct value of a personal date field: a value keeping every comparison in its scopes."""
        uses: dict[str, list[tuple[tuple, Kind]]] = {}
        for d in docs:
            for s in d.slots:
                if s.kind is not None and s.kind.method == "date":
                    uses.setdefault(s.value.strip(), []).append((s.scope, s.kind))
        for value, where in uses.items():
            original = _moment(value)
            if not _DATE_TEXT.fullmatch(value):
                continue
            refs = [(r, k.age_in_months_below) for sc, k in dict.fromkeys(where)
                    for name, r in self.reader.refs.get(sc, []) if name in k.compare_with]
            chosen = value
            for cand in _date_candidates(value, self.pseudo):
                new = _moment(cand)
                if original is None or new is None or all(
                        _signature(new[0], r, new[1], below) == _signature(original[0], r, original[1], below)
                        for r, below in refs):
                    chosen = cand
                    break
            self.dates[value] = chosen

    def _replace(self, slot: _Slot) -> str:
        kind, value = slot.kind, slot.value
        if kind is None or not value.strip():  # only personal slots (a kind) are replaced
            return value
        if kind.method == "date":
            stripped = value.strip()
            new = self.dates.get(stripped) or self.pseudo.number(stripped, kind, slot.doc.wide)
            if new == stripped:
                self.counts[KEPT_DATES] += 1
            new = value.replace(stripped, new, 1)
        elif kind.method == "name":
            new = self.pseudo.text(value, slot.doc.wide, kind.keep_words)
        else:
            new = self.pseudo.number(value, kind, slot.doc.wide)
        if new != value:
            self.counts[kind.label] += 1
            # dates are not searched for elsewhere: a newborn's birth day begins NGAY_VAO
            if kind.method != "date" and len(value.strip()) >= 6:
                self.originals[value.strip()] = new.strip()
        return new

    def _other_field(self, slot: _Slot) -> str:
        if self.finder is None:
            self.finder = _Finder(self.originals)
        out, at = [], 0
        for start, old in self.finder.find(slot.value):
            out += [slot.value[at:start], self.originals[old]]
            at = start + len(old)
            self.counts[OTHER_FIELDS] += 1
        return "".join(out) + slot.value[at:]

    def render(self, doc: _Doc) -> str:
        edits = [(s.start, s.end, _rewrite_body(s.body, self.new[id(s)]))
                 for s in doc.slots if self.new[id(s)] != s.value]
        edits += [(c.start, c.end, self._child(c)) for c in doc.children]
        edits += [(start, end, "") for start, end in doc.signatures]
        if doc.signatures:
            self.counts[SIGNATURES] += len(doc.signatures)
        pieces, at = [], 0
        for start, end, new in sorted(edits):
            pieces += [doc.text[at:start], new]
            at = end
        pieces.append(doc.text[at:])
        return "".join(pieces)

    def encode(self, doc: _Doc, text: str) -> bytes:
        return doc.bom + text.encode(doc.codec, "surrogateescape" if doc.codec == "utf-8" else "strict")

    def _child(self, c: _Child) -> str:
        inner = self.render(c.doc)
        if c.escaped:  # every change keeps the length: the escaping is kept where nothing changed
            return _rewrite_body(c.body, inner)
        return _relayout(c.body, base64.b64encode(self.encode(c.doc, inner)).decode("ascii"))


class _Finder:
    """Finds whole personal values in a text, starting at a word or digit boundary (one pass over the text's
    tokens, whatever the number of values)."""

    def __init__(self, values) -> None:
        self.by_first: dict[str, list[str]] = {}
        for v in sorted(values, key=len, reverse=True):
            first = _TOKEN.search(v)
            if first is not None and first.start() == 0:
                self.by_first.setdefault(first.group(), []).append(v)

    def find(self, text: str):
        """(position, value) of each value found, left to right, longest first, not overlapping."""
        at = 0
        for m in _TOKEN.finditer(text):
            if m.start() < at:
                continue
            for v in self.by_first.get(m.group(), ()):
                if text.startswith(v, m.start()):
                    yield m.start(), v
                    at = m.start() + len(v)
                    break


def _relayout(body: str, new: str) -> str:
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


def _all_docs(doc: _Doc) -> list[_Doc]:
    out = [doc]
    for c in doc.children:
        out.extend(_all_docs(c.doc))
    return out


def _texts(data: bytes) -> list[str]:
    """The file's text and the text of every NOIDUNGFILE in it, decoded (for the final check)."""
    try:
        doc = _Reader().read(data)
    except AnonymizeError:
        return [data.decode("utf-8", "replace")]

    def walk(d: _Doc) -> list[str]:
        return [d.text, *(t for c in d.children for t in walk(c.doc))]
    return walk(doc)


def anonymize_bytes(data: bytes, *, key: bytes | None = None) -> Result:
    """The file with every personal value replaced, and how many of each kind (raises AnonymizeError)."""
    reader = _Reader()
    top = reader.read(data)
    docs = _all_docs(top)
    writer = _Writer(reader, Pseudonyms(key))
    writer.decide(docs)
    out = writer.encode(top, writer.render(top))
    finder = _Finder(writer.originals)
    left = {v for t in _texts(out) for _, v in finder.find(t)}
    if left:
        raise AnonymizeError(f"{len(left)} giá trị cá nhân còn lại ngoài các trường đã biết (chú thích, trường mã):"
                             " không ghi tệp")
    return Result(out, writer.counts)
