"""Run the dbt project (models/, profiles/) in-process against a warehouse.

In-process (dbtRunner) rather than a subprocess: a killed sync takes its dbt build with it, and the
import cost is paid once. dbt reads its connection from environment variables (profiles/profiles.yml),
which this module sets for the duration of the call only. The project is found from the installed package
(`project.py`: a clone's top level or the wheel's copy); dbt's target and log directories go to the per-user
cache, never into the project.
"""
from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from . import dbt_connections, dbt_parse_cache, dbt_trims
from .errors import WhsyncError
from .project import cache_dir, dbt_project_dir, dbt_work_dir, profiles_dir

_lock = threading.Lock()


class DbtBuildError(WhsyncError, RuntimeError):
    pass


@dataclass
class DbtResult:
    models: int = 0
    tests: int = 0
    unit_tests: int = 0
    failures: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_work_dir = dbt_work_dir  # the per-warehouse target dir (tests read compiled SQL from it)


def __getattr__(name: str) -> Path:
    if name == "PROJECT_DIR":  # the dbt project's directory, found when asked (a clone or the installed wheel)
        return dbt_project_dir()
    raise AttributeError(name)


def run_dbt(
    command: str,
    env: dict[str, str],
    key: str,
    on_node: Callable[[str, str], None] | None = None,
    extra_args: list[str] | None = None,
) -> DbtResult:
    """Run `dbt <command>` (build, docs generate, ...) with the profile environment `env`."""
    from dbt.cli.main import dbtRunner

    work = _work_dir(key)
    result = DbtResult()

    def callback(event) -> None:  # noqa: ANN001 - dbt's EventMsg
        name = event.info.name
        if name == "NodeFinished":  # a debug event: dbt_events.DEBUG_EVENTS_READ keeps it
            node = event.data.node_info
            unique_id = node.unique_id
            status = node.node_status
            kind = unique_id.split(".", 1)[0]
            if kind == "model":
                result.models += 1
            elif kind == "test":
                result.tests += 1
            elif kind == "unit_test":
                result.unit_tests += 1
            if status in ("error", "fail"):
                result.failures.append(f"{node.node_name}: {status}")  # a test's unique_id ends in a hash
            if on_node:
                on_node(unique_id, status)
        elif name in ("RunResultError", "RunResultFailure") and getattr(event.data, "msg", None):
            msg = str(event.data.msg).strip().splitlines()[0][:300]
            if msg and msg not in result.failures:
                result.failures.append(msg)

    args = command.split() + [
        "--project-dir", str(dbt_project_dir()),
        "--profiles-dir", str(profiles_dir()),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
        "--quiet",
        *(extra_args or []),
    ]
    cache = cache_dir()  # beside the work directories: the parse seeds and the compiled templates
    with _lock, _env({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", **env}), \
            dbt_trims.trimmed(compiled_store=cache / "dbt-jinja"), dbt_connections.kept_between_nodes():
        with dbt_parse_cache.seeded(cache / "dbt-seeds", dbt_project_dir(), args, env) as parse:
            try:
                res = dbtRunner(callbacks=[callback]).invoke(args)
            finally:
                _close_duckdb()
            if res.success:
                dbt_parse_cache.after_run(cache / "dbt-seeds", dbt_project_dir(), args, env, parse)
    if not res.success:
        detail = "; ".join(result.failures[:5]) or (str(res.exception) if res.exception else "see dbt logs")
        raise DbtBuildError(f"dbt {command} failed: {detail} (logs: {work / 'logs'})")
    return result


def _close_duckdb() -> None:
    """dbt-duckdb keeps its connection open by default; release the file before publishing it."""
    with contextlib.suppress(Exception):
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        DuckDBConnectionManager.close_all_connections()
