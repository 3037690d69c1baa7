"""Headless Debian chromium driven by Playwright (no browser download): a launcher and a page that
records console errors and every request that is not a file:// URL.

    with chromium() as browser: ...
    with local_page(browser) as (page, problems): page.goto(path.as_uri()); assert not problems
"""
from __future__ import annotations

import contextlib
import shutil
from typing import Any, Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """The system chromium, headless; skips the test when it is not installed (.ci/run installs it)."""
    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        pytest.skip("chromium is not installed: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def local_page(browser: Any, **context_options: Any) -> Iterator[tuple[Any, list[str]]]:
    """A fresh page; `problems` collects console errors, page errors and any non-file:// request
    (which is aborted, so nothing leaves the machine)."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            problems.append(f"network request: {r.request.url}")
            r.abort()

    page.route("**/*", route)
    try:
        yield page, problems
    finally:
        context.close()
