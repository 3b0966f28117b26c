"""A temporary Prefect site for the end-to-end tests: a real server on a free loopback port with its own
PREFECT_HOME, the commands of docs/operations.md run as written, and every process stopped at the end."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from xml130.demo import mapping_path

ROOT = Path(__file__).resolve().parents[1]
DEMO_MAPPING = str(mapping_path())  # the site's HIS is the demo's: XML130_MAPPING names its mapping
DOC = ROOT / "docs" / "operations.md"
BIN = Path(sys.executable).parent
DOC_PORT = "4200"


def doc_steps(name: str) -> list[str]:
    """The command lines of the ``<!-- steps:name -->`` block of docs/operations.md."""
    text = DOC.read_text(encoding="utf-8")
    m = re.search(rf"<!-- steps:{name} -->\s*```sh\n(.*?)```\s*<!-- /steps:{name} -->", text, re.S)
    assert m, f"docs/operations.md has no steps:{name} block"
    return [line.strip() for line in m.group(1).splitlines() if line.strip() and not line.strip().startswith("#")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_a_service() -> None:
    # systemd starts services with SIGINT at its default; a background job of a non-interactive shell (how pytest
    # may itself have been started) inherits it ignored, and Prefect's worker turns SIGTERM into SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Site:
    """Folders, the environment of docs/operations.md, and the processes started (stopped by ``close``)."""

    def __init__(self, tmp: Path):
        self.tmp, self.port = tmp, free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.outbox, self.reports = tmp / "outbox", tmp / "reports"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "XML130_"))}
        env.update(PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", PREFECT_HOME=str(tmp / "prefect-home"),
                   PREFECT_API_URL=self.api, PREFECT_SERVER_ANALYTICS_ENABLED="false", COLUMNS="200", XML130_HOME=str(ROOT),
                   XML130_OUTBOX=str(self.outbox), XML130_REPORTS=str(self.reports), XML130_MAPPING=DEMO_MAPPING,
                   XML130_PORTAL_URL="http://127.0.0.1:9/", XML130_PORTAL_USER="bv79999",
                   XML130_P12_PATH=str(tmp / "bv.p12"),
                   # the only departure from the server's defaults: its scheduler looks for due schedules every
                   # 10 s instead of 60 s, so the test waits less (the runs are still made by the scheduler)
                   PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="10")
        self.env = env
        self.procs: list[tuple[str, subprocess.Popen, Path]] = []

    def _line(self, step: str) -> str:
        return step.replace(f"--port {DOC_PORT}", f"--port {self.port}")

    def run(self, step: str, stdin: str | None = None, env: dict | None = None, cwd: Path | None = None) -> str:
        r = subprocess.run(["bash", "-c", self._line(step)], cwd=cwd or ROOT, env=env or self.env, input=stdin,
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, f"{step}: exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        return r.stdout

    def start(self, step: str, env: dict | None = None) -> subprocess.Popen:
        log = self.tmp / f"process-{len(self.procs)}.log"
        with log.open("w") as fh:
            proc = subprocess.Popen(["bash", "-c", "exec " + self._line(step)], cwd=ROOT, env=env or self.env,
                                    stdout=fh, stderr=subprocess.STDOUT, preexec_fn=_as_a_service)
        self.procs.append((step, proc, log))
        return proc

    def logs(self) -> str:
        return "\n".join(f"--- {step}\n{log.read_text(errors='replace')[-4000:]}" for step, _, log in self.procs)

    def wait_for_server(self, proc: subprocess.Popen, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert proc.poll() is None, f"the Prefect server exited\n{self.logs()}"
            try:
                if httpx.get(f"{self.api}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        pytest.fail(f"the Prefect server did not answer within {timeout} s\n{self.logs()}")

    def post(self, path: str, body: dict | None = None):
        r = httpx.post(f"{self.api}{path}", json=body or {}, timeout=30)
        r.raise_for_status()
        return r.json()

    def get(self, path: str):
        r = httpx.get(f"{self.api}{path}", timeout=30)
        r.raise_for_status()
        return r.json()

    def wait_for_deployment(self, name: str, timeout: float = 120) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = httpx.get(f"{self.api}/deployments/name/{name}", timeout=10)
            if r.status_code == 200:
                return r.json()
            time.sleep(1)
        pytest.fail(f"no deployment {name} after {timeout} s\n{self.logs()}")

    def wait_for_completed_run(self, deployment_id: str, timeout: float = 170) -> dict:
        """The first run of the deployment that reached Completed; a failed or crashed one fails the test."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            runs = self.post("/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [deployment_id]}},
                                                   "sort": "EXPECTED_START_TIME_ASC", "limit": 50})
            bad = [r for r in runs if r["state_type"] in ("FAILED", "CRASHED")]
            assert not bad, f"run {bad[0]['name']} ended {bad[0]['state_type']}\n{self.logs()}"
            done = [r for r in runs if r["state_type"] == "COMPLETED"]
            if done:
                return done[0]
            time.sleep(2)
        pytest.fail(f"no completed run of deployment {deployment_id} within {timeout} s\n{self.logs()}")

    def stop(self, proc: subprocess.Popen, timeout: float = 30) -> float:
        """One SIGTERM, as `systemctl stop` sends; the process and all it started must be gone within
        ``timeout``. Returns the seconds it took."""
        try:
            family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"{proc.args[-1]} did not stop within {timeout} s of one SIGTERM\n{self.logs()}")
        gone, alive = psutil.wait_procs(family, timeout=max(1.0, timeout - (time.monotonic() - t0)))
        for p in alive:
            p.kill()
        assert not alive, f"left running after {proc.args[-1]} stopped: {[p.pid for p in alive]}"
        return time.monotonic() - t0

    def close(self) -> None:
        """Stop whatever is still running, newest first (also after a failure)."""
        for _, proc, _ in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
