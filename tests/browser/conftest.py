"""A real headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser) driven by
Playwright against pytest-django's live server, with every console error, page error, failed
request and HTTP error answer collected so a test can assert there were none."""

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


@dataclass
class PageProblems:
    """What a person would see as broken: console errors, uncaught exceptions, failed requests."""

    seen: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on("console", lambda msg: msg.type == "error" and self.seen.append(f"console: {msg.text}"))
        page.on("pageerror", lambda exc: self.seen.append(f"page error: {exc}"))
        page.on(
            "requestfailed", lambda req: self.seen.append(f"failed: {req.method} {req.url} {req.failure}")
        )
        page.on(
            "response",
            lambda resp: resp.status >= 400 and self.seen.append(f"HTTP {resp.status}: {resp.url}"),
        )


@pytest.fixture
def chromium(monkeypatch):
    """Per test, not per session: Playwright's sync API runs an event loop in this thread while it
    is started, and Django refuses ORM calls beside a running loop (later tests included)."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does it)"
        if os.environ.get("WWT_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # The test's own ORM calls are plain synchronous code beside that loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, request):
    """A fresh page (own cookies) and a `shot(name)` that saves var/test-artifacts/<test>/<name>.png."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)  # this run's screenshots only
    folder.mkdir(parents=True)
    count = iter(range(1, 100))

    def shot(name: str) -> None:
        page.screenshot(path=str(folder / f"{next(count):02d}-{name}.png"), full_page=True)

    page.shot = shot
    page.problems = problems
    yield page
    context.close()
