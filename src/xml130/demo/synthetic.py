"""Synthetic hồ sơ: made-up people and episodes for fixtures, tests, benchmarks and the demo.

Nothing here is patient data: names are random combinations of common Vietnamese name parts, identity and card
numbers are random digits, the facility codes are invented. The same seed gives the same hồ sơ, and money is
computed the way the standard says (exact decimals, THANH_TIEN_BV = round(SO_LUONG × DON_GIA, 2), totals in
XML1 equal the sums of XML2 and XML3), so the data also serves the business rules.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..models import episode_date
from ..spec import SpecVersion, load_spec

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE_F = ["Thị", "Thị Thu", "Ngọc", "Thị Minh", "Thanh", "Thị Kim", "Hoài"]
MIDDLE_M = ["Văn", "Đức", "Minh", "Quốc", "Hữu", "Công", "Thành"]
GIVEN_F = ["Ánh", "Bình", "Cúc", "Dung", "Giang", "Hà", "Hương", "Lan", "Mai", "Ngân", "Oanh", "Phượng", "Thảo", "Yến"]
GIVEN_M = ["An", "Bảo", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc", "Quân", "Sơn", "Tuấn"]
STREETS = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Điện Biên Phủ", "Lý Thường Kiệt"]
FACILITY = "79999"  # invented facility code (province 79, not a real facility)
# TYLE_TT_DV of the 1st, 2nd … examination of one visit (QĐ 130 XML3 TYLE_TT_DV: 100, 30 for the 2nd to 4th, 10 for
# the 5th, 0 from the 6th)
EXAM_SHARES = (100, 30, 30, 30, 10)
DOCTORS = ["0100000001", "0100000002", "0100000003", "0100000004"]
DRUGS = [  # (code, name, unit, strength, route, price)
    ("40.17", "Paracetamol", "viên", "500mg", "1.01", "1200.000"),
    ("40.48", "Amoxicilin", "viên", "500mg", "1.01", "2350.500"),
    ("40.677", "Omeprazol", "viên", "20mg", "1.01", "980.000"),
    ("40.1002", "Natri clorid 0,9%", "chai", "500ml", "2.15", "11500.000"),
    ("40.322", "Ceftriaxon", "lọ", "1g", "2.10", "27600.000"),
    ("40.555", "Metformin", "viên", "850mg", "1.01", "650.750"),
]
SERVICES = [  # (code, name, group, price)
    ("02.1896", "Khám Nội", 1, "38700.000"),
    ("23.0058", "Định lượng Glucose", 2, "21500.000"),
    ("23.0020", "Định lượng Creatinin", 2, "21500.000"),
    ("22.0120", "Tổng phân tích tế bào máu", 2, "46200.000"),
    ("18.0001", "Siêu âm ổ bụng", 3, "43900.000"),
    ("18.0119", "Chụp X-quang ngực thẳng", 3, "65400.000"),
]
LAB_INDICES = [("GLU", "Glucose", "5.6", "mmol/L"), ("CRE", "Creatinin", "78", "µmol/L"), ("WBC", "Bạch cầu", "7.2", "G/L"),
               ("RBC", "Hồng cầu", "4.5", "T/L"), ("HGB", "Huyết sắc tố", "135", "g/L"), ("PLT", "Tiểu cầu", "250", "G/L")]
TWO = Decimal("0.01")


def money(x: Decimal) -> Decimal:
    return x.quantize(TWO, rounding=ROUND_HALF_UP)


class Person:
    def __init__(self, rng: random.Random, female: bool | None = None, born: dt.date | None = None):
        self.female = rng.random() < 0.5 if female is None else female
        middle = MIDDLE_F if self.female else MIDDLE_M
        given = GIVEN_F if self.female else GIVEN_M
        self.name = f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"
        self.born = born or dt.date(rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28))
        self.cccd = "0" + "".join(rng.choice("0123456789") for _ in range(11))
        self.bhxh = "".join(rng.choice("0123456789") for _ in range(10))
        self.card = f"{rng.choice(['DN', 'HT', 'GD', 'TE', 'CN'])}{rng.choice('12345')}79{self.bhxh}"
        self.address = f"Số {rng.randint(1, 300)} đường {rng.choice(STREETS)}, Phường Bến Nghé, TP Hồ Chí Minh"


class EpisodeBuilder:
    """Builds the raw tables of one hồ sơ (field name → Python value), filtered to the spec version."""

    def __init__(self, rng: random.Random, ma_lk: str, start: dt.datetime, version: SpecVersion | None = None):
        self.rng, self.ma_lk, self.start = rng, ma_lk, start
        self.version = version
        self.tables: dict[str, Any] = {}
        self.drug_total = Decimal(0)
        self.supply_total = Decimal(0)
        self.totals = {k: Decimal(0) for k in ("bv", "bh", "bntt", "bncct", "bhtt")}
        self.muc_huong = rng.choice([80, 95, 100])
        self.insured = True  # False: a patient without a card (MA_DOITUONG_KCB 9): the fund pays nothing

    def uninsured(self) -> EpisodeBuilder:
        """From now on the rows are the patient's own: TYLE_TT_BH 0, MUC_HUONG 0 (as xml130's ``costs`` writes
        them for a visit without BHYT)."""
        self.insured = False
        return self

    def _cost(self, qty: Decimal, price: Decimal, tyle: int, dv: int = 100) -> dict[str, Any]:
        muc = self.muc_huong if self.insured else 0
        tyle = tyle if self.insured else 0
        bv = money(qty * price * dv / 100)  # XML3: × TYLE_TT_DV (4750 đính chính)
        bh = money(bv * tyle / 100)
        bhtt = money(bh * muc / 100)
        row = {"SO_LUONG": qty, "THANH_TIEN_BV": bv, "THANH_TIEN_BH": bh, "TYLE_TT_BH": tyle, "T_NGUONKHAC_NSNN": Decimal(0),
               "T_NGUONKHAC_VTNN": Decimal(0), "T_NGUONKHAC_VTTN": Decimal(0), "T_NGUONKHAC_CL": Decimal(0),
               "T_NGUONKHAC": Decimal(0), "MUC_HUONG": muc, "T_BNTT": bv - bh, "T_BNCCT": bh - bhtt,
               "T_BHTT": bhtt}
        for k, v in (("bv", bv), ("bh", bh), ("bntt", bv - bh), ("bncct", bh - bhtt), ("bhtt", bhtt)):
            self.totals[k] += v
        return row

    def at(self, minutes: int) -> dt.datetime:
        return self.start + dt.timedelta(minutes=minutes)

    def drugs(self, n: int, khoa: str = "K01") -> None:
        rows = self.tables.setdefault("XML2", [])
        for _ in range(n):
            code, name, unit, strength, route, price = self.rng.choice(DRUGS)
            qty = Decimal(self.rng.choice(["1", "2", "6", "10", "14", "0.5"]))
            cost = self._cost(qty, Decimal(price), 100)
            self.drug_total += cost["THANH_TIEN_BV"]
            when = self.at(10 + 5 * len(rows))
            rows.append({
                "MA_LK": self.ma_lk, "STT": len(rows) + 1, "MA_THUOC": code, "MA_NHOM": 4, "TEN_THUOC": name,
                "DON_VI_TINH": unit, "HAM_LUONG": strength, "DUONG_DUNG": route,
                "LIEU_DUNG": "1 viên/lần * 2 lần/ngày * 5 ngày [2 viên/ngày]",
                "CACH_DUNG": "Uống sau ăn", "SO_DANG_KY": "VD-12345-20", "TT_THAU": "57/QĐ-TTMS;G1;N1;2025",
                "PHAM_VI": 1, "TYLE_TT_BH": 100, "DON_GIA": Decimal(price), **cost,
                "MA_KHOA": khoa, "MA_BAC_SI": self.rng.choice(DOCTORS), "NGAY_YL": when, "NGAY_TH_YL": when,
                "MA_PTTT": 1, "NGUON_CTRA": 1,
            })

    def services(self, n: int, khoa: str = "K01", *, with_results: bool = True) -> None:
        rows = self.tables.setdefault("XML3", [])
        for _ in range(n):
            code, name, group, price = self.rng.choice(SERVICES)
            exams = sum(r["MA_NHOM"] == 1 for r in rows)  # the n-th examination of the visit is paid at a share
            dv = (EXAM_SHARES[exams] if exams < len(EXAM_SHARES) else 0) if group == 1 else 100
            cost = self._cost(Decimal(1), Decimal(price), 100, dv)
            when = self.at(5 + 3 * len(rows))
            rows.append({
                "MA_LK": self.ma_lk, "STT": len(rows) + 1, "MA_DICH_VU": code, "MA_NHOM": group,
                "TEN_DICH_VU": name, "DON_VI_TINH": "lần", "PHAM_VI": 1, "DON_GIA_BV": Decimal(price),
                "DON_GIA_BH": Decimal(price), "TYLE_TT_DV": dv, "TYLE_TT_BH": 100, **cost, "MA_KHOA": khoa,
                "MA_BAC_SI": self.rng.choice(DOCTORS), "NGUOI_THUC_HIEN": self.rng.choice(DOCTORS),
                "MA_BENH": "J02.9", "NGAY_YL": when, "NGAY_TH_YL": when, "NGAY_KQ": self.at(60 + 3 * len(rows)),
                "MA_PTTT": 1,
            })
            if with_results and group == 2:
                self.results(code, 2)

    def bed(self, days: int, khoa: str, bed: str, price: str = "215000.000") -> None:
        rows = self.tables.setdefault("XML3", [])
        cost = self._cost(Decimal(days), Decimal(price), 100)
        rows.append({
            "MA_LK": self.ma_lk, "STT": len(rows) + 1, "MA_DICH_VU": "K01.1918", "MA_NHOM": 15,
            "TEN_DICH_VU": "Giường Nội khoa loại 1", "DON_VI_TINH": "ngày", "PHAM_VI": 1,
            "DON_GIA_BV": Decimal(price), "DON_GIA_BH": Decimal(price), "TYLE_TT_DV": 100, "TYLE_TT_BH": 100, **cost,
            "MA_KHOA": khoa, "MA_GIUONG": bed, "MA_BAC_SI": self.rng.choice(DOCTORS), "NGAY_YL": self.at(30),
            "NGAY_TH_YL": self.at(30), "MA_PTTT": 1,
        })

    def supply(self, name: str, price: str) -> None:
        rows = self.tables.setdefault("XML3", [])
        cost = self._cost(Decimal(1), Decimal(price), 100)
        self.supply_total += cost["THANH_TIEN_BV"]
        rows.append({
            "MA_LK": self.ma_lk, "STT": len(rows) + 1, "MA_VAT_TU": "N03.01.070", "MA_NHOM": 10,
            "TEN_VAT_TU": name, "DON_VI_TINH": "cái", "PHAM_VI": 1, "DON_GIA_BV": Decimal(price),
            "DON_GIA_BH": Decimal(price), "TT_THAU": "20.00;G1;N2;2025", "TYLE_TT_DV": 100, "TYLE_TT_BH": 100, **cost,
            "MA_KHOA": "K12", "MA_BAC_SI": self.rng.choice(DOCTORS), "NGAY_YL": self.at(120), "MA_PTTT": 1,
        })

    def surgery(self, code: str, name: str, price: str) -> None:
        rows = self.tables.setdefault("XML3", [])
        cost = self._cost(Decimal(1), Decimal(price), 100)
        rows.append({
            "MA_LK": self.ma_lk, "STT": len(rows) + 1, "MA_DICH_VU": code, "MA_PTTT_QT": "47.09", "MA_NHOM": 8,
            "TEN_DICH_VU": name, "DON_VI_TINH": "lần", "PHAM_VI": 1, "DON_GIA_BV": Decimal(price),
            "DON_GIA_BH": Decimal(price), "TYLE_TT_DV": 100, "TYLE_TT_BH": 100, **cost, "MA_KHOA": "K12",
            "MA_BAC_SI": DOCTORS[0], "NGUOI_THUC_HIEN": f"{DOCTORS[0]};{DOCTORS[1]}", "MA_BENH": "K35.8",
            "NGAY_YL": self.at(90), "NGAY_TH_YL": self.at(120), "NGAY_KQ": self.at(180), "MA_PTTT": 1, "PP_VO_CAM": 1,
        })

    def results(self, service: str, n: int) -> None:
        rows = self.tables.setdefault("XML4", [])
        for _ in range(n):
            code, name, value, unit = self.rng.choice(LAB_INDICES)
            rows.append({"MA_LK": self.ma_lk, "STT": len(rows) + 1, "MA_DICH_VU": service, "MA_CHI_SO": code,
                         "TEN_CHI_SO": name, "GIA_TRI": value, "DON_VI_DO": unit, "KET_LUAN": "Bình thường",
                         "NGAY_KQ": self.at(90), "MA_BS_DOC_KQ": DOCTORS[2]})

    def notes(self, n: int) -> None:
        rows = self.tables.setdefault("XML5", [])
        for i in range(n):
            rows.append({"MA_LK": self.ma_lk, "STT": len(rows) + 1,
                         "DIEN_BIEN_LS": f"Ngày {i + 1}: tỉnh, tiếp xúc tốt, không sốt; bụng mềm.",
                         "THOI_DIEM_DBLS": self.at(60 * 24 * i + 420), "NGUOI_THUC_HIEN": DOCTORS[1]})

    def discharge(self, end: dt.datetime, dx: str) -> None:
        """The discharge paper (XML7) and the record summary (XML8) of an inpatient stay."""
        self.tables["XML7"] = {
            "MA_LK": self.ma_lk, "SO_LUU_TRU": "LT" + self.ma_lk[-8:], "MA_YTE": "BN" + self.ma_lk[-8:],  # MA_BN
            "MA_KHOA_RV": "K01", "NGAY_VAO": self.start, "NGAY_RA": end, "CHAN_DOAN_RV": dx,
            "PP_DIEUTRI": "Điều trị nội khoa", "MA_TTDV": "0100000009", "MA_BS": DOCTORS[1],
            "TEN_BS": "Bác sĩ Khoa Nội", "NGAY_CT": end.date(),
        }
        self.tables["XML8"] = {
            "MA_LK": self.ma_lk, "MA_LOAI_KCB": "03", "NGAY_VAO": self.start, "NGAY_RA": end, "CHAN_DOAN_VAO": dx,
            "CHAN_DOAN_RV": dx, "QT_BENHLY": "Khởi phát 2 ngày trước khi vào viện.",
            "TOMTAT_KQ": "Xét nghiệm trong giới hạn bình thường.", "PP_DIEUTRI": "Điều trị nội trú",
            "KET_QUA_DTRI": 1, "MA_TTDV": "0100000009", "NGAY_CT": end.date(),
        }

    def summary(self, person: Person, end: dt.datetime, *, loai_kcb: str = "01", khoa: str = "K01",
                cards: list[tuple[str, str, dt.date, dt.date]] | None = None, **extra: Any) -> dict[str, Any]:
        if cards is None:
            cards = [(person.card, "79001", dt.date(end.year, 1, 1), dt.date(end.year, 12, 31))] if self.insured else []
        days = (end.date() - self.start.date()).days + (0 if loai_kcb == "01" else 1)
        for bed in (r for r in self.tables.get("XML3", []) if r["MA_NHOM"] == 15 and not r.get("NGAY_KQ")):
            bed["NGAY_KQ"] = end  # XML3 NGAY_KQ «ngày giường bệnh: … thời điểm kết thúc sử dụng … giường bệnh»
        row = {
            "MA_LK": self.ma_lk, "STT": 1, "MA_BN": "BN" + self.ma_lk[-8:], "HO_TEN": person.name,
            "SO_CCCD": person.cccd, "NGAY_SINH": person.born, "GIOI_TINH": 2 if person.female else 1,
            "NHOM_MAU": self.rng.choice(["A", "B", "AB", "O"]), "MA_QUOCTICH": "704", "MA_DANTOC": "01",
            "MA_NGHE_NGHIEP": "00000", "DIA_CHI": person.address, "MATINH_CU_TRU": "79", "MAHUYEN_CU_TRU": "760",
            "MAXA_CU_TRU": "26734", "DIEN_THOAI": "09" + person.bhxh[:8],
            "MA_THE_BHYT": [c[0] for c in cards] or None, "MA_DKBD": [c[1] for c in cards] or None,
            "GT_THE_TU": [c[2] for c in cards] or None, "GT_THE_DEN": [c[3] for c in cards] or None,
            "LY_DO_VV": "Đau họng, sốt nhẹ", "CHAN_DOAN_VAO": "Viêm họng cấp", "CHAN_DOAN_RV": "Viêm họng cấp",
            "MA_BENH_CHINH": "J02.9", "MA_BENH_KT": "K21.9;E11.9",
            "MA_DOITUONG_KCB": "1.1" if self.insured else "9",
            "NGAY_VAO": self.start, "NGAY_RA": end, "SO_NGAY_DTRI": days, "KET_QUA_DTRI": 1, "MA_LOAI_RV": 1,
            "NGAY_TTOAN": end,
            "T_THUOC": self.drug_total, "T_VTYT": self.supply_total, "T_TONGCHI_BV": self.totals["bv"],
            "T_TONGCHI_BH": self.totals["bh"], "T_BNTT": self.totals["bntt"], "T_BNCCT": self.totals["bncct"],
            "T_BHTT": self.totals["bhtt"], "T_NGUONKHAC": Decimal(0),
            "T_BHTT_GDV": self.totals["bhtt"],  # Σ T_BHTT of MA_PTTT 1 rows: every synthetic row is fee for service
            "NAM_QT": end.year, "THANG_QT": end.month, "MA_LOAI_KCB": loai_kcb, "MA_KHOA": khoa,
            "MA_CSKCB": FACILITY, "CAN_NANG": Decimal("56.50"), "MA_HSBA": "HSBA-" + self.ma_lk[-8:],
            "MA_TTDV": "0100000009",
        }
        row.update(extra)
        self.tables["XML1"] = row
        return row

    def build(self) -> dict[str, Any]:
        """The hồ sơ as ``{table: row or rows}``, keeping only the fields of the spec version in force."""
        version = self.version or load_spec().for_date(episode_date(self.tables["XML1"]))
        out: dict[str, Any] = {}
        for tid in sorted(self.tables, key=lambda t: int(t[3:])):
            names = set(version[tid].names)
            rows = self.tables[tid]
            if isinstance(rows, dict):
                out[tid] = {k: v for k, v in rows.items() if k in names}
            else:
                out[tid] = [{k: v for k, v in r.items() if k in names} for r in rows]
        return out


def outpatient(rng: random.Random, ma_lk: str, start: dt.datetime, *, drugs: int = 4, services: int = 4) -> dict:
    ep = EpisodeBuilder(rng, ma_lk, start)
    person = Person(rng)
    ep.services(services)
    ep.drugs(drugs)
    ep.summary(person, ep.at(150), loai_kcb="01")
    return ep.build()


def batch_hoso(rng: random.Random, ma_lk: str, start: dt.datetime) -> dict:
    """A hồ sơ with realistic volume for benchmarks: about 60–80 rows across XML1–XML5."""
    ep = EpisodeBuilder(rng, ma_lk, start)
    person = Person(rng)
    ep.services(rng.randint(18, 24))  # with lab results in XML4
    ep.drugs(rng.randint(18, 24))
    ep.notes(3)  # one progress note a day
    ep.bed(3, "K01", "H001")
    end = ep.at(60 * 24 * 3)
    ep.summary(person, end, loai_kcb="03", NGAY_VAO_NOI_TRU=ep.at(30), SO_NGAY_DTRI=4)
    ep.discharge(end, "Viêm họng cấp")
    return ep.build()


def generate_batch(n: int, seed: int = 130, start: dt.datetime = dt.datetime(2026, 11, 2, 7, 0)):
    """Yield ``n`` benchmark hồ sơ (deterministic for the same seed)."""
    rng = random.Random(seed)
    for i in range(n):
        yield batch_hoso(rng, f"79999{start:%y%m%d}{i:08d}", start + dt.timedelta(minutes=i % 600))
