"""The wheel as an operator gets it, made the way the Dockerfile makes it: built with `uv build --wheel`
from the files the image's build context holds (.dockerignore), installed into a fresh virtualenv outside
the checkout (the runtime dependencies exactly as uv.lock pins them, no dev or dagster group, from a folder
holding only pyproject.toml and uv.lock; then the wheel with --no-deps), and run from an empty directory."""
from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def uv() -> str:
    """The uv `make` bootstraps (.tools/bin/uv), else the one on PATH."""
    local = REPO / ".tools" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if not found:
        pytest.fail("uv is needed to build and install the wheel: run `make .venv/.synced` (it bootstraps .tools/bin/uv)")
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a shell that never saw the checkout: no virtualenv, PYTHONPATH or uv project
    settings of the test run, no source credentials."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT", "UV_PROJECT", "CONDA_PREFIX")
    env = {k: v for k, v in os.environ.items()
           if k not in drop and not k.startswith(("BENCHLING_", "WHSYNC_", "PARADIME_", "BENCHER_", "PYTEST_"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and not Path(p).resolve().is_relative_to(REPO))
    env.update(extra)
    return env


def run_uv(args: list[str], env: dict[str, str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """`uv ARGS --offline` (from uv's cache, which `make` filled from the same lock); if the cache lacks
    something, once more with the package registry."""
    p = subprocess.run([uv(), *args, "--offline"], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        p = subprocess.run([uv(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"uv {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
    return p


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True)
    return [f for f in out.stdout.split("\0") if f and (REPO / f).is_file()]


def docker_context(dest: Path, files: list[str]) -> list[str]:
    """Copy into `dest` the files of `files` that .dockerignore lets into the image's build context (its
    rules, last match wins: `*`, `!path` and `!dir/`, and `**/pattern`); return them."""
    rules = [ln.strip() for ln in (REPO / ".dockerignore").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]

    def matches(pattern: str, path: str) -> bool:
        pattern = pattern.rstrip("/")
        if pattern.startswith("**/"):
            return any(fnmatch.fnmatch(part, pattern[3:]) for part in path.split("/")) or fnmatch.fnmatch(path, pattern[3:])
        return fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/")

    kept = []
    for f in files:
        included = True
        for rule in rules:
            negated = rule.startswith("!")
            if matches(rule.lstrip("!"), f):
                included = negated
        if included:
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / f, dest / f)
            kept.append(f)
    return kept


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """`uv build --wheel` of the image's build context: the checkout's files that .dockerignore keeps."""
    context = tmp_path_factory.mktemp("context")
    docker_context(context, tracked_files())
    out = tmp_path_factory.mktemp("dist")
    run_uv(["build", "--wheel", "--out-dir", str(out), str(context)], clean_env(), cwd=out)
    (whl,) = out.glob("whsync-*.whl")
    return whl


@dataclass
class Installed:
    venv: Path
    home: Path  # $HOME of every command run (so the per-user cache is the test's)
    wheel: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def site_packages(self) -> Path:
        (sp,) = self.venv.glob("lib/python*/site-packages")
        return sp

    def env(self) -> dict[str, str]:
        env = clean_env(HOME=str(self.home))
        env.pop("XDG_CACHE_HOME", None)
        env["PATH"] = os.pathsep.join([str(self.bin), env["PATH"]])
        return env

    def run(self, *args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin / "whsync"), *args], cwd=cwd, env=self.env(), capture_output=True,
                              text=True, timeout=timeout)


def install(wheel: Path, venv: Path) -> None:
    """What the Dockerfile's build stage does: `uv sync` of the locked runtime dependencies into VENV
    (no dev or dagster group, not the project itself) from a folder with only pyproject.toml and uv.lock,
    then the wheel without re-resolving anything."""
    lock_only = venv.parent / "lock"
    lock_only.mkdir()
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy2(REPO / name, lock_only / name)
    env = clean_env(UV_PROJECT_ENVIRONMENT=str(venv), UV_PYTHON_DOWNLOADS="never", UV_COMPILE_BYTECODE="1")
    run_uv(["sync", "--frozen", "--no-default-groups", "--no-install-project", "--no-editable", "--quiet"],
           env, cwd=lock_only)
    run_uv(["pip", "install", "--python", str(venv / "bin" / "python"), "--no-deps", "--quiet", str(wheel)],
           clean_env(UV_PYTHON_DOWNLOADS="never"), cwd=venv.parent)


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory) -> Installed:
    root = tmp_path_factory.mktemp("tool")
    home = root / "home"
    home.mkdir()
    install(wheel, root / "venv")
    return Installed(root / "venv", home, wheel)


def wheel_names(whl: Path) -> list[str]:
    with zipfile.ZipFile(whl) as z:
        return z.namelist()
