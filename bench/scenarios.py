"""Benchmark scenarios: what is run, what is measured, and the floors it is compared with.

Every client run (whsync or a peer) happens in its own child process (`python -m bench.scenarios
child SPEC.json`), against a simulator that also runs in its own process (`whsync simulate
benchling`), so that the child's peak RSS (VmHWM) is the client's alone and the simulator's JSON
encoding does not compete with the client for the same GIL. Request counts and 429s are read from
the simulator's own stats (`/_simulator/stats`), so every client is counted the same way.

Floors (see bench/README.md):

    requests floor  R = sum over list endpoints of max(1, ceil(n / 100))
                        + sum over teams of max(1, ceil(members(team) / 100))
    time floor      T = (ceil(R / L) - 1) * W + latency
                        for a fixed window of L requests per W seconds: R requests need ceil(R / L)
                        windows; the last window is entered (at the earliest) (ceil(R/L) - 1) * W
                        after the first request, and its requests take one round trip (the latency)
                        if they all go out at once.
"""
from __future__ import annotations

import collections
import contextlib
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

PAGE_SIZE = 100
API_KEY = "whsync-demo-key"  # the simulator's demo key (pipelines.benchling.simulator.DEMO_API_KEY)
REPO = Path(__file__).resolve().parent.parent

# Targets from issue 4, printed next to the measurements.
TARGET_WALL_OVER_FLOOR = 1.05
TARGET_PEER_SPEEDUP = 2.0
TARGET_ROWS_PER_S = 25_000
TARGET_RSS_BYTES = 1 << 30

# raw table -> key columns, per client (whsync and the sdk peer share our raw shape; dlt's rest_api
# names the parent id `_teams_id`)
KEYS = {
    "whsync": {"users": ["id"], "apps": ["id"], "teams": ["id"], "team_memberships": ["team_id", "user__id"],
               "projects": ["id"], "folders": ["id"]},
    "rest_api": {"users": ["id"], "apps": ["id"], "teams": ["id"], "team_memberships": ["_teams_id", "user__id"],
                 "projects": ["id"], "folders": ["id"]},
}
KEYS["sdk"] = KEYS["whsync"]
TABLES = list(KEYS["whsync"])


# ---- tenant sizes, profile and floors -------------------------------------------------------

@dataclass(frozen=True)
class Sizes:
    users: int
    apps: int
    teams: int
    projects: int
    folders: int
    seed: int = 1

    def scaled(self, f: float, **override: int) -> "Sizes":
        d = {k: max(1, round(v * f)) for k, v in asdict(self).items() if k != "seed"}
        d.update(override)
        return Sizes(**d, seed=self.seed)

    def args(self) -> list[str]:
        return [f"--seed={self.seed}", f"--users={self.users}", f"--apps={self.apps}", f"--teams={self.teams}",
                f"--projects={self.projects}", f"--folders={self.folders}"]

    def label(self) -> str:
        return (f"{self.users:,} users, {self.apps:,} apps, {self.teams:,} teams, {self.projects:,} projects, "
                f"{self.folders:,} folders (seed {self.seed})")


STANDARD = Sizes(users=5000, apps=50, teams=300, projects=2000, folders=50000)
SMOKE = Sizes(users=150, apps=4, teams=8, projects=30, folders=400)


def generate(sizes: Sizes) -> Any:
    from pipelines.benchling.simulator import generate_tenant

    return generate_tenant(seed=sizes.seed, users=sizes.users, apps=sizes.apps, teams=sizes.teams,
                           projects=sizes.projects, folders=sizes.folders)


def pages(n: int, page_size: int = PAGE_SIZE) -> int:
    """Least requests to list n objects: a list call costs one request even when empty."""
    return max(1, math.ceil(n / page_size))


def members_per_team(tenant: Any) -> list[int]:
    per = collections.Counter(m["teamId"] for m in tenant.memberships)
    return [per.get(t["id"], 0) for t in tenant.teams]


def floor_requests(tenant: Any, page_size: int = PAGE_SIZE) -> dict[str, int]:
    """Least requests per endpoint at `page_size` (see the module docstring)."""
    out = {k: pages(len(getattr(tenant, k)), page_size) for k in ("users", "apps", "teams", "projects", "folders")}
    out["team_memberships"] = sum(pages(n, page_size) for n in members_per_team(tenant))
    return out


def floor_seconds(requests: int, limit: int | None, window_s: float | None, latency_s: float) -> float:
    """Least time a fixed window of `limit` requests per `window_s` allows for `requests` requests:
    (ceil(R / L) - 1) * W + latency. Without a limit: one round trip (everything in parallel)."""
    if not limit or not window_s:
        return latency_s
    return (math.ceil(requests / limit) - 1) * window_s + latency_s


def parse_limit(rate_limit: str) -> tuple[int | None, float | None]:
    if rate_limit.strip().lower() == "off":
        return None, None
    a, b = rate_limit.split("/")
    return int(a), float(b)


def tenant_profile(tenant: Any) -> dict[str, Any]:
    sizes = members_per_team(tenant)
    archived_p = sum(p.get("archiveRecord") is not None for p in tenant.projects)
    archived_f = sum(f.get("archiveRecord") is not None for f in tenant.folders)
    q = statistics.quantiles(sizes, n=10, method="inclusive") if len(sizes) >= 2 else sizes * 9
    return {
        "users": len(tenant.users), "apps": len(tenant.apps), "teams": len(tenant.teams),
        "memberships": len(tenant.memberships), "projects": len(tenant.projects), "folders": len(tenant.folders),
        "members_min": min(sizes, default=0), "members_median": statistics.median(sizes) if sizes else 0,
        "members_p90": q[-1] if q else 0, "members_max": max(sizes, default=0),
        "teams_over_100": sum(n > 100 for n in sizes),
        "projects_archived_pct": 100.0 * archived_p / max(1, len(tenant.projects)),
        "folders_archived_pct": 100.0 * archived_f / max(1, len(tenant.folders)),
    }


# ---- the simulator, in its own process -------------------------------------------------------

class SimProcess:
    """`whsync simulate benchling` in a child process; a fresh one means a fresh rate-limit window."""

    def __init__(self, sizes: Sizes, rate_limit: str, latency_ms: float, start_timeout_s: float = 600) -> None:
        cmd = [sys.executable, "-c", "from pipelines.cli import app; app()", "simulate", "benchling",
               *sizes.args(), "--port=0", f"--rate-limit={rate_limit}", f"--latency-ms={latency_ms}"]
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = self.proc.stdout.readline().strip() if self.proc.stdout else ""
        if not line.startswith("http"):
            self.stop()
            raise RuntimeError(f"simulator did not start: {line!r} {self.stderr()[-500:]}")
        self.base_url = line
        self.root_url = line[: -len("/api/v2")] if line.endswith("/api/v2") else line

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()

    def served_counts(self) -> dict[str, int]:
        m = re.search(r"(\d+) users, (\d+) apps, (\d+) teams, (\d+) projects, (\d+) folders", self.stderr())
        keys = ("users", "apps", "teams", "projects", "folders")
        return dict(zip(keys, map(int, m.groups()))) if m else {}

    def cpu_seconds(self) -> float | None:
        """User+system CPU the simulator process has used so far (Linux /proc), else None."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.root_url + "/_simulator/stats", timeout=30) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()

    def __enter__(self) -> "SimProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- one client run, in a child process -------------------------------------------------------

@dataclass
class Run:
    client: str  # whsync | sdk | rest_api
    ok: bool
    wall_s: float
    extract_s: float | None = None  # whsync: the "extracting" stage (dlt extract+normalize+load)
    build_s: float | None = None  # whsync: the dbt build stage
    peak_rss: int = 0  # bytes, VmHWM of the child
    client_requests: int | None = None
    client_rate_limited: int | None = None
    rows_reported: int | None = None
    error: str | None = None
    stages: dict[str, float] = field(default_factory=dict)
    cpu_s: float | None = None  # user+system CPU of the client process
    # filled in by the parent
    sim_cpu_s: float | None = None
    requests: int = 0
    rate_limited: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    db: str = ""


def _vmhwm() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child_whsync(spec: dict[str, Any]) -> dict[str, Any]:
    from pipelines.progress import Progress
    from pipelines.benchling.spec import benchling_plan, BenchlingConfig
    from pipelines.targets import resolve_target
    from pipelines.sync import sync

    class StageClock(Progress):
        """Progress that also notes when each stage starts (extract, build, publish)."""

        marks: list[tuple[str, float]]

        def set_stage(self, stage: str, kind: str | None = None, source: str | None = None) -> None:
            self.marks.append((stage, time.monotonic()))
            super().set_stage(stage, kind, source)

    from pipelines.benchling.activity import ActivityPolicy

    progress = StageClock(quiet=True)
    progress.marks = []
    if spec.get("dbt_args"):  # e.g. the history models excluded (bench/history.py)
        import pipelines.sync as sync_module

        real = sync_module.run_dbt
        sync_module.run_dbt = lambda *a, extra_args=None, **kw: real(*a, extra_args=[*(extra_args or []), *spec["dbt_args"]], **kw)
    # the listing scenarios measure listings only; the activity scenario passes "all"
    cfg = BenchlingConfig(spec["base_url"], api_key=API_KEY, activity=ActivityPolicy.parse(spec.get("activity", "off"), None))
    t0 = time.monotonic()
    res = sync(plans=[benchling_plan(cfg)], target=resolve_target(duckdb=Path(spec["db"])), build=spec.get("build", True), progress=progress)
    wall = time.monotonic() - t0
    ends = [t for _, t in progress.marks[1:]] + [t0 + wall]
    stages: dict[str, float] = collections.defaultdict(float)
    for (name, start), end in zip(progress.marks, ends):
        stages[name] += end - start
    extract = sum(v for k, v in stages.items() if "extract" in k.lower()) or None
    build = sum(v for k, v in stages.items() if "build" in k.lower()) or None
    return {"wall_s": wall, "extract_s": extract, "build_s": build, "stages": dict(stages),
            "client_requests": res.requests, "client_rate_limited": res.rate_limited,
            "rows_reported": sum(res.rows.values())}


def _child(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    out: dict[str, Any] = {"client": spec["client"], "ok": True}
    t0 = time.monotonic()
    try:
        if spec["client"] == "whsync":
            out.update(_child_whsync(spec))
        elif spec["client"] == "sdk":
            from bench.peers import sdk_peer

            sdk_peer.run(spec["root_url"], API_KEY, spec["db"], activity=spec.get("activity") == "all")
        elif spec["client"] == "rest_api":
            from bench.peers import rest_api_peer

            rest_api_peer.run(spec["base_url"], API_KEY, spec["db"], activity=spec.get("activity") == "all")
        else:
            raise ValueError(spec["client"])
    except BaseException as e:  # noqa: BLE001 - a failed client is a result, not a crash
        out.update(ok=False, error=f"{type(e).__name__}: {str(e).strip().splitlines()[0][:300] if str(e).strip() else ''}")
    out.setdefault("wall_s", time.monotonic() - t0)
    out["peak_rss"] = _vmhwm()
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = ru.ru_utime + ru.ru_stime
    Path(spec["out"]).write_text(json.dumps(out))


def run_client(client: str, sim: SimProcess, db: Path, build: bool = True, timeout_s: float = 3600,
               activity: str = "off", dbt_args: list[str] | None = None) -> Run:
    """Run one client in a child process against `sim`; requests and 429s from the simulator.
    `activity`: "all" makes every client also fetch each user's last activity; `dbt_args`: appended to
    whsync's `dbt build` (e.g. the history models excluded)."""
    before = sim.stats()
    cpu0 = sim.cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="whsync-bench-") as tmp:
        spec = {"client": client, "base_url": sim.base_url, "root_url": sim.root_url, "db": str(db),
                "build": build, "out": str(Path(tmp) / "out.json"), "activity": activity, "dbt_args": dbt_args}
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec))
        env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false", "DO_NOT_TRACK": "1",
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "bench.scenarios", "child", str(spec_path)], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=timeout_s)
        outer = time.monotonic() - t0
        try:
            data = json.loads(Path(spec["out"]).read_text())
        except (OSError, ValueError):
            data = {"client": client, "ok": False, "wall_s": outer,
                    "error": f"child exited {proc.returncode}: {(proc.stderr or '').strip()[-300:]}"}
    after = sim.stats()
    run = Run(**{k: v for k, v in data.items() if k in Run.__dataclass_fields__})
    run.requests = after["total"] - before["total"]
    run.rate_limited = after["rate_limited"] - before["rate_limited"]
    cpu1 = sim.cpu_seconds()
    run.sim_cpu_s = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    run.db = str(db)
    if run.ok:
        run.rows = {t: len(ids) for t, ids in read_keys(db, client).items()}
    return run


def read_keys(db: Path, client: str) -> dict[str, set[tuple]]:
    """The key of every raw row a client loaded, per table (schema `benchling_raw`)."""
    import duckdb

    out: dict[str, set[tuple]] = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        have = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'benchling_raw'").fetchall()}
        for table, cols in KEYS[client].items():
            if table not in have:
                out[table] = set()
                continue
            sel = ", ".join(f'"{c}"' for c in cols)
            out[table] = set(con.execute(f'select {sel} from benchling_raw."{table}"').fetchall())
    finally:
        con.close()
    return out


def expected_keys(tenant: Any) -> dict[str, set[tuple]]:
    return {
        "users": {(u["id"],) for u in tenant.users}, "apps": {(a["id"],) for a in tenant.apps},
        "teams": {(t["id"],) for t in tenant.teams},
        "team_memberships": {(m["teamId"], m["user"]["id"]) for m in tenant.memberships},
        "projects": {(p["id"],) for p in tenant.projects}, "folders": {(f["id"],) for f in tenant.folders},
    }


# ---- output -----------------------------------------------------------------------------------

def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("dlt", "duckdb", "dbt-core", "dbt-duckdb", "benchling-sdk"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def header() -> str:
    v = versions()
    return (f"whsync benchmark — {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} — "
            f"{os.cpu_count()} cores, {platform.machine()} — "
            + ", ".join(f"{k} {val}" for k, val in v.items()))


def table(title: str, head: list[str], rows: list[list[Any]]) -> str:
    cells = [[_fmt(c) for c in r] for r in rows]
    lines = [f"\n### {title}\n", "| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in cells]
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("PASS" if ok else "MISS")


# ---- scenarios --------------------------------------------------------------------------------

@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def emit(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)


@contextlib.contextmanager
def workdir(keep: bool = False) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="whsync-bench-"))
    try:
        yield d
    finally:
        if not keep:
            shutil.rmtree(d, ignore_errors=True)


def _progress(label: str, r: Run) -> None:
    """One line per finished run on stderr, so a long run shows it is alive (tables go to stdout)."""
    extract = f" (extract {r.extract_s:.1f} s, build {r.build_s or 0:.1f} s)" if r.extract_s else ""
    print(f"  ... {label}: {'ok' if r.ok else 'FAILED: ' + str(r.error)} in {r.wall_s:.1f} s{extract}, "
          f"{r.requests:,} requests, {r.rate_limited:,} 429s", file=sys.stderr, flush=True)


def scenario_throttled(report: Report, name: str, sizes: Sizes, rate_limit: str, latency_ms: float,
                       peers: list[str], second_sync: bool, work: Path, build: bool = True) -> dict[str, Any]:
    """Scenarios 1, 2 and 4: whsync (with the dbt build), the peers, then a second whsync sync with
    nothing changed, each against a fresh simulator (fresh window) serving the same tenant."""
    tenant = generate(sizes)
    prof = tenant_profile(tenant)
    fr = floor_requests(tenant)
    R = sum(fr.values())
    L, W = parse_limit(rate_limit)
    T = floor_seconds(R, L, W, latency_ms / 1000)
    want = expected_keys(tenant)
    report.emit(f"\n## {name}: {sizes.label()}; simulator limit {rate_limit}, latency {latency_ms:g} ms")
    report.emit(
        f"\nTenant as generated: {prof['memberships']:,} memberships; members per team min {prof['members_min']}, "
        f"median {prof['members_median']:g}, p90 {prof['members_p90']:.0f}, max {prof['members_max']}, "
        f"{prof['teams_over_100']} teams over 100; {prof['projects_archived_pct']:.1f}% of projects and "
        f"{prof['folders_archived_pct']:.1f}% of folders archived.")
    report.emit(
        f"\nFloor: R = {R:,} requests at pageSize {PAGE_SIZE} ("
        + ", ".join(f"{k} {v:,}" for k, v in fr.items())
        + f"); T = (ceil(R/L) - 1) x W + latency = "
        + (f"({math.ceil(R / L)} - 1) x {W:g} s + {latency_ms / 1000:g} s = {T:,.2f} s" if L else f"{T:g} s (no limit)"))

    runs: dict[str, Run] = {}
    clients = ["whsync"] + peers
    for client in clients:
        with SimProcess(sizes, rate_limit, latency_ms) as sim:
            served = sim.served_counts()
            if served and served["folders"] != len(tenant.folders):
                raise RuntimeError(f"simulator serves a different tenant: {served}")
            runs[client] = run_client(client, sim, work / f"{name}-{client}.duckdb", build=build and client == "whsync")
        _progress(client, runs[client])
    if second_sync:
        with SimProcess(sizes, rate_limit, latency_ms) as sim:
            runs["whsync (2nd)"] = run_client("whsync", sim, work / f"{name}-whsync.duckdb", build=build)
        _progress("whsync (2nd)", runs["whsync (2nd)"])

    w = runs["whsync"]
    rows = []
    for label, r in runs.items():
        api_s = r.extract_s if r.client == "whsync" else r.wall_s
        rows.append([
            label, "ok" if r.ok else f"FAILED: {r.error}", r.wall_s, r.extract_s, r.build_s, r.requests,
            r.rate_limited, sum(r.rows.values()) if r.rows else None,
            (api_s / T) if (api_s and r.ok and T > 0) else None,
            (api_s / w.extract_s) if (r.client != "whsync" and r.ok and w.extract_s) else None,
            mib(r.peak_rss),
        ])
    report.emit(table(
        f"{name}: wall time, requests and 429s (floor R = {R:,}, T = {T:,.2f} s)",
        ["run", "status", "wall s", "extract s", "build s", "requests", "429s", "rows", "API s / floor T",
         "API s / whsync extract s", "peak RSS"], rows))
    report.emit("\nAPI s = the extract stage (dlt extract+normalize+load) for whsync, the whole wall time for a "
                "peer (peers load as they go and build nothing). whsync's wall includes the dbt build and publish.")

    # same rows?
    same_rows = []
    keys = {c: read_keys(Path(r.db), r.client) for c, r in runs.items() if r.ok and c in clients}
    for t in TABLES:
        row = [t, len(want[t])]
        for c in clients:
            k = keys.get(c)
            row += [None, None] if k is None else [len(k[t]), k[t] == want[t]]
        same_rows.append(row)
    report.emit(table(f"{name}: rows per raw table, and whether the keys equal the tenant's",
                      ["table", "tenant"] + [h for c in clients for h in (f"{c} rows", f"{c} same ids")],
                      same_rows))

    extract_ok = w.ok and w.extract_s is not None and T > 0
    targets = [
        ["whsync extract wall <= 1.05 x floor T", f"{w.extract_s / T:.3f} x" if extract_ok else "–",
         verdict(extract_ok and w.extract_s <= TARGET_WALL_OVER_FLOOR * T) if extract_ok else "–"],
        ["whsync 429s = 0", w.rate_limited, verdict(w.rate_limited == 0)],
        ["whsync requests = floor R", f"{w.requests:,} vs {R:,}", verdict(w.requests == R)],
    ]
    for p in peers:
        r = runs[p]
        if r.ok and extract_ok:
            sp = r.wall_s / w.extract_s
            targets.append([f"faster than {p} (aim {TARGET_PEER_SPEEDUP:g}x)", f"{sp:.2f}x",
                            verdict(sp >= TARGET_PEER_SPEEDUP) + ("" if sp >= TARGET_PEER_SPEEDUP or sp <= 1 else " (faster, < 2x)")])
        else:
            targets.append([f"faster than {p}", f"{p} failed" if not r.ok else "–", "–"])
    if second_sync:
        s = runs["whsync (2nd)"]
        targets.append(["2nd sync, nothing changed: requests / wall",
                        f"{s.requests:,} requests ({s.rate_limited} 429s), {s.wall_s:.1f} s (extract {s.extract_s or 0:.1f} s)",
                        "–"])
    report.emit(table(f"{name}: targets", ["target", "measured", "verdict"], targets))
    result = {"sizes": asdict(sizes), "rate_limit": rate_limit, "latency_ms": latency_ms, "profile": prof,
              "floor_requests": R, "floor_seconds": T, "runs": {k: asdict(v) for k, v in runs.items()}}
    report.data[name] = result
    return result


def scenario_unthrottled(report: Report, folder_sizes: list[int], base: Sizes, work: Path,
                         build: bool = True) -> dict[str, Any]:
    """Scenario 3: rate limit off, latency 0; one whsync sync (with build) per size."""
    report.emit(f"\n## Unthrottled ingest (--rate-limit off --latency-ms 0): {base.label()} but folders varied")
    rows, out = [], {}
    for n in folder_sizes:
        sizes = Sizes(base.users, base.apps, base.teams, base.projects, n, base.seed)
        with SimProcess(sizes, "off", 0) as sim:
            r = run_client("whsync", sim, work / f"unthrottled-{n}.duckdb", build=build)
        _progress(f"whsync, {n:,} folders", r)
        total_rows = sum(r.rows.values()) if r.rows else (r.rows_reported or 0)
        el = total_rows / r.extract_s if r.ok and r.extract_s else None
        e2e = total_rows / r.wall_s if r.ok and r.wall_s and build else None
        rows.append([f"{n:,}", "ok" if r.ok else f"FAILED: {r.error}", total_rows, r.requests, r.extract_s,
                     r.build_s, r.wall_s, el, e2e, mib(r.peak_rss), r.peak_rss / max(1, total_rows),
                     r.cpu_s, r.sim_cpu_s])
        out[n] = asdict(r)
    report.emit(table("Unthrottled: rows/s and peak RSS of the sync process (simulator in its own process)",
                      ["folders", "status", "rows", "requests", "extract s", "build s", "wall s",
                       "rows/s extract+load", "rows/s with build", "peak RSS", "RSS bytes/row",
                       "sync CPU s", "simulator CPU s"], rows))
    report.emit(f"\nCPU s = user+system seconds: the sync child process (imports included) and the simulator during the run, on {os.cpu_count()} cores: "
                "when sync CPU + simulator CPU approaches cores x wall, the machine, not the sync, is the limit.")
    largest = out[folder_sizes[-1]]
    rs = largest["peak_rss"]
    el_largest = rows[-1][7]
    report.emit(table("Unthrottled: targets", ["target", "measured", "verdict"], [
        [f"extract+load >= {TARGET_ROWS_PER_S:,} rows/s (largest size)", f"{el_largest:,.0f} rows/s" if el_largest else "–",
         verdict(el_largest >= TARGET_ROWS_PER_S) if el_largest else "–"],
        [f"rows/s with dbt build >= {TARGET_ROWS_PER_S:,} (largest size)", f"{rows[-1][8]:,.0f} rows/s" if rows[-1][8] else "–",
         verdict(rows[-1][8] >= TARGET_ROWS_PER_S) if rows[-1][8] else "–"],
        [f"peak RSS <= 1 GiB at {folder_sizes[-1]:,} folders", mib(rs),
         verdict(rs <= TARGET_RSS_BYTES) if folder_sizes[-1] >= 1_000_000 else "– (only judged at 1M)"],
        [f"dbt build time at {folder_sizes[-1]:,} folders",
         f"{largest['build_s']:.1f} s" if largest["build_s"] else "– (not built)", "–"],
    ]))
    report.data["unthrottled"] = out
    return out


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "child":
        _child(sys.argv[2])
    else:
        print("usage: python -m bench.scenarios child SPEC.json  (internal; run `python -m bench`)", file=sys.stderr)
        sys.exit(2)
