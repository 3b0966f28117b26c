"""Demo commands: ``demo`` (the whole demo job), ``demo-his`` (the demo hospital database), ``portal-sim``."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from . import EXIT_FINDINGS, EXIT_OK, app, counts_text, fail, out, progress, serve_until_stopped


@app.command()
def demo(
    output: Annotated[Path, typer.Option("--out")] = Path("out/demo"),
    encounters: Annotated[int, typer.Option("--encounters", min=1)] = 500,
    seed: Annotated[int, typer.Option("--seed")] = 130,
) -> None:
    """The demo job: create the demo HIS (SQLite), run the nightly export and a check-in run, validate; then the
    week's VNeID adoption report."""
    from ..demo.job import run_demo

    t0 = time.perf_counter()
    with progress(encounters, "nightly export") as advance:
        report = run_demo(output, encounters=encounters, seed=seed, progress=advance)
    v, n, c, a = report["validation"], report["nightly"], report["checkin"], report["adoption"]
    out.print(
        f"demo HIS: {report['his']}\n"
        f"nightly export: {counts_text(n['counts'])} → envelopes under {report['outbox']}/79999/<day>/<MA_LK>/v<n>.xml\n"
        f"quarantine (every reason): {n['report_dir']}/quarantine.json "
        f"({'as the demo data expects' if report['quarantine_as_expected'] else 'NOT what the demo data expects'})\n"
        f"check-in: {counts_text(c['counts'])} → {report['outbox']}/79999/checkin/\n"
        f"ledger: {report['ledger']} (Parquet copy: {n['report_dir']}/ledger.parquet)\n"
        f"validation of every file written: {v['files']} files, {v['errors']} errors\n"
        f"VNeID adoption report, {a['period_title']}: {a['total']['books']}/{a['total']['examined']} patients with a "
        f"health book → {Path(a['files']['xlsx']).parent}/ (xlsx, html, csv)\n"
        f"report: {output}/report.json ({time.perf_counter() - t0:.1f} s)\n"
        f"next (with .venv/bin on PATH): xml130 status --ledger {report['ledger']}; xml130 validate {report['outbox']}",
        markup=False,
    )
    ok = v["errors"] == 0 and report["quarantine_as_expected"]
    raise typer.Exit(EXIT_OK if ok else EXIT_FINDINGS)



@app.command("demo-his")
def demo_his(
    url: Annotated[str, typer.Option("--url", help="sqlite:///demo.db or postgresql+psycopg://…")] = "sqlite:///demo.db",
    encounters: Annotated[int, typer.Option("--encounters", min=1)] = 500,
    seed: Annotated[int, typer.Option("--seed")] = 130,
    every: Annotated[int, typer.Option("--every", min=1, help="Minutes between two arrivals (60 spreads 500 "
                                                              "episodes over three weeks).")] = 7,
) -> None:
    """Create (or re-create) the demo HIS database, deterministic for the same seed. A missing PostgreSQL database
    is created first (the account needs the CREATEDB right)."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..demo.his import create_demo
    from ..store.database import ensure_database

    try:
        if ensure_database(url):
            out.print(f"created database {url.rsplit('/', 1)[-1]}", markup=False)
        with progress(encounters, "demo HIS") as advance:
            done_so_far = [0]

            def report(done: int) -> None:  # create_demo reports a running total
                advance(done - done_so_far[0])
                done_so_far[0] = done

            create_demo(url, encounters, seed, progress=report, minutes_between=every)
    except SQLAlchemyError as exc:
        fail("Không tạo được CSDL demo:", f"{url.split('@')[-1]}: {str(exc).splitlines()[0]}")
    from sqlalchemy.engine import make_url

    out.print(f"demo HIS with {encounters} episodes at {make_url(url).render_as_string(hide_password=True)}",
              markup=False)



@app.command("portal-sim")
def portal_sim(
    port: Annotated[int, typer.Option("--port")] = 8130,
    username: Annotated[str, typer.Option("--user")] = "bv79999",
    ca: Annotated[Path | None, typer.Option("--ca", help="PEM of the CA whose signatures it accepts.")] = None,
    slow: Annotated[float, typer.Option("--slow", min=0, help="Fault: delay every answer by this many seconds.")] = 0.0,
    fail_5xx: Annotated[int, typer.Option("--fail-5xx", min=0, help="Fault: the next N requests (token "
                                                                   "included) answer 503.")] = 0,
    drop: Annotated[int, typer.Option("--drop", min=0, help="Fault: the next N files (the send endpoints only; a "
                                                            "token call never uses one up) are recorded, then the "
                                                            "connection closes without an answer.")] = 0,
    token_5xx: Annotated[int, typer.Option("--token-fail-5xx", min=0, help="Fault: the next N token calls answer "
                                                                          "503 (a token outage).")] = 0,
    reject_ma_lk: Annotated[list[str] | None, typer.Option("--reject-ma-lk", help="Refuse the hồ sơ of this MA_LK "
                                                                                 "as wrong data: HTTP 422, maKetQua "
                                                                                 "422 (repeatable).")] = None,
    reject_every: Annotated[int, typer.Option("--reject-every", min=0, help="Refuse every Nth hồ sơ that "
                                                                           "passes the checks as wrong data (422).")] = 0,
    token_ttl: Annotated[float, typer.Option("--token-ttl", min=0, help="Fault: tokens expire after this many "
                                                                        "seconds (0: at once, every send gets "
                                                                        "401).")] = 3600.0,
) -> None:
    """Run the local portal simulator on 127.0.0.1 (password from XML130_PORTAL_PASSWORD) until SIGINT or
    SIGTERM. One line per request on standard output: time, endpoint, request id, outcome (HTTP status and
    maKetQua, or "no answer"), fault injected; at the end the files received and the faults per endpoint."""
    from ..demo.portal_sim import Faults, PortalSim

    password = os.environ.get("XML130_PORTAL_PASSWORD")
    if not password:
        fail("Thiếu mật khẩu:", "set XML130_PORTAL_PASSWORD")
    faults = Faults(slow=slow, fail_5xx=fail_5xx, token_5xx=token_5xx, drop=drop,
                    reject_ma_lk=frozenset(reject_ma_lk or ()), reject_every=reject_every)
    sim = PortalSim(username=username, password=password, ca_pem=ca.read_bytes() if ca else None,
                    token_ttl=token_ttl, faults=faults, log=lambda line: print(line, flush=True))
    serve_until_stopped(sim, port, f"portal simulator at {{url}} (user {username})",
                         lambda: f"portal simulator stopped: {len(sim.received)} files received; faults injected: "
                                 f"{sim.fault_summary()}")
