"""The DuckDB target: one warehouse file, one writer at a time, built in a copy, published atomically.

A sync never writes into the file readers use. It takes an exclusive lock (`<file>.lock`), copies the
current warehouse to a sibling build file, loads and builds there, checkpoints it, and publishes it
with `os.replace`. Readers that hold the old file open keep a consistent snapshot; new connections
see the new warehouse. If anything fails (or the process is killed), the build file is abandoned and
the published warehouse is exactly as it was; the next run removes the leftovers. Everything in the
published file is in the copy, so relations that persist across syncs are carried by construction.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import duckdb

from ..duckdb_storage import DEFAULT_STORAGE_VERSION, prepare_build
from .. import catalog
from ..catalog import WAREHOUSE, relation_label
from .base import Build, Reader, Target, TargetBusyError, TargetConfigError

_MAGIC = b"DUCK"  # bytes 8..12 of every DuckDB database file


def duckdb_schema(namespace: str) -> str:
    """The DuckDB schema of a namespace: the warehouse in `main`, Paradime and Bencher in their own."""
    return "main" if namespace == WAREHOUSE else namespace


class DuckDBBuild(Build):
    def __init__(self, target: "DuckDBTarget", path: Path) -> None:
        self.target = target
        self.path = path
        self._published: set[tuple[str, str]] | None = None  # (schema, table) of the copy, read once

    def destination(self) -> Any:
        import dlt

        return dlt.destinations.duckdb(str(self.path))

    def loader_file_format(self, source: str) -> str | None:
        return "parquet" if catalog.arrow(source) else "jsonl"  # Arrow pages as parquet, rows as jsonl

    def dbt_env(self) -> dict[str, str]:
        return duckdb_env(self.path)

    def schema(self, namespace: str) -> str:
        return duckdb_schema(namespace)

    def present_sources(self) -> list[str]:
        if not self.path.exists():
            return []
        rows = self.execute("select schema_name from information_schema.schemata")
        schemas = {r[0] for r in rows}
        return [s for s, raw in catalog.raw_datasets().items() if raw in schemas]

    def execute(self, sql: str, params: Any = None) -> list[tuple]:
        con = duckdb.connect(str(self.path))
        try:
            cur = con.execute(sql, params) if params is not None else con.execute(sql)
            return cur.fetchall() if cur.description else []
        finally:
            con.close()

    @contextlib.contextmanager
    def held_open(self) -> Iterator[None]:
        """The build file stays open in this process for the block, so each `duckdb.connect` to it joins the
        open database instead of opening the file again and folding its WAL in when it closes (~20 of them
        in a sync, ~15 ms of CPU each, and the checkpoints). A sync holds it twice, for dlt's loads and then
        for dbt's build and the publish, and closes it in between: dlt sets database-wide settings
        (TimeZone, checkpoint_threshold) on a database it opens, and dbt must not inherit them. When this
        last connection closes, DuckDB folds the WAL into the file, as each close did before."""
        con = duckdb.connect(str(self.path))
        try:
            yield
        finally:
            con.close()

    def carry(self, namespace: str, name: str) -> bool:
        # the build is a copy of the published file: everything persistent is already here. A sync writes no
        # persistent relation before dbt does, so the copy's tables, read once, answer for every relation.
        if self._published is None:
            rows = self.execute("select table_schema, table_name from information_schema.tables")
            self._published = {(r[0], r[1]) for r in rows}
        return (duckdb_schema(namespace), name) in self._published


def duckdb_env(path: Path) -> dict[str, str]:
    """The dbt profile environment for a DuckDB file."""
    return {"WHSYNC_TARGET": "duckdb", "WHSYNC_DUCKDB_PATH": str(path)}


class DuckDBTarget(Target):
    name = "duckdb"

    def __init__(self, path: Path, storage_version: str | None = None) -> None:
        self.path = Path(path).resolve()
        # the DuckDB storage format of the file (pipelines/duckdb_storage.py): older readers open it
        self.storage_version = storage_version or DEFAULT_STORAGE_VERSION

    def label(self) -> str:
        return str(self.path)

    def dbt_env(self) -> dict[str, str]:
        return duckdb_env(self.path)

    @property
    def dbt_key(self) -> str:
        return str(self.path)

    def schema(self, namespace: str) -> str:
        return duckdb_schema(namespace)

    @property
    def build_path(self) -> Path:
        return self.path.with_name(f".{self.path.name}.building")  # one writer at a time: the lock guards it

    def check(self) -> None:
        """Refuse a path that is not a DuckDB database before touching it."""
        p = self.path
        if p.is_dir():
            raise TargetConfigError(f"--duckdb {p} is a directory: give a file path, e.g. {p / 'warehouse.duckdb'}")
        if p.exists():
            with open(p, "rb") as f:
                head = f.read(12)
            if len(head) > 0 and head[8:12] != _MAGIC:
                raise TargetConfigError(
                    f"--duckdb {p} is not a DuckDB database (it was left unchanged): "
                    "give a new file name or an existing whsync warehouse")

    def _check_opens(self, copy: Path) -> None:
        """Open the private copy once: a damaged file or one from a newer DuckDB is the user's to fix."""
        try:
            duckdb.connect(str(copy)).close()
        except duckdb.Error as e:
            self._refuse(e)

    def _refuse(self, e: Exception) -> None:
        """The published file cannot be opened: clean up and say so (the file is left unchanged)."""
        self._remove_leftovers()
        cause = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TargetConfigError(
            f"--duckdb {self.path} cannot be opened by DuckDB {duckdb.__version__} (it was left unchanged): "
            f"{cause}") from None

    @contextlib.contextmanager
    def lock(self, wait_seconds: float, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold `<warehouse>.lock` for the duration; wait up to `wait_seconds` for another sync."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + wait_seconds
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise TargetBusyError(
                            f"another whsync run is writing {self.path} (lock {lock_path.name} is held); "
                            f"waited {wait_seconds:.0f}s. Try again when it finishes, or raise --wait."
                        ) from None
                    if not told and on_wait:
                        on_wait()
                        told = True
                    time.sleep(0.2)
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def _remove_leftovers(self) -> None:
        """Delete build files abandoned by killed or failed runs (call while holding the lock)."""
        for p in self.path.parent.glob(f".{self.path.name}.building*"):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    @contextlib.contextmanager
    def build(self) -> Iterator[DuckDBBuild]:
        """A private copy of the warehouse to write into; published only if the block succeeds."""
        self._remove_leftovers()
        build = self.build_path
        try:
            # a copy in the chosen storage format (a warehouse in another format is converted)
            try:
                prepare_build(self.path, build, self.storage_version, self.notify)
            except duckdb.Error as e:
                self._refuse(e)
            if self.path.exists():
                self._check_opens(build)
            b = DuckDBBuild(self, build)
            # every namespace exists in a build, as on PostgreSQL (dbt creates them too, when it builds)
            b.execute("; ".join(f'create schema if not exists "{duckdb_schema(ns)}"' for ns in catalog.namespaces()))
            yield b
            if build.exists():
                _checkpoint(build)
                os.replace(build, self.path)
        finally:
            self._remove_leftovers()

    @contextlib.contextmanager
    def reader(self) -> Iterator[Reader]:
        if not self.path.exists():
            raise TargetConfigError(f"no warehouse at {self.path}: run `whsync sync` first")
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            yield Reader(con, lambda sql, params: con.execute(sql, params) if params is not None else con.execute(sql),
                         self.schema)
        finally:
            con.close()

    def journal(self, sql: str, params: Any = None) -> None:
        con = duckdb.connect(str(self.path))
        try:
            con.execute(sql, params) if params is not None else con.execute(sql)
        finally:
            con.close()

    def grant_reader(self, role: str, relations: Sequence[tuple[str, str]]) -> list[str]:
        raise TargetConfigError(
            "grant-reader is for PostgreSQL (--target postgres): a DuckDB file has no roles; "
            "give readers the file and open it read-only")

    def counts(self, relations: Sequence[tuple[str, str]]) -> dict[str, int | None]:
        out: dict[str, int | None] = {relation_label(*r): None for r in relations}
        if not self.path.exists():
            return out
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            for ns, name in relations:
                try:
                    row = con.execute(f'select count(*) from "{duckdb_schema(ns)}"."{name}"').fetchone()
                    out[relation_label(ns, name)] = int(row[0]) if row else None
                except duckdb.Error:
                    pass
        finally:
            con.close()
        return out


def _checkpoint(db: Path) -> None:
    """Fold the WAL into the file so the single file is the whole database."""
    con = duckdb.connect(str(db))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
