"""A sync: extract each source with dlt into a private copy of the warehouse, build it with dbt,
publish it atomically. The CLI (`cli.py`) only parses options and prints; the work is here.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dlt

from .benchling.client import (
    ApiKeyAuth,
    BenchlingClient,
    ClientCredentialsAuth,
    normalize_base_url,
)
from .benchling.activity import ActivityCounts, ActivityPolicy
from .benchling.source import benchling_source
from . import journal, runlog
from .dbt import DbtResult, run_dbt
from .http import CountingSession
from .catalog import PERSISTENT_RELATIONS, SOURCE_RELATIONS, SOURCES, WAREHOUSE_TABLES
from .history import history_env
from .progress import Progress
from .targets import Build, Target, resolve_target
from .targets.duckdb import duckdb_env
from . import settings
from .settings import ConfigError

__all__ = ["WAREHOUSE_TABLES", "duckdb_env", "sync", "build_only", "plans_for"]




@dataclass
class BenchlingConfig:
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    allow_insecure_http: bool = False
    timeout_s: float = 60.0  # read timeout per request; a slower answer is retried (bounded)
    activity: ActivityPolicy = field(default_factory=ActivityPolicy)  # users' last activity: which to check

    def client(self) -> BenchlingClient:
        try:
            if self.api_key:
                auth: Any = ApiKeyAuth(self.api_key)
            else:
                auth = ClientCredentialsAuth(self.client_id or "", self.client_secret or "")
            return BenchlingClient(self.base_url, auth, allow_insecure_http=self.allow_insecure_http,
                                   timeout=(10.0, self.timeout_s))
        except ValueError as e:  # bad URL, plain http to a remote host, empty key: the user's to fix
            raise ConfigError(str(e)) from None


def _secret(env: str, dlt_key: str) -> str | None:
    v = settings.secret(dlt_key, env)
    return str(v) if v else None


def _config(env: str, dlt_key: str) -> str | None:
    v = settings.config(dlt_key, env)
    return str(v) if v else None


def benchling_config(base_url: str | None, allow_insecure_http: bool = False) -> BenchlingConfig:
    """Resolve the tenant and credentials: --base-url / env / dlt config; key from env or secrets."""
    url = base_url or _config("BENCHLING_BASE_URL", "sources.benchling.base_url")
    if not url:
        raise ConfigError(
            "no Benchling tenant given: pass --base-url https://<tenant>.benchling.com, or set "
            "BENCHLING_BASE_URL, or sources.benchling.base_url in .dlt/config.toml"
        )
    try:
        normalize_base_url(url)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    api_key = _secret("BENCHLING_API_KEY", "sources.benchling.api_key")
    client_id = _config("BENCHLING_CLIENT_ID", "sources.benchling.client_id")
    client_secret = _secret("BENCHLING_CLIENT_SECRET", "sources.benchling.client_secret")
    if not api_key and not (client_id and client_secret):
        raise ConfigError(
            "no Benchling credentials: set BENCHLING_API_KEY (or sources.benchling.api_key in "
            ".dlt/secrets.toml); for a Benchling app set BENCHLING_CLIENT_ID and "
            "BENCHLING_CLIENT_SECRET instead. Keys are never accepted on the command line."
        )
    config = BenchlingConfig(url, api_key, client_id, client_secret, allow_insecure_http)
    config.client().close()  # validates the URL scheme and credentials' shape before any work
    return config


@dataclass
class SourcePlan:
    """One source to extract: its name, raw dataset and how to make its dlt source."""

    name: str
    make: Any  # (synced_at, progress) -> (dlt source, stats or None, close callable)


def benchling_plan(config: BenchlingConfig, full_refresh: bool = False) -> SourcePlan:
    def make(synced_at: datetime, progress: Progress) -> tuple[Any, Any, Any]:
        client = config.client()
        progress.stats_fn = lambda: {
            "requests": client.stats.requests,
            "rate_limited": client.stats.rate_limited,
            "retries": client.stats.retries,
            **client.budget.snapshot(),
        }
        progress.activity = ActivityCounts()
        source = benchling_source(client, synced_at=synced_at, progress=progress.page, full_refresh=full_refresh,
                                  done=progress.resource_done, activity=config.activity,
                                  activity_counts=progress.activity, on_plan=progress.plan, warn=progress.warn)
        return source, client.stats, client.close

    return SourcePlan("benchling", make)


def paradime_plan(configs: list[Any] | None = None, allow_insecure_http: bool = False) -> SourcePlan:
    from .paradime.source import ConfigError as ParadimeConfigError
    from .paradime.client import ParadimeError
    from .paradime.source import paradime_configs_from_env, paradime_source

    try:
        configs = configs if configs is not None else paradime_configs_from_env()
        configs = [dataclasses.replace(c, allow_insecure_http=allow_insecure_http) for c in configs]
        for c in configs:
            c.client()  # validates the endpoint's scheme and the credentials' shape before any work
    except (ParadimeConfigError, ValueError, ParadimeError) as e:
        raise ConfigError(f"Paradime: {e}") from None

    def make(synced_at: datetime, progress: Progress) -> tuple[Any, Any, Any]:
        session = CountingSession()
        progress.stats_fn = session.counts
        return (paradime_source(configs, synced_at=synced_at, client_options={"session": session},
                                progress=progress.page), None, session.close)

    return SourcePlan("paradime", make)


def bencher_plan(config: Any | None = None, allow_insecure_http: bool = False) -> SourcePlan:
    from .bencher.source import ConfigError as BencherConfigError
    from .bencher.source import bencher_config_from_env, bencher_source

    try:
        config = config if config is not None else bencher_config_from_env()
        config = dataclasses.replace(config, allow_insecure_http=allow_insecure_http)
        config.client()  # validates the URL's scheme before any work
    except (BencherConfigError, ValueError) as e:
        raise ConfigError(f"Bencher: {e}") from None

    def make(synced_at: datetime, progress: Progress) -> tuple[Any, Any, Any]:
        session = CountingSession()
        progress.stats_fn = session.counts
        return (bencher_source(config, synced_at=synced_at, client_options={"session": session},
                               progress=progress.page), None, session.close)

    return SourcePlan("bencher", make)


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
    source, stats, close = plan.make(synced_at, progress)
    try:
        # A fresh pipelines_dir each run: dlt restores its state from the warehouse itself, so the
        # published warehouse is the only state there is (nothing stale on disk after a failed run).
        with settings.dlt_working_dir() as pipelines_dir:
            pipeline = dlt.pipeline(
                pipeline_name=f"whsync_{plan.name}",
                destination=build.destination(),
                dataset_name=build.dataset(plan.name),
                pipelines_dir=pipelines_dir,
            )
            pipeline.run(source, loader_file_format=build.loader_file_format(plan.name))
            if plan.name != "benchling":  # sources whose resources are requests: the run log's rows per raw table
                counts = pipeline.last_trace.last_normalize_info.row_counts
                for table, n in counts.items():
                    if not table.startswith("_dlt"):
                        progress.loaded(plan.name, table, n)
    finally:
        close()
    return stats


def extract_all(plans: list[SourcePlan], build: Build, progress: Progress, synced_at: datetime) -> ExtractTotals:
    """Extract every plan in turn into the build."""
    totals = ExtractTotals()
    for plan in plans:
        progress.set_stage(f"extracting from {plan.name.capitalize()}")
        stats = extract(plan, build, progress, synced_at)
        if stats is not None:
            totals.requests += stats.requests
            totals.rate_limited += stats.rate_limited
            totals.retries += stats.retries
    return totals


def build_models(build: Build, progress: Progress, extracted: dict[str, datetime] | None = None) -> DbtResult:
    """dbt build of the models of every source whose raw data is in the build (synced now or before).
    `extracted`: the sources extracted in this run and the sync's start (their history's time)."""
    present = build.present_sources()
    if not present:
        raise ConfigError(f"no raw data in {build.target.label()}: run `whsync sync` first")
    progress.set_stage("building the warehouse (dbt)")
    for namespace, name in PERSISTENT_RELATIONS:
        build.carry(namespace, name)
    select = [f"path:models/staging/{name}+" for name in present]
    return run_dbt("build", {**build.dbt_env(), **history_env(build, extracted or {})}, key=build.target.dbt_key,
                   extra_args=["--select", *select, "--vars", json.dumps(build.dbt_vars())])


def sync(
    *,
    benchling: BenchlingConfig | None = None,
    warehouse: Path | None = None,
    build: bool = True,
    progress: Progress,
    wait_seconds: float = 0.0,
    plans: list[SourcePlan] | None = None,
    postgres: Any = None,
    target: Target | None = None,
) -> SyncResult:
    """Sync the given sources (default: Benchling with `benchling`) into the target (or the DuckDB
    file `warehouse`, or the PostgreSQL `postgres` PgConfig), then build and publish atomically."""
    plans = list(plans or [])
    if benchling is not None:
        plans.insert(0, benchling_plan(benchling))
    if not plans:
        raise ConfigError("nothing to sync: no source given")
    target = target or resolve_target(duckdb=warehouse, postgres=postgres)
    target.check()
    target.notify = progress.line
    started = time.monotonic()
    rec = runlog.Recorder(target.name, [p.name for p in plans], progress, build)
    synced_at = rec.started_at
    dbt_result = None
    try:
        with target.secret_safe():
            with target.lock(wait_seconds, on_wait=lambda: progress.line("waiting for another whsync run to finish…")):
                rec.use_previous(runlog.read_last_run(target))
                with target.build() as b:
                    totals = extract_all(plans, b, progress, synced_at)
                    extract_seconds = time.monotonic() - started
                    t0 = time.monotonic()
                    if build:
                        dbt_result = build_models(b, progress, {p.name: synced_at for p in plans})
                    progress.set_stage("publishing")
                    run = runlog.publish(b, rec, extract_seconds, time.monotonic() - t0)  # inside the publish
                    build_seconds = time.monotonic() - t0
    except BaseException as e:
        journal.journal_failure(target, rec.failure(e))
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
    counts = target.counts([r for rels in SOURCE_RELATIONS.values() for r in rels])
    present = {n for n, c in counts.items() if c is not None}
    return {n: c for n, c in counts.items() if c is not None or not present}


def plans_for(
    names: list[str], base_url: str | None, allow_insecure_http: bool = False, full_refresh: bool = False,
    activity: ActivityPolicy | None = None,
) -> list[SourcePlan]:
    """Source plans from configuration (env / dlt config and secrets) for `--source` names."""
    settings.check()
    wanted: list[str] = []
    for n in names or ["benchling"]:
        for part in n.split(","):
            part = part.strip().lower()
            if part == "all":
                wanted.extend(SOURCES)
            elif part in SOURCES:
                wanted.append(part)
            else:
                raise ConfigError(f"unknown source {part!r}: choose benchling, paradime, bencher or all")
    plans = []
    for name in dict.fromkeys(wanted):
        if name == "benchling":
            config = benchling_config(base_url, allow_insecure_http)
            if activity is not None:
                config = dataclasses.replace(config, activity=activity)
            plans.append(benchling_plan(config, full_refresh))
        elif name == "paradime":
            plans.append(paradime_plan(allow_insecure_http=allow_insecure_http))
        else:
            plans.append(bencher_plan(allow_insecure_http=allow_insecure_http))
    return plans


def build_only(
    *, warehouse: Path | None = None, progress: Progress, wait_seconds: float = 0.0, postgres: Any = None,
    target: Target | None = None,
) -> DbtResult:
    """Rebuild the warehouse from the raw data already loaded, and publish it atomically."""
    target = target or resolve_target(duckdb=warehouse, postgres=postgres)
    target.check()
    target.notify = progress.line
    with target.secret_safe(), target.lock(wait_seconds):
        with target.build() as b:
            return build_models(b, progress)
