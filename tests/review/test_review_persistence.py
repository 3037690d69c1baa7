"""A campaign is frozen: a published sync after `review start` changes nothing in it (while `access` moves
on), a sync that fails changes nothing either, and the campaign still takes decisions afterwards."""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import pytest
from openpyxl import load_workbook

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.progress import Progress
from pipelines.benchling.spec import BenchlingConfig, benchling_plan
from pipelines.sync import sync
from pipelines.targets import resolve_target

from .common import (REVIEW_TABLES, WORKBOOK_COLUMNS, canonical_line, fill, population_sha256, read_csv, sheet_rows,
                     whsync)

OWNER = "owner@lab.example"


def snapshot(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in
                (*REVIEW_TABLES, "sync_run")}
    finally:
        con.close()


def flagged(db: Path, flag: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"select system, scope, account_id from review_item where {flag} order by all").fetchall()
    finally:
        con.close()


def left_now(db: Path) -> list[tuple]:
    """The report's "Left the company, still active" accounts in the warehouse now (the default systems)."""
    sql = (Path(__file__).resolve().parents[2] / "examples" / "queries" / "directory_left_still_active.sql").read_text()
    con = duckdb.connect(str(db), read_only=True)
    try:
        return sorted({(r[4], r[5], r[6]) for r in con.execute(sql).fetchall()})
    finally:
        con.close()


def test_a_sync_after_start_and_a_failing_sync_change_nothing_in_the_campaign(demo_warehouse, tmp_path):
    wh = tmp_path / "w.duckdb"
    shutil.copyfile(demo_warehouse, wh)
    db = ["--duckdb", str(wh)]
    p = whsync(["review", "start", "--name", "frozen", "--owner", OWNER, "--out", "frozen.csv", *db], tmp_path)
    assert p.returncode == 0, p.stderr
    rows = read_csv(tmp_path / "frozen.csv")
    with open(tmp_path / "decided.csv", "w", newline="") as f:  # one decision before the syncs
        w = csv.DictWriter(f, fieldnames=WORKBOOK_COLUMNS)
        w.writeheader()
        w.writerow(rows[0] | {"decision": "revoke", "justification": "left"})
    p = whsync(["review", "import", "decided.csv", "--reviewer", OWNER, *db], tmp_path)
    assert p.returncode == 0, p.stderr
    before = snapshot(wh)
    assert len(before["review_item"]) == len(rows) and len(before["review_decision"]) == 1
    left_frozen = flagged(wh, "left_company")
    assert left_frozen == left_now(wh) != []  # the demo's people who left, still active: flagged at start

    # a published sync of a changed tenant: the warehouse moves on, the campaign does not
    tenant = generate_tenant(seed=11, users=6, apps=1, teams=2, projects=1, folders=2)
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY), full_refresh=True)],
             target=resolve_target(duckdb=wh), progress=Progress(quiet=True))
        host = urlparse(sim.base_url).netloc
    after = snapshot(wh)
    assert len(after["sync_run"]) == len(before["sync_run"]) + 1
    con = duckdb.connect(str(wh), read_only=True)
    scopes = {r[0] for r in con.execute("select distinct scope from access where system = 'benchling'").fetchall()}
    con.close()
    assert scopes == {host}  # `access` now names the new tenant; the frozen items keep the old one
    assert {r[3] for r in after["review_item"] if r[2] == "benchling"} != {host}
    assert {t: after[t] for t in REVIEW_TABLES} == {t: before[t] for t in REVIEW_TABLES}
    # the directory's flags stay as frozen, although `person` moved on (the demo's Benchling accounts are gone)
    assert flagged(wh, "left_company") == left_frozen and left_now(wh) != left_frozen

    # a sync that fails (a refused key) publishes nothing: the campaign and the run log are as they were
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        with pytest.raises(Exception) as failed:
            sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key="sk_wrong_key"))],
                 target=resolve_target(duckdb=wh), progress=Progress(quiet=True))
    from pipelines.errors import explain

    cause, code = explain(failed.value)
    assert code == 1 and "sk_wrong_key" not in cause
    journal = [ln for ln in (tmp_path / "w.duckdb.journal.jsonl").read_text().splitlines() if ln.strip()]
    assert len(journal) == 1 and cause in journal[0]  # the failure was journaled, and nothing published
    assert snapshot(wh) == after

    # the campaign still takes decisions, on its frozen rows: the workbook written again carries the current
    # decision; importing it with one more records that one only
    p = whsync(["review", "workbook", "frozen", "--out", "again.xlsx", *db], tmp_path)
    assert p.returncode == 0, p.stderr
    wb = load_workbook(tmp_path / "again.xlsx")
    ws = wb[OWNER]
    srows = sheet_rows(ws)
    assert [(r["item_id"], r["decision"], r["justification"]) for r in srows if r["decision"]] == \
        [(int(rows[0]["item_id"]), "revoke", "left")]
    fill(ws, next(r["_row"] for r in srows if r["item_id"] == int(rows[1]["item_id"])), "keep")
    wb.save(tmp_path / "again.xlsx")
    p = whsync(["review", "import", "again.xlsx", "--reviewer", OWNER, *db], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "recorded 1 decisions" in p.stdout and "1 unchanged" in p.stdout
    con = duckdb.connect(str(wh), read_only=True)
    cur = con.execute("select * from review_item order by item_id")
    names = [d[0] for d in cur.description]
    items = [dict(zip(names, r)) for r in cur.fetchall()]
    (h,) = con.execute("select population_hash from review_campaign").fetchone()
    n = con.execute("select count(*) from review_decision_current where decision is not null").fetchone()[0]
    con.close()
    assert population_sha256(items) == h and n == 2


def test_a_campaign_written_before_the_directory_flags_still_verifies_and_takes_decisions(demo_warehouse, tmp_path):
    """A review_item table written by a whsync without the directory's columns (emulated: the columns dropped
    and the hashes as that version wrote them, over the 12 facts) is read as it is, gains the columns (NULL) at
    the next review write, and its recorded population hash still verifies in the evidence pack."""
    wh = tmp_path / "w.duckdb"
    shutil.copyfile(demo_warehouse, wh)
    db = ["--duckdb", str(wh)]
    p = whsync(["review", "start", "--name", "old", "--owner", OWNER, "--systems", "bencher", "--out", "old.csv", *db],
               tmp_path)
    assert p.returncode == 0, p.stderr
    con = duckdb.connect(str(wh))
    try:
        for c in ("directory_status", "left_company", "left_at", "outside_directory"):
            con.execute(f"alter table review_item drop column {c}")
        cur = con.execute("select * from review_item order by item_id")
        names = [d[0] for d in cur.description]
        items = [dict(zip(names, r)) for r in cur.fetchall()]
        for i in items:  # the hashes the older version wrote (the README's canonical form, 12 facts)
            con.execute("update review_item set item_hash = ? where item_id = ?",
                        [hashlib.sha256(canonical_line(i).encode()).hexdigest(), i["item_id"]])
        old_hash = population_sha256(items)
        con.execute("update review_campaign set population_hash = ?", [old_hash])
    finally:
        con.close()

    p = whsync(["review", "status", "old", "--json", *db], tmp_path)
    assert p.returncode == 1, p.stderr
    st = json.loads(p.stdout)
    assert st["population_hash"] == old_hash and st["flags"]["left_company"] is None
    assert st["flags"]["outside_directory"] is None and st["flags"]["privileged"] is not None
    p = whsync(["review", "workbook", "old", "--out", "again.csv", *db], tmp_path)
    assert p.returncode == 0, p.stderr
    rows = read_csv(tmp_path / "again.csv")
    assert {(r["left_company"], r["outside_directory"], r["left_at"]) for r in rows} == {("", "", "")}
    with open(tmp_path / "decided.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=WORKBOOK_COLUMNS)
        w.writeheader()
        w.writerow(rows[0] | {"decision": "keep"})
    p = whsync(["review", "import", "decided.csv", "--reviewer", OWNER, *db], tmp_path)
    assert p.returncode == 0, p.stderr
    con = duckdb.connect(str(wh), read_only=True)
    try:
        cols = [r[0] for r in con.execute("select column_name from information_schema.columns where table_name = "
                                          "'review_item' order by ordinal_position").fetchall()]
        nulls = con.execute("select count(*) from review_item where left_company is null and directory_status is null "
                            "and left_at is null and outside_directory is null").fetchone()[0]
    finally:
        con.close()
    assert cols[-4:] == ["directory_status", "left_company", "left_at", "outside_directory"] and nulls == len(items)
    p = whsync(["review", "evidence", "old", "--out", "pack", *db], tmp_path)
    assert p.returncode == 0, p.stderr
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text())
    assert manifest["population_hash"] == old_hash and manifest["flags"]["left_company"] is None
    assert "its directory flags are unknown" in (tmp_path / "pack" / "summary.html").read_text()
