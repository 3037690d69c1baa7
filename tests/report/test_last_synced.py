"""The report's "Last synced" is the start of the newest published sync of each source, from the run log:
a sync that found nothing changed (Benchling lists users incrementally, so no user row is rewritten)
still moves it (issue 25)."""
from __future__ import annotations

from datetime import datetime, timezone

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.progress import Progress
from pipelines.report import collect, open_warehouse
from pipelines.benchling.spec import BenchlingConfig, benchling_plan
from pipelines.sync import sync
from pipelines.targets import resolve_target


def utc(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(tzinfo=None)


def test_last_synced_moves_with_a_sync_that_changed_nothing(tmp_path):
    target = resolve_target(duckdb=tmp_path / "w.duckdb")
    tenant = generate_tenant(seed=4, users=4, apps=1, teams=2, projects=2, folders=3)
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        cfg = BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY)
        first = sync(plans=[benchling_plan(cfg)], target=target, progress=Progress(quiet=True))
        second = sync(plans=[benchling_plan(cfg)], target=target, progress=Progress(quiet=True))
    with open_warehouse(target) as reader:
        report = collect(reader, since=utc(first.synced_at), inactive_days=90)
        users_synced = utc(reader.con.execute('select max(_synced_at) from "user$raw"').fetchone()[0])
    listed = report.lists["last_synced"]
    assert listed.ok and listed.query.name == "access_review/last_synced_runs.sql"
    assert [tuple(r) for r in listed.rows] == [("benchling", utc(second.synced_at))]
    assert second.synced_at > first.synced_at
    assert users_synced == utc(first.synced_at)  # the old answer: no user row changed since the first sync
