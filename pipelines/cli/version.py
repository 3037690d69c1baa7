"""`whsync --version`: the installed package's version (its metadata, as in `sync_run.whsync_version`)."""
from __future__ import annotations

import typer

from .common import app


def _print_version(value: bool) -> None:
    if value:
        from ..project import version

        print(f"whsync {version()}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print whsync's version (from the installed package) and exit."),
) -> None:
    pass
