"""`GET /users/{user_id}/activity`: the spec's shape, `lastSeen` from the fixture, 404, the 403 switch,
counted like every request; and the generator's lastSeen spread."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipelines.benchling.simulator import generate_tenant
from pipelines.benchling.simulator.tenant import parse_time

from .conftest import Client, validate

ACTIVITY = "GET /api/v2/users/{user_id}/activity"


def test_activity_serves_last_seen_and_404s_unknown_ids(make_sim):
    sim = make_sim(rate_limit="60/30")
    api = Client(sim)
    seen = next(u for u in sim.tenant.users if u.get("_lastSeen"))
    never = next(u for u in sim.tenant.users if not u.get("_lastSeen"))
    for u in (seen, never):
        r = api.get(f"/users/{u['id']}/activity")
        assert r.status_code == 200
        validate(r.json(), "/users/{user_id}/activity", "get", 200)
        assert r.json() == {"userId": u["id"], "lastSeen": u.get("_lastSeen")}
    assert never.get("_lastSeen") is None
    app = sim.tenant.apps[0]
    for oid in ("ent_doesNotExist", app["id"]):  # an app is not a user
        r = api.get(f"/users/{oid}/activity")
        assert r.status_code == 404
        validate(r.json(), "/users/{user_id}/activity", "get", 404, all_keys=False)
        assert r.json()["error"]["invalidId"] == oid
    stats = sim.stats()
    assert stats["by_path"][ACTIVITY] == 4
    assert stats["by_status"] == {"200": 2, "404": 2}
    assert r.headers["x-rate-limit-remaining"] == "56"  # spent from the tenant's limit like any request


def test_forbidden_key_gets_403_on_activity_only(make_sim):
    sim = make_sim(activity_forbidden=True)
    api = Client(sim)
    u = sim.tenant.users[0]
    r = api.get(f"/users/{u['id']}/activity")
    assert r.status_code == 403
    assert set(r.json()["error"]) >= {"type", "message", "userMessage"}
    assert api.get(f"/users/{u['id']}").status_code == 200
    assert api.get("/users", pageSize=5).status_code == 200
    assert sim.stats()["by_path"][ACTIVITY] == 1


def test_generated_last_seen_is_plausible():
    present = datetime(2026, 6, 1, tzinfo=timezone.utc)
    t = generate_tenant(seed=5, users=600, apps=1, teams=2, projects=1, folders=1, present=present)
    never = [u for u in t.users if u["_lastSeen"] is None]
    assert 0.1 * len(t.users) < len(never) < 0.3 * len(t.users)
    recent = 0
    for u in t.users:
        if u["_lastSeen"] is None:
            continue
        seen = parse_time(u["_lastSeen"])
        assert parse_time(u["_createdAt"]) <= seen <= present
        if u["isSuspended"]:  # nobody logs in after a suspension
            assert seen <= parse_time(u["_modifiedAt"])
        recent += seen > present - timedelta(days=90)
    assert recent > 0.5 * len(t.users)
    assert any(parse_time(u["_lastSeen"]) < present - timedelta(days=90) for u in t.users if u["_lastSeen"])
    # deterministic for the seed, sizes and present; the other objects do not depend on present
    again = generate_tenant(seed=5, users=600, apps=1, teams=2, projects=1, folders=1, present=present)
    assert again.to_dict() == t.to_dict()
    other = generate_tenant(seed=5, users=600, apps=1, teams=2, projects=1, folders=1)
    assert [{k: v for k, v in u.items() if k != "_lastSeen"} for u in other.users] == \
        [{k: v for k, v in u.items() if k != "_lastSeen"} for u in t.users]
