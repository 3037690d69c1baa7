"""Scenario 5: the cost of access history (`<table>$history`, macros/history.sql).

- N unchanged syncs of a tenant: dbt build seconds and warehouse file size after sync 1 and after
  sync N, and the history rows (they must not grow: an unchanged sync adds no version);
- then N syncs that each change the role of 1% of the memberships (through the simulator's API);
- rows/s with the build at the largest folder count, with history and without it (the same sync
  with the history models excluded from the dbt build), first sync into an empty warehouse.

Syncs run in this process against an in-process simulator with no rate limit and no latency: what
is measured is the build and the file, not the API.
"""
from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

from .scenarios import Report, SimProcess, Sizes, generate, run_client, table

NO_HISTORY = ["--exclude", "config.incremental_strategy:history"]


def mib(n: int) -> str:
    return f"{n / (1 << 20):,.1f} MiB"


def _history_rows(db: Path) -> int:
    import duckdb

    from pipelines.catalog import HISTORY_RELATIONS

    con = duckdb.connect(str(db), read_only=True)
    try:
        n = 0
        for ns, name in HISTORY_RELATIONS["benchling"]:
            n += con.execute(f'select count(*) from "{"main" if ns == "warehouse" else ns}"."{name}"').fetchone()[0]
        return n
    finally:
        con.close()


def _churn(sim: Any, tenant: Any, share: float, rng: random.Random) -> int:
    """Flip the role of `share` of the memberships through the API (PATCH /teams/{id}/memberships/{user})."""
    import requests

    from pipelines.benchling.simulator import DEMO_API_KEY

    picked = rng.sample(tenant.memberships, max(1, round(len(tenant.memberships) * share)))
    with requests.Session() as s:
        s.auth = (DEMO_API_KEY, "")
        for m in picked:
            role = "MEMBER" if m["role"] == "ADMIN" else "ADMIN"
            r = s.patch(f"{sim.base_url}/teams/{m['teamId']}/memberships/{m['user']['id']}", json={"role": role}, timeout=30)
            r.raise_for_status()
    return len(picked)


def scenario_history(report: Report, sizes: Sizes, syncs: int, work: Path, large_folders: int | None) -> dict[str, Any]:
    from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator
    from pipelines.progress import Progress
    from pipelines.benchling.spec import benchling_plan, BenchlingConfig
    from pipelines.targets import resolve_target
    from pipelines.sync import sync

    report.emit(f"\n## History cost: {sizes.label()}; {syncs} syncs unchanged, then {syncs} syncs changing 1% of memberships")
    tenant = generate(sizes)
    db = work / "history.duckdb"
    rows, out = [], {}
    rng = random.Random(sizes.seed)
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        cfg = BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY)

        def one(label: str) -> None:
            res = sync(plans=[benchling_plan(cfg)], target=resolve_target(duckdb=db), progress=Progress(quiet=True))
            rec = {"build_s": res.build_seconds, "file_bytes": db.stat().st_size, "history_rows": _history_rows(db)}
            out[label] = rec
            if label.startswith(("sync 1 ", "sync 2 ", f"sync {syncs} ", f"sync {syncs + 1} ", f"sync {2 * syncs} ")):
                rows.append([label, rec["build_s"], mib(rec["file_bytes"]), rec["history_rows"]])

        for i in range(1, syncs + 1):
            one(f"sync {i} (unchanged)" if i > 1 else "sync 1 (first)")
        changed = 0
        for i in range(syncs + 1, 2 * syncs + 1):
            changed = _churn(sim, tenant, 0.01, rng)
            one(f"sync {i} (1% memberships changed)")
    report.emit(table(f"History: dbt build seconds, warehouse file and history rows ({len(tenant.memberships):,} "
                      f"memberships; {changed} role changes per churn sync)",
                      ["after", "build s", "file", "history rows"], rows))
    first, last_same = out["sync 1 (first)"], out[f"sync {syncs} (unchanged)" if syncs > 1 else "sync 1 (first)"]
    grew = last_same["history_rows"] - first["history_rows"]
    report.emit(f"\nUnchanged syncs added {grew} history rows (must be 0); file {mib(first['file_bytes'])} -> "
                f"{mib(last_same['file_bytes'])}. On {os.cpu_count()} cores.")

    if large_folders:
        big = Sizes(sizes.users, sizes.apps, sizes.teams, sizes.projects, large_folders, sizes.seed)
        rr = []
        for label, extra in (("with history", None), ("without history", NO_HISTORY)):
            with SimProcess(big, "off", 0) as simp, tempfile.TemporaryDirectory(dir=work) as d:
                r = run_client("whsync", simp, Path(d) / "w.duckdb", dbt_args=extra)
            total = sum(r.rows.values()) if r.rows else 0
            rr.append([label, "ok" if r.ok else f"FAILED: {r.error}", total, r.extract_s, r.build_s, r.wall_s,
                       total / r.wall_s if r.ok and r.wall_s else None])
            out[f"{large_folders} folders {label}"] = {"build_s": r.build_s, "wall_s": r.wall_s, "rows": total}
        report.emit(table(f"History: rows/s with the build at {large_folders:,} folders (first sync)",
                          ["build", "status", "rows", "extract s", "build s", "wall s", "rows/s with build"], rr))
    report.data["history"] = out
    return out
