"""The stream: every few seconds, what closed since the watermark → checks → signed → sent, until stopped.

One cycle is the jobs that already exist, in order, on one ledger — no second pipeline:

1. :func:`.nightly.nightly` stages the episodes closed since the nightly's watermark (minus the mapping's
   lookback, so a transaction that committed late is read again; what was staged already is unchanged by hash),
   runs the business rules and the checks across hồ sơ (:mod:`xml130.catalog.crossstage`: a late partner in an
   overlap is held back; the partner already sent is listed for correction, :func:`corrections_due`), and moves
   the watermark. The nightly run at 01:30 stays, as the catch-up and the day's reconciliation: it reads the
   same watermark, so whatever a stopped stream missed is staged then.
2. With a portal, :func:`.submit.submit` signs and sends what is due (check-ins first, then versions, oldest
   first). Without one, :func:`sign_only` signs each staged version into ``<outbox>/_signed/`` (for the portal's
   manual upload) and nothing is sent; without a signer either, the cycle stages only.

A cycle starts every ``every`` seconds (the next one right away when a cycle took longer). ``stop`` (a
:class:`threading.Event`, set by the first SIGINT/SIGTERM) is looked at between steps and between two files
sent: the file in hand is finished, nothing is left half-done; a run killed outright (the second signal) rolls
back as every job does (files before ledger rows, the watermark moved only by a completed stage).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..codes import Status
from ..mapping import Mapping
from ..store.cross import corrections_due
from ..store.files import write_atomic
from ..store.ledger import Ledger
from ..store.lock import JobBusy
from .nightly import nightly
from .stager import new_run_id
from .submit import submit

SIGNED = "_signed"  # <outbox>/_signed/<facility>/<day>/<MA_LK>/v<n>.xml: signed copies when no portal is set


@dataclass
class Cycle:
    """What one cycle did."""

    number: int
    started: dt.datetime
    staged: dict[str, int] = field(default_factory=dict)  # the stage's counts (staged, unchanged, quarantined …)
    sent: dict[str, int] = field(default_factory=dict)  # submit's counts (accepted, rejected, unanswered …)
    signed: int = 0  # sign-only: versions signed into _signed/
    corrections: list[dict[str, Any]] = field(default_factory=list)  # sent versions a later partner conflicts with
    seconds: float = 0.0
    stopped: bool = False  # the stop came during this cycle

    def line(self) -> str:
        parts = [f"cycle {self.number}", f"{self.seconds:.1f} s",
                 "stage: " + (", ".join(f"{k} {v}" for k, v in sorted(self.staged.items())) or "-")]
        if self.sent:
            parts.append("send: " + ", ".join(f"{k} {v}" for k, v in sorted(self.sent.items())))
        if self.signed:
            parts.append(f"signed {self.signed} into {SIGNED}/")
        if self.corrections:
            parts.append(f"to correct {len(self.corrections)}")
        return "; ".join(parts)

    def did_something(self) -> bool:
        return bool({k for k, v in self.staged.items() if v and k != "unchanged"} or self.sent or self.signed)


def _counts(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v and k != "ledger_rows"}


def sign_only(outbox: Path, ledger_url: str, signer: Any, facility: str,
              should_stop: Callable[[], bool] | None = None) -> int:
    """Sign each staged version not signed yet into ``<outbox>/_signed/<its path>`` (written whole); the ledger
    is unchanged: once a portal is configured, ``submit`` signs the staged file afresh and sends it."""
    from ..signing import SLOT

    done = 0
    for row in Ledger(ledger_url).pending_hoso(facility):
        if should_stop is not None and should_stop():
            break
        target = outbox / SIGNED / row["path"]
        if row["status"] != Status.STAGED or target.exists():
            continue
        data = (outbox / row["path"]).read_bytes()
        if f"<{SLOT}/>".encode() in data:
            write_atomic(target, signer.sign(data))
            done += 1
    return done


def cycle(source: str, outbox: Path, ledger_url: str, mapping: Mapping, *, number: int = 1, client: Any = None,
          signer: Any = None, unsigned: bool = False, lookback: dt.timedelta | None = None,
          stop: threading.Event | None = None) -> Cycle:
    """One cycle: stage → checks → sign → send (or sign only, or stage only)."""
    stop = stop or threading.Event()
    t0, result = time.monotonic(), Cycle(number, dt.datetime.now().replace(microsecond=0))
    staged = nightly(source, outbox, ledger_url, mapping=mapping, lookback=lookback, snapshot=False,
                     run_id=new_run_id("stream"))
    result.staged = _counts(staged.counts)
    result.corrections = corrections_due(ledger_url, mapping.facility)
    if not stop.is_set():
        ledger = Ledger(ledger_url)
        if client is not None:
            if ledger.pending_checkins(mapping.facility) or ledger.pending_hoso(mapping.facility):
                sent = submit(outbox, ledger_url, client, signer, unsigned=unsigned, facility=mapping.facility,
                              should_stop=stop.is_set, snapshot=False)
                result.sent = _counts(sent.counts)
        elif signer is not None:
            result.signed = sign_only(outbox, ledger_url, signer, mapping.facility, stop.is_set)
    result.seconds, result.stopped = time.monotonic() - t0, stop.is_set()
    return result


def stream(source: str, outbox: Path, ledger_url: str, mapping: Mapping, *, every: float, client: Any = None,
           signer: Any = None, unsigned: bool = False, lookback: dt.timedelta | None = None,
           stop: threading.Event | None = None, on_cycle: Callable[[Cycle], None] | None = None,
           on_error: Callable[[int, Exception], None] | None = None, max_failures: int = 5,
           cycles: int | None = None) -> int:
    """Cycles every ``every`` seconds until ``stop`` is set (or ``cycles`` were run); returns how many ran.

    A cycle that fails (the HIS or the ledger unreachable for a moment, a conflict with a nightly run on the same
    ledger) is reported to ``on_error`` and the next cycle goes on — what it left is redone, as after a crash;
    ``max_failures`` failures in a row stop the stream with the last error. A cycle that finds the ledger's job
    lock held (the nightly, a resend or a submit run: one run at a time, :mod:`xml130.store.lock`) did nothing;
    it is reported and never counts as a failure."""
    stop = stop or threading.Event()
    n = failures = 0
    while not stop.is_set() and (cycles is None or n < cycles):
        started = time.monotonic()
        n += 1
        try:
            done = cycle(source, outbox, ledger_url, mapping, number=n, client=client, signer=signer,
                         unsigned=unsigned, lookback=lookback, stop=stop)
        except JobBusy as exc:  # the nightly, a resend or a submit run holds the ledger: not a failure, wait
            if on_error is not None:
                on_error(n, exc)
        except Exception as exc:
            failures += 1
            if failures >= max_failures:
                raise
            if on_error is not None:
                on_error(n, exc)
        else:
            failures = 0
            if on_cycle is not None:
                on_cycle(done)
        if cycles is not None and n >= cycles:
            break
        stop.wait(max(0.0, every - (time.monotonic() - started)))
    return n
