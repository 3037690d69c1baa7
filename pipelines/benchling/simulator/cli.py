"""`whsync simulate benchling`: serve a local Benchling API v2 until interrupted."""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

from ...simkit.faults import KINDS, parse_faults
from ...simkit.ratelimit import parse_rate_limit
from .credentials import DEMO_API_KEY


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise typer.Exit(2)


def simulate_benchling(
    fixture: Optional[Path] = typer.Option(
        None, "--fixture", help="Tenant fixture JSON file to serve (format: pipelines/benchling/simulator/README.md). "
        "When omitted, a tenant is generated from --seed and the size options."),
    seed: int = typer.Option(1, "--seed", help="Seed of the generated tenant and of --faults; the same seed and sizes "
                             "give the same tenant, and the same seed and request sequence the same faults."),
    users: int = typer.Option(200, "--users", help="Number of users to generate (ignored with --fixture)."),
    apps: int = typer.Option(10, "--apps", help="Number of apps to generate (ignored with --fixture)."),
    teams: int = typer.Option(20, "--teams", help="Number of teams to generate (ignored with --fixture)."),
    projects: int = typer.Option(50, "--projects", help="Number of projects to generate (ignored with --fixture)."),
    folders: int = typer.Option(400, "--folders", help="Number of folders to generate (ignored with --fixture)."),
    dump_fixture: Optional[Path] = typer.Option(
        None, "--dump-fixture", help="Write the tenant being served to this JSON file (a valid --fixture) before serving."),
    port: int = typer.Option(0, "--port", help="TCP port on 127.0.0.1 to listen on; 0 picks any free port."),
    api_key: str = typer.Option(
        DEMO_API_KEY, "--api-key", help="The API key the simulator accepts (HTTP Basic username, empty password; "
        "also the client secret of OAuth client 'whsync-demo-client'). A fake demo key, not a real secret."),
    rate_limit: str = typer.Option(
        "60/30", "--rate-limit", help="Per-tenant fixed-window rate limit as REQUESTS/SECONDS (Benchling's default "
        "is 60/30), or 'off' to disable it."),
    latency_ms: float = typer.Option(0, "--latency-ms", help="Answer each API request this many milliseconds "
                                     "after it arrived, the simulator's own work within them (concurrent requests "
                                     "overlap)."),
    faults: str = typer.Option(
        "", "--faults", metavar="SPEC",
        help="Inject faults into GET /api/v2 requests: comma-separated KIND:RATE pairs, RATE from 0 to 1 (e.g. "
        "429:0.1,503:0.05,reset:0.1). Kinds: " + "; ".join(f"{k}: {v}" for k, v in KINDS.items()) + ". "
        "429 to nonjson hit a request at random (a retry can succeed; their rates add up to at most 1); "
        "duplicate, extra_field and missing_optional are fixed per page/object (a retry sees the same). "
        "Counts in GET /_simulator/stats under 'faults'."),
    slow_seconds: float = typer.Option(5.0, "--slow-seconds", help="How long a 'slow' fault delays the response."),
    forbid_activity: bool = typer.Option(
        False, "--forbid-activity", help="Answer GET /users/{id}/activity with 403, as for a key that may not "
        "read user activity (everything else works)."),
) -> None:
    """Run a local Benchling API v2 simulator on 127.0.0.1 and print its base URL.

    It serves the users, apps, teams, memberships, organizations, projects and folders of a tenant fixture
    (or of a generated tenant) until interrupted (Ctrl-C or SIGTERM).
    """
    from .generate import generate_tenant
    from .server import BenchlingSimulator
    from .tenant import Tenant, TenantError

    try:
        rl = parse_rate_limit(rate_limit)
    except ValueError as e:
        _fail(f"--rate-limit: {e}")
    if not 0 <= port <= 65535:
        _fail(f"--port: {port} is not a TCP port (0-65535)")
    if latency_ms < 0:
        _fail(f"--latency-ms: {latency_ms} must be >= 0")
    try:
        fault_rates = parse_faults(faults)
    except ValueError as e:
        _fail(f"--faults: {e}")
    if not slow_seconds >= 0:
        _fail(f"--slow-seconds: {slow_seconds} must be >= 0")
    for name, n in (("--users", users), ("--apps", apps), ("--teams", teams), ("--projects", projects),
                    ("--folders", folders)):
        if n < 0:
            _fail(f"{name}: {n} must be >= 0")
    if not api_key:
        _fail("--api-key: must not be empty")
    if fixture is not None:
        if not fixture.is_file():
            _fail(f"--fixture: file not found: {fixture}")
        try:
            tenant = Tenant.load(fixture)
        except (TenantError, OSError, UnicodeDecodeError) as e:
            _fail(f"--fixture: invalid fixture {fixture}: {e}")
    else:
        tenant = generate_tenant(seed=seed, users=users, apps=apps, teams=teams, projects=projects, folders=folders)
    if dump_fixture is not None:
        try:
            tenant.dump(dump_fixture)
        except OSError as e:
            _fail(f"--dump-fixture: cannot write {dump_fixture}: {e}")

    sim = BenchlingSimulator(tenant, api_key=api_key, rate_limit=rl or "off", latency_ms=latency_ms, port=port,
                             faults=fault_rates, fault_seed=seed, slow_seconds=slow_seconds,
                             activity_forbidden=forbid_activity)
    try:
        sim.start()
    except OSError as e:
        _fail(f"--port: cannot listen on 127.0.0.1:{port}: {e}")
    stop = threading.Event()

    def _on_signal(signum, frame):  # noqa: ARG001
        stop.set()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print(sim.base_url, flush=True)
    print(f"Benchling simulator: {len(tenant.users)} users, {len(tenant.apps)} apps, {len(tenant.teams)} teams, "
          f"{len(tenant.projects)} projects, {len(tenant.folders)} folders; stats at {sim.root_url}/_simulator/stats; "
          f"Ctrl-C to stop.", file=sys.stderr, flush=True)
    if fault_rates:
        print("Injecting faults: " + ", ".join(f"{k} {r:g}" for k, r in fault_rates.items())
              + f" (seed {seed}).", file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
