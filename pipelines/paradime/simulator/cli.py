"""`whsync simulate paradime`: serve a local Paradime GraphQL API until SIGINT/SIGTERM."""
from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Optional

import typer


def simulate_paradime(
    fixture: Optional[Path] = typer.Option(
        None, "--fixture", help="Workspace fixture JSON (default: a generated demo account)."
    ),
    port: int = typer.Option(8770, "--port", help="Port on 127.0.0.1 (0 = any free port)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the generated demo account."),
) -> None:
    """Serve a local Paradime User Management API (one GraphQL endpoint per workspace)."""
    from .server import DEMO_API_KEY, DEMO_API_SECRET, ParadimeSimulator, generate_workspaces, load_fixture

    if fixture is not None:
        fx = load_fixture(fixture)
        sim = ParadimeSimulator(
            fx["workspaces"], api_key=fx["api_key"], api_secret=fx["api_secret"],
            bearer_token=fx["bearer_token"], port=port,
        )
    else:
        sim = ParadimeSimulator(generate_workspaces(seed), port=port)
    sim.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        for ws in sim.workspaces:
            typer.echo(f"workspace {ws.name}: {sim.endpoint_for(ws.name)}")
        if sim.api_key == DEMO_API_KEY and sim.api_secret == DEMO_API_SECRET:
            typer.echo(
                f"demo credentials: PARADIME_API_KEY={DEMO_API_KEY} PARADIME_API_SECRET={DEMO_API_SECRET}"
            )
        else:
            typer.echo("credentials: as set in the fixture")
        typer.echo("serving; press Ctrl-C to stop", err=True)
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
