"""dbt's partial parsing is shared between warehouse files (pipelines/dbt_parse_cache.py): a new file
starts from the parse of another one of the same shape instead of parsing the project in full, and
a sync's changing times (WHSYNC_SYNC_TIMES) never make dbt re-parse the history models."""
from __future__ import annotations

import json
from pathlib import Path

from pipelines import dbt_parse_cache
from pipelines.dbt import PROJECT_DIR, _work_dir, run_dbt
from pipelines.targets.duckdb import duckdb_env


def _log(path: Path) -> str:
    return (_work_dir(str(path)) / "logs" / "dbt.log").read_text(errors="replace")


def test_a_new_warehouse_file_starts_from_the_parse_of_another(tmp_path):
    first, second = tmp_path / "a" / "warehouse.duckdb", tmp_path / "b" / "warehouse.duckdb"
    for p in (first, second):
        p.parent.mkdir()
    env = {**duckdb_env(first), "WHSYNC_SYNC_TIMES": json.dumps({"benchling": "2026-01-01 00:00:00"})}
    run_dbt("parse", env, key=str(first))
    seed = dbt_parse_cache._seed_path(_work_dir(str(first)).parent.parent / "dbt-seeds", PROJECT_DIR, env,
                                      dbt_parse_cache._settings(env), [])
    assert seed.is_file()  # the run left its parse for the next file of this shape

    env2 = {**duckdb_env(second), "WHSYNC_SYNC_TIMES": json.dumps({"benchling": "2026-01-02 00:00:00"})}
    kept = seed.stat().st_mtime_ns
    run_dbt("parse", env2, key=str(second))
    assert seed.stat().st_mtime_ns == kept  # it parsed nothing new: the seed it started from is not written again
    log = _log(second)
    assert "Unable to do partial parsing" not in log, log[-3000:]
    # nothing to re-parse: the new path and the new sync times change no parsed file
    assert "Partial parsing enabled: 0 files deleted, 0 files added, 0 files changed." in log
    manifest = dbt_parse_cache._load((_work_dir(str(second)) / "target" / "partial_parse.msgpack").read_bytes())
    assert "WHSYNC_SYNC_TIMES" not in manifest["env_vars"]
    assert manifest["state_check"]["profile_hash"]["checksum"] == dbt_parse_cache._profile_hash(
        dbt_parse_cache._settings(env2))  # dbt's own hash of the second file's settings
    assert {n["database"] for n in manifest["nodes"].values() if n["resource_type"] == "model"} == {"warehouse"}

    # a run with its own --target-path (as `whsync docs` runs dbt) starts from the seed there
    third = tmp_path / "c" / "warehouse.duckdb"
    third.parent.mkdir()
    run_dbt("parse", {**duckdb_env(third)}, key=str(third), extra_args=["--target-path", str(tmp_path / "docs")])
    assert "Unable to do partial parsing" not in _log(third)
    assert (tmp_path / "docs" / "partial_parse.msgpack").is_file()


def test_a_file_of_another_name_starts_from_the_seed_with_its_database_moved(tmp_path):
    """The parsed nodes carry the database name (the file's stem): a file of another name starts from the same
    seed, its nodes' and sources' `database` and `relation_name` rewritten to its own name, and parses nothing."""
    a, b = tmp_path / "one.duckdb", tmp_path / "two.duckdb"
    sa, sb = (dbt_parse_cache._seed_path(Path("/r"), PROJECT_DIR, duckdb_env(p), dbt_parse_cache._settings(duckdb_env(p)))
              for p in (a, b))
    assert sa == sb  # one seed for both names
    run_dbt("parse", duckdb_env(a), key=str(a))
    run_dbt("parse", duckdb_env(b), key=str(b))
    log = _log(b)
    assert "Unable to do partial parsing" not in log, log[-3000:]
    assert "Partial parsing enabled: 0 files deleted, 0 files added, 0 files changed." in log
    manifest = dbt_parse_cache._load((_work_dir(str(b)) / "target" / "partial_parse.msgpack").read_bytes())
    relations = [n for section in ("nodes", "sources") for n in manifest[section].values() if n.get("relation_name")]
    assert len(relations) > 50
    assert {n["database"] for n in relations} == {"two"}
    assert all(n["relation_name"].startswith('"two".') for n in relations)
    assert manifest["state_check"]["profile_hash"]["checksum"] == dbt_parse_cache._profile_hash(
        dbt_parse_cache._settings(duckdb_env(b)))  # dbt's own hash of the second file's settings
