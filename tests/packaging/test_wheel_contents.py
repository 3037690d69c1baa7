"""What the wheel carries: the package, its simulators, the dbt project (every path dbt_project.yml
names) and the report's queries, byte for byte as in the checkout; no test, benchmark or cache file;
runtime dependencies only."""
from __future__ import annotations

import subprocess
import tomllib
import zipfile
from email.parser import Parser
from pathlib import PurePosixPath

import yaml
from packaging.requirements import Requirement

from .conftest import REPO, wheel_names

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
JUNK_DIRS = {"tests", "tests_dbt", "bench", "__pycache__", ".pytest_cache", "target", "logs", "dbt_packages",
             ".venv", ".tools", ".git", ".dlt", "docs", "artifacts"}
JUNK_SUFFIXES = (".pyc", ".pyo", ".duckdb", ".wal", ".lock", ".log", ".msgpack", ".tmp", ".orig", ".rej", "~")


def tracked(path: str) -> list[str]:
    """The checkout's files under `path` that git tracks (what a release is built from)."""
    out = subprocess.run(["git", "ls-files", "-z", "--", path], cwd=REPO, capture_output=True, text=True, check=True)
    return [f for f in out.stdout.split("\0") if f]


def is_junk(name: str) -> bool:
    path = PurePosixPath(name)
    dirs = set(path.parts[:-1])
    if name.startswith("pipelines/dbt_project/macros/tests/"):  # dbt generic tests: macros dbt build runs
        dirs.discard("tests")
    return bool(JUNK_DIRS & dirs) or name.endswith(JUNK_SUFFIXES) or path.name.startswith((".", "test_", "conftest"))


def test_the_wheel_has_no_test_benchmark_or_cache_file(wheel):
    names = wheel_names(wheel)
    junk = [n for n in names if is_junk(n)]
    assert junk == []
    tops = {PurePosixPath(n).parts[0] for n in names}
    assert tops == {"pipelines", f"whsync-{PYPROJECT['project']['version']}.dist-info"}


def test_the_wheel_carries_the_package_its_simulators_and_its_dbt_project(wheel):
    names = set(wheel_names(wheel))
    with zipfile.ZipFile(wheel) as z:
        def same(src: str, dst: str) -> bool:
            return dst in names and z.read(dst) == (REPO / src).read_bytes()

        missing = [f for f in tracked("pipelines") if not same(f, f)]
        assert missing == []  # every tracked file of the package, simulators and report templates included
        for source in ("benchling", "paradime", "bencher"):
            assert f"pipelines/{source}/simulator/__init__.py" in names

        project = yaml.safe_load((REPO / "dbt_project.yml").read_text())
        assert same("dbt_project.yml", "pipelines/dbt_project/dbt_project.yml")
        dirs = [d for key, paths in project.items() if key.endswith("-paths") and key not in ("clean-targets",)
                for d in paths] + ["profiles"]
        assert {"models", "macros", "profiles"} <= set(dirs)
        for d in dirs:  # a path dbt reads that exists in the checkout travels with the wheel, file for file
            files = tracked(d)
            assert (REPO / d).is_dir() == bool(files), d
            assert [f for f in files if not same(f, f"pipelines/dbt_project/{f}")] == [], d
        queries = tracked("examples/queries")
        assert len(queries) > 10
        assert [f for f in queries if not same(f, "pipelines/report/queries/" + f.removeprefix("examples/queries/"))] == []


def test_the_wheel_metadata_names_the_version_the_command_and_only_runtime_dependencies(wheel):
    with zipfile.ZipFile(wheel) as z:
        info = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(z.read(info).decode())
        entry_points = z.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert meta["Name"] == "whsync" and meta["Version"] == PYPROJECT["project"]["version"]
    assert "whsync = pipelines.cli:app" in entry_points
    shipped = {Requirement(r).name for r in meta.get_all("Requires-Dist")}
    assert shipped == {Requirement(r).name for r in PYPROJECT["project"]["dependencies"]}
    dev_only = {Requirement(r).name for group in PYPROJECT["dependency-groups"].values() for r in group}
    assert dev_only and not shipped & dev_only


def test_the_image_build_context_holds_what_the_wheel_needs_and_no_tests(tmp_path):
    """The wheel above was built from this context (conftest `wheel`); here: nothing else goes in."""
    from .conftest import docker_context, tracked_files

    kept = docker_context(tmp_path, tracked_files())
    assert {"pyproject.toml", "uv.lock", "README.md", "dbt_project.yml"} <= set(kept)
    tops = {PurePosixPath(f).parts[0] for f in kept}
    assert tops == {"pyproject.toml", "uv.lock", "README.md", "dbt_project.yml", "pipelines", "models", "macros",
                    "profiles", "examples"}
    assert all(f.startswith("examples/queries/") for f in kept if f.startswith("examples/"))
