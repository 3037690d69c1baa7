"""`whsync simulate okta`: serve a local Okta org (users, groups, apps, OAuth token endpoint) until SIGINT/SIGTERM."""
from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Optional

import typer


def simulate_okta(
    fixture: Optional[Path] = typer.Option(None, "--fixture", help="Directory fixture JSON (default: a generated demo org)."),
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (0 = any free port)."),
    api_token: Optional[str] = typer.Option(
        None, "--api-token", help="The SSWS API token the simulator accepts (default: the fixture's, else the demo "
        "token). A made-up token for a local simulator, not a real Okta credential."),
    seed: int = typer.Option(0, "--seed", help="Seed of the generated demo org."),
    users: int = typer.Option(50, "--users", help="Users in the generated demo org."),
) -> None:
    """Serve a local Okta org: users in every status, groups and members, apps and assigned users."""
    from .directory import DEMO_API_TOKEN, generate_directory, load_fixture
    from .server import OktaSimulator

    fx = load_fixture(fixture) if fixture is not None else generate_directory(seed, users=users)
    sim = OktaSimulator(fx, api_token=api_token, port=port).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        typer.echo(f"okta org: {sim.org_url}")
        if sim.api_token == DEMO_API_TOKEN:
            typer.echo(f"demo token: OKTA_ORG_URL={sim.org_url} OKTA_API_TOKEN={DEMO_API_TOKEN}")
        else:
            typer.echo(f"set OKTA_ORG_URL={sim.org_url} and OKTA_API_TOKEN to the token given (never printed)")
        typer.echo("serving; press Ctrl-C to stop", err=True)
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
