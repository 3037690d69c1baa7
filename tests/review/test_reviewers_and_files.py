"""Who reviews what (the most specific rule, the self-review rule), and bad input refused in one line naming
the value: a reviewers file's line, a workbook without the review columns, a missing warehouse."""
from __future__ import annotations

import pytest

from pipelines.review import ReviewError
from pipelines.review.reviewers import assign, load_rules
from pipelines.review.workbook import read_rows

from .common import whsync


def item(system: str, scope: str, account_id: str, email: str) -> dict:
    return {"system": system, "scope": scope, "account_id": account_id, "email": email}


RULES = """system,scope,team,reviewer
# comments and blank lines are skipped

benchling,,,Lab-Ops@acme.com
benchling,,Chemistry,chem@acme.com
benchling,,team_bio,bio@acme.com
benchling,,Biology,bio2@acme.com
paradime,ws-1,,data@acme.com
paradime,*,,any-pd@acme.com
bencher,,,eng@acme.com
"""


def test_the_most_specific_rule_wins_and_nobody_reviews_their_own_account(tmp_path):
    (tmp_path / "r.csv").write_text(RULES)
    rules = load_rules(tmp_path / "r.csv")
    assert [r.line for r in rules] == [4, 5, 6, 7, 8, 9, 10]
    items = [
        item("benchling", "t", "u1", "x@acme.com"),         # no team: the system rule
        item("benchling", "t", "u2", "y@acme.com"),         # in Chemistry: the team rule
        item("benchling", "t", "u3", "z@acme.com"),         # in team_bio (by id) and Biology (by name): first rule
        item("benchling", "t", "u4", "lab-ops@acme.com"),   # the reviewer's own account: to the owner
        item("paradime", "ws-1", "p1", "a@acme.com"),       # the scope rule over the any-scope one
        item("paradime", "ws-2", "p2", "b@acme.com"),
        item("bencher", "org", "m1", "OWNER@acme.com "),     # the owner's own, mapped to eng: stays with eng
        item("paradime", "ws-1", "p3", "data@acme.com"),     # data's own: to the owner
    ]
    teams = {"u2": {"team_chem", "Chemistry"}, "u3": {"team_bio", "Biology"}}
    assign(items, rules, "owner@acme.com", teams)
    assert [i["reviewer"] for i in items] == [
        "lab-ops@acme.com", "chem@acme.com", "bio@acme.com", "owner@acme.com", "data@acme.com", "any-pd@acme.com",
        "eng@acme.com", "owner@acme.com"]

    # the owner's own account with no rule: another reviewer of the file
    own = [item("bencher", "org", "m2", "owner@acme.com")]
    assign(own, [r for r in rules if r.system == "benchling"], "owner@acme.com", {})
    assert own[0]["reviewer"] == "lab-ops@acme.com"
    with pytest.raises(ReviewError, match="nobody else can review owner@acme.com's own bencher account"):
        assign([item("bencher", "org", "m2", "owner@acme.com")], [], "owner@acme.com", {})
    with pytest.raises(ReviewError, match="1 accounts have no reviewer .*give --owner EMAIL"):
        assign([item("bencher", "org", "m2", "q@acme.com")], [], None, {})


@pytest.mark.parametrize("text, message", [
    ("system,scope,reviewer\nbenchling,,a@x.com\n", "the first line must be the header system,scope,team,reviewer"),
    ("system,scope,team,reviewer\nldap,,,a@x.com\n", "line 2: unknown system 'ldap': use benchling, paradime, "
                                                     "bencher, okta"),
    ("system,scope,team,reviewer\n\nparadime,ws,Chem,a@x.com\n", "line 3: a team rule is for Benchling only"),
    ("system,scope,team,reviewer\nbencher,,,alice\n", "line 2: reviewer 'alice' is not an email address"),
])
def test_a_bad_reviewers_file_names_its_line(tmp_path, text, message):
    (tmp_path / "r.csv").write_text(text)
    with pytest.raises(ReviewError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_rules(tmp_path / "r.csv")


def test_files_that_are_not_a_review_workbook(tmp_path):
    (tmp_path / "x.csv").write_text("email,decision\na@x.com,keep\n")
    with pytest.raises(ReviewError, match="the header lacks campaign_id, population_hash, item_id"):
        list(read_rows(tmp_path / "x.csv"))
    (tmp_path / "x.xlsx").write_text("not a workbook")
    with pytest.raises(ReviewError, match="not a readable .xlsx workbook"):
        list(read_rows(tmp_path / "x.xlsx"))
    with pytest.raises(ReviewError, match="give the review workbook"):
        (tmp_path / "x.txt").write_text("")
        list(read_rows(tmp_path / "x.txt"))


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    p = whsync(["review", "status", "--duckdb", str(tmp_path / "none.duckdb")], tmp_path)
    assert p.returncode == 2 and p.stderr.strip().splitlines() == [
        f"whsync: error: no warehouse at {tmp_path / 'none.duckdb'}: run `whsync sync` first, or give --duckdb FILE"]


def test_start_refuses_a_taken_name_an_unknown_system_and_a_warehouse_without_sync(demo_warehouse, tmp_path):
    import shutil

    import duckdb

    from pipelines.review.campaign import start
    from pipelines.targets import resolve_target

    wh = tmp_path / "w.duckdb"
    shutil.copyfile(demo_warehouse, wh)
    target = resolve_target(duckdb=wh)
    campaign, path = start(target, name=None, owner="o@lab.example", systems="bencher", reviewers=None,
                           out=tmp_path / "b.csv")
    assert campaign["name"] == campaign["created_at"].strftime("%Y-%m-%d") and path.exists()
    with pytest.raises(ReviewError, match=f"a campaign named '{campaign['name']}' already exists"):
        start(target, name=campaign["name"], owner="o@lab.example", systems=None, reviewers=None, out=None)
    with pytest.raises(ReviewError, match=r"--systems: unknown system 'ldap': use benchling, paradime, bencher, okta "
                                          r"\(default: benchling,paradime,bencher\)"):
        start(target, name="x", owner="o@lab.example", systems="benchling,ldap", reviewers=None, out=None)
    # the directory is reviewed only when named: its own accounts carry its facts, never its two flags
    directory, _ = start(target, name="dir", owner="o@lab.example", systems="okta", reviewers=None,
                         out=tmp_path / "o.csv")
    con = duckdb.connect(str(wh), read_only=True)
    try:
        okta = con.execute("select count(*) from access where system = 'okta'").fetchone()[0]
        got = con.execute("select count(*), count(distinct system), sum(case when left_company or outside_directory "
                          "then 1 else 0 end), count(directory_status) from review_item where campaign_id = ?",
                          [directory["campaign_id"]]).fetchone()
        people = con.execute("select count(*) from access a join person p on p.email = a.email "
                             "where a.system = 'okta' and p.directory_status is not null").fetchone()[0]
    finally:
        con.close()
    assert got == (okta, 1, 0, people) and okta > 0
    with pytest.raises(ReviewError, match="--out .*give a .xlsx"):
        start(target, name="x", owner="o@lab.example", systems=None, reviewers=None, out=tmp_path / "x.ods")
    empty = resolve_target(duckdb=tmp_path / "empty.duckdb")
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with pytest.raises(ReviewError, match="has no sync_run or access: run `whsync sync` first"):
        start(empty, name="x", owner="o@lab.example", systems=None, reviewers=None, out=tmp_path / "e.xlsx")
