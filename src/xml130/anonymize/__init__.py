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
from collections import Counter
from dataclasses import dataclass, field

from .document import AnonymizeError, Child, Doc, Finder, Reader, Slot, all_docs, relayout, rewrite_body, texts
from .fields import Kind, kinds, personal_fields
from .pseudonyms import DATE_TEXT, Pseudonyms, date_candidates, moment, signature

__all__ = ["AnonymizeError", "Result", "anonymize_bytes", "kinds", "personal_fields"]

OTHER_FIELDS = "trong trường khác"  # full personal values found again in other text and code fields
SIGNATURES = "chữ ký số đã bỏ"  # CHUKYDONVI emptied (the element stays)
KEPT_DATES = "ngày giữ nguyên"  # dates no other day of their month keeps with the same findings


@dataclass
class Result:
    data: bytes
    counts: Counter = field(default_factory=Counter)  # kind label → values replaced


# --- deciding and writing -------------------------------------------------------------------------------------------
class _Writer:
    def __init__(self, reader: Reader, pseudo: Pseudonyms) -> None:
        self.reader = reader
        self.pseudo = pseudo
        self.counts: Counter = Counter()
        self.originals: dict[str, str] = {}  # full personal value → its pseudonym (other fields and the check)
        self.dates: dict[str, str] = {}
        self.new: dict[int, str] = {}  # id(slot) → its new value
        self.finder: Finder | None = None

    def decide(self, docs: list[Doc]) -> None:
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

    def _decide_dates(self, docs: list[Doc]) -> None:
        """Each distinct value of a personal date field: a value keeping every comparison in its scopes."""
        uses: dict[str, list[tuple[tuple, Kind]]] = {}
        for d in docs:
            for s in d.slots:
                if s.kind is not None and s.kind.method == "date":
                    uses.setdefault(s.value.strip(), []).append((s.scope, s.kind))
        for value, where in uses.items():
            original = moment(value)
            if not DATE_TEXT.fullmatch(value):
                continue
            refs = [(r, k.age_in_months_below) for sc, k in dict.fromkeys(where)
                    for name, r in self.reader.refs.get(sc, []) if name in k.compare_with]
            chosen = value
            for cand in date_candidates(value, self.pseudo):
                new = moment(cand)
                if original is None or new is None or all(
                        signature(new[0], r, new[1], below) == signature(original[0], r, original[1], below)
                        for r, below in refs):
                    chosen = cand
                    break
            self.dates[value] = chosen

    def _replace(self, slot: Slot) -> str:
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

    def _other_field(self, slot: Slot) -> str:
        if self.finder is None:
            self.finder = Finder(self.originals)
        out, at = [], 0
        for start, old in self.finder.find(slot.value):
            out += [slot.value[at:start], self.originals[old]]
            at = start + len(old)
            self.counts[OTHER_FIELDS] += 1
        return "".join(out) + slot.value[at:]

    def render(self, doc: Doc) -> str:
        edits = [(s.start, s.end, rewrite_body(s.body, self.new[id(s)]))
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

    def encode(self, doc: Doc, text: str) -> bytes:
        return doc.bom + text.encode(doc.codec, "surrogateescape" if doc.codec == "utf-8" else "strict")

    def _child(self, c: Child) -> str:
        inner = self.render(c.doc)
        if c.escaped:  # the escaping is kept where nothing changed (every change but a signature keeps the length)
            if len(inner) == len(c.doc.text):
                return rewrite_body(c.body, inner)
            return inner.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = base64.b64encode(self.encode(c.doc, inner)).decode("ascii")
        return relayout(c.body, text.rstrip("=") if c.unpadded else text)


def anonymize_bytes(data: bytes, *, key: bytes | None = None) -> Result:
    """The file with every personal value replaced, and how many of each kind (raises AnonymizeError)."""
    reader = Reader()
    top = reader.read(data)
    docs = all_docs(top)
    writer = _Writer(reader, Pseudonyms(key))
    writer.decide(docs)
    out = writer.encode(top, writer.render(top))
    finder = Finder(writer.originals)
    left = {v for t in texts(out) for _, v in finder.find(t)}
    if left:
        raise AnonymizeError(f"{len(left)} giá trị cá nhân còn lại ngoài các trường đã biết (chú thích, trường mã):"
                             " không ghi tệp")
    return Result(out, writer.counts)
