"""The simulator kit (pipelines/simkit/, issue 19) as each simulator serves it over HTTP: one handler, each API's
own content type and error envelope, `/_simulator/stats`, the methods each API answers, and a simulator's own
exception answered with a 500 instead of a dropped connection."""
from __future__ import annotations

import pytest
import requests

from pipelines.bencher.simulator import DEMO_TOKEN, BencherSimulator, generate_fixture
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.paradime.simulator import DEMO_API_KEY as PD_KEY
from pipelines.paradime.simulator import DEMO_API_SECRET as PD_SECRET
from pipelines.paradime.simulator import ParadimeSimulator, generate_workspaces
from pipelines.simkit.http import SimHandler


def test_the_three_simulators_answer_through_the_kit():
    tenant = generate_tenant(seed=1, users=3, apps=1, teams=1, projects=1, folders=1)
    with BenchlingSimulator(tenant, rate_limit="off") as bl, \
            ParadimeSimulator(generate_workspaces(seed=1)) as pd, \
            BencherSimulator(generate_fixture(seed=1)) as bc:
        for sim in (bl, pd, bc):
            assert issubclass(sim._handler, SimHandler)
            # TCP_NODELAY on every accepted connection (the stdlib's StreamRequestHandler.setup applies it): with
            # Nagle on, each answer on a kept-alive connection waited ~40 ms for the client's delayed ACK
            assert sim._handler.disable_nagle_algorithm is True

        r = requests.get(f"{bl.base_url}/users", auth=(DEMO_API_KEY, ""), timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/json; charset=utf-8"
        assert r.headers["Server"].startswith("whsync-benchling-simulator")
        assert len(r.json()["users"]) == 3

        r = requests.post(pd.endpoint_for(pd.workspaces[0].name), json={"query": "{ listUsers { activeUsers { uid } } }"},
                          headers={"X-API-KEY": PD_KEY, "X-API-SECRET": PD_SECRET}, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
        assert r.json()["data"]["listUsers"]["activeUsers"]
        r = requests.get(pd.endpoint_for(pd.workspaces[0].name), timeout=10)
        assert (r.status_code, r.json()) == (405, {"message": "Method Not Allowed: use POST"})

        r = requests.get(f"{bc.base_url}/v0/organizations", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
        assert r.headers["access-control-expose-headers"] == "x-total-count" and r.headers["x-total-count"] == "3"
        r = requests.put(f"{bc.base_url}/v0/organizations", timeout=10)
        assert r.status_code == 501  # Bencher's simulator answers GET, POST, PATCH and DELETE only

        # /_simulator/stats: what each simulator counted
        assert requests.get(f"{bl.root_url}/_simulator/stats", timeout=10).json()["by_path"] == {"GET /api/v2/users": 1}
        assert requests.get(f"{pd.root_url}/_simulator/stats", timeout=10).json()["requests"] == 1  # the 405 is not
        assert requests.get(f"{bc.root_url}/_simulator/stats", timeout=10).json()["by_status"] is not None
        r = requests.post(f"{bl.root_url}/_simulator/stats", timeout=10)
        assert r.status_code == 405 and r.json()["error"]["message"] == "POST not allowed on /_simulator/stats"


def test_a_simulator_failing_answers_500_in_its_envelope():
    def boom(req):
        raise RuntimeError("hook failed")

    tenant = generate_tenant(seed=1, users=1, apps=0, teams=0, projects=0, folders=0)
    with BenchlingSimulator(tenant, rate_limit="off", request_hook=boom) as bl:
        r = requests.get(f"{bl.base_url}/users", auth=(DEMO_API_KEY, ""), timeout=10)
    assert r.status_code == 500
    assert r.json()["error"] == {"type": "server_error", "message": "RuntimeError('hook failed')",
                                 "userMessage": "Internal error"}


# ---- the kit's auth check (pipelines/simkit/auth.py) ------------------------------------------------------------

def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_auth_check_accepts_each_scheme_in_order_and_says_why_it_refuses():
    from pipelines.simkit.auth import AuthCheck, Basic, Denied, KeyHeaders, Refused, Token
    from pipelines.simkit.wire import Response

    def bearer(token, **ctx):
        if token == "expired":
            raise Refused(401, "expired")
        if token == "narrow" and ctx.get("scope") == "write":
            raise Refused(403, "forbidden", "users.write")
        return {"good": "reader", "narrow": "narrow"}.get(token)

    refusals = []

    def refuse(r):
        refusals.append(r)
        return Response(400 if r.reason in ("missing", "malformed") else r.status,
                        {"why": r.reason, "scheme": r.scheme, "detail": r.detail}, {"x-refused": "1"})

    auth = AuthCheck(Basic(lambda u, p, **_: "admin" if (u, p) == ("key", "") else None),
                     Token("Bearer", bearer),
                     KeyHeaders(("x-api-key", "x-api-secret"), lambda k, s, **_: "pair" if (k, s) == ("k", "s") else None),
                     refuse=refuse)
    assert auth.check({"authorization": _basic("key", "")}) == "admin"
    assert auth.check({"authorization": "Bearer good"}) == "reader"
    assert auth.check({"x-api-key": "k", "x-api-secret": "s"}) == "pair"
    # an unknown Bearer token falls through to the key headers (the scheme is not final)
    assert auth.check({"authorization": "Bearer nope", "x-api-key": "k", "x-api-secret": "s"}) == "pair"

    def denied(headers, **ctx):
        with pytest.raises(Denied) as ei:
            auth.check(headers, **ctx)
        return ei.value.response.status, ei.value.response.body["why"], ei.value.refusal.scheme

    assert denied({}) == (400, "missing", None)
    assert denied({"authorization": "Digest abc"}) == (400, "malformed", None)          # no scheme it accepts
    assert denied({"authorization": "Basic !!!notbase64"}) == (400, "malformed", "Basic")
    assert denied({"authorization": "Basic " + "a2V5"}) == (400, "malformed", "Basic")  # base64 of "key": no colon
    assert denied({"authorization": _basic("key", "pw")}) == (401, "invalid", "Basic")
    assert denied({"authorization": "bearer good"}) == (400, "malformed", None)         # keywords match exactly
    assert denied({"x-api-key": "k", "x-api-secret": "wrong"}) == (401, "invalid", "x-api-key")
    assert denied({"authorization": "Bearer expired"}) == (401, "expired", "Bearer")    # a lookup refusing at once
    assert denied({"authorization": "Bearer narrow"}, scope="write") == (403, "forbidden", "Bearer")
    assert refusals[-1].detail == "users.write"
    assert auth.check({"authorization": "Bearer narrow"}, scope="read") == "narrow"
    forbidden = auth.forbid("admins only")
    assert (forbidden.status, forbidden.body["detail"], forbidden.headers) == (403, "admins only", {"x-refused": "1"})

    # fold_case (Benchling): the keyword case-insensitively; final: a refused scheme is not followed by the next
    loose = AuthCheck(Token("Bearer", bearer, final=True), KeyHeaders(("x-api-key",), lambda k, **_: "key"),
                      refuse=refuse, fold_case=True)
    assert loose.check({"authorization": "bEARER good"}) == "reader"
    with pytest.raises(Denied) as ei:
        loose.check({"authorization": "Bearer nope", "x-api-key": "k"})
    assert ei.value.refusal.reason == "invalid"
    assert loose.check({"x-api-key": "k"}) == "key"


def test_the_four_simulators_authenticate_through_the_kit_with_their_own_refusals():
    from pipelines.okta.simulator import OktaSimulator
    from pipelines.simkit.auth import AuthCheck
    from tests.helpers import tricky_fixture

    tenant = generate_tenant(seed=1, users=2, apps=0, teams=0, projects=0, folders=0)
    with BenchlingSimulator(tenant, rate_limit="off", admin_api_key="admin-key") as bl, \
            ParadimeSimulator(generate_workspaces(seed=1)) as pd, \
            BencherSimulator(generate_fixture(seed=1)) as bc, \
            OktaSimulator(tricky_fixture("okta")) as ok:
        for sim in (bl, pd, bc, ok):
            assert isinstance(sim.auth, AuthCheck)

        # Benchling: 401 in its error envelope; a reader's write 403 (the admin key may write)
        r = requests.get(f"{bl.base_url}/users", auth=("wrong", ""), timeout=10)
        assert r.status_code == 401 and r.json()["error"]["type"] == "invalid_request_error"
        assert r.json()["error"]["message"].startswith("Authentication failed: send the API key as the HTTP Basic")
        assert requests.get(f"{bl.base_url}/users", headers={"Authorization": "Bearer nope"}, timeout=10).status_code == 401
        assert requests.get(f"{bl.base_url}/users", auth=(DEMO_API_KEY, ""), timeout=10).status_code == 200
        uid = tenant.users[0]["id"]
        r = requests.patch(f"{bl.base_url}/users/{uid}", json={"name": "X"}, auth=(DEMO_API_KEY, ""), timeout=10)
        assert r.status_code == 403 and r.json()["error"]["message"] == (
            "You do not have permission to manage users: user management needs a tenant admin's API key.")
        r = requests.patch(f"{bl.base_url}/users/{uid}", json={"name": "X"}, auth=("admin-key", ""), timeout=10)
        assert r.status_code == 200

        # Paradime: 401 with its message, counted as an auth failure; a wrong Bearer token is final
        url, query = pd.endpoint_for(pd.workspaces[0].name), {"query": "{ listUsers { ok } }"}
        r = requests.post(url, json=query, headers={"X-API-KEY": PD_KEY, "X-API-SECRET": "wrong"}, timeout=10)
        assert (r.status_code, r.json()) == (401, {"message": "Unauthorized: invalid API credentials"})
        r = requests.post(url, json=query, timeout=10,
                          headers={"Authorization": "Bearer nope", "X-API-KEY": PD_KEY, "X-API-SECRET": PD_SECRET})
        assert r.status_code == 401
        r = requests.post(url, json=query, headers={"X-API-KEY": PD_KEY, "X-API-SECRET": PD_SECRET}, timeout=10)
        assert r.status_code == 200 and r.json()["data"]["listUsers"]["ok"] is True
        assert pd.stats()["auth_failures"] == 2

        # Bencher: a missing or malformed header is 400, an unknown token 401, in {"request_id", "message"}
        orgs = f"{bc.base_url}/v0/organizations"
        answers = [requests.get(orgs, headers=h, timeout=10) for h in
                   ({}, {"Authorization": "Token x"}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {DEMO_TOKEN}"})]
        assert [(r.status_code, r.json().get("message") if r.status_code != 200 else None) for r in answers] == [
            (400, "Missing Authorization header"), (400, "Malformed Authorization header: expected 'Bearer <token>'"),
            (401, "Invalid user API key"), (200, None)]
        assert all(set(r.json()) == {"request_id", "message"} for r in answers[:3])
        assert all(r.headers["access-control-allow-origin"] == "*" for r in answers)

        # Okta: 401 E0000011 for an unknown token (with the bucket's rate headers), 200 for the API token
        r = requests.get(f"{ok.org_url}/api/v1/users", headers={"Authorization": "SSWS nope"}, timeout=10)
        assert r.status_code == 401 and r.json()["errorCode"] == "E0000011" and "X-Rate-Limit-Remaining" in r.headers
        r = requests.get(f"{ok.org_url}/api/v1/users", headers={"Authorization": f"SSWS {ok.api_token}"}, timeout=10)
        assert r.status_code == 200 and r.json()


# ---- the kit's rate limiter and fault injection in Paradime's and Bencher's simulators ---------------------------

def test_paradime_faults_and_rate_limit_come_from_the_kit_and_are_counted():
    from pipelines.simkit.faults import FaultInjector

    with ParadimeSimulator(generate_workspaces(seed=1), rate_limit="4/60") as pd:
        assert isinstance(pd.faults, FaultInjector)
        url = pd.endpoint_for(pd.workspaces[0].name)

        def post():
            return requests.post(url, json={"query": "{ listUsers { ok } }"}, timeout=10,
                                 headers={"X-API-KEY": PD_KEY, "X-API-SECRET": PD_SECRET})

        assert "faults" not in requests.get(f"{pd.root_url}/_simulator/stats", timeout=10).json()
        pd.faults.fail_next(1, 503)  # through the kit's own interface
        pd.fail_next(1, "reset")     # the simulator's hook is the kit's
        r = post()
        assert (r.status_code, r.json()) == (503, {"message": "Simulated HTTP 503"})
        with pytest.raises(requests.ConnectionError):
            post()
        assert post().status_code == 200
        assert post().status_code == 200
        r = post()  # the 5th request in the window: the kit's limiter refuses it
        assert r.status_code == 429 and r.json() == {"message": "Too Many Requests"} and int(r.headers["Retry-After"]) >= 1
        stats = requests.get(f"{pd.root_url}/_simulator/stats", timeout=10).json()
        assert stats["faults"] == {"503": 1, "reset": 1}
        assert stats["rate_limited"] == 1 and stats["requests"] == 5


def test_bencher_faults_from_a_spec_and_the_rate_limit_come_from_the_kit():
    with BencherSimulator(generate_fixture(seed=1), faults="500:1", rate_limit="2/60") as bc:
        orgs = f"{bc.base_url}/v0/organizations"
        auth = {"Authorization": f"Bearer {DEMO_TOKEN}"}
        r = requests.get(orgs, headers=auth, timeout=10)
        assert r.status_code == 500 and r.json()["message"] == "An internal error occurred. Please try again."
        assert set(r.json()) == {"request_id", "message"} and r.headers["access-control-allow-origin"] == "*"
        assert requests.get(orgs, headers=auth, timeout=10).status_code == 500
        r = requests.get(orgs, headers=auth, timeout=10)
        assert r.status_code == 429 and r.json()["message"] == "Too Many Requests" and "Retry-After" in r.headers
        stats = requests.get(f"{bc.root_url}/_simulator/stats", timeout=10).json()
        assert stats["faults"] == {"500": 2} and stats["rate_limited"] == 1 and stats["requests"] == 3
    with BencherSimulator(generate_fixture(seed=1), faults="truncate:1") as bc:
        r = requests.get(f"{bc.base_url}/v0/organizations", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=10)
        assert r.status_code == 200 and r.headers["x-total-count"] == "3"
        with pytest.raises(ValueError):
            r.json()
        assert bc.stats()["faults"] == {"truncate": 1}


def test_whsync_starts_without_importing_a_simulator_server():
    """Every simulator's `simulate` command is registered at start-up, but the servers (Paradime's pulls in
    graphql-core) are imported only when a simulator is used: `simkit.lazy` exports and imports inside the
    commands. The exports still resolve, to the same objects as the submodules'."""
    import subprocess
    import sys

    code = ("import sys; import pipelines.cli; "
            "print(sorted(m for m in sys.modules if m.endswith(('simulator.server', 'simulator.generate')) "
            "or m.split('.')[0] == 'graphql'))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "[]", p.stdout + p.stderr

    import pipelines.paradime.simulator as pd
    from pipelines.paradime.simulator.server import ParadimeSimulator as direct

    assert pd.ParadimeSimulator is direct and "ParadimeSimulator" in pd.__all__
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        pd.Nope  # noqa: B018
