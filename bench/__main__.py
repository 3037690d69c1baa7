"""`make bench` / `python -m bench`: run the benchmark and print tables of what was measured.

    python -m bench                 quick run (default): the standard tenant scaled to 1/10 at a
                                    scaled limit, both peers, a second sync, unthrottled 10k/100k folders
    python -m bench --full          also the standard tenant at Benchling's default limit 60/30 with
                                    50 ms latency (~8+ min per client by design) and 1M folders unthrottled
    python -m bench --smoke         a tiny tenant, for the test suite (< 30 s)
    python -m bench --scenarios 3 --folders 10000,100000,1000000
    python -m bench --scenarios 5 --scale 1 --history-syncs 30 --history-folders 1000000   (history cost)
    python -m bench --scenarios 6   the time-left estimate of a throttled second sync vs the time it took
    python -m bench --scenarios 9           suspending 500 Benchling users at 60/30: whsync remediate apply
                                            (bulk-update + task polls) vs a benchling-sdk users.update loop,
                                            at --latency-ms (50) and again at 250 ms
    python -m bench --scenarios 7           the activity pass (--activity all): quick = the scaled tenant at
                                            300/30 with 250 ms latency (with peers) and at the quick limit;
                                            --full = the standard tenant at 60/30 and at 300/30 + 250 ms
    python -m bench --scenarios 8           Okta: a 10,000-user org at 600/min users, 100/min apps, whsync
                                            beside the okta SDK's paging loop (bench/okta.py)
    python -m bench --scenarios 10          the CPU per resync that the dbt trims (pipelines/dbt_trims.py), the
                                            dlt trims (dlt_trims.py), the collector's pause (collector.py) and
                                            the DuckDB build held open save: resyncs with and without each, in
                                            turn (bench/dbt_trims.py; --smoke: no warm-up sync)
    python -m bench --scenarios 11          the CPU of a `whsync sync` process (a resync) that the template store
                                            (dbt_templates.py) and the collector left off until exit save, each
                                            command with and without each, in turn (bench/commands.py;
                                            --smoke: no warm-up sync)
    python -m bench --scenarios 12          PostgreSQL: the connections and CPU (the server's included) per resync
                                            that keeping connections open saves (dbt_connections.py, the
                                            build's held connection): resyncs with and without, in turn
                                            (bench/pg_connections.py; starts its own server)
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from .activity import scenario_activity
from .eta import scenario_eta
from .scenarios import SMOKE, STANDARD, Report, header, scenario_throttled, scenario_unthrottled, workdir

REALISTIC_LATENCY_MS = 250  # an API's answer time over the internet, as scenario 7 measures at an app's 300/30


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="quick run (the default)")
    mode.add_argument("--full", action="store_true",
                      help="add the standard tenant at 60/30 with 50 ms latency and 1M folders unthrottled")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    p.add_argument("--scenarios", default=None,
                   help="comma list: 1 whsync at the limit, 2 peers, 3 unthrottled, 4 second sync, "
                        "5 history cost, 6 time-left estimate, 7 activity pass, 8 Okta, 9 remediation, 10 dbt trims, "
                        "11 a sync command's process, 12 PostgreSQL connections kept open (default all; --smoke skips 8, 9, 10, "
                        "11 and 12 unless named)")
    p.add_argument("--history-syncs", type=int,
                   help="scenario 5: unchanged syncs, then as many 1%%-churn syncs (default 5; --full 30)")
    p.add_argument("--history-folders", type=int,
                   help="scenario 5: folders for rows/s with and without history (default: none; --full 1000000)")
    p.add_argument("--scale", type=float, default=0.1, help="quick tenant = standard tenant x SCALE (default 0.1)")
    p.add_argument("--quick-rate-limit", default="30/10",
                   help="simulator limit for the scaled tenant (default 30/10: about as many windows as the "
                        "standard tenant needs at 60/30, in a third of the time)")
    p.add_argument("--rate-limit", default="60/30", help="simulator limit for the standard tenant (--full)")
    p.add_argument("--latency-ms", type=float, default=50, help="simulator latency for scenarios 1, 2, 4")
    p.add_argument("--folders", help="comma list of folder counts for scenario 3 "
                                     "(default 10000,100000; with --full also 1000000)")
    p.add_argument("--no-build", action="store_true",
                   help="run whsync without the dbt build (extract+load only; build s is then not measured)")
    p.add_argument("--trim-resyncs", type=int,
                   help="scenario 10: resyncs with everything, and as many without the dbt trims, without the dlt trims, with the collector on and with the build file reopened (default 6; --smoke 2; --full 12)")
    p.add_argument("--command-runs", type=int,
                   help="scenario 11: whsync sync processes as shipped, and as many without the template store, with the collector on after the sync and with neither (default 4; --smoke 1; --full 8)")
    p.add_argument("--pg-resyncs", type=int,
                   help="scenario 12: PostgreSQL resyncs with connections kept open, and as many with a new one per dbt node and statement block (default 6; --smoke 1; --full 12)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, help="also write the measurements to this JSON file")
    p.add_argument("--keep", action="store_true", help="keep the DuckDB files of every run (prints the folder)")
    return p.parse_args(argv)


def run_activity(a: argparse.Namespace, report: Report, standard, work: Path, build: bool) -> None:
    """Scenario 7 at an app's 300/30 with 250 ms latency (with both peers) and at the default limit."""
    if a.smoke:
        scenario_activity(report, "smoke", replace(SMOKE, seed=a.seed, users=60), "40/1", 0, ["sdk", "rest_api"],
                          work, build)
        return
    if a.full:
        scenario_activity(report, "standard 300/30", standard, "300/30", REALISTIC_LATENCY_MS, ["sdk", "rest_api"], work, build)
        scenario_activity(report, "standard 60/30", standard, a.rate_limit, a.latency_ms, [], work, build)
        return
    scaled = standard.scaled(a.scale)
    scenario_activity(report, f"scaled x{a.scale:g} 300/30", scaled, "300/30", REALISTIC_LATENCY_MS, ["sdk", "rest_api"], work, build)
    scenario_activity(report, f"scaled x{a.scale:g} {a.quick_rate_limit}", scaled, a.quick_rate_limit, a.latency_ms,
                      [], work, build)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    named = a.scenarios is not None
    a.scenarios = a.scenarios or ("1,2,3,4,5,6,7" if a.smoke else "1,2,3,4,5,6,7,8,9,10,11,12")
    wanted = {s.strip() for s in a.scenarios.split(",") if s.strip()}
    peers = ["sdk", "rest_api"] if "2" in wanted else []
    second = "4" in wanted
    build = not a.no_build
    standard = replace(STANDARD, seed=a.seed)
    if a.folders:
        folder_sizes = [int(x) for x in a.folders.split(",")]
    elif a.smoke:
        folder_sizes = [SMOKE.folders]
    else:
        folder_sizes = [10_000, 100_000] + ([1_000_000] if a.full else [])

    report = Report()
    report.emit("# " + header())
    report.emit(f"command: python -m bench {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    with workdir(keep=a.keep) as work:
        if a.keep:
            report.emit(f"DuckDB files kept in {work}")
        if wanted & {"1", "2", "4"}:
            if a.smoke:
                scenario_throttled(report, "smoke", replace(SMOKE, seed=a.seed), "8/1", 0, peers, second, work, build)
            else:
                scenario_throttled(report, "standard" if a.scale == 1 else f"scaled x{a.scale:g}", standard.scaled(a.scale),
                                   a.quick_rate_limit, a.latency_ms, peers, second, work, build)
                if a.full:
                    scenario_throttled(report, "standard", standard, a.rate_limit, a.latency_ms, peers, second, work, build)
        if "6" in wanted:
            if a.smoke:
                scenario_eta(report, "smoke", replace(SMOKE, seed=a.seed), "8/1", 0, work, build)
            else:
                scenario_eta(report, "standard" if a.scale == 1 else f"scaled x{a.scale:g}", standard.scaled(a.scale),
                             a.quick_rate_limit, a.latency_ms, work, build)
                if a.full:
                    scenario_eta(report, "standard", standard, a.rate_limit, a.latency_ms, work, build)
        if "7" in wanted:
            run_activity(a, report, standard, work, build)
        if "3" in wanted:
            base = replace(SMOKE, seed=a.seed) if a.smoke else standard
            scenario_unthrottled(report, folder_sizes, base, work, build)
        if "9" in wanted and (not a.smoke or named):
            from .remediate import scenario_remediate

            if a.smoke:
                scenario_remediate(report, 30, "8/1", 0, work, peer=True, seed=a.seed)
            else:
                # at the bench's latency, then at an API's realistic 250 ms (as scenario 7): the floor is three
                # round trips; the 15 requests' own send and answer time weigh ~10% of 3 x 50 ms, ~2% of 3 x 250 ms
                scenario_remediate(report, 500, "60/30", a.latency_ms, work, peer=True, seed=a.seed)
                if a.latency_ms != REALISTIC_LATENCY_MS:
                    scenario_remediate(report, 500, "60/30", REALISTIC_LATENCY_MS, work, peer=False, seed=a.seed)
        if "5" in wanted and build:
            from .history import scenario_history

            hsizes = replace(SMOKE, seed=a.seed) if a.smoke else standard if a.full else standard.scaled(a.scale)
            syncs = a.history_syncs or (2 if a.smoke else 30 if a.full else 5)
            scenario_history(report, hsizes, syncs, work, a.history_folders or (1_000_000 if a.full else None))
        if "10" in wanted and build:
            from .dbt_trims import scenario_dbt_trims

            tsizes = replace(SMOKE, seed=a.seed) if a.smoke else standard if a.full else standard.scaled(a.scale)
            scenario_dbt_trims(report, tsizes, a.trim_resyncs or (2 if a.smoke else 12 if a.full else 6), work,
                               warm_up=not a.smoke)
        if "11" in wanted and build:
            from .commands import scenario_commands

            csizes = replace(SMOKE, seed=a.seed) if a.smoke else standard if a.full else standard.scaled(a.scale)
            scenario_commands(report, csizes, a.command_runs or (1 if a.smoke else 8 if a.full else 4), work,
                              warm_up=not a.smoke)
        if "12" in wanted and build:
            from .pg_connections import scenario_pg_connections

            psizes = replace(SMOKE, seed=a.seed) if a.smoke else standard if a.full else standard.scaled(a.scale)
            scenario_pg_connections(report, psizes, a.pg_resyncs or (1 if a.smoke else 12 if a.full else 6), work)
        if "8" in wanted:
            from .okta import scenario_okta

            if a.smoke:
                scenario_okta(report, work, users=300, groups=3, apps=12, per_app=5, limits={"users": 10, "apps": 5},
                              window_s=1.0, seed=a.seed)
            else:
                scenario_okta(report, work, seed=a.seed)
    if a.json:
        a.json.write_text(json.dumps({"header": report.lines[0], "data": report.data}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
