"""dbt's partial parsing, shared between warehouses of the same shape.

dbt keeps its parsed project in `<target-path>/partial_parse.msgpack` and reuses it only when the
profile's connection settings hash the same. A DuckDB profile's settings include the file's path, so
every new warehouse file (a first sync, each test's temporary warehouse) paid a full parse of the
project (about 3 s of CPU) although nothing parsed depends on where the file is: the parsed nodes
carry the database's *name* (the file's stem, `warehouse` for `warehouse.duckdb`), never its directory.

The same holds for PostgreSQL, where each new database (a first sync into it, each test's database) paid
the full parse. On both, the parsed nodes carry the database's name in `database` and in the quoted
prefix of `relation_name`, and nowhere else, so a seed made in another database (a DuckDB file of
another name) has those rewritten (`_move_database`).

So after a run, its parse is kept as a seed for warehouses that differ only in where they are
(same project directory, target type and every connection setting but the location); a run with no
parse of its own starts from that seed, its `profile_hash` recomputed for its own settings exactly
as dbt computes it (`build_manifest_state_check`). dbt still checks everything else itself (its
version, the vars, environment variables, every project file's checksum) and parses again whatever
changed, or the whole project when the seed does not fit. A seed is only written when recomputing
the hash of the run that made it gives the hash dbt stored, so a dbt that hashes differently just
parses in full, as before.

The schemas are moved alike. dbt parses the project again in full whenever `--vars` differ, and whsync's
`--vars` name the schemas a run reads and writes (`*_schema`, from `Build.dbt_vars`): on PostgreSQL they
change with the sources a sync loads (a synced source's raw data is in `<raw>__build`), with a warehouse's
schema prefix, and between a build and `whsync docs` (the published schemas). Those values are only where
dbt wrote them (each node's, source's and unit test's `schema`, the `schema` of its config, and the quoted
schema in its `relation_name`), so a seed keeps the schema vars it was parsed with and is keyed without
their values; a run with other values starts from it with those places rewritten (`_move_schemas`) and
dbt's vars hash recomputed. A var dbt reads only when it compiles (`COMPILE_ONLY_VARS`) is not in the key
either; every other var is, as before. A run whose own parse was made with other `--vars` (the work dir's
`VARS_STAMP` says) starts from the seed likewise.

Runs of one shape that start together parse it in full once: the first holds the shape's lock while it
parses, and the others wait for its seed (`seeded`).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pprint
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

PARTIAL_PARSE = "partial_parse.msgpack"
# connection settings that say where the warehouse is, not what dbt parses for it (the `database`, PostgreSQL's
# or a DuckDB file's stem, is in the parsed nodes, rewritten by `_move_database`)
LOCATION_KEYS = {"path", "host", "port", "user", "database"}
# `--vars` that name a schema (Build.dbt_vars): moved between seeds and runs (`_move_schemas`), not in a seed's key
SCHEMA_VAR_SUFFIX = "_schema"
# `--vars` that dbt reads only when it compiles, never into the parse (tests/test_dbt_parse_cache.py proves it):
# not in a seed's key either, and nothing to move
COMPILE_ONLY_VARS = frozenset({"whsync_sql_dialect"})  # macros/portable.sql
SEED_VARS = "_whsync_schema_vars"  # in a seed: the schema vars it was parsed with (dropped before dbt reads it)
VARS_STAMP = "whsync_parse_vars.json"  # beside a run's parse: the `--vars` it was made with


def _credentials(env: dict[str, str]) -> Any | None:
    """The adapter credentials `profiles/profiles.yml` renders from `env` (None: not known here)."""
    target = env.get("WHSYNC_TARGET", "duckdb")
    if target == "duckdb":
        from dbt.adapters.duckdb.credentials import DuckDBCredentials

        return DuckDBCredentials.from_dict({"path": env.get("WHSYNC_DUCKDB_PATH", "warehouse.duckdb"),
                                            "schema": "main"})
    if target == "postgres":  # as profiles/profiles.yml renders it (the password is not a setting dbt hashes)
        from dbt.adapters.postgres.connections import PostgresCredentials

        return PostgresCredentials.from_dict({
            "host": env.get("WHSYNC_PG_HOST", "localhost"), "port": int(env.get("WHSYNC_PG_PORT", "5432")),
            "user": env.get("WHSYNC_PG_USER", "postgres"), "password": "",
            "dbname": env.get("WHSYNC_PG_DBNAME", "postgres"), "schema": env.get("WHSYNC_PG_SCHEMA", "public")})
    return None


def _move_database(manifest: dict[str, Any], new: str) -> None:
    """Point a parse made in another database at `new`: every parsed node's and source's `database`, and the
    `"database".` prefix of its `relation_name` (where dbt writes the name; nowhere else). A no-op when the seed
    was made in a database of that name."""
    old = {n.get("database") for n in manifest["nodes"].values() if n.get("resource_type") == "model"}
    if len(old) != 1:
        raise ValueError("the seed's models name more than one database")
    (was,) = old
    if was == new:
        return
    prefix, moved = f'"{was}".', f'"{new}".'
    for section in manifest.values():
        for node in section.values() if isinstance(section, dict) else ():
            if not isinstance(node, dict):
                continue
            if node.get("database") == was:
                node["database"] = new
            name = node.get("relation_name")
            if isinstance(name, str) and name.startswith(prefix):
                node["relation_name"] = moved + name[len(prefix):]


def _settings(env: dict[str, str]) -> list[tuple[str, Any]] | None:
    try:
        creds = _credentials(env)
        return sorted(creds.connection_info()) if creds is not None else None
    except Exception:  # noqa: BLE001 - no seed is always a correct answer
        return None


def _profile_hash(settings: list[tuple[str, Any]]) -> str:
    from dbt.contracts.files import FileHash

    return FileHash.from_contents(pprint.pformat(settings)).checksum


def _seed_path(root: Path, project_dir: Path, env: dict[str, str], settings: list[tuple[str, Any]],
               args: list[str] | None = None) -> Path:
    """One seed per shape: the project, the target type, the settings but their location, the `--vars` but the
    values of the schema vars (dbt re-parses everything when other vars differ, so runs with other values of
    those keep their own seed; the schemas are moved)."""
    shape = [(k, v) for k, v in settings if k not in LOCATION_KEYS]
    schemas, others = _split_vars(_cli_vars(args))
    digest = hashlib.sha1(f"{project_dir}|{env.get('WHSYNC_TARGET', 'duckdb')}|{shape!r}|{sorted(others.items())!r}|"
                          f"{sorted(schemas)!r}".encode()).hexdigest()[:16]
    return root / f"{digest}.msgpack"


def _cli_vars(args: list[str] | None) -> dict[str, Any]:
    """The run's `--vars` as dbt reads them (YAML; none: {})."""
    text = _arg(args, "--vars")
    if text is None:
        return {}
    import yaml

    value = yaml.safe_load(text)
    if not isinstance(value, dict):
        raise ValueError("--vars is not a mapping")
    return value


def _split_vars(cli_vars: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """(the schema vars, every other var but those dbt reads only when compiling)."""
    schemas = {k: v for k, v in cli_vars.items() if k.endswith(SCHEMA_VAR_SUFFIX) and isinstance(v, str)}
    return schemas, {k: v for k, v in cli_vars.items() if k not in schemas and k not in COMPILE_ONLY_VARS}


def _vars_hash(cli_vars: dict[str, Any]) -> str:
    """dbt's `vars_hash` of a run with these `--vars` and no --profile or --target (ManifestLoader's
    build_manifest_state_check)."""
    from dbt.contracts.files import FileHash
    from dbt.version import __version__

    return FileHash.from_contents("\x00".join([pprint.pformat(cli_vars), "", "", __version__])).checksum


_QUOTED = re.compile(r'^("(?:[^"]|"")*")\.("(?:[^"]|"")*")\.(.+)$', re.S)


def _move_schemas(manifest: dict[str, Any], was: dict[str, str], now: dict[str, str]) -> None:
    """Point a parse made with the schema vars `was` at the schema vars `now` (the same names): each parsed
    node's, source's and unit test's `schema`, its config's `schema`, and the quoted schema in its
    `relation_name`, where dbt writes a schema var's value. A no-op when no value differs. Raises ValueError
    when the values do not say which var a schema came from (two vars of one value, one of them changing)."""
    if set(was) != set(now):
        raise ValueError("the seed names other schema vars")
    moved = {was[k]: now[k] for k in was if was[k] != now[k]}
    if not moved:
        return
    for k in was:
        if was[k] in moved and moved[was[k]] != now[k]:
            raise ValueError(f"schema var {k} shares its value {was[k]!r} with one that changes")

    def schema(value: Any) -> Any:
        return moved.get(value, value) if isinstance(value, str) else value

    def relation(value: Any) -> Any:
        m = _QUOTED.match(value) if isinstance(value, str) else None
        if not m:
            return value
        name = m.group(2)[1:-1].replace('""', '"')
        if name not in moved:
            return value
        return f'{m.group(1)}."{moved[name].replace(chr(34), chr(34) * 2)}".{m.group(3)}'

    for section in ("nodes", "sources", "unit_tests", "disabled"):
        entries = manifest.get(section) or {}
        for entry in entries.values():
            for node in entry if isinstance(entry, list) else [entry]:
                if not isinstance(node, dict):
                    continue
                if "schema" in node:
                    node["schema"] = schema(node["schema"])
                if "relation_name" in node:
                    node["relation_name"] = relation(node["relation_name"])
                for part in ("config", "unrendered_config", "config_call_dict"):
                    if isinstance(node.get(part), dict) and "schema" in node[part]:
                        node[part]["schema"] = schema(node[part]["schema"])


def _arg(args: list[str] | None, name: str) -> str | None:
    """The value of the last `name VALUE` in dbt's arguments (dbt takes the last one)."""
    args = args or []
    values = [args[i + 1] for i, a in enumerate(args[:-1]) if a == name]
    return values[-1] if values else None


def target_dir(args: list[str]) -> Path | None:
    """Where this dbt run keeps its parse: its (last) `--target-path`."""
    value = _arg(args, "--target-path")
    return Path(value) if value else None


def _load(data: bytes) -> dict[str, Any]:
    import msgpack

    return msgpack.unpackb(data, raw=False, strict_map_key=False, ext_hook=lambda code, d: msgpack.ExtType(code, d))


def _dump(manifest: dict[str, Any]) -> bytes:
    import msgpack

    return msgpack.packb(manifest, use_bin_type=True)


def write_atomically(path: Path, data: bytes) -> None:
    """`data` as the file `path` (its directory made): a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def before_run(root: Path, project_dir: Path, args: list[str], env: dict[str, str]) -> tuple[int, int] | None:
    """Give a run without a parse of its own the seed of its warehouse shape, re-hashed for it. Returns the
    stamp of the parse the run starts from (for `after_run`), None when it has none."""
    target = target_dir(args)
    if target is None:
        return None
    if not (target / PARTIAL_PARSE).exists() or not _parsed_with_these_vars(target, args):
        settings = _settings(env)
        if settings is None:
            return None
        try:
            manifest = _load(_seed_path(root, project_dir, env, settings, args).read_bytes())
            cli_vars = _cli_vars(args)
            _move_database(manifest, dict(settings)["database"])
            _move_schemas(manifest, manifest.pop(SEED_VARS), _split_vars(cli_vars)[0])
            manifest["state_check"]["profile_hash"]["checksum"] = _profile_hash(settings)
            manifest["state_check"]["vars_hash"]["checksum"] = _vars_hash(cli_vars)
            write_atomically(target / PARTIAL_PARSE, _dump(manifest))
            _stamp_vars(target, args)
        except Exception:  # noqa: BLE001 - no seed (or an unreadable one): dbt parses in full, as before
            return None
    return _stamp(target / PARTIAL_PARSE)


# how long a run that must parse in full waits for another run of its shape that is parsing now (its seed)
FIRST_PARSE_WAIT = 120.0


@contextlib.contextmanager
def seeded(root: Path, project_dir: Path, args: list[str], env: dict[str, str],
           wait: float = FIRST_PARSE_WAIT) -> Iterator[tuple[int, int] | None]:
    """`before_run` for the block (the dbt run), yielding its stamp for `after_run`. A run that must parse the
    project in full (no seed of its shape yet) holds the shape's lock (`<seed>.lock`) for the block: another
    process's run of the same shape waits for it (up to `wait` seconds) and starts from the seed it leaves
    instead of parsing in full too (the first syncs of several new warehouses at once, the tests' workers)."""
    started = before_run(root, project_dir, args, env)
    settings = _settings(env) if started is None and target_dir(args) is not None else None
    if settings is None:
        yield started
        return
    try:
        lock = _seed_path(root, project_dir, env, settings, args).with_suffix(".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except Exception:  # noqa: BLE001 - a cache that cannot be written (no seeds either), or --vars dbt will refuse
        yield started
        return
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    break  # parse in full without it
                time.sleep(0.1)
        yield before_run(root, project_dir, args, env)  # the seed the other run left, if it did
    finally:
        os.close(fd)  # releases the lock


def _parsed_with_these_vars(target: Path, args: list[str]) -> bool:
    """Whether the parse in `target` was made with this run's `--vars`, as far as its VARS_STAMP says (no stamp:
    yes, dbt checks)."""
    try:
        return json.loads((target / VARS_STAMP).read_text()) == _cli_vars(args)
    except Exception:  # noqa: BLE001 - no stamp, or --vars dbt itself will refuse
        return True


def _stamp_vars(target: Path, args: list[str] | None) -> None:
    """Note beside the parse in `target` the `--vars` it was made with (for the next run's `before_run`)."""
    with contextlib.suppress(Exception):  # a stamp is an optimisation only
        write_atomically(target / VARS_STAMP, json.dumps(_cli_vars(args), sort_keys=True).encode())


def _stamp(path: Path) -> tuple[int, int] | None:
    """When a file was last written, and its size (None: no file)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def after_run(root: Path, project_dir: Path, args: list[str], env: dict[str, str],
              started_from: tuple[int, int] | None = None) -> None:
    """Keep this run's parse as the seed of its warehouse shape (when its profile hash is dbt's). A run that
    left the parse it started from (`before_run`'s stamp) as it was, parsed nothing new: dbt writes its parse
    only when it parsed something, and the parse it started from is a seed already (one made by a run of this
    warehouse, or the seed it was given), so it is neither read nor written again."""
    settings = _settings(env)
    target = target_dir(args)
    if settings is None or target is None:
        return
    if started_from is not None and _stamp(target / PARTIAL_PARSE) == started_from:
        return
    try:
        manifest = _load((target / PARTIAL_PARSE).read_bytes())
        cli_vars = _cli_vars(args)
        _stamp_vars(target, args)
        state = manifest["state_check"]
        if state["profile_hash"]["checksum"] != _profile_hash(settings) \
                or state["vars_hash"]["checksum"] != _vars_hash(cli_vars):
            return  # dbt hashes these settings or vars differently: seeds would never fit
        manifest[SEED_VARS] = _split_vars(cli_vars)[0]
        write_atomically(_seed_path(root, project_dir, env, settings, args), _dump(manifest))
    except Exception:  # noqa: BLE001 - a seed is an optimisation only
        return
