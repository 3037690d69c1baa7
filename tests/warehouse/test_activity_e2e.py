"""The activity pass end to end (DuckDB): requests counted by the simulator, rows in the warehouse.

Budget exact and stalest first across three syncs; `all` and `off`; a suspended user checked once after its
suspension, then left alone; a 404 recorded (out of the rotation, `removed` in access); the budget
counts requests, retries included; a 403 gives one warning and the sync goes on."""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from pipelines.benchling.activity import ActivityPolicy
from pipelines.benchling.simulator import DEMO_API_KEY, Tenant
from pipelines.benchling.simulator.server import Response, not_found
from pipelines.progress import Progress
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.targets import resolve_target
from pipelines.sync import sync

from .conftest import connect

ACTIVITY = "GET /api/v2/users/{user_id}/activity"


def people(n: int, suspended: tuple[int, ...] = ()) -> Tenant:
    """n users `ent_u00`..: ids sort in creation order; each seen on a different day."""
    return Tenant.from_dict({"users": [
        {"id": f"ent_u{i:02d}", "name": f"User {i}", "handle": f"u{i}", "email": f"u{i}@lab.org",
         "isSuspended": i in suspended, "_modifiedAt": "2024-01-01T00:00:00.000Z",
         "_lastSeen": None if i == 0 else f"2025-01-{i:02d}T08:00:00.000Z"}
        for i in range(n)
    ]})


def run(sim: Any, w: Path, policy: ActivityPolicy, build: bool = False, stream: Any = None) -> Progress:
    sim.reset_stats()
    progress = Progress(stream=stream or io.StringIO(), quiet=stream is None)
    sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY, activity=policy))], target=resolve_target(duckdb=w),
         progress=progress, build=build)
    return progress


def checks(w: Path, table: str = "benchling_raw.user_activity") -> dict[str, tuple]:
    """user_id -> (last_seen, checked_at), as naive UTC (the raw table holds them with a time zone)."""
    con = connect(w)
    try:
        rows = con.execute(f"select user_id, last_seen, checked_at from {table}").fetchall()
    finally:
        con.close()
    naive = lambda t: t.astimezone(timezone.utc).replace(tzinfo=None) if t and t.tzinfo else t  # noqa: E731
    return {r[0]: (naive(r[1]), naive(r[2])) for r in rows}


def test_budget_is_spent_exactly_and_stalest_first_across_three_syncs(serve, tmp_path):
    sim = serve(people(10))
    w = tmp_path / "w.duckdb"
    budget = ActivityPolicy.parse(None, 4)
    seen_by_sync: list[set[str]] = []
    before: dict[str, tuple] = {}
    for n in range(3):
        progress = run(sim, w, budget, build=n == 2)
        assert sim.stats()["by_path"][ACTIVITY] == 4  # the budget, exactly
        assert (progress.activity.planned, progress.activity.done) == (4, 4)
        after = checks(w)
        seen_by_sync.append({u for u in after if after[u] != before.get(u)})
        before = after
    # never checked first (in id order), then the oldest checked_at: u00-u03, u04-u07, u08, u09, u00, u01
    assert seen_by_sync == [{"ent_u00", "ent_u01", "ent_u02", "ent_u03"}, {"ent_u04", "ent_u05", "ent_u06", "ent_u07"},
                            {"ent_u08", "ent_u09", "ent_u00", "ent_u01"}]
    view = checks(w, "user_activity")
    assert view == before  # the view shows every row, including those not re-checked this sync
    times = sorted({c[1] for c in view.values()})
    assert len(times) == 3  # three syncs' start times
    assert {u for u, c in view.items() if c[1] == times[0]} == {"ent_u02", "ent_u03"}  # left from sync 1
    assert view["ent_u00"][0] is None  # never seen
    assert view["ent_u05"][0] == datetime(2025, 1, 5, 8, 0)  # naive UTC
    assert all(c[1] is not None and c[1].tzinfo is None for c in view.values())


def test_suspended_user_is_checked_once_after_suspension_then_left_alone(serve, tmp_path):
    sim = serve(people(3, suspended=(2,)))  # u02 suspended from the start
    w = tmp_path / "w.duckdb"
    run(sim, w, ActivityPolicy())
    assert sim.stats()["by_path"][ACTIVITY] == 3
    first = checks(w)
    r = requests.patch(f"{sim.base_url}/users/ent_u01", json={"isSuspended": True}, auth=(DEMO_API_KEY, ""), timeout=10)
    assert r.status_code == 200
    run(sim, w, ActivityPolicy())  # u01 was active when checked: once more, now suspended; u02 left alone
    assert sim.stats()["by_path"][ACTIVITY] == 2
    second = checks(w)
    assert second["ent_u02"] == first["ent_u02"] and second["ent_u01"][1] > first["ent_u01"][1]
    run(sim, w, ActivityPolicy())
    assert sim.stats()["by_path"][ACTIVITY] == 1  # only the active user
    third = checks(w)
    assert third["ent_u01"] == second["ent_u01"] and third["ent_u00"][1] > second["ent_u00"][1]
    # `all` refreshes every user, suspended ones too; `off` none, and keeps the rows
    run(sim, w, ActivityPolicy.parse("all", None))
    assert sim.stats()["by_path"][ACTIVITY] == 3
    everything = checks(w)
    assert len({c[1] for c in everything.values()}) == 1
    progress = run(sim, w, ActivityPolicy.parse("off", None), build=True)
    assert ACTIVITY not in sim.stats()["by_path"]
    assert progress.activity.planned == 0
    assert checks(w, "user_activity") == everything


def test_404_is_recorded_leaves_the_rotation_and_is_not_active_and_403_warns_once(serve, tmp_path):
    gone = "ent_u03"
    asked: list[str] = []

    def deleted_meanwhile(req):  # the user vanished between the listing and its activity request
        if req.path.endswith("/activity"):
            asked.append(req.path.split("/")[-2])
        return not_found("User", gone).response() if req.path.endswith(f"/users/{gone}/activity") else None

    sim = serve(people(5), request_hook=deleted_meanwhile)
    w = tmp_path / "w.duckdb"
    out = io.StringIO()
    progress = run(sim, w, ActivityPolicy(), stream=out)
    assert sim.stats()["by_path"][ACTIVITY] == 5
    assert (progress.activity.done, progress.activity.not_found) == (5, 1)
    assert set(checks(w)) == {f"ent_u0{i}" for i in range(5)}  # the 404 has its row
    assert "user_activity: 5/5 done" in out.getvalue()  # progress: done/planned
    con = connect(w)
    try:
        assert con.execute("select user_id, not_found from benchling_raw.user_activity where not_found").fetchall() == [
            (gone, True)]
    finally:
        con.close()
    # next syncs (incremental: the deleted user stays in the raw users), a budget of as many users as there
    # are live ones: the deleted user is never asked again, every live one is re-checked
    asked.clear()
    run(sim, w, ActivityPolicy.parse(None, 4))
    run(sim, w, ActivityPolicy.parse(None, 4), build=True)
    assert gone not in asked and sorted(asked) == sorted([f"ent_u0{i}" for i in range(5) if i != 3] * 2)
    con = connect(w)
    try:  # `access` does not call the deleted user active
        rows = dict(con.execute("select account_id, status from access where system = 'benchling'").fetchall())
        assert rows[gone] == "removed" and rows["ent_u02"] == "active"
        assert con.execute('select "_not_found" from "user_activity$raw" where user_id = ?', [gone]).fetchone() == (True,)
    finally:
        con.close()

    forbidden = serve(people(5), activity_forbidden=True)
    w2 = tmp_path / "w2.duckdb"
    out = io.StringIO()
    progress = run(forbidden, w2, ActivityPolicy(), stream=out, build=True)
    warnings = [line for line in out.getvalue().splitlines() if "may not read user activity" in line]
    assert len(warnings) == 1 and "HTTP 403" in warnings[0]
    assert progress.activity.forbidden
    stats = forbidden.stats()
    assert stats["by_status"]["403"] == stats["by_path"][ACTIVITY] <= 8  # stopped after the first answers
    con = connect(w2)
    try:  # the sync went on: listings loaded and built, no activity
        assert con.execute('select count(*) from "user"').fetchone() == (5,)
        assert con.execute("select count(*) from user_activity").fetchone() == (0,)
        assert con.execute("select count(*), count(last_seen) from access").fetchone() == (5, 0)
    finally:
        con.close()


@pytest.mark.parametrize("args, message", [
    (["--activity", "all", "--activity-budget", "3"], "contradicts --activity all"),
    (["--activity", "some"], "choose all, off or budget"),
    (["--activity-budget", "-1"], "must be 0 or more"),
])
def test_bad_activity_options_exit_2_in_one_line(tmp_path, args, message):
    from ..test_cli import run as whsync

    p = whsync(["sync", "--base-url", "https://acme.benchling.com", *args], tmp_path,
               {"BENCHLING_API_KEY": "k"})
    assert p.returncode == 2 and message in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_plan_orders_never_checked_then_oldest_and_skips_suspended_checked():
    from pipelines.benchling.activity import Check, plan

    old = Check(datetime(2026, 1, 1, tzinfo=timezone.utc), False)
    new = Check(datetime(2026, 2, 1, tzinfo=timezone.utc), False)
    susp = Check(datetime(2026, 1, 1, tzinfo=timezone.utc), True)
    users = {"b": False, "a": False, "c": False, "s": True, "n": False}
    checks_ = {"a": new, "b": old, "s": susp, "c": old}
    assert plan(users, checks_, ActivityPolicy("budget", 3)) == ["n", "b", "c"]
    assert plan(users, checks_, ActivityPolicy("all")) == ["n", "b", "c", "s", "a"]
    assert plan(users, checks_, ActivityPolicy("off")) == []


def test_the_budget_counts_requests_retries_included(serve, tmp_path, short_backoff):
    """--activity-budget 4 with one activity call answered 503 once (retried): 4 activity requests in all,
    not 5; the check the retry took the place of is not sent, and says so."""
    failed_once: list[str] = []

    def flaky(req):
        if req.path.endswith("/users/ent_u01/activity") and not failed_once:
            failed_once.append(req.path)
            return Response(503, {"error": {"type": "server_error", "message": "try again"}})
        return None

    sim = serve(people(6), request_hook=flaky)
    w = tmp_path / "w.duckdb"
    out = io.StringIO()
    progress = run(sim, w, ActivityPolicy.parse(None, 4), stream=out)
    assert failed_once and sim.stats()["by_path"][ACTIVITY] == 4  # the budget, exactly, the retry included
    assert progress.activity.requests == 4 and progress.activity.unsent == 1 and progress.activity.done == 3
    assert len(checks(w)) == 3
