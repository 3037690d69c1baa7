"""dbt's partial parsing is shared between warehouse files (pipelines/dbt_parse_cache.py): a new file
starts from the parse of another one of the same shape instead of parsing the project in full, and
a sync's changing times (WHSYNC_SYNC_TIMES) never make dbt re-parse the history models."""
from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from pathlib import Path

import pytest

from pipelines import dbt_parse_cache
from pipelines.dbt import PROJECT_DIR, _work_dir, run_dbt
from pipelines.project import CACHE_DIR_ENV
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


def _schema_vars(prefix: str, synced: set[str], warehouse: str) -> dict[str, str]:
    """`--vars` as a PostgreSQL build names its schemas (Build.dbt_vars): the synced sources' raw data in
    `<raw>__build`, the others' where they were published, every namespace under the warehouse's prefix."""
    out = {f"{ns}_schema": f"{prefix}{ns}__build" for ns in ("paradime", "bencher", "okta")}
    out.update(warehouse_schema=warehouse, staging_schema=f"{prefix}staging__build")
    out.update({f"{s}_raw_schema": f"{prefix}{s}_raw" + ("__build" if s in synced else "")
                for s in ("benchling", "paradime", "bencher", "okta")})
    return out


def _parsed(manifest: dict) -> dict:
    """What dbt parsed (nodes, sources, unit tests), without the times it parsed them at."""
    def strip(node):  # noqa: ANN001, ANN202
        return {k: v for k, v in node.items() if k != "created_at"}

    return {section: {k: strip(v) for k, v in manifest[section].items()} for section in ("nodes", "sources", "unit_tests")}


def test_a_run_with_other_schema_vars_starts_from_the_seed_with_its_schemas_moved(tmp_path, monkeypatch):
    """A seed is keyed without the values of the schema vars: a run that names other schemas (another set of
    synced sources, another prefix, the published schemas) or another SQL dialect starts from it with the
    schemas moved, parses nothing, and has exactly the parse dbt makes for those vars itself. A warehouse whose own parse was made
    with other schema vars starts from the seed too (`VARS_STAMP`)."""
    seeded, alone = tmp_path / "seeded", tmp_path / "alone"
    monkeypatch.setenv(CACHE_DIR_ENV, str(seeded / "cache"))
    a, b = seeded / "a" / "warehouse.duckdb", seeded / "b" / "warehouse.duckdb"
    made = _schema_vars("", {"benchling", "paradime", "bencher"}, "public__build")
    # (each checked against a full parse of dbt's own, ~3 s of CPU: two moves cover the kinds)
    moves = [_schema_vars("second__", {"benchling", "okta"}, "second__build"),  # other synced sources and prefix
             {**_schema_vars("", set(), "public"), "staging_schema": "staging",  # the published schemas (docs),
              **{f"{ns}_schema": ns for ns in ("paradime", "bencher", "okta")},
              "whsync_sql_dialect": "bigquery"}]  # and a var read only when compiling
    for p in (a, b):
        p.parent.mkdir(parents=True)
    run_dbt("parse", duckdb_env(a), key=str(a), extra_args=["--vars", json.dumps(made)])
    seeds = list((seeded / "cache" / "dbt-seeds").glob("*.msgpack"))
    assert len(seeds) == 1
    assert dbt_parse_cache._load(seeds[0].read_bytes())[dbt_parse_cache.SEED_VARS] == made

    for i, now in enumerate(moves):
        args = ["--vars", json.dumps(now)]
        monkeypatch.setenv(CACHE_DIR_ENV, str(seeded / "cache"))
        key = str(b) if i == 0 else str(a)  # a new warehouse; then `a`, whose own parse has other schema vars
        before = _log(Path(key)).count("Unable to do partial parsing") if i else 0
        run_dbt("parse", duckdb_env(Path(key)), key=key, extra_args=args)
        log = _log(Path(key))
        assert log.count("Unable to do partial parsing") == before, log[-3000:]
        assert log.rstrip().endswith("Partial parsing enabled: 0 files deleted, 0 files added, 0 files changed.") \
            or "0 files deleted, 0 files added, 0 files changed." in log.rsplit("Running with dbt", 1)[-1]
        moved = dbt_parse_cache._load((_work_dir(key) / "target" / "partial_parse.msgpack").read_bytes())
        assert list((seeded / "cache" / "dbt-seeds").glob("*.msgpack")) == seeds  # one seed for every set of schemas

        # dbt's own parse for these vars, in a cache of its own (no seed: a full parse)
        monkeypatch.setenv(CACHE_DIR_ENV, str(alone / str(i) / "cache"))
        own = alone / str(i) / "x" / "warehouse.duckdb"
        own.parent.mkdir(parents=True)
        run_dbt("parse", duckdb_env(own), key=str(own), extra_args=args)
        assert "Starting full parse" in _log(own)
        full = dbt_parse_cache._load((_work_dir(str(own)) / "target" / "partial_parse.msgpack").read_bytes())
        assert _parsed(moved) == _parsed(full), i
        same = lambda m: {k: v for k, v in m["state_check"].items() if k != "profile_hash"}  # noqa: E731 - the paths differ
        assert same(moved) == same(full)  # dbt's vars hash of these vars, recomputed for the moved parse
        schemas = {n["schema"] for n in moved["nodes"].values() if n["resource_type"] == "model"}
        assert schemas >= {now["warehouse_schema"], now["staging_schema"], now["okta_schema"]}


def test_schema_vars_that_do_not_say_which_schema_moves_are_not_moved():
    """Two schema vars of one value, only one of them changing: a schema of that value cannot be moved."""
    manifest = {"nodes": {"model.x.m": {"schema": "s", "relation_name": '"db"."s"."m"', "config": {"schema": "s"}}}}
    with pytest.raises(ValueError, match="shares its value"):
        dbt_parse_cache._move_schemas(manifest, {"a_schema": "s", "b_schema": "s"}, {"a_schema": "t", "b_schema": "s"})
    dbt_parse_cache._move_schemas(manifest, {"a_schema": "s", "b_schema": "u"}, {"a_schema": 'q"t', "b_schema": "u"})
    assert manifest["nodes"]["model.x.m"] == {"schema": 'q"t', "relation_name": '"db"."q""t"."m"', "config": {"schema": 'q"t'}}


def test_a_run_that_needs_the_seed_another_run_is_making_waits_for_it(tmp_path, monkeypatch):
    """Two runs of one shape with no seed yet: the one that starts second waits on the shape's lock, held by
    the one parsing in full, and starts from the seed that one leaves instead of parsing in full too."""
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    a, b = tmp_path / "a" / "warehouse.duckdb", tmp_path / "b" / "warehouse.duckdb"
    for p in (a, b):
        p.parent.mkdir()
    run_dbt("parse", duckdb_env(a), key=str(a))  # a seed, set aside: as if `a` were still parsing
    (seed,) = (tmp_path / "cache" / "dbt-seeds").glob("*.msgpack")
    aside = seed.with_name("aside")
    seed.rename(aside)
    fd = os.open(seed.with_suffix(".lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # what the run parsing in full holds (another process in practice)
    done = threading.Event()
    runner = threading.Thread(target=lambda: (run_dbt("parse", duckdb_env(b), key=str(b)), done.set()))
    try:
        runner.start()
        time.sleep(1.5)
        assert not done.is_set() and not (_work_dir(str(b)) / "logs" / "dbt.log").exists()  # waiting, not parsing
        aside.rename(seed)  # the first run leaves its seed and ends
    finally:
        os.close(fd)
    runner.join(120)
    assert done.is_set()
    log = _log(b)
    assert "Unable to do partial parsing" not in log and "0 files changed" in log, log[-3000:]


def test_vars_that_are_not_a_mapping_leave_the_error_to_dbt(tmp_path):
    """--vars dbt will refuse (not a mapping, not YAML): no seed is used or looked for, nothing raises here."""
    env = duckdb_env(tmp_path / "w.duckdb")
    for text in ("[1, 2]", "{a: [", "7"):
        args = ["--target-path", str(tmp_path / "t"), "--vars", text]
        assert dbt_parse_cache.before_run(tmp_path / "seeds", PROJECT_DIR, args, env) is None
        with dbt_parse_cache.seeded(tmp_path / "seeds", PROJECT_DIR, args, env) as started:
            assert started is None
        dbt_parse_cache.after_run(tmp_path / "seeds", PROJECT_DIR, args, env)
    assert not (tmp_path / "seeds").exists()
