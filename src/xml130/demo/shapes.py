"""How other software writes the same document (docs/conformance.md, "Shapes seen in other software"): each a
transformation of a rendered document's bytes — .NET XmlSerializer, XmlWriter, DataSet, Java doubles, MIME base64,
code page 1258, QĐ 4210's list roots … — that :mod:`.quirks` applies to the valid scenarios."""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

XSD_NAMESPACES = (' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
                  ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')  # XmlSerializer's defaults
FREE_TEXT = ("HO_TEN", "DIA_CHI", "LY_DO_VV", "CHAN_DOAN_VAO", "CHAN_DOAN_RV", "TEN_THUOC", "TEN_DICH_VU",
              "DIEN_BIEN_LS")


def indented(data: bytes, declaration: bytes) -> bytes:
    """``data`` re-serialised one element a line, two spaces deep, CRLF, after ``declaration`` (XmlWriter with
    Indent = true, DataSet.WriteXml)."""
    root = etree.fromstring(data)
    etree.indent(root, space="  ")
    return declaration + b"\r\n" + etree.tostring(root, encoding="utf-8").replace(b"\n", b"\r\n")


def xmlserializer(data: bytes) -> bytes:
    """.NET XmlSerializer into an XmlWriter (UTF-8 with its BOM, indented): null strings left out, free text as
    CDATA (XmlCDataSection properties), the xsd/xsi declarations on the root."""
    data = re.sub(rb"<([A-Z_0-9]+)/>", b"", data)  # a null property writes no element
    data = indented(data, b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>')
    data = re.sub(rb"(\?>\r\n<[A-Z_0-9]+)", lambda m: m[1] + XSD_NAMESPACES.encode(), data, count=1)
    names = "|".join(FREE_TEXT).encode()
    return re.sub(rb"<(" + names + rb")>([^<]+)</\1>", rb"<\1><![CDATA[\2]]></\1>", data)


def stringbuilder(data: bytes) -> bytes:
    """.NET XmlWriter over a StringBuilder: the declaration says utf-16, the text is then sent as UTF-8."""
    return data.replace(b'encoding="utf-8"', b'encoding="utf-16"', 1)


def dataset(data: bytes) -> bytes:
    """DataSet.WriteXml / DataTable.WriteXml: standalone="yes", indented, a DBNull column writes no element."""
    return indented(re.sub(rb"<([A-Z_0-9]+)/>", b"", data), b'<?xml version="1.0" standalone="yes"?>')


def mime_base64(env: bytes) -> bytes:
    """Base64 in lines of 76 characters, CRLF (Convert.ToBase64String(…, InsertLineBreaks), Java's MIME encoder)."""
    def wrap(m: re.Match) -> bytes:
        text = m[2]
        return m[1] + b"\r\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + m[3]
    return re.sub(rb"(<NOIDUNGFILE>)([^<]+)(</NOIDUNGFILE>)", wrap, env)


def whole_amounts(data: bytes) -> bytes:
    """Amounts and prices of a model that types them as int: no decimals where the value is whole."""
    return re.sub(rb"<(T_[A-Z_]+|THANH_TIEN_B[VH]|DON_GIA(?:_B[VH])?)>(-?\d+)\.0+<", rb"<\1>\2<", data)


def js_template(data: bytes) -> bytes:
    """A table built with template strings: single-quoted declaration, everything on one line."""
    return data.replace(b'<?xml version="1.0" encoding="utf-8"?>', b"<?xml version='1.0' encoding='UTF-8'?>", 1
                        ).replace(b"\n", b"")


def java_double(data: bytes) -> bytes:
    """Amounts of a Java model typing them as double, written with Double.toString: 2400.0, and from ten million
    in scientific notation 1.25E7."""
    def java(m: re.Match) -> bytes:
        v = float(m[2])
        if abs(v) < 1e7:
            return b"<%s>%s<" % (m[1], repr(v).encode())
        e = len(str(int(abs(v)))) - 1
        return b"<%s>%sE%d<" % (m[1], repr(v / 10 ** e).encode(), e)
    return re.sub(rb"<(T_[A-Z_]+|THANH_TIEN_B[VH]|DON_GIA(?:_B[VH])?)>(-?\d+(?:\.\d+)?)<", java, data)


def without_envelope(env: bytes) -> bytes:
    """The HOSO alone, as some integrations exchange it (a Java one on GitHub wraps such files itself)."""
    hoso = re.search(rb"<HOSO>.*</HOSO>", env, re.S)
    assert hoso is not None
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + hoso[0] + b"\n"


def unpadded(loai: str) -> Callable[[bytes], bytes]:
    """The base64 of table ``loai`` without its '=' padding (a Python script on GitHub pads it back to decode)."""
    def strip(env: bytes) -> bytes:
        pattern = rb"(<LOAIHOSO>" + loai.encode() + rb"</LOAIHOSO><NOIDUNGFILE>[^<=]+)=+(</NOIDUNGFILE>)"
        out, hits = re.subn(pattern, rb"\1\2", env)
        if hits != 1:
            raise ValueError(f"{loai}: no padding to strip")
        return out
    return strip


def windows_1258(data: bytes) -> bytes:
    """A table written in the Vietnamese Windows code page (an XmlWriter with Encoding 1258): what the code page
    lacks becomes a character reference."""
    text = data.decode("utf-8").replace('encoding="utf-8"', 'encoding="windows-1258"', 1)
    return text.encode("cp1258", errors="xmlcharrefreplace")


def template_envelope(env: bytes) -> bytes:
    """The envelope as the portal's published template writes it: xsd/xsi declarations, CRLF line ends."""
    return env.replace(b"<GIAMDINHHS>", b"<GIAMDINHHS" + XSD_NAMESPACES.encode() + b">", 1).replace(b"\n", b"\r\n")


def sql_money(data: bytes) -> bytes:
    """Amounts and prices from SQL money / decimal(18,4) columns written with DataRow.ToString(): 4 decimals."""
    def four(m: re.Match) -> bytes:
        return b"<%s>%s.%s<" % (m[1], m[2], (m[3] or b"").ljust(4, b"0"))
    return re.sub(rb"<(T_[A-Z_]+|THANH_TIEN_B[VH]|DON_GIA(?:_B[VH])?)>(-?\d+)(?:\.(\d{1,4}))?<", four, data)


def unwrapped(data: bytes) -> bytes:
    """A list table without its CHITIEU_ wrapper, as QĐ 4210's were (DataTable.WriteXml of a DataSet named after
    the list: root DSACH_CHI_TIET_THUOC, rows CHI_TIET_THUOC)."""
    return re.sub(rb"<(CHITIEU_CHITIET_[A-Z_]+)>\n?(.*)</\1>\n?", rb"\2", data, flags=re.S)


def nil(data: bytes) -> bytes:
    """XmlSerializer with nullable value types (decimal?, int?): a null one is written xsi:nil="true"."""
    data = re.sub(rb"<([A-Z_0-9]+)/>", rb'<\1 xsi:nil="true" />', data)
    return re.sub(rb"(\?>\s*<[A-Z_0-9]+)", lambda m: m[1] + b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
                  data, count=1)
