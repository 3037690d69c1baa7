"""The test session's whsync cache (tests/conftest.py): dbt's work directories, parse seeds and compiled
templates of every test go to a directory of the session, not to the per-user cache, in the tests' own
process and in the whsync processes they start (tests/helpers.py `child_env`)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.project import cache_dir
from tests.helpers import child_env, seeded_cache

PRINT_CACHE_DIR = "from pipelines.project import cache_dir; print(cache_dir())"


def test_whsync_writes_its_cache_in_the_sessions_directory_not_the_users(tmp_path, monkeypatch):
    session = Path(os.environ["WHSYNC_CACHE_DIR"])
    assert cache_dir() == session and session.is_dir()
    assert session != Path.home() / ".cache" / "whsync"
    monkeypatch.setenv("WHSYNC_POSTGRES_DSN", "postgresql://someone@elsewhere/db")  # a developer's own setting
    env = child_env("BENCHLING_", "WHSYNC_", "PG")
    assert "WHSYNC_POSTGRES_DSN" not in env and env["WHSYNC_CACHE_DIR"] == str(session)
    # a child whose environment leaves out a developer's WHSYNC_ settings keeps the session's cache dir
    p = subprocess.run([sys.executable, "-c", PRINT_CACHE_DIR], env=env,
                       cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True)
    assert Path(p.stdout.strip()) == session


def test_a_seeded_cache_holds_the_sessions_seeds_and_templates(tmp_path, monkeypatch):
    session = tmp_path / "session"
    for kept, name in (("dbt-seeds", "0123456789abcdef.msgpack"), ("dbt-jinja", "compiled-0123.marshal")):
        (session / kept).mkdir(parents=True)
        (session / kept / name).write_bytes(b"x")
        (session / kept / f".{name}.partial").write_bytes(b"")  # being written (write_atomically): not copied
    (session / "dbt-seeds" / "0123456789abcdef.lock").write_bytes(b"")  # a shape's lock (dbt_parse_cache.seeded)
    other = tmp_path / "other"  # another test's cache dir, without templates
    (other / "dbt-seeds").mkdir(parents=True)
    (other / "dbt-seeds" / "fedcba9876543210.msgpack").write_bytes(b"y")
    monkeypatch.setenv("WHSYNC_CACHE_DIR", str(session))
    mine = seeded_cache(tmp_path / "mine", other)
    assert sorted(str(f.relative_to(mine)) for f in mine.rglob("*") if f.is_file()) == [
        "dbt-jinja/compiled-0123.marshal", "dbt-seeds/0123456789abcdef.msgpack", "dbt-seeds/fedcba9876543210.msgpack"]
