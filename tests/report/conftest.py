"""The demo warehouse and its report (made by `whsync demo`, once per session), a headless chromium per
module, and reading a rendered report back out of the browser."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from ..browser import chromium
from tests import forkserver
from tests.helpers import child_env

WHSYNC = str(Path(sys.executable).with_name("whsync"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def whsync(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = child_env("BENCHLING_", "WHSYNC_", "PG")
    return forkserver.run([WHSYNC, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@dataclass
class Demo:
    warehouse: Path
    report: Path
    stdout: str


@pytest.fixture(scope="session")
def demo(demo_warehouse: Path) -> Demo:
    """`whsync demo` (the session's one, shared with the docs-site test): it syncs the three simulators
    and writes the report, and prints the report's path."""
    out = (demo_warehouse.parent / "demo.stdout").read_text()
    m = re.search(r"^access review: (\S+)", out, re.M)
    assert m, out
    return Demo(demo_warehouse, Path(m.group(1)), out)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@dataclass
class PageList:
    key: str
    status: str
    count: int | None
    query: str
    missing: str
    columns: list[str]
    rows: list[list[str]]
    text: str


READ_LISTS = """() => [...document.querySelectorAll('[data-list]')].map(s => ({
  key: s.dataset.list, status: s.dataset.status, count: s.dataset.count ?? null, query: s.dataset.query,
  missing: s.dataset.missing ?? '', text: s.innerText,
  columns: [...s.querySelectorAll('thead th')].map(th => th.textContent.trim()),
  rows: [...s.querySelectorAll('tbody tr')].map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent.trim())),
}))"""


def read_lists(page: Any) -> dict[str, PageList]:
    out = {}
    for d in page.evaluate(READ_LISTS):
        d["count"] = None if d["count"] is None else int(d["count"])
        out[d["key"]] = PageList(**d)
    return out


def shown(value: Any) -> str:
    """How the page shows a SQL value: times in UTC to the minute, NULL empty, booleans yes/no."""
    from datetime import datetime
    from decimal import Decimal

    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            from datetime import timezone

            value = value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return str(int(value)) if value == int(value) else str(value)
    return str(value)


def run_file(warehouse: Path, name: str, since: Any, until: Any, inactive_days: int = 90) -> list[tuple]:
    """An example query run on a DuckDB warehouse as the report runs it (its review period bound)."""
    import duckdb

    from pipelines.report import parameters
    from pipelines.report.queries import QueryFile
    from pipelines.targets.duckdb import duckdb_schema

    q = QueryFile(name)
    params = q.bind(parameters(until, since, inactive_days))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(q.for_target(duckdb_schema, postgres=False, bound=bool(params)), params or None).fetchall()
    finally:
        con.close()
