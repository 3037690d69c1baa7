"""whsync installed like a tool: the built wheel in a fresh virtualenv outside the checkout, run from an
empty directory with the repository nowhere on sys.path or PATH. `whsync demo`, then `report`, `status`,
`sql` and `docs` on what it built: the same relations and row counts as the in-repo `whsync demo`
(the session's `demo_warehouse`, run concurrently), dbt's work files in the per-user cache, nothing
written into site-packages or the working directory but the warehouse and the report."""
from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from .conftest import REPO, Installed

# one worker installs the wheel and runs the demo once for every test here (make test runs xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("installed-wheel")
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def relation_counts(warehouse: Path) -> dict[str, int]:
    """schema.relation -> rows, for every table and view in the file."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rels = con.execute("select table_schema, table_name from information_schema.tables "
                           "where table_catalog = current_database() order by 1, 2").fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in rels}
    finally:
        con.close()


def package_files(inst: Installed) -> set[str]:
    """Every file of the installed package but bytecode (Python may cache that on import)."""
    root = inst.site_packages / "pipelines"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.suffix != ".pyc"}


@dataclass
class InstalledDemo:
    inst: Installed
    cwd: Path
    demo: subprocess.CompletedProcess
    files_before: set[str]
    repo_warehouse: Path  # the in-repo `whsync demo`'s

    @property
    def warehouse(self) -> Path:
        return self.cwd / "warehouse.duckdb"


@pytest.fixture(scope="module")
def installed_demo(installed: Installed, tmp_path_factory, request) -> InstalledDemo:
    cwd = tmp_path_factory.mktemp("anywhere")
    before = package_files(installed)
    proc = subprocess.Popen([str(installed.bin / "whsync"), "demo"], cwd=cwd, env=installed.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        repo_warehouse = request.getfixturevalue("demo_warehouse")  # the in-repo demo, meanwhile (or already done)
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return InstalledDemo(installed, cwd, subprocess.CompletedProcess(proc.args, proc.returncode, out, err),
                         before, repo_warehouse)


def test_the_installed_package_is_the_wheel_and_not_the_checkout(installed):
    p = subprocess.run([str(installed.bin / "python"), "-c",
                        "import json, sys, pipelines; from pipelines import project; print(json.dumps("
                        "[pipelines.__file__, sys.path, str(project.dbt_project_dir()), str(project.queries_dir())]))"],
                       cwd=installed.home, env=installed.env(), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    module, path, dbt_project, queries = json.loads(p.stdout)
    assert Path(module).is_relative_to(installed.site_packages)
    assert Path(dbt_project) == installed.site_packages / "pipelines" / "dbt_project"
    assert Path(queries) == installed.site_packages / "pipelines" / "report" / "queries"
    assert not [e for e in path if e and Path(e).resolve().is_relative_to(REPO)]
    for dev_only in ("pytest", "benchling_sdk", "playwright", "dagster"):  # test-only dependencies stay out
        q = subprocess.run([str(installed.bin / "python"), "-c", f"import {dev_only}"], env=installed.env(),
                           capture_output=True, text=True, timeout=120)
        assert q.returncode != 0, f"{dev_only} is installed with the wheel"


def test_version_comes_from_the_package_metadata(installed):
    p = installed.run("--version", cwd=installed.home)
    assert (p.returncode, p.stdout.strip()) == (0, f"whsync {VERSION}"), p.stderr
    assert installed.wheel.name.startswith(f"whsync-{VERSION}-")


def test_demo_from_an_empty_directory_builds_the_same_warehouse_as_in_the_repo(installed_demo):
    d = installed_demo
    assert d.demo.returncode == 0, d.demo.stderr[-3000:]
    assert "whsync: error" not in d.demo.stderr
    installed_counts, repo_counts = relation_counts(d.warehouse), relation_counts(d.repo_warehouse)
    assert len(installed_counts) > 40  # raw, staging, warehouse, history, Paradime/Bencher, sync_run
    assert installed_counts == repo_counts
    # what it printed: each warehouse table's count, and commands that work where it is installed
    for name in ("team_member", "principal", "paradime.user", "bencher.member"):
        n = installed_counts[name if "." in name else f"main.{name}"]
        assert re.search(rf"^\s+{re.escape(name)}\s+{n}$", d.demo.stdout, re.M), name
    assert "\n  whsync sql '" in d.demo.stdout and ".venv/bin" not in d.demo.stdout
    con = duckdb.connect(str(d.warehouse), read_only=True)
    try:
        versions = con.execute("select whsync_version from sync_run").fetchall()  # one row per sync the demo ran
        assert versions and set(versions) == {(VERSION,)}
    finally:
        con.close()


def test_dbt_work_files_go_to_the_user_cache_never_into_site_packages_or_the_working_directory(installed_demo):
    d = installed_demo
    assert d.demo.returncode == 0, d.demo.stderr[-3000:]
    assert package_files(d.inst) == d.files_before  # nothing written into the installed package
    works = [w for w in (d.inst.home / ".cache" / "whsync" / "dbt").iterdir() if w.is_dir()]  # one per warehouse
    built = [w for w in works if (w / "target" / "manifest.json").is_file() and (w / "logs" / "dbt.log").is_file()]
    assert built
    for work in built:
        manifest = json.loads((work / "target" / "manifest.json").read_text())
        assert all(Path(n["build_path"]).is_relative_to(work) for n in manifest["nodes"].values() if n.get("build_path"))
    assert sorted(p.name for p in d.cwd.iterdir() if not p.name.startswith("access-review")) == \
        ["warehouse.duckdb", "warehouse.duckdb.lock"]


def test_report_status_sql_and_docs_read_the_installed_demo(installed_demo, tmp_path):
    d = installed_demo
    assert d.demo.returncode == 0, d.demo.stderr[-3000:]
    counts = relation_counts(d.warehouse)

    p = d.inst.run("sql", "--format", "csv", "select count(*) as n from team_member", cwd=d.cwd)
    assert (p.returncode, p.stdout.split()) == (0, ["n", str(counts["main.team_member"])]), p.stderr

    p = d.inst.run("status", "--json", "--max-age", "1h", cwd=d.cwd)
    assert p.returncode == 0, p.stdout + p.stderr
    status = json.loads(p.stdout)
    assert status["status"] == "fresh" and status["last_success"]["whsync_version"] == VERSION
    for rel, n in status["last_success"]["rows"].items():
        assert counts[rel if "." in rel else f"main.{rel}"] == n, rel

    out = tmp_path / "review" / "access.html"
    out.parent.mkdir()
    p = d.inst.run("report", "--out", str(out), cwd=d.cwd)
    assert p.returncode == 0, p.stderr
    html = out.read_text()
    assert f'data-whsync-version="{VERSION}"' in html
    # the same lists, with the same number of rows, as the in-repo demo's report
    mine = {f.name.removeprefix("access-"): f for f in out.parent.glob("access-*.csv")}
    theirs = {f.name.removeprefix("access-review-"): f for f in d.repo_warehouse.parent.glob("access-review-*.csv")}
    assert len(mine) >= 10 and mine.keys() == theirs.keys()
    for key in mine:
        rows = [list(csv.reader(f.open(newline=""))) for f in (mine[key], theirs[key])]
        assert rows[0][0] == rows[1][0] and len(rows[0]) == len(rows[1]), key

    site = tmp_path / "site"
    p = d.inst.run("docs", "--out", str(site), "--quiet", cwd=d.cwd)
    assert p.returncode == 0, p.stderr
    manifest = json.loads((site / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert {"user", "team_member$raw", "access", "person", "folder$history"} <= models
    assert (site / "index.html").stat().st_size > 10_000


def test_build_needs_a_writable_cache_and_then_rebuilds_the_same_tables(installed_demo, tmp_path):
    """dbt's work directory must be writable; the error names it and the variable to set (exit 2), and the
    warehouse is left as it was. With the default cache, `build` works from any directory."""
    d = installed_demo
    assert d.demo.returncode == 0, d.demo.stderr[-3000:]
    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(d.warehouse, warehouse)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    env = d.inst.env()
    env["WHSYNC_CACHE_DIR"] = str(blocker / "whsync")
    p = subprocess.run([str(d.inst.bin / "whsync"), "build", "--quiet", "--duckdb", str(warehouse)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, p.stdout + p.stderr
    assert str(blocker / "whsync" / "dbt") in p.stderr and "set WHSYNC_CACHE_DIR" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert relation_counts(warehouse) == relation_counts(d.warehouse)
    # with the default cache, `whsync build` rebuilds the same tables from the raw data, from anywhere
    p = d.inst.run("build", "--quiet", "--duckdb", str(warehouse), cwd=d.inst.home)
    assert p.returncode == 0, p.stderr
    assert re.match(r"built \d+ models, passed \d+ tests", p.stdout)
    rebuilt, demo = relation_counts(warehouse), relation_counts(d.warehouse)
    assert {k: v for k, v in rebuilt.items() if k.startswith("main.") and "$history" not in k and k != "main.sync_run"} \
        == {k: v for k, v in demo.items() if k.startswith("main.") and "$history" not in k and k != "main.sync_run"}
