"""The invalid fixtures (``fixtures/invalid``): text edits of one table of a valid scenario (:mod:`.scenarios`),
each with the findings it must cause."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from ..models import build_hoso
from ..render import render_envelope, render_hoso_tables
from .scenarios import NGAYLAP, VALID


@dataclass(frozen=True)
class Broken:
    """An invalid fixture: text replacements in one table of a valid hồ sơ, and the findings they must cause."""

    base: str  # a VALID scenario
    table: str
    edits: tuple[tuple[str, str], ...]  # (regex, replacement), each applied once; empty for the base64 case
    expected: tuple[dict, ...]  # code, table, field, row (ma_lk is the base hồ sơ's)


INVALID: dict[str, Broken] = {
    "over_length_name": Broken(
        "outpatient_drugs_labs", "XML1", ((r"<HO_TEN>[^<]*<", "<HO_TEN>" + "Nguyễn Thị Ánh Dương" * 13 + "<"),),
        ({"code": "FIELD.TOO_LONG", "table": "XML1", "field": "HO_TEN", "row": 1},)),
    "bad_date": Broken(
        "outpatient_drugs_labs", "XML2", (("<NGAY_YL>20261102", "<NGAY_YL>20261131"),),
        ({"code": "FIELD.DATE", "table": "XML2", "field": "NGAY_YL", "row": 1},)),
    "lost_leading_zero": Broken(
        "outpatient_drugs_labs", "XML1", (("<MA_LOAI_KCB>01<", "<MA_LOAI_KCB>1<"),),
        ({"code": "FIELD.FORMAT", "table": "XML1", "field": "MA_LOAI_KCB", "row": 1},)),
    "non_numeric_amount": Broken(
        "inpatient_surgery_beds", "XML3", ((r"<THANH_TIEN_BV>[^<]*<", "<THANH_TIEN_BV>1.234,5x<"),),
        ({"code": "FIELD.FORMAT", "table": "XML3", "field": "THANH_TIEN_BV", "row": 1},)),
    "unknown_element": Broken(
        "outpatient_drugs_labs", "XML3", (("<PHAM_VI>", "<GHI_CHU_RIENG>x</GHI_CHU_RIENG><PHAM_VI>"),),
        ({"code": "ELEMENT.UNKNOWN", "table": "XML3", "field": "GHI_CHU_RIENG", "row": 1},)),
    "repeated_element": Broken(  # (a field out of order alone is the warning ELEMENT.OUT_OF_ORDER: fixtures/quirks)
        "outpatient_drugs_labs", "XML1", ((r"(<HO_TEN>[^<]*</HO_TEN>)", r"\1\1"),),
        ({"code": "ELEMENT.ORDER", "table": "XML1", "field": "HO_TEN", "row": 1},)),
    "missing_required": Broken(
        "referral", "XML1", (("<MA_BN>", "<MA_BN_X>"), ("</MA_BN>", "</MA_BN_X>")),
        ({"code": "ELEMENT.UNKNOWN", "table": "XML1", "field": "MA_BN_X", "row": 1},
         {"code": "FIELD.REQUIRED", "table": "XML1", "field": "MA_BN", "row": 1})),
    "broken_base64": Broken(
        "outpatient_drugs_labs", "XML4", (),
        ({"code": "ENVELOPE.BASE64", "table": "XML4", "field": "NOIDUNGFILE", "row": None},)),
}


def mutate(spec: Broken) -> bytes:
    hoso = build_hoso(VALID[spec.base]())
    macskcb = hoso.summary.MA_CSKCB  # type: ignore[attr-defined]
    files = render_hoso_tables(hoso)
    if not spec.edits:  # corrupt the base64 of the table instead of its XML
        env = render_envelope(macskcb, NGAYLAP, [files])
        encoded = base64.b64encode(dict(files)[spec.table])
        return env.replace(encoded, encoded[:40] + b"*?" + encoded[42:])
    out = []
    for loai, xml in files:
        if loai == spec.table:
            text = xml.decode("utf-8")
            for old, new in spec.edits:
                text, hits = re.subn(old, new, text, count=1)
                if not hits:
                    raise ValueError(f"{spec.base}/{loai}: {old!r} not found")
            xml = text.encode("utf-8")
        out.append((loai, xml))
    return render_envelope(macskcb, NGAYLAP, [out])


def invalid_files() -> dict[str, tuple[bytes, list[dict]]]:
    """File name → (bytes, expected findings with ma_lk filled in)."""
    out = {}
    for name, spec in INVALID.items():
        ma_lk = build_hoso(VALID[spec.base]()).ma_lk
        expected = [{**e, "ma_lk": ma_lk} for e in spec.expected]
        out[f"{name}.xml"] = (mutate(spec), expected)
    return out
