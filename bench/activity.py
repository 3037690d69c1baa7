"""Scenario 7: the activity pass (`whsync sync --activity all`): every listing, then one
`GET /users/{id}/activity` per user, from the same rate budget.

    requests floor  R = listing floor (scenarios.floor_requests) + users
    time floor      T = (ceil(R / L) - 1) * W + latency     (as for the listings)

whsync is judged against the floors (requests = R, 0 429s, extract <= 1.05 x T); the peers (the
benchling-sdk loop and dlt's rest_api, both calling the activity endpoint once per listed user) are timed
against whsync's extract, and every client's `user_activity` keys are compared with the tenant's users.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .scenarios import (
    PAGE_SIZE, TARGET_WALL_OVER_FLOOR, Report, Run, Sizes, SimProcess, _progress, floor_requests, floor_seconds,
    generate, parse_limit, run_client, table, verdict,
)


def activity_keys(db: Path) -> set[str]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        have = {r[0] for r in con.execute("select table_name from information_schema.tables "
                                          "where table_schema = 'benchling_raw'").fetchall()}
        if "user_activity" not in have:
            return set()
        return {r[0] for r in con.execute("select user_id from benchling_raw.user_activity").fetchall()}
    finally:
        con.close()


def scenario_activity(report: Report, name: str, sizes: Sizes, rate_limit: str, latency_ms: float,
                      peers: list[str], work: Path, build: bool = True) -> dict[str, Any]:
    tenant = generate(sizes)
    fr = floor_requests(tenant)
    listing = sum(fr.values())
    users = len(tenant.users)
    R = listing + users
    L, W = parse_limit(rate_limit)
    T = floor_seconds(R, L, W, latency_ms / 1000)
    report.emit(f"\n## {name}: activity pass (--activity all), {sizes.label()}; limit {rate_limit}, "
                f"latency {latency_ms:g} ms")
    report.emit(f"\nFloor: R = listing floor {listing:,} (pageSize {PAGE_SIZE}) + {users:,} users = {R:,} requests; "
                f"T = (ceil(R/L) - 1) x W + latency = "
                + (f"({math.ceil(R / L)} - 1) x {W:g} s + {latency_ms / 1000:g} s = {T:,.2f} s" if L else f"{T:g} s"))
    runs: dict[str, Run] = {}
    for client in ["whsync"] + peers:
        with SimProcess(sizes, rate_limit, latency_ms) as sim:
            runs[client] = run_client(client, sim, work / f"{name}-activity-{client}.duckdb",
                                      build=build and client == "whsync", timeout_s=4 * 3600, activity="all")
        _progress(f"{client} (activity)", runs[client])
    want = {u["id"] for u in tenant.users}
    w = runs["whsync"]
    rows = []
    for label, r in runs.items():
        api_s = r.extract_s if r.client == "whsync" else r.wall_s
        got = activity_keys(Path(r.db)) if r.ok else set()
        rows.append([label, "ok" if r.ok else f"FAILED: {r.error}", r.wall_s, r.extract_s, r.requests, r.rate_limited,
                     len(got), got == want, (api_s / T) if (api_s and r.ok and T > 0) else None,
                     (api_s / w.extract_s) if (r.client != "whsync" and r.ok and w.extract_s) else None])
    report.emit(table(f"{name} (activity): wall time, requests, 429s (floor R = {R:,}, T = {T:,.2f} s)",
                      ["run", "status", "wall s", "extract s", "requests", "429s", "activity rows",
                       "same users", "API s / floor T", "API s / whsync extract s"], rows))
    ok = w.ok and w.extract_s is not None and T > 0
    targets = [
        ["whsync requests = listing floor + one per user", f"{w.requests:,} vs {R:,}", verdict(w.requests == R)],
        ["whsync 429s = 0", w.rate_limited, verdict(w.rate_limited == 0)],
        ["whsync extract <= 1.05 x floor T", f"{w.extract_s / T:.3f} x" if ok else "–",
         verdict(w.extract_s <= TARGET_WALL_OVER_FLOOR * T) if ok else "–"],
    ]
    for p in peers:
        r = runs[p]
        targets.append([f"{p} wall / whsync extract", f"{r.wall_s / w.extract_s:.2f}x" if r.ok and ok else
                        (f"{p} failed" if not r.ok else "–"), "–"])
    report.emit(table(f"{name} (activity): targets", ["target", "measured", "verdict"], targets))
    result = {"floor_requests": R, "floor_seconds": T, "listing_floor": listing, "users": users,
              "runs": {k: vars(v) for k, v in runs.items()}}
    report.data[f"{name} activity"] = result
    return result
