"""Auth (Basic key, Bearer token), 401/404, the rate limiter, latency and the stats endpoint."""
import threading
import time

import requests

from .conftest import Client


def test_401_cases(sim):
    url = sim.base_url + "/users"
    for kw in [{}, {"auth": ("wrong-key", "")}, {"auth": (sim.api_key, "not-empty")},
               {"headers": {"Authorization": "Bearer junk"}}, {"headers": {"Authorization": "Basic !!!"}}]:
        r = requests.get(url, timeout=5, **kw)
        assert r.status_code == 401, kw
        err = r.json()["error"]
        assert err["type"] == "invalid_request_error" and err["message"] and err["userMessage"]
    assert requests.get(url, auth=(sim.api_key, ""), timeout=5).status_code == 200


def test_bearer_token(sim):
    tok = requests.post(sim.base_url + "/token", data={"grant_type": "client_credentials"},
                        auth=("whsync-demo-client", sim.api_key), timeout=5).json()["access_token"]
    r = requests.get(sim.base_url + "/teams", headers={"Authorization": f"Bearer {tok}"}, timeout=5)
    assert r.status_code == 200 and r.json()["teams"]


def test_custom_key(make_sim):
    sim = make_sim(api_key="other-key")
    assert Client(sim, "other-key").get("/users").status_code == 200
    assert Client(sim).get("/users").status_code == 401


def test_unknown_endpoint_and_method(api):
    assert api.get("/entries").status_code == 404
    assert api.delete("/users").status_code == 405


def test_429_headers_and_reset_counts_down(make_sim):
    sim = make_sim(rate_limit=(3, 2.0))
    api = Client(sim)
    seen = []
    for _ in range(3):
        r = api.get("/users", pageSize=1)
        assert r.status_code == 200
        seen.append(int(r.headers["x-rate-limit-remaining"]))
        assert r.headers["x-rate-limit-limit"] == "3"
    assert seen == [2, 1, 0]
    r = api.get("/users")
    assert r.status_code == 429
    assert r.headers["x-rate-limit-remaining"] == "0"
    reset1 = int(r.headers["x-rate-limit-reset"])
    assert 1 <= reset1 <= 2
    time.sleep(1.05)
    r2 = requests.get(sim.base_url + "/users", timeout=5)  # errors carry the headers too (here a 429)
    assert r2.status_code == 429 and int(r2.headers["x-rate-limit-reset"]) < reset1
    time.sleep(1.0)
    r3 = requests.get(sim.base_url + "/users", timeout=5)  # new window: a 401 with fresh headers
    assert r3.status_code == 401 and r3.headers["x-rate-limit-remaining"] == "2"
    st = sim.stats()
    assert st["rate_limited"] == 2 and st["by_status"]["429"] == 2


def test_default_rate_limit_is_60_per_30(make_sim):
    sim = make_sim(rate_limit="60/30")
    r = Client(sim).get("/users")
    assert r.headers["x-rate-limit-limit"] == "60" and r.headers["x-rate-limit-remaining"] == "59"
    assert 29 <= int(r.headers["x-rate-limit-reset"]) <= 30


def test_latency_overlaps(make_sim):
    sim = make_sim(latency_ms=300)
    results = []

    def one():
        results.append(Client(sim).get("/users", pageSize=1).status_code)
    threads = [threading.Thread(target=one) for _ in range(6)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    assert results == [200] * 6
    assert 0.3 <= elapsed < 1.2


def test_stats_and_reset(sim):
    api = Client(sim)
    api.get("/users")
    api.get("/teams/team_5cjIguqc/memberships")
    api.get("/teams/team_Kz8Yq2Pd/memberships")
    api.get("/users/ent_nope")
    requests.get(sim.base_url + "/users", timeout=5)
    r = requests.get(sim.root_url + "/_simulator/stats", timeout=5)  # no auth needed
    assert r.status_code == 200
    st = r.json()
    assert st == sim.stats()
    assert st["total"] == 5 and st["rate_limited"] == 0
    assert st["by_status"] == {"200": 3, "404": 1, "401": 1}
    assert st["by_path"]["GET /api/v2/teams/{team_id}/memberships"] == 2
    assert st["by_path"]["GET /api/v2/users"] == 2
    assert st["by_path"]["GET /api/v2/users/{user_id}"] == 1
    assert requests.post(sim.root_url + "/_simulator/stats/reset", timeout=5).status_code == 200
    assert requests.get(sim.root_url + "/_simulator/stats", timeout=5).json() == {
        "total": 0, "by_status": {}, "by_path": {}, "rate_limited": 0}
    api.get("/users")
    sim.reset_stats()
    assert sim.stats()["total"] == 0


def test_request_hook_can_replace_response(make_sim):
    from pipelines.benchling.simulator import Response
    calls = []

    def hook(req):
        calls.append(req.route)
        if req.route == "/api/v2/users":
            return Response(503, b"upstream down", {"Content-Type": "text/plain"})
        return None
    sim = make_sim(request_hook=hook, rate_limit="60/30")
    r = Client(sim).get("/users")
    assert r.status_code == 503 and r.text == "upstream down" and r.headers["x-rate-limit-limit"] == "60"
    assert Client(sim).get("/teams").status_code == 200
    assert calls == ["/api/v2/users", "/api/v2/teams"]
    assert sim.stats()["by_status"] == {"503": 1, "200": 1}
