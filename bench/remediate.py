"""Scenario 9: suspending many Benchling users with `whsync remediate apply` (live check by `ids`, 100 per
request; `POST /users:bulk-update` in chunks of 100; task polls), against the benchling-sdk loop an operator
would write (one `users.update` per user, the SDK's default retries), each on a fresh rate-limit window.

    whsync's request bound   B = ceil(N / 100) checks + ceil(N / 100) bulk requests + polls
    time floor               T = (ceil(R / L) - 1) * W + 3 * latency      (R: whsync's requests; checks, bulk
                                                                           requests and polls depend on each
                                                                           other: three round trips at least)

whsync is judged on its requests (<= B), 0 x 429 and its request time against T x 1.05: the check phase
(first to last check, plus a round trip) plus the write phase (first bulk request to last poll, plus a round
trip). Between the two phases the apply evaluates the guards and writes the audit's intents (write-ahead:
before any call); that gap and the audit writes (the apply prints their time) are shown beside it. The wall time of the whole
command (process start, warehouse reads, audit) is printed beside it; the SDK loop is timed side by side,
with its 429s and the calls its retries gave up on.
"""
from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .scenarios import TARGET_WALL_OVER_FLOOR, Report, floor_seconds, parse_limit, table, verdict

READ, ADMIN = "bench-read-key", "bench-admin-key"
WHSYNC = str(Path(sys.executable).with_name("whsync"))


def _eligible(tenant: Any, n: int) -> list[dict]:
    admins = {m["user"]["id"] for m in tenant.memberships if m["role"] == "ADMIN"}
    users = [u for u in tenant.users if not u["isSuspended"] and u["id"] not in admins]
    if len(users) < n:
        raise RuntimeError(f"the generated tenant has {len(users)} active non-admin users, fewer than {n}")
    return users[:n]


def scenario_remediate(report: Report, n: int, rate_limit: str, latency_ms: float, work: Path,
                       peer: bool = True, seed: int = 1) -> dict[str, Any]:
    from benchling_api_client.v2.stable.models.user_update import UserUpdate
    from benchling_sdk.auth.api_key_auth import ApiKeyAuth
    from benchling_sdk.benchling import Benchling

    from pipelines.benchling.simulator import BenchlingSimulator, generate_tenant
    from pipelines.benchling.simulator.server import FixedWindowLimiter

    L, W = parse_limit(rate_limit)
    tenant = generate_tenant(seed=seed, users=int(n * 1.6) + 20, apps=2, teams=8, projects=2, folders=4)
    chosen = _eligible(tenant, n)
    pristine = copy.deepcopy(tenant)
    report.emit(f"\n## suspend {n:,} Benchling users: whsync remediate apply vs a benchling-sdk loop; "
                f"limit {rate_limit}, latency {latency_ms:g} ms; {os.cpu_count()} cores")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCHLING_", "WHSYNC_", "PG"))}
    wh = work / "remediate.duckdb"
    times: list[float] = []
    lock = threading.Lock()

    def stamp(req: Any) -> None:
        with lock:
            times.append((time.monotonic(), req.path.rsplit("/", 1)[-1] if "/users" in req.path and req.method == "GET"
                          else req.method))
        return None

    with BenchlingSimulator(tenant, api_key=READ, admin_api_key=ADMIN, rate_limit="off") as sim:
        env.update(BENCHLING_BASE_URL=sim.root_url, BENCHLING_API_KEY=READ, BENCHLING_ADMIN_API_KEY=ADMIN)
        run = lambda *args: subprocess.run([WHSYNC, *args, "--duckdb", str(wh)], env=env, capture_output=True,  # noqa: E731
                                           text=True, timeout=3600)
        r = run("sync", "--activity", "off", "-q")
        if r.returncode:
            raise RuntimeError(r.stderr)
        csv = work / "suspend.csv"
        csv.write_text("system,scope,account_id,action,role,reason\n"
                       + "".join(f"benchling,,{u['id']},suspend,,bench\n" for u in chosen))
        r = run("remediate", "plan", "--from", str(csv), "--out", str(work / "plan.json"))
        if r.returncode:
            raise RuntimeError(r.stderr)
        # the measured apply: a fresh window at the limit, with latency
        sim.limiter = FixedWindowLimiter(L, W) if L else None
        sim.latency_ms = latency_ms
        sim.reset_stats()
        sim.request_hook = stamp
        t0 = time.monotonic()
        r = run("remediate", "apply", str(work / "plan.json"), "--apply", "--operator", "bench@example.com",
                "--max-fraction", "1")
        wall = time.monotonic() - t0
        sim.request_hook = None
        st = sim.stats()
        suspended = sum(1 for u in sim.tenant.users if u["id"] in {c["id"] for c in chosen} and u["isSuspended"])
        by = st["by_path"]
        checks, bulk, polls = by.get("GET /api/v2/users", 0), by.get("POST /api/v2/users:bulk-update", 0), \
            by.get("GET /api/v2/tasks/{task_id}", 0)
        R = st["total"]
        bound = 2 * math.ceil(n / 100) + polls
        T = floor_seconds(R, L, W, 3 * latency_ms / 1000)
        import re

        m = re.search(r"audit: \d+ rows appended to remediation_action in ([0-9.]+)s", r.stdout)
        audit_s = float(m.group(1)) if m else 0.0
        lat = latency_ms / 1000
        check_t = [t for t, kind in times if kind == "users"]
        write_t = [t for t, kind in times if kind != "users"]
        span = (times[-1][0] - times[0][0] + lat) if times else 0.0
        api_s = ((check_t[-1] - check_t[0] + lat) if check_t else 0.0) + ((write_t[-1] - write_t[0] + lat) if write_t else 0.0)
        w_row = ["whsync remediate apply", R, checks, bulk, polls, st["rate_limited"], 0, suspended, span, audit_s,
                 api_s, wall]
        rows = [w_row]
        if peer:
            sim.tenant = copy.deepcopy(pristine)
            sim._reindex()
            sim.limiter = FixedWindowLimiter(L, W) if L else None
            sim.reset_stats()
            b = Benchling(url=sim.root_url, auth_method=ApiKeyAuth(ADMIN))  # the SDK's default retry strategy
            gave_up = 0
            t0 = time.monotonic()
            for u in chosen:
                try:
                    b.users.update(u["id"], UserUpdate(is_suspended=True))
                except Exception:  # noqa: BLE001 - the SDK's retries gave up (429s outlasting its backoff)
                    gave_up += 1
            sdk_wall = time.monotonic() - t0
            st2 = sim.stats()
            done = sum(1 for u in sim.tenant.users if u["id"] in {c["id"] for c in chosen} and u["isSuspended"])
            rows.append(["benchling-sdk loop (users.update)", st2["total"], 0, 0, 0, st2["rate_limited"], gave_up, done,
                         sdk_wall, 0.0, sdk_wall, sdk_wall])
    report.emit(f"\nwhsync's bound B = ceil({n}/100) checks + ceil({n}/100) bulk requests + polls = {bound}; "
                f"time floor for its {R} requests T = (ceil(R/L) - 1) x W + 3 x latency = {T:.2f} s")
    report.emit(table("Requests and time", ["client", "requests", "checks", "bulk", "polls", "429s", "gave up",
                                            f"suspended of {n}", "first→last request s", "audit writes s", "check + write phases s",
                                            "wall s"], rows))
    ok_req = R <= bound and checks == math.ceil(n / 100) and bulk == math.ceil(n / 100)
    ok_time = api_s <= TARGET_WALL_OVER_FLOOR * T + 0.005  # 5 ms: the stamps' resolution on a loaded machine
    report.emit(f"\nrequests <= B and checks = bulk = ceil(N/100): {verdict(ok_req)}; 429s = 0: "
                f"{verdict(st['rate_limited'] == 0)}; all suspended: {verdict(suspended == n)}; "
                f"request time {api_s:.2f} s <= {TARGET_WALL_OVER_FLOOR} x floor {T:.2f} s: {verdict(ok_time)}")
    if r.returncode:
        report.emit(f"\nwhsync remediate apply exited {r.returncode}: {r.stderr.strip()[:300]}")
    out = {"n": n, "rate_limit": rate_limit, "whsync": w_row, "rows": rows, "bound": bound, "floor_s": T}
    report.data.setdefault("remediate", []).append(out)
    return out
