"""The `whsync` command line's surface, read from the real CLI: every command and sub-command, and each one's
options (every flag spelling), arguments and whether they are flags or required. `tests/cli_surface.json`
holds the surface as it was before the CLI became a package (issue 19); `test_cli_surface.py` compares.

Regenerate after a deliberate change of the CLI: `.venv/bin/python -m tests.cli_surface > tests/cli_surface.json`.
"""
from __future__ import annotations

import json
from typing import Any

import typer.main


def surface() -> dict[str, Any]:
    from pipelines.cli import app

    return _command(typer.main.get_command(app))


def _command(cmd: Any) -> dict[str, Any]:  # typer's (vendored) click Command or Group
    out: dict[str, Any] = {"params": sorted((_param(p) for p in cmd.params), key=lambda p: p["name"])}
    if hasattr(cmd, "commands"):
        out["commands"] = {name: _command(sub) for name, sub in sorted(cmd.commands.items())}
    return out


def _param(p: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"name": p.name, "kind": p.param_type_name,
                         "flags": sorted(p.opts + p.secondary_opts), "required": p.required, "multiple": p.multiple}
    if p.param_type_name == "option":
        d["is_flag"] = p.is_flag
    return d


if __name__ == "__main__":
    print(json.dumps(surface(), indent=1, sort_keys=True))
