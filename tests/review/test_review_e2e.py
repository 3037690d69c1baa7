"""An access review campaign end to end on the demo tenant (DuckDB), through the CLI as a user runs it:
start with two reviewers and an owner, reviewers fill the workbook with openpyxl (a self-review row and a
revoke without a reason among the bad rows, each refused with its sheet and row, nothing recorded), imports
(xlsx and CSV, a changed decision superseding an earlier one), status, close, the report's open campaigns,
and the evidence pack (manifest hashes recomputed, the HTML in headless Chromium: no console error, no
request, its counts equal the tables)."""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
from openpyxl import load_workbook

from ..browser import console_errors, network_requests, offline_page
from .common import (FACTS, WORKBOOK_COLUMNS, canonical_line, check_manifest, fill, population_sha256, read_csv,
                     sheet_rows, whsync)

QUERIES = Path(__file__).resolve().parents[2] / "examples" / "queries"
OWNER = "review.owner@lab.example"


def rows(db: Path, sql: str, params: list | None = None) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(sql, params) if params else con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


def example(db: Path, name: str, **params) -> list[dict]:
    sql = (QUERIES / name).read_text()
    return rows(db, sql, None) if not params else _bound(db, sql, params)


def _bound(db: Path, sql: str, params: dict) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


def _err_line(p) -> str:
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr  # one line
    return lines[0]


def test_campaign_from_start_to_evidence(demo_warehouse, tmp_path):
    wh = tmp_path / "w.duckdb"
    shutil.copyfile(demo_warehouse, wh)
    db = ["--duckdb", str(wh)]
    # the default systems: the applications (benchling, paradime, bencher); Okta is the directory they are checked against
    access = rows(wh, "select * from access where system <> 'okta' order by system, scope, account_id")
    run = rows(wh, "select run_id, started_at from sync_run order by finished_at desc limit 1")[0]
    # two reviewers who have accounts themselves: Benchling's and Paradime+Bencher's
    alice = next(a["email"] for a in access if a["system"] == "benchling" and a["status"] == "active")
    bob = next(a["email"] for a in access if a["system"] == "paradime" and a["status"] == "active"
               and a["email"] != alice)
    (tmp_path / "reviewers.csv").write_text(
        "system,scope,team,reviewer\n# who reviews what\n"
        f"benchling,,,{alice.upper()}\nparadime,*,,{bob}\nbencher,,,{bob}\n")

    t0 = datetime.now(timezone.utc).replace(tzinfo=None)
    p = whsync(["review", "start", "--name", "q4-2026", "--owner", OWNER, "--reviewers", "reviewers.csv",
                "--out", "q4.xlsx", *db], tmp_path)
    assert p.returncode == 0, p.stderr
    assert f"{len(access)} accounts frozen from sync {run['run_id']}" in p.stdout

    # -- review_campaign: one row --------------------------------------------------------------------------
    (c,) = rows(wh, "select * from review_campaign")
    items = rows(wh, "select * from review_item order by item_id")
    assert (c["name"], c["owner"], c["systems"], c["run_id"], c["synced_at"], c["items"], c["inactive_days"]) == \
        ("q4-2026", OWNER, "benchling,paradime,bencher", run["run_id"], run["started_at"], len(access), 90)
    assert t0 <= c["created_at"] <= datetime.now(timezone.utc).replace(tzinfo=None)
    assert c["closed_at"] is None and c["closed_by"] is None
    assert c["population_hash"] == population_sha256(items)  # recomputed as the README says

    # -- review_item: the population is `access` at that sync, with the report's flags -----------------------
    assert [tuple(i[f] for f in FACTS[:8]) for i in items] == \
        [tuple(a[f] for f in ("system", "scope", "account_id", "email", "name", "status", "role", "last_seen"))
         for a in access]
    assert [i["item_id"] for i in items] == list(range(1, len(access) + 1))
    assert {i["run_id"] for i in items} == {run["run_id"]} and {i["campaign_id"] for i in items} == {c["campaign_id"]}
    assert all(i["item_hash"] == hashlib.sha256(canonical_line(i).encode()).hexdigest() for i in items)
    flagged = lambda flag, system=None: sorted((i["system"], i["scope"], i["email"]) for i in items  # noqa: E731
                                                if i[flag] and (system is None or i["system"] == system))
    assert flagged("privileged") == sorted((r["system"], r["scope"], r["email"])
                                           for r in example(wh, "access_admins_anywhere.sql"))
    assert [e for _, _, e in flagged("never_used")] == sorted(r["email"].strip().lower()
                                                              for r in example(wh, "access_never_seen.sql"))
    dormant = example(wh, "access_review/dormant_accounts.sql",
                      inactive_since=c["created_at"] - timedelta(days=90))
    assert [e for _, _, e in flagged("dormant")] == sorted(r["email"].strip().lower() for r in dormant)
    gap = {r["email"] for r in rows(wh, "select email from person where offboarding_gap")}
    assert {i["email"] for i in items if i["offboarding_gap"]} == gap
    assert any(i["privileged"] for i in items) and any(i["never_used"] for i in items)
    # the directory's flags (the demo syncs Okta): exactly the report's two lists, and person's facts per item
    left = example(wh, "directory_left_still_active.sql")
    outside = example(wh, "directory_accounts_outside.sql")
    assert left and outside  # the demo plants people who left and accounts outside the directory
    key = lambda r: (r["system"], r["scope"], r["account_id"])  # noqa: E731
    assert sorted((*key(i), i["email"], i["directory_status"], i["left_at"]) for i in items if i["left_company"]) == \
        sorted((*key(r), r["email"], r["directory_status"], r["left_at"]) for r in left)
    assert sorted((*key(i), i["email"]) for i in items if i["outside_directory"]) == \
        sorted((*key(r), r["email"]) for r in outside)
    people = {r["email"]: r for r in rows(wh, "select email, directory_status, left_at from person")}
    assert [(i["directory_status"], i["left_at"]) for i in items] == \
        [(people[i["email"]]["directory_status"], people[i["email"]]["left_at"]) for i in items]
    assert all(i["left_company"] is not None and i["outside_directory"] is not None for i in items)

    # reviewers: the mapping, except each reviewer's own accounts, which go to the owner
    def expected_reviewer(i: dict) -> str:
        mapped = alice if i["system"] == "benchling" else bob
        return OWNER if i["email"] == mapped else mapped
    assert [i["reviewer"] for i in items] == [expected_reviewer(i) for i in items]
    own = [i for i in items if i["email"] in (alice, bob)]
    assert own and {i["reviewer"] for i in own} == {OWNER}

    # -- the workbook: a sheet per reviewer, facts locked, drop-downs -------------------------------------
    wb = load_workbook(tmp_path / "q4.xlsx")
    sheets = {ws.title: ws for ws in wb.worksheets if ws.title != "about"}
    assert set(sheets) == {alice, bob, OWNER}
    for title, ws in sheets.items():
        srows = sheet_rows(ws)
        assert list(srows[0])[:-1] == WORKBOOK_COLUMNS
        assert sorted(r["item_id"] for r in srows) == [i["item_id"] for i in items if i["reviewer"] == title]
        assert ws.protection.sheet
        header = [x.value for x in ws[1]]
        for col in header:
            assert ws.cell(2, header.index(col) + 1).protection.locked == (col not in ("decision", "new_role",
                                                                                       "justification")), col
        lists = {dv.formula1: str(dv.sqref) for dv in ws.data_validations.dataValidation}
        assert lists['"keep,revoke,change_role"'].startswith("U2:")
        # the directory's flags on every row, as frozen; a true one in red
        by_id = {i["item_id"]: i for i in items}
        for r in srows:
            for flag in ("left_company", "outside_directory"):
                assert r[flag] == ("true" if by_id[r["item_id"]][flag] else "false"), (flag, r)
                cell = ws.cell(r["_row"], header.index(flag) + 1)
                assert (cell.fill.fgColor.rgb == "00F8D7DA") == by_id[r["item_id"]][flag], (flag, r)
            assert r["left_at"] == (str(by_id[r["item_id"]]["left_at"]) if by_id[r["item_id"]]["left_at"] else None)
        if title == alice:
            assert '"ADMIN,MEMBER"' in lists
        if title == bob:
            assert any("SANDBOX_USER" in f for f in lists) and '"leader"' in lists
    ws_a, ws_o = sheets[alice], sheets[OWNER]
    a_rows = sheet_rows(ws_a)
    by_item = {i["item_id"]: i for i in items}
    member = next(r for r in a_rows if r["role"] == "MEMBER" and r["status"] == "active")
    others = [r for r in a_rows if r is not member]

    # -- alice's first try: good rows and bad ones -> refused whole, each bad row named ----------------------
    fill(ws_a, others[0]["_row"], "keep")
    fill(ws_a, others[1]["_row"], "revoke", None, "left the lab in October")
    fill(ws_a, member["_row"], "change_role", "ADMIN", "runs the sequencing core now")
    fill(ws_a, others[2]["_row"], "revoke")  # no reason
    fill(ws_a, others[3]["_row"], "approve")  # unknown decision
    fill(ws_a, others[4]["_row"], "change_role", "OWNER", "promote")  # not a Benchling role
    header = [x.value for x in ws_a[1]]
    ws_a.cell(others[5]["_row"], header.index("name") + 1).value = "Someone Else"  # an edited fact
    fill(ws_a, others[5]["_row"], "keep")
    own_row = next(r for r in sheet_rows(ws_o) if r["email"] == alice)
    fill(ws_o, own_row["_row"], "keep")  # alice deciding on her own account
    wb.save(tmp_path / "alice-1.xlsx")
    p = whsync(["review", "import", "alice-1.xlsx", "--reviewer", alice, *db], tmp_path)
    assert p.returncode == 2, p.stderr
    line = _err_line(p)
    assert "nothing recorded, 5 bad rows" in line
    assert f"sheet '{alice}' row {others[2]['_row']}: revoke needs a justification" in line
    assert f"sheet '{OWNER}' row {own_row['_row']}: {alice} cannot decide on their own account (self-review)" in line
    assert f"sheet '{alice}' row {others[3]['_row']}: unknown decision 'approve'" in line
    assert f"sheet '{alice}' row {others[4]['_row']}: new_role 'OWNER' is not a benchling role" in line
    assert f"sheet '{alice}' row {others[5]['_row']}: the frozen column name was edited" in line
    assert rows(wh, "select count(*) as n from review_decision")[0]["n"] == 0

    # -- a workbook of another campaign is refused too ----------------------------------------------------
    p = whsync(["review", "start", "--name", "other", "--owner", OWNER, "--systems", "bencher", "--out", "other.csv",
                *db], tmp_path)
    assert p.returncode == 0, p.stderr
    p = whsync(["review", "import", "other.csv", "--reviewer", OWNER, "--campaign", "q4-2026", *db], tmp_path)
    assert p.returncode == 2 and "is a workbook of another campaign" in _err_line(p), p.stderr

    # -- alice fixes her file: three decisions ---------------------------------------------------------------
    fill(ws_a, others[2]["_row"], None)
    fill(ws_a, others[3]["_row"], None)
    fill(ws_a, others[4]["_row"], None)
    ws_a.cell(others[5]["_row"], header.index("name") + 1).value = others[5]["name"]
    fill(ws_a, others[5]["_row"], None)
    fill(ws_o, own_row["_row"], None)
    wb.save(tmp_path / "alice-2.xlsx")
    t1 = datetime.now(timezone.utc).replace(tzinfo=None)
    p = whsync(["review", "import", "alice-2.xlsx", "--reviewer", alice, *db], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "recorded 3 decisions" in p.stdout
    sha_a = hashlib.sha256((tmp_path / "alice-2.xlsx").read_bytes()).hexdigest()

    # -- bob: keeps everything but one revoke, then changes his mind on one keep ---------------------------
    wb_b = load_workbook(tmp_path / "q4.xlsx")
    ws_b = wb_b[bob]
    b_rows = sheet_rows(ws_b)
    for r in b_rows:
        fill(ws_b, r["_row"], "keep")
    fill(ws_b, b_rows[0]["_row"], "revoke", None, "contractor, contract ended")
    wb_b.save(tmp_path / "bob-1.xlsx")
    p = whsync(["review", "import", "bob-1.xlsx", "--reviewer", bob, *db], tmp_path)
    assert p.returncode == 0, p.stderr
    fill(ws_b, b_rows[1]["_row"], "revoke", None, "no longer on the data team")
    wb_b.save(tmp_path / "bob-2.xlsx")
    p = whsync(["review", "import", "bob-2.xlsx", "--reviewer", bob, *db], tmp_path)
    assert p.returncode == 0, p.stderr
    assert f"recorded 1 decisions" in p.stdout and f"{len(b_rows) - 1} unchanged" in p.stdout

    # -- the owner decides the reviewers' own accounts, as CSV ----------------------------------------------
    with open(tmp_path / "owner.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=WORKBOOK_COLUMNS)
        w.writeheader()
        for r in sheet_rows(load_workbook(tmp_path / "q4.xlsx")[OWNER]):
            w.writerow({k: r[k] for k in WORKBOOK_COLUMNS} | {"decision": "keep"})
    p = whsync(["review", "import", "owner.csv", "--reviewer", OWNER, *db], tmp_path)
    assert p.returncode == 0, p.stderr

    # -- status: exit 1 while alice has rows left; the counts are the tables' --------------------------------
    p = whsync(["review", "status", "q4-2026", "--json", *db], tmp_path)
    assert p.returncode == 1, p.stderr
    st = json.loads(p.stdout)
    current = rows(wh, "select * from review_decision_current where campaign_id = ? order by item_id",
                   [c["campaign_id"]])
    undecided = [r for r in current if r["decision"] is None]
    assert st["undecided"] == len(undecided) == len([i for i in items if i["reviewer"] == alice]) - 3
    assert {(g["reviewer"], g["system"]): (g["decided"], g["undecided"]) for g in st["by_reviewer_system"]} == {
        k: (sum(1 for r in current if (r["reviewer"], r["system"]) == k and r["decision"]),
            sum(1 for r in current if (r["reviewer"], r["system"]) == k and not r["decision"]))
        for k in {(r["reviewer"], r["system"]) for r in current}}
    # per flag: its accounts, decided and undecided, and the decisions (the directory's two first)
    decided = {r["item_id"]: r["decision"] for r in current}
    for flag in ("left_company", "outside_directory", "offboarding_gap", "dormant", "never_used", "privileged"):
        ids = [i["item_id"] for i in items if i[flag]]
        got = {d: sum(1 for x in ids if decided[x] == d) for d in ("keep", "revoke", "change_role")}
        assert st["flags"][flag] == {"items": len(ids), "decided": sum(got.values()),
                                     "undecided": len(ids) - sum(got.values()),
                                     "decisions": {d: n for d, n in sorted(got.items()) if n}}, flag
    p = whsync(["review", "status", "q4-2026", *db], tmp_path)
    assert p.returncode == 1, p.stderr
    n_left = sum(1 for i in items if i["left_company"])
    assert any(ln.strip().startswith(f"flag left_company: {n_left} accounts, decided ")
               for ln in p.stdout.splitlines()), p.stdout

    # -- the report shows the open campaigns and their progress -------------------------------------------
    p = whsync(["report", *db, "--out", "report.html"], tmp_path)
    assert p.returncode == 0, p.stderr
    shown = read_csv(tmp_path / "report-review_campaigns.csv")
    n_bencher = sum(1 for a in access if a["system"] == "bencher")
    assert [(r["name"], r["owner"], int(r["accounts"]), int(r["decided"]), int(r["undecided"])) for r in shown] == [
        ("q4-2026", OWNER, len(items), len(items) - len(undecided), len(undecided)),
        ("other", OWNER, n_bencher, 0, n_bencher)]

    # -- close: refused while undecided; --allow-undecided records not_reviewed ----------------------------
    p = whsync(["review", "close", "q4-2026", *db], tmp_path)
    assert p.returncode == 1 and f"{len(undecided)} undecided rows ({alice}: {len(undecided)})" in _err_line(p)
    p = whsync(["review", "close", "q4-2026", "--allow-undecided", *db], tmp_path)
    assert p.returncode == 0, p.stderr
    assert f"{len(undecided)} rows recorded as not_reviewed" in p.stdout
    p = whsync(["review", "status", "q4-2026", "--json", *db], tmp_path)
    assert p.returncode == 0 and json.loads(p.stdout)["state"] == "closed", p.stdout
    p = whsync(["review", "import", "bob-2.xlsx", "--reviewer", bob, *db], tmp_path)
    assert p.returncode == 2 and "is closed" in _err_line(p)

    # -- every decision row ----------------------------------------------------------------------------------
    (c,) = rows(wh, "select * from review_campaign where name = 'q4-2026'")
    assert c["closed_by"] == OWNER and c["closed_at"] >= t1
    dec = rows(wh, "select * from review_decision where campaign_id = ? order by seq", [c["campaign_id"]])
    assert [d["seq"] for d in dec] == list(range(1, len(dec) + 1))
    got = [(d["item_id"], d["decision"], d["new_role"], d["justification"], d["reviewer"], d["source"],
            d["source_file"], d["source_sheet"], d["source_row"]) for d in dec]
    a_part = sorted([(others[0]["item_id"], "keep", None, None),
                     (others[1]["item_id"], "revoke", None, "left the lab in October"),
                     (member["item_id"], "change_role", "ADMIN", "runs the sequencing core now")])
    rows_of = {r["item_id"]: r["_row"] for r in a_rows}
    expect = [(i, d, n, j, alice, "import", "alice-2.xlsx", alice, rows_of[i]) for i, d, n, j in
              sorted(a_part, key=lambda x: rows_of[x[0]])]
    expect += [(r["item_id"], "revoke" if r is b_rows[0] else "keep", None,
                "contractor, contract ended" if r is b_rows[0] else None, bob, "import", "bob-1.xlsx", bob, r["_row"])
               for r in b_rows]
    expect += [(b_rows[1]["item_id"], "revoke", None, "no longer on the data team", bob, "import", "bob-2.xlsx", bob,
                b_rows[1]["_row"])]
    owner_items = [i for i in items if i["reviewer"] == OWNER]
    expect += [(i["item_id"], "keep", None, None, OWNER, "import", "owner.csv", None, n)
               for n, i in enumerate(owner_items, start=2)]
    expect += [(r["item_id"], "not_reviewed", None, f"not decided when {OWNER} closed the campaign with "
                "--allow-undecided", alice, "close", None, None, None) for r in undecided]
    assert got == expect
    assert {d["source_sha256"] for d in dec if d["source_file"] == "alice-2.xlsx"} == {sha_a}
    assert all(t1 <= d["decided_at"] <= c["closed_at"] for d in dec)
    current = rows(wh, "select * from review_decision_current where campaign_id = ? order by item_id",
                   [c["campaign_id"]])
    latest = {}
    for d in dec:
        latest[d["item_id"]] = d
    assert len(current) == len(items)
    assert [(r["item_id"], r["decision"], r["decision_id"], r["decided_by"]) for r in current] == \
        [(i, latest[i]["decision"], latest[i]["decision_id"], latest[i]["reviewer"]) for i in sorted(latest)]
    assert rows(wh, "select * from review_item where campaign_id = ? order by item_id", [c["campaign_id"]]) == items

    # -- the evidence pack ----------------------------------------------------------------------------------
    p = whsync(["review", "evidence", "q4-2026", "--out", "evidence", *db], tmp_path)
    assert p.returncode == 0, p.stderr
    out = tmp_path / "evidence"
    manifest = check_manifest(out)
    assert manifest["run_id"] == run["run_id"] and manifest["population_hash"] == c["population_hash"]
    assert manifest["campaign"]["name"] == "q4-2026" and manifest["campaign"]["closed_by"] == OWNER
    pop = read_csv(out / "population.csv")
    assert [int(r["item_id"]) for r in pop] == [i["item_id"] for i in items]
    assert [(r["directory_status"], r["left_company"], r["left_at"], r["outside_directory"]) for r in pop] == \
        [(i["directory_status"] or "", str(i["left_company"]).lower(), str(i["left_at"] or ""),
          str(i["outside_directory"]).lower()) for i in items]
    assert manifest["flags"]["left_company"] == n_left > 0
    assert manifest["flags"]["outside_directory"] == sum(1 for i in items if i["outside_directory"]) > 0
    assert [(r["email"], r["role"], r["reviewer"], r["item_hash"]) for r in pop] == \
        [(i["email"], i["role"] or "", i["reviewer"], i["item_hash"]) for i in items]
    decs = read_csv(out / "decisions.csv")
    assert [r["decision_id"] for r in decs] == [d["decision_id"] for d in dec]
    superseded = [r for r in decs if r["superseded"] == "true"]
    assert [(int(r["item_id"]), r["decision"]) for r in superseded] == [(b_rows[1]["item_id"], "keep")]
    assert superseded[0]["superseded_by"] == next(d["decision_id"] for d in dec if d["source_file"] == "bob-2.xlsx")
    revs = read_csv(out / "revocations.csv")
    assert sorted((int(r["item_id"]), r["action"], r["state"]) for r in revs) == sorted(
        (r["item_id"], r["decision"], "decided") for r in current if r["decision"] in ("revoke", "change_role"))
    assert len(revs) == 4

    with offline_page() as (page, requests):
        errors = console_errors(page)
        page.goto((out / "summary.html").as_uri())
        page.wait_for_load_state("load")
        assert errors == [] and network_requests(requests) == []
        table = lambda name: page.eval_on_selector_all(  # noqa: E731
            f'table[data-table="{name}"] tbody tr',
            "trs => trs.map(tr => [tr.dataset.row, Object.fromEntries([...tr.querySelectorAll('td[data-col]')]"
            ".map(td => [td.dataset.col, td.textContent.trim()]))])")
        by_decision = {k: int(v["items"]) for k, v in table("by_decision")}
        outcomes = ["keep", "revoke", "change_role", "not_reviewed"]
        assert by_decision == {**{o: sum(1 for r in current if r["decision"] == o) for o in outcomes}, "undecided": 0}
        for key in ("system", "reviewer"):
            shown_rows = {k: {c_: int(n) for c_, n in v.items()} for k, v in table(f"by_{key}")}
            assert shown_rows == {
                g: {"items": sum(1 for r in current if r[key] == g),
                    **{o: sum(1 for r in current if r[key] == g and r["decision"] == o) for o in outcomes},
                    "undecided": 0}
                for g in {r[key] for r in current}}, key
        assert [k for k, _ in table("revocations")] == [str(r["item_id"]) for r in current
                                                         if r["decision"] in ("revoke", "change_role")]
        flags = {k: {c_: int(n) for c_, n in v.items()} for k, v in table("by_flag")}
        assert flags["left_company"]["items"] == n_left and flags["left_company"]["undecided"] == 0
        for flag in ("left_company", "outside_directory"):
            assert flags[flag] == {"items": sum(1 for i in items if i[flag]),
                                   **{o: sum(1 for r in current if by_item[r["item_id"]][flag] and r["decision"] == o)
                                      for o in outcomes}, "undecided": 0}, flag
        # the two directory lists' accounts, left the company first (by when they left), with their decision
        shown_flagged = table("directory_flags")
        left_items = sorted((i for i in items if i["left_company"]), key=lambda i: (i["left_at"] is None, i["left_at"] or datetime.min,
                                                                                  i["email"], i["item_id"]))
        outside_items = sorted((i for i in items if i["outside_directory"]), key=lambda i: (i["email"], i["item_id"]))
        cur = {r["item_id"]: r["decision"] for r in current}
        assert [(int(k), v["flag"], v["email"], v["decision"]) for k, v in shown_flagged] == \
            [(i["item_id"], "left_company", i["email"], cur[i["item_id"]]) for i in left_items] + \
            [(i["item_id"], "outside_directory", i["email"], cur[i["item_id"]]) for i in outside_items]
        assert page.text_content('[data-fact="population_hash"]').strip() == c["population_hash"]
        assert page.text_content('[data-fact="run_id"]').startswith(run["run_id"])
