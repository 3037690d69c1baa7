"""End to end: the Bencher dlt source against the simulator, into DuckDB (dataset bencher_raw)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from pipelines.bencher.client import BencherClient
from pipelines.bencher.source import BencherConfig, bencher_source
from tests.helpers import cause_of, query as q

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def run(make_pipeline, config, synced_at, pipeline=None):
    p = pipeline or make_pipeline()
    p.run(bencher_source(config, synced_at=synced_at, client_options={"backoff": 0.01}), loader_file_format="jsonl")
    return p


def parse(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ")


MEMBERS = ("select organization_slug, uuid, name, slug, email, role, timezone('UTC', created), "
           "timezone('UTC', modified) from bencher_raw.members order by all")


def expected_members(fx):
    return sorted(
        (o["slug"], m["uuid"], m["name"], m["slug"], m["email"], m["role"], parse(m["created"]), parse(m["modified"]))
        for o in fx["organizations"] if o.get("_visible", True) for m in o["_members"]
    )


def test_raw_rows_match_fixture_and_rerun_adds_no_duplicates(tmp_path, make_pipeline, config, fx, sim):
    p = run(make_pipeline, config, T0)
    assert q(tmp_path, MEMBERS) == expected_members(fx)
    visible = [o for o in fx["organizations"] if o.get("_visible", True)]
    big = next(o for o in visible if o["slug"] == "big-lab")
    assert len(big["_members"]) > 255  # more than one page
    assert q(tmp_path, "select count(*) from bencher_raw.members where organization_slug='big-lab'") == [
        (len(big["_members"]),)]
    ada = sum(m["email"] == "ada@example.com" for o in visible for m in o["_members"])
    assert ada > 1  # one person in several organizations
    assert q(tmp_path, "select count(*) from bencher_raw.members where email='ada@example.com'") == [(ada,)]
    assert ("Zoë Ørsted-李",) in q(tmp_path, "select name from bencher_raw.members")
    orgs = q(tmp_path, "select slug, uuid, name, has_license, claimed is null, sso is null "
                       "from bencher_raw.organizations order by slug")
    assert orgs == sorted((o["slug"], o["uuid"], o["name"], bool(o.get("license")), o["claimed"] is None,
                           o.get("sso") is None) for o in fx["organizations"] if o.get("_visible", True))
    # the license JWT is never stored
    lic = next(o["license"] for o in fx["organizations"] if o.get("license"))
    dump = str(q(tmp_path, "select * from bencher_raw.organizations"))
    assert lic not in dump and "hidden-org" not in dump
    cols = {r[0]: r[1] for r in q(tmp_path, "select column_name, data_type from information_schema.columns "
                                             "where table_schema='bencher_raw' and table_name='organizations'")}
    assert cols["claimed"] == "TIMESTAMP WITH TIME ZONE" and "_whsync_synced_at" in cols and "license" not in cols
    # pages of 255 (at least one, empty, per organization), 1 for the org list
    assert sorted(sim.stats()["by_path"].items()) == [
        ("GET /v0/organizations", 1),
        ("GET /v0/organizations/:org/members", sum(max(1, -(-len(o["_members"]) // 255)) for o in visible))]

    before = q(tmp_path, MEMBERS)
    run(make_pipeline, config, T0 + timedelta(hours=1), pipeline=p)
    assert q(tmp_path, MEMBERS) == before
    assert q(tmp_path, "select count(*) from bencher_raw.organizations") == [(len(visible),)]


def test_changes_show_exactly_in_raw(tmp_path, make_pipeline, config, fx, sim):
    p = run(make_pipeline, config, T0)
    before = {(r[0], r[1]): r for r in q(tmp_path, MEMBERS)}
    c = BencherClient(sim.base_url, fx["token"])
    big = [m for pg in c.list_members("big-lab") for m in pg]
    gone = big[100]
    c.remove_member("big-lab", gone["slug"])
    c.invite_member("cloud-org", "newbie@example.com", name="Newbie Ñ")
    run(make_pipeline, config, T0 + timedelta(days=1), pipeline=p)  # invite pending: no member yet
    sim.accept_invite("cloud-org", "newbie@example.com")
    patched = c.update_member("cloud-org", "zoe-orsted", "leader")
    run(make_pipeline, config, T0 + timedelta(days=2), pipeline=p)

    current = ("select m.organization_slug, m.uuid, m.last_seen_at >= o.last_seen_at, timezone('UTC', m.modified) "
               "from bencher_raw.members m join bencher_raw.organizations o on o.uuid = m.organization_uuid")
    after = {(r[0], r[1]): r[2:] for r in q(tmp_path, current)}
    # removed: kept, marked
    assert after[("big-lab", gone["uuid"])][0] is False
    # accepted invitee: a new current member
    new = [k for k in after if k not in before]
    assert len(new) == 1 and new[0][0] == "cloud-org" and after[new[0]][0] is True
    # patched member: new modified time
    zoe = next(k for k in before if before[k][3] == "zoe-orsted")
    assert after[zoe] == (True, parse(patched["modified"]))
    # nothing else changed
    for k, r in before.items():
        if k not in (("big-lab", gone["uuid"]), zoe):
            assert after[k] == (True, r[7])
    assert len(after) == len(before) + 1  # the removed member is kept, the invitee added


def test_organization_filter_and_forbidden_org(tmp_path, make_pipeline, sim, fx):
    cfg = BencherConfig(base_url=sim.base_url, token=fx["token"], organizations=["cloud-org"])
    run(make_pipeline, cfg, T0)
    assert q(tmp_path, "select distinct organization_slug from bencher_raw.members") == [("cloud-org",)]
    bad = BencherConfig(base_url=sim.base_url, token=fx["token"], organizations=["hidden-org"])
    with pytest.raises(Exception, match="organization 'hidden-org' not found, or not visible"):
        run(make_pipeline, bad, T0)


def test_bad_token_fails_clearly_without_leaking(tmp_path, make_pipeline, sim, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "bencher_user_wrong_0000secret"
    with pytest.raises(Exception) as ei:
        run(make_pipeline, BencherConfig(base_url=sim.base_url, token=secret), T0)
    assert "refused the token (HTTP 401" in str(ei.value)
    assert secret not in str(ei.value) and secret not in caplog.text


@pytest.mark.parametrize("change,column", [(lambda m: m.pop("uuid"), "without a valid `uuid`"),
                                           (lambda m: m.update(role=7), "whose `role` is not a string"),
                                           (lambda m: m.update(created="yesterday"), "whose `created` is not an ISO 8601 time")])
def test_record_out_of_contract_fails_the_sync_naming_it(tmp_path, make_pipeline, config, sim, change, column):
    """Neither a bare KeyError nor a silent `name__v_bigint` variant column: the sync fails, naming the record."""
    from pipelines.records import MalformedRecordError

    with sim.lock:
        member = next(o for o in sim.organizations if o["slug"] == "cloud-org")["_members"][0]
        change(member)
    with pytest.raises(Exception) as ei:
        run(make_pipeline, config, T0)
    cause = cause_of(ei.value, MalformedRecordError)
    assert cause is not None, ei.value
    assert f"Bencher returned a members record {column}" in str(cause) and member["email"] in str(cause)
    assert q(tmp_path, "select count(*) from information_schema.tables where table_schema = 'bencher_raw'") == [(0,)]
