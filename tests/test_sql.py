"""`whsync sql` on the DuckDB warehouse, as a user runs it: the three formats, a bad query, statements
on standard input, and queries while a sync runs (neither waits for the other)."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from tests import forkserver
from tests.helpers import child_env

WHSYNC = str(Path(sys.executable).with_name("whsync"))
QUERY = ('select id, handle, is_suspended, created_at, 3.5 as x from "user" order by id limit 4')


def whsync(*args: str, input: str | None = None, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    env = child_env("BENCHLING_", "WHSYNC_")
    env.update(kw.pop("env", {}))
    return forkserver.run([WHSYNC, *args], input=input, capture_output=True, text=True, timeout=timeout, env=env, **kw)


def expected(db: Path, query: str) -> tuple[list[str], list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(query)
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()


def test_json_csv_and_table_formats_hold_the_query_result(demo_warehouse):
    cols, rows = expected(demo_warehouse, QUERY)
    assert len(rows) == 4 and any(r[2] is not None for r in rows)

    p = whsync("sql", "--duckdb", str(demo_warehouse), "--format", "json", QUERY)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == [
        {"id": r[0], "handle": r[1], "is_suspended": r[2], "created_at": None, "x": 3.5} for r in rows]

    p = whsync("sql", "--duckdb", str(demo_warehouse), "--format", "csv", QUERY)
    assert p.returncode == 0, p.stderr
    assert list(csv.reader(io.StringIO(p.stdout))) == [cols] + [
        [r[0], r[1], "true" if r[2] else "false", "", "3.5"] for r in rows]

    p = whsync("sql", "--duckdb", str(demo_warehouse), QUERY)  # table is the default
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert [c.strip() for c in lines[0].split(" | ")] == cols and set(lines[1]) <= {"-", "+"}
    assert [[c.strip() for c in line.split(" | ")] for line in lines[2:-1]] == [
        [r[0], r[1], "true" if r[2] else "false", "NULL", "3.5"] for r in rows]
    assert lines[-1] == "(4 rows)" and p.stderr == ""


def test_dollar_names_and_statements_on_stdin(demo_warehouse):
    q = 'select "archive_purpose$" as purpose, count(*) as n from "project$raw" group by 1 order by 1;\n'
    p = whsync("sql", "--duckdb", str(demo_warehouse), "-f", "json", input=q + "select 1 as one;\n")
    assert p.returncode == 0, p.stderr
    first, second = p.stdout.split("]\n[")
    assert json.loads(first + "]") == [{"purpose": a, "n": n} for a, n in expected(demo_warehouse, q)[1]]
    assert json.loads("[" + second) == [{"one": 1}]


@pytest.mark.parametrize("query, message", [
    ("select * from no_such_table", "Catalog Error: Table with name no_such_table does not exist!"),
    ("selec 1", 'Parser Error: syntax error at or near "selec"'),
    ("create table t (a int)", 'Cannot execute statement of type "CREATE"'),
])
def test_a_bad_query_is_one_line_with_the_databases_message(demo_warehouse, query, message):
    p = whsync("sql", "--duckdb", str(demo_warehouse), query)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith("whsync: error: ") and message in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_no_warehouse_and_bad_options_exit_2(tmp_path):
    p = whsync("sql", "--duckdb", str(tmp_path / "none.duckdb"), "select 1")
    assert p.returncode == 2 and "no warehouse at" in p.stderr and "whsync demo" in p.stderr
    p = whsync("sql", "--duckdb", str(tmp_path / "none.duckdb"), "--format", "xml", "select 1")
    assert p.returncode == 2 and "--format 'xml': choose table, csv or json" in p.stderr


def _read_until(stream, marker: str, timeout: float) -> str:
    out, deadline = "", time.monotonic() + timeout
    while marker not in out:
        assert time.monotonic() < deadline, f"no {marker!r} within {timeout}s; got {out!r}"
        line = stream.readline()
        assert line, f"the reader ended early: {out!r}"
        out += line
    return out


def test_queries_and_a_sync_never_wait_for_each_other(demo_warehouse, tmp_path):
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, db)
    # which sync a reader sees: the time of the sync that wrote the teams (listed in full by every sync)
    count = 'select max(_synced_at) as n from "team$raw";\n'
    old = str(expected(db, count)[1][0][0])
    tenant = generate_tenant(seed=7, users=200, apps=10, teams=20, projects=50, folders=400)  # `whsync demo`'s
    # a reader with the warehouse open before the sync starts, kept open until after it publishes
    reader = forkserver.Popen([WHSYNC, "sql", "--duckdb", str(db), "-f", "csv"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        reader.stdin.write(count)
        reader.stdin.flush()
        assert _read_until(reader.stdout, old, 60).splitlines()[-1] == old
        with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off", latency_ms=100) as sim:
            env = child_env("BENCHLING_", "WHSYNC_")
            sync = forkserver.Popen([WHSYNC, "sync", "-q", "--base-url", sim.base_url, "--duckdb", str(db)],
                                    env={**env, "BENCHLING_API_KEY": DEMO_API_KEY}, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            building = db.with_name(f".{db.name}.building")
            deadline = time.monotonic() + 60
            while not building.exists():
                assert sync.poll() is None and time.monotonic() < deadline, "the sync did not start writing"
                time.sleep(0.05)
            during = whsync("sql", "--duckdb", str(db), "-f", "csv", count.rstrip(";\n"))
            assert during.returncode == 0 and during.stdout.splitlines() == ["n", old], during.stderr
            assert sync.poll() is None, "the sync ended before the query: it did not run during the sync"
            out, err = sync.communicate(timeout=300)
        assert sync.returncode == 0, err  # the open reader did not block the publish
        new = str(expected(db, count)[1][0][0])
        assert new > old
        reader.stdin.write(count)  # the reader's connection still sees the warehouse it opened
        reader.stdin.flush()
        assert _read_until(reader.stdout, old, 60).splitlines()[-1] == old
        reader.stdin.close()
        assert reader.wait(timeout=60) == 0, reader.stderr.read()
    finally:
        if reader.poll() is None:
            reader.kill()
    after = whsync("sql", "--duckdb", str(db), "-f", "csv", count.rstrip(";\n"))
    assert after.stdout.splitlines() == ["n", new]


def test_the_prompt_in_a_terminal_runs_statements_and_survives_an_error(demo_warehouse):
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: whsync sql with a terminal as stdin and stdout
        os.execv(WHSYNC, [WHSYNC, "sql", "--duckdb", str(demo_warehouse)])
    out = b""

    def expect(marker: bytes | None, timeout: float = 60) -> None:
        """Read until `marker` (None: until the child closes the terminal)."""
        nonlocal out
        deadline = time.monotonic() + timeout
        while marker is None or marker not in out:
            assert time.monotonic() < deadline, out.decode(errors="replace")
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child has exited
                chunk = b""
            if not chunk:
                assert marker is None, out.decode(errors="replace")
                return
            out += chunk

    try:
        expect(b"whsync> ")
        os.write(fd, b"select 40 +\n")
        expect(b"...> ")
        os.write(fd, b" 2 as answer;\nselect * from nope;\nselect 'still here' as s;\n.quit\n")
        expect(None)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    text = out.decode(errors="replace")
    assert text.count("(1 row)") == 2 and "42" in text and "error: Catalog Error: Table with name nope does not exist!" in text
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("query", [
    "copy (select 1 as a) to 'w2.duckdb' (format csv)",  # issue 25, verbatim: the warehouse became 4 bytes
    "copy (select 1 as a) to '{db}' (format csv)",
    "copy (select 1 as a) to '{out}' (format csv)",
    "attach '{out}' as other",
    "install httpfs",
    "load httpfs",
    "set enable_external_access = true",
    "reset lock_configuration",
    "select * from read_csv('{db}')",
    "export database '{dir}'",
])
def test_sql_cannot_write_files_or_change_its_configuration(demo_warehouse, tmp_path, query):
    db = tmp_path / "w2.duckdb"
    shutil.copy(demo_warehouse, db)
    before = db.read_bytes()
    tables = expected(db, "select table_name, estimated_size from duckdb_tables() order by 1")
    out = tmp_path / "out.csv"
    p = whsync("sql", "--duckdb", "w2.duckdb", query.format(db=db, out=out, dir=tmp_path / "exp"), cwd=tmp_path)
    assert p.returncode == 1 and p.stdout == "", p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert db.read_bytes() == before and not out.exists() and not (tmp_path / "exp").exists()
    p = whsync("sql", "--duckdb", str(db), "--format", "csv", "select count(*) as n from \"user\"")
    assert p.returncode == 0, p.stderr
    assert expected(db, "select table_name, estimated_size from duckdb_tables() order by 1") == tables
