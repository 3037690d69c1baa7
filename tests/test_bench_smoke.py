"""A tiny run of the benchmark (bench/): it prints its tables with measured values, and the peers
(benchling-sdk loop, dlt rest_api) load exactly the keys whsync loads."""
from __future__ import annotations

import re

from bench.__main__ import main
from bench.scenarios import TABLES


def _table(out: str, title_part: str) -> list[list[str]]:
    """The body rows of the first markdown table whose title contains `title_part`."""
    block = out.split(title_part, 1)[1]
    rows = [ln for ln in block.splitlines() if ln.startswith("| ")]
    body, started = [], False
    for ln in block.splitlines()[1:]:
        if ln.startswith("|---"):
            started = True
            continue
        if started:
            if not ln.startswith("| "):
                break
            body.append([c.strip() for c in ln.strip().strip("|").split("|")])
    assert rows and body, f"no table under {title_part!r}"
    return body


def _num(cell: str) -> float:
    return float(cell.replace(",", "").split()[0])


def test_bench_smoke(capsys):
    assert main(["--smoke", "--no-build", "--scenarios", "1,2,3"]) == 0
    out = capsys.readouterr().out

    assert re.search(r"\d+ cores", out) and "dlt " in out and "duckdb " in out and "dbt-core " in out
    runs = {r[0]: r for r in _table(out, "smoke: wall time, requests and 429s")}
    assert set(runs) == {"whsync", "sdk", "rest_api"}
    for name, r in runs.items():
        assert r[1] == "ok", (name, r[1])
        assert _num(r[2]) > 0  # wall s, measured
        assert _num(r[5]) > 0  # requests, from the simulator
    # measured, not constant: the clients differ in wall time and peak RSS
    assert len({runs[n][2] for n in runs}) > 1
    assert len({runs[n][10] for n in runs}) > 1
    # the floor is computed from the tenant, and whsync spends exactly that many requests
    floor_r = int(re.search(r"Floor: R = ([\d,]+) requests", out).group(1).replace(",", ""))
    assert _num(runs["whsync"][5]) == floor_r

    same = {r[0]: r for r in _table(out, "smoke: rows per raw table")}
    assert set(same) == set(TABLES)
    for table, r in same.items():
        # tenant, whsync rows/same, sdk rows/same, rest_api rows/same
        assert r[3] == r[5] == r[7] == "yes", (table, r)
        assert r[1] == r[2] == r[4] == r[6], (table, r)

    unthrottled = _table(out, "Unthrottled: rows/s and peak RSS")
    assert unthrottled[0][1] == "ok" and _num(unthrottled[0][7]) > 0 and "MiB" in unthrottled[0][9]


def test_bench_activity_smoke(capsys):
    """Scenario 7 on a tiny tenant: whsync spends exactly the listing floor + one request per user with no
    429, and the peers (benchling-sdk loop, dlt rest_api) fetch the same users' activity."""
    assert main(["--smoke", "--no-build", "--scenarios", "7"]) == 0
    out = capsys.readouterr().out
    listing, users, floor_r = (int(x.replace(",", "")) for x in re.search(
        r"R = listing floor ([\d,]+) \(pageSize 100\) \+ ([\d,]+) users = ([\d,]+) requests", out).groups())
    assert floor_r == listing + users and users > 0
    runs = {r[0]: r for r in _table(out, "smoke (activity): wall time, requests, 429s")}
    assert set(runs) == {"whsync", "sdk", "rest_api"}
    for name, r in runs.items():
        assert r[1] == "ok" and r[7] == "yes" and _num(r[6]) == users, (name, r)
    assert _num(runs["whsync"][4]) == floor_r and _num(runs["whsync"][5]) == 0
    assert _num(runs["sdk"][4]) >= users and _num(runs["rest_api"][9]) > 0  # measured peer ratio


def test_bench_cpu_scenarios_smoke(capsys):
    """Scenarios 10 (resyncs with and without each saving, in this process) and 11 (`whsync sync` processes
    with and without each), at one run per mode: every mode runs and prints a measured CPU time."""
    assert main(["--smoke", "--scenarios", "10,11", "--trim-resyncs", "1", "--command-runs", "1"]) == 0
    out = capsys.readouterr().out
    resyncs = {r[0]: r for r in _table(out, "CPU per resync (whole sync, this process)")}
    assert set(resyncs) == {"with the trims", "dbt as it is", "dlt as it is", "collector on", "file reopened"}
    for mode, r in resyncs.items():
        assert r[1] == "1" and _num(r[3]) > 0, (mode, r)
        assert _num(r[2].split("/")[0]) > 0 and _num(r[2].split("/")[1]) > 0, (mode, r)  # models / tests built
    kinds = {r[0]: r for r in _table(out, "time per dbt node, with everything")}
    assert {"model:view", "model:table", "test:test"} <= set(kinds), kinds
    for kind, r in kinds.items():
        assert _num(r[1]) > 0 and _num(r[3]) > 0, (kind, r)  # nodes per resync, execute ms: dbt's own timings
    commands = {r[0]: r for r in _table(out, "CPU per `whsync sync` process")}
    assert set(commands) == {"as shipped", "no template store", "collector on after the sync", "neither"}
    for mode, r in commands.items():
        assert r[1] == "1" and _num(r[2]) > 0, (mode, r)
    assert re.search(r"the dbt trims save -?\d+\.\d\d s", out) and re.search(r"the dlt trims -?\d+\.\d\d s", out) and re.search(r"neither: [+-]\d+\.\d\d s per command", out)


def test_bench_pg_connections_smoke(capsys):
    """Scenario 12 at one resync per mode on its own PostgreSQL server: both modes run, the connections are
    counted (kept open: fewer) and the CPU, the server's included, is measured."""
    assert main(["--smoke", "--scenarios", "12", "--pg-resyncs", "1"]) == 0
    out = capsys.readouterr().out
    rows = {r[0]: r for r in _table(out, "connections and CPU per resync")}
    assert set(rows) == {"kept open", "one per node and block"}
    for mode, r in rows.items():
        assert r[1] == "1" and _num(r[3]) > 0 and _num(r[4]) > 0 and _num(r[5]) > 0, (mode, r)
    assert 0 < _num(rows["kept open"][2]) < _num(rows["one per node and block"][2]) / 2
    assert re.search(r"keeping them open saves -?\d+\.\d\d s of CPU per resync", out)
