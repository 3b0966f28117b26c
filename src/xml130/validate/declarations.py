"""What a file declares beside its content, each said once for a hồ sơ or a document: namespace URIs libxml2
refuses, an encoding declared wrongly or other than UTF-8, tables of the standard before QĐ 130, a file that is
not XML at all."""

from __future__ import annotations

from lxml import etree

from .. import findings as fnd
from ..findings import Finding
from .document import _DocCheck


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

