"""Other DuckDB releases in throwaway environments (never in whsync's own), for reader tests.

`duckdb_env("duckdb==1.4.*")` makes (once; later runs reuse it) a virtualenv under
~/.cache/whsync-test-duckdb with that requirement installed by uv, and returns its bin directory.
A file lock keeps parallel test workers from building the same environment twice.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("WHSYNC_TEST_DUCKDB_CACHE", Path.home() / ".cache" / "whsync-test-duckdb"))


def _uv() -> str:
    for cand in (ROOT / ".tools" / "bin" / "uv", shutil.which("uv")):
        if cand and Path(cand).exists():
            return str(cand)
    raise RuntimeError("uv not found: run `make .venv/.synced` (it installs .tools/bin/uv)")


def duckdb_env(*requirements: str) -> Path:
    """The bin directory of a cached virtualenv holding `requirements` (e.g. 'duckdb==1.4.*')."""
    name = re.sub(r"[^A-Za-z0-9.]+", "_", "-".join(requirements))[:60]
    env = CACHE / f"{name}-{hashlib.sha1('|'.join(requirements).encode()).hexdigest()[:8]}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (env / ".ok").exists():
            shutil.rmtree(env, ignore_errors=True)
            clean = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
            subprocess.run([_uv(), "venv", "--quiet", str(env)], check=True, env=clean, timeout=300)
            subprocess.run([_uv(), "pip", "install", "--quiet", "--python", str(env / "bin" / "python"),
                            *requirements], check=True, env=clean, timeout=600)
            (env / ".ok").touch()
    return env / "bin"
