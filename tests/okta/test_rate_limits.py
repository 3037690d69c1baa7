"""One RateBudget for two meanings of `X-Rate-Limit-Reset`: Benchling's seconds left and Okta's UTC epoch
second; against the Okta simulator: the epoch reset honoured (no 429 from our own pacing), per-endpoint
buckets, and a 429 caused by another client waited out until the bucket's reset."""
from __future__ import annotations

import math
import time
from email.utils import formatdate

import pytest
from requests.structures import CaseInsensitiveDict

from pipelines.okta.client import ApiTokenAuth, OktaClient
from pipelines.okta.simulator import OktaSimulator, generate_directory
from pipelines.ratelimit import RateBudget


def spent(budget: RateBudget, headers: dict[str, str]) -> float:
    """Learn `headers` from one answer, then time how long the next request is held back."""
    seq = budget.acquire()
    budget.release(seq, CaseInsensitiveDict(headers))  # as requests gives them
    t0 = time.monotonic()
    budget.release(budget.acquire(), None)
    return time.monotonic() - t0


def test_seconds_and_epoch_reset_modes_wait_the_same_window():
    held_s = spent(RateBudget(reset="seconds"), {"x-rate-limit-limit": "5", "x-rate-limit-remaining": "0",
                                                  "x-rate-limit-reset": "1"})
    now = time.time()
    epoch = math.ceil(now) + 1  # an Okta reset: the epoch second the window ends
    held_e = spent(RateBudget(reset="epoch"), {"X-Rate-Limit-Limit": "5", "X-Rate-Limit-Remaining": "0",
                                                "X-Rate-Limit-Reset": str(epoch)})
    assert 0.9 <= held_s <= 1.5
    assert epoch - now - 0.2 <= held_e <= epoch - now + 0.5
    # the same epoch header read as seconds left would be a wait of ~56 years: the mode matters
    assert RateBudget(reset="seconds").seconds_left({"x-rate-limit-reset": str(epoch)}) > 1e9
    with pytest.raises(ValueError, match="reset must be one of"):
        RateBudget(reset="minutes")


def test_epoch_reset_counts_from_the_servers_clock_when_ours_is_off():
    b = RateBudget(reset="epoch")
    server_now = time.time() + 3600  # our clock is an hour behind the server's
    headers = CaseInsensitiveDict({"X-Rate-Limit-Reset": str(int(server_now) + 30), "Date": formatdate(server_now, usegmt=True)})
    assert 29 <= b.seconds_left(headers) <= 31
    in_sync = CaseInsensitiveDict({"X-Rate-Limit-Reset": str(int(time.time()) + 30), "Date": formatdate(time.time(), usegmt=True)})
    assert 28.5 <= b.seconds_left(in_sync) <= 30.5


def test_pacing_to_the_epoch_reset_sends_no_429():
    fx = generate_directory(3, users=40, groups=1, apps=1)
    fx["_max_limits"] = {"users": 5}  # 8 pages of users
    # windows of 3 s: long beside a request even on a loaded machine, so the budget (not slow answers) spaces them
    with OktaSimulator(fx, rate_limits={"users": 3}, window_s=3.0) as sim:
        c = OktaClient(sim.org_url, ApiTokenAuth(fx["api_token"]))
        t0 = time.monotonic()
        users = [u for p in c.list_users() for u in p]
        elapsed = time.monotonic() - t0
        st = sim.stats()
    assert len(users) == len(fx["users"]) == 40
    assert st["by_path"]["GET /api/v1/users"] == 8 and st["rate_limited"] == 0 and c.stats.rate_limited == 0
    assert c.stats.paced_waits >= 2  # 8 requests at 3 a window: held back at least twice
    assert elapsed >= 3.0  # at least the two full windows after the first (partial) one


def test_buckets_are_per_endpoint():
    fx = generate_directory(4, users=12, groups=2, apps=6)
    fx["_max_limits"] = {"users": 5, "apps": 2}
    with OktaSimulator(fx, rate_limits={"users": 100, "apps": 2}, window_s=1.0) as sim:
        c = OktaClient(sim.org_url, ApiTokenAuth(fx["api_token"]))
        sim.consume("apps", 2)  # the apps bucket is spent; the users bucket is not
        t0 = time.monotonic()
        assert len([u for p in c.list_users() for u in p]) == 12
        users_s = time.monotonic() - t0
        apps = [a for p in c.list_apps() for a in p]
        st = sim.stats()
    assert users_s < 0.9 and len(apps) == 6
    assert set(c.budgets) == {"users", "apps"} and c.budgets["users"].limit == 100 and c.budgets["apps"].limit == 2
    assert st["rate_limited"] == 1  # the apps bucket's first answer, before its count was known


def test_a_foreign_429_is_waited_out_until_the_buckets_epoch_reset():
    fx = generate_directory(5, users=8, groups=1, apps=1)
    with OktaSimulator(fx, rate_limits={"users": 5}, window_s=2.0) as sim:
        c = OktaClient(sim.org_url, ApiTokenAuth(fx["api_token"]))
        sim.consume("users", 5)  # another client of the org spent the window
        reset = sim.window_end("users")
        users = [u for p in c.list_users() for u in p]
        done = time.time()
        st = sim.stats()
    assert len(users) == 8
    assert st["rate_limited"] == 1 and c.stats.rate_limited == 1 and c.stats.retries == 1
    assert st["by_path"]["GET /api/v1/users"] == 2  # the 429, then the page once the window reset
    assert done >= reset  # waited for the epoch reset, not a blind backoff
