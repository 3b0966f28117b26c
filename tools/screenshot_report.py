"""Take a headless-Chromium screenshot of a report page (to look at, not a test).

    python tools/screenshot_report.py OUT.png [PATH ...]      # the validation report of PATHs
                                                              #   (default: fixtures/invalid and fixtures/valid)
    python tools/screenshot_report.py OUT.png --html PAGE     # any page, e.g. out/adoption/adoption-2026-W47.html

Needs Debian's chromium (`apt-get install chromium`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def screenshot(page: Path, out: Path, size: str = "1280,1500") -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp}/profile", f"--screenshot={out}", f"--window-size={size}",
                        page.resolve().as_uri()], check=True, capture_output=True, timeout=120)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "report.png").resolve()
    args = sys.argv[2:]
    if args[:1] == ["--html"]:
        screenshot(Path(args[1]), out)
        print(out)
        return
    from xml130.qa_html import html_report
    from xml130.validate import iter_files, validate_path

    files = list(iter_files(args or ["fixtures/invalid", "fixtures/valid"]))
    findings = [f for p in files for f in validate_path(p)]
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html_report(findings, len(files)), encoding="utf-8")
        screenshot(page, out)
    print(f"{out} ({len(files)} files, {len(findings)} findings)")


if __name__ == "__main__":
    main()
