"""End to end: the dlt source against the simulator, into DuckDB (dataset paradime_raw)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from pipelines.paradime.client import ParadimeClient
from pipelines.paradime.source import ParadimeWorkspaceConfig, paradime_source
from tests.helpers import cause_of, query as q

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def run(make_pipeline, configs, synced_at, pipeline=None):
    p = pipeline or make_pipeline()
    p.run(paradime_source(configs, synced_at=synced_at, client_options={"backoff": 0.01}),
          loader_file_format="jsonl")
    return p


def expected_active(fx):
    return sorted(
        (w.name, u["uid"], u["email"], u["name"], u["accountType"])
        for w in fx["workspaces"] for u in w.active_users if not u.get("_disabled")
    )


def expected_invited(fx):
    return sorted(
        (w.name, i["email"], i["accountType"], i["inviteStatus"])
        for w in fx["workspaces"] for i in w.invited_users
    )


def test_raw_rows_match_fixture_and_rerun_adds_no_duplicates(tmp_path, make_pipeline, configs, fx):
    import copy

    fixture = copy.deepcopy(fx)  # the simulator mutates its own copy only
    p = run(make_pipeline, configs, T0)
    assert q(tmp_path, "select workspace, uid, email, name, account_type from paradime_raw.active_users "
                       "order by all") == expected_active(fixture)
    assert q(tmp_path, "select workspace, email, account_type, invite_status from paradime_raw.invited_users "
                       "order by all") == expected_invited(fixture)
    assert q(tmp_path, "select uid, name from paradime_raw.workspaces order by uid") == sorted(
        (w.uid, w.name) for w in fixture["workspaces"])
    # tricky cases
    assert ("analytics", "matt@acme.io", "ANALYST", "SENT") in expected_invited(fixture)
    assert q(tmp_path, "select count(*) from paradime_raw.active_users where email='gone@acme.io'") == [(0,)]
    assert q(tmp_path, "select name from paradime_raw.active_users where email='zoe@acme.io'") == [("Zoë 山田 Ñúñez",)]
    assert q(tmp_path, "select account_type from paradime_raw.active_users where email='future@acme.io'") == [
        ("SOME_FUTURE_ROLE",)]
    # declared columns exist even when null in every row (workspace_uid) and carry the sync time
    cols = {r[0]: r[1] for r in q(tmp_path, "select column_name, data_type from information_schema.columns "
                                             "where table_schema='paradime_raw' and table_name='active_users'")}
    assert cols["workspace_uid"] == "VARCHAR"
    assert cols["last_seen_at"] == "TIMESTAMP WITH TIME ZONE"
    assert cols["_whsync_synced_at"] == "TIMESTAMP WITH TIME ZONE"
    assert q(tmp_path, "select distinct timezone('UTC', _whsync_synced_at) from paradime_raw.active_users") == [
        (T0.replace(tzinfo=None),)]
    assert q(tmp_path, "select workspace, active_user_count, invited_user_count from paradime_raw.workspace_syncs "
                       "order by 1") == sorted((w.name, len(w.visible_active_users()), len(w.visible_invited_users()))
                                               for w in fixture["workspaces"])

    before = q(tmp_path, "select workspace, uid, email, name, account_type from paradime_raw.active_users order by all")
    run(make_pipeline, configs, T0 + timedelta(hours=1), pipeline=p)
    assert q(tmp_path, "select workspace, uid, email, name, account_type from paradime_raw.active_users "
                       "order by all") == before
    counts = {"active_users": len(expected_active(fixture)), "invited_users": len(expected_invited(fixture)),
              "workspaces": len(fixture["workspaces"]), "workspace_syncs": 2 * len(configs)}  # two syncs
    for table, n in counts.items():
        assert q(tmp_path, f"select count(*) from paradime_raw.{table}") == [(n,)]
    assert q(tmp_path, "select count(*) from paradime_raw.active_users where last_seen_at < "
                       "(select max(synced_at) from paradime_raw.workspace_syncs)") == [(0,)]


def test_mutations_show_exactly_in_raw(tmp_path, make_pipeline, configs, sim, fx):
    p = run(make_pipeline, configs, T0)
    before_users = dict(((r[0], r[1]), r[2:]) for r in q(
        tmp_path, "select workspace, uid, account_type, last_seen_at from paradime_raw.active_users"))
    before_inv = set(q(tmp_path, "select workspace, email, account_type, invite_status from paradime_raw.invited_users"))

    c = ParadimeClient(sim.endpoint_for("data-platform"), api_key=fx["api_key"], api_secret=fx["api_secret"],
                       name="data-platform")
    active, _ = c.list_users()
    by_email = {u["email"]: u["uid"] for u in active}
    c.disable_user(by_email["jonny@acme.io"])
    c.update_user_account_type(by_email["matt@acme.io"], "WORKSPACE_ADMIN")
    c.invite_user("newbie@acme.io", "ANALYST")
    sim.accept_invite("data-platform", "john@acme.io", "John Accepted")

    t1 = T0 + timedelta(days=1)
    run(make_pipeline, configs, t1, pipeline=p)

    current = """
        select u.workspace, u.uid, u.account_type,
               u.last_seen_at >= s.latest as is_current
        from paradime_raw.active_users u
        join (select workspace, max(synced_at) latest from paradime_raw.workspace_syncs group by 1) s
          using (workspace)"""
    after = {(r[0], r[1]): r[2:] for r in q(tmp_path, current)}
    dp = "data-platform"
    # disabled user: kept, with its old data, and marked (last_seen_at < latest sync)
    assert after[(dp, by_email["jonny@acme.io"])] == ("BILLING_ADMIN", False)
    # role change
    assert after[(dp, by_email["matt@acme.io"])] == ("WORKSPACE_ADMIN", True)
    # accepted invite: now an active user
    new_uid = [k for k in after if k not in before_users]
    assert len(new_uid) == 1 and after[new_uid[0]] == ("ADMIN", True)
    # nothing else changed
    changed = {k for k in before_users if after[k][0] != before_users[k][0] or not after[k][1]}
    assert changed == {(dp, by_email["jonny@acme.io"]), (dp, by_email["matt@acme.io"])}

    inv = """
        select i.workspace, i.email, i.account_type, i.invite_status, i.last_seen_at >= s.latest
        from paradime_raw.invited_users i
        join (select workspace, max(synced_at) latest from paradime_raw.workspace_syncs group by 1) s
          using (workspace)"""
    after_inv = set(q(tmp_path, inv))
    assert after_inv == {r + (r[1] != "john@acme.io",) for r in before_inv} | {
        (dp, "newbie@acme.io", "ANALYST", "SENT", True)}


def test_failing_workspace_fails_the_sync_and_names_it(tmp_path, make_pipeline, configs, sim, fx, caplog):
    caplog.set_level(logging.DEBUG)
    p = run(make_pipeline, configs, T0)
    sim.set_failure("analytics", "ok_false")
    with pytest.raises(Exception) as ei:
        run(make_pipeline, configs, T0 + timedelta(hours=1), pipeline=p)
    text = str(ei.value)
    assert "Paradime workspace 'analytics'" in text and "ok: false" in text
    for secret in [fx["api_key"], fx["api_secret"], sim.endpoint_for("analytics"), sim.workspace("analytics").uid,
                   sim.workspace("data-platform").uid]:
        assert secret not in text
        assert secret not in caplog.text
    # nothing of the failed sync was loaded: no workspace recorded a second sync
    assert q(tmp_path, "select count(*) from paradime_raw.workspace_syncs") == [(len(configs),)]


def test_wrong_secret_fails_clearly(tmp_path, make_pipeline, configs, fx, sim):
    bad = [ParadimeWorkspaceConfig(name=c.name, endpoint=c.endpoint, api_key=c.api_key, api_secret="wrong-secret-123")
           for c in configs]
    with pytest.raises(Exception) as ei:
        run(make_pipeline, bad, T0)
    text = str(ei.value)
    assert "refused the credentials" in text
    for secret in ["wrong-secret-123", fx["api_key"], sim.endpoint_for("analytics"), sim.endpoint_for("data-platform")]:
        assert secret not in text


def test_workspace_list_without_capability_is_skipped(tmp_path, make_pipeline, configs, sim):
    """listWorkspaces needs an extra capability; GraphQL errors there do not fail the user sync."""
    from pipelines.paradime.simulator import server

    orig = server._Root.listWorkspaces

    def denied(self, info):
        raise RuntimeError("Not authorized: missing Workspace metadata viewer capability")

    server._Root.listWorkspaces = denied
    try:
        run(make_pipeline, configs, T0)
    finally:
        server._Root.listWorkspaces = orig
    assert q(tmp_path, "select count(*) from paradime_raw.active_users") == [
        (sum(len(w.visible_active_users()) for w in sim.workspaces),)]
    # no workspace rows: the table is not created (dlt cannot load an empty jsonl file on duckdb)
    assert q(tmp_path, "select count(*) from information_schema.tables where table_name='workspaces'") == [(0,)]


@pytest.mark.parametrize("fault,column", [("user_without_uid", "without a valid `uid`"),
                                          ("user_name_not_string", "whose `name` is not a string")])
def test_record_out_of_contract_fails_the_sync_naming_it(tmp_path, make_pipeline, configs, sim, fault, column):
    """Neither a bare KeyError nor a silent `name__v_bigint` variant column: the sync fails, naming the record."""
    from pipelines.records import MalformedRecordError

    sim.set_failure("analytics", fault)
    first = sim.workspace("analytics").visible_active_users()[0]
    with pytest.raises(Exception) as ei:
        run(make_pipeline, configs, T0)
    cause = cause_of(ei.value, MalformedRecordError)
    assert cause is not None, ei.value
    assert f"Paradime returned an active_users record {column}" in str(cause)
    assert first["email"] in str(cause)  # the record is named
    assert q(tmp_path, "select count(*) from information_schema.tables where table_schema = 'paradime_raw' "
                       "and table_name = 'active_users'") == [(0,)]  # nothing loaded
