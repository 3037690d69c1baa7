"""The time-left arithmetic (eta.py) and the status verdict (status.py), without a sync."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from pipelines.eta import Baseline, Live, api_seconds_left, remaining_requests, seconds_left
from pipelines.status import evaluate, parse_duration, render


def test_api_time_left_is_the_fixed_window_floor():
    # 300 requests at 30 per 10 s, a fresh window: 10 windows, the last entered 90 s after the first
    assert api_seconds_left(300, rate=100.0, limit=30, window_s=10, window_left_s=10, budget_left=30) == \
        pytest.approx(10 + 8 * 10 + 30 / 100)
    # mid-window with 5 left, 4 s to go: 95 more need 4 windows after this one
    assert api_seconds_left(100, rate=50.0, limit=30, window_s=10, window_left_s=4, budget_left=5) == \
        pytest.approx(4 + 3 * 10 + 5 / 50)
    # room in the window or no limit: the unthrottled rate decides
    assert api_seconds_left(20, rate=10.0, limit=30, window_s=10, window_left_s=4, budget_left=25) == 2.0
    assert api_seconds_left(20, rate=10.0) == 2.0
    assert api_seconds_left(0, rate=None) == 0.0
    assert api_seconds_left(5, rate=None) is None


def _baseline() -> Baseline:
    return Baseline.from_sources({
        "benchling": {"pages": {"users": 50, "teams": 3, "folders": 10}, "seconds": 40.0, "tail_seconds": 2.0,
                      "waited_seconds": 30.0},
        "paradime": {"pages": {}, "seconds": 5.0},
    }, build_seconds=12.0)


def test_finished_resources_need_no_more_than_they_took():
    live = Live(stage="extract", source="benchling", sources=["benchling", "paradime"],
                pages={"users": 1, "teams": 2}, finished={"users"}, stage_elapsed=3.0, since_last_page=0.1)
    # users ended after 1 page (an incremental listing): it is not waited for; teams still needs 1
    assert remaining_requests(_baseline(), live) == (3, 1 + 3 + 10)


def test_seconds_left_adds_the_tail_later_sources_and_the_build():
    b = _baseline()
    assert b.rate["benchling"] == pytest.approx(63 / (40 - 2 - 30))
    live = Live(stage="extract", source="benchling", sources=["benchling", "paradime"],
                pages={"users": 50, "teams": 3, "folders": 10}, finished={"users", "teams", "folders"},
                stage_elapsed=39.0, since_last_page=0.5)
    assert seconds_left(b, live) == pytest.approx(1.5 + 5.0 + 12.0)
    build = Live(stage="build", source=None, sources=["benchling"], pages={}, finished=set(),
                 stage_elapsed=4.0, since_last_page=0.0)
    assert seconds_left(b, build) == pytest.approx(8.0)
    assert seconds_left(None, build) is None


@pytest.mark.parametrize("text,seconds", [("26h", 93600), ("90m", 5400), ("1h30m", 5400), ("2d", 172800),
                                          ("45s", 45), ("1.5h", 5400)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "26", "h", "26x", "-5m", "26h and more"])
def test_bad_durations_say_what_is_accepted(text):
    with pytest.raises(ValueError, match="26h, 90m"):
        parse_duration(text)


def test_zero_is_refused():
    with pytest.raises(ValueError, match="more than zero"):
        parse_duration("0m")


def test_verdicts():
    now = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
    last = {"run_id": "r1", "started_at": datetime(2026, 12, 2, 9, 0), "finished_at": datetime(2026, 12, 2, 9, 5),
            "target": "duckdb", "requests": 7, "rate_limited": 1, "retries": 2, "whsync_version": "0.1.0",
            "sources": {"benchling": {"requests": 7, "rows": {"user": 3, "team": 1}}}}
    fresh = evaluate("w.duckdb", last, None, parse_duration("4h"), now)
    assert (fresh["status"], fresh["exit_code"]) == ("fresh", 0)
    assert fresh["last_success"]["age_seconds"] == 10500 and fresh["last_success"]["duration_seconds"] == 300
    assert fresh["last_success"]["rows"] == {"user": 3, "team": 1}
    stale = evaluate("w.duckdb", last, None, parse_duration("90m"), now)
    assert (stale["status"], stale["exit_code"]) == ("stale", 1) and "more than --max-age 1h30m" in stale["reason"]
    # a failure older than the last success is history; a newer one fails the check, naming the cause
    old = {"failed_at": "2026-12-02T08:00:00Z", "cause": "old"}
    assert evaluate("w", last, old, None, now)["status"] == "fresh"
    new = {"failed_at": "2026-12-02T11:00:00Z", "cause": "the Benchling API key was refused (HTTP 401)"}
    failed = evaluate("w", last, new, None, now)
    assert failed["exit_code"] == 1 and failed["last_failure"]["cause"] in failed["reason"]
    assert "HTTP 401" in render(failed) and json.loads(render(failed, as_json=True)) == failed
    never = evaluate("w", None, None, None, now)
    assert (never["status"], never["exit_code"]) == ("never", 1)
    # a success and nothing else, any age, without --max-age: fresh
    assert evaluate("w", last, None, None, now + timedelta(days=30))["exit_code"] == 0
