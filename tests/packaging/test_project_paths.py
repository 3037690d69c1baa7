"""Where whsync finds its own files in a clone (the installed case is test_installed_wheel.py), and where
dbt's work files go."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import project
from pipelines.errors import explain

from .conftest import REPO


def test_in_a_clone_the_dbt_project_and_queries_are_the_top_level_ones():
    assert project.dbt_project_dir() == REPO
    assert project.profiles_dir() == REPO / "profiles"
    assert project.queries_dir() == REPO / "examples" / "queries"


def test_the_found_project_does_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "dbt_project.yml").write_text("name: not_whsync\n")  # a dbt project of someone else's here
    monkeypatch.chdir(tmp_path)
    assert project.dbt_project_dir() == REPO


def test_cache_dir_follows_whsync_cache_dir_then_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WHSYNC_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert project.cache_dir() == tmp_path / "home" / ".cache" / "whsync"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec: relative paths are invalid
    assert project.cache_dir() == tmp_path / "home" / ".cache" / "whsync"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert project.cache_dir() == tmp_path / "xdg" / "whsync"
    monkeypatch.setenv("WHSYNC_CACHE_DIR", str(tmp_path / "mine"))
    assert project.cache_dir() == tmp_path / "mine"
    work = project.dbt_work_dir("some warehouse")
    assert work.is_dir() and work.parent == tmp_path / "mine" / "dbt"
    assert project.dbt_work_dir("another warehouse") != work  # one per warehouse (partial parse per target)


def test_an_unwritable_cache_is_a_configuration_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("WHSYNC_CACHE_DIR", str(tmp_path / "file" / "whsync"))
    with pytest.raises(Exception) as e:
        project.dbt_work_dir("w")
    message, code = explain(e.value)
    assert code == 2 and str(tmp_path / "file" / "whsync" / "dbt") in message and "WHSYNC_CACHE_DIR" in message


def test_version_is_the_package_metadata_and_pyproject_and_dbt_project_agree():
    import tomllib

    import yaml

    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert project.version() == version
    assert yaml.safe_load((REPO / "dbt_project.yml").read_text())["version"] == version
    assert f"## {version}" in (REPO / "CHANGELOG.md").read_text()


def test_whsync_version_prints_it(tmp_path):
    import subprocess
    import sys

    p = subprocess.run([str(Path(sys.executable).with_name("whsync")), "--version"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert (p.returncode, p.stdout) == (0, f"whsync {project.version()}\n"), p.stderr


def test_the_demos_hint_names_the_command_that_ran_it(tmp_path, monkeypatch):
    """`whsync` when it is the one on PATH (installed as a tool), else the path it was started by."""
    from pipelines.cli.demo import _self_command

    exe = tmp_path / "venv" / "bin" / "whsync"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["venv/bin/whsync"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert _self_command() == "venv/bin/whsync"
    monkeypatch.setenv("PATH", f"{exe.parent}:/usr/bin:/bin")
    assert _self_command() == "whsync"
    monkeypatch.chdir(tmp_path / "venv")
    monkeypatch.setattr("sys.argv", [str(exe)])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert _self_command() == "bin/whsync"
