"""Named synthetic scenarios: the committed fixtures (``fixtures/``) and the demo are made from these.

``VALID`` holds hồ sơ that cover every table (and one check-in document and one XML12 table, which travel on
their own). ``INVALID`` holds files broken on purpose, each with the findings QA must see, written by hand here
(never recorded from the validator's output). ``xml130 fixtures --out fixtures`` regenerates the files; a test
checks the committed ones are byte-identical, so rendering stays deterministic.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal

from ..models import build_hoso, build_rows
from ..render import render_checkin, render_hoso, render_table
from ..spec import load_spec
from .synthetic import DOCTORS, FACILITY, EpisodeBuilder, Person

NGAYLAP = "20261120"  # fixed so that the fixtures are byte-identical on every run
D = dt.datetime


def _ep(seed: int, ma_lk: str, start: dt.datetime, female: bool | None = None) -> tuple[EpisodeBuilder, Person]:
    rng = random.Random(seed)
    return EpisodeBuilder(rng, ma_lk, start), Person(rng, female=female)


def outpatient_drugs_labs() -> dict:
    ep, p = _ep(1, "79999OP0001", D(2026, 11, 2, 7, 30))
    ep.services(4)
    ep.drugs(5)
    ep.summary(p, ep.at(150))
    return ep.build()


def inpatient_surgery_beds() -> dict:
    ep, p = _ep(2, "79999IP0002", D(2026, 11, 3, 9, 15))
    ep.services(3, "K12")
    ep.surgery("10.0618.0560", "Phẫu thuật nội soi cắt ruột thừa", "2748000.000")
    ep.supply("Kim khâu phẫu thuật", "35000.000")
    ep.bed(4, "K12", "H012;T012")
    ep.drugs(6, "K12")
    ep.notes(4)
    end = ep.at(60 * 24 * 4 + 120)
    ep.summary(p, end, loai_kcb="03", khoa="K01;K12", NGAY_VAO_NOI_TRU=ep.at(45), MA_BENH_CHINH="K35.8",
               MA_BENH_KT="", MA_PTTT_QT="47.09", CHAN_DOAN_RV="Viêm ruột thừa cấp",
               LY_DO_VNT="Đau hố chậu phải", MA_LY_DO_VNT="1")
    ep.tables["XML7"] = {
        "MA_LK": ep.ma_lk, "SO_LUU_TRU": "LT-2026-0002", "MA_YTE": ep.tables["XML1"]["MA_BN"], "MA_KHOA_RV": "K12",
        "NGAY_VAO": ep.start, "NGAY_RA": end, "CHAN_DOAN_RV": "Viêm ruột thừa cấp",
        "PP_DIEUTRI": "Phẫu thuật nội soi cắt ruột thừa", "MA_TTDV": "0100000009", "MA_BS": DOCTORS[0],
        "TEN_BS": "Bác sĩ Trưởng khoa Ngoại", "NGAY_CT": end.date(), "SO_NGAY_NGHI": 7,
        "NGOAITRU_TUNGAY": end.date() + dt.timedelta(days=1), "NGOAITRU_DENNGAY": end.date() + dt.timedelta(days=7),
    }
    ep.tables["XML8"] = _summary_paper(ep, end, "03", "Viêm ruột thừa cấp")
    return ep.build()


def _summary_paper(ep: EpisodeBuilder, end: dt.datetime, loai: str, dx: str, **extra) -> dict:
    return {
        "MA_LK": ep.ma_lk, "MA_LOAI_KCB": loai, "NGAY_VAO": ep.start, "NGAY_RA": end,
        "CHAN_DOAN_VAO": dx, "CHAN_DOAN_RV": dx, "QT_BENHLY": "Khởi phát 2 ngày trước khi vào viện.",
        "TOMTAT_KQ": "Xét nghiệm trong giới hạn bình thường.", "PP_DIEUTRI": "Điều trị nội trú",
        "KET_QUA_DTRI": 1, "MA_TTDV": "0100000009", "NGAY_CT": end.date(), **extra,
    }


def birth_twins() -> dict:
    ep, mother = _ep(3, "79999BT0003", D(2026, 11, 5, 22, 10), female=True)
    ep.services(2, "K26")
    ep.drugs(3, "K26")
    ep.notes(2)
    born = ep.at(200)
    end = ep.at(60 * 24 * 3)
    ep.summary(mother, end, loai_kcb="03", khoa="K26", MA_BENH_CHINH="O84.0", MA_BENH_KT="Z37.2",
               CHAN_DOAN_RV="Song thai, đẻ thường", CAN_NANG_CON="2800;2650", NGAY_VAO_NOI_TRU=ep.at(20),
               GIOI_TINH=2)
    ep.tables["XML7"] = {
        "MA_LK": ep.ma_lk, "SO_LUU_TRU": "LT-2026-0003", "MA_YTE": ep.tables["XML1"]["MA_BN"], "MA_KHOA_RV": "K26",
        "NGAY_VAO": ep.start, "NGAY_RA": end, "CHAN_DOAN_RV": "Song thai, đẻ thường", "PP_DIEUTRI": "Đỡ đẻ thường",
        "MA_TTDV": "0100000009", "MA_BS": DOCTORS[3], "TEN_BS": "Bác sĩ Khoa Sản", "NGAY_CT": end.date(),
    }
    ep.tables["XML8"] = _summary_paper(ep, end, "03", "Song thai, đẻ thường", NGAY_SINHCON=born.date(),
                                       HO_TEN_ME=mother.name)
    babies = []
    for i, (sex, weight) in enumerate(((1, "2800"), (2, "2650")), start=1):
        babies.append({
            "MA_LK": ep.ma_lk, "MA_BHXH_NND": mother.bhxh, "MA_THE_NND": mother.card, "HO_TEN_NND": mother.name,
            "NGAYSINH_NND": mother.born, "MA_DANTOC_NND": "01", "SO_CCCD_NND": mother.cccd,
            "NGAYCAP_CCCD_NND": dt.date(2021, 6, 1), "NOICAP_CCCD_NND": "Cục Cảnh sát QLHC về TTXH",
            "NOI_CU_TRU_NND": mother.address, "MA_QUOCTICH": "704", "MATINH_CU_TRU": "79", "MAHUYEN_CU_TRU": "760",
            "MAXA_CU_TRU": "26734", "HO_TEN_CHA": "Trần Văn Bình", "MA_THE_TAM": f"TE179{4000000000 + i}",
            "HO_TEN_CON": f"Con {i} của {mother.name}", "GIOI_TINH_CON": sex, "SO_CON": 2, "LAN_SINH": 1,
            "SO_CON_SONG": 2, "CAN_NANG_CON": Decimal(weight), "NGAY_SINH_CON": born + dt.timedelta(minutes=i * 7),
            "NOI_SINH_CON": "Khoa Sản, bệnh viện tổng hợp (tổng hợp)", "TINH_TRANG_CON": "Khỏe mạnh",
            "SINHCON_PHAUTHUAT": 0, "SINHCON_DUOI32TUAN": 0, "GHI_CHU": "Song thai", "NGUOI_DO_DE": "Hộ sinh A",
            "NGUOI_GHI_PHIEU": "Hộ sinh B", "NGAY_CT": end.date(), "SO": f"CS{i:04d}", "QUYEN_SO": "01/2026",
            "MA_TTDV": "0100000009",
        })
    ep.tables["XML9"] = babies
    return ep.build()


def newborn_temporary_card() -> dict:
    """A baby treated before its card is issued: temporary card TE1 + province + 10 digits, MA_DKBD 79000,
    GT_THE_TU the admission date, HO_TEN after the mother's name, NGAY_SINH with hour and minute."""
    ep, mother = _ep(4, "79999NB0004", D(2026, 11, 6, 3, 40), female=True)
    born = D(2026, 11, 1, 23, 5)
    baby = Person(ep.rng, female=False, born=born.date())
    baby.name = f"Con bà {mother.name}"
    baby.address = mother.address
    baby.cccd = None  # no birth registration yet (hence the temporary card): no personal identification number
    ep.services(2, "K48")
    ep.drugs(2, "K48")
    end = ep.at(60 * 24 * 2)
    card = f"TE179{'0' * 4}{123456}"
    ep.summary(baby, end, loai_kcb="03", khoa="K48", NGAY_SINH=born, CAN_NANG=Decimal("3.10"),
               cards=[(card, "79000", ep.start.date(), end.date())], MA_BENH_CHINH="P59.9",
               MA_BENH_KT="", CHAN_DOAN_RV="Vàng da sơ sinh", NGAY_VAO_NOI_TRU=ep.at(15))
    ep.tables["XML7"] = {
        "MA_LK": ep.ma_lk, "SO_LUU_TRU": "LT-2026-0004", "MA_YTE": ep.tables["XML1"]["MA_BN"], "MA_KHOA_RV": "K48",
        "NGAY_VAO": ep.start, "NGAY_RA": end, "CHAN_DOAN_RV": "Vàng da sơ sinh", "PP_DIEUTRI": "Chiếu đèn",
        "MA_TTDV": "0100000009", "MA_BS": DOCTORS[2], "TEN_BS": "Bác sĩ Khoa Nhi", "NGAY_CT": end.date(),
        "MA_ME": mother.bhxh, "MA_THE_TAM": card, "HO_TEN_ME": mother.name,
    }
    ep.tables["XML8"] = _summary_paper(ep, end, "03", "Vàng da sơ sinh", HO_TEN_ME=mother.name, MA_THE_TAM=card)
    return ep.build()


def sick_leave() -> dict:
    ep, p = _ep(5, "79999SL0005", D(2026, 11, 9, 8, 0))
    ep.services(2)
    ep.drugs(3)
    end = ep.at(120)
    ep.summary(p, end, MA_BENH_CHINH="J11.1", CHAN_DOAN_RV="Cúm")
    ep.tables["XML11"] = {
        "MA_LK": ep.ma_lk, "SO_CT": "CT-0005", "SO_SERI": "AA/26-0005", "SO_KCB": "KCB-0005",
        "DON_VI": "Công ty TNHH Ví Dụ", "MA_BHXH": p.bhxh, "MA_THE_BHYT": p.card, "CHAN_DOAN_RV": "Cúm",
        "PP_DIEUTRI": "Điều trị ngoại trú", "SO_NGAY_NGHI": 3, "TU_NGAY": end.date(),
        "DEN_NGAY": end.date() + dt.timedelta(days=2), "MA_TTDV": "0100000009", "MA_BS": DOCTORS[0],
        "NGAY_CT": end.date(), "MAU_SO": "CV130",
    }
    return ep.build()


def maternity_leave() -> dict:
    ep, p = _ep(6, "79999ML0006", D(2026, 11, 10, 8, 30), female=True)
    ep.services(2, "K26")
    end = ep.at(100)
    ep.summary(p, end, khoa="K26", GIOI_TINH=2, MA_BENH_CHINH="O20.0", MA_BENH_KT="",
               CHAN_DOAN_RV="Dọa sẩy thai")
    ep.tables["XML10"] = {
        "MA_LK": ep.ma_lk, "SO_SERI": "DT/26-0006", "SO_CT": "CT-0006", "SO_NGAY": 10,
        "DON_VI": "Trường Tiểu học Ví Dụ", "CHAN_DOAN_RV": "Dọa sẩy thai", "TU_NGAY": end.date(),
        "DEN_NGAY": end.date() + dt.timedelta(days=9), "MA_TTDV": "0100000009", "TEN_BS": "Bác sĩ Khoa Sản",
        "MA_BS": DOCTORS[3], "NGAY_CT": end.date(),
    }
    return ep.build()


def referral() -> dict:
    ep, p = _ep(7, "79999RF0007", D(2026, 11, 11, 9, 0))
    ep.services(3)
    end = ep.at(180)
    ep.summary(p, end, MA_LOAI_RV=2, MA_NOI_DEN="79001", GIAY_CHUYEN_TUYEN="CT-2026-0007",
               MA_BENH_CHINH="I21.9", MA_BENH_KT="", CHAN_DOAN_RV="Nhồi máu cơ tim cấp")
    ep.tables["XML13"] = {
        "MA_LK": ep.ma_lk, "SO_HOSO": "HS-0007", "SO_CHUYENTUYEN": "0007/CT", "GIAY_CHUYEN_TUYEN": "CT-2026-0007",
        "MA_CSKCB": FACILITY, "MA_NOI_DI": None, "MA_NOI_DEN": "79001", "HO_TEN": p.name,
        "NGAY_SINH": p.born, "GIOI_TINH": 2 if p.female else 1, "MA_QUOCTICH": "704", "MA_DANTOC": "01",
        "MA_NGHE_NGHIEP": "00000", "DIA_CHI": p.address, "MA_THE_BHYT": p.card,
        "GT_THE_DEN": dt.date(2026, 12, 31), "NGAY_VAO": ep.start, "NGAY_RA": end,
        "DAU_HIEU_LS": "Đau ngực trái dữ dội", "CHAN_DOAN_RV": "Nhồi máu cơ tim cấp",
        "QT_BENHLY": "Đau ngực 2 giờ", "TOMTAT_KQ": "ECG ST chênh lên", "PP_DIEUTRI": "Thở oxy, aspirin",
        "MA_BENH_CHINH": "I21.9", "MA_LOAI_RV": 2, "MA_LYDO_CT": 1, "HUONG_DIEU_TRI": "Can thiệp mạch vành",
        "PHUONGTIEN_VC": "Xe cứu thương", "HOTEN_NGUOI_HT": "Điều dưỡng C", "CHUCDANH_NGUOI_HT": "Điều dưỡng",
        "MA_BAC_SI": DOCTORS[0], "MA_TTDV": "0100000009",
    }
    return ep.build()


def reexam_appointment() -> dict:
    ep, p = _ep(8, "79999RE0008", D(2026, 11, 12, 7, 45))
    ep.services(2)
    ep.drugs(4)
    end = ep.at(90)
    back = dt.date(2026, 12, 12)
    ep.summary(p, end, NGAY_TAI_KHAM=[back], MA_BENH_CHINH="E11.9", MA_BENH_KT="I10",
               CHAN_DOAN_RV="Đái tháo đường typ 2")
    ep.tables["XML14"] = {
        "MA_LK": ep.ma_lk, "SO_GIAYHEN_KL": "HK-0008", "MA_CSKCB": FACILITY, "HO_TEN": p.name,
        "NGAY_SINH": p.born, "GIOI_TINH": 2 if p.female else 1, "DIA_CHI": p.address, "MA_THE_BHYT": p.card,
        "GT_THE_DEN": dt.date(2026, 12, 31), "NGAY_VAO": ep.start, "NGAY_RA": end,
        "NGAY_HEN_KL": dt.datetime.combine(back, dt.time(7, 30)), "CHAN_DOAN_RV": "Đái tháo đường typ 2",
        "MA_BENH_CHINH": "E11.9", "MA_BENH_KT": "I10", "MA_DOITUONG_KCB": "1.1", "MA_BAC_SI": DOCTORS[1],
        "MA_TTDV": "0100000009", "NGAY_CT": end.date(),
    }
    return ep.build()


def hiv_care() -> dict:
    ep, p = _ep(9, "79999HV0009", D(2026, 11, 13, 8, 0))
    ep.services(1)
    ep.drugs(2)
    end = ep.at(60)
    ep.summary(p, end, MA_BENH_CHINH="B20", MA_BENH_KT="", CHAN_DOAN_RV="Nhiễm HIV", MA_LOAI_KCB="07")
    ep.tables["XML6"] = [{
        "MA_LK": ep.ma_lk, "MA_THE_BHYT": p.card, "SO_CCCD": p.cccd, "NGAY_SINH": p.born,
        "GIOI_TINH": 2 if p.female else 1, "DIA_CHI": p.address, "MATINH_CU_TRU": "79", "MAHUYEN_CU_TRU": "760",
        "MAXA_CU_TRU": "26734", "NGAYKD_HIV": dt.date(2021, 3, 4), "NOI_LAY_MAU_XN": FACILITY,
        "NOI_XN_KD": "79001", "NOI_BDDT_ARV": FACILITY, "BDDT_ARV": dt.date(2021, 3, 20),
        "MA_PHAC_DO_DIEU_TRI_BD": "1a", "MA_BAC_PHAC_DO_BD": 1, "MA_LYDO_DTRI": 1, "LOAI_DTRI_LAO": 0,
        "MA_LOAI_BN": 1, "MA_TINH_TRANG_DK": "9", "MA_XU_TRI": 1, "NGAY_BAT_DAU_XU_TRI": end.date(),
        "NGAY_KET_THUC_XU_TRI": end.date() + dt.timedelta(days=90), "MA_PHAC_DO_DIEU_TRI": "1a",
        "SO_NGAY_CAP_THUOC_ARV": 90, "MA_CSKCB": FACILITY,
    }]
    return ep.build()


def tb_treatment() -> dict:
    ep, p = _ep(10, "79999TB0010", D(2026, 11, 16, 8, 0))
    ep.services(2)
    ep.drugs(3)
    end = ep.at(75)
    ep.summary(p, end, MA_BENH_CHINH="A15.0", MA_BENH_KT="", CHAN_DOAN_RV="Lao phổi AFB(+)")
    ep.tables["XML15"] = [{
        "MA_LK": ep.ma_lk, "STT": 1, "MA_BN": "BN" + ep.ma_lk[-8:], "HO_TEN": p.name, "SO_CCCD": p.cccd,
        "PHANLOAI_LAO_VITRI": 1, "PHANLOAI_LAO_TS": 1, "PHANLOAI_LAO_HIV": 2, "PHANLOAI_LAO_VK": 1,
        "PHANLOAI_LAO_KT": 1, "LOAI_DTRI_LAO": 1, "NGAYBD_DTRI_LAO": dt.date(2026, 10, 1), "PHACDO_DTRI_LAO": 1,
        "KET_QUA_DTRI_LAO": 0, "MA_CSKCB": FACILITY,
    }]
    return ep.build()


def two_cards() -> dict:
    """An episode across a card renewal: both cards `;`-joined, with matching MA_DKBD / GT_THE_TU / GT_THE_DEN."""
    ep, p = _ep(11, "79999TC0011", D(2026, 11, 28, 10, 0))
    ep.services(2)
    ep.drugs(4)
    ep.notes(3)
    end = ep.at(60 * 24 * 5)
    second = p.card[:3] + "79" + p.bhxh
    ep.summary(p, end, loai_kcb="03", NGAY_VAO_NOI_TRU=ep.at(30), SO_NGAY_DTRI=6,
               cards=[(p.card, "79001", dt.date(2025, 12, 1), dt.date(2026, 11, 30)),
                      (second, "79001", dt.date(2026, 12, 1), dt.date(2027, 11, 30))])
    ep.tables["XML7"] = {
        "MA_LK": ep.ma_lk, "SO_LUU_TRU": "LT-2026-0011", "MA_YTE": ep.tables["XML1"]["MA_BN"], "MA_KHOA_RV": "K01",
        "NGAY_VAO": ep.start, "NGAY_RA": end, "CHAN_DOAN_RV": "Viêm họng cấp", "PP_DIEUTRI": "Điều trị nội khoa",
        "MA_TTDV": "0100000009", "MA_BS": DOCTORS[1], "TEN_BS": "Bác sĩ Khoa Nội", "NGAY_CT": end.date(),
    }
    ep.tables["XML8"] = _summary_paper(ep, end, "03", "Viêm họng cấp")
    return ep.build()


def foreigner_self_paying() -> dict:
    """A foreigner identified by passport, without BHYT (QĐ 3276/2025: MA_DOITUONG_KCB 9): the card fields empty,
    TYLE_TT_BH and MUC_HUONG 0, the fund's amounts 0, the patient pays everything (T_BNTT = T_TONGCHI_BV)."""
    ep, p = _ep(13, "79999SP0013", D(2026, 11, 21, 9, 0))
    ep.uninsured()
    ep.services(3)
    ep.drugs(3)
    ep.summary(p, ep.at(120), HO_TEN="KIM MIN JUN", SO_CCCD="M12345678", MA_QUOCTICH="410", MA_DANTOC="55",
               DIA_CHI="Khách sạn Ví Dụ, số 5 đường Lê Lợi, TP Hồ Chí Minh")
    return ep.build()


def outpatient_2024() -> dict:
    """An episode of 2024: spec version 4750 (no NHOM_MAU, no NGAY_TH_YL, MUC_HUONG an integer)."""
    ep, p = _ep(12, "79999OP0012", D(2024, 6, 3, 8, 0))
    ep.services(3)
    ep.drugs(3)
    ep.summary(p, ep.at(100))
    return ep.build()


def checkin_rows() -> list[dict]:
    """Check-in (trạng thái KCB) rows: one first cost at reception, one ward admission."""
    rng = random.Random(20)
    p1, p2 = Person(rng), Person(rng)
    common = {"MA_DOITUONG_KCB": "1.1", "MA_CSKCB": FACILITY, "MA_DKBD": "79001", "GT_THE_TU": dt.date(2026, 1, 1),
              "GT_THE_DEN": dt.date(2026, 12, 31)}
    return [
        {"MA_LK": "79999CI0001", "STT": 1, "MA_BN": "BNCI0001", "HO_TEN": p1.name, "SO_CCCD": p1.cccd,
         "NGAY_SINH": p1.born, "GIOI_TINH": 2 if p1.female else 1, "MA_THE_BHYT": p1.card, **common,
         "NGAY_VAO": D(2026, 11, 20, 7, 5), "MA_LOAI_KCB": "01", "MA_DICH_VU": "02.1896",
         "TEN_DICH_VU": "Khám Nội", "NGAY_YL": D(2026, 11, 20, 7, 10)},
        {"MA_LK": "79999CI0002", "STT": 2, "MA_BN": "BNCI0002", "HO_TEN": p2.name, "SO_CCCD": p2.cccd,
         "NGAY_SINH": p2.born, "GIOI_TINH": 2 if p2.female else 1, "MA_THE_BHYT": p2.card, **common,
         "NGAY_VAO": D(2026, 11, 20, 6, 50), "NGAY_VAO_NOI_TRU": D(2026, 11, 20, 9, 30),
         "LY_DO_VNT": "Viêm phổi cần theo dõi", "MA_LY_DO_VNT": "1", "MA_LOAI_KCB": "03",
         "MA_DICH_VU": "K01.1918", "TEN_DICH_VU": "Giường Nội khoa loại 1", "NGAY_YL": D(2026, 11, 20, 9, 45)},
    ]


def xml12_row() -> dict:
    rng = random.Random(21)
    p = Person(rng)
    return {
        "NGUOI_CHU_TRI": "Chủ tịch Hội đồng GĐYK", "CHUC_VU": 1, "NGAY_HOP": dt.date(2026, 11, 18), "HO_TEN": p.name,
        "NGAY_SINH": p.born, "SO_CCCD": p.cccd, "NGAY_CAP_CCCD": dt.date(2021, 6, 1),
        "NOI_CAP_CCCD": "Cục Cảnh sát QLHC về TTXH", "DIA_CHI": p.address, "MATINH_CU_TRU": "79",
        "MAHUYEN_CU_TRU": "760", "MAXA_CU_TRU": "26734", "MA_BHXH": p.bhxh, "MA_THE_BHYT": p.card,
        "DIEN_THOAI": "0900000000", "MA_DOI_TUONG": "1", "KHAM_GIAM_DINH": 1, "SO_BIEN_BAN": "BB-0001",
        "DANG_HUONG_CHE_DO": "2", "NGAY_CHUNG_TU": dt.date(2026, 11, 18), "SO_GIAY_GIOI_THIEU": "GT-01",
        "NGAY_DE_NGHI": dt.date(2026, 11, 1), "MA_DONVI": "DV01", "GIOI_THIEU_CUA": "BHXH TP Hồ Chí Minh",
        "KET_QUA_KHAM": "Suy giảm khả năng lao động", "SO_VAN_BAN_CAN_CU": "TT 56/2017", "TYLE_TTCT_MOI": 35,
        "TONG_TYLE_TTCT": 35, "DE_NGHI": "Không", "DUOC_XACDINH": "Bệnh nghề nghiệp",
    }


VALID: dict[str, Callable[[], dict]] = {
    "outpatient_drugs_labs": outpatient_drugs_labs,
    "inpatient_surgery_beds": inpatient_surgery_beds,
    "birth_twins": birth_twins,
    "newborn_temporary_card": newborn_temporary_card,
    "sick_leave": sick_leave,
    "maternity_leave": maternity_leave,
    "referral": referral,
    "reexam_appointment": reexam_appointment,
    "hiv_care": hiv_care,
    "tb_treatment": tb_treatment,
    "two_cards": two_cards,
    "foreigner_self_paying": foreigner_self_paying,
    "outpatient_2024": outpatient_2024,
}


def valid_files() -> dict[str, bytes]:
    """File name → bytes of every valid fixture."""
    out = {f"{name}.xml": render_hoso(build_hoso(make()), ngaylap=NGAYLAP) for name, make in VALID.items()}
    latest = load_spec().latest
    out["checkin.xml"] = render_checkin(latest, build_rows(latest, "XML0", checkin_rows()))
    out["xml12_giam_dinh_y_khoa.xml"] = render_table(latest["XML12"], build_rows(latest, "XML12", [xml12_row()]))
    return out
