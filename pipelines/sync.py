"""A sync: extract each source with dlt into a private copy of the warehouse, build it with dbt,
publish it atomically. The CLI (`cli/sync.py`) only parses options and prints; the work is here. The sources
come from the registry (`sources.py`) and the warehouse is a `Target`: this module names neither.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import catalog, collector, dlt_trims, journal, runlog, settings, sources
from .dbt import DbtResult, run_dbt
from .errors import ConfigError
from .history import history_env
from .progress import Progress
from .sources import SourcePlan, SyncOptions
from .targets import Build, Target, TargetBusyError

__all__ = ["sync", "build_only", "plans_for", "SourcePlan", "SyncOptions"]


@dataclass
class SyncResult:
    warehouse: str
    seconds: float
    rows: dict[str, int]
    requests: int
    rate_limited: int
    retries: int
    dbt: DbtResult | None
    counts: dict[str, int | None]
    extract_seconds: float = 0.0
    build_seconds: float = 0.0
    run: Any = None  # the `runlog.RunRecord` written to `sync_run` with the publish
    synced_at: datetime | None = None  # the sync's start: `_synced_at` of its rows, `valid_from` of its versions


@dataclass
class ExtractTotals:
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0


def extract(plan: SourcePlan, build: Build, progress: Progress, synced_at: datetime) -> Any:
    """Run one source's dlt pipeline into the build; return its client stats (or None)."""
    import dlt  # here, not at the top: a sync refused for bad input or config does not pay dlt's import

    dlt_trims.install()
    spec = sources.spec(plan.name)
    source, stats, close = plan.make(synced_at, progress)
    try:
        # A fresh pipelines_dir each run: dlt restores its state from the warehouse itself, so the
        # published warehouse is the only state there is (nothing stale on disk after a failed run).
        with settings.dlt_working_dir() as pipelines_dir:
            pipeline = dlt.pipeline(
                pipeline_name=f"whsync_{plan.name}",
                destination=build.destination(),
                dataset_name=build.load_dataset(plan.name),
                pipelines_dir=pipelines_dir,
            )
            pipeline.run(source, loader_file_format=build.loader_file_format(plan.name))
            if not spec.live_counts:  # the run log's rows per raw table: what dlt loaded
                counts = pipeline.last_trace.last_normalize_info.row_counts
                live = progress.source_pages.get(plan.name)  # its requests were counted as they were answered
                for table, n in counts.items():
                    if not table.startswith("_dlt"):
                        progress.loaded(plan.name, table, n)
                        if not live:  # a source that counts no requests: show what dlt loaded
                            progress.page(f"{plan.name}.{table}", 0, n)
    finally:
        close()
    return stats


def extract_all(plans: list[SourcePlan], build: Build, progress: Progress, synced_at: datetime) -> ExtractTotals:
    """Extract every plan in turn into the build."""
    totals = ExtractTotals()
    for plan in plans:
        progress.set_stage(f"extracting from {sources.spec(plan.name).title}", source=plan.name)
        stats = extract(plan, build, progress, synced_at)
        if stats is not None:
            totals.requests += stats.requests
            totals.rate_limited += stats.rate_limited
            totals.retries += stats.retries
    return totals


# What a sync's dbt build leaves out, and why (a sync runs on every schedule; the models' code does not change
# between syncs): dbt's unit tests test that code with fixed inputs, not the synced data, so they run in
# `whsync build` and in the test suite (tests/warehouse/test_unit_tests.py), as dbt recommends for production
# runs; the data tests, which guard what is published, still run in every sync. manifest.json and
# run_results.json are dbt's artifacts for other tools: nothing reads them after a sync (`whsync docs` writes
# its own), and writing them cost about a second of every sync. dbt's log file keeps the info level (each node's
# start, result and error) without the debug lines of every SQL statement: about 6% of a build's CPU.
SYNC_BUILD_ARGS = ["--exclude-resource-type", "unit_test", "--no-write-json", "--log-level-file", "info"]


def build_models(build: Build, progress: Progress, extracted: dict[str, datetime] | None = None,
                 unit_tests: bool = False) -> DbtResult:
    """dbt build of the models of every source whose raw data is in the build (synced now or before).
    `extracted`: the sources extracted in this run and the sync's start (their history's time).
    `unit_tests`: also run dbt's unit tests and write dbt's artifacts (`whsync build`; see SYNC_BUILD_ARGS)."""
    present = build.present_sources()
    if not present:
        raise ConfigError(f"no raw data in {build.target.label()}: run `whsync sync` first")
    progress.set_stage("building the warehouse (dbt)")
    for namespace, name in catalog.persistent_relations():
        build.carry(namespace, name)
    select = [f"path:models/staging/{name}+" for name in present]
    return run_dbt("build", {**build.dbt_env(), **history_env(build, extracted or {})}, key=build.target.dbt_key,
                   extra_args=["--select", *select, "--vars", json.dumps(build.dbt_vars()),
                               *([] if unit_tests else SYNC_BUILD_ARGS)])


def sync(
    *,
    plans: list[SourcePlan],
    target: Target,
    progress: Progress,
    build: bool = True,
    wait_seconds: float = 0.0,
) -> SyncResult:
    """Sync the sources of `plans` (`plans_for`, or each source's `spec.py`) into the target, then build and
    publish atomically."""
    plans = list(plans)
    if not plans:
        raise ConfigError("nothing to sync: no source given")
    target.check()
    target.notify = progress.line
    started = time.monotonic()
    rec = runlog.Recorder(target.name, [p.name for p in plans], progress, build)
    synced_at = rec.started_at
    dbt_result = None
    try:
        with target.secret_safe(), collector.paused():
            with target.lock(wait_seconds, on_wait=lambda: progress.line("waiting for another whsync run to finish…")):
                rec.use_previous(runlog.read_last_run(target))
                with target.build() as b:
                    # two phases, each with the build held open (`Build.held_open`): dlt's loads, then dbt's
                    # build and the publish; closed in between, so dbt inherits nothing dlt set
                    with b.held_open():
                        totals = extract_all(plans, b, progress, synced_at)
                    extract_seconds = time.monotonic() - started
                    t0 = time.monotonic()
                    with b.held_open():
                        if build:
                            dbt_result = build_models(b, progress, {p.name: synced_at for p in plans})
                        progress.set_stage("publishing")
                        run = runlog.publish(b, rec, extract_seconds, time.monotonic() - t0)  # inside the publish
                    build_seconds = time.monotonic() - t0
    except BaseException as e:
        if not isinstance(e, TargetBusyError):  # refused by the lock: the other run is not failing
            journal.journal_failure(target, journal.failure_of(rec, e))
        raise
    counts = warehouse_counts(target) if build else {}
    return SyncResult(
        warehouse=target.label(),
        seconds=time.monotonic() - started,
        rows=dict(progress.rows),
        requests=totals.requests,
        rate_limited=totals.rate_limited,
        retries=totals.retries,
        dbt=dbt_result,
        counts=counts,
        extract_seconds=extract_seconds,
        build_seconds=build_seconds,
        run=run,
        synced_at=synced_at,
    )


def warehouse_counts(target: Target) -> dict[str, int | None]:
    """Row counts of the warehouse relations of every source present in the warehouse."""
    counts = target.counts([r for rels in catalog.source_relations().values() for r in rels])
    present = {n for n, c in counts.items() if c is not None}
    return {n: c for n, c in counts.items() if c is not None or not present}


def plans_for(names: list[str], options: SyncOptions | None = None) -> list[SourcePlan]:
    """Source plans from configuration (env / dlt config and secrets) for `--source` names (or `all`)."""
    settings.check()
    return sources.plans_for(names, options)


def build_only(*, target: Target, progress: Progress, wait_seconds: float = 0.0) -> DbtResult:
    """Rebuild the warehouse from the raw data already loaded, and publish it atomically."""
    target.check()
    target.notify = progress.line
    with target.secret_safe(), collector.paused(), target.lock(wait_seconds):
        with target.build() as b, b.held_open():
            return build_models(b, progress, unit_tests=True)
