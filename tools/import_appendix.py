"""One-off importer: QĐ 4750 appendix CSVs -> xml130's own spec data files.

Run once when the appendix data changes:

    python tools/import_appendix.py ../shared/standard/qd4750 src/xml130/spec/data/base

The output (one CSV per table) is the project's source of truth and is reviewed and edited by hand after
import; this script only records how the first version was derived. It keeps field facts only (order,
name, kind, size, required-ness); the regulation's prose is not copied.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

TABLES = {"checkin": "XML0", **{f"xml{i}": f"XML{i}" for i in range(1, 16)}}

# Fields that hold several values joined by ";" (README of the standard + field descriptions).
MULTI = {
    "MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN", "MA_BENH_KT", "MA_BENH_YHCT", "MA_PTTT_QT",
    "MA_KHOA", "MA_GIUONG", "MA_BAC_SI", "NGUOI_THUC_HIEN", "CAN_NANG_CON", "NGAY_TAI_KHAM",
    "MA_TINH_TRANG_DK", "DANG_HUONG_CHE_DO",
}
MONEY_3 = {"DON_GIA", "DON_GIA_BV", "DON_GIA_BH"}
QUANTITY = {"SO_LUONG"}
# Fields a 4750 note turns into strings; their values are codes: keep leading zeros and dots.
SIZE_RE = re.compile(r"Tăng kích thước tối đa lên (\d+) ký tự")
# Exact shapes where the standard fixes them (code lengths): kept as patterns in the data.
PATTERNS = {
    "MA_LOAI_KCB": r"\d{2}",
    "MA_DANTOC": r"\d{2}",
    "MA_QUOCTICH": r"\d{3}",
    "MA_CSKCB": r"[0-9A-Z]{5}",
    "MA_NOI_DI": r"[0-9A-Z]{5}",
    "MA_NOI_DEN": r"[0-9A-Z]{5}",
    "MATINH_CU_TRU": r"\d{2,3}",
    "MAHUYEN_CU_TRU": r"\d{3}",
    "MAXA_CU_TRU": r"\d{5}",
    "MA_DOITUONG_KCB": r"\d{1,2}(\.\d{1,2})?",
    "MA_THE_BHYT": r"[A-Z]{2}\d{13}",
    "MA_DKBD": r"[0-9A-Z]{5}",
    "MA_BENH_CHINH": r"[A-Z]\d{2}(\.?[0-9A-Z]{1,4})?",
    "MA_BENH_KT": r"[A-Z]\d{2}(\.?[0-9A-Z]{1,4})?",
    "SO_CCCD": r"[0-9A-Za-z]{1,15}",
}
PARTIAL_BIRTH = {"NGAY_SINH", "NGAYSINH_NND"}


def kind_of(table: str, row: dict[str, str]) -> tuple[str, int | None]:
    name, typ, size = row["field"], row["type"], row["max_size"]
    amended = row["amended_4750"] or ""
    if name == "CAN_NANG":
        return "decimal", 2  # kilograms to 2 decimals, written with "." (string column in the appendix)
    if name == "CAN_NANG_CON":
        return "decimal", 2  # grams; several babies joined by ";"
    if typ == "Chuỗi":
        if name == "NGAY_MIEN_CCT":
            return "date", None  # size column says 12, the description says yyyymmdd
        if name in ("GT_THE_TU", "GT_THE_DEN", "NGAY_TAI_KHAM"):
            return "date", None
        if size == "12":
            return ("partial_datetime" if name in PARTIAL_BIRTH else "datetime"), None
        if size == "8" and name != "NAM_NAM_LIEN_TUC" or name == "NAM_NAM_LIEN_TUC":
            return ("partial_date" if name in PARTIAL_BIRTH else "date"), None
        if name in PATTERNS or name.startswith("MA_"):
            return "code", None
        return "string", None
    # "Số"
    if "thành chuỗi" in amended:
        return "code", None
    if name in MONEY_3:
        return "decimal", 3
    if name in QUANTITY:
        return "decimal", 3
    if name.startswith(("T_", "THANH_TIEN")):
        return "decimal", 2
    return "integer", None


def main(src: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for stem, table in TABLES.items():
        rows = list(csv.DictReader((src / f"{stem}.csv").open(encoding="utf-8")))
        with (out / f"{table}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["name", "kind", "size", "scale", "required", "sep", "pattern", "source", "note"])
            for r in rows:
                name = r["field"]
                kind, scale = kind_of(table, r)
                size = r["max_size"].strip()
                amended = r["amended_4750"] or ""
                m = SIZE_RE.search(amended)
                source = "4750" if amended.strip() else "130"
                note = ""
                if m:
                    size = m.group(1)
                    note = "size raised by 4750"
                if size.lower() == "n":
                    size = ""
                req = (r["required_portal_130"] or "").strip()
                required = "yes" if req.lower() == "x" or name == "MA_LK" else ("cond" if req else "no")
                if required == "cond":
                    note = (note + "; " if note else "") + "conditionally required (checked by rules)"
                sep = ";" if name in MULTI and not (table == "XML9" and name == "CAN_NANG_CON") else ""  # XML9: one row per baby
                pattern = PATTERNS.get(name, "")
                w.writerow([name, kind, size, scale or "", required, sep, pattern, source, note])


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
