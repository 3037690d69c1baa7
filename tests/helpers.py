"""Helpers shared by the tests: the environment of a test's whsync process (`child_env`), a whsync cache dir
that starts from this session's dbt parse seeds (`seeded_cache`), and for the per-source test packages
(tests/paradime, tests/bencher) the source's tricky fixture, a dlt pipeline into the test's own DuckDB file
(`<tmp_path>/w.duckdb`, dataset `<source>_raw`), and a query against it."""
from __future__ import annotations

import importlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable

from pipelines.project import CACHE_DIR_ENV

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def child_env(*drop: str) -> dict[str, str]:
    """This process's environment for a test's whsync process, without the variables that start with one of
    `drop` (a developer's own BENCHLING_/WHSYNC_/PG... settings never reach a test's whsync), but with the test
    session's whsync cache dir (tests/conftest.py), so that no test run writes into the per-user cache."""
    return {k: v for k, v in os.environ.items() if not k.startswith(drop) or k == CACHE_DIR_ENV}


def tricky_fixture(source: str) -> dict[str, Any]:
    """`tests/fixtures/<source>_tricky.json`, read by `pipelines.<source>.simulator.load_fixture`."""
    simulator = importlib.import_module(f"pipelines.{source}.simulator")
    return simulator.load_fixture(FIXTURES / f"{source}_tricky.json")


def pipeline_factory(tmp_path: Path, source: str) -> Callable[[], Any]:
    """A function that makes a new dlt pipeline (fresh name, same warehouse) on each call."""
    import dlt

    def make():
        return dlt.pipeline(
            pipeline_name=f"{source}_{uuid.uuid4().hex[:8]}",
            destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")),
            dataset_name=f"{source}_raw",
            pipelines_dir=str(tmp_path / "p"),
        )

    return make


def query(tmp_path: Path, sql: str) -> list[tuple]:
    """All rows of `sql` run read-only against `<tmp_path>/w.duckdb`."""
    import duckdb

    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def cause_of(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of type `kind` in `exc`'s chain (dlt wraps a source's errors), or None."""
    cur: BaseException | None = exc
    while cur is not None and not isinstance(cur, kind):
        cur = cur.__cause__ or cur.__context__
    return cur


def seeded_cache(dest: Path, *more: Path) -> Path:
    """`dest` as a new whsync cache dir (`WHSYNC_CACHE_DIR`) for a test that searches everything a run writes
    there, holding the dbt parse seeds and compiled templates that this test session's runs left in the
    session's cache (pipelines/dbt_parse_cache.py, dbt_templates.py), and those of the cache dirs `more`: its
    first dbt run starts from the seed of its warehouse's shape, when one was made, instead of parsing the
    project in full (~3 s of CPU)."""
    from pipelines.project import cache_dir

    for kept in ("dbt-seeds", "dbt-jinja"):
        (dest / kept).mkdir(parents=True, exist_ok=True)
        for f in [f for source in (cache_dir(), *more) for f in (source / kept).glob("*")]:
            try:
                # not a file being written (write_atomically), nor a shape's lock (dbt_parse_cache.seeded)
                if f.is_file() and not f.name.startswith(".") and f.suffix != ".lock":
                    shutil.copy2(f, dest / kept / f.name)
            except OSError:  # replaced meanwhile by another test's run: a seed is an optimisation only
                pass
    return dest
