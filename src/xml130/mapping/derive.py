"""Derivations that live in the mapping: values the standard derives rather than copies.

Not to be confused with the business rules (:mod:`xml130.rules`), which check what was derived.

A mapping names them (``{rule = "newborn_name"}`` for one field, ``rules = ["costs"]`` for a table); their
parameters come from the mapping's ``[rules.NAME]`` tables, with the defaults below; thresholds the business rules
check too (newborn age, short stay, supply groups) come from :mod:`xml130.params` only, never from a mapping. Each rule says which standard
text it follows. A rule that finds the HIS data unusable adds a finding; the hồ sơ then goes to quarantine with
every reason, it is never sent half-right.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .. import findings as fnd
from ..codes import INPATIENT_KINDS, ObjectCode, VisitKind
from ..params import Params, defaults

TWO = Decimal("0.01")


@dataclass
class RuleContext:
    """What a rule may read: the episode's row, its collections, the other tables already built, parameters."""

    ma_lk: str
    facility: str
    facility_name: str
    params: Callable[[str], dict[str, Any]]
    collections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    findings: list[fnd.Finding] = field(default_factory=list)
    table: str = ""
    filled_by: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, field) → the table rule that filled it
    coverage: Coverage | None = None  # the visit's cards, for the cost rows (None: the mapping reads no cards)
    shared: Params = field(default_factory=defaults)  # the thresholds shared with the rules (xml130.params)

    def problem(self, code: str, field_name: str, row: int | None = None, **ctx: Any) -> None:
        self.findings.append(fnd.make(code, ma_lk=self.ma_lk, table=self.table, field=field_name, row=row, **ctx))


def money(x: Decimal) -> Decimal:
    return x.quantize(TWO, rounding=ROUND_HALF_UP)


# --- health insurance card (guidance used by the VNeID integration; README of the standard) ----------------
CARD_PREFIXES = frozenset(
    "DN HX CH NN TK HC XK HT TB NO CT XB TN CS QN CA CY XN MS CC CK CB KC HD TE BT HN DT DK XD TS TC TQ TA TY HG "
    "LS PV CN HS SV GB GD".split()
)
_CARD = re.compile(r"([A-Z]{2})(\d)(\d{2})(\d{10})")
_TEMP_CARD = re.compile(r"TE1(\d{2})(\d{10})")


def check_card(number: str, temporary: bool = False) -> tuple[str, dict[str, str]] | None:
    """None when the 15-character card number is well formed, else (finding code, context)."""
    if temporary:
        return None if _TEMP_CARD.fullmatch(number) else ("CARD.TEMPORARY", {"value": number})
    m = _CARD.fullmatch(number)
    if not m:
        return "CARD.FORMAT", {"value": number}
    prefix, level, office, _ = m.groups()
    if prefix not in CARD_PREFIXES:
        return "CARD.PREFIX", {"value": number, "prefix": prefix}
    if level not in "12345":
        return "CARD.LEVEL", {"value": number, "level": level}
    if office == "00":
        return "CARD.OFFICE", {"value": number, "office": office}
    return None


@dataclass(frozen=True)
class Card:
    """One card of the episode as the XML1 card fields write it (a temporary card's values derived)."""

    number: str
    registered_at: Any
    valid_from: Any
    valid_to: Any
    five_years_from: Any = None

    def covers(self, day: dt.date) -> bool:
        start = self.valid_from.date() if isinstance(self.valid_from, dt.datetime) else self.valid_from
        end = self.valid_to.date() if isinstance(self.valid_to, dt.datetime) else self.valid_to
        return (start is None or start <= day) and (end is None or day <= end)


@dataclass(frozen=True)
class Coverage:
    """Whether the visit uses health insurance, and the periods its cards cover.

    A visit uses BHYT when its cards collection holds a card and the HIS's object code (``object_code``) is not 9
    (QĐ 3276/2025: «người bệnh không KCB BHYT»). A cost row is the fund's when its order day (``ngay_yl``) falls in
    a card's period; rows without an order time follow the visit. A card that turns up during a stay therefore
    splits the costs: before its GT_THE_TU the patient pays everything, from it the fund pays its share."""

    insured: bool
    cards: tuple[Card, ...] = ()
    object_code: str | None = None

    def covers(self, when: dt.datetime | dt.date | None) -> bool:
        if not self.insured:
            return False
        if when is None or not self.cards:
            return True
        day = when.date() if isinstance(when, dt.datetime) else when
        return any(c.covers(day) for c in self.cards)


def is_temporary(card: dict[str, Any], row: dict[str, Any], shared: Params) -> bool:
    """A temporary card (TE1 + province + 10 digits, issued to a child before its birth registration): as the HIS
    flags it (``temporary``), else a TE1 number of a newborn — the same reading as rule R.CARD.TEMPORARY."""
    flag = card.get("temporary")
    if flag is not None:
        return bool(flag)
    return bool(_TEMP_CARD.fullmatch(str(card.get("card_no") or ""))) and shared.is_newborn(
        row.get("born_at"), row.get("arrived_at"))


def _day(value: Any) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value


def episode_cards(row: dict[str, Any], rows: list[dict[str, Any]], shared: Params) -> tuple[Card, ...]:
    """The cards of the episode, in order. A temporary card needs no card data beyond its number (QĐ 130 (4750),
    XML1: MA_DKBD «02 ký tự cuối của mã đơn vị hành chính của tỉnh … + 000. Ví dụ: Hà Nội thì ghi là 01000» — the
    province digits of a TE1 card —; GT_THE_TU «Thay thời điểm thẻ BHYT có giá trị bằng thời gian người bệnh vào
    cơ sở KBCB»; GT_THE_DEN «… bằng thời gian người bệnh ra viện»): what the HIS holds for them is not read."""
    out = []
    for c in rows:
        number = str(c.get("card_no") or "")
        if is_temporary(c, row, shared):
            out.append(Card(number, number[3:5] + "000", _day(row.get("arrived_at")), _day(row.get("left_at"))))
        else:
            out.append(Card(number, c.get("registered_at"), c.get("valid_from"), c.get("valid_to"),
                            c.get("five_years_from")))
    return tuple(out)


def object_code(row: dict[str, Any]) -> str | None:
    """The HIS's MA_DOITUONG_KCB: the ``object_code`` input, else a column auto-mapped to the field."""
    code = row.get("object_code", row.get("ma_doituong_kcb"))
    return None if code in (None, "") else str(code).strip()


def coverage(row: dict[str, Any], card_rows: list[dict[str, Any]], shared: Params) -> Coverage:
    code = object_code(row)
    cards_ = episode_cards(row, card_rows, shared)
    return Coverage(bool(cards_) and code != ObjectCode.UNINSURED, cards_, code)


def cards(row: dict[str, Any], ctx: RuleContext) -> dict[str, Any]:
    """MA_THE_BHYT, MA_DKBD, GT_THE_TU, GT_THE_DEN as matching lists, one entry per card used in the episode
    (QĐ 130: a card renewed during treatment is written after the first, separated by ";"); a temporary card's
    MA_DKBD and dates from the visit (:func:`episode_cards`); MA_DOITUONG_KCB. Checks each number.

    A visit without a card, or with object code 9, does not use BHYT: the card fields stay empty (QĐ 130 (4750),
    XML1 and XML0, MA_THE_BHYT, MA_DKBD, GT_THE_TU, GT_THE_DEN: «Trường hợp người bệnh không KBCB BHYT thì để
    trống trường thông tin này») and MA_DOITUONG_KCB is 9 (QĐ 3276/2025). A HIS code other than 9 on a visit
    without a card is kept: rule R.CARD.MISSING holds the hồ sơ, the HIS must say which it is."""
    rows = ctx.collections.get("cards", [])
    at = row.get("event_at")
    if isinstance(at, dt.datetime):  # a check-in announces the cards valid at its moment, not one issued later
        rows = [c for c, card in zip(rows, episode_cards(row, rows, ctx.shared), strict=True) if card.covers(at.date())]
    cov = coverage(row, rows, ctx.shared)
    out: dict[str, Any] = {}
    if cov.object_code is not None or not cov.cards:
        out["MA_DOITUONG_KCB"] = cov.object_code or ObjectCode.UNINSURED.value
    if not cov.insured:
        return {**out, "MA_THE_BHYT": None, "MA_DKBD": None, "GT_THE_TU": None, "GT_THE_DEN": None,
                "NAM_NAM_LIEN_TUC": None}
    for i, (c, src) in enumerate(zip(cov.cards, rows, strict=True), start=1):
        bad = check_card(c.number, is_temporary(src, row, ctx.shared))
        if bad:
            ctx.problem(bad[0], "MA_THE_BHYT", row=1, card=i, **bad[1])
        for value, field_name, column in ((c.registered_at, "MA_DKBD", "registered_at"),
                                          (c.valid_from, "GT_THE_TU", "valid_from")):
            if value is None:
                ctx.problem("MAPPING.VALUE", field_name, row=1, value="", column=f"collections.cards.{column}",
                            expected=f"the card's {column} (card {i}; only a temporary card may leave it empty)")
    return {
        **out,
        "MA_THE_BHYT": [c.number for c in cov.cards],
        "MA_DKBD": [c.registered_at for c in cov.cards],
        "GT_THE_TU": [c.valid_from for c in cov.cards],
        "GT_THE_DEN": [c.valid_to for c in cov.cards if c.valid_to] or None,
        "NAM_NAM_LIEN_TUC": next((c.five_years_from for c in cov.cards if c.five_years_from), None),
    }


# --- newborns (QĐ 3176 citing Thông tư 30/2020/TT-BYT Đ10 k1 b) ---------------------------------------------
NEWBORN_DEFAULTS = {
    "mother_prefix": "Con bà ",
    "father_prefix": "Con ông ",
    "guardian_prefix": "Con người giám hộ ",
    # Abandoned baby: public transcriptions disagree. Default "facility": the facility is the custodian of record
    # until the hand-over, and its name is always known; "handover" uses the person named in the hand-over record.
    "abandoned": "facility",
    "abandoned_prefix": "Trẻ bị bỏ rơi tại ",
}


def person(row: dict[str, Any], ctx: RuleContext) -> dict[str, Any]:
    """HO_TEN, NGAY_SINH and DIA_CHI; for a baby up to 28 days without a name of its own: named after the mother,
    else the father, else the guardian, else the abandoned-infant rule; NGAY_SINH with hour and minute; the address
    of the mother or guardian (the facility's for an abandoned baby). Others: as recorded, with 0000 for an
    unknown birth time."""
    p = {**NEWBORN_DEFAULTS, **ctx.params("newborn")}
    name, address = row.get("full_name"), row.get("address")
    newborn = ctx.shared.is_newborn(row.get("born_at"), row.get("arrived_at"))
    if newborn and not name:
        if row.get("mother_name"):
            name, address = p["mother_prefix"] + row["mother_name"], row.get("mother_address") or address
        elif row.get("father_name"):
            name, address = p["father_prefix"] + row["father_name"], row.get("father_address") or address
        elif row.get("guardian_name"):
            name, address = p["guardian_prefix"] + row["guardian_name"], row.get("guardian_address") or address
        elif row.get("abandoned"):
            if p["abandoned"] == "handover" and row.get("handover_name"):
                name = row["handover_name"]
            else:
                name = p["abandoned_prefix"] + ctx.facility_name
            address = p.get("facility_address") or address
        else:
            ctx.problem("NEWBORN.NAME", "HO_TEN", row=1)
    born = row.get("born_at")
    if born is not None and not (newborn or row.get("birth_time_known")):
        born = born.date()  # NGAY_SINH ends in 0000 when the time of birth is not known
    return {"HO_TEN": name, "NGAY_SINH": born, "DIA_CHI": address}


# --- kind of visit, decided at the end of the episode ------------------------------------------------------
def visit_kind(row: dict[str, Any], ctx: RuleContext) -> dict[str, Any]:
    """MA_LOAI_KCB (QĐ 1804/2026 list) and SO_NGAY_DTRI: an inpatient stay shorter than ``short_stay_hours``
    (params.toml) is 09, day care 04, inpatient 03, a visit 01. Treatment days (4750): NGAY_RA − NGAY_VAO + 1 for
    03/04, else 0.

    A check-in (the row has ``event_at``) says what was true at its moment, as a check-in sent then would: before the
    ward admission the visit is an examination (01), and a discharge after the moment is not known yet (no 09)."""
    kind = row.get("kind")
    start, end = row.get("ward_admitted_at") or row.get("arrived_at"), row.get("left_at")
    at = row.get("event_at")
    if isinstance(at, dt.datetime):
        admitted = row.get("ward_admitted_at")
        if kind in ("inpatient", "daycare") and isinstance(admitted, dt.datetime) and admitted > at:
            kind = None
        if isinstance(end, dt.datetime) and end > at:
            end = None
    if kind == "inpatient":
        code = VisitKind.SHORT_STAY if start and ctx.shared.is_short_stay(row["arrived_at"], end) else VisitKind.INPATIENT
    elif kind == "daycare":
        code = VisitKind.DAY_CARE
    else:
        code = VisitKind.OUTPATIENT
    days = 0
    if code in INPATIENT_KINDS and row.get("arrived_at") and end:  # 4750: «Ngày RA trừ (-) ngày VÀO cộng (+) 1»
        days = (end.date() - row["arrived_at"].date()).days + 1
    return {"MA_LOAI_KCB": code.value, "SO_NGAY_DTRI": days}


# --- money -----------------------------------------------------------------------------------------------
def costs(row: dict[str, Any], ctx: RuleContext) -> dict[str, Any]:
    """Per drug / service row: THANH_TIEN_BV = round(SO_LUONG × DON_GIA × TYLE_TT_DV/100, 2); the insured part by
    TYLE_TT_BH; the fund's part by MUC_HUONG; the patient pays the rest. Exact decimals, ROUND_HALF_UP.

    THANH_TIEN_BH is computed from the fund's unit price and rounded once, as the text writes it — QĐ 130 (4750),
    XML3, THANH_TIEN_BH: «SO_LUONG * DON_GIA_BH * TYLE_TT_DV/100 * TYLE_TT_BH/100, làm tròn số đến 2 chữ số thập
    phân»; XML2: «SO_LUONG * DON_GIA * TYLE_TT_BH/100» —: the row's ``don_gia_bh`` (the column mapped to DON_GIA_BH:
    a supply's price capped at its payment limit, a service's BHYT price) when the HIS gives one, else ``price``.
    Not THANH_TIEN_BV × TYLE_TT_BH/100: that uses the hospital's price, and rounds twice.

    TYLE_TT_DV (XML3) is the HIS's ``tyle_tt_dv`` when it has one (a 2nd examination 30, a shared bed 50 …), else
    100: QĐ 4750 đính chính, XML3, TYLE_TT_DV: «Nếu nằm 01 người/giường bệnh thì trường thông tin "TYLE_TT_DV" ghi
    100», «tiền khám bệnh … ghi 100 tương ứng với lần khám bệnh thứ nhất» — the ordinary service is paid whole.

    A row the fund does not pay (a visit without a card or with object code 9, or ordered before a card that turned
    up during the stay: :class:`Coverage`) is the patient's: TYLE_TT_BH 0 («không thuộc phạm vi thanh toán của quỹ
    BHYT thì ghi là 0»), so THANH_TIEN_BH = SO_LUONG × DON_GIA × TYLE_TT_BH/100 = 0, MUC_HUONG 0, T_BHTT and
    T_BNCCT 0, and T_BNTT = THANH_TIEN_BV − THANH_TIEN_BH, the whole cost."""
    qty, price = row["qty"], row["price"]
    price_bh = price if row.get("don_gia_bh") is None else Decimal(str(row["don_gia_bh"]))
    share = row.get("tyle_tt_dv")
    share = 100 if share is None else int(share)
    bv = money(qty * price * share / 100) if share != 100 else money(qty * price)
    zero = Decimal("0.00")
    covered = ctx.coverage is None or ctx.coverage.covers(row.get("ngay_yl"))
    if covered:
        if row.get("benefit_pct") is None:
            ctx.problem("MAPPING.VALUE", "MUC_HUONG", value="", column="benefit_pct",
                        expected="the benefit level (MUC_HUONG) of a row the fund pays")
            return {}
        rate, benefit = Decimal(row["pay_rate"]), Decimal(row["benefit_pct"])
    else:
        rate = benefit = Decimal(0)
    bh = money(qty * price_bh * share / 100 * rate / 100)  # from the fund's price, rounded once
    bhtt = money(bh * benefit / 100)
    return {
        "SO_LUONG": qty, "THANH_TIEN_BV": bv, "THANH_TIEN_BH": bh, "TYLE_TT_BH": int(rate), "TYLE_TT_DV": share,
        "MUC_HUONG": int(benefit), "T_BHTT": bhtt, "T_BNCCT": bh - bhtt, "T_BNTT": bv - bh,
        "T_NGUONKHAC_NSNN": zero, "T_NGUONKHAC_VTNN": zero, "T_NGUONKHAC_VTTN": zero, "T_NGUONKHAC_CL": zero,
        "T_NGUONKHAC": zero,
    }


def totals(row: dict[str, Any], ctx: RuleContext) -> dict[str, Any]:
    """XML1 totals from the rows of XML2 and XML3: T_THUOC = Σ XML2, T_VTYT = Σ XML3 supplies, T_TONGCHI_BV =
    Σ THANH_TIEN_BV of both, and the shares summed the same way. Runs after the other tables are built.

    T_BHTT_GDV = Σ T_BHTT of the rows paid by fee for service — QĐ 130 (4750), XML1, T_BHTT_GDV: «Là số tiền
    T_BHTT tại bảng XML2 và XML3 đối với các chi phí có MA_PTTT là "1" (Phí dịch vụ)»."""
    drugs, services = ctx.tables.get("XML2", []), ctx.tables.get("XML3", [])
    both = drugs + services

    def total(key: str, rows: list[dict[str, Any]]) -> Decimal:
        return sum((r.get(key) or Decimal(0) for r in rows), Decimal("0.00"))

    return {
        "T_THUOC": total("THANH_TIEN_BV", drugs),
        "T_VTYT": total("THANH_TIEN_BV", [r for r in services if ctx.shared.is_supply(r.get("MA_NHOM"))]),
        "T_TONGCHI_BV": total("THANH_TIEN_BV", both), "T_TONGCHI_BH": total("THANH_TIEN_BH", both),
        "T_BNTT": total("T_BNTT", both), "T_BNCCT": total("T_BNCCT", both), "T_BHTT": total("T_BHTT", both),
        "T_NGUONKHAC": total("T_NGUONKHAC", both),
        "T_BHTT_GDV": total("T_BHTT", [r for r in both if str(r.get("MA_PTTT")) == "1"]),
    }


def settlement(row: dict[str, Any], ctx: RuleContext) -> dict[str, Any]:
    """NAM_QT / THANG_QT: the year and month of settlement (payment), else of discharge."""
    when = row.get("settled_at") or row.get("left_at")
    return {"NAM_QT": when.year, "THANG_QT": when.month} if when else {}


ROW_RULES: dict[str, Callable[[dict[str, Any], RuleContext], dict[str, Any]]] = {
    "cards": cards,
    "person": person,
    "visit_kind": visit_kind,
    "costs": costs,
    "totals": totals,
    "settlement": settlement,
}
# Parameter tables a mapping may give ([rules.NAME]); the thresholds the business rules share are not among them.
MAPPING_PARAMS = {"newborn": frozenset({*NEWBORN_DEFAULTS, "facility_address"})}
SHARED = {"visit_kind": "short_stay_hours", "checkin": "the emergency code (xml130.codes.ObjectCode)"}


def check_params(given: dict[str, Any]) -> list[str]:
    """Problems with a mapping's ``[rules.NAME]`` tables (unknown tables or keys; shared thresholds)."""
    problems = []
    for name, values in given.items():
        if name in SHARED:
            problems.append(f"rules.{name}: {SHARED[name]} is a parameter of xml130 (src/xml130/data/params.toml), "
                            "shared by the mapping and the business rules; remove it from the mapping")
        elif name not in MAPPING_PARAMS:
            problems.append(f"rules.{name}: unknown parameter table (known: {', '.join(MAPPING_PARAMS)})")
        else:
            problems += [f"rules.{name}.{k}: unknown parameter" for k in values if k not in MAPPING_PARAMS[name]]
    return problems


# Rules that read the other tables of the hồ sơ: they run on XML1 after every other table is built.
AFTER_TABLES = frozenset({"totals"})
