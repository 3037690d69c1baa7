"""Access history on both targets: `<table>$history` holds exactly the versions the published syncs saw,
stamped with those syncs' start times; failed, killed, unchanged and other-source syncs add nothing."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, Tenant
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.sync import SyncResult, build_only, sync
from pipelines.progress import Progress
from pipelines.targets import resolve_target
from pipelines.targets.pgconn import PgConfig

from .history_scenario import FIXTURES, PD, SPECS, Sources, expected_history, read_current, read_history, run_query, utc
from tests import forkserver

WHSYNC = str(Path(sys.executable).with_name("whsync"))


@pytest.fixture
def sources():
    s = Sources(Tenant.load(FIXTURES / "benchling_tricky.json"))
    yield s
    s.close()


@pytest.fixture(scope="module")
def first_sync(tmp_path_factory):
    """The first sync of the three tricky fixtures, into an empty warehouse, made once per target for the
    tests of this module (each made it alike): `first_sync(target, request)` makes the test's empty
    target a copy of it (the DuckDB file copied; the PostgreSQL database re-created from it as a template)
    and returns its SyncResult. The test's own simulators are loaded from the same fixtures, so they
    serve what that sync saw; the test's later syncs and writes are its own."""
    made: dict[str, tuple[object, SyncResult]] = {}

    def copy_into(target, request) -> SyncResult:
        server = request.getfixturevalue("pg_server") if target.name == "postgres" else None
        if target.name not in made:
            if server is None:
                first = resolve_target(duckdb=tmp_path_factory.mktemp("first_sync") / "w.duckdb")
            else:
                first = resolve_target(postgres=PgConfig.from_dsn(server.dsn(server.create_database(prefix="first"))))
            s = Sources(Tenant.load(FIXTURES / "benchling_tricky.json"))
            try:
                made[target.name] = (first, s.sync(first))
            finally:
                s.close()
        first, result = made[target.name]
        if server is None:
            assert not target.path.exists()
            shutil.copyfile(first.path, target.path)
        else:  # the test's database is empty and nobody is connected to either
            server.sql(f'drop database "{target.cfg.dbname}"')
            server.sql(f'create database "{target.cfg.dbname}" template "{first.cfg.dbname}"')
        return result

    return copy_into


# the tests of one target run on one xdist worker (they share its first sync); the two targets, on two
BY_TARGET = pytest.mark.parametrize("target", [pytest.param(t, marks=pytest.mark.xdist_group(f"history_{t}"))
                                               for t in ("duckdb", "postgres")], indirect=True)


@BY_TARGET
def test_multi_sync_history_is_exact_on_both_targets(target, sources, first_sync, request):
    tenant, api = sources.tenant, sources.benchling_api
    snaps = []

    s1 = first_sync(target, request)  # Benchling, Paradime and Bencher, into the empty warehouse
    snaps.append((utc(s1.synced_at), read_current(target)))

    # Benchling: suspend a team member, change a role, remove a membership, add an app to a team,
    # archive a project (its folders cascade) and a single folder of another project
    members = tenant.memberships
    suspended = next(u for u in tenant.users if not u["isSuspended"] and any(m["user"]["id"] == u["id"] for m in members))
    api("PATCH", f"/users/{suspended['id']}", {"isSuspended": True})
    promoted = next(m for m in members if m["role"] == "MEMBER" and m["user"]["id"].startswith("ent_"))
    api("PATCH", f"/teams/{promoted['teamId']}/memberships/{promoted['user']['id']}", {"role": "ADMIN"})
    active = {u["id"] for u in tenant.users if not u["isSuspended"]} - {suspended["id"]}
    removed = next(m for m in members if m is not promoted and m["user"]["id"] in active)
    removed_key = (removed["teamId"], removed["user"]["id"], removed["role"])
    api("DELETE", f"/teams/{removed_key[0]}/memberships/{removed_key[1]}")
    team_ids = {t["id"] for t in tenant.teams}
    app, team = next((a["id"], t) for a in tenant.apps for t in sorted(team_ids)
                     if not any(m["teamId"] == t and m["user"]["id"] == a["id"] for m in members))
    api("POST", f"/teams/{team}/memberships", {"userId": app, "role": "MEMBER"})
    live = lambda f: f["archiveRecord"] is None  # noqa: E731
    project = next(p["id"] for p in tenant.projects if p["archiveRecord"] is None
                   and any(live(f) for f in tenant.folders if f["projectId"] == p["id"]))
    cascaded = {f["id"] for f in tenant.folders if f["projectId"] == project and live(f)}
    live_before = {f["id"] for f in tenant.folders if live(f)}
    api("POST", "/projects:archive", {"projectIds": [project], "reason": "Retired"})
    folder = next(f["id"] for f in tenant.folders if f["projectId"] != project and live(f)
                  and any(p["id"] == f["projectId"] and p["archiveRecord"] is None for p in tenant.projects))
    api("POST", "/folders:archive", {"folderIds": [folder], "reason": "Other"})
    archived_now = {f["id"] for f in tenant.folders if not live(f)} & live_before  # with the subfolders
    assert cascaded | {folder} <= archived_now
    # Paradime: disable a user, change an account type; Bencher: remove a member, change a role
    ws = PD["workspaces"][0]
    disabled, retyped = [u for u in ws["activeUsers"] if not u.get("_disabled")][:2]
    sources.graphql(ws["name"], "mutation D($uid: String!) { disableUser(uid: $uid) { ok } }", {"uid": disabled["uid"]})
    new_type = "ADMIN" if retyped["accountType"] != "ADMIN" else "DEVELOPER"
    sources.graphql(ws["name"], "mutation U($uid: String!, $t: UserAccountType!) "
                    "{ updateUserAccountType(uid: $uid, accountType: $t) { ok } }", {"uid": retyped["uid"], "t": new_type})
    org = sources.bencher.organizations[0]
    gone_member, re_roled = org["_members"][0]["uuid"], org["_members"][1]["uuid"]
    sources.bencher_api("DELETE", f"{org['slug']}/members/{gone_member}")
    sources.bencher_api("PATCH", f"{org['slug']}/members/{re_roled}", {"role": "leader"})

    s2 = sources.sync(target)
    snaps.append((utc(s2.synced_at), read_current(target)))

    if target.name == "postgres":  # grant-reader covers the history relations (the next publish keeps the grants)
        with target.cfg.connect() as con:
            con.cursor().execute("create role hist_reader nologin")
            con.commit()
        granted = target.grant_reader("hist_reader", target.published_relations())
        assert {n for n in SPECS} <= set(granted)
    api("POST", f"/teams/{removed_key[0]}/memberships", {"userId": removed_key[1], "role": removed_key[2]})
    api("POST", "/folders:unarchive", {"folderIds": [folder]})
    s3 = sources.sync(target)
    snaps.append((utc(s3.synced_at), read_current(target)))

    hist = read_history(target)
    assert hist == expected_history(snaps)
    if target.name == "postgres":
        with target.cfg.connect() as con:
            cur = con.cursor()
            cur.execute("set role hist_reader")
            for name, (ns, *_r) in SPECS.items():
                cur.execute(f'select count(*) from "{target.schema(ns)}"."{name.split(".")[-1]}"')
                assert cur.fetchone()[0] == len(hist[name])
            con.rollback()
    t1, t2, t3 = (t for t, _ in snaps)

    def spans(name, **eq):
        cols = snaps[-1][1][name][0]
        return sorted((r[-2], r[-1]) for r in hist[name] if all(r[cols.index(c)] == v for c, v in eq.items()))

    # each change is there, with the start times of the syncs that saw it
    assert spans("user$history", id=suspended["id"]) == [(t1, t2), (t2, None)]
    assert spans("user$history", id=suspended["id"], is_suspended=True) == [(t2, None)]
    assert spans("team_member$history", team_id=promoted["teamId"], user_id=promoted["user"]["id"], role="ADMIN") == [(t2, None)]
    assert spans("team_member$history", team_id=removed_key[0], user_id=removed_key[1]) == [(t1, t2), (t3, None)]
    assert spans("team_member$history", team_id=team, user_id=app) == [(t2, None)]
    assert spans("project$history", id=project) == [(t1, t2), (t2, None)]
    assert spans("project$history", id=project, **{"archived$": True}) == [(t2, None)]
    for f in cascaded:
        assert spans("folder$history", id=f, **{"archived$": True}) == [(t2, None)]
    assert spans("folder$history", id=folder) == [(t1, t2), (t2, t3), (t3, None)]
    assert spans("paradime.user$history", uid=disabled["uid"]) == [(t1, t2)]
    assert spans("paradime.user$history", uid=retyped["uid"], account_type=new_type) == [(t2, None)]
    assert spans("bencher.member$history", uuid=gone_member, organization_uuid=org["uuid"]) == [(t1, t2)]
    assert spans("bencher.member$history", uuid=re_roled, organization_uuid=org["uuid"]) == [(t1, t2), (t2, None)]

    # the analyst queries of examples/queries answer with those times
    emails = {u["id"]: u["email"] for u in tenant.users}
    handles = {u["id"]: u["handle"] for u in tenant.users}
    for as_of, snap in ((t1 + (t2 - t1) / 2, snaps[0][1]), (t2 + (t3 - t2) / 2, snaps[1][1])):
        got = run_query(target, "history_team_members_as_of.sql", as_of=as_of)
        assert sorted((r[1], r[4] or r[3]) for r in got) == sorted(
            (row[3], emails.get(k[1]) or next(a["name"] for a in tenant.apps if a["id"] == k[1]))
            for k, row in snap["team_member$history"][1].items())
    d = (t3 - t2) / 2
    got = run_query(target, "history_access_granted_and_revoked.sql", date_from=t1 + d, date_to=t3 + d)
    assert sorted((r[0], r[1], r[4]) for r in got) == sorted([
        (t2, "granted", app), (t2, "revoked", handles[removed_key[1]]),
        (t2, "role MEMBER -> ADMIN", handles[promoted["user"]["id"]]), (t3, "granted", handles[removed_key[1]])])
    assert run_query(target, "history_access_granted_and_revoked.sql", date_from=t1, date_to=t1 + d)  # the baseline
    got = run_query(target, "history_suspended_users_still_in_teams.sql")
    mine = [r for r in got if r[0] == suspended["handle"]]
    assert len(mine) == sum(m["user"]["id"] == suspended["id"] for m in tenant.memberships) > 0
    assert all(r[4] == t2 and r[6] == t2 and r[7] is False for r in mine)
    assert all(r[7] is True for r in got if r[0] != suspended["handle"])  # the others were suspended at the start
    got = run_query(target, "history_archived_in_period.sql", date_from=t1 + d, date_to=t3 + d)
    assert sorted((r[0], r[1], r[3], r[6]) for r in got) == sorted(
        [(t2, "project", project, False)] + [(t2, "folder", f, False) for f in archived_now])


@BY_TARGET
def test_failed_killed_other_source_unchanged_full_refresh_and_rebuild_add_nothing(target, sources, tmp_path,
                                                                                   first_sync, request, short_backoff):
    tenant, api = sources.tenant, sources.benchling_api
    s1 = first_sync(target, request)  # Benchling, Paradime and Bencher, into the empty warehouse
    base = read_history(target)
    user = next(u for u in tenant.users if not u["isSuspended"])
    api("PATCH", f"/users/{user['id']}", {"isSuspended": True})

    # a sync whose requests keep failing (faults exhaust the retries) records nothing
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off", faults="500:1.0") as bad:
        with pytest.raises(Exception, match="HTTP 500"):
            sync(plans=[benchling_plan(BenchlingConfig(bad.base_url, api_key=DEMO_API_KEY))], target=target, progress=Progress(quiet=True))
    assert read_history(target) == base
    if target.name == "postgres":
        # a sync that loads everything and fails at publish (a user's view on a warehouse table blocks it,
        # as the README documents) records nothing: no raw row, no moved cursor
        raw_before = _raw_users(target)
        with psycopg2.connect(target.cfg.dsn) as con, con.cursor() as cur:
            cur.execute('create view public.my_view as select id from public."user$raw"')
        with pytest.raises(Exception, match="publishing into .* failed"):
            sources.sync(target, "benchling")
        with psycopg2.connect(target.cfg.dsn) as con, con.cursor() as cur:
            cur.execute("drop view public.my_view")
        assert read_history(target) == base and _raw_users(target) == raw_before
    # a sync killed while it builds records nothing
    env = {**os.environ, "BENCHLING_API_KEY": DEMO_API_KEY}
    where = ["--duckdb", str(target.path)] if target.name == "duckdb" else ["--target", "postgres"]
    if target.name == "postgres":
        env["WHSYNC_POSTGRES_DSN"] = target.cfg.dsn
    proc = forkserver.Popen([WHSYNC, "sync", "--base-url", sources.benchling.base_url, *where],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "building the warehouse" not in proc.stderr.readline():
        assert proc.poll() is None, "the sync ended before it built"
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert read_history(target) == base
    # --source paradime records nothing for Benchling, though Benchling changed: it republishes Benchling's
    # relations unchanged (their rows, their sync's start) and Paradime's with its own start
    users_before, (bl_mark, pd_mark) = _users_and_marks(target)
    sources.sync(target, "paradime")
    assert read_history(target) == base
    users_after, (bl_after, pd_after) = _users_and_marks(target)
    assert users_after == users_before and bl_after == bl_mark and pd_after > pd_mark
    # the next Benchling sync records the suspension with its own start time
    s2 = sources.sync(target, "benchling")
    after = read_history(target)
    new = sorted(set(after["user$history"]) - set(base["user$history"]), key=repr)
    assert [(r[0], r[4], r[-2], r[-1]) for r in new] == [(user["id"], False, utc(s1.synced_at), utc(s2.synced_at)),
                                                         (user["id"], True, utc(s2.synced_at), None)]
    assert {k: v for k, v in after.items() if k != "user$history" and k != "principal$history"} == \
        {k: v for k, v in base.items() if k != "user$history" and k != "principal$history"}
    # an unchanged resync (users and apps: an empty incremental page), --full-refresh and
    # `--no-build` + `whsync build` add 0 rows
    sources.sync(target, "benchling")
    sources.sync(target, "benchling", full_refresh=True)
    assert read_history(target) == after
    api("PATCH", f"/users/{user['id']}", {"isSuspended": False})
    s3 = sync(plans=[benchling_plan(BenchlingConfig(sources.benchling.base_url, api_key=DEMO_API_KEY))], target=target,
              progress=Progress(quiet=True), build=False)
    assert read_history(target) == after
    build_only(target=target, progress=Progress(quiet=True))  # stamps the change with s3's start, not its own clock
    final = read_history(target)
    assert sorted(((r[4], r[-2], r[-1]) for r in final["user$history"] if r[0] == user["id"]), key=lambda v: v[1]) == [
        (False, utc(s1.synced_at), utc(s2.synced_at)), (True, utc(s2.synced_at), utc(s3.synced_at)),
        (False, utc(s3.synced_at), None)]

    # upgrading a warehouse that has no history yet (dropped here): nothing else changes, and history
    # starts with the start of the sync whose data is built
    tables = read_current(target)
    if target.name == "duckdb":
        import duckdb

        con = duckdb.connect(str(target.path))
        for ns, name in [(SPECS[n][0], n.split(".")[-1]) for n in SPECS]:
            con.execute(f'drop table if exists "{"main" if ns == "warehouse" else ns}"."{name}"')
        con.close()
    else:
        with psycopg2.connect(target.cfg.dsn) as con, con.cursor() as cur:
            for ns, name in [(SPECS[n][0], n.split(".")[-1]) for n in SPECS]:
                cur.execute(f'drop table if exists "{target.schema(ns)}"."{name}"')
    build_only(target=target, progress=Progress(quiet=True))
    assert read_current(target) == tables
    started = read_history(target)
    assert {r[-2:] for r in started["team_member$history"]} == {(utc(s3.synced_at), None)}
    assert len(started["team_member$history"]) == len(tables["team_member$history"][1])


def _users_and_marks(target):
    """Benchling's published `user$raw`, and the one start time (epoch seconds) of the sync that published
    Benchling's `team$raw` and of the one that published `paradime.workspace`."""
    with target.reader() as con:
        users = sorted((tuple(r) for r in con.execute(f'select * from "{con.schema("warehouse")}"."user$raw"').fetchall()),
                       key=repr)
        marks = []
        for ns, rel in (("warehouse", "team$raw"), ("paradime", "workspace")):
            got = con.execute(f'select distinct extract(epoch from _synced_at) from "{con.schema(ns)}"."{rel}"').fetchall()
            assert len(got) == 1, (rel, got)
            marks.append(got[0][0])
    return users, tuple(marks)


def _raw_users(target):
    """Benchling's raw users and dlt's saved state (the incremental cursor) as the live raw schema holds them."""
    with psycopg2.connect(target.cfg.dsn) as con, con.cursor() as cur:
        cur.execute('select id, is_suspended, _synced_at from benchling_raw.users order by 1, 3')
        users = cur.fetchall()
        cur.execute("select version_hash, state from benchling_raw._dlt_pipeline_state order by created_at")
        return users, cur.fetchall()
