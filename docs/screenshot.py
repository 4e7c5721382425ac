"""Screenshot an HTML report for the README: `python docs/screenshot.py replay.html docs/replay-report.png`.

Uses the system chromium through Playwright, as the report tests do (no browser download).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(page_path: Path, png: Path, height: int = 1500) -> None:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        sys.exit("docs/screenshot.py: chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": height}, device_scale_factor=1)
        page.goto(page_path.resolve().as_uri(), wait_until="load")
        page.screenshot(path=str(png), full_page=False)
        browser.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python docs/screenshot.py REPORT.html OUT.png")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
