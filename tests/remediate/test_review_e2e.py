"""Act on a review: a campaign started, decided and closed with `whsync review` (issue 22), its revoke and
change_role decisions planned with `--review`, applied, and verified by the next sync."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from .world import ADA, OPERATOR, World

pytest.importorskip("pipelines.review", reason="review campaigns (issue 22) are not in this build")

OWNER = "owner.reviews@lab.example"


def test_closed_campaign_planned_applied_verified(world: World, tmp_path: Path) -> None:
    wh = world.reset(tmp_path / "wh")
    book = tmp_path / "review.csv"
    r = world.run("review", "start", "--name", "q4", "--owner", OWNER, "--out", str(book), "--duckdb", str(wh))
    assert r.returncode == 0, r.stdout + r.stderr
    with open(book, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    decided = {}
    for row in rows:
        if row["email"] != ADA:
            continue
        if row["system"] == "paradime":
            row.update(decision="change_role", new_role="ANALYST", justification="read-only is enough")
        else:
            row.update(decision="revoke", justification="left the project")
        decided[(row["system"], row["scope"], row["account_id"])] = row["decision"]
    assert len(decided) == 4
    with open(book, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    r = world.run("review", "import", str(book), "--reviewer", OWNER, "--duckdb", str(wh))
    assert r.returncode == 0, r.stdout + r.stderr
    plan = tmp_path / "plan.json"
    r = world.run("remediate", "plan", "--review", "q4", "--out", str(plan), warehouse=wh)
    assert r.returncode == 2 and "still open" in r.stderr  # an open campaign is not acted on
    r = world.run("review", "close", "q4", "--allow-undecided", "--duckdb", str(wh))
    assert r.returncode == 0, r.stdout + r.stderr
    r = world.run("remediate", "plan", "--review", "q4", "--out", str(plan), warehouse=wh)
    assert r.returncode == 0, r.stdout + r.stderr
    body = json.loads(plan.read_text())
    got = {(a["system"], a["action"], a["result"].get("role")) for a in body["actions"]}
    assert got == {("benchling", "suspend", None), ("paradime", "set_account_type", "ANALYST"),
                   ("bencher", "remove_member", None)} and len(body["actions"]) == 4
    assert {a["decision"]["campaign"] for a in body["actions"]} == {"q4"}
    assert {a["reason"] for a in body["actions"]} == {"left the project", "read-only is enough"}

    r = world.run("remediate", "apply", str(plan), "--apply", "--operator", OPERATOR, warehouse=wh)
    assert r.returncode == 0, r.stdout + r.stderr
    assert world.bl_user(ADA)["isSuspended"] is True
    assert world.pd_user(ADA)["accountType"] == "ANALYST" and not world.pd_user(ADA).get("_disabled")
    assert world.bc_members(ADA) == []
    rows = world.rows("select system, action, phase, outcome, before_state, after_state, operator, decision_id, decision "
                      "from remediation_action order by recorded_at, phase", wh)
    assert [r[:4] for r in rows] == [
        (s, act, phase, None if phase == "intent" else "applied")
        for s, act in (("bencher", "remove_member"), ("bencher", "remove_member"), ("benchling", "suspend"),
                       ("paradime", "set_account_type")) for phase in ("intent", "outcome")]
    outcome = {r[1]: r for r in rows if r[2] == "outcome"}
    assert (json.loads(outcome["set_account_type"][4]), json.loads(outcome["set_account_type"][5])) == (
        {"status": "active", "role": "DEVELOPER"}, {"status": "active", "role": "ANALYST"})
    assert (json.loads(outcome["suspend"][4]), json.loads(outcome["suspend"][5])) == ({"status": "active"}, {"status": "suspended"})
    assert {r[6] for r in rows} == {OPERATOR} and all(r[7] and json.loads(r[8])["decision_id"] == r[7] for r in rows)

    world.sync(wh)
    ver = world.rows("select system, action, verification from remediation_verification order by system, action", wh)
    assert ver == [("bencher", "remove_member", "verified"), ("bencher", "remove_member", "verified"),
                   ("benchling", "suspend", "verified"), ("paradime", "set_account_type", "verified")]
    # the campaign's decisions and the state of their remediation (the evidence pack's revocations)
    import duckdb

    from pipelines.remediate.evidence import remediation_states

    con = duckdb.connect(str(wh), read_only=True)
    try:
        ids = [r[0] for r in con.execute("select decision_id from review_decision_current where decision in "
                                         "('revoke', 'change_role')").fetchall()]
        states = remediation_states(con, ids)
    finally:
        con.close()
    assert len(ids) == 4 and {s for s, _ in states.values()} == {"verified"} and set(states) == set(ids)
    r = world.run("review", "evidence", "q4", "--out", str(tmp_path / "pack"), "--duckdb", str(wh))
    assert r.returncode == 0, r.stdout + r.stderr
    with open(tmp_path / "pack" / "revocations.csv", newline="", encoding="utf-8") as f:
        pack = list(csv.DictReader(f))
    assert sorted((p["system"], p["state"]) for p in pack) == [
        ("bencher", "verified"), ("bencher", "verified"), ("benchling", "verified"), ("paradime", "verified")]
