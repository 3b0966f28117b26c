"""``xml130 anonymize``: planted identity values (synthetic) leave no trace anywhere in the output bytes, decoded
base64 included; everything else is byte for byte; validate finds the same codes before and after."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xml130.anonymize import AnonymizeError, anonymize_bytes, kinds, personal_fields
from xml130.cli import app
from xml130.decode import describe
from xml130.spec import load_spec
from xml130.validate import validate_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KEY = b"tests: a fixed key, so the pseudonyms are the same at every run"

# the same (synthetic) mother everywhere in the envelope, a passport number in SO_CCCD, her card's 10 digits as
# her BHXH number, and her name again in free text
NAME = "Lương Thị Mơ Kiểm"
PASSPORT = "C7364521"
CARD = "HT5794455667788"
BHXH = "4455667788"
PHONE = "0971122334"
ADDRESS = "Số 318 ngõ Quỳnh, Phường Bạch Mai, Hà Nội"
PLANTS = {
    "XML1": {"HO_TEN": NAME, "SO_CCCD": PASSPORT, "MA_THE_BHYT": CARD, "DIEN_THOAI": PHONE, "DIA_CHI": ADDRESS,
             "GHI_CHU": f"Người nhà của {NAME} ký thay"},
    "XML8": {"HO_TEN_ME": NAME},
    "XML9": {"HO_TEN_NND": NAME, "SO_CCCD_NND": PASSPORT, "MA_THE_NND": CARD, "MA_BHXH_NND": BHXH,
             "NOI_CU_TRU_NND": ADDRESS, "HO_TEN_CON": f"Con 1 của {NAME}"},
}
SECRETS = [NAME, PASSPORT, CARD, BHXH, PHONE, ADDRESS, "Lương", "Kiểm", "7364521", "1122334", "Quỳnh", "Bạch"]
_FILE = re.compile(rb"(<LOAIHOSO>(XML\d+)</LOAIHOSO>\s*<NOIDUNGFILE>)([^<]*)(</NOIDUNGFILE>)")


def _set(doc: bytes, field: str, value: str) -> bytes:
    f = field.encode()
    new, n = re.subn(rb"<%s>[^<]*</%s>|<%s/>" % (f, f, f), b"<%s>%s</%s>" % (f, value.encode(), f), doc)
    assert n, field
    return new


def _envelope(name: str, plants: dict, *, wrap: int | None = None, crlf: bool = False, bom: bool = False) -> bytes:
    """A fixture envelope with values planted in its tables; optionally base64 in lines of ``wrap`` characters
    ending CRLF, every line ending CRLF (the envelope and the tables) and a BOM."""
    data = (FIXTURES / name).read_bytes()

    def table(m: re.Match[bytes]) -> bytes:
        doc = base64.b64decode(m[3])
        for f, v in plants.get(m[2].decode(), {}).items():
            doc = _set(doc, f, v)
        if crlf:
            doc = doc.replace(b"\n", b"\r\n")
        text = base64.b64encode(doc)
        if wrap:
            text = b"\r\n" + b"\r\n".join(text[i:i + wrap] for i in range(0, len(text), wrap)) + b"\r\n"
        return m[1] + text + m[4]

    data = _FILE.sub(table, data)
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    return (b"\xef\xbb\xbf" if bom else b"") + data


def _texts(data: bytes) -> list[bytes]:
    """The file and every NOIDUNGFILE in it, decoded."""
    compact = [b"".join(m[3].split()) for m in _FILE.finditer(data)]
    return [data, *(base64.b64decode(c + b"=" * (-len(c) % 4)) for c in compact)]


def _rows(data: bytes) -> dict[str, list[dict]]:
    doc = describe(data)
    if doc["kind"] != "envelope":
        return {doc["table"]: doc["rows"]}
    out: dict[str, list[dict]] = {}
    for h in doc["hoso"]:
        for t in h["tables"]:
            if "error" not in t:  # a table no parser reads (a bare '&'): no rows to compare
                out.setdefault(t["table"], []).extend(t["rows"])
    return out


def _personal_values(data: bytes) -> set[str]:
    """Every personal value but dates (a birth during the stay is also the day of other times of the episode)."""
    personal = {f for f, k in kinds().items() if k.method != "date"}
    return {v for rows in _rows(data).values() for r in rows for f, v in r.items() if f in personal and v}


def _dates_moved(before: bytes, after: bytes) -> None:
    """Every full birth date (day known) is another day or time of the same month in the output."""
    dates = {f for f, k in kinds().items() if k.method == "date"}
    rows_after = _rows(after)
    for table, rows in _rows(before).items():
        for old, new in zip(rows, rows_after[table], strict=True):
            for f in dates & set(old):
                if old[f] and old[f][4:6] != "00" and old[f][6:8] != "00":
                    assert new[f] != old[f] and new[f][:6] == old[f][:6], (table, f)


def _masked(doc: bytes, extra: tuple[str, ...] = ()) -> bytes:
    """The document with the text of every personal element (and of ``extra`` elements) blanked."""
    names = "|".join([*kinds(), *extra, "NOIDUNGFILE"])
    return re.sub(rb"<(%s)>[^<]*</\1>" % names.encode(), rb"<\1>*</\1>", doc)


def _codes(data: bytes) -> list[str]:
    return sorted(f.code for f in validate_bytes(data, "f.xml"))


def _assert_nothing_left(original: bytes, result: bytes, planted: list[str]) -> None:
    secrets = {s for s in _personal_values(original) if len(s) >= 6} | set(planted)
    for text in _texts(result):
        for s in secrets:
            assert s.encode() not in text, f"{s!r} survived"
    _dates_moved(original, result)


ENVELOPES = [
    pytest.param({}, id="single-line base64"),
    pytest.param({"wrap": 76}, id="base64 in CRLF lines of 76"),
    pytest.param({"bom": True, "crlf": True, "wrap": 64}, id="BOM, CRLF, base64 lines"),
]


@pytest.mark.parametrize("shape", ENVELOPES)
def test_envelope_of_several_tables_keeps_nothing_personal_and_nothing_else_changes(shape):
    data = _envelope("valid/birth_twins.xml", PLANTS, **shape)
    assert _rows(data)["XML1"][0]["SO_CCCD"] == PASSPORT  # planted
    result = anonymize_bytes(data, key=KEY)
    out = result.data
    _assert_nothing_left(data, out, SECRETS)
    # byte for byte outside the replaced values: the envelope (BOM, line ends, base64 line breaks), each table
    assert len(out) == len(data)
    assert out.startswith(b"\xef\xbb\xbf") == shape.get("bom", False)
    assert _masked(out) == _masked(data)
    before, after = _FILE.findall(data), _FILE.findall(out)
    assert [re.sub(rb"\S", b"", m[2]) for m in before] == [re.sub(rb"\S", b"", m[2]) for m in after]
    for old, new in zip(_texts(data)[1:], _texts(out)[1:], strict=True):
        assert _masked(new, ("GHI_CHU",)) == _masked(old, ("GHI_CHU",))
    assert _codes(out) == _codes(data)
    assert result.counts["họ tên"] >= 5 and result.counts["số thẻ BHYT"] == 5
    assert result.counts["trong trường khác"] == 1  # the name in XML1 GHI_CHU


def test_one_person_keeps_one_pseudonym_across_tables():
    out = anonymize_bytes(_envelope("valid/birth_twins.xml", PLANTS), key=KEY).data
    rows = _rows(out)
    x1, x8, x9 = rows["XML1"][0], rows["XML8"][0], rows["XML9"]
    name = x1["HO_TEN"]
    assert name != NAME and len(name) == len(NAME) and len(name.encode()) == len(NAME.encode())
    assert name.split(" ")[1] == x9[0]["HO_TEN_NND"].split(" ")[1]  # words, not only whole values
    assert x8["HO_TEN_ME"] == name and {r["HO_TEN_NND"] for r in x9} == {name}
    assert [r["HO_TEN_CON"] for r in x9] == [f"Con 1 của {name}"] * 2  # both twins planted alike
    assert x1["GHI_CHU"] == f"Người nhà của {name} ký thay"
    # the card keeps its object, level and office; its 10 digits are the same pseudonym as the BHXH number
    card = x1["MA_THE_BHYT"]
    assert card[:5] == "HT579" and card[5:] != BHXH and re.fullmatch(r"\d{10}", card[5:])
    assert {r["MA_THE_NND"] for r in x9} == {card} and {r["MA_BHXH_NND"] for r in x9} == {card[5:]}
    # a passport number: same shape (a letter, 7 digits), the same pseudonym in XML1 and XML9
    passport = x1["SO_CCCD"]
    assert re.fullmatch(r"[A-Z]\d{7}", passport) and passport != PASSPORT
    assert {r["SO_CCCD_NND"] for r in x9} == {passport}
    # an ID card keeps province, century/sex and birth year; the phone its network prefix
    twins = anonymize_bytes((FIXTURES / "valid/birth_twins.xml").read_bytes(), key=KEY).data
    cccd = _rows(twins)["XML1"][0]["SO_CCCD"]
    assert cccd[:6] == "091907" and cccd[6:] != "483378"
    assert x1["DIEN_THOAI"][:3] == "097" and x1["DIEN_THOAI"] != PHONE
    # words that are not a person stay: "Số", "ngõ", "Phường"
    assert x1["DIA_CHI"].startswith("Số ") and " ngõ " in x1["DIA_CHI"] and ", Phường " in x1["DIA_CHI"]


@pytest.mark.parametrize("name", ["valid/checkin.xml", "valid/xml12_giam_dinh_y_khoa.xml"])
@pytest.mark.parametrize("bom_crlf", [False, True], ids=["as generated", "BOM and CRLF"])
def test_check_in_and_bare_table(name, bom_crlf):
    data = (FIXTURES / name).read_bytes()
    if bom_crlf:
        data = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")
    out = anonymize_bytes(data, key=KEY).data
    _assert_nothing_left(data, out, [])
    assert len(out) == len(data) and _masked(out) == _masked(data)
    assert _codes(out) == _codes(data)
    rows_before, rows_after = _rows(data), _rows(out)
    for table, rows in rows_before.items():
        for old, new in zip(rows, rows_after[table], strict=True):
            # birth dates: same year and month, another day or time; a 0000 time stays 0000
            assert new["NGAY_SINH"][:6] == old["NGAY_SINH"][:6] and new["NGAY_SINH"] != old["NGAY_SINH"]
            assert new["NGAY_SINH"].endswith("0000") == old["NGAY_SINH"].endswith("0000")


def test_every_fixture_keeps_its_finding_codes():
    for path in sorted(FIXTURES.rglob("*.xml")):
        if path.name in ("broken_base64.xml", "not_xml.xml"):  # it cannot vouch for them
            continue
        data = path.read_bytes()
        out = anonymize_bytes(data, key=KEY).data
        assert _codes(out) == _codes(data), path.name
        _assert_nothing_left(data, out, [])


def test_newborn_dates_keep_what_the_rules_decide():
    """A newborn's birth moves inside its month but stays a newborn, and one born "after" the admission stays so."""
    data = (FIXTURES / "valid/newborn_temporary_card.xml").read_bytes()
    x1 = _rows(data)["XML1"][0]
    vao = x1["NGAY_VAO"]
    after = vao[:8] + ("2359" if vao[8:] != "2359" else "2358")  # born later the same day: R.DATES.BORN_BEFORE_VAO
    cases = {"as is": data,
             "born after admission": _envelope("valid/newborn_temporary_card.xml", {"XML1": {"NGAY_SINH": after}}),
             "no birth time": _envelope("valid/newborn_temporary_card.xml",
                                        {"XML1": {"NGAY_SINH": x1["NGAY_SINH"][:8] + "0000"}})}
    expected = {"as is": [], "born after admission": ["R.DATES.BORN_BEFORE_VAO"],
                "no birth time": ["R.NEWBORN.BIRTH_TIME"]}
    for case, before in cases.items():
        out = anonymize_bytes(before, key=KEY).data
        codes = _codes(before)
        assert [c for c in codes if c.startswith(("R.DATES", "R.NEWBORN"))] == expected[case], case
        assert _codes(out) == codes, case
        born_before, born_after = _rows(before)["XML1"][0]["NGAY_SINH"], _rows(out)["XML1"][0]["NGAY_SINH"]
        assert born_after[:6] == born_before[:6], case


def test_partial_birth_dates_keep_their_unknown_parts():
    data = _envelope("valid/referral.xml", {"XML1": {"NGAY_SINH": "194900000000"}, "XML13": {"NGAY_SINH": "194900000000"}})
    out = anonymize_bytes(data, key=KEY).data
    assert _rows(out)["XML1"][0]["NGAY_SINH"] == "194900000000"
    assert _codes(out) == _codes(data)


def test_a_file_it_cannot_vouch_for_is_refused():
    envelope = _envelope("valid/referral.xml", {})
    cases = {
        "a comment": envelope.replace(b"<GIAMDINHHS>", b"<GIAMDINHHS><!-- the card CN4791860913909 -->", 1),
        "not XML": b'{"HO_TEN": "Phan C\xc3\xb4ng An"}',
        "a personal element with children": (FIXTURES / "valid/checkin.xml").read_bytes().replace(
            b"<HO_TEN>", b"<HO_TEN><X/>", 1),
        "undecodable NOIDUNGFILE": (FIXTURES / "invalid/broken_base64.xml").read_bytes(),
    }
    for case, data in cases.items():
        with pytest.raises(AnonymizeError):
            anonymize_bytes(data)
        assert case


def test_entities_and_cdata_are_kept_where_nothing_changed():
    data = (FIXTURES / "valid/xml12_giam_dinh_y_khoa.xml").read_bytes()
    data = re.sub(rb"<DIA_CHI>[^<]*</DIA_CHI>", "<DIA_CHI>Số 5 &amp; 7 ngõ Hòa&#44; <![CDATA[Hà & Nội]]></DIA_CHI>"
                  .encode(), data)
    out = anonymize_bytes(data, key=KEY).data
    body = re.search(rb"<DIA_CHI>(.*)</DIA_CHI>", out)[1].decode()
    assert re.fullmatch(r"Số 5 &amp; 7 ngõ \w{3}&#44; <!\[CDATA\[\w\w & \w{3}\]\]>", body), body
    assert "Hòa" not in body and "Nội" not in body


def test_personal_fields_are_data_and_complete():
    names = {f.name for v in load_spec().versions for t in v.tables.values() for f in t.fields}
    listed = personal_fields()
    assert set(listed) <= names, set(listed) - names
    shaped = {n for n in names if re.search(r"HO_?TEN|CCCD|MA_THE|BHXH|DIA_CHI|DIEN_THOAI|NGAY_?SINH|CU_TRU|"
                                            r"NGUOI_(GIAM_HO|DO_DE|GHI_PHIEU|CHU_TRI)|TEN_BS|^MA_(BN|YTE|CHA|ME)$", n)}
    assert shaped <= set(listed), sorted(shaped - set(listed))


def test_cli_writes_copies_and_prints_kinds_never_values(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.xml").write_bytes(_envelope("valid/birth_twins.xml", PLANTS, wrap=76))
    (src / "b.xml").write_bytes((FIXTURES / "valid/checkin.xml").read_bytes())
    out_dir = tmp_path / "out"
    r = CliRunner().invoke(app, ["anonymize", str(src), "--out", str(out_dir)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "họ tên: " in r.output and "số thẻ BHYT: 5" in r.output and "2 tệp đã ẩn danh, 0 tệp không ghi" in r.output
    for s in [*SECRETS, "Bùi Thành Sơn", "DN5797976335556"]:
        assert s not in r.output
    written = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    assert written == ["in/b.xml", "in/sub/a.xml"]
    assert _codes((out_dir / "in/sub/a.xml").read_bytes()) == _codes((src / "sub/a.xml").read_bytes())

    bad = tmp_path / "bad.xml"
    bad.write_bytes((FIXTURES / "invalid/broken_base64.xml").read_bytes())
    r = CliRunner().invoke(app, ["anonymize", str(bad), "--out", str(tmp_path / "out2")], catch_exceptions=False)
    assert r.exit_code == 1 and "KHÔNG ghi" in r.output and not (tmp_path / "out2" / "bad.xml").exists()
    r = CliRunner().invoke(app, ["anonymize", str(bad), "--out", str(tmp_path)], catch_exceptions=False)
    assert r.exit_code == 2 and "Không ghi đè tệp gốc" in r.output
    r = CliRunner().invoke(app, ["anonymize", str(tmp_path / "missing.xml"), "--out", str(out_dir)])
    assert r.exit_code == 2


def test_raw_xml_in_noidungfile_and_odd_namespaces_are_anonymized_too():
    """Real exports: a NOIDUNGFILE holding the table as XML (not base64), as escaped text, and a namespace URI
    libxml2 refuses (issue 24, classes 1 and 5)."""
    data = _envelope("valid/referral.xml", {})
    xml13 = next(base64.b64decode(m[3]) for m in _FILE.finditer(data) if m[2] == b"XML13")
    xml1 = next(base64.b64decode(m[3]) for m in _FILE.finditer(data) if m[2] == b"XML1")
    xml1 = xml1.replace(b"<TONG_HOP>", b'<TONG_HOP xmlns:xsi="http://www.w3.org/2001/XMLSchema instance">', 1)
    body = xml13.split(b"?>", 1)[1].strip()

    def raw(m: re.Match[bytes]) -> bytes:
        if m[2] == b"XML13":
            return m[1] + body + m[4]  # raw XML
        if m[2] == b"XML1":
            return m[1] + xml1.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;") + m[4]
        return m[0]

    odd = _FILE.sub(raw, data)
    out = anonymize_bytes(odd, key=KEY).data
    for s in ("Phan Công An", "CN4791860913909", "059083016613", "0918609139", "HSBA-99RF0007", "Trần Hưng Đạo"):
        assert s.encode() not in out
    assert b'xmlns:xsi="http://www.w3.org/2001/XMLSchema instance"' in out
    assert len(out) == len(odd) and _masked(out) == _masked(odd)
    assert _codes(out) == _codes(odd)


def test_many_people_sharing_a_head_never_take_another_ones_number():
    """1,000 ID cards of one province and birth year (only the last 6 digits differ): no pseudonym is another
    person's original, so none survives and the file is written."""
    data = (FIXTURES / "valid/checkin.xml").read_bytes().decode("utf-8")
    head, rest = data.split("<DSACH_TRANG_THAI_KCB>")
    row = re.search(r"<TRANG_THAI_KCB>.*?</TRANG_THAI_KCB>", rest, re.S)[0]
    tail = rest[rest.rindex("</DSACH_TRANG_THAI_KCB>"):]
    ids = [f"079190{i:06d}" for i in range(1000)]
    rows = [re.sub(r"<SO_CCCD>\d+</SO_CCCD>", f"<SO_CCCD>{x}</SO_CCCD>", row) for x in ids]
    big = (head + "<DSACH_TRANG_THAI_KCB>\n" + "\n".join(rows) + "\n" + tail).encode("utf-8")
    result = anonymize_bytes(big, key=KEY)
    after = [r["SO_CCCD"] for r in _rows(result.data)["XML0"]]
    assert len(set(after)) == 1000 and not set(after) & set(ids)
    assert all(x.startswith("079190") for x in after) and result.counts["số CCCD, hộ chiếu"] == 1000


def test_an_empty_noidungfile_is_left_as_it_is():
    data = _FILE.sub(lambda m: m[1] + b"" + m[4] if m[2] == b"XML3" else m[0], _envelope("valid/referral.xml", {}))
    out = anonymize_bytes(data, key=KEY).data
    assert b"<LOAIHOSO>XML3</LOAIHOSO><NOIDUNGFILE></NOIDUNGFILE>" in out
    assert _codes(out) == _codes(data)


def test_a_signature_is_emptied_its_certificate_names_a_person():
    """A signature no longer matches once a value changed, and a signer's certificate (a director's personal
    remote-signing certificate) names a person: CHUKYDONVI is kept, empty."""
    signature = ('<CHUKYDONVI><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignatureValue>AAAA'
                 '</SignatureValue><KeyInfo><X509Data><X509SubjectName>CN=Trần Thị Ký Thay,UID=CMND:012345678901'
                 '</X509SubjectName></X509Data></KeyInfo></Signature></CHUKYDONVI>').encode()
    data = _envelope("valid/referral.xml", {}).replace(b"<CHUKYDONVI/>", signature)
    result = anonymize_bytes(data, key=KEY)
    assert b"<CHUKYDONVI></CHUKYDONVI>" in result.data and "Trần Thị Ký Thay".encode() not in result.data
    assert b"012345678901" not in result.data and result.counts["chữ ký số đã bỏ"] == 1
    assert _codes(result.data) == _codes(data)
    assert "chữ ký số đã bỏ" not in anonymize_bytes(_envelope("valid/referral.xml", {}), key=KEY).counts


_LETTERS = "abcdeghiklmnopqrstuvxyàáâãèéêìíòóôõùúýăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
_WORD = st.text(_LETTERS, min_size=2, max_size=7).map(str.capitalize)


@settings(max_examples=30)  # the rest from the profile of tests/conftest.py
@given(name=st.lists(_WORD, min_size=2, max_size=4).map(" ".join),
       cccd=st.from_regex(r"0\d{11}", fullmatch=True),
       card=st.tuples(st.sampled_from(["DN", "HT", "TE", "CN", "GD"]), st.from_regex(r"[1-5]\d{2}\d{10}", fullmatch=True))
       .map("".join),
       born=st.dates(dt.date(1930, 1, 1), dt.date(2025, 12, 31)).map(lambda d: d.strftime("%Y%m%d") + "0000"),
       key=st.binary(min_size=1, max_size=32))
# ``\d`` draws digits of every script. A digit that is not ASCII is a FIELD.FORMAT of its own; the pseudonym used to
# be ASCII digits, so the finding went away with the person (failed at random, the key being drawn per file):
# a digit is now replaced by a digit of its own script (Pseudonyms.digits). The key is drawn here, not by the
# anonymizer, so that an example fails or passes every time it is run.
@example(name="Aa Aa", cccd="00000000000\u0660", card="DN1000000000000", born="193001010000", key=b"\0")
@example(name="Aa Aa", cccd="0\uff11\u0662\u0969" + "0" * 8, card="HT1\u0660" + "\uff10" * 11, born="202512310000",
         key=b"\0")
def test_any_planted_identity_leaves_no_trace(name, cccd, card, born, key):
    """Whatever the name, ID card, card number and birth date planted in a check-in, and whatever the key, none
    is in the output and the finding codes are the same."""
    data = (FIXTURES / "valid/checkin.xml").read_bytes()
    for f, v in (("HO_TEN", name), ("SO_CCCD", cccd), ("MA_THE_BHYT", card), ("NGAY_SINH", born)):
        data = re.sub(rb"<%s>[^<]*</%s>" % (f.encode(), f.encode()), b"<%s>%s</%s>" % (f.encode(), v.encode(), f.encode()),
                      data, count=1)
    out = anonymize_bytes(data, key=key).data
    text = out.decode("utf-8")
    assert name not in text and cccd not in text and card not in text
    row = _rows(out)["XML0"][0]
    assert row["SO_CCCD"][6:] != cccd[6:] and row["MA_THE_BHYT"][5:] != card[5:]  # the kept heads say nothing alone
    assert not set(row["HO_TEN"].split()) & set(name.split()) and len(row["HO_TEN"]) == len(name)
    assert _codes(out) == _codes(data)


def test_the_anonymize_block_of_operations_runs_as_written(tmp_path):
    """docs/operations.md's two lines for the vendor, run by bash as written: the copy keeps the finding codes."""
    import os
    import subprocess

    from .e2e import BIN, doc_steps

    outbox = tmp_path / "outbox"
    original = outbox / "79001/2026-11-27/0001234567/v1.xml"  # the path the page names
    original.parent.mkdir(parents=True)
    original.write_bytes(_envelope("invalid/bad_date.xml", PLANTS))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "XML130_OUTBOX": str(outbox)}
    anonymize, validate = doc_steps("anonymize")
    runs = [subprocess.run(["bash", "-c", step], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
            for step in (anonymize, validate)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert "1 tệp đã ẩn danh, 0 tệp không ghi" in runs[0].stdout
    planted = [NAME, PASSPORT, CARD, PHONE, ADDRESS]  # the fixture's XML1; it has no XML8 or XML9
    for s in planted:
        assert s not in runs[0].stdout
    copy = (tmp_path / "to-vendor/v1.xml").read_bytes()
    _assert_nothing_left(original.read_bytes(), copy, planted)
    assert _codes(copy) == _codes(original.read_bytes()) == ["FIELD.DATE"]
    assert runs[1].returncode == 1  # an error found, as in the original
    assert " ERROR FIELD.DATE [" in runs[1].stdout and "1 tệp, 1 lỗi, 0 cảnh báo." in runs[1].stdout
