"""Which DuckDB storage format the warehouse file is written in, so older DuckDB readers open it.

DuckDB writes a new file in its own newest storage format unless told otherwise, and a file in a
newer format cannot be opened by older DuckDB releases: the CLI, the JDBC driver in DBeaver, Metabase's
and Superset's drivers trail the newest release by months. whsync therefore creates every warehouse
file with a chosen storage version (default `v1.4.0`: DuckDB's long-term-support line 1.4 and every
later release read it). DuckDB keeps a file's format when it writes to it again, so dlt and dbt
(which connect without the option) keep the file readable.

A warehouse written in another format (e.g. by an older whsync, in DuckDB 2.0's format) is converted
the next time a sync or build makes its private build copy: the copy is made with `COPY FROM DATABASE`
into a file of the chosen version (every schema, table, view, constraint and dlt state table), and the
build publishes it atomically with `os.replace` as usual. Nothing is published if anything fails.
"""
from __future__ import annotations

import contextlib
import functools
import re
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import duckdb

DEFAULT_STORAGE_VERSION = "v1.4.0"  # also the default of --duckdb-storage-version (cli/common.py)


class StorageVersionError(ValueError):
    """An unknown storage version was asked for (the message says which values work)."""


def normalize(version: str) -> str:
    """'1.4.0' -> 'v1.4.0'; 'latest' stays; anything DuckDB does not know raises StorageVersionError."""
    v = version.strip()
    if v.lower() == "latest":
        return "latest"
    if re.fullmatch(r"\d+\.\d+\.\d+", v):
        v = "v" + v
    try:
        duckdb.connect(":memory:", config={"storage_compatibility_version": v}).close()
    except duckdb.Error:
        raise StorageVersionError(
            f"{version!r} is not a DuckDB release that DuckDB {duckdb.__version__} knows; use a release "
            "such as v1.4.0 (the default) or v1.5.0, or 'latest'"
        ) from None
    return v


def _attached_format(path: Path, options: str) -> str:
    """ATTACH `path` with `options` and return its storage format as DuckDB names it (e.g. 'v1.4.0+')."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{_sql_str(path)}' as f ({options})")
        row = con.execute("select tags['storage_version'] from duckdb_databases() where database_name = 'f'").fetchone()
        return str(row[0]) if row and row[0] else "unknown"
    finally:
        con.close()


@functools.lru_cache(maxsize=None)
def format_of_version(version: str) -> str:
    """The storage format a new file of `version` gets (e.g. 'v1.4.0+')."""
    with tempfile.TemporaryDirectory(prefix="whsync-storage-") as d:
        return _attached_format(Path(d) / "probe.duckdb", f"storage_version '{normalize(version)}'")


def file_format(path: Path) -> str:
    """The storage format of an existing DuckDB file, e.g. 'v1.4.0+' or 'v2.0.0+' (opened read-only)."""
    return _attached_format(path, "read_only")


def newer(fmt: str, than: str) -> bool:
    """Whether storage format `fmt` (e.g. 'v2.0.0+') is newer than `than` (e.g. 'v1.4.0+')."""
    def key(f: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", f))

    return key(fmt) > key(than)


def readable_by(fmt: str) -> str:
    """'v1.4.0+' -> 'DuckDB 1.4.0 and later'."""
    return f"DuckDB {fmt.lstrip('v').rstrip('+')} and later"


def create(path: Path, version: str) -> None:
    """Create an empty DuckDB file in the storage format of `version` (before dlt or dbt touch it)."""
    con = duckdb.connect(str(path), config={"storage_compatibility_version": normalize(version)})
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def convert(src: Path, dst: Path, version: str) -> None:
    """Write a copy of `src` into a new file `dst` in the format of `version`: every schema, table,
    view, sequence, macro and constraint, with all rows (dlt's state tables included)."""
    for p in (dst, dst.with_name(dst.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    con = duckdb.connect()
    try:
        con.execute(f"attach '{_sql_str(src)}' as whsync_src (read_only)")
        con.execute(f"attach '{_sql_str(dst)}' as whsync_dst (storage_version '{normalize(version)}')")
        con.execute("copy from database whsync_src to whsync_dst")
        con.execute("checkpoint whsync_dst")
    finally:
        con.close()


def prepare_build(
    published: Path, build: Path, version: str, on_convert: Callable[[str], None] | None = None
) -> None:
    """Make `build`, the private copy a sync or build writes into, in the storage format of `version`:
    a new file if there is no warehouse yet, a byte copy if the warehouse already has that format,
    a converted copy otherwise (publishing the build then replaces the old-format file atomically)."""
    want = format_of_version(version)
    if not published.exists():
        create(build, version)
        return
    have = file_format(published)
    if have == want:
        shutil.copyfile(published, build)
        return
    if on_convert:
        on_convert(f"converting {published.name} from DuckDB storage format {have} to {want} "
                   f"(readable by {readable_by(want)}); data, views and sync state are kept")
    convert(published, build, version)


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")
