"""The demo warehouse's access review, opened from file:// in headless chromium: no console error, no
network request, every section present, and every count and row on the page equal to the same SQL run
on the warehouse. A screenshot and a print-to-PDF are written to tests/artifacts/."""
from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.report import LISTS

from .conftest import ARTIFACTS, read_lists, run_file, shown

from ..browser import console_errors, network_requests, offline_page

# The demo syncs Benchling (every user's activity checked), Paradime and Bencher once: every list runs its
# preferred file; history has started, with no change yet. (What a warehouse lacking relations shows:
# test_report_cli.py.)
RUNS = {spec.key: spec.files[0] for spec in LISTS}
EMPTY = {"teams_without_admin", "changes", "activity_unchecked", "offboarding_gap",  # none on the demo after one sync
         "remediation"}  # the demo applies no plan: tests/remediate/test_offboard_e2e.py compares a non-empty one


@pytest.fixture(scope="module")
def page_lists(demo, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    with offline_page(browser, viewport={"width": 1200, "height": 900}) as (page, requests):
        errors = console_errors(page)
        page.goto(demo.report.as_uri())
        page.wait_for_load_state("load")
        sections = page.eval_on_selector_all("[data-section]", "els => els.map(e => e.dataset.section)")
        period = page.eval_on_selector("[data-since]", "e => [e.dataset.since, e.dataset.until]")
        charts = page.locator("figure.chart svg").count()
        lists = read_lists(page)
        page.screenshot(path=str(ARTIFACTS / "report-demo.png"), full_page=True)
        page.emulate_media(media="print")
        page.pdf(path=str(ARTIFACTS / "report-demo.pdf"), format="A4", print_background=True)
        return {"problems": errors + network_requests(requests), "sections": sections, "period": period, "charts": charts, "lists": lists}


def test_demo_prints_the_report_and_writes_csvs_beside_it(demo):
    assert demo.report == demo.warehouse.parent / "access-review.html"
    assert demo.report.is_file()
    for key in RUNS:
        assert (demo.report.parent / f"access-review-{key}.csv").is_file()
    html = demo.report.read_text()
    # self-contained: nothing to fetch (the only URLs are the SVG namespace names)
    for marker in ("<script", "<link", "@import", "src=\"http", "href=\"http", "url(http"):
        assert marker not in html


def test_page_opens_offline_with_every_section(page_lists, demo):
    assert page_lists["problems"] == []
    assert page_lists["sections"] == ["header", "accounts", "act", "changes"]
    assert set(page_lists["lists"]) == {spec.key for spec in LISTS}
    assert page_lists["charts"] == 1  # accounts; the timeline needs changes
    assert (ARTIFACTS / "report-demo.png").stat().st_size > 10_000
    assert (ARTIFACTS / "report-demo.pdf").read_bytes().startswith(b"%PDF")


def test_every_count_and_row_equals_the_sql_on_the_warehouse(page_lists, demo):
    lists = page_lists["lists"]
    since, until = (datetime.fromisoformat(v) for v in page_lists["period"])
    assert {k for k, v in lists.items() if v.status == "ok"} == set(RUNS)
    for key, name in RUNS.items():
        got = lists[key]
        assert got.query == name
        rows = run_file(demo.warehouse, name, since, until)
        assert got.count == len(rows), key
        assert got.rows == [[shown(v) for v in r] for r in rows], key
        assert rows or key in EMPTY, f"{key} is empty on the demo: the comparison proves nothing"
        # the CSV beside the page holds the same rows
        with (demo.report.parent / f"access-review-{key}.csv").open() as f:
            body = list(csv.reader(f))[1:]
        assert len(body) == got.count, key
    # the accounts table agrees with the source tables themselves
    con = duckdb.connect(str(demo.warehouse), read_only=True)
    try:
        active_bl = con.execute('select count(*) from "user" where not is_suspended').fetchone()[0]
        bencher = con.execute("select count(*) from bencher.member where is_member").fetchone()[0]
    finally:
        con.close()
    counts = {(r[0], r[1]): int(r[2]) for r in lists["accounts"].rows}
    assert counts[("benchling", "active")] == active_bl and counts[("bencher", "active")] == bencher
