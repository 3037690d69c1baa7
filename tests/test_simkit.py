"""The simulator kit (pipelines/simkit/, issue 19) as each simulator serves it over HTTP: one handler, each API's
own content type and error envelope, `/_simulator/stats`, the methods each API answers, and a simulator's own
exception answered with a 500 instead of a dropped connection."""
from __future__ import annotations

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
