"""Every response the sync uses validates against the spec's schema, with every declared key present."""
import requests

from .conftest import Client, validate

LISTS = [("/users", "users"), ("/apps", "apps"), ("/teams", "teams"), ("/organizations", "organizations"),
         ("/projects", "projects"), ("/folders", "folders")]


def test_list_pages_validate(api):
    for path, key in LISTS:
        params = {"archiveReason": "ANY_ARCHIVED_OR_NOT_ARCHIVED"} if path in ("/projects", "/folders") else {}
        token, pages = "", 0
        while True:
            r = api.get(path, pageSize=7, nextToken=token, **params)
            assert r.status_code == 200
            assert r.headers["Content-Type"].startswith("application/json")
            validate(r.json(), path, "get", 200)
            assert set(r.json()) == {key, "nextToken"}
            token, pages = r.json()["nextToken"], pages + 1
            if not token:
                break
        assert pages >= 1


def test_memberships_and_get_by_id_validate(api, sim):
    t = sim.tenant
    for team in t.teams:
        r = api.get(f"/teams/{team['id']}/memberships", pageSize=100)
        validate(r.json(), "/teams/{team_id}/memberships", "get", 200)
        validate(api.get(f"/teams/{team['id']}").json(), "/teams/{team_id}", "get", 200)
    for path, kind in [("/users/{user_id}", "users"), ("/apps/{app_id}", "apps"), ("/projects/{project_id}", "projects"),
                       ("/folders/{folder_id}", "folders")]:
        for obj in getattr(t, kind)[:25]:
            r = api.get(path.split("{")[0] + obj["id"])
            assert r.status_code == 200
            body = r.json()
            validate(body, path, "get", 200)
            assert not any(k.startswith("_") for k in body)
    u = t.users[0]
    validate(api.get(f"/users/{u['id']}/activity").json(), "/users/{user_id}/activity", "get", 200)
    m = t.memberships[0]
    validate(api.get(f"/teams/{m['teamId']}/memberships/{m['user']['id']}").json(),
             "/teams/{team_id}/memberships/{user_id}", "get", 200)


def test_served_objects_equal_fixture_minus_private_keys(api, sim):
    users = {u["id"]: u for u in api.all("/users", "users", pageSize=100)}
    for u in sim.tenant.users:
        assert users[u["id"]] == {k: v for k, v in u.items() if not k.startswith("_")}


def test_error_responses_validate(sim):
    anon = requests.get(sim.base_url + "/users", timeout=5)
    assert anon.status_code == 401
    assert set(anon.json()["error"]) >= {"type", "message", "userMessage"}
    validate(anon.json(), "/users", "get", 400)  # 401 is undocumented: same envelope as BadRequest
    api = Client(sim)
    r = api.get("/users", pageSize="abc")
    assert r.status_code == 400
    validate(r.json(), "/users", "get", 400)
    r = api.get("/users/ent_nope")
    assert r.status_code == 404
    validate(r.json(), "/users/{user_id}", "get", 404)
    assert r.json()["error"]["invalidId"] == "ent_nope"
    for path in ["/teams/team_nope", "/teams/team_nope/memberships", "/projects/src_nope", "/folders/lib_nope",
                 "/apps/app_nope"]:
        r = api.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["invalidId"] == path.split("/")[2]


def test_429_validates(make_sim):
    sim = make_sim(rate_limit="1/30")
    api = Client(sim)
    assert api.get("/users").status_code == 200
    r = api.get("/users")
    assert r.status_code == 429
    assert r.json() == {"error": {"message": "Rate limit exceeded.", "type": "invalid_request_error",
                                  "userMessage": "Rate limit exceeded."}}
    validate(r.json(), "/users", "get", 400)  # BaseError envelope


def test_token_responses_validate(sim):
    url = sim.base_url + "/token"
    r = requests.post(url, data={"grant_type": "client_credentials"}, auth=("whsync-demo-client", sim.api_key), timeout=5)
    assert r.status_code == 200
    validate(r.json(), "/token", "post", 200)
    assert r.json()["token_type"] == "Bearer" and r.json()["expires_in"] == 900
    r = requests.post(url, data={"grant_type": "client_credentials", "client_id": "whsync-demo-client",
                                 "client_secret": sim.api_key}, timeout=5)
    assert r.status_code == 200
    r = requests.post(url, data={"grant_type": "client_credentials"}, auth=("whsync-demo-client", "wrong"), timeout=5)
    assert r.status_code == 401 and r.json()["error"]["type"] == "invalid_client"
    validate(r.json(), "/token", "post", 401)
    r = requests.post(url, data={"grant_type": "password"}, auth=("whsync-demo-client", sim.api_key), timeout=5)
    assert r.status_code == 400 and r.json()["error"]["type"] == "unsupported_grant_type"
    validate(r.json(), "/token", "post", 400)
    r = requests.post(url, data={}, auth=("whsync-demo-client", sim.api_key), timeout=5)
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request"


def test_apps_result_count_header(api, sim):
    r = api.get("/apps", pageSize=1)
    assert r.headers["Result-Count"] == str(len(sim.tenant.apps))
