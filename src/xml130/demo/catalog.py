"""The demo's approved catalogues and its deliberate mismatches.

:func:`demo_catalog_files` writes the six catalogues of the demo HIS as the portal exports them (one XLSX workbook
plus the services as CSV; dates in the three forms, money with separators), consistent with the HIS's own
catalogue, staff and departments. :func:`plant_mismatches` then changes a few rows of the demo HIS so that the
nightly export shows each kind of catalogue and cross-hồ-sơ finding once: an unknown drug, a wrong strength, an
unregistered practitioner, an expired machine, a doctor over the daily examination limit and two overlapping
surgeries. The hồ sơ they hold back are marked as expected in ``demo_case``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from . import his_schema as s
from .catalog_synthetic import write_csv, write_xlsx
from .his import XRAY

MA_TTDV = "0100000009"  # the head of the facility (a constant of the demo mapping)
UNREGISTERED = "0100000099"
EXPIRED_MACHINE = "XQ.1.79999.0002"  # registered until 01/11/2026, the day before the demo starts


def demo_catalog_files(engine: Engine, folder: Path) -> list[Path]:
    with engine.connect() as conn:
        items = conn.execute(select(s.catalog_item)).mappings().all()
        staff = conn.execute(select(s.staff.c.practice_code, s.staff.c.full_name)
                             .where(s.staff.c.practice_code.is_not(None))).all()
        depts = conn.execute(select(s.department.c.national_code, s.department.c.name)).all()
    since_text, since_serial = "01/01/2025", 45658  # the same day as text and as an Excel serial number
    cats: dict[str, list[dict[str, Any]]] = {
        "drug": [{"MA_THUOC": i["national_code"], "TEN_THUOC": i["name"], "HAM_LUONG": i["strength"],
                  "SO_DANG_KY": i["reg_no"], "TT_THAU": i["bid_info"], "DON_VI_TINH": i["unit"],
                  "DON_GIA": i["price"], "DON_GIA_BH": _grouped(i["price"]), "TU_NGAY": since_serial}
                 for i in items if i["kind"] == "drug" and i["local_code"] < "T090"],
        "supply": [{"MA_VAT_TU": i["national_code"], "TEN_VAT_TU": i["name"], "TT_THAU": i["bid_info"],
                    "DON_GIA": i["price"], "DON_GIA_BH": i["price"], "TYLE_TT_BH": i["pay_rate"], "TU_NGAY": "20250101"}
                   for i in items if i["kind"] == "supply"],
        "staff": [{"MACCHN": code, "HO_TEN": name, "TU_NGAY": since_text}
                  for code, name in [*staff, (MA_TTDV, "Giám đốc")] if code != UNREGISTERED],
        "department": [{"MA_KHOA": code, "TEN_KHOA": name, "GIUONG_PD": 150} for code, name in depts],
        "equipment": [{"MA_MAY": XRAY, "TEN_TB": "Máy X quang kỹ thuật số", "TU_NGAY": since_text},
                      {"MA_MAY": EXPIRED_MACHINE, "TEN_TB": "Máy X quang di động", "TU_NGAY": since_text,
                       "DEN_NGAY": "20261101"}],
    }
    services = [{"MA_TUONG_DUONG": i["national_code"], "TEN_DVKT_PHEDUYET": i["name"], "DON_GIA": i["price"],
                 "TUNGAY": "20250101"} for i in items if i["kind"] in ("service", "bed")]
    folder.mkdir(parents=True, exist_ok=True)
    return [write_xlsx(folder / "danh_muc.xlsx", cats), write_csv(folder / "dvkt.csv", "service", services)]


def _grouped(amount) -> str:
    """1200 → '1,200'; 2350.5 → '2,350.5' (money as text with thousands separators, as some exports write it)."""
    return f"{amount:,.3f}".rstrip("0").rstrip(".")


def _episode(conn, item_kind: str, *, skip: set[str], local_code: str | None = None) -> tuple[str, int] | None:
    """(MA_LK, first order line) of the first plain outpatient episode with an order of that kind."""
    e, o, c, d = s.encounter, s.order_line, s.catalog_item, s.demo_case
    q = (select(e.c.ma_lk, func.min(o.c.id)).join(o, o.c.encounter_id == e.c.id).join(c, c.c.id == o.c.item_id)
         .join(d, d.c.ma_lk == e.c.ma_lk)
         .where(d.c.case_name == "outpatient", d.c.expect_rule.is_(None), c.c.kind == item_kind,
                e.c.ma_lk.not_in(skip or {""}))
         .group_by(e.c.ma_lk).order_by(e.c.ma_lk))
    if local_code is not None:
        q = q.where(c.c.local_code == local_code)
    row = conn.execute(q.limit(1)).first()
    return (row[0], row[1]) if row else None


def plant_mismatches(engine: Engine, exam_limit: int = 65) -> dict[str, list[str]]:
    """Change the demo HIS so that each kind of finding appears once; returns code → MA_LK involved."""
    o, c, d = s.order_line, s.catalog_item, s.demo_case
    planted: dict[str, list[str]] = {}
    used: set[str] = set()
    with engine.begin() as conn:
        t001 = conn.execute(select(c).where(c.c.local_code == "T001")).mappings().one()
        ids = {}
        for local, national, strength in (("T099", "40.999", "10mg"), ("T098", t001["national_code"], "650mg")):
            values = {**dict(t001), "local_code": local, "national_code": national, "strength": strength}
            values.pop("id")
            ids[local] = conn.execute(insert(c).values(**values)).inserted_primary_key[0]
        staff_id = conn.execute(insert(s.staff).values(full_name="Bác sĩ chưa đăng ký", practice_code=UNREGISTERED,
                                                      title="Bác sĩ", active=True)).inserted_primary_key[0]
        changes = [("R.CAT.DRUG.UNKNOWN", "drug", None, {"item_id": ids["T099"]}),
                   ("R.CAT.DRUG.STRENGTH", "drug", None, {"item_id": ids["T098"]}),
                   ("R.CAT.STAFF.UNKNOWN", "drug", None, {"doctor_id": staff_id}),
                   ("R.CAT.MACHINE.NOT_VALID", "service", "D004", {"machine_code": EXPIRED_MACHINE})]
        for code, kind, local, values in changes:
            found = _episode(conn, kind, skip=used, local_code=local)
            if found:  # (a very small demo may have no such episode)
                conn.execute(update(o).where(o.c.id == found[1]).values(**values))
                planted[code] = [found[0]]
                used.add(found[0])
        planted["CROSS.PERFORMER_OVERLAP"] = _overlap(conn, used)
        planted["CROSS.EXAMS_PER_DAY"] = _busy_doctor(conn, exam_limit, used)
        for code, ma_lks in planted.items():
            if code != "CROSS.EXAMS_PER_DAY":  # errors hold the hồ sơ back; the warning does not
                conn.execute(update(d).where(d.c.ma_lk.in_(ma_lks)).values(expect_rule=code))
    return planted


def _overlap(conn, used: set[str]) -> list[str]:
    """The second surgery of the demo moved to start 30 minutes into the first, by the same surgeon."""
    o, c, e, d = s.order_line, s.catalog_item, s.encounter, s.demo_case
    rows = conn.execute(select(o.c.id, o.c.performer_id, o.c.ordered_at, o.c.done_at, o.c.result_at, e.c.ma_lk)
                        .join(c, c.c.id == o.c.item_id).join(e, e.c.id == o.c.encounter_id)
                        .join(d, d.c.ma_lk == e.c.ma_lk)
                        .where(c.c.local_code == "D005", e.c.ma_lk.not_in(used), d.c.expect_valid.is_(True),
                               d.c.expect_rule.is_(None)).order_by(o.c.id).limit(2)).all()
    if len(rows) < 2:
        return []
    first, second = rows
    shift = dt.timedelta(minutes=30)
    conn.execute(update(o).where(o.c.id == second.id).values(
        performer_id=first.performer_id, ordered_at=first.ordered_at + shift, done_at=first.done_at + shift,
        result_at=first.result_at + shift))
    return [first.ma_lk, second.ma_lk]


def _busy_doctor(conn, limit: int, used: set[str]) -> list[str]:
    """limit + 1 examinations of the demo's first day ordered by one doctor (in hồ sơ that are otherwise sound)."""
    o, c, e, d = s.order_line, s.catalog_item, s.encounter, s.demo_case
    first_day = conn.execute(select(func.min(o.c.ordered_at))).scalar()
    day_end = dt.datetime.combine(first_day.date(), dt.time()) + dt.timedelta(days=1)
    rows = conn.execute(select(o.c.id, o.c.doctor_id, e.c.ma_lk).join(c, c.c.id == o.c.item_id)
                        .join(e, e.c.id == o.c.encounter_id).join(d, d.c.ma_lk == e.c.ma_lk)
                        .where(c.c.group_code == 13, o.c.ordered_at < day_end, d.c.expect_valid.is_(True),
                               d.c.expect_rule.is_(None), e.c.ma_lk.not_in(used)).order_by(o.c.id)
                        .limit(limit + 1)).all()
    if len(rows) <= limit:
        return []
    conn.execute(update(o).where(o.c.id.in_([r.id for r in rows])).values(doctor_id=rows[0].doctor_id))
    return sorted({r.ma_lk for r in rows})


def prepare_demo(his: Engine, folder: Path, ledger_url: str) -> tuple[dict[str, list[str]], Any]:
    """Plant the mismatches, write the catalogue files, import them into the ledger; returns what was planted
    and the catalogue to validate against."""
    from ..catalog.imports import import_files
    from ..store.catalog import Catalog
    from ..store.ledger import Ledger

    planted = plant_mismatches(his)
    import_files(Ledger(ledger_url), demo_catalog_files(his, folder))
    return planted, Catalog.from_ledger(ledger_url)
