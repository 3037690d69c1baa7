"""Pagination edges, archiveReason, modifiedAt, ids, sort and the simple filters."""
import time
from datetime import datetime, timezone

import pytest

from pipelines.benchling.simulator import Tenant, generate_tenant

from .conftest import Client


def test_exact_multiple_of_page_size_has_no_trailing_empty_page(make_sim):
    t = generate_tenant(seed=3, users=20, apps=0, teams=0, projects=0, folders=0)
    api = Client(make_sim(t))
    r1 = api.get("/users", pageSize=10, nextToken="")
    assert len(r1.json()["users"]) == 10 and r1.json()["nextToken"]
    r2 = api.get("/users", pageSize=10, nextToken=r1.json()["nextToken"])
    assert len(r2.json()["users"]) == 10 and r2.json()["nextToken"] == ""
    r = api.get("/users", pageSize=20)
    assert len(r.json()["users"]) == 20 and r.json()["nextToken"] == ""
    assert {u["id"] for u in r1.json()["users"] + r2.json()["users"]} == {u["id"] for u in t.users}


def test_empty_tenant(make_sim):
    api = Client(make_sim(Tenant()))
    for path, key in [("/users", "users"), ("/apps", "apps"), ("/teams", "teams"), ("/organizations", "organizations"),
                      ("/projects", "projects"), ("/folders", "folders")]:
        r = api.get(path)
        assert r.status_code == 200 and r.json() == {key: [], "nextToken": ""}


def test_default_page_size_is_50(make_sim):
    api = Client(make_sim(generate_tenant(seed=1, users=120, apps=0, teams=0, projects=0, folders=0)))
    assert len(api.get("/users").json()["users"]) == 50
    assert len(api.get("/users", pageSize=100).json()["users"]) == 100


@pytest.mark.parametrize("value", ["101", "1000", "0", "-1", "abc", "1.5", "10x"])
def test_bad_page_size_is_400_naming_value(api, value):
    r = api.get("/users", pageSize=value)
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert value in r.json()["error"]["message"]


def test_tokens(api):
    first = api.get("/folders", pageSize=2)
    token = first.json()["nextToken"]
    assert token and api.get("/folders", pageSize=2, nextToken=token).status_code == 200
    assert api.get("/folders", pageSize=2, nextToken="").json() == first.json()
    for bad in ["garbage", "eyJvIjoyfQ", "!!!"]:
        r = api.get("/folders", pageSize=2, nextToken=bad)
        assert r.status_code == 400 and "nextToken" in r.json()["error"]["message"]
    # a token from another query is rejected
    assert api.get("/folders", pageSize=2, nextToken=token, archiveReason="ANY_ARCHIVED").status_code == 400
    assert api.get("/users", pageSize=2, nextToken=token).status_code == 400


def test_unknown_params_ignored(api):
    assert api.get("/users", foo="bar", pageSize=5).status_code == 200


def _reasons(items):
    return {(x["archiveRecord"] or {}).get("reason") for x in items}


@pytest.mark.parametrize("path", ["/projects", "/folders"])
def test_archive_reason_values(api, sim, path):
    key = path[1:]
    objs = getattr(sim.tenant, key)
    assert _reasons(objs) == {None, "Made in error", "Retired", "Other"}
    ids = lambda items: {x["id"] for x in items}  # noqa: E731
    assert ids(api.all(path, key)) == {o["id"] for o in objs if o["archiveRecord"] is None}
    assert ids(api.all(path, key, archiveReason="NOT_ARCHIVED")) == {o["id"] for o in objs if o["archiveRecord"] is None}
    assert ids(api.all(path, key, archiveReason="ANY_ARCHIVED")) == {o["id"] for o in objs if o["archiveRecord"]}
    assert ids(api.all(path, key, archiveReason="ANY_ARCHIVED_OR_NOT_ARCHIVED")) == {o["id"] for o in objs}
    for reason in ("Made in error", "Retired", "Other"):
        got = api.all(path, key, archiveReason=reason)
        assert got and ids(got) == {o["id"] for o in objs if (o["archiveRecord"] or {}).get("reason") == reason}
    assert api.all(path, key, archiveReason="Made in Error") == []  # case-sensitive


def _users_modified(sim, pred):
    from pipelines.benchling.simulator.tenant import parse_time
    return {u["id"] for u in sim.tenant.users if pred(parse_time(u["_modifiedAt"]))}


def test_modified_at_forms(api, sim):
    ids = lambda items: {x["id"] for x in items}  # noqa: E731
    d = lambda s: datetime.fromisoformat(s).replace(tzinfo=timezone.utc)  # noqa: E731
    cases = {
        "> 2024-04-02": lambda t: t > d("2024-04-02"),
        "< 2024-04-02": lambda t: t < d("2024-04-02"),
        "> 2024-04-02 AND < 2024-04-02T12:00:00Z": lambda t: d("2024-04-02") < t < d("2024-04-02T12:00:00"),
        "> 2024-04-02T05:00:00+02:00": lambda t: t > d("2024-04-02T03:00:00"),
        "> 2024-04-02T03:00:00": lambda t: t > d("2024-04-02T03:00:00"),
        "> 2024-04-02T03:00:00.000Z": lambda t: t > d("2024-04-02T03:00:00"),
    }
    for expr, pred in cases.items():
        want = _users_modified(sim, pred)
        assert want and want != {u["id"] for u in sim.tenant.users}, expr
        assert ids(api.all("/users", "users", modifiedAt=expr, pageSize=100)) == want, expr
    # '+' in the raw query string decodes to a space, as the docs' wire example shows
    r = api.s.get(sim.base_url + "/users?modifiedAt=%3E+2024-06-01T00%3A00%3A00Z&pageSize=100")
    assert r.json()["nextToken"] == ""
    assert ids(r.json()["users"]) == _users_modified(sim, lambda t: t > d("2024-06-01"))
    for bad in ["2024-01-01", "> not-a-date", ">> 2024-01-01", "> 2024-01-01 AND < 2024-02-01 AND < 2024-03-01",
                "= 2024-01-01"]:
        r = api.get("/users", modifiedAt=bad)
        assert r.status_code == 400, bad


@pytest.mark.parametrize("path,key,field", [("/apps", "apps", "modifiedAt"), ("/teams", "teams", "_modifiedAt"),
                                            ("/organizations", "organizations", "_modifiedAt")])
def test_modified_at_other_endpoints(api, sim, path, key, field):
    objs = getattr(sim.tenant, key)
    cut = sorted(o[field] for o in objs)[len(objs) // 2]
    got = {x["id"] for x in api.all(path, key, modifiedAt=f"> {cut}")}
    assert got == {o["id"] for o in objs if o[field] > cut}
    got = {x["id"] for x in api.all(path, key, modifiedAt=f"< {cut}")}
    assert got == {o["id"] for o in objs if o[field] < cut}


def test_modified_at_after_patch(api, sim):
    before = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    time.sleep(0.01)
    assert api.get("/users", modifiedAt=f"> {before}").json()["users"] == []
    uid = sim.tenant.users[5]["id"]
    assert api.patch(f"/users/{uid}", {"name": "Renamed Ünicode"}).status_code == 200
    got = api.get("/users", modifiedAt=f"> {before}").json()["users"]
    assert [u["id"] for u in got] == [uid] and got[0]["name"] == "Renamed Ünicode"


def test_ids_all_or_nothing(api, sim):
    a, b = sim.tenant.users[0]["id"], sim.tenant.users[1]["id"]
    assert {u["id"] for u in api.get("/users", ids=f"{a},{b}").json()["users"]} == {a, b}
    r = api.get("/users", ids=f"{a},ent_bad1,ent_bad2")
    assert r.status_code == 400
    assert "ent_bad1" in r.json()["error"]["message"] and "ent_bad2" in r.json()["error"]["message"]
    for path, kind in [("/teams", "teams"), ("/apps", "apps"), ("/projects", "projects"), ("/folders", "folders"),
                       ("/organizations", "organizations")]:
        oid = getattr(sim.tenant, kind)[0]["id"]
        params = {"archiveReason": "ANY_ARCHIVED_OR_NOT_ARCHIVED"} if kind in ("projects", "folders") else {}
        assert [x["id"] for x in api.get(path, ids=oid, **params).json()[kind]] == [oid]
        assert api.get(path, ids=f"{oid},nope_x").status_code == 400


def test_sort_orders(api, sim):
    users = sim.tenant.users
    by_mod = [u["id"] for u in sorted(users, key=lambda u: (u["_modifiedAt"], u["id"]))]
    assert [u["id"] for u in api.all("/users", "users")] == by_mod[::-1]  # default modifiedAt:desc
    assert [u["id"] for u in api.all("/users", "users", sort="modifiedAt:asc")] == by_mod
    assert [u["id"] for u in api.all("/users", "users", sort="modifiedAt")] == by_mod[::-1]
    by_created = [u["id"] for u in sorted(users, key=lambda u: (u["_createdAt"], u["id"]))]
    assert [u["id"] for u in api.all("/users", "users", sort="createdAt:asc")] == by_created
    assert [u["id"] for u in api.all("/users", "users", sort="createdAt:desc")] == by_created[::-1]
    names = [u["name"].casefold() for u in api.all("/users", "users", sort="name")]
    assert names == sorted(names)
    names = [u["name"].casefold() for u in api.all("/users", "users", sort="name:desc")]
    assert names == sorted(names, reverse=True)
    folders = [f["name"].casefold() for f in api.all("/folders", "folders")]  # default: name
    assert folders == sorted(folders)
    apps = [a["modifiedAt"] for a in api.all("/apps", "apps")]  # default modifiedAt: most recent first
    assert apps == sorted(apps, reverse=True)
    r = api.get("/users", sort="height")
    assert r.status_code == 400 and "height" in r.json()["error"]["message"]


def test_simple_filters(api, sim):
    t = sim.tenant
    u = t.users[3]
    assert [x["id"] for x in api.get("/users", name=u["name"]).json()["users"]] == [u["id"]]
    assert {x["id"] for x in api.get("/users", **{"names.anyOf": f"{u['name'].upper()},zz"}).json()["users"]} == {u["id"]}
    assert api.get("/users", **{"names.anyOf.caseSensitive": u["name"].upper()}).json()["users"] == [] or u["name"] == u["name"].upper()
    assert [x["id"] for x in api.get("/users", handles=u["handle"]).json()["users"]] == [u["id"]]
    assert [x["id"] for x in api.get("/users", **{"email.anyOf": u["email"]}).json()["users"]] == [u["id"]]
    team = "team_5cjIguqc"
    members = {m["user"]["id"] for m in t.memberships if m["teamId"] == team and m["user"]["id"].startswith("ent_")}
    assert {x["id"] for x in api.all("/users", "users", memberOf=team)} == members
    admins = api.get(f"/teams/{team}/memberships", role="ADMIN").json()["memberships"]
    assert [m["user"]["id"] for m in admins] == [m["user"]["id"] for m in t.memberships
                                                 if m["teamId"] == team and m["role"] == "ADMIN"]
    roots = api.all("/folders", "folders", parentFolderId="NO_PARENT", archiveReason="ANY_ARCHIVED_OR_NOT_ARCHIVED")
    assert {f["id"] for f in roots} == {f["id"] for f in t.folders if f["parentFolderId"] is None}
    kids = api.all("/folders", "folders", parentFolderId="lib_hBHqKbzE")
    assert {f["id"] for f in kids} == {f["id"] for f in t.folders
                                       if f["parentFolderId"] == "lib_hBHqKbzE" and f["archiveRecord"] is None}
    proj = api.all("/folders", "folders", projectId="src_Zq81BvXp")
    assert {f["projectId"] for f in proj} == {"src_Zq81BvXp"} and len(proj) == 3
    assert [p["id"] for p in api.get("/projects", name="CRISPR Screen").json()["projects"]] == ["src_NetYd96a"]
    assert {x["id"] for x in api.get("/teams", organizationId="ent_Org1Toky").json()["teams"]} == {"team_Kz8Yq2Pd", "team_Empty001"}


def test_big_team_membership_pages(api, sim):
    got = api.all("/teams/team_AllHnd01/memberships", "memberships", pageSize=100)
    assert len(got) == 102 and len({m["user"]["id"] for m in got}) == 102
    assert any(m["user"]["id"].startswith("app_") for m in got)
    assert api.get("/teams/team_Empty001/memberships").json() == {"memberships": [], "nextToken": ""}
