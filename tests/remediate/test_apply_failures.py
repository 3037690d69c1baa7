"""What apply refuses and how it fails: an edited plan, a drifted account, each guard, a refused write key,
a 500 mid-apply, a bulk task with per-item errors, a SIGKILL between call and record."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from pipelines.benchling.simulator.server import Response

from .world import ADA, OPERATOR, WHSYNC, World
from tests import forkserver


def _csv(path: Path, rows: list[tuple]) -> Path:
    lines = ["system,scope,account_id,action,role,reason"] + [",".join(str(x) for x in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _plan(w: World, wh: Path, tmp: Path, *args: str) -> Path:
    out = tmp / "plan.json"
    r = w.run("remediate", "plan", *args, "--out", str(out), warehouse=wh)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


def _apply(w: World, wh: Path, plan: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return w.run("remediate", "apply", str(plan), "--apply", "--operator", OPERATOR, *extra, warehouse=wh, env=env)


def _outcomes(w: World, wh: Path) -> list[tuple]:
    return w.rows("select account_id, action, phase, outcome, cause from remediation_action order by recorded_at, phase", wh)


def _tenant_host(w: World) -> str:
    return w.bl.root_url.split("//")[1]


def _active_plain_users(w: World, n: int) -> list[dict]:
    admins = {m["user"]["id"] for m in w.bl.tenant.memberships if m["role"] == "ADMIN"}
    return [u for u in w.bl.tenant.users if not u["isSuspended"] and u["id"] not in admins
            and u["email"] not in (ADA, OPERATOR)][:n]


def test_edited_plan_is_refused(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    plan = _plan(world, wh, tmp_path, "--offboard", ADA)
    body = json.loads(plan.read_text())
    body["actions"][0]["reason"] = "edited by hand"
    plan.write_text(json.dumps(body))
    r = _apply(world, wh, plan)
    assert r.returncode == 2 and "was edited after it was written" in r.stderr and "nothing was applied" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert world.bl.stats()["total"] == 0 and world.pd.stats()["requests"] == 0  # not even a live check


def test_drifted_account_is_skipped(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    ada = world.pd_user(ADA)
    plan = _plan(world, wh, tmp_path, "--from", str(_csv(tmp_path / "a.csv", [
        ("paradime", world.ws_name, ada["uid"], "set_account_type", "BUSINESS", "least privilege")])))
    ada["accountType"] = "ANALYST"  # changed in Paradime after the plan was made
    r = _apply(world, wh, plan)
    assert r.returncode == 1
    assert _outcomes(world, wh) == [(ada["uid"], "set_account_type", "outcome", "drifted",
                                     "expected status=active role=DEVELOPER, found status=active role=ANALYST")]
    assert world.pd.stats()["by_operation"].get("updateUserAccountType") is None
    assert ada["accountType"] == "ANALYST"


def test_guard_operator_own_accounts(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    plan = _plan(world, wh, tmp_path, "--offboard", OPERATOR)
    r = _apply(world, wh, plan)
    assert r.returncode == 1 and "the operator's own account" in r.stdout and "--allow-self" in r.stdout
    assert {o[3] for o in _outcomes(world, wh)} == {"refused"}
    assert world.bl_user(OPERATOR)["isSuspended"] is False
    r = _apply(world, wh, plan, "--allow-self")
    assert r.returncode == 0, r.stdout + r.stderr
    assert world.bl_user(OPERATOR)["isSuspended"] is True


def test_guard_write_key_owner(world: World, tmp_path: Path) -> None:
    import base64

    wh = world.reset(tmp_path / "wh")
    claims = base64.urlsafe_b64encode(json.dumps({"sub": ADA, "aud": "api_key"}).encode()).decode().rstrip("=")
    jwt = f"eyJhbGciOiJIUzI1NiJ9.{claims}.c2lnbmF0dXJl"
    old = world.bc.admin_token
    world.bc.admin_token = jwt
    try:
        org, member = world.bc_members(ADA)[0]
        plan = _plan(world, wh, tmp_path, "--from", str(_csv(tmp_path / "a.csv", [
            ("bencher", org, member["uuid"], "remove_member", "", "left")])))
        r = _apply(world, wh, plan, env={"BENCHER_ADMIN_API_TOKEN": jwt})
        assert r.returncode == 1 and "the account the bencher write key belongs to" in r.stdout and "--allow-key-owner" in r.stdout
        assert len(world.bc_members(ADA)) == 2
        assert jwt not in r.stdout + r.stderr
    finally:
        world.bc.admin_token = old


def test_guard_last_admin_of_team_workspace_organization(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    t = world.bl.tenant
    team, admin = next((m["teamId"], m["user"]["id"]) for m in t.memberships
                       if m["role"] == "ADMIN" and m["user"]["id"].startswith("ent_")
                       and sum(x["teamId"] == m["teamId"] and x["role"] == "ADMIN" for x in t.memberships) == 1)
    pd_admins = [u for u in world.pd.workspaces[0].active_users if u["accountType"] in ("ADMIN", "WORKSPACE_ADMIN")]
    org2 = world.bc.organizations[1]
    rows = [("benchling", team, admin, "remove_membership", "", "rotation")]
    rows += [("paradime", world.ws_name, u["uid"], "set_account_type", "DEVELOPER", "least privilege") for u in pd_admins]
    rows += [("bencher", org2["slug"], m["uuid"], "remove_member", "", "org closing") for m in org2["_members"]]
    plan = _plan(world, wh, tmp_path, "--from", str(_csv(tmp_path / "a.csv", rows)))
    r = _apply(world, wh, plan, "--max-fraction", "1", "--allow-self")
    assert r.returncode == 1
    guard_lines = [line for line in r.stdout.splitlines() if line.startswith("refused")]
    assert len(guard_lines) == 3 and all("--allow-last-admin" in line for line in guard_lines), r.stdout
    assert f"Benchling team {team} would have no active admin" in r.stdout
    assert f"Paradime workspace {world.ws_name} would have no admin" in r.stdout
    assert f"Bencher organization {org2['slug']} would have no leader" in r.stdout
    assert {o[3] for o in _outcomes(world, wh)} == {"refused"} and len(_outcomes(world, wh)) == len(rows)
    assert world.bl.stats()["by_path"].get("DELETE /api/v2/teams/{team_id}/memberships/{user_id}") is None


def test_guard_max_fraction_then_bulk_within_it(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    users = _active_plain_users(world, 5)  # 5 of ~38 active Benchling users: over 10 %
    plan = _plan(world, wh, tmp_path, "--from", str(_csv(tmp_path / "a.csv", [
        ("benchling", "", u["id"], "suspend", "", "contract ended") for u in users])))
    r = _apply(world, wh, plan)
    assert r.returncode == 1 and "--max-fraction" in r.stdout and "5 deactivations" in r.stdout
    assert not any(u["isSuspended"] for u in world.bl.tenant.users if u["id"] in {x["id"] for x in users})
    world.bl.task_polls = 1
    r = _apply(world, wh, plan, "--max-fraction", "0.2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert all(u["isSuspended"] for u in world.bl.tenant.users if u["id"] in {x["id"] for x in users})
    by_path = world.bl.stats()["by_path"]
    # two live checks (one per apply, ids), one bulk request, its task polled twice (RUNNING, then SUCCEEDED)
    assert (by_path["GET /api/v2/users"], by_path["POST /api/v2/users:bulk-update"], by_path["GET /api/v2/tasks/{task_id}"]) == (2, 1, 2)
    assert "PATCH /api/v2/users/{user_id}" not in by_path
    assert world.bl.stats()["rate_limited"] == 0


def test_bulk_task_with_per_item_errors(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    users = _active_plain_users(world, 3)
    plan = _plan(world, wh, tmp_path, "--from", str(_csv(tmp_path / "a.csv", [
        ("benchling", "", u["id"], "suspend", "", "contract ended") for u in users])))
    world.bl.reject_user_updates[users[1]["id"]] = "User cannot be suspended: pending signature."
    r = _apply(world, wh, plan)
    assert r.returncode == 1
    got = {o[0]: (o[3], o[4]) for o in _outcomes(world, wh) if o[2] == "outcome"}
    assert got[users[1]["id"]] == ("failed", "bulk-update task item error: User cannot be suspended: pending signature.")
    assert got[users[0]["id"]] == ("applied", None) and got[users[2]["id"]] == ("applied", None)
    assert [u["isSuspended"] for u in world.bl.tenant.users if u["id"] in {x["id"] for x in users}].count(True) == 2
    by_path = world.bl.stats()["by_path"]
    # check; bulk (FAILED, all or nothing); re-check of the other two; bulk of those two; one poll per task
    assert (by_path["GET /api/v2/users"], by_path["POST /api/v2/users:bulk-update"], by_path["GET /api/v2/tasks/{task_id}"]) == (2, 2, 2)


def test_refused_write_keys(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    plan = _plan(world, wh, tmp_path, "--offboard", ADA)
    # an unknown key: the live check is refused (401), nothing is written or recorded
    r = _apply(world, wh, plan, env={"BENCHLING_ADMIN_API_KEY": "sk_not_a_key"})
    assert r.returncode == 1
    err = [line for line in r.stderr.splitlines() if line.startswith("whsync: error: benchling")]
    assert len(err) == 1 and "HTTP 401" in err[0] and "sk_not_a_key" not in r.stdout + r.stderr
    assert not any(o[0] == world.bl_user(ADA)["id"] for o in _outcomes(world, wh))
    assert world.bl_user(ADA)["isSuspended"] is False
    # the sync's read key given as the write key: it may read, the write is refused (403): failed, not applied
    wh = world.reset(tmp_path / "wh2")
    r = _apply(world, wh, plan, env={"BENCHLING_ADMIN_API_KEY": world.env["BENCHLING_API_KEY"]})
    err = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode == 1 and len(err) == 1 and err[0].startswith("whsync: error: benchling: ") and "HTTP 403" in err[0], r.stderr
    assert world.env["BENCHLING_API_KEY"] not in r.stdout + r.stderr
    bl = [o for o in _outcomes(world, wh) if o[0] == world.bl_user(ADA)["id"]]
    assert [(o[2], o[3]) for o in bl] == [("intent", None), ("outcome", "failed")]
    assert world.bl_user(ADA)["isSuspended"] is False
    # Paradime's and Bencher's write keys refused (401): one line each, those systems untouched, Benchling applied
    wh = world.reset(tmp_path / "wh3")
    r = _apply(world, wh, plan, env={"PARADIME_ADMIN_API_SECRET": "wrong-secret", "BENCHER_ADMIN_API_TOKEN": "bencher_user_wrong"})
    assert r.returncode == 1
    errs = [line for line in r.stderr.splitlines() if line.startswith("whsync: error: ")]
    assert len(errs) == 2 and "paradime" in errs[1] + errs[0] and all("HTTP 401" in e for e in errs), r.stderr
    assert "wrong-secret" not in r.stdout + r.stderr and "bencher_user_wrong" not in r.stdout + r.stderr
    assert world.bl_user(ADA)["isSuspended"] is True and not world.pd_user(ADA).get("_disabled")
    assert len(world.bc_members(ADA)) == 2
    assert {o[0] for o in _outcomes(world, wh)} == {world.bl_user(ADA)["id"]}
    # a bulk-update refused (403): its actions failed (intent, then outcome), one line, nobody suspended
    wh = world.reset(tmp_path / "wh4")
    users = _active_plain_users(world, 2)
    plan = _plan(world, wh, tmp_path, "--from", str(_csv(tmp_path / "b.csv", [
        ("benchling", "", u["id"], "suspend", "", "left") for u in users])))
    r = _apply(world, wh, plan, env={"BENCHLING_ADMIN_API_KEY": world.env["BENCHLING_API_KEY"]})
    err = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode == 1 and len(err) == 1 and "HTTP 403" in err[0] and "users:bulk-update" in err[0], r.stderr
    assert sorted((o[2], o[3]) for o in _outcomes(world, wh)) == [("intent", None)] * 2 + [("outcome", "failed")] * 2
    assert not any(u["isSuspended"] for u in users)
    assert world.bl.stats()["by_path"]["POST /api/v2/users:bulk-update"] == 1


def test_500_mid_apply_is_retried_then_failed_and_the_rest_go_on(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    t = world.bl.tenant
    people = {u["id"] for u in t.users if u["email"] not in (ADA, OPERATOR)}
    members = [m for m in t.memberships if m["role"] == "MEMBER" and m["user"]["id"] in people][:2]
    plan = _plan(world, wh, tmp_path, "--from", str(_csv(tmp_path / "a.csv", [
        ("benchling", m["teamId"], m["user"]["id"], "remove_membership", "", "project over") for m in members])))
    bad = f"/teams/{members[0]['teamId']}/memberships/{members[0]['user']['id']}"
    world.bl.request_hook = lambda req: (Response(500, {"error": {"type": "server_error", "message": "boom"}})
                                         if req.method == "DELETE" and req.path.endswith(bad) else None)
    r = _apply(world, wh, plan)
    assert r.returncode == 1
    got = {o[0]: (o[3], o[4]) for o in _outcomes(world, wh) if o[2] == "outcome"}
    assert got[members[0]["user"]["id"]][0] == "failed" and "HTTP 500" in got[members[0]["user"]["id"]][1]
    assert got[members[1]["user"]["id"]] == ("applied", None)
    assert members[0] in world.bl.tenant.memberships and members[1] not in world.bl.tenant.memberships
    assert world.bl.stats()["by_path"]["DELETE /api/v2/teams/{team_id}/memberships/{user_id}"] == 4 + 1  # 4 tries + 1


def test_sigkill_between_call_and_record_is_settled_by_the_next_apply(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    ada = world.bl_user(ADA)
    plan = _plan(world, wh, tmp_path, "--from", str(_csv(tmp_path / "a.csv", [
        ("benchling", "", ada["id"], "suspend", "", "left")])))
    reached, answered = threading.Event(), threading.Event()

    def hook(req):
        if req.method == "PATCH":
            resp = world.bl._dispatch(req, "update_user")  # the write happens...
            reached.set()
            time.sleep(5)  # ...and the answer comes too late: the client is killed before it records it
            answered.set()
            return resp
        return None
    world.bl.request_hook = hook
    proc = forkserver.Popen([WHSYNC, "remediate", "apply", str(plan), "--apply", "--operator", OPERATOR, "--duckdb", str(wh)],
                            env=world.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reached.wait(120)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    world.bl.request_hook = None
    assert ada["isSuspended"] is True
    assert [(o[2], o[3]) for o in _outcomes(world, wh)] == [("intent", None)]  # unknown
    r = _apply(world, wh, plan)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = _outcomes(world, wh)
    assert [(o[2], o[3]) for o in rows] == [("intent", None), ("outcome", "applied")]
    assert "settled from live state" in rows[1][4]
    assert answered.wait(30)
    time.sleep(0.5)  # the killed request's answer is counted once the hook returns
    assert world.bl.stats()["by_path"]["PATCH /api/v2/users/{user_id}"] == 1  # never written twice


def test_apply_holds_the_warehouse_lock(world: World, tmp_path: Path) -> None:
    import fcntl

    wh = world.reset(tmp_path / "wh")
    plan = _plan(world, wh, tmp_path, "--offboard", ADA)
    with open(wh.with_name(wh.name + ".lock"), "w") as held:  # a sync holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        r = _apply(world, wh, plan, "--wait", "1")
    assert r.returncode == 1 and "another whsync run is writing" in r.stderr and "waited 1s" in r.stderr
    assert world.bl.stats()["total"] == 0 and world.bl_user(ADA)["isSuspended"] is False


def test_bad_plan_inputs_are_one_line_and_exit_2(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    ada = world.pd_user(ADA)
    org, member = world.bc_members(ADA)[0]
    cases = [
        (["--offboard", "nobody@nowhere.example"], "--offboard nobody@nowhere.example: no account with that email"),
        ([], "give one of --offboard EMAIL"),
        (["--from", str(_csv(tmp_path / "a.csv", [("paradime", world.ws_name, ada["uid"], "suspend", "", "x")]))],
         "line 2: suspend is not an action of system 'paradime'"),
        (["--from", str(_csv(tmp_path / "b.csv", [("bencher", org, member["uuid"], "set_role", "member", "x")]))],
         "role 'member' is not one of leader (Bencher has one organization role; to take it away, remove_member)"),
        (["--from", str(_csv(tmp_path / "c.csv", [("paradime", world.ws_name, ada["uid"], "disable", "", "")]))],
         "line 2: the reason is empty"),
        (["--from", str(_csv(tmp_path / "d.csv", [("benchling", "team_nope", "ent_nope", "remove_membership", "", "x")]))],
         "line 2: ent_nope is not a member of team 'team_nope'"),
    ]
    for args, message in cases:
        r = world.run("remediate", "plan", *args, "--out", str(tmp_path / "p.json"), warehouse=wh)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and message in lines[0], (args, r.stderr)
    assert not (tmp_path / "p.json").exists()
    r = world.run("remediate", "apply", str(tmp_path / "p.json"), warehouse=wh)
    assert r.returncode == 2 and "no such file" in r.stderr
    plan = _plan(world, wh, tmp_path, "--offboard", ADA)
    r = world.run("remediate", "apply", str(plan), "--apply", warehouse=wh)
    assert r.returncode == 2 and "--operator EMAIL is required with --apply" in r.stderr
    # the write key is separate: without it nothing is sent, the sync's read key (set) is not used instead
    r = _apply(world, wh, plan, env={"BENCHLING_ADMIN_API_KEY": ""})
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "no Benchling write key: set BENCHLING_ADMIN_API_KEY" in lines[0]
    assert "The sync's read key is never used to write" in lines[0] and world.env["BENCHLING_API_KEY"] not in r.stderr
    assert world.bl.stats()["total"] == 0 and world.pd.stats()["requests"] == 0


def test_review_decisions_map_to_actions(world: World, tmp_path: Path) -> None:
    from pipelines.remediate.planner import Warehouse, actions_for_decision
    from pipelines.targets import resolve_target

    wh = world.reset(tmp_path / "wh")
    w = Warehouse(resolve_target(duckdb=wh))
    accounts = {a["system"]: a for a in w.accounts(ADA)}
    ref = {"kind": "review", "campaign": "q4", "item": 1}
    got = [(a.system, a.action, a.expected, a.result) for s in ("benchling", "paradime", "bencher")
           for a in actions_for_decision(w, accounts[s], "revoke", None, "no longer needed", ref)]
    assert got == [("benchling", "suspend", {"status": "active"}, {"status": "suspended"}),
                   ("paradime", "disable", {"status": "active"}, {"status": "removed"}),
                   ("bencher", "remove_member", {"status": "member"}, {"status": "removed"})]
    a = actions_for_decision(w, accounts["paradime"], "change_role", "ANALYST", "least privilege", ref)[0]
    assert (a.action, a.expected, a.result, a.decision) == (
        "set_account_type", {"status": "active", "role": "DEVELOPER"}, {"status": "active", "role": "ANALYST"}, ref)
    admin = next(m for m in world.bl.tenant.memberships if m["role"] == "ADMIN" and m["user"]["id"].startswith("ent_"))
    item = next(x for x in w.rows("select system, scope, account_id, email, name, status, role from access "
                                  "where account_id = ?", [admin["user"]["id"]]))
    item = dict(zip(("system", "scope", "account_id", "email", "name", "status", "role"), item))
    teams = sorted(m["teamId"] for m in world.bl.tenant.memberships
                   if m["user"]["id"] == admin["user"]["id"] and m["role"] == "ADMIN")
    acts = actions_for_decision(w, item, "change_role", "MEMBER", "least privilege", ref)
    assert [(a.scope, a.action, a.result["role"]) for a in acts] == [(t, "set_team_role", "MEMBER") for t in teams]
    assert actions_for_decision(w, item, "keep", None, "", ref) == []


def test_max_fraction_counts_active_accounts_live(world: World, tmp_path: Path) -> None:
    """The 10 % guard counts from the live check, not the warehouse: Paradime's workspace listing counts it live;
    Benchling's tenant cannot be counted by the check (it reads the plan's users by id), so the warehouse's count
    is used, corrected by every account read live, and the apply says so. Accounts deactivated since the sync
    turn an allowed apply into a refused one; accounts added since turn a refused one into an allowed one."""
    import hashlib

    wh = world.reset(tmp_path / "wh")
    bl_total = world.rows("select count(*) from access where system = 'benchling' and status = 'active'", wh)[0][0]
    pd_total = world.rows("select count(*) from access where system = 'paradime' and status = 'active'", wh)[0][0]
    # Benchling: d suspensions, d <= 10 % of the warehouse's count; m more of the plan's users suspended since the
    # sync (already applied) leave d of (total - m) live: over 10 %
    d = bl_total // 10
    m = bl_total - 10 * d + 1
    bl_users = _active_plain_users(world, d + m)
    assert len(bl_users) == d + m and d / bl_total <= 0.10 < d / (bl_total - m)
    def plain() -> list[dict]:
        return [u for u in world.pd.workspaces[0].active_users
                if u["accountType"] not in ("ADMIN", "WORKSPACE_ADMIN") and u["email"] not in (ADA, OPERATOR)]
    pd_plain = plain()
    assert 1 / pd_total <= 0.10 < 1 / (pd_total - 3)
    plan = _plan(world, wh, tmp_path, "--from", str(_csv(tmp_path / "a.csv", [
        ("benchling", "", u["id"], "suspend", "", "contract ended") for u in bl_users] + [
        ("paradime", world.ws_name, pd_plain[0]["uid"], "disable", "", "contract ended")])))
    for u in bl_users[d:]:
        u["isSuspended"] = True  # suspended in Benchling since the sync
    for u in pd_plain[1:4]:
        u["_disabled"] = True  # disabled in Paradime since the sync
    r = _apply(world, wh, plan)
    assert r.returncode == 1, r.stdout + r.stderr
    out = " ".join(r.stdout.split())
    assert (f"benchling: {bl_total - m} active accounts for the --max-fraction guard: {bl_total} from the warehouse "
            f"(sync {world.rows('select run_id from sync_run', wh)[0][0]}") in out
    assert f"corrected by the live state of the {d + m} account(s) the live check read (the live check reads the plan's users by id" in out
    assert f"{d} deactivations are {d / (bl_total - m):.0%} of benchling's {bl_total - m} active accounts (counted as above)" in out
    assert f"1 deactivations are {1 / (pd_total - 3):.0%} of paradime's {pd_total - 3} active accounts (counted live)" in out
    assert "paradime: " + str(pd_total - 3) + " active accounts for" not in out  # all of it live: no fallback line
    got = {o[0]: o[3] for o in _outcomes(world, wh)}
    assert [got[u["id"]] for u in bl_users] == ["refused"] * d + ["already_applied"] * m and got[pd_plain[0]["uid"]] == "refused"
    assert world.bl.stats()["by_path"].get("POST /api/v2/users:bulk-update") is None
    assert world.pd.stats()["by_operation"].get("disableUser") is None

    # the other way: 2 disables are over 10 % of the warehouse's count, not of the workspace as it is now
    wh = world.reset(tmp_path / "wh2")
    pd_plain = plain()
    assert 2 / pd_total > 0.10
    plan = _plan(world, wh, tmp_path, "--from", str(_csv(tmp_path / "b.csv", [
        ("paradime", world.ws_name, u["uid"], "disable", "", "contract ended") for u in pd_plain[:2]])))
    added = 20 - pd_total
    for i in range(added):  # joined the workspace since the sync
        world.pd.workspaces[0].active_users.append({
            "uid": hashlib.sha256(f"new-{i}".encode()).hexdigest(), "email": f"new{i}@lab.example",
            "name": f"New {i}", "accountType": "DEVELOPER"})
    r = _apply(world, wh, plan)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [u.get("_disabled") for u in pd_plain[:2]] == [True, True]
    assert world.pd.stats()["by_operation"]["disableUser"] == 2


def test_key_owner_guard_says_where_the_api_cannot_tell(world: World, tmp_path: Path) -> None:
    """Only a Bencher API token (JWT) names its user: for Benchling, Paradime and a Bencher user API key the dry
    run says the write key's own account is not guarded; `--help` and the README's guard list say the same."""
    wh = world.reset(tmp_path / "wh")
    plan = _plan(world, wh, tmp_path, "--offboard", ADA)
    r = world.run("remediate", "apply", str(plan), warehouse=wh)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [" ".join(line.split()) for line in r.stdout.splitlines() if "write key's own account is not guarded" in line]
    assert lines == [
        "bencher: the write key's own account is not guarded: a Bencher user API key (bencher_user_...) does not say "
        "whose it is (an API token, a JWT, names its user) (--operator's accounts are)",
        "benchling: the write key's own account is not guarded: Benchling's API does not say whose API key it is (its "
        "OpenAPI spec has no 'who am I' endpoint) (--operator's accounts are)",
        "paradime: the write key's own account is not guarded: Paradime's API keys belong to a workspace, not to a "
        "user, and no query names who holds one (--operator's accounts are)"], r.stdout
    help_ = world.run("remediate", "apply", "--help", env={"COLUMNS": "200", "NO_COLOR": "1"})
    text = " ".join(help_.stdout.replace("│", " ").split())
    assert "Only a Bencher API token (a JWT) says whose it is; Benchling API keys, Paradime keys (a workspace's, not a " \
           "user's) and Bencher user API keys do not, so there this guard cannot apply" in text, text
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    assert ("**Not guarded where the API cannot tell** (the apply prints it): Benchling (its OpenAPI spec has no "
            "endpoint naming the owner of an API key), Paradime (keys belong to a workspace, not a user; no query "
            "names a key's holder), a Bencher user API key (`bencher_user_…`)") in readme
