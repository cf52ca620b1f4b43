#!/usr/bin/env python3
"""Every public page of a running Locality server, in a real browser, against WCAG 2.2 AA.

    scripts/accessibility-check.py URL [SCREENSHOT_DIR]

Opens each page (/, /decisions, /awards, /open-data and every page they link to, followed
to the end: places, parishes, votes, further pages of lists) in headless Chromium through Selenium, at phone width (360 px) and desktop width
(1280 px). At each width it runs the axe-core rules bundled by axe-selenium-python (tags wcag2a,
wcag2aa, wcag21a, wcag21aa, wcag22aa) and fails on any serious or critical violation; it also fails
when a page scrolls sideways on the phone. A screenshot of each page at each width is saved in
SCREENSHOT_DIR (default .build/accessibility) for a person to look at.

Needs Debian's chromium and chromium-driver, and selenium and axe-selenium-python from PyPI.
axe-selenium-python bundles axe-core 3.1, which predates WCAG 2.1 A and 2.2 AA rules: when the
axe-core 4.x that axe-playwright-python bundles is installed (`pip install --no-deps
axe-playwright-python`, no Playwright needed), its axe.min.js is injected instead. The axe-core
version and the tags it ran are printed.
Exit status: 0 clean, 1 violations, 2 could not run.
"""
import importlib.util
import json
import pathlib
import re
import shutil
import sys
import urllib.request

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

WIDTHS = {"phone": (360, 800), "desktop": (1280, 900)}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def pages(base: str, limit: int = 300) -> list:
    """Every page reachable by links from /, the lists and the open data page, breadth first:
    places (including parishes only linked from their ward), votes, pages of lists."""
    found = ["/", "/decisions", "/awards", "/open-data"]
    queue = list(found)
    while queue and len(found) < limit:
        path = queue.pop(0)
        with urllib.request.urlopen(base + path, timeout=10) as response:
            html = response.read().decode("utf-8")
        for link in re.findall(r'href="(/[^"]*)"', html):
            link = link.replace("&amp;", "&")
            if "format=json" in link or link.startswith("/open-data/") or link in found:
                continue
            found.append(link)
            queue.append(link)
    return found


def axe_script():
    """The newest axe-core installed: axe-playwright-python's bundle if present, else axe-selenium-python's."""
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec and spec.origin:
        path = pathlib.Path(spec.origin).parent / "axe.min.js"
        if path.exists():
            return str(path)
    return None


def browser() -> webdriver.Chrome:
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
    if not binary or not pathlib.Path(driver_path).exists():
        print("no Chromium or chromedriver here: install Debian's chromium and chromium-driver")
        sys.exit(2)
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    base = sys.argv[1].rstrip("/")
    shots = pathlib.Path(sys.argv[2] if len(sys.argv) == 3 else ".build/accessibility")
    shots.mkdir(parents=True, exist_ok=True)
    driver = browser()
    driver.set_script_timeout(120)
    script = axe_script()
    failures = 0
    checked = 0
    tags = None
    try:
        for path in pages(base):
            for width_name, (width, height) in WIDTHS.items():
                driver.set_window_size(width, height)
                driver.get(base + path)
                axe = Axe(driver, script) if script else Axe(driver)
                axe.inject()
                if tags is None:
                    known = set(driver.execute_script("return axe.getRules().flatMap(rule => rule.tags)"))
                    tags = [tag for tag in TAGS if tag in known]
                    version = driver.execute_script("return axe.version")
                    print(f"axe-core {version}, rules tagged {', '.join(tags)}" + (f" (not known to it: {', '.join(sorted(set(TAGS) - known))})" if set(TAGS) - known else ""))
                results = axe.run(options=json.dumps({"runOnly": {"type": "tag", "values": tags}}))
                checked += 1
                name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "index"
                driver.save_screenshot(str(shots / f"{name}-{width_name}.png"))
                for violation in results["violations"]:
                    impact = violation.get("impact") or "minor"
                    where = ", ".join(node["target"][0] for node in violation["nodes"][:3] if node.get("target"))
                    line = f"{path} ({width_name}): {impact}: {violation['id']}: {violation['help']} [{where}]"
                    if impact in ("serious", "critical"):
                        failures += 1
                        print("FAIL " + line)
                    else:
                        print("note " + line)
                if width_name == "phone":
                    overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
                    if overflow > 0:
                        failures += 1
                        print(f"FAIL {path} (phone): the page scrolls sideways by {overflow} px at {width} px wide")
    finally:
        driver.quit()
    print(f"Accessibility: {checked} page views (phone and desktop), {failures} serious or critical problems; screenshots in {shots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
