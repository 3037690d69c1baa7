"""Fault injection (`--faults`, `BenchlingSimulator(faults=...)`): each kind on the wire, stats, determinism."""
import json
import os
import subprocess

import pytest
import requests

from pipelines.benchling.simulator import BenchlingSimulator, Tenant, generate_tenant
from pipelines.simkit.faults import KINDS, OPTIONAL_KEYS, parse_faults

from .conftest import TRICKY, Client
from .test_tenant_cli import WHSYNC
from tests import forkserver

_SMALL = dict(users=23, apps=3, teams=4, projects=5, folders=30)


@pytest.fixture(scope="module")
def small():
    return generate_tenant(seed=5, **_SMALL)


def _faulty(make_sim, spec, tenant=None, **kw):
    return make_sim(tenant if tenant is not None else generate_tenant(seed=5, **_SMALL), faults=spec, **kw)


def _faults(sim):
    return requests.get(sim.root_url + "/_simulator/stats", timeout=5).json()["faults"]


# ---- transient kinds -------------------------------------------------------------------------------
def test_429(make_sim):
    sim = _faulty(make_sim, "429:1")
    r = Client(sim).get("/users")
    assert r.status_code == 429
    assert r.json() == {"error": {"message": "Rate limit exceeded.", "type": "invalid_request_error",
                                  "userMessage": "Rate limit exceeded."}}
    assert r.headers["x-rate-limit-remaining"] == "0" and int(r.headers["x-rate-limit-reset"]) >= 1
    assert int(r.headers["x-rate-limit-limit"]) > 0
    assert _faults(sim) == {"429": 1}
    assert sim.stats()["by_status"] == {"429": 1}


def test_429_with_real_limiter_headers(make_sim):
    sim = _faulty(make_sim, "429:1", rate_limit="5/30")
    r = Client(sim).get("/users")
    assert r.status_code == 429 and r.headers["x-rate-limit-limit"] == "5"
    assert r.headers["x-rate-limit-remaining"] == "0" and 1 <= int(r.headers["x-rate-limit-reset"]) <= 30


def test_500_json_envelope(make_sim):
    sim = _faulty(make_sim, "500:1")
    r = Client(sim).get("/teams")
    assert r.status_code == 500
    err = r.json()["error"]
    assert err["type"] and err["message"] and err["userMessage"]
    assert _faults(sim) == {"500": 1}


@pytest.mark.parametrize("code", ["502", "503", "504"])
def test_gateway_errors_are_not_json(make_sim, code):
    sim = _faulty(make_sim, f"{code}:1")
    r = Client(sim).get("/projects")
    assert r.status_code == int(code)
    assert r.headers["Content-Type"].startswith("text/html") and code in r.text
    with pytest.raises(ValueError):
        r.json()
    assert _faults(sim) == {code: 1}


def test_reset(make_sim):
    sim = _faulty(make_sim, "reset:1")
    with pytest.raises(requests.ConnectionError):
        Client(sim).get("/users")
    assert _faults(sim) == {"reset": 1}
    # the server stays up and answers the next connection (stats are not subject to faults)
    assert sim.stats()["total"] == 1


def test_slow_times_out_then_arrives(make_sim):
    sim = _faulty(make_sim, "slow:1", slow_seconds=0.6)
    with pytest.raises(requests.Timeout):
        requests.get(sim.base_url + "/users", auth=(sim.api_key, ""), timeout=0.15)
    r = requests.get(sim.base_url + "/users", auth=(sim.api_key, ""), timeout=5)  # patient client
    assert r.status_code == 200 and r.json()["users"]
    assert _faults(sim) == {"slow": 2}


def test_truncate(make_sim):
    sim = _faulty(make_sim, "truncate:1")
    r = Client(sim).get("/users")
    assert r.status_code == 200
    assert int(r.headers["Content-Length"]) == len(r.content) > 0
    assert r.content.startswith(b'{"users":[')
    with pytest.raises(ValueError):
        r.json()
    assert _faults(sim) == {"truncate": 1}


def test_nonjson(make_sim):
    sim = _faulty(make_sim, "nonjson:1")
    r = Client(sim).get("/folders")
    assert r.status_code == 200 and r.content.lstrip().startswith(b"<")
    with pytest.raises(ValueError):
        r.json()
    assert _faults(sim) == {"nonjson": 1}


def test_200_faults_only_on_200_answers(make_sim):
    sim = _faulty(make_sim, "truncate:0.5,nonjson:0.5")
    api = Client(sim)
    r = api.get("/teams/team_nope")
    assert r.status_code == 404 and r.json()["error"]["invalidId"] == "team_nope"
    assert requests.get(sim.base_url + "/users", timeout=5).status_code == 401
    assert _faults(sim) == {"truncate": 0, "nonjson": 0}


def test_writes_token_and_stats_are_never_faulted(make_sim):
    sim = _faulty(make_sim, "503:1", tenant=Tenant.load(TRICKY))
    api = Client(sim)
    r = api.post("/users", json={"name": "New Person", "handle": "newp", "email": "newp@example.com"})
    assert r.status_code == 201
    uid = r.json()["id"]
    assert api.patch(f"/users/{uid}", json={"isSuspended": True}).status_code == 200
    tok = requests.post(sim.base_url + "/token", data={"grant_type": "client_credentials"},
                        auth=("whsync-demo-client", sim.api_key), timeout=5)
    assert tok.status_code == 200 and tok.json()["access_token"]
    assert requests.get(sim.root_url + "/_simulator/stats", timeout=5).status_code == 200
    assert api.get(f"/users/{uid}").status_code == 503
    assert _faults(sim) == {"503": 1}


def test_retry_can_succeed_and_rates_are_plausible(make_sim):
    sim = _faulty(make_sim, "503:0.3,reset:0.2", fault_seed=11)
    api = Client(sim)
    outcomes = []
    for _ in range(200):
        try:
            outcomes.append(api.get("/teams", pageSize=1).status_code)
        except requests.ConnectionError:
            outcomes.append("reset")
    f = _faults(sim)
    assert f["503"] == outcomes.count(503) and f["reset"] == outcomes.count("reset")
    assert 35 <= f["503"] <= 85 and 20 <= f["reset"] <= 65
    assert outcomes.count(200) == 200 - f["503"] - f["reset"] > 0


def test_rate_zero_and_no_faults(make_sim, small):
    plain = make_sim(small)
    zero = make_sim(small, faults=",".join(f"{k}:0" for k in KINDS))
    for path, key in [("/users", "users"), ("/folders", "folders"), ("/teams", "teams")]:
        a = Client(plain).all(path, key, pageSize=7, archiveReason="ANY_ARCHIVED_OR_NOT_ARCHIVED")
        b = Client(zero).all(path, key, pageSize=7, archiveReason="ANY_ARCHIVED_OR_NOT_ARCHIVED")
        assert a == b
    assert "faults" not in plain.stats()
    assert _faults(zero) == {k: 0 for k in KINDS}


# ---- data-shape kinds ------------------------------------------------------------------------------
def _pages(api, path, key, page_size, **params):
    pages, token = [], ""
    while True:
        r = api.get(path, pageSize=page_size, nextToken=token, **params)
        assert r.status_code == 200, r.text
        pages.append(r.json()[key])
        token = r.json()["nextToken"]
        if token == "":
            return pages


def test_duplicate(make_sim, small):
    sim = _faulty(make_sim, "duplicate:1", tenant=small)
    api = Client(sim)
    pages = _pages(api, "/users", "users", 5)
    ids = [u["id"] for p in pages for u in p]
    assert all(len(p) <= 5 for p in pages)
    assert pages[0][0] == pages[0][1]                    # the first page repeats its own first item
    for prev, page in zip(pages, pages[1:]):
        assert page[0] == prev[-1]                       # later pages repeat the previous page's last item
    assert set(ids) == {u["id"] for u in small.users}    # nothing skipped
    assert len(ids) == len(small.users) + len(pages)
    assert _faults(sim) == {"duplicate": len(pages)}
    # a retry of a page sees the same page
    r1 = api.get("/users", pageSize=5, nextToken="")
    assert r1.json() == api.get("/users", pageSize=5, nextToken="").json()


def test_duplicate_memberships_and_page_size_one(make_sim):
    sim = _faulty(make_sim, "duplicate:1", tenant=Tenant.load(TRICKY))
    api = Client(sim)
    pages = _pages(api, "/teams/team_AllHnd01/memberships", "memberships", 100)
    flat = [m["user"]["id"] for p in pages for m in p]
    assert len(flat) > len(set(flat)) == 102
    one_by_one = [p[0]["id"] for p in _pages(api, "/teams", "teams", 1)]  # pageSize 1: never duplicated
    assert sorted(one_by_one) == sorted({t["id"] for t in api.all("/teams", "teams", pageSize=100)})
    assert len(one_by_one) == len(sim.tenant.teams)


def test_extra_field(make_sim, small):
    sim = _faulty(make_sim, "extra_field:1", tenant=small)
    api = Client(sim)
    users = api.get("/users", pageSize=10).json()["users"]
    assert len(users) == 10 and all(isinstance(u["futureField"], dict) for u in users)
    one = api.get(f"/projects/{small.projects[0]['id']}").json()
    assert "futureField" in one and one["id"] == small.projects[0]["id"]
    members = api.get(f"/teams/{small.teams[0]['id']}/memberships").json()["memberships"]
    assert members and all("futureField" in m for m in members)
    assert _faults(sim) == {"extra_field": 10 + 1 + len(members)}
    # the tenant itself is untouched
    assert all("futureField" not in u for u in small.users)


def test_missing_optional(make_sim):
    tenant = Tenant.load(TRICKY)
    sim = _faulty(make_sim, "missing_optional:1", tenant=tenant)
    api = Client(sim)
    folders = api.all("/folders", "folders", pageSize=100, archiveReason="ANY_ARCHIVED_OR_NOT_ARCHIVED")
    by_id = {f["id"]: f for f in tenant.folders}
    dropped = 0
    for f in folders:
        orig = by_id[f["id"]]
        gone = set(orig) - set(f) - {k for k in orig if k.startswith("_")}
        nulls = [k for k in OPTIONAL_KEYS if orig.get(k, 0) is None]
        assert len(gone) == (1 if nulls else 0), (f, orig)
        if gone:
            (k,) = gone
            assert k in nulls                              # only null-valued optional keys are dropped
            dropped += 1
        assert all(f[k] == orig[k] for k in f)             # nothing else changes
    assert dropped > 0 and _faults(sim) == {"missing_optional": dropped}
    assert all("archiveRecord" in f and "parentFolderId" in f for f in tenant.folders)


def test_shape_faults_are_stable_across_retries_and_simulators(make_sim, small):
    spec = "extra_field:0.3,missing_optional:0.4,duplicate:0.5"
    a = _faulty(make_sim, spec, tenant=small, fault_seed=3)
    b = _faulty(make_sim, spec, tenant=small, fault_seed=3)
    c = _faulty(make_sim, spec, tenant=small, fault_seed=4)
    pa = _pages(Client(a), "/users", "users", 4)
    assert pa == _pages(Client(a), "/users", "users", 4) == _pages(Client(b), "/users", "users", 4)
    assert pa != _pages(Client(c), "/users", "users", 4)
    flat = [u for p in pa for u in p]
    assert any("futureField" in u for u in flat) and any("futureField" not in u for u in flat)


# ---- determinism, stats ----------------------------------------------------------------------------
def _run(sim, n=60):
    api, out = Client(sim), []
    for i in range(n):
        path = ("/users", "/teams", "/projects")[i % 3]
        try:
            r = api.get(path, pageSize=2)
            try:
                out.append((r.status_code, json.dumps(r.json(), sort_keys=True)))
            except ValueError:
                out.append((r.status_code, r.content))
        except requests.ConnectionError:
            out.append("reset")
    return out


def test_same_seed_same_faults(make_sim, small):
    spec = "429:0.1,500:0.05,502:0.05,503:0.05,504:0.05,reset:0.1,truncate:0.1,nonjson:0.1,extra_field:0.2"
    a = _faulty(make_sim, spec, tenant=small, fault_seed=42)
    b = _faulty(make_sim, spec, tenant=small, fault_seed=42)
    c = _faulty(make_sim, spec, tenant=small, fault_seed=43)
    ra, rb, rc = _run(a), _run(b), _run(c)
    assert ra == rb and a.stats()["faults"] == b.stats()["faults"]
    assert ra != rc
    assert sum(v for k, v in a.stats()["faults"].items() if k != "extra_field") > 10


def test_stats_reset_clears_fault_counts(make_sim):
    sim = _faulty(make_sim, "503:1")
    Client(sim).get("/users")
    assert _faults(sim) == {"503": 1}
    r = requests.post(sim.root_url + "/_simulator/stats/reset", timeout=5)
    assert r.json()["faults"] == {"503": 0} and r.json()["total"] == 0


def test_request_hook_still_runs(make_sim):
    from pipelines.benchling.simulator.server import Response
    sim = _faulty(make_sim, "extra_field:1", request_hook=lambda req: Response(418, {"x": 1}))
    assert Client(sim).get("/users").status_code == 418


# ---- spec parsing --------------------------------------------------------------------------------
def test_parse_faults():
    assert parse_faults("429:0.1, 503:0.05,reset:0.85") == {"429": 0.1, "503": 0.05, "reset": 0.85}
    assert parse_faults("") == parse_faults(None) == parse_faults("off") == {}
    assert parse_faults({"duplicate": 1, "extra_field": "0.5"}) == {"duplicate": 1.0, "extra_field": 0.5}


@pytest.mark.parametrize("spec,needle", [
    ("418:0.1", "'418'"),
    ("429:1.5", "'1.5'"),
    ("429:-0.1", "'-0.1'"),
    ("429:abc", "'abc'"),
    ("429:nan", "'nan'"),
    ("429", "'429'"),
    ("429:0.1,,503:0.1", "''"),
    (":0.1", "':0.1'"),
    ("429:0.1,429:0.2", "twice"),
    ("503:0.6,500:0.6", "add up"),
])
def test_bad_spec_raises(spec, needle):
    with pytest.raises(ValueError) as e:
        BenchlingSimulator(Tenant(), faults=spec)
    assert needle in str(e.value)


def test_bad_spec_cli_exit_2():
    for spec, needle in [("boom:0.1", "'boom'"), ("503:2", "'2'"), ("503", "'503'")]:
        r = forkserver.run([WHSYNC, "simulate", "benchling", "--faults", spec], capture_output=True, text=True,
                           timeout=60)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and "--faults" in lines[0] and needle in lines[0], r.stderr


def test_help_mentions_every_kind():
    r = forkserver.run([WHSYNC, "simulate", "benchling", "--help"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0
    for needle in ["--faults", "--slow-seconds", *KINDS]:
        assert needle in r.stdout, needle


def test_cli_serves_faults():
    with forkserver.Popen([WHSYNC, "simulate", "benchling", "--users", "5", "--teams", "1", "--projects", "1",
                           "--folders", "2", "--rate-limit", "off", "--faults", "503:1", "--seed", "9"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        try:
            url = p.stdout.readline().strip()
            r = requests.get(url + "/users", auth=("whsync-demo-key", ""), timeout=5)
            assert r.status_code == 503
            stats = requests.get(url.rsplit("/api/v2", 1)[0] + "/_simulator/stats", timeout=5).json()
            assert stats["faults"] == {"503": 1}
        finally:
            p.terminate()
            assert p.wait(timeout=10) == 0
