"""The demo HIS database: a small but realistic hospital schema (SQLAlchemy Core, SQLite or PostgreSQL).

It is deliberately *not* shaped like the claim tables: local codes are mapped to national ones through
catalogues, money is stored per order with prices and rates, papers live in their own tables, cards have
validity periods and an episode may use several. The demo mapping (``xml130/demo/demo_his.toml``) shows how a
hospital turns such a schema into QĐ 130 tables.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

metadata = MetaData()

department = Table(
    "department", metadata,
    Column("id", Integer, primary_key=True),
    Column("local_code", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("national_code", String(10), nullable=False),  # K01…K60, K99 (QĐ 1804)
)

staff = Table(  # the staff roster: clinicians (who appear in orders) and everyone else of each department
    "staff", metadata,
    Column("id", Integer, primary_key=True),
    Column("full_name", String(200), nullable=False),
    Column("practice_code", String(20)),  # MA_BAC_SI: mã định danh y tế of a clinician; none for other staff
    Column("title", String(100), nullable=False),
    Column("department_id", ForeignKey("department.id")),
    Column("active", Boolean, nullable=False, default=True),
    # the staff survey (Phụ lục 1) facts, as the department recorded them
    Column("level2_identity", Boolean, nullable=False, default=False),  # activated level-2 VNeID account
    Column("level2_missing_reason", String(200)),
    Column("health_book", Boolean, nullable=False, default=False),  # Sổ sức khỏe điện tử created
    Column("card_integrated", Boolean, nullable=False, default=False),  # BHYT card integrated into the book
    Column("card_missing_reason", String(200)),
)

patient = Table(
    "patient", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(30), nullable=False, unique=True),
    Column("full_name", String(400), nullable=True),  # a newborn not yet named has none
    Column("born_at", DateTime, nullable=False),
    Column("birth_time_known", Boolean, nullable=False),
    Column("sex", Integer, nullable=False),  # 1 nam, 2 nữ, 3 chưa xác định
    Column("id_number", String(20)),
    Column("id_issued_on", Date),
    Column("id_issued_by", String(500)),
    Column("phone", String(20)),
    Column("address", String(500)),
    Column("province_code", String(3)),
    Column("district_code", String(3)),
    Column("ward_code", String(5)),
    Column("ethnic_code", String(2)),
    Column("nationality_code", String(3)),
    Column("occupation_code", String(5)),
    Column("blood_group", String(10)),
    Column("bhxh_code", String(10)),
    Column("mother_id", ForeignKey("patient.id")),
    Column("father_id", ForeignKey("patient.id")),
    Column("guardian_name", String(200)),
    Column("guardian_address", String(500)),
    Column("abandoned", Boolean, nullable=False, default=False),
    Column("handover_name", String(200)),  # person named in the hand-over record of an abandoned baby
)

insurance_card = Table(
    "insurance_card", metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", ForeignKey("patient.id"), nullable=False, index=True),
    Column("card_no", String(20), nullable=False),
    Column("registered_at", String(10), nullable=False),  # MA_DKBD
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("five_years_from", Date),
    Column("temporary", Boolean, nullable=False, default=False),
)

encounter = Table(
    "encounter", metadata,
    Column("id", Integer, primary_key=True),
    Column("ma_lk", String(100), nullable=False, unique=True),
    Column("patient_id", ForeignKey("patient.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # outpatient | inpatient | daycare | emergency
    Column("object_code", String(4)),  # MA_DOITUONG_KCB as registered at reception (NULL: 9 without a card)
    Column("department_id", ForeignKey("department.id"), nullable=False),
    Column("arrived_at", DateTime, nullable=False),
    Column("ward_admitted_at", DateTime),
    Column("left_at", DateTime),
    Column("closed_at", DateTime, index=True),  # when the episode was closed for billing: the export watermark
    Column("reason", Text),
    Column("inpatient_reason", Text),
    Column("dx_in", Text),
    Column("dx_out", Text),
    Column("icd_main", String(20)),
    Column("icd_extra", String(200)),  # ";"-joined
    Column("procedures_icd9", String(200)),
    Column("treatment", Text),
    Column("result_code", Integer),
    Column("discharge_code", Integer),
    Column("referral_from", String(5)),
    Column("referral_to", String(5)),
    Column("referral_paper", String(50)),
    Column("weight_kg", Numeric(6, 2)),
    Column("accident_code", Integer),
    Column("benefit_pct", Integer),  # NULL for a visit without BHYT
    Column("record_no", String(100), nullable=False),
    Column("settled_at", DateTime),
    Column("note", Text),
)

reception = Table(  # what reception recorded when the patient arrived (one row per visit)
    "reception", metadata,
    Column("encounter_id", ForeignKey("encounter.id"), primary_key=True),
    Column("received_at", DateTime, nullable=False),
    Column("identified_by", String(12), nullable=False),  # chip_card | vneid | id_number | bhyt_card | passport
    Column("level2_identity", Boolean, nullable=False),  # the patient holds an active level-2 VNeID account
    Column("health_book", Boolean, nullable=False),  # the health book is set up on VNeID (seen at reception)
    Column("no_book_reason", String(20)),  # why not: no_level2 | no_smartphone | declined | child | …
)

examination = Table(  # each examination (khám) of a visit, in the department that examined the patient
    "examination", metadata,
    Column("id", Integer, primary_key=True),
    Column("encounter_id", ForeignKey("encounter.id"), nullable=False, index=True),
    Column("department_id", ForeignKey("department.id"), nullable=False),
    Column("examined_at", DateTime, nullable=False, index=True),
    Column("doctor_id", ForeignKey("staff.id"), nullable=False),
)

encounter_card = Table(
    "encounter_card", metadata,
    Column("encounter_id", ForeignKey("encounter.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("card_id", ForeignKey("insurance_card.id"), nullable=False),
)

catalog_item = Table(
    "catalog_item", metadata,
    Column("id", Integer, primary_key=True),
    Column("local_code", String(30), nullable=False, unique=True),
    Column("kind", String(10), nullable=False),  # drug | service | supply | bed
    Column("national_code", String(50), nullable=False),
    Column("name", String(500), nullable=False),
    Column("unit", String(50), nullable=False),
    Column("strength", String(200)),
    Column("route", String(10)),
    Column("reg_no", String(100)),
    Column("bid_info", String(100)),
    Column("group_code", Integer, nullable=False),  # MA_NHOM
    Column("price", Numeric(15, 3), nullable=False),
    Column("pay_rate", Integer, nullable=False),  # TYLE_TT_BH, percent
)

order_line = Table(
    "order_line", metadata,
    Column("id", Integer, primary_key=True),
    Column("encounter_id", ForeignKey("encounter.id"), nullable=False, index=True),
    Column("item_id", ForeignKey("catalog_item.id"), nullable=False),
    Column("qty", Numeric(10, 3), nullable=False),
    Column("ordered_at", DateTime, nullable=False),
    Column("done_at", DateTime),
    Column("result_at", DateTime),
    Column("department_id", ForeignKey("department.id"), nullable=False),
    Column("doctor_id", ForeignKey("staff.id"), nullable=False),
    Column("performer_id", ForeignKey("staff.id")),
    Column("bed_code", String(50)),
    Column("machine_code", String(1024)),  # MA_MAY of the machines used
    Column("dosage", String(500)),
    Column("usage", String(500)),
    Column("icd", String(20)),
)

lab_result = Table(
    "lab_result", metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("order_line.id"), nullable=False, index=True),
    Column("index_code", String(50), nullable=False),
    Column("index_name", String(255), nullable=False),
    Column("value", String(50)),
    Column("unit", String(50)),
    Column("conclusion", Text),
    Column("result_at", DateTime, nullable=False),
    Column("reader_id", ForeignKey("staff.id")),
)

progress_note = Table(
    "progress_note", metadata,
    Column("id", Integer, primary_key=True),
    Column("encounter_id", ForeignKey("encounter.id"), nullable=False, index=True),
    Column("noted_at", DateTime, nullable=False),
    Column("text", Text, nullable=False),
    Column("staff_id", ForeignKey("staff.id"), nullable=False),
)

discharge_paper = Table(
    "discharge_paper", metadata,
    Column("encounter_id", ForeignKey("encounter.id"), primary_key=True),
    Column("storage_no", String(200), nullable=False),
    Column("health_code", String(200), nullable=False),
    Column("paper_date", Date, nullable=False),
    Column("doctor_id", ForeignKey("staff.id"), nullable=False),
    Column("rest_days", Integer),
)

birth = Table(
    "birth", metadata,
    Column("id", Integer, primary_key=True),
    Column("encounter_id", ForeignKey("encounter.id"), nullable=False, index=True),  # the mother's episode
    Column("seq", Integer, nullable=False),
    Column("baby_patient_id", ForeignKey("patient.id")),
    Column("sex", Integer, nullable=False),
    Column("weight_g", Numeric(10, 2), nullable=False),
    Column("born_at", DateTime, nullable=False),
    Column("babies", Integer, nullable=False),
    Column("alive", Integer, nullable=False),
    Column("birth_order", Integer, nullable=False),
    Column("condition", Text, nullable=False),
    Column("caesarean", Boolean, nullable=False),
    Column("under_32_weeks", Boolean, nullable=False),
    Column("delivered_by", String(255), nullable=False),
    Column("recorded_by", String(255), nullable=False),
    Column("cert_no", String(200), nullable=False),
    Column("cert_book", String(200), nullable=False),
    Column("paper_date", Date, nullable=False),
)

leave_paper = Table(
    "leave_paper", metadata,
    Column("id", Integer, primary_key=True),
    Column("encounter_id", ForeignKey("encounter.id"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # sick | maternity
    Column("serial", String(200), nullable=False),
    Column("doc_no", String(200), nullable=False),
    Column("employer", String(1024), nullable=False),
    Column("days", Integer, nullable=False),
    Column("from_date", Date, nullable=False),
    Column("to_date", Date, nullable=False),
    Column("doctor_id", ForeignKey("staff.id"), nullable=False),
    Column("paper_date", Date, nullable=False),
)

referral = Table(
    "referral", metadata,
    Column("encounter_id", ForeignKey("encounter.id"), primary_key=True),
    Column("file_no", String(50), nullable=False),
    Column("referral_no", String(50), nullable=False),
    Column("reason_code", Integer, nullable=False),
    Column("signs", Text, nullable=False),
    Column("course", Text, nullable=False),
    Column("results", Text, nullable=False),
    Column("direction", Text, nullable=False),
    Column("transport", String(255), nullable=False),
    Column("escort_name", String(255)),
    Column("escort_title", String(255)),
    Column("doctor_id", ForeignKey("staff.id"), nullable=False),
)

reexam = Table(
    "reexam", metadata,
    Column("encounter_id", ForeignKey("encounter.id"), primary_key=True),
    Column("paper_no", String(50), nullable=False),
    Column("appointment_at", DateTime, nullable=False),
    Column("doctor_id", ForeignKey("staff.id"), nullable=False),
    Column("paper_date", Date, nullable=False),
)

hiv_register = Table(
    "hiv_register", metadata,
    Column("patient_id", ForeignKey("patient.id"), primary_key=True),
    Column("diagnosed_on", Date, nullable=False),
    Column("sample_site", String(5)),
    Column("confirm_site", String(5)),
    Column("arv_site", String(5)),
    Column("arv_start", Date),
    Column("first_regimen", String(200)),
    Column("first_regimen_line", Integer),
    Column("regimen", String(200), nullable=False),
    Column("reason_code", Integer, nullable=False),
    Column("tb_treatment", Integer, nullable=False),
    Column("patient_type", Integer, nullable=False),
    Column("status_codes", String(18), nullable=False),
    Column("action_code", Integer, nullable=False),
    Column("arv_days", Integer),
    Column("action_end", Date),  # end of the current ARV course (XML6 NGAY_KET_THUC_XU_TRI)
)

tb_register = Table(
    "tb_register", metadata,
    Column("patient_id", ForeignKey("patient.id"), primary_key=True),
    Column("site", Integer, nullable=False),
    Column("history", Integer, nullable=False),
    Column("hiv_status", Integer, nullable=False),
    Column("bacteriology", Integer, nullable=False),
    Column("resistance", Integer, nullable=False),
    Column("treatment_type", Integer, nullable=False),
    Column("started_on", Date, nullable=False),
    Column("regimen", Integer, nullable=False),
    Column("ended_on", Date),
    Column("outcome", Integer),
)

# Ground truth of the generated demo: which edge case each episode is and whether it must come out valid.
demo_case = Table(
    "demo_case", metadata,
    Column("ma_lk", String(100), primary_key=True),
    Column("case_name", String(50), nullable=False),
    Column("expect_valid", Boolean, nullable=False),
    Column("expect_code", String(50)),  # the finding code expected when not valid
    Column("expect_rule", String(50)),  # a business rule the episode breaks although its data meets the spec
)
