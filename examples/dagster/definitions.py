"""Dagster definitions that run whsync: one asset per warehouse table of each source, a daily
schedule, and the run's counts on every materialization.

    pip install dagster            # whsync's dev environment has it (dependency group `dagster`)
    WHSYNC_SOURCES=benchling BENCHLING_BASE_URL=https://acme.benchling.com BENCHLING_API_KEY=... \\
        dagster dev -f examples/dagster/definitions.py

With `dagster dev`, turn Dagster's telemetry off in `$DAGSTER_HOME/dagster.yaml` (`telemetry: {enabled:
false}`): whsync phones nowhere, and neither should its scheduler.

The assets are built by whsync's own sync (`pipelines.sync.sync`), not by a second pipeline: one
multi-asset for every table, so a run of any selection is one whsync sync of the sources it touches,
loaded and built in a private copy and published atomically, with its row in `sync_run`. Each
materialization carries the table's rows after the sync, its source's API requests, 429s and
retries, and the run id (the `sync_run.run_id` of the publish). Credentials come from the
environment or `.dlt/secrets.toml`, as for the CLI; the resource holds no secret.
"""
import os
from pathlib import Path

import dagster as dg

from pipelines.catalog import SOURCE_RELATIONS, relation_label
from pipelines.errors import explain
from pipelines.progress import Progress
from pipelines.sync import SyncOptions, plans_for, sync
from pipelines.targets import resolve_target


def asset_key(source: str, relation: str) -> dg.AssetKey:
    """`["benchling", "user_raw"]` for `user$raw` (Dagster names allow only [A-Za-z0-9_])."""
    return dg.AssetKey([source, relation.replace("$", "_")])


class Whsync(dg.ConfigurableResource):
    """Where the warehouse lives and how to reach the APIs (keys come from the environment)."""

    duckdb: str = "warehouse.duckdb"  # the DuckDB warehouse file (target "duckdb")
    target: str = "duckdb"  # or "postgres": WHSYNC_POSTGRES_DSN / destination.postgres.credentials
    pg_schema: str = "public"  # PostgreSQL: the warehouse schema (--schema)
    base_url: str | None = None  # Benchling tenant; default BENCHLING_BASE_URL
    wait_seconds: float = 3600.0  # wait for an overlapping whsync run (cron, a manual sync) to finish
    allow_insecure_http: bool = False


def build_definitions(sources: list[str] | tuple[str, ...] = ("benchling",), cron: str = "0 3 * * *",
                      **resource_config: object) -> dg.Definitions:
    """Definitions for `sources` (benchling, paradime, bencher) with a daily schedule at `cron` (UTC)."""
    specs = [
        dg.AssetSpec(asset_key(src, name), group_name=src, skippable=True,
                     description=f"whsync warehouse table `{relation_label(ns, name)}`, synced from {src.capitalize()}",
                     metadata={"dagster/table_name": relation_label(ns, name)}, kinds={"whsync"})
        for src in sources for ns, name in SOURCE_RELATIONS[src]
    ]

    @dg.multi_asset(specs=specs, can_subset=True, name="whsync_sync", required_resource_keys={"whsync"})
    def whsync_sync(context: dg.AssetExecutionContext):  # noqa: ANN202 - yields MaterializeResults
        cfg: Whsync = context.resources.whsync
        selected = [s for s in sources if any(k.path[0] == s for k in context.selected_asset_keys)]
        try:
            target = resolve_target(duckdb=Path(cfg.duckdb), target=cfg.target, schema=cfg.pg_schema)
            plans = plans_for(selected, SyncOptions(base_url=cfg.base_url, allow_insecure_http=cfg.allow_insecure_http))
            with Progress(interval=30.0) as progress:  # plain lines every 30 s into the run's logs
                result = sync(plans=plans, target=target, progress=progress, wait_seconds=cfg.wait_seconds)
        except Exception as e:  # noqa: BLE001 - the run fails with whsync's one-line cause
            raise dg.Failure(description=explain(e)[0]) from None
        run = result.run
        context.log.info(f"whsync run {run.run_id}: {sum(result.rows.values())} rows loaded, "
                         f"{run.total('requests')} requests in {result.seconds:.1f}s into {result.warehouse}")
        for src in selected:
            stats = run.sources.get(src, {})
            for ns, name in SOURCE_RELATIONS[src]:
                key = asset_key(src, name)
                if key not in context.selected_asset_keys:
                    continue
                yield dg.MaterializeResult(asset_key=key, metadata={
                    "rows": dg.MetadataValue.int(int(stats.get("rows", {}).get(relation_label(ns, name)) or 0)),
                    "dagster/row_count": dg.MetadataValue.int(int(stats.get("rows", {}).get(relation_label(ns, name)) or 0)),
                    "requests": dg.MetadataValue.int(int(stats.get("requests", 0))),
                    "rate_limited": dg.MetadataValue.int(int(stats.get("rate_limited", 0))),
                    "retries": dg.MetadataValue.int(int(stats.get("retries", 0))),
                    "run_id": dg.MetadataValue.text(run.run_id),
                    "warehouse": dg.MetadataValue.text(result.warehouse),
                })

    job = dg.define_asset_job("whsync_daily", selection=dg.AssetSelection.assets(whsync_sync))
    return dg.Definitions(
        assets=[whsync_sync],
        jobs=[job],
        schedules=[dg.ScheduleDefinition(name="whsync_daily_schedule", job=job, cron_schedule=cron,
                                         execution_timezone="UTC")],
        resources={"whsync": Whsync(**resource_config)},
    )


defs = build_definitions(
    sources=[s.strip() for s in os.environ.get("WHSYNC_SOURCES", "benchling").split(",") if s.strip()],
    duckdb=os.environ.get("WHSYNC_DUCKDB", "warehouse.duckdb"),
    target=os.environ.get("WHSYNC_TARGET", "duckdb"),
)
