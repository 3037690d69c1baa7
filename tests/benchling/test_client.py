"""The Benchling client against the simulator: pacing to the learned limit, retries, paging
contract, and errors that name the cause without the key."""
from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pipelines.benchling.client import (
    ApiKeyAuth,
    BenchlingAuthError,
    BenchlingClient,
    BenchlingResponseError,
    ClientCredentialsAuth,
)
from pipelines.benchling.simulator import DEMO_API_KEY, DEMO_CLIENT_ID, BenchlingSimulator, Response, generate_tenant


@pytest.fixture(scope="module")
def tenant():
    return generate_tenant(seed=5, users=300, apps=3, teams=12, projects=40, folders=1500)


def scan_all(client: BenchlingClient, workers: int = 6) -> int:
    """Every list endpoint, concurrently, as the source does: returns rows read."""
    def scan(path, key, params=None):
        return sum(len(p) for p in client.paginate(path, key, params))

    with ThreadPoolExecutor(workers) as ex:
        futs = [ex.submit(scan, "/users", "users"), ex.submit(scan, "/apps", "apps"),
                ex.submit(scan, "/folders", "folders", {"archiveReason": "ANY_ARCHIVED_OR_NOT_ARCHIVED"}),
                ex.submit(scan, "/projects", "projects", {"archiveReason": "ANY_ARCHIVED_OR_NOT_ARCHIVED"})]
        teams = [t["id"] for p in client.paginate("/teams", "teams") for t in p]
        futs += [ex.submit(scan, f"/teams/{t}/memberships", "memberships") for t in teams]
        return sum(f.result() for f in futs) + len(teams)


def test_paces_to_the_learned_limit_without_429(tenant):
    # 25 per 2 s is not Benchling's default: the client must learn it from the headers.
    with BenchlingSimulator(tenant, rate_limit=(25, 2), latency_ms=20) as sim:
        client = BenchlingClient(sim.base_url, ApiKeyAuth(DEMO_API_KEY))
        t0 = time.monotonic()
        rows = scan_all(client)
        wall = time.monotonic() - t0
        stats = sim.stats()
    assert client.budget.limit == 25
    assert stats["by_status"].get("429", 0) == 0 and client.stats.rate_limited == 0
    assert rows > 0 and stats["total"] == client.stats.requests
    floor = (math.ceil(stats["total"] / 25) - 1) * 2
    assert floor > 0
    # paced, not bounced: close to the floor the limit allows (slack for the 2-core CI machine)
    assert wall <= floor * 1.3 + 2, (wall, floor)
    assert client.stats.paced_waits > 0


def test_shares_the_tenant_with_another_client(tenant):
    """Another client spending the same budget: whsync sees it in the headers, absorbs any 429, loses nothing."""
    with BenchlingSimulator(tenant, rate_limit=(30, 2), latency_ms=10) as sim:
        stop = threading.Event()

        def noisy():
            while not stop.is_set():
                requests.get(f"{sim.base_url}/users", params={"pageSize": 1}, auth=(DEMO_API_KEY, ""))
                time.sleep(0.2)

        th = threading.Thread(target=noisy, daemon=True)
        th.start()
        try:
            client = BenchlingClient(sim.base_url, ApiKeyAuth(DEMO_API_KEY))
            rows = scan_all(client)
        finally:
            stop.set()
            th.join()
        total = sim.stats()["total"]
    assert total > client.stats.requests  # the other client really spent part of the budget
    assert rows == scan_all_unthrottled(tenant)


def scan_all_unthrottled(tenant) -> int:
    with BenchlingSimulator(tenant, rate_limit="off") as sim:
        return scan_all(BenchlingClient(sim.base_url, ApiKeyAuth(DEMO_API_KEY)))


def test_retries_5xx_then_succeeds(tenant):
    failures = {"n": 0}

    def hook(req):
        if req.path.endswith("/users") and failures["n"] < 2:
            failures["n"] += 1
            return Response(503, b"<html>busy</html>", {"content-type": "text/html"})
        return None

    with BenchlingSimulator(tenant, rate_limit="off", request_hook=hook) as sim:
        client = BenchlingClient(sim.base_url, ApiKeyAuth(DEMO_API_KEY))
        client_rows = sum(len(p) for p in client.paginate("/users", "users"))
    assert client_rows == len(tenant.users)
    assert client.stats.retries == 2


def test_gives_up_after_bounded_tries(tenant):
    hook = lambda req: Response(502, b"bad gateway")  # noqa: E731
    with BenchlingSimulator(tenant, rate_limit="off", request_hook=hook) as sim:
        client = BenchlingClient(sim.base_url, ApiKeyAuth(DEMO_API_KEY), max_tries=3)
        with pytest.raises(BenchlingResponseError, match=r"kept answering GET /users with HTTP 502 \(gave up after 3 tries"):
            list(client.paginate("/users", "users"))
    assert client.stats.requests == 3


def test_missing_next_token_is_an_error_not_the_end(tenant):
    hook = lambda req: Response(200, {"users": []}) if req.path.endswith("/users") else None  # noqa: E731
    with BenchlingSimulator(tenant, rate_limit="off", request_hook=hook) as sim:
        client = BenchlingClient(sim.base_url, ApiKeyAuth(DEMO_API_KEY))
        with pytest.raises(BenchlingResponseError, match="without `nextToken`"):
            list(client.paginate("/users", "users"))


def test_wrong_key_names_the_tenant_not_the_key(tenant):
    with BenchlingSimulator(tenant, rate_limit="off") as sim:
        client = BenchlingClient(sim.base_url, ApiKeyAuth("sk-wrong-secret"))
        with pytest.raises(BenchlingAuthError) as e:
            client.get("/users")
    assert "refused by 127.0.0.1" in str(e.value) and "sk-wrong-secret" not in str(e.value)


def test_oauth_client_credentials(tenant):
    with BenchlingSimulator(tenant, rate_limit="off") as sim:
        client = BenchlingClient(sim.base_url, ClientCredentialsAuth(DEMO_CLIENT_ID, DEMO_API_KEY))
        assert sum(len(p) for p in client.paginate("/users", "users")) == len(tenant.users)
        assert sim.stats()["by_path"].get("POST /api/v2/token") == 1


def test_plain_http_to_remote_host_refused():
    with pytest.raises(ValueError, match="plain http"):
        BenchlingClient("http://acme.benchling.com", ApiKeyAuth("k"))


def test_low_priority_requests_leave_the_listings_what_they_can_still_use():
    from pipelines.benchling.client import RateBudget

    b = RateBudget()
    now = time.monotonic()
    b.limit, b._window_end, b._min_remaining, b._rtt = 10, now + 10, 10, 1.0
    streams = [1]
    b.reserve = lambda: streams[0]
    # one listing stream can send ~11 requests in the 10 s left at 1 s a round trip: all 10 are kept for it
    assert b._may_send(now) == 0 and b._may_send(now, low=True) > 0
    b._rtt = 5.0  # a slow stream can use only 3 of them: the other 7 are free for low priority
    assert b._may_send(now, low=True) == 0
    b._min_remaining = 3
    assert b._may_send(now, low=True) > 0 and b._may_send(now) == 0
    streams[0] = 0  # the listings are done: everything is free
    assert b._may_send(now, low=True) == 0


def test_activity_requests_wait_for_rate_bound_listings(tmp_path):
    """At a rate-bound limit (no latency), not one activity request goes while a listing is running."""
    from pipelines.benchling.activity import ActivityPolicy
    from pipelines.progress import Progress
    from pipelines.benchling.spec import benchling_plan, BenchlingConfig
    from pipelines.targets import resolve_target
    from pipelines.sync import sync

    order: list[str] = []
    t = generate_tenant(seed=2, users=40, apps=1, teams=4, projects=3, folders=250)
    with BenchlingSimulator(t, rate_limit="30/2", request_hook=lambda req: order.append(req.path)) as sim:
        sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY, activity=ActivityPolicy.parse("all", None)))],
             target=resolve_target(duckdb=tmp_path / "w.duckdb"), progress=Progress(quiet=True), build=False)
        assert sim.stats()["rate_limited"] == 0
    kinds = ["activity" if p.endswith("/activity") else "listing" for p in order]
    assert kinds.count("activity") == 40 and kinds.count("listing") >= 8
    assert kinds.index("activity") > max(i for i, k in enumerate(kinds) if k == "listing")


def test_responses_without_rate_headers_after_the_window_stop_the_pacing():
    """Limit headers only on a (fault-injected) 429: once its window is over and answers carry none, the
    budget must not keep counting against a limit nobody announces any more (it used to stall forever)."""
    from pipelines.benchling.client import RateBudget

    b = RateBudget()
    seq = b.acquire()
    b.release(seq, {"x-rate-limit-limit": "3", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "0"})
    t0 = time.monotonic()
    for _ in range(10):
        b.release(b.acquire(), {})
    assert b.unlimited and time.monotonic() - t0 < 1.0


def test_first_burst_sends_that_many_before_the_limit_is_known():
    """Before the first answer tells the limit, one request goes alone; `first_burst` lets that many go together
    (the remediation apply's live check), and the rest wait for the answer's headers like before."""
    from pipelines.benchling.client import RateBudget

    alone, burst = RateBudget(), RateBudget(first_burst=3)
    now = time.monotonic()
    alone.acquire()
    assert alone._may_send(now) > 0  # the second waits for the first answer
    seqs = [burst.acquire() for _ in range(3)]  # none of them waits
    assert burst._may_send(now) > 0 and burst.limit is None  # the fourth does
    burst.release(seqs[0], {"x-rate-limit-limit": "60", "x-rate-limit-remaining": "57", "x-rate-limit-reset": "30"})
    # the answer counts the two still in flight against the window: 57 - 2 may go now
    assert burst.limit == 60 and burst._may_send(time.monotonic()) == 0
    assert burst.snapshot()["budget_left"] == 55
