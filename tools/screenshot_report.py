"""Render an HTML validation report and take a headless-Chromium screenshot of it (to look at, not a test).

    python tools/screenshot_report.py OUT.png [PATH ...]     # default: fixtures/invalid and fixtures/valid

Needs Debian's chromium (`apt-get install chromium`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from xml130.report_html import html_report
from xml130.validate import iter_files, validate_path


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "report.png").resolve()
    paths = sys.argv[2:] or ["fixtures/invalid", "fixtures/valid"]
    files = list(iter_files(paths))
    findings = [f for p in files for f in validate_path(p)]
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html_report(findings, len(files)), encoding="utf-8")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp}/profile", f"--screenshot={out}", "--window-size=1280,1500",
                        page.as_uri()], check=True, capture_output=True, timeout=120)
    print(f"{out} ({len(files)} files, {len(findings)} findings)")


if __name__ == "__main__":
    main()
