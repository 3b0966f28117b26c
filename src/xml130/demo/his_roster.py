"""The demo HIS's staff roster (:mod:`.his`): every department's staff beyond the doctors, each with the VNeID
survey's answers (level-2 account, health book, card integrated, and why not) — what the adoption report's staff
table reads."""

from __future__ import annotations

import random
from typing import Any

from .his_rows import RowBuilder

ROSTER = {"KB": 12, "CC": 9, "NOI": 14, "NGOAI": 11, "SAN": 10, "NHI": 8, "TNHIEM": 6}
STAFF_LEVEL2_MISSING = ["Chưa được cấp CCCD gắn chíp", "Chưa có điện thoại thông minh",
                        "Đã đăng ký, chờ Công an phê duyệt", "Nhân viên mới chuyển đến"]
STAFF_CARD_MISSING = ["Yêu cầu tích hợp đang chờ phê duyệt", "Thông tin thẻ chưa khớp CSDL dân cư",
                      "Thẻ BHYT hết giá trị sử dụng"]


def staff_facts(r: random.Random) -> dict[str, Any]:
    """A staff member's answers to the survey: level-2 account, health book, card integrated (with reasons)."""
    level2 = r.random() < 0.85
    book = level2 and r.random() < 0.9
    card = book and r.random() < 0.85
    return {"level2_identity": level2, "level2_missing_reason": None if level2 else r.choice(STAFF_LEVEL2_MISSING),
            "health_book": book, "card_integrated": card,
            "card_missing_reason": None if card else ("Chưa có tài khoản định danh điện tử mức 2" if not level2
                                                      else "Chưa tạo Sổ sức khỏe điện tử" if not book
                                                      else r.choice(STAFF_CARD_MISSING))}


def roster(b: RowBuilder, dept: dict[str, int], staff_ids: list[int]) -> None:
    """The rest of each department's staff (nurses, technicians, clerks), and the doctors' departments."""
    r = b.arng
    codes = list(dept)
    for n, sid in enumerate(staff_ids):
        row = next(x for x in b.rows["staff"] if x["id"] == sid)
        row.update(department_id=dept[codes[n % len(codes)]], active=True, **staff_facts(r))
    for code, size in ROSTER.items():
        for k in range(size):
            title = r.choice(["Điều dưỡng", "Điều dưỡng", "Kỹ thuật viên", "Hộ lý", "Nhân viên hành chính"])
            clinical = title in ("Điều dưỡng", "Kỹ thuật viên")
            b.add("staff", full_name=b.name(r.random() < 0.6, r), title=title, department_id=dept[code],
                  practice_code=f"02{dept[code]:02d}{k:06d}" if clinical else None,
                  active=not (code == "KB" and k == size - 1),  # one who left KB stays in the roster, inactive
                  **staff_facts(r))
