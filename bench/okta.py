"""Scenario 8: a full Okta sync of a 10,000-user org at Okta's per-endpoint rate limits (users 600/min,
apps 100/min, groups 500/min), whsync beside the `okta` SDK's own paging loop.

    requests floor  R_b = Σ over the listings of bucket b of max(1, ceil(n / limit))
                          users: 10,000 users at limit 200; groups: the group list + each group's members
                          (limit 1000); apps: the app list (limit 200) + each app's users (limit 500)
    time floor      T   = max over buckets b of (ceil(R_b / L_b) - 1) x W      (W = 60 s, no added latency)

Each client runs in its own process against a fresh simulator process (a fresh window in every bucket).
Requests and 429s come from the simulator's `/_simulator/stats`. whsync's *API s* is the time from its
first request to its last answer (the dlt load that follows is *extract s*); the SDK loop's is its whole
run. whsync is judged: requests = floor, 0 x 429, API s <= 1.05 x T. The SDK signs in as an OAuth service
app (okta 3.4.6 sends `SSWS<token>` without the space on its generated API path, see tests/okta/test_okta_sdk.py).

    python -m bench --scenarios 8            10,000 users, 600/min users, 100/min apps (a few minutes)
    python -m bench.okta serve FIXTURE ...   (internal: the simulator process)
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .scenarios import TARGET_WALL_OVER_FLOOR, Report, table, verdict

CLIENT_ID = "0oa-bench-service-app"
SCOPES = ["okta.users.read", "okta.groups.read", "okta.apps.read"]
LIMITS = {"users": 600, "groups": 500, "apps": 100}
PAGE = {"users": 200, "groups": 200, "group_users": 1000, "apps": 200, "app_users": 500}


def org(users: int, groups: int, apps: int, per_app: int, seed: int) -> tuple[dict[str, Any], str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from pipelines.okta.simulator import generate_directory

    fx = generate_directory(seed, users=users, groups=groups, apps=apps, members_per_group=users // 10,
                            users_per_app=per_app)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    fx["service_apps"] = [{"client_id": CLIENT_ID, "public_key": public, "scopes": SCOPES, "admin": True}]
    return fx, private


def floor_requests(fx: dict[str, Any]) -> dict[str, int]:
    pages = lambda n, limit: max(1, math.ceil(n / limit))  # noqa: E731
    return {"users": pages(len(fx["users"]), PAGE["users"]),
            "groups": pages(len(fx["groups"]), PAGE["groups"]) + sum(pages(len(g["_members"]), PAGE["group_users"])
                                                                    for g in fx["groups"]),
            "apps": pages(len(fx["apps"]), PAGE["apps"]) + sum(pages(len(a["_users"]), PAGE["app_users"]) for a in fx["apps"])}


def floor_seconds(reqs: dict[str, int], limits: dict[str, int], window_s: float) -> float:
    return max((math.ceil(reqs[b] / limits[b]) - 1) * window_s for b in reqs)


# -- child processes -----------------------------------------------------------------------------------
def serve(fixture: str, limits: str, window_s: str) -> None:
    from pipelines.okta.simulator import OktaSimulator

    fx = json.loads(Path(fixture).read_text())
    sim = OktaSimulator(fx, rate_limits=json.loads(limits), window_s=float(window_s)).start()
    print(sim.org_url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    sim.stop()


def run_whsync(url: str, token: str, db: str) -> None:
    from pipelines.http import CountingSession
    from pipelines.okta.client import ApiTokenAuth, OktaClient
    from pipelines.okta.source import okta_source
    from pipelines.progress import Progress
    from pipelines.sources import SourcePlan
    from pipelines.sync import sync
    from pipelines.targets import resolve_target

    times: list[float] = []

    class Timed(CountingSession):
        def request(self, *a: Any, **kw: Any) -> Any:  # type: ignore[override]
            times.append(time.monotonic())
            resp = super().request(*a, **kw)
            times.append(time.monotonic())
            return resp

    def make(synced_at: Any, progress: Any) -> Any:
        client = OktaClient(url, ApiTokenAuth(token), session=Timed())
        return okta_source(client, synced_at=synced_at), None, client.close

    t0 = time.monotonic()
    res = sync(plans=[SourcePlan("okta", make)], target=resolve_target(duckdb=Path(db)), build=False,
               progress=Progress(quiet=True))
    print(json.dumps({"api_s": times[-1] - times[0], "extract_s": res.extract_seconds, "wall_s": time.monotonic() - t0}))


def run_sdk(url: str, key_file: str) -> None:
    import asyncio
    import os

    os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"  # the simulator is plain http on loopback
    from okta.client import Client
    from okta.pagination import PaginationHelper

    async def main() -> dict[str, int]:
        client = Client({"orgUrl": url, "authorizationMode": "PrivateKey", "clientId": CLIENT_ID, "scopes": SCOPES,
                         "privateKey": Path(key_file).read_text()})

        async def every(method: Any, **kw: Any) -> list[Any]:
            out, after = [], None
            while True:
                data, resp, err = await method(after=after, **kw)
                if err:
                    raise RuntimeError(str(err))
                out += data
                after = PaginationHelper.extract_next_cursor(resp.headers)
                if not after:
                    return out

        users = await every(client.list_users, search="status pr", limit=PAGE["users"])
        groups = await every(client.list_groups, limit=PAGE["groups"])
        members = [m for g in groups for m in await every(client.list_group_users, group_id=g.id, limit=PAGE["group_users"])]
        apps = await every(client.list_applications, limit=PAGE["apps"])
        assigned = [u for a in apps for u in await every(client.list_application_users, app_id=a.id, limit=PAGE["app_users"])]
        return {"users": len(users), "group_members": len(members), "app_users": len(assigned)}

    t0 = time.monotonic()
    counts = asyncio.run(main())
    print(json.dumps({"api_s": time.monotonic() - t0, **counts}))


# -- the scenario ----------------------------------------------------------------------------------------
def _child(args: list[str], timeout: float = 1800) -> dict[str, Any]:
    p = subprocess.run([sys.executable, "-m", "bench.okta", *args], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"bench.okta {args[0]} failed: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _stats(url: str) -> dict[str, Any]:
    import requests

    return requests.get(url + "/_simulator/stats", timeout=30).json()


def scenario_okta(report: Report, work: Path, *, users: int = 10_000, groups: int = 20, apps: int = 120, per_app: int = 50,
                  limits: dict[str, int] | None = None, window_s: float = 60.0, seed: int = 1) -> dict[str, Any]:
    limits = {**LIMITS, **(limits or {})}
    fx, private = org(users, groups, apps, per_app, seed)
    fixture, key = work / "okta_org.json", work / "okta_app.pem"
    fixture.write_text(json.dumps(fx))
    key.write_text(private)
    reqs = floor_requests(fx)
    floor = floor_seconds(reqs, limits, window_s)
    report.emit(f"\n## Scenario 8: Okta, {len(fx['users']):,} users, {len(fx['groups'])} groups, {len(fx['apps'])} apps "
                f"(limits per {window_s:g} s: " + ", ".join(f"{b} {n}" for b, n in limits.items()) + ")")
    report.emit(f"requests floor: " + ", ".join(f"{b} {n}" for b, n in reqs.items()) + f"; time floor T = {floor:.1f} s")
    rows, data = [], {}
    for client in ("whsync", "okta SDK"):
        sim = subprocess.Popen([sys.executable, "-m", "bench.okta", "serve", str(fixture), json.dumps(limits), str(window_s)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            url = sim.stdout.readline().strip()
            if client == "whsync":
                got = _child(["whsync", url, fx["api_token"], str(work / "okta.duckdb")])
            else:
                got = _child(["sdk", url, str(key)])
            st = _stats(url)
        finally:
            sim.stdin.close()
            sim.wait(timeout=30)
        by_bucket = {b: sum(n for k, n in st["by_path"].items() if k.startswith(f"GET /api/v1/{b}")) for b in reqs}
        ratio = got["api_s"] / floor if floor else None
        ok = (by_bucket == reqs and st["rate_limited"] == 0 and ratio is not None and ratio <= TARGET_WALL_OVER_FLOOR) \
            if client == "whsync" else None
        rows.append([client, " / ".join(str(by_bucket[b]) for b in reqs), st["rate_limited"], got["api_s"],
                     got.get("extract_s"), floor, ratio, verdict(ok)])
        data[client] = {**got, "requests": by_bucket, "rate_limited": st["rate_limited"], "floor_s": floor}
        print(f"[okta] {client}: {got['api_s']:.1f}s, {st['rate_limited']} x 429", file=sys.stderr, flush=True)
    report.emit(table("Okta full sync (requests per bucket: " + " / ".join(reqs) + ")",
                      ["client", "requests", "429s", "API s", "extract s", "floor s", "API/floor",
                       f"≤{TARGET_WALL_OVER_FLOOR}× floor, 0×429"], rows))
    report.data["okta"] = data
    return data


if __name__ == "__main__":
    cmd, *rest = sys.argv[1:]
    {"serve": serve, "whsync": run_whsync, "sdk": run_sdk}[cmd](*rest)
