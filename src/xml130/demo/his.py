"""``xml130 demo-his``: create the demo HIS database at any size, deterministically (same seed, same rows).

Every episode is one case from ``CASES`` (chosen by its number, so every case appears in any database of a few
hundred episodes): ordinary outpatient and inpatient visits plus the edge cases of the standard — newborns on a
temporary card (with mother, father only, guardian, abandoned), twins, two cards in one episode, emergencies,
inpatient stays under 4 hours, long Vietnamese names, expired cards, patients without a card (self-paying,
identified only by VNeID, foreigners by passport: MA_DOITUONG_KCB 9) and a card that turns up the day after
admission — and two kinds of bad data a HIS really holds
(a name longer than the standard allows, a malformed ICD code) that must end in quarantine, never in a file.
``demo_case`` records the case of each episode and what the export must do with it.

The VNeID adoption facts (how reception identified the patient, level-2 identity, health book, the departments
that examined the patient, the staff roster's survey answers) come from a second random stream, so adding them
left every claim row as it was. Adoption grows week by week in every department, at different paces, as a
campaign does; ``minutes_between`` spreads the episodes over several weeks for the weekly report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, create_engine

from ..codes import ObjectCode
from . import his_schema as s
from .his_roster import roster
from .his_rows import RowBuilder
from .synthetic import FACILITY

START = dt.datetime(2026, 11, 2, 6, 30)
DEPARTMENTS = [  # local code, name, national code
    ("KB", "Khoa Khám bệnh", "K01"), ("CC", "Khoa Cấp cứu", "K02"), ("NOI", "Khoa Nội tổng hợp", "K03"),
    ("NGOAI", "Khoa Ngoại tổng hợp", "K12"), ("SAN", "Khoa Phụ sản", "K26"), ("NHI", "Khoa Nhi - Sơ sinh", "K48"),
    ("TNHIEM", "Khoa Truyền nhiễm", "K19"),
]
ITEMS = [  # local code, kind, national code, name, unit, strength, route, reg no, bid, group, price, pay rate
    ("T001", "drug", "40.17", "Paracetamol", "viên", "500mg", "1.01", "VD-12345-20", "57/QĐ-TTMS;G1;N4;2025", 4, "1200.000", 100),
    ("T002", "drug", "40.48", "Amoxicilin", "viên", "500mg", "1.01", "VD-22345-21", "57/QĐ-TTMS;G1;N4;2025;G2.01", 4, "2350.500", 100),
    ("T003", "drug", "40.677", "Omeprazol", "viên", "20mg", "1.01", "VD-32345-19", "120/QĐ-SYT;G2;N4;2025;31", 4, "980.000", 100),
    ("T004", "drug", "40.1002", "Natri clorid 0,9%", "chai", "500ml", "2.15", "VD-42345-22", "46/QĐ-TTMS;G1;N4;2024;00", 4, "11500.000", 100),
    ("T005", "drug", "40.322", "Ceftriaxon", "lọ", "1g", "2.10", "VN-52345-20", "250/QĐ-VCR;G1;N1;2025;79048", 4, "27600.000", 50),
    ("D001", "service", "02.1896", "Khám Nội", "lần", None, None, None, None, 13, "38700.000", 100),
    ("D002", "service", "23.0058", "Định lượng Glucose", "lần", None, None, None, None, 2, "21500.000", 100),
    ("D003", "service", "22.0120", "Tổng phân tích tế bào máu ngoại vi", "lần", None, None, None, None, 2, "46200.000", 100),
    ("D004", "service", "18.0119", "Chụp X-quang ngực thẳng", "lần", None, None, None, None, 3, "65400.000", 100),
    ("D005", "service", "10.0618.0560", "Phẫu thuật nội soi cắt ruột thừa", "lần", None, None, None, None, 8, "2748000.000", 100),
    ("V001", "supply", "N03.01.070", "Kim khâu phẫu thuật", "cái", None, None, None, "1516.01;G1;N2;2025", 10, "35000.000", 100),
    ("G001", "bed", "K03.1918", "Giường Nội khoa loại 1", "ngày", None, None, None, None, 15, "215000.000", 100),
]
# VNeID adoption: share of level-2 holders whose health book is set up in the campaign's first week, per
# department, and the weekly gain; the rest of the facts follow from these.
BOOK_RATE = {"KB": 0.40, "CC": 0.15, "NOI": 0.50, "NGOAI": 0.45, "SAN": 0.62, "NHI": 0.30, "TNHIEM": 0.35}
BOOK_GAIN_PER_WEEK = 0.07
LEVEL2_RATE = 0.78
SPECIALISTS = ["NOI", "NGOAI", "TNHIEM", "SAN"]  # a second examination of some outpatients
XRAY = "XQ.1.79999.0001"  # MA_MAY of the X-ray machine
LABS = {"D002": [("GLU", "Glucose", "5.6", "mmol/L")],
        "D003": [("WBC", "Bạch cầu", "7.2", "G/L"), ("HGB", "Huyết sắc tố", "135", "g/L")]}


def _case_of(i: int) -> tuple[str, bool, str | None]:
    """(case, expect_valid, expected finding code) of episode number ``i``: fixed, so tests can rely on it."""
    table: list[tuple[int, int, str, bool, str | None]] = [
        (97, 13, "name_too_long", False, "FIELD.TOO_LONG"),
        (89, 17, "bad_icd", False, "FIELD.FORMAT"),
        (50, 0, "newborn_mother", True, None), (50, 10, "newborn_father", True, None),
        (50, 20, "newborn_guardian", True, None), (50, 30, "newborn_abandoned", True, None),
        (40, 5, "twins", True, None), (30, 7, "two_cards", True, None), (25, 9, "inpatient_under_4h", True, None),
        (20, 3, "emergency", True, None), (35, 11, "long_name", True, None), (45, 12, "expired_card", True, None),
        (60, 14, "hiv", True, None), (70, 15, "tb", True, None), (33, 8, "maternity_leave", True, None),
        (15, 2, "sick_leave", True, None), (18, 6, "referral", True, None), (12, 4, "reexam", True, None),
        (17, 1, "daycare", True, None), (5, 1, "inpatient", True, None),
        # patients without a card (13 % of the episodes) and a card that turns up during a stay: they
        # replace plain outpatient visits only, so every case above keeps its episodes
        (10, 8, "self_paying", True, None), (11, 10, "vneid_only", True, None), (13, 6, "foreigner", True, None),
        (20, 19, "card_mid_stay", True, None), (7, 3, "self_paying", True, None),
    ]
    for mod, rem, name, ok, code in table:
        if i % mod == rem:
            return name, ok, code
    return "outpatient", True, None


# Visits without BHYT (MA_DOITUONG_KCB 9, QĐ 3276/2025)
UNINSURED_CASES = frozenset({"self_paying", "vneid_only", "foreigner"})
FOREIGNERS = [  # name, nationality (TT 07/2016/TT-BCA Phụ lục 2), passport number shape
    ("KIM MIN JUN", "410", "M{:08d}"), ("TANAKA HIROSHI", "392", "TK{:07d}"), ("LI WEI", "156", "E{:08d}"),
    ("JOHN SMITH", "840", "5{:08d}"), ("EMMA MÜLLER", "276", "C{:08d}")]


def _reception(b: RowBuilder, eid: int, arrived: dt.datetime, dept_codes: list[str], newborn: bool,
               dept: dict[str, int], staff_ids: list[int], case: str = "") -> None:
    """What reception recorded, and who examined the patient where: the facts of the adoption report. A patient
    without a card was identified by chip ID card, VNeID or passport (a foreigner has no level-2 account)."""
    r = b.arng
    week = max(0, (arrived - START).days // 7)
    if newborn:  # a newborn has no account of its own: it joins a parent's health book later
        level2, book, reason, by = False, False, "child", "bhyt_card"
    else:
        level2 = r.random() < LEVEL2_RATE
        rate = min(0.95, BOOK_RATE[dept_codes[0]] + BOOK_GAIN_PER_WEEK * week)
        book = level2 and r.random() < rate
        reason = None if book else ("no_level2" if not level2 else r.choice(["no_smartphone", "declined", "not_asked"]))
        ways = ["vneid", "chip_card", "id_number", "bhyt_card"] if level2 else ["chip_card", "id_number", "bhyt_card"]
        by = r.choices(ways, weights=[3, 4, 1, 2] if level2 else [5, 1, 4])[0]
        # without a card (drawn as for everyone above, so the other episodes' facts stay the same): never by card
        if case == "vneid_only":
            level2, by, reason = True, "vneid", None if book else (reason if reason != "no_level2" else "declined")
        elif case == "foreigner":
            level2, book, reason, by = False, False, "no_level2", "passport"
        elif case == "self_paying" and by == "bhyt_card":
            by = "id_number"
    b.add("reception", encounter_id=eid, received_at=arrived, identified_by=by, level2_identity=level2,
          health_book=book, no_book_reason=reason)
    at = arrived + dt.timedelta(minutes=5)
    for code in dept_codes:
        b.add("examination", encounter_id=eid, department_id=dept[code], examined_at=at,
              doctor_id=r.choice(staff_ids))
        at += dt.timedelta(minutes=r.randint(20, 60))


def _build_episode(b: RowBuilder, i: int, staff_ids: list[int], dept: dict[str, int], items: dict[str, int],
                   prices: dict[str, str], catalog: dict[int, tuple[Decimal, int]], minutes_between: int = 7) -> None:
    r = b.rng
    case, ok, code = _case_of(i)
    ma_lk = f"{FACILITY}{START:%y%m}{i:08d}"
    arrived = START + dt.timedelta(minutes=minutes_between * i)
    kind, dept_code, object_code, stay = "outpatient", "KB", "1.1", dt.timedelta(minutes=r.randint(60, 200))
    icd_main, icd_extra, dx = "J02.9", "K21.9", "Viêm họng cấp"
    name_override = None
    female = None
    born = None
    patient_extra: dict[str, Any] = {}
    newborn = case.startswith("newborn")
    rx = b.xrng if case == "card_mid_stay" else r  # was a plain outpatient visit: its extra draws on their own
    if case in ("inpatient", "twins", "two_cards", "card_mid_stay"):
        kind, dept_code, stay = "inpatient", "NOI", dt.timedelta(days=rx.randint(2, 6), hours=rx.randint(0, 8))
        icd_main, icd_extra, dx = "J18.9", "I10", "Viêm phổi"
    if case == "daycare":
        kind, dept_code, stay = "daycare", "NOI", dt.timedelta(hours=6)
    if case == "inpatient_under_4h":
        kind, dept_code, stay = "inpatient", "NOI", dt.timedelta(hours=2, minutes=40)
    if case == "emergency":
        kind, dept_code, object_code = "emergency", "CC", "2"
        icd_main, icd_extra, dx = "S52.5", "", "Gãy đầu dưới xương quay"
    if case == "twins":
        dept_code, female, icd_main, icd_extra, dx = "SAN", True, "O84.0", "Z37.2", "Song thai, đẻ thường"
        born = dt.datetime(r.randint(1988, 2000), r.randint(1, 12), r.randint(1, 28))
    if case == "maternity_leave":
        female, dept_code, icd_main, icd_extra, dx = True, "SAN", "O20.0", "", "Dọa sẩy thai"
        born = dt.datetime(r.randint(1988, 2000), r.randint(1, 12), r.randint(1, 28))
    if case == "long_name":
        name_override = "Tôn Nữ Hoàng Thị Huyền Trang Nguyễn Phước Bảo Ngọc Quỳnh Anh"
    if case == "name_too_long":
        name_override = "Nguyễn Thị Ánh Dương " * 15  # 315 characters: the standard allows 255
    if case == "bad_icd":
        icd_main = "J18,9"
    if case == "hiv":
        icd_main, icd_extra, dx = "B20", "", "Nhiễm HIV"
    if case == "tb":
        icd_main, icd_extra, dx = "A15.0", "", "Lao phổi AFB(+)"

    baby_born = None
    if newborn:  # the baby is the patient: 0–20 days old, treated in the neonatal ward on a temporary card
        kind, dept_code, stay = "inpatient", "NHI", dt.timedelta(days=3, hours=2)
        icd_main, icd_extra, dx = "P59.9", "", "Vàng da sơ sinh"
        baby_born = arrived - dt.timedelta(days=r.randint(0, 20), hours=r.randint(0, 23), minutes=r.randint(0, 59))
        mother = father = None
        if case == "newborn_mother":
            mother = b.person(f"BN{i:07d}M", female=True)
        elif case == "newborn_father":
            father = b.person(f"BN{i:07d}F", female=False)
        elif case == "newborn_guardian":
            patient_extra.update(guardian_name=b.name(True), guardian_address="Số 9 đường Lê Lợi, TP Hồ Chí Minh")
        else:
            patient_extra.update(abandoned=True, handover_name=b.name(True))
        patient_extra.update(mother_id=mother, father_id=father)
        pid = b.person(f"BN{i:07d}", born=baby_born, time_known=True, name="", **patient_extra)
        b.rows["patient"][-1]["id_number"] = None  # no birth registration yet (hence the temporary card): no ID
    else:
        pid = b.person(f"BN{i:07d}", female=female, born=born, name=name_override)
    if case == "foreigner":  # identified by passport; address as declared (QĐ 130 XML1 DIA_CHI, SO_CCCD)
        fname, nationality, passport = FOREIGNERS[i % len(FOREIGNERS)]
        b.rows["patient"][-1].update(full_name=fname, id_number=passport.format(i), nationality_code=nationality,
                                     ethnic_code="55", id_issued_by="Cơ quan cấp hộ chiếu nước ngoài",
                                     address="Khách sạn Ví Dụ, số 5 đường Lê Lợi, TP Hồ Chí Minh", bhxh_code=None)
    uninsured = case in UNINSURED_CASES
    if uninsured:
        object_code = ObjectCode.UNINSURED.value

    left = arrived + stay
    if kind == "inpatient" and case != "inpatient_under_4h":
        ward_at = arrived + dt.timedelta(minutes=rx.randint(20, 90))
    elif kind in ("inpatient", "daycare"):
        ward_at = arrived + dt.timedelta(minutes=20)
    else:
        ward_at = None
    year_start = dt.date(arrived.year, 1, 1)
    cards: list[int] = []
    if newborn:
        cards.append(b.card(pid, valid_from=arrived.date(), valid_to=None, temporary=True,
                            number=f"TE179{b.digits(10)}"))
    elif case == "two_cards":
        first_to = (arrived + dt.timedelta(days=1)).date()
        cards.append(b.card(pid, valid_from=dt.date(2025, 12, 1), valid_to=first_to))
        cards.append(b.card(pid, valid_from=first_to + dt.timedelta(days=1), valid_to=dt.date(2027, 12, 31)))
    elif case == "card_mid_stay":  # no card on arrival; one issued the next day (its GT_THE_TU is that day)
        cards.append(b.card(pid, valid_from=arrived.date() + dt.timedelta(days=1), valid_to=dt.date(2027, 12, 31)))
    elif case == "expired_card":
        cards.append(b.card(pid, valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 12, 31)))
    else:
        cards.append(b.card(pid, valid_from=year_start, valid_to=dt.date(arrived.year, 12, 31)))

    if uninsured:  # a patient without a card: the card drawn as for everyone (the other episodes stay the same)
        b.rows["insurance_card"].pop()
        cards.clear()
    weight = Decimal("3.10") if newborn else Decimal(f"{r.randint(45, 80)}.{r.randint(0, 9)}0")
    benefit = r.choice([80, 95, 100])  # still drawn, so the later draws stay the same; set by b.benefit below
    eid = b.add(
        "encounter", ma_lk=ma_lk, patient_id=pid, kind=kind, object_code=object_code, department_id=dept[dept_code],
        arrived_at=arrived, ward_admitted_at=ward_at, left_at=left, closed_at=left + dt.timedelta(minutes=30),
        reason="Sốt, ho" if not newborn else "Vàng da", inpatient_reason="Cần theo dõi điều trị" if ward_at else None,
        dx_in=dx, dx_out=dx, icd_main=icd_main, icd_extra=icd_extra or None, treatment="Điều trị nội khoa",
        result_code=1, discharge_code=2 if case == "referral" else 1,
        referral_from=None, referral_to="79001" if case == "referral" else None,
        referral_paper=f"CT{i:06d}" if case == "referral" else None,
        weight_kg=weight,
        accident_code=None, benefit_pct=None if uninsured else benefit, record_no=f"HS{i:08d}",
        settled_at=left + dt.timedelta(minutes=25), note=None,
    )
    for seq, card_id in enumerate(cards, start=1):
        b.add("encounter_card", encounter_id=eid, seq=seq, card_id=card_id)
    if newborn or kind == "emergency":
        examined_in = [dept_code]
    elif kind == "outpatient":
        examined_in = ["KB"] + ([b.arng.choice(SPECIALISTS)] if b.arng.random() < 0.35 else [])
    else:  # admitted through the outpatient department, then examined on the ward
        examined_in = ["KB", dept_code]
    _reception(b, eid, arrived, examined_in, newborn, dept, staff_ids, case)
    b.add("demo_case", ma_lk=ma_lk, case_name=case, expect_valid=ok, expect_code=code,
          expect_rule="R.CARD.VALID_ON_ADMISSION" if case == "expired_card" else None)

    doctors = staff_ids
    t = arrived + dt.timedelta(minutes=5)

    def order(code_: str, qty: str, at: dt.datetime, **extra: Any) -> int:
        return b.add("order_line", encounter_id=eid, item_id=items[code_], qty=Decimal(qty), ordered_at=at,
                     done_at=extra.pop("done_at", at + dt.timedelta(minutes=10)), department_id=dept[dept_code],
                     doctor_id=r.choice(doctors), **extra)

    order("D001", "1", t, performer_id=doctors[0], icd=icd_main)
    for lab in r.sample(["D002", "D003", "D004"], k=r.randint(1, 3)):
        oid = order(lab, "1", t + dt.timedelta(minutes=15), result_at=t + dt.timedelta(minutes=70),
                    performer_id=doctors[1], machine_code=XRAY if lab == "D004" else None)
        for idx_code, idx_name, value, unit in LABS.get(lab, []):
            b.add("lab_result", order_id=oid, index_code=idx_code, index_name=idx_name, value=value, unit=unit,
                  conclusion="Bình thường", result_at=t + dt.timedelta(minutes=70), reader_id=doctors[2])
    for _ in range(r.randint(2, 5)):
        order(r.choice(["T001", "T002", "T003", "T004", "T005"]), r.choice(["1", "2", "6", "10", "0.5"]),
              t + dt.timedelta(minutes=40), dosage="1 viên/lần * 2 lần/ngày * 5 ngày [2 viên/ngày]",
              usage="Uống sau ăn")
    if kind in ("inpatient", "daycare") and stay >= dt.timedelta(hours=4):
        days = max(1, stay.days)
        beds = f"H{dept[dept_code]:03d};T{dept[dept_code]:03d}"
        if case == "card_mid_stay":  # the first bed-day before the card, the rest and a drug and a test after it
            doctor = rx.choice(doctors)
            card_day = dt.datetime.combine(arrived.date() + dt.timedelta(days=1), dt.time(8, 0))
            for code_, qty_, at_, extra_ in (("G001", "1", ward_at, {"bed_code": beds}),
                                             ("G001", str(days - 1), card_day, {"bed_code": beds}),
                                             ("D003", "1", card_day + dt.timedelta(minutes=30),
                                              {"performer_id": doctors[1], "result_at": card_day + dt.timedelta(hours=2)}),
                                             ("T004", "1", card_day + dt.timedelta(hours=1), {"usage": "Truyền tĩnh mạch",
                                                                                              "dosage": "1 chai/ngày"})):
                b.add("order_line", encounter_id=eid, item_id=items[code_], qty=Decimal(qty_), ordered_at=at_,
                      done_at=at_ + dt.timedelta(minutes=10), department_id=dept[dept_code], doctor_id=doctor,
                      **extra_)
        else:
            order("G001", str(days), ward_at, bed_code=beds)
        for d in range(days):
            b.add("progress_note", encounter_id=eid, noted_at=ward_at + dt.timedelta(days=d, hours=1),
                  text=f"Ngày {d + 1}: tỉnh, tiếp xúc tốt, sinh hiệu ổn.", staff_id=doctors[1])
        if i % 10 == 1 and case == "inpatient":
            order("D005", "1", ward_at + dt.timedelta(hours=3), performer_id=doctors[(i // 10) % 3], icd="K35.8",
                  result_at=ward_at + dt.timedelta(hours=5))
            order("V001", "1", ward_at + dt.timedelta(hours=3))
        b.add("discharge_paper", encounter_id=eid, storage_no=f"LT{i:07d}", health_code=f"YT{i:07d}",
              paper_date=left.date(), doctor_id=doctors[0], rest_days=None)
    b.set_benefit(cards, catalog)
    if case == "twins":
        born_at = ward_at + dt.timedelta(hours=2)
        for seq, (sex, weight) in enumerate(((1, "2800"), (2, "2650")), start=1):
            baby = b.person(f"BN{i:07d}C{seq}", female=sex == 2, born=born_at + dt.timedelta(minutes=7 * seq),
                            time_known=True, name="", mother_id=pid)
            b.card(baby, valid_from=born_at.date(), valid_to=None, temporary=True, number=f"TE179{b.digits(10)}")
            b.add("birth", encounter_id=eid, seq=seq, baby_patient_id=baby, sex=sex, weight_g=Decimal(weight),
                  born_at=born_at + dt.timedelta(minutes=7 * seq), babies=2, alive=2, birth_order=1,
                  condition="Khỏe mạnh", caesarean=False, under_32_weeks=False, delivered_by="Hộ sinh A",
                  recorded_by="Hộ sinh B", cert_no=f"CS{i:06d}{seq}", cert_book="01/2026", paper_date=left.date())
    if case in ("sick_leave", "maternity_leave"):
        b.add("leave_paper", encounter_id=eid, kind="sick" if case == "sick_leave" else "maternity",
              serial=f"AA/26-{i:06d}", doc_no=f"CT{i:06d}", employer="Công ty TNHH Ví Dụ", days=5,
              from_date=left.date(), to_date=left.date() + dt.timedelta(days=4), doctor_id=doctors[0],
              paper_date=left.date())
    if case == "referral":
        b.add("referral", encounter_id=eid, file_no=f"HS{i:06d}", referral_no=f"{i:06d}/CT", reason_code=1,
              signs="Đau ngực trái", course="Đau ngực 2 giờ", results="ECG ST chênh lên",
              direction="Can thiệp mạch vành", transport="Xe cứu thương", escort_name="Điều dưỡng C",
              escort_title="Điều dưỡng", doctor_id=doctors[0])
    if case == "reexam":
        b.add("reexam", encounter_id=eid, paper_no=f"HK{i:06d}", appointment_at=left + dt.timedelta(days=30),
              doctor_id=doctors[1], paper_date=left.date())
    if case == "hiv":
        b.add("hiv_register", patient_id=pid, diagnosed_on=dt.date(2021, 3, 4), sample_site=FACILITY,
              confirm_site="79001", arv_site=FACILITY, arv_start=dt.date(2021, 3, 20), first_regimen="1a",
              first_regimen_line=1, regimen="1a", reason_code=1, tb_treatment=0, patient_type=1, status_codes="9",
              action_code=1, arv_days=90, action_end=left.date() + dt.timedelta(days=90))
    if case == "tb":
        b.add("tb_register", patient_id=pid, site=1, history=1, hiv_status=2, bacteriology=1, resistance=1,
              treatment_type=1, started_on=dt.date(2026, 10, 1), regimen=1, ended_on=None, outcome=None)


def new_his(url: str, seed: int = 130) -> tuple[Engine, RowBuilder, dict, list[int], dict, dict, dict]:
    """(Re)create the demo HIS's tables at ``url`` with its departments, staff and catalogue, committed: the
    engine, the row builder, and what episodes refer to (departments, doctors, items, prices, catalogue)."""
    engine = create_engine(url)
    s.metadata.drop_all(engine)
    s.metadata.create_all(engine)
    b = RowBuilder(seed)
    dept = {}
    for n, (code, name, national) in enumerate(DEPARTMENTS, start=1):
        dept[code] = b.add("department", id=n, local_code=code, name=name, national_code=national)
    staff_ids = [b.add("staff", full_name=b.name(n % 2 == 0), practice_code=f"0100{n:06d}", title="Bác sĩ")
                 for n in range(1, 9)]
    roster(b, dept, staff_ids)
    items, prices, catalog = {}, {}, {}
    for row in ITEMS:
        code, kind, national, name, unit, strength, route, reg, bid, group, price, rate = row
        items[code] = b.add("catalog_item", local_code=code, kind=kind, national_code=national, name=name, unit=unit,
                            strength=strength, route=route, reg_no=reg, bid_info=bid, group_code=group,
                            price=Decimal(price), pay_rate=rate)
        prices[code] = price
        catalog[items[code]] = (Decimal(price), rate)
    b.flush(engine)
    return engine, b, dept, staff_ids, items, prices, catalog


def create_demo(url: str, encounters: int = 500, seed: int = 130, *,
                progress: Callable[[int], None] | None = None, chunk: int = 500,
                minutes_between: int = 7) -> Engine:
    """(Re)create the demo HIS at ``url`` with ``encounters`` episodes, one every ``minutes_between`` minutes
    from ``START``. Same seed → same rows."""
    engine, b, dept, staff_ids, items, prices, catalog = new_his(url, seed)
    for i in range(encounters):
        _build_episode(b, i, staff_ids, dept, items, prices, catalog, minutes_between)
        if (i + 1) % chunk == 0:
            b.flush(engine)
            if progress:
                progress(i + 1)
    b.flush(engine)
    if progress:
        progress(encounters)
    return engine
