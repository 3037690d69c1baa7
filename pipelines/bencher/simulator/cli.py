"""`whsync simulate bencher`: serve a local Bencher REST API until SIGINT/SIGTERM."""
from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Optional

import typer


def simulate_bencher(
    fixture: Optional[Path] = typer.Option(
        None, "--fixture", help="Organizations fixture JSON (default: a generated demo)."
    ),
    port: int = typer.Option(61016, "--port", help="Port on 127.0.0.1 (0 = any free port; 61016 is "
                             "self-hosted Bencher's default)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the generated demo."),
) -> None:
    """Serve a local Bencher API (organizations and members)."""
    from .server import DEMO_TOKEN, BencherSimulator, generate_fixture, load_fixture

    fx = load_fixture(fixture) if fixture is not None else generate_fixture(seed)
    sim = BencherSimulator(fx, port=port).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        typer.echo(f"bencher api: {sim.base_url}")
        if sim.token == DEMO_TOKEN:
            typer.echo(f"demo token: BENCHER_API_URL={sim.base_url} BENCHER_API_TOKEN={DEMO_TOKEN}")
        else:
            typer.echo("token: as set in the fixture")
        typer.echo("serving; press Ctrl-C to stop", err=True)
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
