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
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import pprint
import tempfile
from pathlib import Path
from typing import Any

PARTIAL_PARSE = "partial_parse.msgpack"
# connection settings that say where the warehouse is, not what dbt parses for it (the `database`, PostgreSQL's
# or a DuckDB file's stem, is in the parsed nodes, rewritten by `_move_database`)
LOCATION_KEYS = {"path", "host", "port", "user", "database"}


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
    """One seed per shape: the project, the target type, the settings but their location, the `--vars`
    (dbt re-parses everything when they differ, so runs with other vars keep their own seed)."""
    shape = [(k, v) for k, v in settings if k not in LOCATION_KEYS]
    digest = hashlib.sha1(f"{project_dir}|{env.get('WHSYNC_TARGET', 'duckdb')}|{shape!r}|{_arg(args, '--vars')}"
                          .encode()).hexdigest()[:16]
    return root / f"{digest}.msgpack"


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
    if not (target / PARTIAL_PARSE).exists():
        settings = _settings(env)
        if settings is None:
            return None
        seed = _seed_path(root, project_dir, env, settings, args)
        try:
            manifest = _load(seed.read_bytes())
            _move_database(manifest, dict(settings)["database"])
            manifest["state_check"]["profile_hash"]["checksum"] = _profile_hash(settings)
            write_atomically(target / PARTIAL_PARSE, _dump(manifest))
        except Exception:  # noqa: BLE001 - no seed (or an unreadable one): dbt parses in full, as before
            return None
    return _stamp(target / PARTIAL_PARSE)


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
        data = (target / PARTIAL_PARSE).read_bytes()
        if _load(data)["state_check"]["profile_hash"]["checksum"] != _profile_hash(settings):
            return  # dbt hashes these settings differently: seeds would never fit
        write_atomically(_seed_path(root, project_dir, env, settings, args), data)
    except Exception:  # noqa: BLE001 - a seed is an optimisation only
        return
