"""An apply's own pacing earns no 429 from Paradime or Bencher at their budgets (issue 23: "one rate budget per API,
0 x 429 from its own pacing"). The executors' `PacedSession` and the simulator's limiter share a virtual clock
that moves only when the session waits, so writes past a whole budget cost no real minute: every write goes
through the executor as in an apply, over HTTP, and the simulator counts its windows as it would."""
from __future__ import annotations

from typing import Any

import requests

from pipelines.bencher.simulator import BencherSimulator
from pipelines.paradime.simulator import ParadimeSimulator, generate_workspaces
from pipelines.paradime.source import ParadimeWorkspaceConfig
from pipelines.remediate.model import Action
from pipelines.remediate.pacing import BENCHER_BUDGET, PARADIME_BUDGET
from pipelines.remediate.systems.bencher import BencherExecutor
from pipelines.remediate.systems.paradime import ParadimeExecutor
from pipelines.simkit.ratelimit import FixedWindowLimiter

from .world import lab_org


class VirtualClock:
    """time.monotonic and time.sleep for one test: sleeping moves the clock and is remembered."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


class Audit:
    def __init__(self) -> None:
        self.intents_seen = self.outcomes_seen = 0

    def intents(self, rows: list) -> None:
        self.intents_seen += len(rows)

    def outcomes(self, rows: list) -> None:
        self.outcomes_seen += len(rows)


def _role_changes(system: str, scope: str, account_id: str, action: str, roles: tuple[str, str], n: int) -> list:
    """n role changes of one account, alternating between two roles (each a real write the API accepts; Bencher
    has one organization role, so there it is the same role again, which Bencher answers 200)."""
    return [(Action(system, scope, account_id, action, {"role": roles[i % 2]}, {"role": roles[(i + 1) % 2]},
                    True, "pacing test"), {"role": roles[i % 2]}) for i in range(n)]


def _paced(session: Any, limiter: FixedWindowLimiter, clock: VirtualClock) -> None:
    session.clock, session.sleep = clock, clock.sleep
    limiter.clock = clock


def test_bencher_writes_past_a_whole_budget_earn_no_429() -> None:
    limit, window = BENCHER_BUDGET
    assert (limit, window) == (2048, 60.0)  # Bencher Cloud: 2,048 requests per minute per user
    n = limit + 52
    fx = lab_org(2)
    clock = VirtualClock()
    with BencherSimulator(fx, token="bencher_user_read", admin_token="bencher_user_admin",
                          rate_limit=BENCHER_BUDGET) as sim:
        ex = BencherExecutor(sim.base_url, "bencher_user_admin")
        _paced(ex.session, sim.limiter, clock)
        audit = Audit()
        results = ex.execute(_role_changes("bencher", "lab", fx["organizations"][0]["_members"][1]["uuid"],
                                           "set_role", ("leader", "leader"), n), audit)
        ex.close()
        stats = requests.get(sim.base_url + "/_simulator/stats", timeout=5).json()
        second_window = (sim.limiter.start, sim.limiter.count)
    assert [r.outcome for r in results] == ["applied"] * n and audit.outcomes_seen == n
    assert stats["rate_limited"] == 0 and stats["requests"] == n, stats
    # the session waited once, to the end of the first minute, and the simulator counted the rest in a new window
    assert len(clock.waits) == 1 and window - 0.5 < clock.waits[0] <= window + 0.02, clock.waits
    assert second_window == (1000.0 + clock.waits[0], n - limit)


def test_paradime_writes_past_two_budgets_earn_no_429() -> None:
    limit, window = PARADIME_BUDGET
    n = 2 * limit + 10
    ws = generate_workspaces(seed=1, n_workspaces=1, users_per_workspace=4)
    name, uid = ws[0].name, ws[0].active_users[0]["uid"]
    clock = VirtualClock()
    with ParadimeSimulator(ws, admin_api_key="pd_admin", admin_api_secret="pd_admin_secret",
                           rate_limit=PARADIME_BUDGET) as sim:
        ex = ParadimeExecutor([ParadimeWorkspaceConfig(name=name, endpoint=sim.endpoint_for(name),
                                                       api_key="pd_admin", api_secret="pd_admin_secret")])
        _paced(ex.session, sim.limiter, clock)
        results = ex.execute(_role_changes("paradime", name, uid, "set_account_type", ("ADMIN", "ANALYST"), n),
                             Audit())
        ex.close()
        stats = requests.get(sim.base_url + "/_simulator/stats", timeout=5).json()
    assert [r.outcome for r in results] == ["applied"] * n
    assert stats["rate_limited"] == 0 and stats["by_operation"] == {"updateUserAccountType": n}, stats
    assert len(clock.waits) == 2 and all(window - 0.5 < w <= window + 0.02 for w in clock.waits), clock.waits
    assert ws[0].active_users[0]["accountType"] == "ADMIN"
