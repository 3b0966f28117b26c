"""Files in the shapes real hospitals' HIS write (issue 24), each with the exact findings the standard's text gives:
``fixtures/quirks/NAME.xml`` and ``NAME.expected.json``. Synthetic ("shapes, not people"): a valid scenario of
:mod:`.scenarios`, rendered, then edited as text the way the HIS wrote it. Findings may be warnings (what the portal
accepts, shown to QA) or errors (what the text refuses); each list is written by hand here, never recorded from the
validator's output. ``xml130 fixtures`` writes them with the other fixtures.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..models import build_hoso, build_rows
from ..render import render_checkin, render_envelope, render_hoso_tables, render_table
from ..spec import load_spec
from . import scenarios as sc
from . import shapes
from .invalid import Broken, mutate


@dataclass(frozen=True)
class Quirk:
    """A file: the bytes (a function, so that nothing renders at import) and the findings QA must see."""

    make: Callable[[], bytes]
    expected: tuple[dict, ...]  # code, severity, table, field, row, ma_lk
    why: str  # the class of issue 24 and the clause that decides it


def _hoso(base: str, table: str, *edits: tuple[str, str]) -> Callable[[], bytes]:
    return lambda: mutate(Broken(base, table, edits, ()))


def _edit(text: str, edits: tuple[tuple[str, str], ...]) -> bytes:
    for old, new in edits:
        text, hits = re.subn(old, new, text, count=1)
        if not hits:
            raise ValueError(f"{old!r} not found")
    return text.encode("utf-8")


def _checkin(*edits: tuple[str, str]) -> Callable[[], bytes]:
    def make() -> bytes:
        latest = load_spec().latest
        return _edit(render_checkin(latest, build_rows(latest, "XML0", sc.checkin_rows())).decode("utf-8"), edits)
    return make


def _xml12(*edits: tuple[str, str]) -> Callable[[], bytes]:
    def make() -> bytes:
        latest = load_spec().latest
        return _edit(render_table(latest["XML12"], build_rows(latest, "XML12", [sc.xml12_row()])).decode("utf-8"), edits)
    return make


# What a .NET HIS writes on each table (XmlSerializer's declarations, with the space some vendors' templates carry).
BAD_NAMESPACES = ' xmlns:xsi="http://www.w3.org/2001/XMLSchema instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"'


def _envelope(base: str, edits: dict[str, tuple[tuple[str, str], ...]], *, namespaces: bool = False,
              raw: tuple[str, ...] = (), table: Callable[[bytes], bytes] | None = None,
              outer: Callable[[bytes], bytes] | None = None) -> Callable[[], bytes]:
    """A hồ sơ of ``base`` with edits in several tables; ``namespaces``: BAD_NAMESPACES on every table's root;
    ``raw``: tables whose XML (without its declaration) stands in NOIDUNGFILE where its base64 should be;
    ``table`` / ``outer``: the bytes of each table / of the envelope as another program writes them."""
    def make() -> bytes:
        hoso = build_hoso(sc.VALID[base]())
        files = []
        for loai, xml in render_hoso_tables(hoso):
            text = xml.decode("utf-8")
            if namespaces:
                text = re.sub(r"(\?>\s*<[A-Z_0-9]+)", lambda m: m.group(1) + BAD_NAMESPACES, text, count=1)
            data = _edit(text, edits.get(loai, ()))
            files.append((loai, table(data) if table else data))
        env = render_envelope(hoso.summary.MA_CSKCB, sc.NGAYLAP, [files])  # type: ignore[attr-defined]
        for loai, xml in files:
            if loai in raw:
                env = env.replace(base64.b64encode(xml), xml.split(b"?>", 1)[1].strip())
        return outer(env) if outer else env
    return make


def _bare(base: str, table: str, *edits: tuple[str, str], shape: Callable[[bytes], bytes]) -> Callable[[], bytes]:
    """One table of ``base`` as a document of its own, edited, then written as ``shape`` writes it."""
    def make() -> bytes:
        hoso = build_hoso(sc.VALID[base]())
        return shape(_edit(render_table(hoso.version[table], hoso.tables[table]).decode("utf-8"), edits))
    return make


def _f(code: str, severity: str, table: str | None, field: str | None, row: int | None, ma_lk: str | None) -> dict:
    return {"code": code, "severity": severity, "table": table, "field": field, "row": row, "ma_lk": ma_lk}


OP, OP24, NB = "79999OP0001", "79999OP0012", "79999NB0004"  # MA_LK of the base scenarios
_NS_WARNING = _f("XML.NAMESPACE_URI", "warning", "XML1", None, None, OP)
_DISTRICT = (r"<MAHUYEN_CU_TRU>\d+</MAHUYEN_CU_TRU>", "<MAHUYEN_CU_TRU></MAHUYEN_CU_TRU>")

_OLDER_TAGS = {  # tags of QĐ 4210 in a hồ sơ (spec/data/legacy.toml)
    "XML1": (("MA_THE_BHYT>", "MA_THE>"), ("MA_THE_BHYT>", "MA_THE>"), ("CHAN_DOAN_RV>", "TEN_BENH>"),
             ("CHAN_DOAN_RV>", "TEN_BENH>"), ("MA_BENH_CHINH>", "MA_BENH>"), ("MA_BENH_CHINH>", "MA_BENH>")),
    "XML2": ((r"<TYLE_TT_BH>(\d+)</TYLE_TT_BH>", r"<TYLE_TT>\1</TYLE_TT>"),
             (r"<THANH_TIEN_BV>([^<]*)</THANH_TIEN_BV>", r"<THANH_TIEN>\1</THANH_TIEN>"))}


QUIRKS: dict[str, Quirk] = {
    # 2. a ';'-list in XML3 MA_BENH (100 characters: the ICD-10 codes a service was ordered for)
    "xml3_ma_benh_list": Quirk(
        _hoso("outpatient_drugs_labs", "XML3", ("<MA_BENH>J02.9</MA_BENH>", "<MA_BENH>J30.3;K21.9;K30</MA_BENH>")),
        (), "XML3 MA_BENH holds several ICD-10 codes ';'-separated (list audit, docs/conformance.md)"),
    # 3. the district level abolished on 01/07/2025: MAHUYEN_CU_TRU empty, decided by the episode's date
    "district_empty_2026": Quirk(
        _hoso("outpatient_drugs_labs", "XML1", _DISTRICT), (),
        "MAHUYEN_CU_TRU empty in an episode of 11/2026: optional from 01/07/2025 (spec version dvhc2025)"),
    "district_empty_2024": Quirk(
        _hoso("outpatient_2024", "XML1", _DISTRICT),
        (_f("FIELD.REQUIRED", "error", "XML1", "MAHUYEN_CU_TRU", 1, OP24),),
        "MAHUYEN_CU_TRU empty in an episode of 06/2024: the district still existed, the field is required"),
    # 4. ICD-10 codes written with the dual classification's marks, and TT 06/2026/TT-BYT by the episode's date
    "icd_marks": Quirk(
        _hoso("outpatient_drugs_labs", "XML1", ("<MA_BENH_KT>K21.9;E11.9</MA_BENH_KT>",
                                                "<MA_BENH_KT>K21.9;M51.1†;G55.1*</MA_BENH_KT>")),
        (_f("R.ICD.MARK", "warning", "XML1", "MA_BENH_KT", 1, OP),
         _f("R.ICD.MARK", "warning", "XML1", "MA_BENH_KT", 1, OP)),
        "a dagger and an asterisk code as QĐ 4469 prints them: accepted, each mark warned"),
    "icd_asterisk_main_2024": Quirk(
        _hoso("outpatient_2024", "XML1", (r"<MA_BENH_CHINH>[^<]*</MA_BENH_CHINH>", "<MA_BENH_CHINH>G55.2*</MA_BENH_CHINH>")),
        (_f("R.ICD.MARK", "warning", "XML1", "MA_BENH_CHINH", 1, OP24),
         _f("R.ICD.ASTERISK_MAIN", "warning", "XML1", "MA_BENH_CHINH", 1, OP24)),
        "an asterisk code as the main disease before TT 06/2026: a warning"),
    "icd_asterisk_main_2026": Quirk(
        _hoso("outpatient_drugs_labs", "XML1", (r"<MA_BENH_CHINH>[^<]*</MA_BENH_CHINH>",
                                                "<MA_BENH_CHINH>G55.2*</MA_BENH_CHINH>")),
        (_f("R.ICD.MARK", "warning", "XML1", "MA_BENH_CHINH", 1, OP),
         _f("R.ICD.ASTERISK_MAIN_TT06", "error", "XML1", "MA_BENH_CHINH", 1, OP)),
        "an asterisk code as the main disease from 01/07/2026: TT 06/2026 column 24 refuses it"),
    "icd_replaced_2024": Quirk(
        _hoso("outpatient_2024", "XML1", (r"<MA_BENH_KT>[^<]*</MA_BENH_KT>", "<MA_BENH_KT>Q87.11</MA_BENH_KT>")),
        (), "Q87.11 in an episode of 06/2024: a code of QĐ 4469"),
    "icd_replaced_2026": Quirk(
        _hoso("outpatient_drugs_labs", "XML1", (r"<MA_BENH_KT>[^<]*</MA_BENH_KT>", "<MA_BENH_KT>Q87.11</MA_BENH_KT>")),
        (_f("R.ICD.REPLACED_TT06", "error", "XML1", "MA_BENH_KT", 1, OP),),
        "Q87.11 in an episode of 11/2026: TT 06/2026 replaced it by Q87.1"),
    # 1. a namespace URI libxml2 refuses and the portal's parser (.NET) reads, on every table: one warning, then
    # every check — a value error …
    "namespace_uri_space_value_error": Quirk(
        _envelope("outpatient_drugs_labs", {"XML2": (("<NGAY_YL>20261102", "<NGAY_YL>20261131"),)}, namespaces=True),
        (_NS_WARNING, _f("FIELD.DATE", "error", "XML2", "NGAY_YL", 1, OP)),
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema instance\" (a space) on each table: accepted with a warning"),
    # … and a business rule, which only a structurally valid hồ sơ reaches
    "namespace_uri_space_rule": Quirk(
        _envelope("outpatient_drugs_labs", {"XML2": (("<DON_GIA>1200.000<", "<DON_GIA>1300.000<"),)}, namespaces=True),
        (_NS_WARNING, _f("R.AMOUNT.XML2", "error", "XML2", "THANH_TIEN_BV", 1, OP)),
        "the same declarations: the business rules still run"),
    # 5. a file of QĐ 4210 (card as MA_THE, diagnosis as TEN_BENH / MA_BENH, amounts as THANH_TIEN …)
    "older_standard_4210": Quirk(
        _envelope("outpatient_drugs_labs", _OLDER_TAGS),
        (_f("XML.LEGACY_STANDARD", "error", "XML1", "MA_BENH", None, OP),),
        "tags of QĐ 4210 (spec/data/legacy.toml): one finding for the hồ sơ, not one per unknown element"),
    "older_standard_4210_layout": Quirk(
        _envelope("outpatient_drugs_labs", _OLDER_TAGS, table=shapes.unwrapped),
        (_f("XML.LEGACY_STANDARD", "error", "XML1", "MA_BENH", None, OP),),
        "the same hồ sơ with QĐ 4210's list roots (DSACH_… without CHITIEU_…, as a VB.NET DataSet exporter wrote "
        "them): still one finding, not one ENVELOPE.TABLE_MISMATCH per table"),
    "list_without_wrapper": Quirk(
        _envelope("outpatient_drugs_labs", {"XML2": (("<NGAY_YL>20261102", "<NGAY_YL>20261131"),)}, table=shapes.unwrapped),
        (_f("FIELD.DATE", "error", "XML2", "NGAY_YL", 1, OP),
         _f("ENVELOPE.TABLE_MISMATCH", "error", "XML2", "NOIDUNGFILE", None, OP),
         _f("ENVELOPE.TABLE_MISMATCH", "error", "XML3", "NOIDUNGFILE", None, OP),
         _f("ENVELOPE.TABLE_MISMATCH", "error", "XML4", "NOIDUNGFILE", None, OP)),
        "QĐ 130 lists without their CHITIEU_ wrapper: each said, and their rows still checked inside it"),
    "noidungfile_raw_xml": Quirk(
        _envelope("outpatient_drugs_labs", {}, raw=("XML4",)),
        (_f("ENVELOPE.RAW_XML", "error", "XML4", "NOIDUNGFILE", None, OP),),
        "NOIDUNGFILE holding the table's XML instead of its base64: said, and the content still checked"),
    "not_xml": Quirk(
        lambda: json.dumps({"MA_LK": OP, "HO_TEN": "Nguyễn Văn A"}, ensure_ascii=False).encode("utf-8"),
        (_f("FILE.NOT_XML", "error", None, None, None, None),),
        "JSON named .xml: not XML at all, one finding and validate exits 2 (README)"),
    # 6. a passport number in XML15 SO_CCCD («số CCCD hoặc số hộ chiếu»): valid (it crashed validate)
    "passport_in_xml15": Quirk(
        _envelope("tb_treatment", {"XML15": ((r"<SO_CCCD>[^<]*</SO_CCCD>", "<SO_CCCD>C1234567</SO_CCCD>"),)}),
        (), "XML15 SO_CCCD is a code (letters, leading zeros) as in XML1"),
    # 7. the last classes of the audit of the text
    "checkin_first_cost_drug": Quirk(
        _checkin(("<MA_DICH_VU>K01.1918</MA_DICH_VU><TEN_DICH_VU>Giường Nội khoa loại 1</TEN_DICH_VU>"
                  "<MA_THUOC/><TEN_THUOC/>",
                  "<MA_DICH_VU/><TEN_DICH_VU/><MA_THUOC>40.17</MA_THUOC><TEN_THUOC>Oxy</TEN_THUOC>")),
        (), "a ward admission whose first cost is a drug: MA_THUOC/TEN_THUOC instead of MA_DICH_VU/TEN_DICH_VU (4750)"),
    "checkin_no_first_cost": Quirk(
        _checkin(("<MA_DICH_VU>K01.1918</MA_DICH_VU><TEN_DICH_VU>Giường Nội khoa loại 1</TEN_DICH_VU>",
                  "<MA_DICH_VU/><TEN_DICH_VU>Giường Nội khoa loại 1</TEN_DICH_VU>")),
        (_f("R.CHECKIN.FIRST_COST", "error", "XML0", "MA_DICH_VU", 2, "79999CI0002"),),
        "a first cost named without its code"),
    "xml12_without_optional": Quirk(
        _xml12((r"<DANG_HUONG_CHE_DO>[^<]*</DANG_HUONG_CHE_DO>", "<DANG_HUONG_CHE_DO/>"),
               (r"<TONG_TYLE_TTCT>[^<]*</TONG_TYLE_TTCT>", "<TONG_TYLE_TTCT/>")),
        (), "XML12 DANG_HUONG_CHE_DO («để trống nếu không thuộc…») and TONG_TYLE_TTCT («(nếu có)») left empty"),
    # Shapes other software writes (public generators and vendors' notes; docs/conformance.md)
    "dotnet_xmlserializer": Quirk(
        _envelope("outpatient_drugs_labs", {}, table=shapes.xmlserializer, outer=shapes.template_envelope),
        (), ".NET XmlSerializer tables (BOM, indented CRLF, xsd/xsi declarations, CDATA, null fields left out) "
            "in the portal's template envelope: what the standard asks, read as it stands"),
    "dotnet_utf16_declaration": Quirk(
        _envelope("outpatient_drugs_labs", {"XML2": (("<DON_GIA>1200.000<", "<DON_GIA>1300.000<"),)},
                  table=shapes.stringbuilder),
        (_f("XML.ENCODING_DECLARED", "error", "XML1", None, None, OP),
         _f("R.AMOUNT.XML2", "error", "XML2", "THANH_TIEN_BV", 1, OP)),
        "UTF-8 tables declared encoding=\"utf-16\" (XmlWriter over a StringBuilder): one error for the hồ sơ, "
        "its content still read and every check run"),
    "dataset_writexml": Quirk(
        _envelope("outpatient_drugs_labs", {}, table=shapes.dataset, outer=shapes.mime_base64),
        (), "DataSet.WriteXml tables (standalone=\"yes\", indented, DBNull columns left out), base64 in 76-character "
            "lines"),
    "sql_money_four_decimals": Quirk(
        _envelope("outpatient_drugs_labs", {}, table=shapes.sql_money),
        (), "amounts with four decimals ending in zeros (SQL money): the amount the text asks, rounded to 2 (3)"),
    "sql_money_not_rounded": Quirk(
        _envelope("outpatient_drugs_labs", {"XML2": ((r"<DON_GIA>1200\.000</", "<DON_GIA>1200.0004</"),)}),
        (_f("FIELD.FORMAT", "error", "XML2", "DON_GIA", 1, OP),),
        "a price not rounded to 3 decimals (a fourth digit that is not 0): refused"),
    "int_typed_model": Quirk(
        _envelope("outpatient_drugs_labs", {"XML1": ((r"<SO_CCCD>0(\d+)</", r"<SO_CCCD>\1</"),
                                                     (r"<DIEN_THOAI>0(\d+)</", r"<DIEN_THOAI>\1</"))},
                  table=shapes.whole_amounts),
        (_f("R.CCCD.ZERO.XML1", "warning", "XML1", "SO_CCCD", 1, OP),),
        "a model typing money and identity numbers as int: whole amounts are valid; the CCCD lost its leading 0"),
    "java_double_amounts": Quirk(
        _bare("outpatient_drugs_labs", "XML2", ("<SO_LUONG>2<", "<SO_LUONG>1<"), ("<DON_GIA>1200.000<", "<DON_GIA>12500000.000<"),
              ("<THANH_TIEN_BV>2400.00<", "<THANH_TIEN_BV>12500000.00<"),
              ("<THANH_TIEN_BH>2400.00<", "<THANH_TIEN_BH>12500000.00<"),
              ("<T_BNCCT>480.00<", "<T_BNCCT>2500000.00<"), ("<T_BHTT>1920.00<", "<T_BHTT>10000000.00<"),
              shape=shapes.java_double),
        tuple(_f("FIELD.FORMAT", "error", "XML2", name, 1, OP)
              for name in ("DON_GIA", "THANH_TIEN_BV", "THANH_TIEN_BH", "T_BHTT")),
        "a drug table of a Java model with double amounts: 2400.0 is valid; 1.25E7 (ten million and more) is not a "
        "decimal with a point as the text asks"),
    "weight_placeholder": Quirk(
        _hoso("outpatient_drugs_labs", "XML1", (r"<CAN_NANG>[^<]*</CAN_NANG>", "<CAN_NANG>0.01</CAN_NANG>")),
        (_f("R.WEIGHT.BOUNDS", "warning", "XML1", "CAN_NANG", 1, OP),),
        "CAN_NANG 0.01 written when the weight was not taken (a vendor's default): a warning QA sees"),
    "hoso_without_envelope": Quirk(
        _envelope("outpatient_drugs_labs", {"XML2": (("<DON_GIA>1200.000<", "<DON_GIA>1300.000<"),)},
                  outer=shapes.without_envelope),
        (_f("XML.ROOT", "error", None, None, None, None), _f("R.AMOUNT.XML2", "error", "XML2", "THANH_TIEN_BV", 1, OP)),
        "a HOSO without its GIAMDINHHS envelope: not a file the portal takes, and the hồ sơ inside still checked"),
    "base64_without_padding": Quirk(
        _envelope("outpatient_drugs_labs", {}, outer=shapes.unpadded("XML2")),
        (_f("ENVELOPE.BASE64", "error", "XML2", "NOIDUNGFILE", None, OP),),
        "NOIDUNGFILE base64 without its '=' padding: .NET's Convert.FromBase64String refuses it"),
    "amounts_out_of_order": Quirk(
        _envelope("outpatient_drugs_labs", {
            "XML2": (("<DON_GIA>1200.000<", "<DON_GIA>1300.000<"),) + (
                (r"(<T_BNTT>[^<]*</T_BNTT>)(<T_BNCCT>[^<]*</T_BNCCT>)(<T_BHTT>[^<]*</T_BHTT>)<MA_KHOA>",
                 r"\3\2\1<MA_KHOA>"),) * 5,
            "XML3": ((r"(<T_BNTT>[^<]*</T_BNTT>)(<T_BNCCT>[^<]*</T_BNCCT>)(<T_BHTT>[^<]*</T_BHTT>)<MA_KHOA>",
                      r"\3\1\2<MA_KHOA>"),)}),
        (_f("ELEMENT.OUT_OF_ORDER", "warning", "XML2", "T_BHTT", 1, OP),
         _f("ELEMENT.OUT_OF_ORDER", "warning", "XML3", "T_BHTT", 1, OP),
         _f("R.AMOUNT.XML2", "error", "XML2", "THANH_TIEN_BV", 1, OP)),
        "XML2 amounts as T_BHTT, T_BNCCT, T_BNTT and XML3's as T_BHTT, T_BNTT, T_BNCCT (an open-source HIS's "
        "models): one warning per table, the fields read by name, the rules run"),
    "windows_1258_tables": Quirk(
        _envelope("outpatient_drugs_labs", {}, table=shapes.windows_1258),
        (_f("XML.ENCODING_NOT_UTF8", "warning", "XML1", None, None, OP),),
        "tables in windows-1258 (declared): read as declared and fully checked, one warning that the text asks UTF-8"),
    "cdata_escaped": Quirk(
        _envelope("outpatient_drugs_labs", {"XML2": ((r"<TEN_THUOC>([^<]+)</", r"<TEN_THUOC>&lt;![CDATA[\1]]&gt;</"),)}),
        (_f("R.TEXT.CDATA", "warning", "XML2", "TEN_THUOC", 1, OP),),
        "a CDATA section handed to a writer as text, so escaped: the value carries '<![CDATA[' (a warning)"),
    "xsi_nil_empty_fields": Quirk(
        _envelope("outpatient_drugs_labs", {}, table=shapes.nil),
        tuple(_f("XML.NIL", "warning", t, name, 1, OP) for t, name in
              (("XML1", "NGAY_MIEN_CCT"), ("XML2", "MA_PP_CHEBIEN"), ("XML3", "MA_PTTT_QT"), ("XML4", "MO_TA"))),
        "empty fields written xsi:nil=\"true\" (XmlSerializer, nullable properties): read as empty, one warning a table"),
    "birth_date_year_only": Quirk(
        _hoso("outpatient_drugs_labs", "XML1", (r"<NGAY_SINH>(\d{4})\d{8}</NGAY_SINH>", r"<NGAY_SINH>\g<1>00000000</NGAY_SINH>")),
        (), "NGAY_SINH yyyy00000000: only the year of birth is known («không có thông tin ngày sinh, tháng sinh … 0000»)"),
    "js_template": Quirk(
        _envelope("outpatient_drugs_labs", {}, table=shapes.js_template),
        (), "<?xml version='1.0' encoding='UTF-8'?> and the whole table on one line (JavaScript template strings)"),
    "unescaped_ampersand": Quirk(
        _envelope("outpatient_drugs_labs", {"XML3": ((r"<TEN_DICH_VU>([^<]+)</", r"<TEN_DICH_VU>\1 & Co</"),)}),
        (_f("XML.MALFORMED", "error", "XML3", "NOIDUNGFILE", None, OP),),
        "a bare '&' in a text value (a string template that does not escape): not XML, any parser refuses it"),
    "control_character": Quirk(
        _envelope("outpatient_drugs_labs", {"XML3": ((r"<TEN_DICH_VU>([^<]+)</", "<TEN_DICH_VU>\\1\x0b</"),)}),
        (_f("XML.MALFORMED", "error", "XML3", "NOIDUNGFILE", None, OP),),
        "a vertical tab pasted into a text field: XML 1.0 cannot carry it (.NET's XmlWriter refuses it too)"),
    "newborn_born_at_midnight": Quirk(
        _hoso("newborn_temporary_card", "XML1", ("<NGAY_SINH>202611012305</NGAY_SINH>",
                                                 "<NGAY_SINH>202611010000</NGAY_SINH>")),
        (_f("R.NEWBORN.BIRTH_TIME", "warning", "XML1", "NGAY_SINH", 1, NB),),
        "a newborn whose NGAY_SINH ends 0000: born at 00:00 or time unknown — a warning for the giám định staff"),
}


def quirk_files() -> dict[str, tuple[bytes, list[dict]]]:
    """File name → (bytes, expected findings)."""
    return {f"{name}.xml": (q.make(), list(q.expected)) for name, q in QUIRKS.items()}
