"""A sync: extract each source with dlt into a private copy of the warehouse, build it with dbt,
publish it atomically. The CLI (`cli.py`) only parses options and prints; the work is here.
"""
from __future__ import annotations

import os
import tempfile
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
from .benchling.source import benchling_source
from .dbt import DbtResult, run_dbt
from .progress import Progress
from .warehouse import building_copy, exclusive_lock, remove_leftovers, table_counts

WAREHOUSE_TABLES = [
    "user", "principal", "team", "team_member", "project", "folder",
    "user$raw", "principal$raw", "team$raw", "team_member$raw", "project$raw", "folder$raw",
]


class ConfigError(ValueError):
    """Bad or missing configuration: the message says which value and what to do."""


@dataclass
class BenchlingConfig:
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    allow_insecure_http: bool = False

    def client(self) -> BenchlingClient:
        try:
            if self.api_key:
                auth: Any = ApiKeyAuth(self.api_key)
            else:
                auth = ClientCredentialsAuth(self.client_id or "", self.client_secret or "")
            return BenchlingClient(self.base_url, auth, allow_insecure_http=self.allow_insecure_http)
        except ValueError as e:  # bad URL, plain http to a remote host, empty key: the user's to fix
            raise ConfigError(str(e)) from None


def _secret(env: str, dlt_key: str) -> str | None:
    v = os.environ.get(env)
    if v:
        return v
    try:
        v = dlt.secrets.get(dlt_key)
    except Exception:  # noqa: BLE001 - a missing or unreadable secrets.toml means "not set"
        v = None
    return str(v) if v else None


def _config(env: str, dlt_key: str) -> str | None:
    v = os.environ.get(env)
    if v:
        return v
    try:
        v = dlt.config.get(dlt_key)
    except Exception:  # noqa: BLE001
        v = None
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
class SyncResult:
    warehouse: Path
    seconds: float
    rows: dict[str, int]
    requests: int
    rate_limited: int
    retries: int
    dbt: DbtResult | None
    counts: dict[str, int | None]


def duckdb_env(path: Path) -> dict[str, str]:
    return {"WHSYNC_TARGET": "duckdb", "WHSYNC_DUCKDB_PATH": str(path)}


def extract_benchling(
    config: BenchlingConfig, db_path: Path, progress: Progress, synced_at: datetime
) -> tuple[dict[str, int], Any]:
    """Run the dlt pipeline for Benchling into the DuckDB file `db_path`."""
    client = config.client()
    progress.stats_fn = lambda: {
        "requests": client.stats.requests,
        "paced_waits": client.stats.paced_waits,
        "paced_seconds": client.stats.paced_seconds,
        "rate_limited": client.stats.rate_limited,
        "retries": client.stats.retries,
    }
    try:
        with tempfile.TemporaryDirectory(prefix="whsync-dlt-") as pipelines_dir:
            pipeline = dlt.pipeline(
                pipeline_name="whsync_benchling",
                destination=dlt.destinations.duckdb(str(db_path)),
                dataset_name="benchling_raw",
                pipelines_dir=pipelines_dir,
            )
            source = benchling_source(client, synced_at=synced_at, progress=progress.page)
            pipeline.run(source, loader_file_format="parquet")
    finally:
        client.close()
    return dict(progress.rows), client.stats


def sync(
    *,
    benchling: BenchlingConfig,
    warehouse: Path,
    build: bool = True,
    progress: Progress,
    wait_seconds: float = 0.0,
) -> SyncResult:
    started = time.monotonic()
    synced_at = datetime.now(timezone.utc)
    warehouse = warehouse.resolve()
    with exclusive_lock(
        warehouse, wait_seconds, on_wait=lambda: progress.line("waiting for another whsync run to finish…")
    ):
        remove_leftovers(warehouse)
        with building_copy(warehouse) as db:
            progress.set_stage("extracting from Benchling")
            rows, stats = extract_benchling(benchling, db, progress, synced_at)
            dbt_result = None
            if build:
                progress.set_stage("building the warehouse (dbt)")
                dbt_result = run_dbt("build", duckdb_env(db), key=str(warehouse))
            progress.set_stage("publishing")
    counts = table_counts(warehouse, [("main", t) for t in WAREHOUSE_TABLES]) if build else {}
    return SyncResult(
        warehouse=warehouse,
        seconds=time.monotonic() - started,
        rows=rows,
        requests=stats.requests,
        rate_limited=stats.rate_limited,
        retries=stats.retries,
        dbt=dbt_result,
        counts=counts,
    )


def build_only(*, warehouse: Path, progress: Progress, wait_seconds: float = 0.0) -> DbtResult:
    warehouse = warehouse.resolve()
    if not warehouse.exists():
        raise ConfigError(f"no warehouse at {warehouse}: run `whsync sync` first")
    with exclusive_lock(warehouse, wait_seconds):
        remove_leftovers(warehouse)
        with building_copy(warehouse) as db:
            progress.set_stage("building the warehouse (dbt)")
            return run_dbt("build", duckdb_env(db), key=str(warehouse))
