"""A second bundled HIS shape, unlike the demo HIS: Vietnamese table and column names, text keys
(``so_vao_vien``), dates kept as text in several formats (``dd/mm/yyyy hh:mm`` in ``luot_kham``, ``yyyy-mm-dd`` on
cards, ``yyyymmddHHMM`` on drug orders) next to real timestamps, money as integer đồng, quantities as text
(``"0,5"``), sex as ``'Nam'``/``'Nữ'``, a yes/no column as ``'Có'``/``'Không'``. Its mapping
(``xml130/demo/vn_his.toml``) has no SQL cast, so it runs on SQLite, PostgreSQL and MariaDB alike.

Synthetic and deterministic (same seed, same rows). Every episode is one case of ``CASES``: an outpatient
visit; a newborn without a name whose mother is another patient of the hospital (the patient of the episode
before); a visit with two cards; an inpatient stay under 4 hours (MA_LOAI_KCB 09); a self-paying patient and a
foreigner identified by passport, both without a card (doi_tuong 9).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    insert,
)

from .synthetic import DOCTORS, FAMILY, GIVEN_F, GIVEN_M, MIDDLE_F, MIDDLE_M, STREETS

FACILITY = "79998"
START = dt.datetime(2026, 11, 9, 7, 0)
TEXT_DT = "%d/%m/%Y %H:%M"  # luot_kham's dates and closing time
meta = MetaData()
S = String

khoa = Table("khoa", meta, Column("ma_khoa", S(20), primary_key=True), Column("ten_khoa", S(200)),
             Column("ma_khoa_bhyt", S(10)))
benh_nhan = Table(
    "benh_nhan", meta, Column("ma_bn", S(20), primary_key=True), Column("ho_ten", S(300)),
    Column("ngay_sinh", S(16)), Column("gioi_tinh", S(5)), Column("so_cccd", S(12)), Column("dia_chi", S(300)),
    Column("ma_tinh", S(3)), Column("ma_huyen", S(5)), Column("ma_xa", S(7)), Column("dan_toc", S(2)),
    Column("quoc_tich", S(3)), Column("nghe_nghiep", S(5)), Column("dien_thoai", S(15)), Column("ma_bn_me", S(20)))
luot_kham = Table(
    "luot_kham", meta, Column("so_vao_vien", S(20), primary_key=True), Column("ma_lk", S(50)),
    Column("ma_bn", S(20)), Column("loai_kham", S(20)), Column("doi_tuong", S(5)), Column("ngay_vao", S(16)),
    Column("ngay_vao_noi_tru", S(16)), Column("ngay_ra", DateTime), Column("ngay_thanh_toan", S(12)),
    Column("ngay_dong", S(16)), Column("ly_do", S(200)), Column("chan_doan", S(200)), Column("ma_benh", S(10)),
    Column("ket_qua", Integer), Column("loai_ra", Integer), Column("ma_khoa", S(20)), Column("can_nang", S(10)),
    Column("muc_huong", Integer), Column("so_benh_an", S(20)))
the_bhyt = Table(
    "the_bhyt", meta, Column("so_vao_vien", S(20)), Column("thu_tu", Integer), Column("ma_the", S(15)),
    Column("noi_dkbd", S(5)), Column("tu_ngay", S(10)), Column("den_ngay", S(10)), Column("the_tam", S(5)),
    PrimaryKeyConstraint("so_vao_vien", "thu_tu"))
chi_dinh_thuoc = Table(
    "chi_dinh_thuoc", meta, Column("id", S(36), primary_key=True), Column("so_vao_vien", S(20)),
    Column("thu_tu", Integer), Column("ma_thuoc", S(20)), Column("ten_thuoc", S(200)), Column("don_vi", S(20)),
    Column("ham_luong", S(50)), Column("duong_dung", S(10)), Column("so_dang_ky", S(20)),
    Column("thong_tin_thau", S(50)), Column("nhom", Integer), Column("so_luong", S(10)), Column("don_gia", Integer),
    Column("ty_le_tt", Integer), Column("lieu_dung", S(100)), Column("cach_dung", S(100)), Column("ma_khoa", S(20)),
    Column("bac_si", S(20)), Column("ngay_y_lenh", S(12)), Column("ngay_th", S(12)))
chi_dinh_dvkt = Table(
    "chi_dinh_dvkt", meta, Column("id", S(36), primary_key=True), Column("so_vao_vien", S(20)),
    Column("thu_tu", Integer), Column("ma_dich_vu", S(30)), Column("ten_dich_vu", S(200)), Column("nhom", Integer),
    Column("don_vi", S(20)), Column("so_luong", Integer), Column("don_gia", Integer), Column("ty_le_tt", Integer),
    Column("ma_khoa", S(20)), Column("bac_si", S(20)), Column("nguoi_th", S(20)), Column("ngay_y_lenh", DateTime),
    Column("ngay_kq", S(19)))
vn_case = Table("vn_case", meta, Column("ma_lk", S(50), primary_key=True), Column("so_vao_vien", S(20)),
                Column("case_name", S(30)))

KHOA = [("PK", "Phòng khám Nội", "K01"), ("NHI", "Khoa Nhi", "K48"), ("NOI", "Khoa Nội", "K03")]
DRUGS = [  # code, name, unit, strength, route, reg no, bid, price (đồng)
    ("40.17", "Paracetamol", "viên", "500mg", "1.01", "VD-12345-20", "57/QĐ-TTMS;G1;N4;2025", 1200),
    ("40.48", "Amoxicilin", "viên", "500mg", "1.01", "VD-22345-21", "57/QĐ-TTMS;G1;N4;2025;G2.01", 2350),
    ("40.677", "Omeprazol", "viên", "20mg", "1.01", "VD-32345-19", "120/QĐ-SYT;G2;N4;2025;31", 980),
]
SERVICES = [("02.1896", "Khám Nội", 1, 38700), ("23.0058", "Định lượng Glucose", 2, 21500),
            ("22.0120", "Tổng phân tích tế bào máu ngoại vi", 2, 46200)]


def case_of(i: int) -> str:
    if i % 20 == 9:
        return "foreigner"
    return {3: "newborn_mother", 5: "two_cards", 7: "short_stay", 8: "self_paying"}.get(i % 10, "outpatient")


UNINSURED = ("self_paying", "foreigner")  # no card: doi_tuong 9 (QĐ 3276/2025), 15 % of the episodes


def ma_lk(i: int) -> str:
    return f"{FACILITY}{START:%y%m}{i:08d}"


def _uuid(r: random.Random) -> str:
    return str(uuid.UUID(int=r.getrandbits(128), version=4))


def _episode(r: random.Random, i: int, rows: dict[str, list[dict]]) -> None:
    case = case_of(i)
    svv = f"VV{START:%y%m}-{i:05d}"
    arrived = START + dt.timedelta(minutes=37 * i)
    female = case == "outpatient" and i % 10 == 2 or r.random() < 0.5
    patient = {"ma_bn": f"BN-{i:06d}", "ho_ten": None, "gioi_tinh": "Nữ" if female else "Nam",
               "so_cccd": f"0792{r.randint(10**7, 10**8 - 1)}", "dia_chi": f"Số {r.randint(1, 300)} đường "
               f"{r.choice(STREETS)}, TP Hồ Chí Minh", "ma_tinh": "79", "ma_huyen": "760", "ma_xa": "26734",
               "dan_toc": "01", "quoc_tich": "000", "nghe_nghiep": "00000", "dien_thoai": f"09{r.randint(10**7, 10**8 - 1)}",
               "ma_bn_me": None}
    kind, stay, dept, icd, dx = "Ngoại trú", dt.timedelta(minutes=r.randint(50, 150)), "PK", "J02.9", "Viêm họng cấp"
    if case == "newborn_mother":
        born = arrived - dt.timedelta(days=5, hours=3, minutes=r.randint(0, 59))
        patient.update(ngay_sinh=born.strftime(TEXT_DT), ma_bn_me=f"BN-{i - 1:06d}", so_cccd=None,
                       gioi_tinh="Nữ" if r.random() < 0.5 else "Nam", dien_thoai=None)
        dept, icd, dx = "NHI", "P59.9", "Vàng da sơ sinh"
    else:
        family, given = r.choice(FAMILY), r.choice(GIVEN_F if female else GIVEN_M)
        patient.update(ho_ten=f"{family} {r.choice(MIDDLE_F if female else MIDDLE_M)} {given}",
                       ngay_sinh=dt.date(r.randint(1950, 2004), r.randint(1, 12), r.randint(1, 28)).strftime("%d/%m/%Y"))
    if case == "foreigner":  # identified by passport, the address as declared
        patient.update(ho_ten="TANAKA HIROSHI" if i % 40 == 9 else "KIM MIN JUN", so_cccd=f"TK{i:07d}",
                       quoc_tich="392" if i % 40 == 9 else "410", dan_toc="55",
                       dia_chi="Căn hộ dịch vụ Mẫu, số 8 đường Nguyễn Huệ, TP Hồ Chí Minh")
    ward = None
    if case == "short_stay":
        kind, stay, dept, ward = "Nội trú", dt.timedelta(hours=2, minutes=40), "NOI", arrived + dt.timedelta(minutes=20)
    left = arrived + stay
    closed = left + dt.timedelta(minutes=30)
    rows["benh_nhan"].append(patient)
    weight = "3,2" if case == "newborn_mother" else f"{r.randint(45, 80)},{r.randint(0, 9)}"
    muc_huong = r.choice([80, 95, 100])
    rows["luot_kham"].append({
        "so_vao_vien": svv, "ma_lk": ma_lk(i), "ma_bn": patient["ma_bn"], "loai_kham": kind,
        "doi_tuong": "9" if case in UNINSURED else "1.1",
        "ngay_vao": arrived.strftime(TEXT_DT), "ngay_vao_noi_tru": ward.strftime(TEXT_DT) if ward else None,
        "ngay_ra": left, "ngay_thanh_toan": (left + dt.timedelta(minutes=20)).strftime("%Y%m%d%H%M"),
        "ngay_dong": closed.strftime(TEXT_DT), "ly_do": "Sốt, ho" if case != "newborn_mother" else "Vàng da",
        "chan_doan": dx, "ma_benh": icd, "ket_qua": 1, "loai_ra": 1, "ma_khoa": dept,
        "can_nang": weight,
        "muc_huong": muc_huong if case not in UNINSURED else None, "so_benh_an": f"BA{i:07d}"})
    cards = [(f"GD479{r.randint(10**9, 10**10 - 1)}", f"{arrived.year}-01-01", f"{arrived.year}-12-31", "Không")]
    if case == "newborn_mother":
        cards = [(f"TE179{r.randint(10**9, 10**10 - 1)}", arrived.strftime("%Y-%m-%d"), None, "Có")]
    elif case == "two_cards":  # renewed during the visit: the old card ends the day of arrival
        nxt = arrived.date() + dt.timedelta(days=1)
        cards = [(cards[0][0], "2025-12-01", arrived.strftime("%Y-%m-%d"), "Không"),
                 (f"GD479{r.randint(10**9, 10**10 - 1)}", nxt.isoformat(), "2027-12-31", "Không")]
    if case in UNINSURED:  # drawn as for everyone, so that the other episodes stay the same; no card
        cards = []
    for seq, (no, start, end, temp) in enumerate(cards, start=1):  # a temporary card: the HIS holds its number
        rows["the_bhyt"].append({"so_vao_vien": svv, "thu_tu": seq, "ma_the": no,  # only (xml130 derives the rest)
                                 "noi_dkbd": None if temp == "Có" else FACILITY,
                                 "tu_ngay": None if temp == "Có" else start, "den_ngay": end, "the_tam": temp})
    t = arrived + dt.timedelta(minutes=5)
    for seq, (code, name, group, price) in enumerate([SERVICES[0], r.choice(SERVICES[1:])], start=1):
        rows["chi_dinh_dvkt"].append({
            "id": _uuid(r), "so_vao_vien": svv, "thu_tu": seq, "ma_dich_vu": code, "ten_dich_vu": name,
            "nhom": group, "don_vi": "lần", "so_luong": 1, "don_gia": price, "ty_le_tt": 100, "ma_khoa": dept,
            "bac_si": DOCTORS[0], "nguoi_th": DOCTORS[1], "ngay_y_lenh": t + dt.timedelta(minutes=10 * seq),
            "ngay_kq": (t + dt.timedelta(minutes=10 * seq + 40)).isoformat()})
    for seq in range(1, r.randint(2, 3) + 1):
        code, name, unit, strength, route, reg, bid, price = r.choice(DRUGS)
        when = t + dt.timedelta(minutes=45)
        rows["chi_dinh_thuoc"].append({
            "id": _uuid(r), "so_vao_vien": svv, "thu_tu": seq, "ma_thuoc": code, "ten_thuoc": name, "don_vi": unit,
            "ham_luong": strength, "duong_dung": route, "so_dang_ky": reg, "thong_tin_thau": bid, "nhom": 4,
            "so_luong": r.choice(["2", "6", "10", "0,5"]), "don_gia": price, "ty_le_tt": 100,
            "lieu_dung": "1 viên/lần x 2 lần/ngày", "cach_dung": "Uống sau ăn", "ma_khoa": dept,
            "bac_si": DOCTORS[2], "ngay_y_lenh": when.strftime("%Y%m%d%H%M"),
            "ngay_th": (when + dt.timedelta(minutes=10)).strftime("%Y%m%d%H%M")})
    rows["vn_case"].append({"ma_lk": ma_lk(i), "so_vao_vien": svv, "case_name": case})


def create_vn_his(url: str, episodes: int = 40, seed: int = 4750) -> None:
    """Create (or re-create) the second HIS shape at ``url`` with ``episodes`` episodes."""
    r = random.Random(seed)
    rows: dict[str, list[dict]] = {t: [] for t in meta.tables}
    rows["khoa"] = [{"ma_khoa": c, "ten_khoa": n, "ma_khoa_bhyt": k} for c, n, k in KHOA]
    for i in range(1, episodes + 1):
        _episode(r, i, rows)
    engine = create_engine(url)
    meta.drop_all(engine)
    meta.create_all(engine)
    with engine.begin() as conn:
        for name in meta.tables:
            if rows[name]:
                conn.execute(insert(meta.tables[name]), rows[name])
    engine.dispose()
