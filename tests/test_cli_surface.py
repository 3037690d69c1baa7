"""`whsync --help` and every sub-command's `--help` keep their substance (issue 19): the commands, their
options (every spelling), arguments and flags, read from the real CLI, equal `tests/cli_surface.json`, recorded
from the CLI before it became a package; and each help page renders and names each of its options."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli_surface import surface

RECORDED = json.loads((Path(__file__).with_name("cli_surface.json")).read_text())


def _paths(node, prefix=()):
    yield prefix, node
    for name, sub in node.get("commands", {}).items():
        yield from _paths(sub, (*prefix, name))


def test_commands_and_options_are_the_recorded_ones():
    now = surface()
    assert [p for p, _ in _paths(now)] == [p for p, _ in _paths(RECORDED)]
    for (path, node), (_, old) in zip(_paths(now), _paths(RECORDED)):
        assert node["params"] == old["params"], f"whsync {' '.join(path)}: options changed"


@pytest.mark.parametrize("path", [p for p, _ in _paths(RECORDED)], ids=lambda p: " ".join(p) or "whsync")
def test_every_help_page_renders_with_its_options(path):
    from pipelines.cli import app

    node = dict(_paths(RECORDED))[path]
    res = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "300", "TERMINAL_WIDTH": "300"})
    assert res.exit_code == 0, res.output
    assert "Usage:" in res.output
    for p in node["params"]:
        if p["kind"] == "option":
            assert any(f in res.output for f in p["flags"]), f"{p['flags']} missing from `whsync {' '.join(path)} --help`"
    for name in node.get("commands", {}):
        assert name in res.output
