"""Headless Chromium for tests: Playwright drives Debian's `chromium` (no browser download).

    with offline_page() as (page, requests): ...            # its own browser
    with offline_page(browser, viewport=...) as (page, requests): ...   # a shared one (chromium())
    errors = console_errors(page)                            # before page.goto(...)

`requests` is every URL the page requested; requests for anything but file:, data:, blob: and about:
URLs are aborted (and stay in the list), so a test asserts "no network request" with
`network_requests(requests) == []`.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

CHROMIUM = os.environ.get("WHSYNC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL = ("file:", "data:", "blob:", "about:")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (playwright's Browser)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), (f"no Chromium at {CHROMIUM}: `apt-get update && apt-get install -y chromium` "
                                     "(.ci/run does it), or set WHSYNC_CHROMIUM")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def offline_page(browser: Any = None, **context_options: Any) -> Iterator[tuple[Any, list[str]]]:
    """(page, requests) in a fresh context of `browser` (or of a browser of its own)."""
    with contextlib.ExitStack() as stack:
        if browser is None:
            browser = stack.enter_context(chromium())
        context = browser.new_context(service_workers="block", **context_options)
        stack.callback(context.close)
        requests: list[str] = []
        context.on("request", lambda r: requests.append(r.url))

        def route(r: Any) -> None:
            (r.continue_ if r.request.url.startswith(LOCAL) else r.abort)()

        context.route("**/*", route)
        context.on("websocket", lambda ws: requests.append(ws.url))
        yield context.new_page(), requests


def network_requests(requests: list[str]) -> list[str]:
    return [u for u in requests if not u.startswith(LOCAL)]


def console_errors(page: Any) -> list[str]:
    """The console errors and uncaught page errors `page` shows from now on (a live list)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    return errors
