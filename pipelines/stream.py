"""Prefect flow ``stream``: what ``xml130 stream`` does, as one long-running flow run — every ``every`` seconds,
stage what closed since the watermark → checks across hồ sơ → sign → send (:mod:`xml130.jobs.stream`), until the
run is cancelled (``prefect flow-run cancel``) or ``minutes`` have passed.

Started once with ``prefect deployment run stream/stream`` (it has no schedule: it does not end by itself); the
deployment allows one run at a time, so a second start waits for the first to end. Without ``portal`` it stages and
signs (with ``p12``) only, and says so once in the log. Secrets as in ``submit``: the portal and PKCS#12 passwords
from the environment or the Secret blocks, the database URLs as in the other flows (``_common``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from pathlib import Path

from prefect import flow, get_run_logger

from xml130.jobs.stream import stream as run_stream
from xml130.mapping import load_mapping
from xml130.mapping.columns import parse_duration
from xml130.portal.client import PortalClient, PortalConfig
from xml130.signing import PASSWORD_ENV
from xml130.signing.choose import open_signer

from ._common import database_url, mapping_file
from .submit import _secret


@flow(name="stream")
def stream(outbox: str, every: float = 60, portal: str | None = None, user: str | None = None,
           p12: str | None = None, source: str | None = None, ledger: str | None = None, mapping: str | None = None,
           lookback: str | None = None, minutes: float | None = None, unsigned: bool = False) -> dict:
    """``every``: seconds between the starts of two cycles. ``portal`` empty: stage and sign only. ``minutes``:
    stop after this long (a trial); none = until cancelled. ``source``/``ledger``: none = XML130_SOURCE /
    XML130_LEDGER or the Secret blocks (see ``_common``)."""
    log = get_run_logger()
    source, ledger = database_url("source", source), database_url("ledger", ledger)
    mapping = mapping_file(mapping)
    _secret("xml130-portal-password", "XML130_PORTAL_PASSWORD")
    _secret("xml130-p12-password", PASSWORD_ENV)
    signer = open_signer(p12=Path(p12)) if p12 and not unsigned else None
    if not portal:
        log.warning("No portal configured (portal parameter empty): the stream stages%s only and sends nothing.",
                    " and signs" if signer else "")
    stop = threading.Event()
    timer = threading.Timer(minutes * 60 if minutes else 0, stop.set)
    timer.daemon = True
    if minutes:
        timer.start()
    totals = {"cycles": 0, "staged": 0, "accepted": 0, "signed": 0}

    def on_cycle(c) -> None:
        totals["cycles"] += 1
        totals["staged"] += c.staged.get("staged", 0) + c.staged.get("replaced", 0)
        totals["accepted"] += c.sent.get("accepted", 0)
        totals["signed"] += c.signed
        if c.did_something():
            log.info(c.line())
        for x in c.corrections:
            log.warning("to correct: %s v%s (%s) %s with %s", x["ma_lk"], x["version"], x["status"], x["code"],
                        ", ".join(x["others"]))

    def on_error(n, exc) -> None:
        log.warning("cycle %s failed (%s: %s); the next cycle tries again", n, type(exc).__name__, exc)

    client_cm = PortalClient(PortalConfig(base_url=portal, username=user or "")) if portal else contextlib.nullcontext()
    with client_cm as client:
        run_stream(source, Path(outbox), ledger, load_mapping(mapping), every=every, client=client, signer=signer,
                   unsigned=unsigned, lookback=parse_duration(lookback) if lookback else None, stop=stop,
                   on_cycle=on_cycle, on_error=on_error)
    timer.cancel()
    return {**totals, "until": dt.datetime.now().replace(microsecond=0).isoformat()}
