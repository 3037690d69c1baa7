"""The report on a warehouse that has the relations of issues 11 and 12 (history, activity, `access`,
`person`; stand-ins with their documented columns, see contract.py): every list runs its preferred
query and shows exactly the expected rows; the timeline is drawn. The screenshot of this page is the
README's (docs/report.png): set WHSYNC_UPDATE_SCREENSHOT=1 to regenerate it."""
from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from pipelines.report import LISTS

from .conftest import ARTIFACTS, read_lists, whsync
from .contract import install

from ..browser import console_errors, network_requests, offline_page

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report.png"


@pytest.fixture(scope="module")
def full(demo, browser, tmp_path_factory):
    d = tmp_path_factory.mktemp("full")
    wh = d / "warehouse.duckdb"
    shutil.copy(demo.warehouse, wh)
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    con = duckdb.connect(str(wh))
    try:
        expected = install(con, now)
    finally:
        con.close()
    p = whsync(["report", "--duckdb", str(wh), "--out", str(d / "review.html"), "--inactive-days", "90"], d)
    assert p.returncode == 0, p.stderr
    assert "not available" not in p.stdout
    with offline_page(browser, viewport={"width": 1200, "height": 900}) as (page, requests):
        errors = console_errors(page)
        page.goto((d / "review.html").as_uri())
        lists = read_lists(page)
        charts = page.locator("figure.chart svg").count()
        page.screenshot(path=str(ARTIFACTS / "report-full.png"), full_page=True)
        if os.environ.get("WHSYNC_UPDATE_SCREENSHOT"):
            DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(DOCS_SCREENSHOT), full_page=True, clip={"x": 0, "y": 0, "width": 1200, "height": 1560})
        page.emulate_media(media="print")
        page.pdf(path=str(ARTIFACTS / "report-full.pdf"), format="A4", print_background=True)
        return expected, lists, charts, errors + network_requests(requests), d


def _col(lst, name):
    i = lst.columns.index(name)
    return [r[i] for r in lst.rows]


def test_every_list_runs_its_preferred_query(full):
    expected, lists, charts, problems, d = full
    assert problems == []
    assert charts == 2
    for spec in LISTS:
        got = lists[spec.key]
        assert got.status == "ok", (spec.key, got.missing)
        assert got.query == spec.files[0], spec.key
        assert got.count == len(got.rows)
        assert (d / f"review-{spec.key}.csv").is_file()


def test_changes_in_the_period_are_exactly_the_recorded_ones(full):
    expected, lists, *_ = full
    got = {tuple(r) for r in lists["changes"].rows}
    fmt = "%Y-%m-%d %H:%M"
    assert got == {(t.strftime(fmt), kind, who or "", what, detail or "") for t, kind, who, what, detail in expected.changes}
    assert lists["changes"].count == 6
    started = set(_col(lists["history_coverage"], "history started"))
    assert started == {expected.t0.strftime(fmt)}


def test_people_lists_match_the_activity_and_access_relations(full):
    expected, lists, *_ = full
    assert set(_col(lists["dormant"], "handle")) == expected.dormant and expected.dormant
    assert set(_col(lists["never_used"], "handle")) == expected.never_used and expected.never_used
    assert set(_col(lists["activity_unchecked"], "handle")) == expected.unchecked and expected.unchecked
    assert set(_col(lists["offboarding_gap"], "email")) == expected.gap and len(expected.gap) == 1
    priv = lists["privileged"]
    assert {(r[0], r[1], r[2]) for r in priv.rows} == expected.privileged
    counts = {(r[0], r[1]): int(r[2]) for r in lists["accounts"].rows}
    assert counts == expected.accounts
    sources = {(r[0], r[1]): int(r[2]) for r in lists["sources"].rows}
    assert sum(sources.values()) == sum(expected.accounts.values())
