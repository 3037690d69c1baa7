"""Headless Chromium for tests: Playwright drives Debian's `chromium` (no browser download).

`offline_page()` yields a page and the list of every request the browser made; requests for anything
but file: and data: URLs are aborted (and stay in the list), so a test asserts "no network request" by
checking that list.
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
def offline_page() -> Iterator[tuple[Any, list[str]]]:
    """(page, requests): every URL the page requested; non-local ones were aborted."""
    with chromium() as browser:
        context = browser.new_context(service_workers="block")
        requests: list[str] = []
        context.on("request", lambda r: requests.append(r.url))

        def route(r: Any) -> None:
            (r.continue_ if r.request.url.startswith(LOCAL) else r.abort)()

        context.route("**/*", route)
        context.on("websocket", lambda ws: requests.append(ws.url))
        try:
            yield context.new_page(), requests
        finally:
            context.close()


def network_requests(requests: list[str]) -> list[str]:
    return [u for u in requests if not u.startswith(LOCAL)]
