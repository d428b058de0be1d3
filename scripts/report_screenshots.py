"""Screenshots of the HTML report for docs/, taken in headless Chromium (the e2e tests' browser).

    python scripts/report_screenshots.py [OUT_DIR]      # default: docs/

Writes report-shop.png (the example cluster: the namespace matrix and the workload graph) and report-20ns.png (a
generated 20-namespace cluster of 161 workloads: the matrix, one cell's rules open). The other sections of the page
(identity, permissions, findings) are hidden for the pictures. Needs chromium and chromium-driver.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO / "tests" / "e2e")]

from gencluster import generate  # noqa: E402
from harness.browser import CHROMEDRIVER, CHROMIUM, FLAGS  # noqa: E402

# what the pictures show: the cluster view
HIDE = (
    "for (const id of ['summary','identity','matrix','audit']) { const e = document.getElementById(id); "
    "if (e) e.style.display = 'none'; }"
)


def report(out: Path, *args: str) -> Path:
    subprocess.run(["kubectl-netsso", "report", "--html", str(out), *args], check=True, stderr=subprocess.DEVNULL)
    return out


def driver(profile: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def shoot(browser: Any, page: Path, png: Path, width: int, click: str | None = None) -> None:
    browser.set_window_size(width, 900)
    browser.get(page.as_uri())
    browser.execute_script(HIDE)
    if click:
        browser.find_element("css selector", click).click()
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, int(height) + 140)  # the window's frame: the viewport is a little smaller
    browser.execute_script("window.scrollTo(0, 0)")
    browser.find_element("css selector", "main").screenshot(str(png))
    print(f"wrote {png}")


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else REPO / "docs"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="netsso-shots-") as tmp:
        work = Path(tmp)
        shop = report(work / "shop.html", "--manifests", "example:shop", "--with-default-roles", "--as-group", "oidc:contractors")
        generate(str(work / "c20"), namespaces=20, pods=400, policies=40)
        big = report(work / "c20.html", "--manifests", str(work / "c20"))
        browser = driver(str(work / "profile"))
        try:
            shoot(browser, shop, out / "report-shop.png", 1500, click='#ns-matrix button.cell[aria-label^="shop → payments"]')
            shoot(browser, big, out / "report-20ns.png", 1500, click='#ns-matrix button.cell[aria-label^="ns-003 → ns-004"]')
        finally:
            browser.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
