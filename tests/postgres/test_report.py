"""`whsync report --target postgres` through the reporting role made by `grant-reader`: that role
suffices; a relation it may not read is named with the grant that fixes it; and every report query gives
the same rows on PostgreSQL as on DuckDB."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import duckdb
import pytest

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator
from pipelines.progress import Progress
from pipelines.report import LISTS
from pipelines.report.queries import QueryFile
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.sync import sync
from pipelines.targets import resolve_target

from .conftest import PgCon, whsync

LIST_RE = re.compile(r'data-list="([^"]+)"\s+data-status="(\w+)"(?: data-count="(\d+)")?\s+data-query="([^"]+)"')


def _report(tmp_path, dsn: str, name: str) -> tuple[dict[str, tuple[str, int | None, str]], str]:
    p = whsync(["report", "--target", "postgres", "--out", str(tmp_path / f"{name}.html")], tmp_path,
               {"WHSYNC_POSTGRES_DSN": dsn})
    assert p.returncode == 0, p.stderr
    page = (tmp_path / f"{name}.html").read_text()
    lists = {k: (s, int(c) if c else None, q) for k, s, c, q in LIST_RE.findall(page)}
    assert set(lists) == {s.key for s in LISTS}
    return lists, html.unescape(page)


@pytest.fixture(scope="module")
def access_reviewer(synced_pg):
    server, dsn, _ = synced_pg
    db = dsn.rsplit("/", 1)[1]
    admin = PgCon(dsn)
    admin.execute("create role access_reviewer login password 'rev-pw'")
    yield server.dsn(db, user="access_reviewer", password="rev-pw"), admin
    admin.close()


def _params(now: datetime) -> dict:
    from pipelines.report import parameters

    return parameters(now, now - timedelta(days=90), 90)


def _sql(q: QueryFile, *, postgres: bool, bound: bool = False) -> str:
    """A report query as the report runs it on the `public` PostgreSQL warehouse or a DuckDB file."""
    return q.for_target(lambda ns: ns, postgres=postgres, bound=bound)


def test_reporting_role_suffices_and_missing_grants_are_named_and_queries_match_duckdb(
        synced_pg, access_reviewer, tricky, tmp_path):
    server, dsn, _ = synced_pg
    rep_dsn, admin = access_reviewer
    p = whsync(["grant-reader", "access_reviewer"], tmp_path, {"WHSYNC_POSTGRES_DSN": dsn})
    assert p.returncode == 0, p.stderr

    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    lists, _ = _report(tmp_path, rep_dsn, "full")
    # grant-reader covers history (issue 11) and user_activity, access, person (issue 12): every list runs
    # its preferred file
    for spec in LISTS:
        if spec.key in ("left_still_active", "outside_directory"):  # need the directory: Okta is not synced here
            assert lists[spec.key][0] == "missing", spec.key
            continue
        assert lists[spec.key][0] == "ok", spec.key
        assert lists[spec.key][2] == spec.files[0], spec.key  # last_synced: the run log (sync_run)
    for key, (status, count, name) in lists.items():  # the page's counts are the SQL's, run by the warehouse owner
        if status == "missing":
            continue
        q = QueryFile(name)
        params = q.bind(_params(now))
        assert count == len(admin.execute(_sql(q, postgres=True, bound=bool(params)), params or None).fetchall()), key
    assert lists["suspended_in_teams"][1] > 0 and lists["never_used"][1] > 0 and lists["dormant"][1] > 0

    # a relation the role may not read: the page names it and the grant that fixes it
    admin.execute("revoke select on access from access_reviewer")
    lists, page = _report(tmp_path, rep_dsn, "not-granted")
    assert lists["sources"][0] == "missing"
    assert "the role access_reviewer may not read access: run whsync grant-reader access_reviewer" in re.sub(r"<[^>]+>", "", page)
    admin.execute("grant select on access to access_reviewer")
    _same_rows_on_duckdb(admin, tricky, now, tmp_path)


def _norm(rows):
    def v(x):
        if isinstance(x, Decimal):
            return int(x) if x == int(x) else float(x)
        if isinstance(x, datetime) and x.tzinfo is not None:
            return x.astimezone(timezone.utc).replace(tzinfo=None)
        return x
    return sorted((tuple(v(x) for x in r) for r in rows), key=repr)


def _same_rows_on_duckdb(admin, tricky, now: datetime, tmp_path) -> None:
    """Every report query (but sync times and Paradime/Bencher) gives the same rows on a DuckDB sync of the
    same tenant (`checked_at`, a sync's start, and the Benchling scope, the simulator's host:port, left out)."""
    with BenchlingSimulator(tricky, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        res = sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))],
                   target=resolve_target(duckdb=tmp_path / "w.duckdb"), progress=Progress(quiet=True))
    duck = duckdb.connect(str(res.warehouse))
    try:
        files = sorted({f for spec in LISTS for f in spec.files})
        compared = 0
        for name in files:
            q = QueryFile(name)
            if "last_synced" in name or "history" in name or any(r.startswith(("paradime.", "bencher.", "okta.")) for r in q.requires):
                continue  # sync times (history starts) differ between the two syncs; Paradime/Bencher are not synced here
            params = q.bind(_params(now))
            cur = duck.execute(_sql(q, postgres=False), params or None)
            keep = [i for i, c in enumerate(cur.description) if c[0] not in ("checked_at", "scope", "tenant")]
            d = [[r[i] for i in keep] for r in cur.fetchall()]
            p = [[r[i] for i in keep] for r in admin.execute(_sql(q, postgres=True, bound=bool(params)), params or None).fetchall()]
            assert _norm(d) == _norm(p), f"{name}: DuckDB and PostgreSQL differ"
            compared += bool(d)
        assert compared >= 7  # the history files are compared on both targets by tests/postgres/test_history.py
    finally:
        duck.close()
