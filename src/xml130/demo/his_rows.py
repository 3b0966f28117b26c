"""Building the rows of the demo HIS (:mod:`.his`): people, health insurance cards, and any table's rows, written
to the database in the order of :mod:`.his_schema`."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, insert

from . import his_schema as s
from .synthetic import FACILITY, FAMILY, GIVEN_F, GIVEN_M, MIDDLE_F, MIDDLE_M, STREETS

# The benefit level of a card's benefit code, its 3rd character (NĐ 146/2018/NĐ-CP Điều 14 k1: 1, 2 and 5 → 100 %,
# 3 → 95 %, 4 → 80 %), and 15 % of the base salary (2,340,000 đồng, NĐ 73/2024/NĐ-CP, from 01/07/2024).
CARD_LEVELS = {"1": 100, "2": 100, "3": 95, "4": 80, "5": 100}
SMALL_VISIT = Decimal("351000")


class RowBuilder:
    """The rows of the demo HIS as they are built (people, cards, episodes …), each table's ids counted here;
    flushed into the database in the schema's table order. Three random streams: the claim rows, the adoption
    facts, and what the cases added later draw (so adding one leaves the other episodes as they were)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.arng = random.Random(f"adoption-{seed}")  # the adoption facts: claim rows do not depend on it
        # what the cases added later draw beyond a plain outpatient visit: the other episodes stay as they were
        self.xrng = random.Random(f"cases-{seed}")
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.ids: dict[str, int] = {}

    def add(self, table: str, **row: Any) -> int:
        if "id" not in row and table not in ("encounter_card", "discharge_paper", "referral", "reexam",
                                             "hiv_register", "tb_register", "demo_case", "reception"):
            self.ids[table] = self.ids.get(table, 0) + 1
            row["id"] = self.ids[table]
        self.rows.setdefault(table, []).append(row)
        return row.get("id", 0)

    def flush(self, engine: Engine) -> None:
        order = [t.name for t in s.metadata.sorted_tables]
        with engine.begin() as conn:
            for name in order:
                rows = self.rows.get(name)
                if rows:
                    table = s.metadata.tables[name]
                    cols = [c.name for c in table.columns]  # executemany needs the same keys in every row
                    conn.execute(insert(table), [{c: r.get(c) for c in cols} for r in rows])
        self.rows.clear()

    # --- people -------------------------------------------------------------------------------------------
    def name(self, female: bool, rng: random.Random | None = None) -> str:
        r = rng or self.rng
        return f"{r.choice(FAMILY)} {r.choice(MIDDLE_F if female else MIDDLE_M)} {r.choice(GIVEN_F if female else GIVEN_M)}"

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def person(self, code: str, *, female: bool | None = None, born: dt.datetime | None = None,
               name: str | None = None, time_known: bool = False, **extra: Any) -> int:
        r = self.rng
        female = r.random() < 0.5 if female is None else female
        born = born or dt.datetime(r.randint(1940, 2020), r.randint(1, 12), r.randint(1, 28))
        extra.setdefault("abandoned", False)
        return self.add(
            "patient", code=code, full_name=name if name is not None else self.name(female), born_at=born,
            birth_time_known=time_known, sex=2 if female else 1, id_number="0" + self.digits(11),
            id_issued_on=dt.date(2021, r.randint(1, 12), r.randint(1, 28)), id_issued_by="Cục Cảnh sát QLHC về TTXH",
            phone="09" + self.digits(8), address=f"Số {r.randint(1, 300)} đường {r.choice(STREETS)}, TP Hồ Chí Minh",
            province_code="79", district_code="760", ward_code="26734", ethnic_code="01", nationality_code="704",
            occupation_code="00000", blood_group=r.choice(["A", "B", "AB", "O", None]), bhxh_code=self.digits(10),
            **extra)

    def card(self, patient_id: int, *, valid_from: dt.date, valid_to: dt.date | None, temporary: bool = False,
             number: str | None = None) -> int:
        r = self.rng
        no = number or f"{r.choice(['DN', 'HT', 'GD', 'CN', 'HC', 'TE'])}{r.choice('12345')}79{self.digits(10)}"
        return self.add("insurance_card", patient_id=patient_id, card_no=no,
                        registered_at="79000" if temporary else r.choice(["79001", "79024", FACILITY]),
                        valid_from=valid_from, valid_to=valid_to,
                        five_years_from=None if temporary else dt.date(2021, 1, 1), temporary=temporary)

    def set_benefit(self, card_ids: list[int], catalog: dict[int, tuple[Decimal, int]]) -> None:
        """The last episode's MUC_HUONG as a HIS decides it when the visit ends (QĐ 130 (4750), XML2/XML3
        MUC_HUONG): «đúng tuyến ghi mức hưởng là 80 hoặc 95 hoặc 100» — the level of the card in use at discharge
        —, and «có tổng chi phí trong phạm vi được hưởng dưới 15% mức lương cơ sở … ghi mức hưởng 100».
        ``catalog``: item id → (price, TYLE_TT_BH). Nothing without a card."""
        if not card_ids:
            return
        episode, insured = self.rows["encounter"][-1], Decimal(0)
        for o in reversed(self.rows["order_line"]):  # this episode's orders are the last ones added
            if o["encounter_id"] != episode["id"]:
                break
            price, rate = catalog[o["item_id"]]
            insured += o["qty"] * price * rate / 100
        card = next(c["card_no"] for c in reversed(self.rows["insurance_card"]) if c["id"] == card_ids[-1])
        episode["benefit_pct"] = 100 if insured < SMALL_VISIT else CARD_LEVELS.get(card[2:3], 80)
