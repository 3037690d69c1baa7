"""The DuckDB warehouse file: one writer at a time, built in a copy, published atomically.

A sync never writes into the file readers use. It takes an exclusive lock (`<file>.lock`), copies the
current warehouse to a sibling build file, loads and builds there, checkpoints it, and publishes it
with `os.replace`. Readers that hold the old file open keep a consistent snapshot; new connections
see the new warehouse. If anything fails (or the process is killed), the build file is abandoned and
the published warehouse is exactly as it was; the next run removes the leftovers.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from pathlib import Path
from typing import Callable, Iterator

import duckdb

from .duckdb_storage import DEFAULT_STORAGE_VERSION, prepare_build


class WarehouseBusyError(RuntimeError):
    pass


def build_path_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.building")  # one writer at a time: the lock guards it


@contextlib.contextmanager
def exclusive_lock(path: Path, wait_seconds: float, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold `<warehouse>.lock` for the duration; wait up to `wait_seconds` for another sync."""
    lock_path = path.with_name(path.name + ".lock")
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
                    raise WarehouseBusyError(
                        f"another whsync run is writing {path} (lock {lock_path.name} is held); "
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


def remove_leftovers(path: Path) -> None:
    """Delete build files abandoned by killed or failed runs (call while holding the lock)."""
    for p in path.parent.glob(f".{path.name}.building*"):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


@contextlib.contextmanager
def building_copy(
    path: Path, storage_version: str = DEFAULT_STORAGE_VERSION, on_convert: Callable[[str], None] | None = None
) -> Iterator[Path]:
    """Yield a private copy of the warehouse to write into; publish it only if the block succeeds.
    The copy is in `storage_version`'s DuckDB format (a warehouse in another one is converted)."""
    build = build_path_for(path)
    for p in (build, build.with_name(build.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    try:
        prepare_build(path, build, storage_version, on_convert)
        yield build
        checkpoint(build)
        os.replace(build, path)
    finally:
        for p in (build, build.with_name(build.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


def checkpoint(db: Path) -> None:
    """Fold the WAL into the file so the single file is the whole database."""
    con = duckdb.connect(str(db))
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def table_counts(db: Path, tables: list[tuple[str, str]]) -> dict[str, int | None]:
    """Row counts of (schema, table) pairs in a published warehouse, read-only."""
    out: dict[str, int | None] = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        for schema, table in tables:
            name = table if schema == "main" else f"{schema}.{table}"
            try:
                row = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
                out[name] = int(row[0]) if row else None
            except duckdb.Error:
                out[name] = None
    finally:
        con.close()
    return out
