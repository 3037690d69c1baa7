"""An access review campaign on PostgreSQL: started, decided (CSV) and closed by the warehouse owner; read by
a role made by `grant-reader` (status, the report's open campaigns, the evidence pack), which cannot write
it; and a sync after `start` carries every review relation (the view included) and its grants unchanged."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator

from ..review.common import REVIEW_TABLES, WORKBOOK_COLUMNS, check_manifest, population_sha256, read_csv
from .conftest import PgCon, whsync

OWNER = "owner@lab.example"


def _table(con: PgCon, sql: str, params=None) -> list[dict]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _snapshot(con: PgCon) -> dict[str, list]:
    return {t: sorted(map(repr, con.execute(f"select * from {t}").fetchall())) for t in REVIEW_TABLES}


def _write(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=WORKBOOK_COLUMNS)
        w.writeheader()
        w.writerows(rows)


def test_campaign_on_postgres_read_by_a_grant_reader_role(synced_pg, tricky, tmp_path):
    server, dsn, _ = synced_pg
    admin = PgCon(dsn)
    env = {"WHSYNC_POSTGRES_DSN": dsn}
    pg = ["--target", "postgres"]
    p = whsync(["review", "start", "--name", "pg-q4", "--owner", OWNER, "--out", "pg.csv", *pg], tmp_path, env)
    assert p.returncode == 0, p.stderr
    access = _table(admin, "select * from access where system <> 'okta' order by system, scope, account_id")
    items = _table(admin, "select * from review_item order by item_id")
    (campaign,) = _table(admin, "select * from review_campaign")
    assert [(i["system"], i["scope"], i["account_id"], i["email"], i["status"], i["role"]) for i in items] == \
        [(a["system"], a["scope"], a["account_id"], a["email"], a["status"], a["role"]) for a in access]
    assert campaign["population_hash"] == population_sha256(items)
    # no directory synced here: the directory's facts are NULL (unknown), and the canonical form is the 12 facts
    assert {(i["directory_status"], i["left_company"], i["left_at"], i["outside_directory"]) for i in items} == \
        {(None, None, None, None)}
    # (with Okta synced, the flags on PostgreSQL: tests/okta/test_okta_e2e.py::test_a_review_campaign_freezes_the_directory_flags)
    assert campaign["run_id"] == _table(admin, "select run_id from sync_run order by finished_at desc limit 1")[0]["run_id"]

    rows = read_csv(tmp_path / "pg.csv")
    _write(tmp_path / "bad.csv", [rows[0] | {"decision": "revoke"}, rows[1] | {"decision": "keep"}])
    p = whsync(["review", "import", "bad.csv", "--reviewer", OWNER, *pg], tmp_path, env)
    assert p.returncode == 2 and "bad.csv line 2: revoke needs a justification" in p.stderr, p.stderr
    assert _table(admin, "select count(*) as n from review_decision")[0]["n"] == 0
    _write(tmp_path / "good.csv", [rows[0] | {"decision": "revoke", "justification": "left the company"},
                                   rows[1] | {"decision": "keep"}])
    p = whsync(["review", "import", "good.csv", "--reviewer", OWNER, *pg], tmp_path, env)
    assert p.returncode == 0, p.stderr
    assert [(d["item_id"], d["decision"], d["justification"], d["reviewer"], d["source_row"]) for d in
            _table(admin, "select * from review_decision order by seq")] == [
        (int(rows[0]["item_id"]), "revoke", "left the company", OWNER, 2), (int(rows[1]["item_id"]), "keep", None, OWNER, 3)]

    # a reporting role: grant-reader covers the campaign tables and the view
    admin.execute("create role review_reader login password 'rr-pw'")
    p = whsync(["grant-reader", "review_reader"], tmp_path, env)
    assert p.returncode == 0, p.stderr
    for t in REVIEW_TABLES:
        assert f" {t}," in p.stdout or p.stdout.rstrip().endswith(t), (t, p.stdout)
    reader_env = {"WHSYNC_POSTGRES_DSN": server.dsn(dsn.rsplit("/", 1)[1], user="review_reader", password="rr-pw")}
    p = whsync(["review", "status", "pg-q4", "--json", *pg], tmp_path, reader_env)
    assert p.returncode == 1, p.stderr
    st = json.loads(p.stdout)
    assert (st["items"], st["decided"], st["undecided"]) == (len(items), 2, len(items) - 2)
    assert st["flags"]["left_company"] is None and st["flags"]["outside_directory"] is None
    assert st["flags"]["privileged"]["items"] == sum(1 for i in items if i["privileged"])
    p = whsync(["report", *pg, "--out", str(tmp_path / "r.html")], tmp_path, reader_env)
    assert p.returncode == 0, p.stderr
    assert [(r["name"], int(r["accounts"]), int(r["decided"])) for r in read_csv(tmp_path / "r-review_campaigns.csv")] \
        == [("pg-q4", len(items), 2)]
    # the reader cannot write a campaign
    _write(tmp_path / "more.csv", [rows[2] | {"decision": "keep"}])
    p = whsync(["review", "import", "more.csv", "--reviewer", OWNER, *pg], tmp_path, reader_env)
    assert p.returncode == 1 and "permission denied" in p.stderr, p.stderr
    assert _table(admin, "select count(*) as n from review_decision")[0]["n"] == 2

    # a sync after start: every review relation and its grants carried unchanged
    before = _snapshot(admin)
    with BenchlingSimulator(tricky, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        p = whsync(["sync", "--target", "postgres", "--base-url", sim.base_url], tmp_path,
                   env | {"BENCHLING_API_KEY": DEMO_API_KEY})
    assert p.returncode == 0, p.stderr
    assert _snapshot(admin) == before
    assert len(_table(admin, "select * from sync_run")) == 2
    reader = PgCon(reader_env["WHSYNC_POSTGRES_DSN"])
    try:
        assert _snapshot(reader) == before  # the reader still reads all four after the publish
    finally:
        reader.close()

    # a review_item written before the directory's columns existed (emulated: dropped; with no directory synced
    # its hashes are the same): the next review write (close) adds them back, NULL, and the hash still verifies
    directory_columns = ["directory_status", "left_company", "left_at", "outside_directory"]
    for c in directory_columns:
        admin.execute(f"alter table review_item drop column {c}")

    # close (the owner's DSN), then the evidence pack, written by the reader
    p = whsync(["review", "close", "pg-q4", "--allow-undecided", *pg], tmp_path, env)
    assert p.returncode == 0, p.stderr
    cols = [r[0] for r in admin.execute("select column_name from information_schema.columns where table_schema = "
                                        "'public' and table_name = 'review_item' order by ordinal_position").fetchall()]
    assert cols[-4:] == directory_columns
    assert _table(admin, "select count(*) as n from review_item where left_company is null")[0]["n"] == len(items)
    p = whsync(["review", "evidence", "pg-q4", "--out", "pack", *pg], tmp_path, reader_env)
    assert p.returncode == 0, p.stderr
    manifest = check_manifest(tmp_path / "pack")
    assert (manifest["run_id"], manifest["population_hash"]) == (campaign["run_id"], campaign["population_hash"])
    assert manifest["outcomes"] == {"keep": 1, "revoke": 1, "change_role": 0, "not_reviewed": len(items) - 2,
                                    "undecided": 0}
    assert [r["decision_id"] for r in read_csv(tmp_path / "pack" / "decisions.csv")] == \
        [d["decision_id"] for d in _table(admin, "select decision_id from review_decision order by seq")]
    admin.close()
