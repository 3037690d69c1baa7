"""`make bench` scenario 9 times an apply from the simulator's side: each phase runs from its first request's
arrival to its last answer written (bench/remediate.py `phases`). The simulator answers `latency` after arrival
(`Response.not_before`), its own work within it, and stamps `Response.sent_at` when the answer is written."""
from __future__ import annotations

import time

import requests

from bench.remediate import phases
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.benchling.simulator.api import ROUTER


def test_phases_span_first_arrival_to_last_answer_per_phase() -> None:
    times = [  # arrival, kind, the simulator's work, answer written
        (10.000, "check", 0.001, 10.050), (10.004, "check", 0.002, 10.055),
        (10.300, "bulk", 0.006, 10.351), (10.302, "bulk", 0.001, 10.352),
        (10.353, "poll", 0.000, 10.404), (10.355, "poll", 0.000, 10.406),
        (10.500, "other", 0.003, 10.551),
    ]
    ph = phases(times)
    assert round(ph["check"], 6) == 0.055 and round(ph["write"], 6) == 0.106  # the gap between phases is not counted
    assert ph["server_s"] == {"check": 0.002, "bulk": 0.006, "poll": 0.0}


def test_the_simulator_answers_latency_after_arrival_with_its_work_inside() -> None:
    tenant = generate_tenant(seed=1, users=300, apps=1, teams=1, projects=1, folders=1)
    seen = []
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off", latency_ms=200) as sim:
        def hook(req):
            arrival = time.monotonic()
            resp = sim._dispatch(req, ROUTER.match(req))
            time.sleep(0.15)  # the simulator's work (150 ms here) happens within the 200 ms, not on top of them
            seen.append((arrival, resp))
            return resp
        sim.request_hook = hook
        with requests.Session() as s:
            t0 = time.monotonic()
            r = s.get(f"{sim.base_url}/users?pageSize=100", auth=(DEMO_API_KEY, ""), timeout=10)
            took = time.monotonic() - t0
    assert r.status_code == 200 and len(r.json()["users"]) == 100
    (arrival, resp), = seen
    # answered 200 ms after arrival; a latency added on top of the work would answer at 350 ms or later
    assert 0.2 <= resp.sent_at - arrival < 0.33 and 0.2 <= took < 0.33, (resp.sent_at - arrival, took)
