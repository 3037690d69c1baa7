"""The tests' fork server (tests/forkserver.py) gives a whsync process what the console script gives it: its
own pid, arguments, environment, working directory, standard streams and exit code (or signal), with the
same output as a plain `subprocess` run of it; and anything that is not this checkout's `whsync` runs
through `subprocess` itself."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests import forkserver


def test_a_child_has_its_own_arguments_streams_and_exit_code(tmp_path):
    p = forkserver.run([forkserver.WHSYNC, "--version"], capture_output=True, text=True, timeout=60)
    real = subprocess.run([forkserver.WHSYNC, "--version"], capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (real.returncode, real.stdout, real.stderr) == (0, real.stdout, "")
    assert p.stdout.startswith("whsync ")
    # an error: exit 2 and one line on stderr, the program name from argv[0]
    p = forkserver.run([forkserver.WHSYNC, "sql", "--duckdb", str(tmp_path / "none.duckdb"), "select 1"],
                       capture_output=True, text=True, timeout=60)
    real = subprocess.run([forkserver.WHSYNC, "sql", "--duckdb", str(tmp_path / "none.duckdb"), "select 1"],
                          capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (real.returncode, real.stdout, real.stderr)
    assert p.returncode == 2 and p.stderr.startswith("whsync: error: no warehouse at ")
    # bad usage: click's own exit code and usage line
    p = forkserver.run([forkserver.WHSYNC, "no-such-command"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "Usage: whsync" in p.stderr


def test_a_child_reads_stdin_and_writes_in_its_own_working_directory(tmp_path, demo_warehouse):
    p = forkserver.run([forkserver.WHSYNC, "sql", "--duckdb", str(demo_warehouse), "-f", "csv"],
                       input="select count(*) as n from team;", capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "n" and int(p.stdout.splitlines()[1]) > 0
    # the relative default path (warehouse.duckdb) is the child's working directory's, not the caller's
    p = forkserver.run([forkserver.WHSYNC, "sql", "select 1"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and f"no warehouse at {tmp_path / 'warehouse.duckdb'}" in p.stderr


def test_a_child_reads_the_environment_it_is_given_and_other_programs_run_as_they_are(tmp_path, monkeypatch):
    args = [forkserver.WHSYNC, "sql", "--target", "postgres", "select 1"]
    said = []
    for dsn in (None, "postgresql://nobody@127.0.0.1:1/none"):  # unset, then a server that is not there
        if dsn is None:
            monkeypatch.delenv("WHSYNC_POSTGRES_DSN", raising=False)
        else:
            monkeypatch.setenv("WHSYNC_POSTGRES_DSN", dsn)
        forked = forkserver.run(args, capture_output=True, text=True, timeout=60, cwd=tmp_path)
        real = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert (forked.returncode, forked.stdout, forked.stderr) == (real.returncode, real.stdout, real.stderr)
        said.append((forked.returncode, forked.stderr))
    assert said[0][0] == 2 and "WHSYNC_POSTGRES_DSN" in said[0][1]  # bad config: which value, what to do
    assert said[1][0] == 1 and "127.0.0.1:1" in said[1][1] and "Connection refused" in said[1][1]
    # not whsync: subprocess itself (a plain interpreter, its own pid, the given environment only)
    p = forkserver.run([sys.executable, "-c", "import os; print(os.getpid(), os.getcwd(), os.environ.get('P'))"],
                       env={"P": "probe", "PATH": os.environ.get("PATH", "")}, cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    pid, cwd, probe = p.stdout.split()
    assert (cwd, probe) == (str(tmp_path), "probe") and int(pid) != os.getpid()


def test_a_child_is_killed_by_a_signal_like_a_process(tmp_path):
    p = forkserver.Popen([forkserver.WHSYNC, "simulate", "benchling", "--port", "0", "--users", "3", "--teams", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = p.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and p.poll() is None
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(0.2)
        p.send_signal(signal.SIGKILL)
        assert p.wait(30) == -signal.SIGKILL
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(30)
        p.stdout.close()
        p.stderr.close()
