"""The import contracts of pyproject.toml (issue 19): the layers cli -> features -> sources and targets ->
plumbing, sources independent of each other and of the targets, and no import cycle in any package. They hold
on the tree as it is, and `lint-imports` fails, naming the import, on a copy with a deliberate cycle or an
upward import."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = str(Path(sys.executable).with_name("lint-imports"))


def lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT, str(cwd / "pyproject.toml"), "--no-cache"], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def copy(tmp_path):
    """A copy of the package and pyproject.toml, to break."""
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_tree_keeps_every_contract():
    p = lint(ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 broken" in p.stdout and "layers" not in p.stderr


def test_a_cycle_between_two_source_modules_fails(copy):
    # benchling.source imports benchling.activity; make activity import source back (the cycle issue 19 removed)
    _append(copy / "pipelines/benchling/activity.py", "from .source import benchling_source  # noqa")
    p = lint(copy)
    assert p.returncode == 1, p.stdout
    assert "no import cycle between the modules of any package of pipelines/ BROKEN" in p.stdout
    assert "No cycles are allowed in pipelines.benchling" in p.stdout
    assert ".source -> .activity" in p.stdout or ".activity -> .source" in p.stdout


def test_plumbing_importing_a_feature_fails(copy):
    # errors.py reaching up to the sync (as it did for ConfigError) breaks the layers and makes a cycle
    _append(copy / "pipelines/errors.py", "from .sync import sync  # noqa")
    p = lint(copy)
    assert p.returncode == 1, p.stdout
    assert "cli -> features -> sources and targets -> plumbing BROKEN" in p.stdout
    assert "pipelines.errors -> pipelines.sync" in p.stdout


def test_a_source_importing_another_or_a_target_fails(copy):
    _append(copy / "pipelines/bencher/source.py", "from ..paradime.client import ParadimeClient  # noqa")
    _append(copy / "pipelines/benchling/client.py", "from ..targets import Target  # noqa")
    p = lint(copy)
    assert p.returncode == 1, p.stdout
    assert "pipelines.bencher.source -> pipelines.paradime.client" in p.stdout
    assert "pipelines.benchling.client -> pipelines.targets" in p.stdout


def test_a_new_module_must_be_placed_in_a_layer(copy):
    (copy / "pipelines/newthing.py").write_text("X = 1\n")
    p = lint(copy)
    assert p.returncode == 1, p.stdout
    assert "pipelines.newthing" in p.stdout


def test_no_module_is_over_about_400_lines():
    """The floor plan's size rule: a module over ~400 lines is split by responsibility (declarations such as
    schemas, templates and model YAML excepted; no Python module of pipelines/ is one today: Benchling's
    tables are `benchling/tables.py`, the PostgreSQL catalog queries `targets/pgcatalog.py`)."""
    declarations: set[str] = set()
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in (ROOT / "pipelines").rglob("*.py")}
    assert not {p: n for p, n in sizes.items() if n > 400 and p not in declarations}
