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

Modules by concern: :mod:`.document` (one table document: XSDs, the fast and detailed paths), :mod:`.declarations`
(namespace, encoding, legacy standard, not XML), :mod:`.envelope` (envelopes and hồ sơ, whole or streamed); this
one is the public face.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .. import findings as fnd
from ..errors import Xml130Error
from ..findings import Finding
from ..parse import ENVELOPE_ROOT, ParseError, parse_xml, table_for_root, version_hint
from ..spec import SpecVersion, load_spec
from ..spec.xsd import ENVELOPE_NAME
from .declarations import _encoding_warning, _legacy, _mislabelled, _namespace_warning, _not_utf8, _not_xml
from .document import _DocCheck, _lxml_schema  # noqa: F401 (_lxml_schema: the XSD cache tests and benches use)
from .envelope import _HOSO_PATH, _validate_envelope, _validate_hoso, _validate_stream

if TYPE_CHECKING:
    from ..store.catalog import Catalog

__all__ = ["validate_bytes", "validate_path", "iter_files", "FileUnreadable"]


class FileUnreadable(Xml130Error, OSError):
    """The input cannot be read at all (missing path, permission): the CLI exits 2."""



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
        from ..models import Hoso
        from ..rules import run_rules

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
