"""Column values as the mapping reads them: declared types, the inputs each mapping rule reads, and the one
conversion every engine goes through.

Drivers disagree (SQLite gives text for dates and binary floats for NUMERIC, PostgreSQL and MariaDB give
timestamps and decimals, a HIS may keep dates as ``dd/mm/yyyy hh:mm`` text and money as integer đồng). Every value
a mapping reads — a field's column, a rule input, a collection column, the episode's key, MA_LK and closing time —
goes through :func:`coerce` with its type, so the same rows give the same hồ sơ on every engine and no SQL cast is
needed. A value that cannot be read raises :class:`ValueProblem`; the extractor turns it into a ``MAPPING.VALUE``
finding naming table, field, source column and MA_LK.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..dates import DESCRIBED, DateTextError, to_datetime
from ..errors import Xml130Error

TYPE_NAMES = ("decimal", "date", "datetime", "integer", "text", "boolean")
# field kind of the standard → the type its column is read as
KIND_TYPES = {"decimal": "decimal", "date": "date", "partial_date": "date", "datetime": "datetime",
              "partial_datetime": "datetime", "integer": "integer"}
TRUE = frozenset({"1", "true", "t", "yes", "y", "x", "có", "co"})
FALSE = frozenset({"0", "false", "f", "no", "n", "không", "khong"})
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class ColumnType:
    type: str
    format: str | None = None  # strptime format of a text date; None: any of xml130.dates.KNOWN_FORMATS
    scale: int | None = None  # decimals of the field a decimal column feeds: 125000 → 125000.00 on every engine

    def describe(self) -> str:
        return self.type + (f" ({self.format})" if self.format else "")


class ValueProblem(Xml130Error, ValueError):
    def __init__(self, value: Any, expected: str):
        self.value, self.expected = value, expected
        super().__init__(f"{value!r}: expected {expected}")


def coerce(value: Any, ct: ColumnType | None) -> Any:
    """One database value → the Python value of its type (None stays None). Raises :class:`ValueProblem`."""
    if value is None or ct is None:
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    t = ct.type
    if isinstance(value, str) and t != "text":
        value = value.strip()
        if value == "":
            return None
    if t in ("date", "datetime"):
        try:
            when = to_datetime(value, ct.format)
        except DateTextError as exc:
            raise ValueProblem(value, exc.expected if ct.format or exc.expected != DESCRIBED else
                               f"a {t} ({DESCRIBED})") from None
        return when.date() if t == "date" else when
    if t == "decimal":
        number = _decimal(value)
        exp = number.as_tuple().exponent
        if ct.scale is not None and isinstance(exp, int) and exp > -ct.scale:
            number = number.quantize(Decimal(1).scaleb(-ct.scale))
        return number
    if t == "integer":
        number = _decimal(value, "an integer")
        if number != number.to_integral_value():
            raise ValueProblem(value, "an integer")
        return int(number)
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | Decimal):
            return value != 0
        if isinstance(value, str) and value.lower() in TRUE | FALSE:
            return value.lower() in TRUE
        raise ValueProblem(value, "a yes/no value (1/0, true/false, có/không)")
    if isinstance(value, dt.datetime | dt.date):
        raise ValueProblem(value, "text")
    return value if isinstance(value, str) else str(value)


def _decimal(value: Any, expected: str = "a number (12345 or 12345.67)") -> Decimal:
    if isinstance(value, bool):
        raise ValueProblem(value, expected)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):  # SQLite's NUMERIC: the ten decimals SQLAlchemy's Numeric used to give
        return Decimal(f"{value:.10f}")
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        try:
            return Decimal(value.replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            pass
    raise ValueProblem(value, expected)


@dataclass(frozen=True)
class Input:
    """A column a mapping rule reads: its type, whether the rule needs it, the field of the standard it concerns
    (named in findings)."""

    type: str
    field: str
    required: bool = True


def _inputs(**spec: tuple) -> dict[str, Input]:
    return {name: Input(*args) for name, args in spec.items()}


# rule → (collection it reads, or None for the table's own row; the columns it reads)
RULE_INPUTS: dict[str, tuple[str | None, dict[str, Input]]] = {
    "cards": ("cards", _inputs(
        card_no=("text", "MA_THE_BHYT"), registered_at=("text", "MA_DKBD", False),
        valid_from=("date", "GT_THE_TU", False),
        valid_to=("date", "GT_THE_DEN", False), five_years_from=("date", "NAM_NAM_LIEN_TUC", False),
        temporary=("boolean", "MA_THE_BHYT", False))),
    "person": (None, _inputs(
        full_name=("text", "HO_TEN"), address=("text", "DIA_CHI"), born_at=("datetime", "NGAY_SINH"),
        arrived_at=("datetime", "NGAY_VAO"), birth_time_known=("boolean", "NGAY_SINH", False),
        mother_name=("text", "HO_TEN", False), mother_address=("text", "DIA_CHI", False),
        father_name=("text", "HO_TEN", False), father_address=("text", "DIA_CHI", False),
        guardian_name=("text", "HO_TEN", False), guardian_address=("text", "DIA_CHI", False),
        abandoned=("boolean", "HO_TEN", False), handover_name=("text", "HO_TEN", False))),
    "visit_kind": (None, _inputs(
        kind=("text", "MA_LOAI_KCB"), arrived_at=("datetime", "NGAY_VAO"), left_at=("datetime", "NGAY_RA"),
        ward_admitted_at=("datetime", "NGAY_VAO_NOI_TRU", False))),
    "costs": (None, _inputs(
        qty=("decimal", "SO_LUONG"), price=("decimal", "DON_GIA"), pay_rate=("decimal", "TYLE_TT_BH"),
        benefit_pct=("decimal", "MUC_HUONG", False), tyle_tt_dv=("integer", "TYLE_TT_DV", False),
        ngay_yl=("datetime", "NGAY_YL", False))),
    "totals": (None, {}),
    "settlement": (None, _inputs(left_at=("datetime", "NGAY_RA"), settled_at=("datetime", "NGAY_TTOAN", False))),
}


# row inputs of a rule that reads a collection (the ``cards`` rule reads the visit's times and object code too)
ROW_INPUTS: dict[str, dict[str, Input]] = {
    "cards": _inputs(object_code=("text", "MA_DOITUONG_KCB", False), arrived_at=("datetime", "NGAY_VAO", False),
                     left_at=("datetime", "NGAY_RA", False), born_at=("datetime", "NGAY_SINH", False)),
}


def rule_inputs(rule: str, collection: str | None) -> dict[str, Input]:
    """The columns ``rule`` reads from ``collection`` (None: the table's own row)."""
    coll, inputs = RULE_INPUTS.get(rule, (None, {}))
    out = dict(inputs) if coll == collection else {}
    if collection is None:
        out.update(ROW_INPUTS.get(rule, {}))
    return out


def parse_duration(text: Any) -> dt.timedelta:
    """``"90m"``, ``"6h"``, ``"2d"`` (or a number of minutes) → timedelta; :class:`ValueProblem` otherwise."""
    if isinstance(text, int) and not isinstance(text, bool):
        return dt.timedelta(minutes=text)
    m = re.fullmatch(r"\s*(\d+)\s*([mhd])\s*", str(text))
    if not m:
        raise ValueProblem(text, 'a duration like "90m", "6h" or "1d"')
    return dt.timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]: int(m.group(1))})
