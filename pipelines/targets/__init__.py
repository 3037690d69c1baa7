"""Where the warehouse lives: one small interface (`base.py`: `Target`, `Build`, `Reader`, their errors), one
module per target (`duckdb.py`, `postgres.py`), and `resolve_target`, which picks one from the CLI's options.
`base.py` tells how the sync uses a target and how to add one; TARGETS_API.md is the reference."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import (WAREHOUSE, Build, Reader, Target, TargetBusyError, TargetConfigError,  # noqa: F401
                   TargetError)

__all__ = [
    "Build", "Reader", "Target", "TargetBusyError", "TargetConfigError", "TargetError", "resolve_target",
    "WAREHOUSE",
]


def resolve_target(*, duckdb: Path | str | None = None, postgres: Any = None, target: str | None = None,
                   schema: str = "public", duckdb_storage_version: str | None = None) -> Target:
    """A target from the CLI's options: `target` is "duckdb" (the `duckdb` file) or "postgres"
    (`postgres`, a `PgConfig`, else the configured connection with `schema`)."""
    if postgres is not None or target == "postgres":
        from .pgconn import resolve
        from .postgres import PostgresTarget

        return PostgresTarget(postgres if postgres is not None else resolve(schema))
    if target not in (None, "duckdb"):
        raise TargetConfigError(f"--target {target!r}: choose duckdb or postgres")
    if duckdb is None:
        raise TargetConfigError("no warehouse given: pass --duckdb FILE or --target postgres")
    from .duckdb import DuckDBTarget

    return DuckDBTarget(Path(duckdb), storage_version=duckdb_storage_version)
