"""Errors a library would wrap, as the user sees them: one line with the real cause, the right exit
code, and the user's file left byte for byte as it was."""
from __future__ import annotations

import hashlib

import duckdb

from .test_cli import run


def _one_error(p) -> str:  # noqa: ANN001
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("whsync: error:")]
    assert len(errors) == 1 and p.stderr.strip().endswith(errors[0]), p.stderr
    return errors[0]


def test_duckdb_at_a_text_file_is_refused_and_the_file_is_unchanged(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"my notes\nthat are not a database\n" * 100)
    before = hashlib.sha256(notes.read_bytes()).hexdigest()
    mtime = notes.stat().st_mtime_ns
    for args in (["sync", "--base-url", "http://127.0.0.1:9"], ["build"], ["demo"]):
        p = run([*args, "--duckdb", "notes.txt", "-q"], tmp_path, {"BENCHLING_API_KEY": "k"})
        line = _one_error(p)
        assert p.returncode == 2, p.stderr
        assert f"--duckdb {notes} is not a DuckDB database (it was left unchanged)" in line
    assert hashlib.sha256(notes.read_bytes()).hexdigest() == before and notes.stat().st_mtime_ns == mtime
    assert sorted(x.name for x in tmp_path.iterdir()) == ["notes.txt"], "no lock or build file next to it"


def test_a_damaged_duckdb_file_is_refused_with_duckdbs_reason_and_left_unchanged(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"\0" * 8 + b"DUCK" + b"x" * 5000)  # DuckDB's header magic, then garbage
    before = bad.read_bytes()
    p = run(["build", "--duckdb", "bad.duckdb", "-q"], tmp_path)
    line = _one_error(p)
    assert p.returncode == 2 and f"--duckdb {bad} cannot be opened by DuckDB" in line and "(it was left unchanged)" in line
    assert bad.read_bytes() == before
    assert not list(tmp_path.glob(".bad.duckdb.building*"))


def test_duckdb_at_a_directory_is_refused(tmp_path):
    (tmp_path / "wh").mkdir()
    p = run(["sync", "--base-url", "http://127.0.0.1:9", "--duckdb", "wh", "-q"], tmp_path, {"BENCHLING_API_KEY": "k"})
    line = _one_error(p)
    assert p.returncode == 2 and f"--duckdb {tmp_path / 'wh'} is a directory" in line
    assert list((tmp_path / "wh").iterdir()) == []


def test_build_without_a_warehouse_says_so(tmp_path):
    p = run(["build", "--duckdb", "none.duckdb", "-q"], tmp_path)
    line = _one_error(p)
    assert p.returncode == 2 and "no raw data in" in line and "run `whsync sync` first" in line
    assert not (tmp_path / "none.duckdb").exists()


def test_a_real_duckdb_file_of_another_program_is_accepted(tmp_path):
    # a DuckDB database that is not (yet) a warehouse is a valid target: the check reads the header only
    con = duckdb.connect(str(tmp_path / "other.duckdb"))
    con.execute("create table mine (x int)")
    con.close()
    p = run(["build", "--duckdb", "other.duckdb", "-q"], tmp_path)
    assert p.returncode == 2 and "no raw data in" in p.stderr
    con = duckdb.connect(str(tmp_path / "other.duckdb"), read_only=True)
    assert con.execute("select count(*) from mine").fetchone() == (0,)
    con.close()
