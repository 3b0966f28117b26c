"""The rules of the patient's cards and identity: the health insurance cards (XML1 MA_THE_BHYT, MA_DKBD,
GT_THE_TU, GT_THE_DEN; the costs the fund pays within their periods), the visits without one (MA_DOITUONG_KCB 9),
a newborn's birth time, identity numbers that lost their leading 0. Run right after :mod:`.general`."""

from __future__ import annotations

import datetime as dt

from ..mapping.derive import check_card
from .engine import INSURED, UNINSURED, WARNING, ZERO, Hit, RuleSet, View, items_of, when

RULES = RuleSet()
rule = RULES.rule


# --- cards ------------------------------------------------------------------------------------------------------
def _fund_rows(v: View):
    """(table, row number, row, order time) of the cost rows the fund pays a share of (THANH_TIEN_BH > 0)."""
    for table, no, r in v.costs():
        if (r.THANH_TIEN_BH or ZERO) > ZERO:
            yield table, no, r, when(r.NGAY_YL)


def _periods(x) -> list[tuple[dt.date | None, dt.date | None]]:
    tu, den = items_of(x.GT_THE_TU), items_of(x.GT_THE_DEN)
    out = []
    for i, t in enumerate(tu):
        start, end = when(t), when(den[i]) if i < len(den) else None
        out.append((start.date() if start else None, end.date() if end else None))
    return out


def _covered(periods, day: dt.date) -> bool:
    return any(start and start <= day and (end is None or day <= end) for start, end in periods)


@rule("R.CARD.VALID_ON_ADMISSION", applies_to=INSURED, tables=("XML1",),
      fields=("MA_THE_BHYT", "GT_THE_TU", "GT_THE_DEN", "NGAY_VAO"),
      title="Một thẻ BHYT của đợt điều trị còn giá trị ngày vào (thẻ có trong đợt điều trị: ngày đầu tiên quỹ chi trả)",
      source="QĐ 130 (4750), XML1, GT_THE_TU/GT_THE_DEN: «thời điểm thẻ BHYT bắt đầu có giá trị» / «hết giá trị sử"
             " dụng», one per card of the episode; the portal checks the card on the day of the visit. A card that"
             " turns up during a stay («Trường hợp trong thời gian điều trị, người bệnh được cấp thẻ BHYT mới …»)"
             " is checked on the first day the fund pays for (the earliest NGAY_YL with THANH_TIEN_BH > 0)",
      message="Không thẻ nào có giá trị ngày {vao}: {periods}.")
def _card_valid(v: View):
    x = v.x1
    if not x.MA_THE_BHYT or not v.vao:
        return
    days = [t.date() for _, _, _, t in _fund_rows(v) if t]
    day = min(days) if days and min(days) > v.vao.date() else v.vao.date()
    if _covered(_periods(x), day):
        return
    tu, den = items_of(x.GT_THE_TU), items_of(x.GT_THE_DEN)
    yield Hit("XML1", "GT_THE_DEN", 1, {"vao": day.strftime("%d/%m/%Y"),
                                        "periods": ", ".join(f"{a}→{b}" for a, b in zip(tu, den + [""] * len(tu), strict=False))})


@rule("R.CARD.COVERS_COSTS", applies_to=INSURED, tables=("XML1", "XML2", "XML3"),
      fields=("NGAY_YL", "THANH_TIEN_BH", "GT_THE_TU", "GT_THE_DEN"),
      title="Chi phí quỹ BHYT chi trả được chỉ định trong thời hạn của một thẻ",
      source="QĐ 130 (4750), XML1, GT_THE_TU/GT_THE_DEN: the period each card of the episode is valid; XML2/XML3,"
             " THANH_TIEN_BH «mức giá do quỹ BHYT thanh toán»: a cost ordered outside every card's period is not"
             " the fund's (a card that turns up during a stay pays from its GT_THE_TU)",
      message="Dòng chỉ định lúc {yl} có THANH_TIEN_BH = {bh} nhưng không thẻ nào có giá trị ngày đó ({periods}).")
def _card_covers(v: View):
    x = v.x1
    if not x.MA_THE_BHYT:
        return
    periods = _periods(x)
    for table, no, r, yl in _fund_rows(v):
        if yl and not _covered(periods, yl.date()):
            yield Hit(table, "THANH_TIEN_BH", no, {"yl": yl, "bh": r.THANH_TIEN_BH,
                                                   "periods": ", ".join(f"{a}→{b or ''}" for a, b in periods)})


@rule("R.CARD.MISSING", applies_to=INSURED, tables=("XML1",), fields=("MA_THE_BHYT", "MA_DOITUONG_KCB"),
      title="Hồ sơ KCB BHYT (MA_DOITUONG_KCB khác 9) có thẻ BHYT",
      source="QĐ 130 (4750), XML1, MA_THE_BHYT: only «Trường hợp người bệnh không KBCB BHYT thì để trống»; an"
             " emergency's card «tra cứu thông tin thẻ BHYT trước khi người bệnh ra viện»; QĐ 3276/2025: a patient"
             " not using BHYT is MA_DOITUONG_KCB 9",
      message="MA_DOITUONG_KCB = {code} (KCB BHYT) nhưng không có MA_THE_BHYT: ghi thẻ, hoặc MA_DOITUONG_KCB 9 nếu"
              " người bệnh không KCB BHYT.")
def _card_missing(v: View):
    if not v.x1.MA_THE_BHYT:
        yield Hit("XML1", "MA_THE_BHYT", 1, {"code": v.x1.MA_DOITUONG_KCB})


@rule("R.UNINSURED.NO_CARD", applies_to=UNINSURED, tables=("XML1",),
      fields=("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN"),
      title="Người bệnh không KCB BHYT (MA_DOITUONG_KCB 9): các trường thẻ để trống",
      source="QĐ 130 (4750), XML1, MA_THE_BHYT, MA_DKBD, GT_THE_TU, GT_THE_DEN: «Trường hợp người bệnh không KBCB"
             " BHYT thì để trống trường thông tin này»; QĐ 3276/2025: 9 «người bệnh không KCB BHYT»",
      message="MA_DOITUONG_KCB 9 (không KCB BHYT) nhưng {field} có giá trị.")
def _uninsured_card(v: View):
    for f in ("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN"):
        if getattr(v.x1, f):
            yield Hit("XML1", f, 1, {"field": f})


@rule("R.UNINSURED.NO_FUND", applies_to=UNINSURED, tables=("XML1", "XML2", "XML3"),
      fields=("THANH_TIEN_BH", "T_BHTT", "T_BNCCT", "T_TONGCHI_BH"),
      title="Người bệnh không KCB BHYT (MA_DOITUONG_KCB 9): quỹ không chi trả, người bệnh tự trả toàn bộ",
      source="QĐ 3276/2025: 9 «người bệnh không KCB BHYT»; QĐ 130 (4750), XML1 T_BHTT «số tiền đề nghị cơ quan"
             " bảo hiểm xã hội thanh toán», T_TONGCHI_BH «chi phí trong phạm vi quỹ BHYT thanh toán», T_BNCCT «cùng"
             " chi trả trong phạm vi quyền lợi được hưởng BHYT»: none for a visit outside BHYT",
      message="MA_DOITUONG_KCB 9 (không KCB BHYT) nhưng {field} = {found} (phải là 0).")
def _uninsured_fund(v: View):
    for f in ("T_TONGCHI_BH", "T_BHTT", "T_BNCCT"):
        if (getattr(v.x1, f) or ZERO) != ZERO:
            yield Hit("XML1", f, 1, {"field": f, "found": getattr(v.x1, f)})
    for table, no, r in v.costs():
        for f in ("THANH_TIEN_BH", "T_BHTT", "T_BNCCT"):
            if (getattr(r, f) or ZERO) != ZERO:
                yield Hit(table, f, no, {"field": f"{table} {f}", "found": getattr(r, f)})


@rule("R.CARD.LISTS_MATCH", applies_to=INSURED, tables=("XML1",), fields=("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU", "GT_THE_DEN"),
      title="Nhiều thẻ: MA_THE_BHYT, MA_DKBD, GT_THE_TU, GT_THE_DEN có cùng số phần tử",
      source="QĐ 130 (4750), XML1, MA_THE_BHYT/MA_DKBD/GT_THE_TU/GT_THE_DEN: a new card during treatment: «ghi tiếp"
             " … cách nhau bằng dấu chấm phẩy» in each of the four fields; GT_THE_DEN empty only for a QN, HC, LS,"
             " XK, CY, CA card «mà không tra cứu được»",
      message="Số thẻ {n} nhưng MA_DKBD có {d}, GT_THE_TU có {t}, GT_THE_DEN có {e} giá trị.")
def _card_lists(v: View):
    x = v.x1
    n = len(items_of(x.MA_THE_BHYT))
    d, t, e = len(items_of(x.MA_DKBD)), len(items_of(x.GT_THE_TU)), len(items_of(x.GT_THE_DEN))
    unlooked = any(c[:2] in v.p["unlooked_card_prefixes"] for c in items_of(x.MA_THE_BHYT))
    if n and (d != n or t != n or (e != n and not (unlooked and e == 0))):
        yield Hit("XML1", "MA_THE_BHYT", 1, {"n": n, "d": d, "t": t, "e": e})


@rule("R.CARD.STRUCTURE", applies_to=INSURED, tables=("XML1",), fields=("MA_THE_BHYT",),
      title="Số thẻ BHYT đúng cấu trúc (mã đối tượng, mức hưởng 1–5, nơi cấp, 10 số)",
      source="QĐ 130 (4750), XML1, MA_THE_BHYT: «mỗi mã thẻ gồm có 15 ký tự»; their structure (2 letters, level 1–5,"
             " office, 10 digits) is BHXH's card number as the portal's card look-up reads it",
      message="Số thẻ '{card}' sai cấu trúc ({why}).")
def _card_structure(v: View):
    for card in items_of(v.x1.MA_THE_BHYT):
        bad = check_card(card, temporary=card.startswith("TE1"))
        if bad:
            yield Hit("XML1", "MA_THE_BHYT", 1, {"card": card, "why": bad[0]})


@rule("R.CARD.TEMPORARY", applies_to=INSURED, tables=("XML1",), fields=("MA_THE_BHYT", "MA_DKBD", "GT_THE_TU"),
      title="Thẻ tạm trẻ sơ sinh (TE1, đến 28 ngày tuổi): MA_DKBD = mã tỉnh + 000, GT_THE_TU = ngày vào,"
            " GT_THE_DEN = ngày ra",
      source="QĐ 130 (4750), XML1, MA_DKBD: «mã tỉnh … + 000. Ví dụ: Hà Nội thì ghi là 01000», for children «theo"
             " Điều 10 Thông tư số 30/2020/TT-BYT»; GT_THE_TU/GT_THE_DEN «chưa có thẻ BHYT: Thay thời điểm thẻ BHYT"
             " có giá trị bằng thời gian người bệnh vào» / «… hết giá trị bằng thời gian người bệnh ra viện»",
      message="Thẻ tạm {card}: MA_DKBD phải là {dkbd}, GT_THE_TU phải là {tu}, GT_THE_DEN phải là {den}.")
def _temp_card(v: View):
    x = v.x1
    cards, dkbd, tu, den = items_of(x.MA_THE_BHYT), items_of(x.MA_DKBD), items_of(x.GT_THE_TU), items_of(x.GT_THE_DEN)
    born = when(x.NGAY_SINH)
    newborn = v.p.is_newborn(born, v.vao)
    for i, card in enumerate(cards):
        # a TE card of level 1 looks the same as a temporary one: only a newborn's card is taken as temporary
        if card.startswith("TE1") and v.vao and newborn:
            want = (card[3:5] + "000", v.vao.strftime("%Y%m%d"), v.ra.strftime("%Y%m%d") if v.ra else None)
            found = tuple(xs[i] if i < len(xs) else None for xs in (dkbd, tu, den))
            if found[:2] != want[:2] or (want[2] and found[2] != want[2]):
                yield Hit("XML1", "MA_DKBD", 1, {"card": card, "dkbd": want[0], "tu": want[1], "den": want[2]})


@rule("R.NEWBORN.BIRTH_TIME", severity=WARNING, tables=("XML1",), fields=("NGAY_SINH",),
      title="Trẻ đến 28 ngày tuổi: NGAY_SINH ghi 00:00 (giờ sinh không rõ hay sinh đúng 00:00) — giám định viên xác nhận",
      source="QĐ 130 (4750), XML1, NGAY_SINH: «trẻ mới sinh (từ đủ 28 ngày tuổi trở xuống) thì phải ghi đầy đủ thông"
             " tin ngày, tháng, năm, giờ, phút sinh của trẻ (nếu có)» and «không có thông tin giờ, phút sinh thì ký tự"
             " giờ và phút được mặc định là 0000»: …0000 is both a birth at 00:00 and an unknown time, so a file"
             " cannot be refused for it (a warning for the giám định staff)",
      message="Trẻ {days} ngày tuổi, NGAY_SINH {born} ghi giờ sinh 00:00: sinh đúng 00:00 hay không rõ giờ sinh?"
              " Giám định viên cần xác nhận (trẻ đến 28 ngày tuổi phải ghi giờ, phút sinh nếu có).")
def _birth_time(v: View):
    born = v.x1.NGAY_SINH
    b = when(born)
    if b and v.vao and v.p.is_newborn(b, v.vao) and born.endswith("0000"):
        yield Hit("XML1", "NGAY_SINH", 1, {"days": (v.vao - b).days, "born": born})


# --- identity numbers written by software that stores them as numbers ---------------------------------------
def _cccd_zero_rule(table: str, name: str):
    @rule(f"R.CCCD.ZERO.{table}", severity=WARNING, tables=(table,), fields=(name,),
          title=f"{table} {name}: 11 chữ số — số CCCD (12 chữ số, bắt đầu bằng 0) đã mất số 0 đầu?",
          source=f"QĐ 130 (4750), {table}, {name}: «số căn cước công dân hoặc số chứng minh thư nhân dân hoặc số hộ"
                 " chiếu»; a citizen identity number has 12 digits beginning with the province code 001–096"
                 " (TT 59/2021/TT-BCA), so 11 digits is one that lost its leading 0 — HIS models that type the field"
                 " as a number write it so (docs/conformance.md, shapes seen in other software); a warning, since a"
                 " foreign passport may be 11 digits",
          message=f"{name} của bảng {table} có 11 chữ số: số CCCD có 12 chữ số và bắt đầu bằng số 0 (mã tỉnh) — phần"
                  " mềm HIS có thể đã lưu số này dạng số nên mất số 0 đầu. Kiểm tra lại số giấy tờ.")
    def check(v: View):
        for i, r in enumerate(v.rows(table), start=1):
            value = getattr(r, name, None)
            if value and len(value) == 11 and value.isdigit():
                yield Hit(table, name, v.row_no(r, i), {})


for _t, _name in (("XML0", "SO_CCCD"), ("XML1", "SO_CCCD"), ("XML6", "SO_CCCD"), ("XML9", "SO_CCCD_NND"),
                  ("XML15", "SO_CCCD")):
    _cccd_zero_rule(_t, _name)

