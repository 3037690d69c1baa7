"""`whsync` command line: demo, sync, build, simulate.

Each subcommand's behaviour lives in the module that owns it; this file only wires them together.
"""
from __future__ import annotations

import typer

app = typer.Typer(
    name="whsync",
    help="Sync Benchling (and Paradime, Bencher) users, teams, projects and folders into a "
    "Benchling-compatible SQL warehouse (DuckDB by default).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

simulate_app = typer.Typer(
    help="Run a local simulator of a source API (for the demo, tests and BI development).",
    no_args_is_help=True,
)
app.add_typer(simulate_app, name="simulate")


def _register() -> None:
    from pipelines.benchling.simulator.cli import simulate_benchling

    simulate_app.command("benchling")(simulate_benchling)


_register()


if __name__ == "__main__":  # pragma: no cover
    app()
