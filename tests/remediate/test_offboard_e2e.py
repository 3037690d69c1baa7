"""Offboard a person end to end against the three simulators: plan, dry run, apply, apply again, the next
sync verifies, a revert made through the API shows as reverted; the write keys appear nowhere."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import requests

from ..helpers import seeded_cache
from ..test_resilience import key_forms, readable_forms, warehouse_texts
from .world import ADA, ADMIN_KEY, OPERATOR, SECRETS, World


def _audit(w: World, wh: Path) -> list[dict]:
    cols = ["action_key", "system", "action", "phase", "outcome", "cause", "before_state", "after_state", "undoable",
            "operator", "plan_sha256", "run_id", "email", "reason", "decision", "apply_id"]
    rows = w.rows(f"select {', '.join(cols)} from remediation_action order by recorded_at, phase", wh)
    return [dict(zip(cols, r)) for r in rows]


def test_offboard_plan_apply_verify_revert(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    plan_path = tmp_path / "plan.json"
    outputs = []
    # as the sync's secret search (tests/test_resilience.py): debug logging, dbt's and dlt's files kept under tmp_path
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    dbg = {"RUNTIME__LOG_LEVEL": "DEBUG", "TMPDIR": str(tmpdir), "WHSYNC_CACHE_DIR": str(seeded_cache(tmpdir / "whsync")),
           "WHSYNC_KEEP_DLT_DIR": str(tmp_path / "dlt")}

    r = world.run("remediate", "plan", "--offboard", ADA.upper(), "--out", str(plan_path), warehouse=wh, env=dbg)
    outputs.append(r.stdout + r.stderr)
    assert r.returncode == 0, r.stderr
    plan = json.loads(plan_path.read_text())
    run_id = world.rows("select run_id from sync_run", wh)[0][0]
    assert plan["run_id"] == run_id
    acts = {(a["system"], a["action"], a["scope"], a["account_id"]): a for a in plan["actions"]}
    ada_bl, ada_pd = world.bl_user(ADA), world.pd_user(ADA)
    orgs = world.bc_members(ADA)
    assert set(acts) == {("benchling", "suspend", world.bl.root_url.split("//")[1], ada_bl["id"]),
                         ("paradime", "disable", world.ws_name, ada_pd["uid"])} | {
                        ("bencher", "remove_member", slug, m["uuid"]) for slug, m in orgs}
    a = acts[("benchling", "suspend", world.bl.root_url.split("//")[1], ada_bl["id"])]
    assert (a["expected"], a["result"], a["undoable"], a["reason"]) == (
        {"status": "active"}, {"status": "suspended"}, True, f"offboarding {ADA}")
    assert [x["undoable"] for x in plan["actions"] if x["system"] != "benchling"] == [False, False, False]
    assert "offboarding" in r.stdout and "cannot be undone" in r.stdout

    # dry run: reads live state, writes nothing anywhere
    r = world.run("remediate", "apply", str(plan_path), warehouse=wh, env=dbg)
    outputs.append(r.stdout + r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "dry run" in r.stdout and ": 4 would_apply;" in r.stdout
    assert world.rows("select count(*) from information_schema.tables where table_name = 'remediation_action'", wh) == [(0,)]
    assert not ada_bl["isSuspended"] and not world.pd_user(ADA).get("_disabled") and len(world.bc_members(ADA)) == 2

    # apply
    for s in (world.bl,):
        s.reset_stats()
    r = world.run("remediate", "apply", str(plan_path), "--apply", "--operator", OPERATOR, warehouse=wh, env=dbg)
    outputs.append(r.stdout + r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    assert world.bl_user(ADA)["isSuspended"] is True
    assert world.pd_user(ADA).get("_disabled") is True
    assert world.bc_members(ADA) == []
    bl = world.bl.stats()["by_path"]
    assert bl == {"GET /api/v2/users": 1, "PATCH /api/v2/users/{user_id}": 1}, bl  # one check (ids), one write
    pd = world.pd.stats()["by_operation"]
    assert (pd.get("listUsers"), pd.get("disableUser")) == (2, 1)  # the dry run's listing and this one
    bc = world.bc.stats()["by_path"]
    assert bc["DELETE /v0/organizations/:org/members/:user"] == 2
    assert bc["GET /v0/organizations/:org/members"] == 4  # one listing per organization, in the dry run and here

    rows = _audit(world, wh)
    # systems in name order; each action's intent before its call, its outcome after
    assert [(x["system"], x["action"], x["phase"], x["outcome"]) for x in rows] == [
        (s, act, phase, None if phase == "intent" else "applied")
        for s, act in (("bencher", "remove_member"), ("bencher", "remove_member"), ("benchling", "suspend"), ("paradime", "disable"))
        for phase in ("intent", "outcome")]
    assert sorted(x["action_key"] for x in rows) == sorted(2 * [
        f"{a['system']}/{a['scope']}/{a['account_id']}/{a['action']}" for a in plan["actions"]])
    for x in rows:
        assert (x["operator"], x["plan_sha256"], x["run_id"], x["email"]) == (OPERATOR, plan["actions_sha256"], run_id, ADA)
        assert x["reason"] == f"offboarding {ADA}" and json.loads(x["decision"]) == {"kind": "offboard", "email": ADA}
    bl_rows = [x for x in rows if x["system"] == "benchling"]
    assert [json.loads(x["before_state"]) for x in bl_rows] == [{"status": "active"}] * 2
    assert [json.loads(x["after_state"]) for x in bl_rows] == [{"status": "suspended"}] * 2
    assert {x["undoable"] for x in rows if x["system"] != "benchling"} == {False}

    # apply twice: everything already applied, no second write (the simulators' counts)
    r = world.run("remediate", "apply", str(plan_path), "--apply", "--operator", OPERATOR, warehouse=wh, env=dbg)
    outputs.append(r.stdout + r.stderr)
    assert r.returncode == 0 and "applied: 4 already_applied;" in r.stdout, r.stdout
    assert world.bl.stats()["by_path"].get("PATCH /api/v2/users/{user_id}") == 1
    assert world.pd.stats()["by_operation"]["disableUser"] == 1
    assert world.bc.stats()["by_path"]["DELETE /v0/organizations/:org/members/:user"] == 2
    assert [x["outcome"] for x in _audit(world, wh)[8:]] == ["already_applied"] * 4

    # the next sync verifies every applied action
    r = world.sync(wh, env=dbg)
    outputs.append(r.stdout + r.stderr)
    ver = dict(world.rows("select action_key, verification from remediation_verification", wh))
    assert set(ver.values()) == {"verified"} and len(ver) == 4, ver
    assert len(_audit(world, wh)) == 12  # the audit went through the sync unchanged

    # a revert through the API, then a sync: reverted
    auth = "Basic " + base64.b64encode(f"{ADMIN_KEY}:".encode()).decode()
    assert requests.patch(f"{world.bl.base_url}/users/{ada_bl['id']}", json={"isSuspended": False},
                          headers={"Authorization": auth}, timeout=10).status_code == 200
    r = world.sync(wh, env=dbg)
    outputs.append(r.stdout + r.stderr)
    ver = dict(world.rows("select system, verification from remediation_verification", wh))
    assert ver["benchling"] == "reverted" and ver["paradime"] == "verified" and ver["bencher"] == "verified"

    # the access review lists the applied actions with their verification
    r = world.run("report", "--duckdb", str(wh), "--out", str(tmp_path / "review.html"), env=dbg)
    outputs.append(r.stdout + r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    import csv

    with open(tmp_path / "review-remediation.csv", newline="") as f:
        got = sorted((row["system"], row["action"], row["verification"]) for row in csv.DictReader(f))
    assert got == [("bencher", "remove_member", "verified"), ("bencher", "remove_member", "verified"),
                   ("benchling", "suspend", "reverted"), ("paradime", "disable", "verified")]
    assert "Remediation applied and its verification" in (tmp_path / "review.html").read_text()

    # the write keys never appear, in any form the sync's secret search looks for (tests/test_resilience.py): the
    # output of every command (debug logging), the plan, the warehouse's text values (audit rows) and dlt's decoded
    # state, dbt's and dlt's files, anything written beside them
    needles = [n for s in SECRETS for n in key_forms(s)]
    for text in [*outputs, *warehouse_texts(wh)]:
        for n in needles:
            assert n.decode("latin-1") not in text
    assert any(ADA in t for t in warehouse_texts(wh))  # the search reads the audit's rows
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert plan_path in files and any(tmpdir / "whsync" / "dbt" in f.parents for f in files)
    for f in files:
        for data in readable_forms(f):
            assert not any(n in data for n in needles), f
