"""`whsync report` input errors (one line, exit 2) and a warehouse that holds nothing yet."""
from __future__ import annotations

import duckdb
import pytest

from pipelines.report import LISTS

from .conftest import whsync


@pytest.fixture
def empty(tmp_path):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    return path


@pytest.mark.parametrize("args, message", [
    (["--duckdb", "nowhere.duckdb"], "no warehouse at"),
    (["--since", "2026-13-01"], "--since '2026-13-01' is not a date: write it as YYYY-MM-DD"),
    (["--since", "yesterday"], "is not a date"),
    (["--since", "2999-01-01"], "is not in the past"),
    (["--inactive-days", "0"], "--inactive-days 0: give a number of days from 1 to 36500"),
    (["--inactive-days", "1000000"], "--inactive-days 1000000: give a number of days from 1 to 36500"),
    (["--target", "nosuch"], "--target 'nosuch': choose duckdb or postgres"),
    (["--target", "postgres"], "WHSYNC_POSTGRES_DSN"),
    (["--out", "no/such/dir/r.html"], "does not exist"),
])
def test_bad_input_is_one_line_and_exit_2(empty, tmp_path, args, message):
    p = whsync(["report", "--duckdb", str(empty), *args], tmp_path)
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("whsync: error: ") and message in lines[0], p.stderr
    assert not list(tmp_path.glob("*.html"))


def test_a_warehouse_without_any_table_still_renders_and_says_what_to_run(empty, tmp_path):
    p = whsync(["report", "--duckdb", str(empty), "--out", str(tmp_path / "r.html")], tmp_path)
    assert p.returncode == 0, p.stderr
    assert f"not available on this warehouse ({len(LISTS)})" in p.stdout
    page = (tmp_path / "r.html").read_text()
    assert page.count('data-status="missing"') == len(LISTS) and "data-count" not in page
    assert "run <code>whsync sync</code>" in page
    assert not list(tmp_path.glob("*.csv"))


def test_help_names_the_options():
    p = whsync(["report", "--help"], None)
    assert p.returncode == 0
    for opt in ("--duckdb", "--target", "--schema", "--out", "--since", "--inactive-days"):
        assert opt in p.stdout


def test_a_list_whose_query_fails_is_marked_and_the_others_still_render(empty, tmp_path):
    con = duckdb.connect(str(empty))
    con.execute("create table access (email varchar)")  # not the documented columns
    con.close()
    p = whsync(["report", "--duckdb", str(empty), "--out", str(tmp_path / "r.html")], tmp_path)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("whsync: error: 3 list(s) failed: sources (access_review/sources.sql)")
    page = (tmp_path / "r.html").read_text()
    assert page.count('data-status="error"') == 3 and "This list failed:" in page  # sources, accounts, privileged
    assert page.count('data-status="missing"') == len(LISTS) - 3
