"""Pseudonyms: one per original word, run of digits and date in a file, of the same length, UTF-8 size and format,
drawn from a random key; dates moved inside their month without changing any comparison with the episode's."""

from __future__ import annotations

import datetime as dt
import random
import re
import secrets
import unicodedata
from typing import Any

from ..dates import compact
from ..params import defaults
from .fields import Kind

# --- pseudonyms ---------------------------------------------------------------------------------------------------
_ASCII_LOWER = "abcdefghijklmnopqrstuvwxyz"
_VN_LOWER = "àáâãèéêìíòóôõùúýăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
TOKEN = re.compile(r"[^\W\d_]+|\d+")


def _pool(size: int, wide: bool) -> str:
    """Lower-case letters of ``size`` UTF-8 bytes whose upper case has the same size (wide: any letter the
    document's encoding writes; otherwise ASCII only)."""
    if not wide:
        return _ASCII_LOWER
    return _POOLS.get(size) or _ASCII_LOWER


_POOLS = {n: "".join(c for c in _ASCII_LOWER + _VN_LOWER
                     if len(c.encode()) == n and len(c.upper()) == 1 and len(c.upper().encode()) == n)
          for n in (1, 2, 3)}


class Pseudonyms:
    """One pseudonym per original word / run of digits / date in a file, drawn from a random key."""

    def __init__(self, key: bytes | None = None) -> None:
        self._rng = random.Random(key if key is not None else secrets.token_bytes(32))
        self._words: dict[tuple[str, bool], str] = {}
        self._digits: dict[str, str] = {}
        self._used: set[Any] = set()  # pseudonyms given, and every original (a pseudonym never equals one)

    def forbid(self, value: str, kind: Kind) -> None:
        """No pseudonym may be a word or run of digits of ``value`` (another person's original), kept heads
        excepted: the pseudonym of another number with the same head would be this one."""
        parts = [item[len(self._head(item, kind)):] for item in value.split(";")] if kind.method == "number" \
            else [value]
        self._used.update(t.lower() for part in parts for t in TOKEN.findall(part))

    @staticmethod
    def _head(item: str, kind: Kind) -> str:
        return item[:kind.keep] if kind.shape is not None and kind.shape.fullmatch(item) else ""

    def _fresh(self, original: Any, draw) -> Any:
        for _ in range(50):
            new = draw()
            if new != original and new not in self._used:
                break
        self._used.add(new)
        return new

    def digits(self, run: str) -> str:
        """Other digits of the same script (a full-width or Arabic-Indic digit stays one, with its findings)."""
        if run not in self._digits:
            def draw() -> str:
                return "".join(chr(ord(c) - unicodedata.decimal(c) + self._rng.randrange(10)) for c in run)
            self._digits[run] = self._fresh(run, draw)
        return self._digits[run]

    def word(self, word: str, wide: bool) -> str:
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in word)
        key = (low, wide)
        if key not in self._words:
            def draw() -> str:
                return "".join(self._rng.choice(_pool(len(c.encode()), wide)) if c.isalpha() else c for c in low)
            self._words[key] = self._fresh(low, draw)
        new = self._words[key]
        return "".join(n.upper() if o.isupper() else n for o, n in zip(word, new, strict=True))

    def text(self, value: str, wide: bool, keep_words: frozenset[str] | None = None) -> str:
        """Every word replaced (``keep_words`` excepted), and every run of digits unless ``keep_words`` is given
        (a name or address: "Con 2", "Số 22" say nothing once the name and the street are replaced); spaces,
        punctuation and marks kept."""
        def sub(m: re.Match[str]) -> str:
            tok = m.group()
            if tok.isdigit():
                return tok if keep_words is not None else self.digits(tok)
            if keep_words is not None and tok in keep_words:
                return tok
            return self.word(tok, wide)
        return TOKEN.sub(sub, value)

    def number(self, value: str, kind: Kind, wide: bool) -> str:
        items = []
        for item in value.split(";"):
            head = self._head(item, kind)
            items.append(head + self.text(item[len(head):], wide))
        return ";".join(items)

    def shuffled(self, items: list[Any]) -> list[Any]:
        items = list(items)
        self._rng.shuffle(items)
        return items


# --- dates ----------------------------------------------------------------------------------------------------------
DATE_TEXT = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{4})?")


def moment(text: str) -> tuple[dt.datetime, bool] | None:
    """yyyyMMdd[HHmm] → (datetime, has time), None when partial or not a date."""
    moment = compact(text) if len(text) in (8, 12) else None
    return (moment, len(text) == 12) if moment is not None else None


def _whole_months(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month - (b.day < a.day)


def signature(born: dt.datetime, ref: tuple[dt.datetime, bool], has_time: bool, months_below: int) -> tuple:
    """What a rule may decide comparing a birth (or issue) date with a date of the episode."""
    at, ref_time = ref
    exact = (at > born) - (at < born) if has_time and ref_time else None
    days = (at.date() - born.date()).days
    months = _whole_months(born.date(), at.date())
    return (exact, (days > 0) - (days < 0), (at - born).days <= defaults()["newborn_days"], months // 12,
            months if months < months_below else None)


def date_candidates(value: str, pseudo: Pseudonyms) -> list[str]:
    """Other values of the same year and month, 00 kept as 00, a time of 0000 kept (shuffled; the original last)."""
    m = DATE_TEXT.fullmatch(value)
    if m is None:  # the caller passes dates of the standard's form only: nothing else to choose from
        return [value]
    y, mo, d, t = m[1], m[2], m[3], m[4]
    if mo == "00" or d == "00":
        days = [d]  # an unknown month or day: nothing to choose but the year, which stays
    else:
        try:
            last = ((dt.date(int(y) + int(mo) // 12, int(mo) % 12 + 1, 1)) - dt.timedelta(days=1)).day
        except ValueError:
            return []
        days = [f"{i:02d}" for i in range(1, last + 1)]
    if t is None:
        times = [""]
    elif t == "0000":
        times = ["0000"]
    else:
        times = pseudo.shuffled([f"{h:02d}{mi:02d}" for h in range(24) for mi in range(0, 60, 1)])[:40] + [t]
    out = [y + mo + dd + tt for dd in pseudo.shuffled(days) for tt in times]
    return sorted(out, key=lambda c: c == value)
