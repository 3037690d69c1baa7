"""End to end: a tenant served by the simulator, synced and built; the warehouse compared row by
row with what the fixture implies (tests/warehouse/oracle.py)."""
from __future__ import annotations

import requests

from pipelines.benchling.simulator import DEMO_API_KEY, generate_tenant

from .conftest import connect, tenant_dict
from .oracle import COLUMNS, SYSTEM_COLUMNS, assert_matches, read_table


def assert_warehouse_matches(path, tenant) -> None:
    con = connect(path)
    try:
        assert_matches(con, tenant)
    finally:
        con.close()


def test_tricky_fixture_lands_row_for_row(serve, run_sync, tricky_tenant):
    t = tenant_dict(tricky_tenant)
    # the fixture really holds the tricky cases this test is about
    reasons = {(p.get("archiveRecord") or {}).get("reason") for p in t["projects"] + t["folders"]}
    assert {"Made in error", "Retired", "Other"} <= reasons
    assert any(u["isSuspended"] for u in t["users"])
    assert any(m["user"]["id"].startswith("app_") for m in t["memberships"])
    members = {}
    for m in t["memberships"]:
        members[m["teamId"]] = members.get(m["teamId"], 0) + 1
    assert max(members.values()) > 100
    in_team = {m["user"]["id"] for m in t["memberships"]}
    assert any(u["id"] not in in_team for u in t["users"])

    sim = serve(tricky_tenant)
    result = run_sync(sim)
    assert_warehouse_matches(result.warehouse, t)
    # the sync's build runs the data tests that guard the publish, not dbt's unit tests (`whsync build` does:
    # tests/warehouse/test_duckdb_readers.py)
    assert result.dbt is not None and result.dbt.tests > 50 and result.dbt.unit_tests == 0

    con = connect(result.warehouse)
    try:
        # archived projects and folders are in $raw and not in the views
        archived_p = con.execute('select count(*) from "project$raw" where "archived$"').fetchone()[0]
        assert archived_p > 0
        assert con.execute('select count(*) from project where "archived$"').fetchone()[0] == 0
        # folders nested 5 deep survive as a parent chain
        depth = con.execute(
            """with recursive tree(id, depth) as (
                   select id, 1 from "folder$raw" where parent_folder_id is null
                   union all
                   select f.id, t.depth + 1 from "folder$raw" f join tree t on f.parent_folder_id = t.id)
               select max(depth) from tree"""
        ).fetchone()[0]
        assert depth >= 5
    finally:
        con.close()
    # every request was a page of 100 and archived rows were asked for
    stats = sim.stats()
    assert stats["by_status"] == {"200": stats["total"]}


def test_generated_tenant_lands_row_for_row(serve, run_sync):
    tenant = generate_tenant(seed=11, users=450, apps=12, teams=30, projects=120, folders=900)
    sim = serve(tenant)
    result = run_sync(sim)
    assert_warehouse_matches(result.warehouse, tenant_dict(tenant))
    # pageSize 100: the least number of requests for this tenant's listings, then one activity request
    # per user (450 users, within the default activity budget)
    t = tenant_dict(tenant)
    pages = lambda n: max(1, -(-n // 100))  # noqa: E731
    per_team: dict[str, int] = {}
    for m in t["memberships"]:
        per_team[m["teamId"]] = per_team.get(m["teamId"], 0) + 1
    floor = (pages(len(t["users"])) + pages(len(t["apps"])) + pages(len(t["teams"]))
             + pages(len(t["projects"])) + pages(len(t["folders"]))
             + sum(pages(per_team.get(team["id"], 0)) for team in t["teams"]))
    stats = sim.stats()
    assert stats["by_path"]["GET /api/v2/users/{user_id}/activity"] == len(t["users"]) == 450
    assert stats["total"] == floor + len(t["users"]) == result.requests


def _snapshot(path):
    con = connect(path)
    try:
        return {
            table: (read_table(con, table, cols), read_table(con, f"{table}$raw", cols + [c for c in SYSTEM_COLUMNS[table] if c != "_synced_at"]))
            for table, cols in COLUMNS.items()
        }
    finally:
        con.close()


def test_resync_is_stable_and_changes_show_exactly(serve, run_sync, tricky_tenant):
    sim = serve(tricky_tenant)
    first = run_sync(sim)
    before = _snapshot(first.warehouse)

    second = run_sync(sim)
    assert _snapshot(second.warehouse) == before, "a sync with no change must leave every table identical"

    # change the tenant through the simulator's API, as Benchling would see it change
    t = tenant_dict(tricky_tenant)
    auth = (DEMO_API_KEY, "")
    user = next(u for u in t["users"] if not u["isSuspended"])
    project = next(p for p in t["projects"] if p.get("archiveRecord") is None
                   and any(f["projectId"] == p["id"] for f in t["folders"]))
    member = t["memberships"][0]
    base = sim.base_url
    r = requests.patch(f"{base}/users/{user['id']}", json={"isSuspended": True}, auth=auth)
    assert r.status_code == 200, r.text
    r = requests.post(f"{base}/projects:archive", json={"projectIds": [project["id"]], "reason": "Retired"}, auth=auth)
    assert r.status_code == 200, r.text
    cascaded = set(r.json().get("folderIds", []))
    r = requests.delete(f"{base}/teams/{member['teamId']}/memberships/{member['user']['id']}", auth=auth)
    assert r.status_code in (200, 204), r.text

    third = run_sync(sim)
    after = _snapshot(third.warehouse)

    def diff(table, which=1):
        old, new = set(before[table][which]), set(after[table][which])
        return old - new, new - old

    gone, new = diff("user")
    assert {r[0] for r in gone} == {r[0] for r in new} == {user["id"]}
    assert [r[4] for r in new] == [True]
    gone, new = diff("team_member")
    assert {r[0] for r in gone} == {f"{member['teamId']}:{member['user']['id']}"} and not new
    gone, new = diff("project")
    assert {r[0] for r in gone} == {r[0] for r in new} == {project["id"]}
    assert [(r[2], r[3]) for r in new] == [(True, "Retired")]
    # the project left the view; its folders were archived with it (the API cascades)
    assert project["id"] not in {r[0] for r in after["project"][0]}
    gone, new = diff("folder")
    assert {r[0] for r in new} == cascaded and cascaded
    assert all(r[2] is True and r[3] == "Retired" for r in new)
    for table in ("team", "principal"):
        if table == "principal":
            g, n = diff(table)
            assert {r[0] for r in g} == {r[0] for r in n} == {user["id"]}
        else:
            assert before[table] == after[table]


def test_users_and_apps_are_incremental(serve, run_sync, tmp_path):
    from pipelines.benchling.client import PAGE_SIZE
    from pipelines.progress import Progress
    from pipelines.benchling.spec import benchling_plan, BenchlingConfig
    from pipelines.targets import resolve_target
    from pipelines.sync import sync

    tenant = generate_tenant(seed=4, users=450, apps=2 * PAGE_SIZE + 30, teams=4, projects=10, folders=50)
    sim = serve(tenant)
    t = tenant_dict(tenant)
    paths = {"users": "GET /api/v2/users", "apps": "GET /api/v2/apps"}
    # a full listing reads every page; both lists are longer than one page, so an incremental one is cheaper
    full = {k: -(-len(t[k]) // PAGE_SIZE) for k in paths}
    assert min(full.values()) > 1

    def requests_per_list() -> dict[str, int]:
        return {k: sim.stats()["by_path"][p] for k, p in paths.items()}

    run_sync(sim, build=False)
    assert requests_per_list() == full  # first sync: the full listings

    sim.reset_stats()
    run_sync(sim, build=False)
    assert requests_per_list() == {"users": 1, "apps": 1}  # nothing changed: one empty page each

    user = t["users"][7]
    r = requests.patch(f"{sim.base_url}/users/{user['id']}", json={"name": "Renamed Person"},
                       auth=(DEMO_API_KEY, ""))
    assert r.status_code == 200
    sim.reset_stats()
    result = run_sync(sim)
    assert requests_per_list() == {"users": 1, "apps": 1}
    assert_warehouse_matches(result.warehouse, tenant_dict(tenant))  # merged, nothing lost
    con = connect(result.warehouse)
    try:
        assert con.execute('select name from "user" where id = ?', [user["id"]]).fetchone()[0] == "Renamed Person"
    finally:
        con.close()

    sim.reset_stats()
    cfg = BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY)
    sync(plans=[benchling_plan(cfg, full_refresh=True)], target=resolve_target(duckdb=tmp_path / "warehouse.duckdb"),
         build=False, progress=Progress(quiet=True))
    assert requests_per_list() == full  # --full-refresh lists everything again
