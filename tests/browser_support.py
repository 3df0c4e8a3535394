"""Headless Chromium for the web-form tests: Debian's /usr/bin/chromium driven by Playwright
(never a browser Playwright downloads). Loaded as a pytest plugin from tests/conftest.py.

One browser per test session (per pytest-xdist worker), a fresh context (its own temporary
profile: cookies, cache) per test, sized like a phone. Every request the page makes is checked:
anything not addressed to 127.0.0.1 is aborted and recorded, so a test can assert the pages load
nothing from elsewhere.
Dialogs (alert/confirm/prompt) are recorded and dismissed: an XSS payload that ran would show.
If chromium is missing the tests FAIL (CI installs it in .ci/run); they are never skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path(os.environ.get("CLASSROOM_SUPPORT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).parent / "artifacts" / "web"
TIMEOUT_MS = 10_000


# Per module, not per session: Playwright's sync API marks an event loop running in this thread
# for as long as it is started, and an async test after it in the same worker then fails with
# "Runner.run() cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the web-form tests need Debian's chromium "
            "(apt-get install -y chromium; .ci/run installs it)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Phone:
    """A page in a fresh browser context the size of a phone, and what it tried to do."""

    page: Any
    context: Any
    dialogs: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        # Written aside, then renamed: the same page on both engines may be saved at once by
        # two xdist workers, and a reader must never see half a file.
        partial = path.with_name(f".{name}.{os.getpid()}.png")
        self.page.screenshot(path=str(partial), full_page=True)
        os.replace(partial, path)
        return path

    def layout(self) -> dict[str, Any]:
        """Direction and widths as the browser computed them."""
        return self.page.evaluate(
            """() => ({
                lang: document.documentElement.getAttribute('lang'),
                dir: document.documentElement.getAttribute('dir'),
                direction: getComputedStyle(document.body).direction,
                scrollWidth: document.documentElement.scrollWidth,
                innerWidth: window.innerWidth,
            })"""
        )

    def unlabelled_fields(self) -> list[str]:
        """Every visible-type input, textarea and select without an associated <label>."""
        return self.page.evaluate(
            """() => [...document.querySelectorAll('input, textarea, select')]
                .filter(el => el.type !== 'hidden')
                .filter(el => !el.labels || el.labels.length === 0
                              || [...el.labels].every(l => !l.textContent.trim()))
                .map(el => el.name || el.id || el.outerHTML)"""
        )


def _open_phone(browser: Any, viewport: dict[str, int] | None = None) -> Phone:
    context = browser.new_context(
        viewport=viewport or PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="ar-SA",
        timezone_id="Asia/Riyadh",
    )
    context.set_default_timeout(TIMEOUT_MS)
    phone = Phone(page=None, context=context)

    def guard(route: Any) -> None:
        url = route.request.url
        phone.requests.append(url)
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "about:")):
            route.continue_()
        else:
            phone.outside.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()

    def on_dialog(dialog: Any) -> None:
        phone.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    phone.page = page
    return phone


@pytest.fixture
def phone(browser: Any) -> Iterator[Phone]:
    opened = _open_phone(browser)
    try:
        yield opened
    finally:
        opened.context.close()
