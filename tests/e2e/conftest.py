"""End-to-end tests drive Debian's Chromium (never a downloaded browser) through Playwright.

Every page a browser test visits is checked with axe-core (from npm, `node_modules/axe-core`):
the `page` fixture scans each document once it has loaded, rescans (by GET) any page the test
left before its scan finished, and fails the test on any serious or critical violation, or on
the landmark `region` rule (all content inside landmarks)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by the test
# itself are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            "Debian chromium is missing: run `apt-get install -y chromium` (make test does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
ALWAYS_BLOCKING = ("region",)  # page content outside landmarks (issue 20, item 9)
RUN_AXE = """async ([impacts, rules]) => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => impacts.includes(v.impact) || rules.includes(v.id))
    .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3)
      .map(n => n.target.join(" ")).join(", ")}`);
}"""


class AxeScans:
    """axe-core on every document each watched page loads (see the module's text)."""

    def __init__(self) -> None:
        self.source = AXE.read_text()
        self.pages: list[Any] = []
        self.scanned: set[str] = set()
        self.missed: list[tuple[Any, str]] = []
        self.violations: list[str] = []

    def watch(self, page: Any) -> None:
        self.pages.append(page)
        page.on("load", lambda loaded: self.scan(loaded))

    def scan(self, page: Any) -> None:
        from playwright.sync_api import Error

        url = page.url
        if not url.startswith("http"):
            return
        try:
            if not page.evaluate("() => typeof window.axe !== 'undefined'"):
                page.evaluate(self.source)
            found = page.evaluate(RUN_AXE, [list(BLOCKING_IMPACTS), list(ALWAYS_BLOCKING)])
        except Error:
            self.missed.append((page, url))  # the test moved on first: rescanned at the end
            return
        self.scanned.add(url)
        self.violations += [f"{url}: {violation}" for violation in found]

    def finish(self) -> None:
        for page in self.pages:
            if not page.is_closed() and page.url not in self.scanned:
                self.scan(page)
        from playwright.sync_api import Error

        for page, url in self.missed:
            if url not in self.scanned and not page.is_closed() and "/logout" not in url:
                try:
                    page.goto(url)
                except Error:
                    # The answer to a form's POST (a confirmation page at a POST-only address,
                    # which a GET answers 405 with no body): it cannot be loaded again. The
                    # shared template it used is scanned wherever a GET shows it.
                    continue
                self.scan(page)


@pytest.fixture(autouse=True)
def axe(browser: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AxeScans]:
    """Every page of every browser context a test opens is scanned; the test fails on a
    blocking violation, or if nothing was scanned."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` (make setup does)")
    scans = AxeScans()
    new_context = browser.new_context

    def watched_context(*args: Any, **kwargs: Any) -> Any:
        context = new_context(*args, **kwargs)
        context.on("page", scans.watch)
        return context

    monkeypatch.setattr(browser, "new_context", watched_context)
    yield scans
    scans.finish()
    assert scans.scanned, "axe-core scanned no page"
    assert not scans.violations, "accessibility violations:\n" + "\n".join(scans.violations)


@pytest.fixture
def page(
    browser: object, live_server: object, resettable_ledger: None, axe: AxeScans
) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url)  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    axe.finish()  # while the page is still open
    context.close()
