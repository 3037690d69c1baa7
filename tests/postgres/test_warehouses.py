"""Every source in one atomic publish, several warehouses in one database, and an upgrade from the
previous release, on a real PostgreSQL server."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests

from pipelines.bencher.simulator import BencherSimulator
from pipelines.bencher.source import BencherConfig
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.paradime.simulator import ParadimeSimulator, load_fixture
from pipelines.paradime.source import ParadimeWorkspaceConfig
from pipelines.progress import Progress
from pipelines.bencher.spec import bencher_plan
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.paradime.spec import paradime_plan
from pipelines.sync import sync
from pipelines.targets import resolve_target
from pipelines.targets.pgconn import PgConfig

from .conftest import PgCon, reading_in_a_loop, whsync
from tests.helpers import child_env

try:
    from ..warehouse.oracle import assert_matches
    from ..warehouse.test_paradime_bencher_e2e import BC_FIXTURE, PD_FIXTURE
except ImportError:
    from warehouse.oracle import assert_matches  # type: ignore[no-redef]
    from warehouse.test_paradime_bencher_e2e import BC_FIXTURE, PD_FIXTURE  # type: ignore[no-redef]

PD_LOADED = load_fixture(Path(__file__).resolve().parents[1] / "fixtures" / "paradime_tricky.json")
REPO = Path(__file__).resolve().parents[2]
PREVIOUS_RELEASE = "f82727cce39b1dbc78c0c364fca55b1bf7ff0f96"  # the last commit before the target layer


def _tenant(seed: int, users: int = 8) -> Any:
    return generate_tenant(seed=seed, users=users, apps=2, teams=3, projects=3, folders=6)


def _dict(tenant: Any) -> dict[str, Any]:
    return json.loads(json.dumps(tenant.to_dict()))


def _suspend_one(sim: BenchlingSimulator, tenant: Any) -> str:
    user = next(u for u in tenant.to_dict()["users"] if not u["isSuspended"])
    r = requests.patch(f"{sim.base_url}/users/{user['id']}", json={"isSuspended": True}, auth=(DEMO_API_KEY, ""))
    assert r.status_code == 200
    return user["id"]


def _oracle(cfg: PgConfig, tenant: Any) -> None:
    with resolve_target(postgres=cfg).reader() as con:  # read-only, search_path = the warehouse schema
        assert_matches(con, _dict(tenant))


# -- one atomic publish for every source ------------------------------------------------------------

# one statement = one snapshot: a Benchling view joined to its $raw table and to a Paradime table
# (the sync's start time, as epoch seconds: one column is timestamptz, the other timestamp in UTC)
MARKER = ('select distinct extract(epoch from r._synced_at), extract(epoch from w._synced_at) from "team" v '
          'join "team$raw" r on r.id = v.id cross join paradime.workspace w')


def _plans(bl: BenchlingSimulator, pd: ParadimeSimulator, bc: BencherSimulator) -> list[Any]:
    configs = [ParadimeWorkspaceConfig(name=ws["name"], endpoint=pd.endpoint_for(ws["name"]),
                                       api_key=PD_FIXTURE["api_key"], api_secret=PD_FIXTURE["api_secret"],
                                       workspace_uid=ws["uid"]) for ws in PD_FIXTURE["workspaces"]]
    return [benchling_plan(BenchlingConfig(bl.base_url, api_key=DEMO_API_KEY)), paradime_plan(configs),
            bencher_plan(BencherConfig(token=BC_FIXTURE["token"], base_url=bc.base_url))]


def test_a_reader_joining_benchling_and_paradime_always_sees_one_sync(pg, tmp_path):
    tenant = _tenant(5)
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as bl, \
            ParadimeSimulator(PD_LOADED["workspaces"], api_key=PD_FIXTURE["api_key"],
                              api_secret=PD_FIXTURE["api_secret"], bearer_token=PD_FIXTURE["bearer_token"]) as pd, \
            BencherSimulator(json.loads(json.dumps(BC_FIXTURE)), token=BC_FIXTURE["token"]) as bc:
        sync(plans=_plans(bl, pd, bc), target=resolve_target(postgres=pg), progress=Progress(quiet=True))
        reader = psycopg2.connect(**pg.libpq_kwargs())
        reader.autocommit = True
        cur = reader.cursor()
        cur.execute(MARKER)
        first = cur.fetchall()
        assert len(first) == 1 and first[0][0] == first[0][1]
        with reading_in_a_loop(reader, MARKER, lambda c: c.fetchall()) as (seen, errors):
            for _ in range(2):  # `--source all` resyncs, each with its own marker (its start time)
                sync(plans=_plans(bl, pd, bc), target=resolve_target(postgres=pg), progress=Progress(quiet=True))
        assert not errors, errors[:3]
        assert len(seen) > 20
        mixed = [s for s in seen if len(s) != 1 or s[0][0] != s[0][1]]
        assert not mixed, f"a reader saw Benchling and Paradime from different syncs: {mixed[:2]}"
        markers = [s[0][0] for s in seen]
        assert markers[0] == first[0][0] and len(set(markers)) == 3, "the reader saw all three syncs, in turn"
        assert markers == sorted(markers)
        # (that `--source paradime` alone republishes the Benchling relations unchanged, their rows and their
        # sync's start, and Paradime's with its own start: tests/postgres/test_history.py, on both targets,
        # with the sync of Paradime alone that test makes anyway)
        reader.close()
    # the build schemas are gone; the public warehouse keeps the names of earlier releases
    con = PgCon(_admin_dsn(pg))
    schemas = {r[0] for r in con.execute("select nspname from pg_namespace").fetchall()}
    con.close()
    assert {"public", "benchling_raw", "paradime_raw", "bencher_raw", "staging", "paradime", "bencher"} <= schemas
    assert not [s for s in schemas if s.endswith("__build")]


def _admin_dsn(cfg: PgConfig) -> str:
    from psycopg2.extensions import make_dsn

    return make_dsn(**cfg.libpq_kwargs())


# -- several warehouses per database ----------------------------------------------------------------

def test_two_schemas_from_two_tenants_stay_apart(pg_server, pg, tmp_path):
    prod, sandbox = _tenant(21, users=9), _tenant(22, users=5)
    dsn = _admin_dsn(pg)
    cfg = {s: PgConfig.from_dsn(dsn, schema=s) for s in ("acme_prod", "acme_sandbox")}
    with BenchlingSimulator(prod, api_key=DEMO_API_KEY, rate_limit="off") as a, \
            BenchlingSimulator(sandbox, api_key=DEMO_API_KEY, rate_limit="off") as b:
        def run(schema: str, sim: BenchlingSimulator) -> None:
            p = whsync(["sync", "--target", "postgres", "--schema", schema, "--base-url", sim.base_url, "-q"],
                       tmp_path, {"WHSYNC_POSTGRES_DSN": dsn, "BENCHLING_API_KEY": DEMO_API_KEY})
            assert p.returncode == 0, p.stderr

        run("acme_prod", a)
        run("acme_sandbox", b)
        _suspend_one(a, prod)  # prod changes and syncs again, after the sandbox: nothing crosses over
        sync(plans=[benchling_plan(BenchlingConfig(a.base_url, api_key=DEMO_API_KEY))], target=resolve_target(postgres=cfg["acme_prod"]),
             progress=Progress(quiet=True))
    _oracle(cfg["acme_prod"], prod)
    _oracle(cfg["acme_sandbox"], sandbox)

    con = PgCon(dsn)
    schemas = {r[0] for r in con.execute("select nspname from pg_namespace").fetchall()}
    for s in ("acme_prod", "acme_sandbox"):
        assert {s, f"{s}__benchling_raw", f"{s}__staging"} <= schemas
    assert not {"benchling_raw", "staging", "public__build"} & schemas, "nothing shared between warehouses"
    con.execute("create role prod_reader login password 'pr-pw'")
    con.close()

    p = whsync(["grant-reader", "prod_reader", "--schema", "acme_prod"], tmp_path, {"WHSYNC_POSTGRES_DSN": dsn})
    assert p.returncode == 0, p.stderr
    reader = psycopg2.connect(pg_server.dsn(pg.dbname, user="prod_reader", password="pr-pw"))
    reader.autocommit = True
    cur = reader.cursor()
    cur.execute('select count(*) from acme_prod."user"')
    assert cur.fetchone()[0] == len(prod.to_dict()["users"])
    for rel in ['acme_sandbox."user"', 'acme_sandbox."user$raw"', "acme_prod__benchling_raw.users",
                "acme_sandbox__benchling_raw.users", "acme_prod__staging.stg_benchling__users"]:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(f"select 1 from {rel} limit 1")
    reader.close()


# -- an upgrade from the previous release -----------------------------------------------------------

def _previous_release(dest: Path) -> Path:
    """The repository at PREVIOUS_RELEASE, extracted with `git archive` (skipped without the history)."""
    try:
        data = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", PREVIOUS_RELEASE],
                              capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"the previous release ({PREVIOUS_RELEASE[:7]}) is not in this checkout's git history")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def test_a_warehouse_built_by_the_previous_release_keeps_working(pg_server, pg, tmp_path):
    old = _previous_release(tmp_path / "previous")
    tenant = _tenant(31)
    dsn = _admin_dsn(pg)
    env = {"WHSYNC_POSTGRES_DSN": dsn, "BENCHLING_API_KEY": DEMO_API_KEY}
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        # the previous release syncs and grants a reporting role
        old_env = child_env("BENCHLING_", "WHSYNC_", "PG")
        old_env.update(env, PYTHONPATH=str(old))
        for args in (["sync", "--target", "postgres", "--base-url", sim.base_url, "-q"], ["grant-reader", "bi"]):
            if args[0] == "grant-reader":
                admin = PgCon(dsn)
                admin.execute("create role bi login password 'bi-pw'")
                admin.close()
            p = subprocess.run([sys.executable, "-c", "from pipelines.cli import app; app()", *args], cwd=old,
                               env=old_env, capture_output=True, text=True, timeout=300)
            assert p.returncode == 0, p.stderr
        _suspend_one(sim, tenant)
        # this release takes over the same database
        sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))], target=resolve_target(postgres=PgConfig.from_dsn(dsn)),
             progress=Progress(quiet=True))
    _oracle(pg, tenant)  # incremental state continued from the old release's dlt state: nothing lost
    reader = psycopg2.connect(pg_server.dsn(pg.dbname, user="bi", password="bi-pw"))
    cur = reader.cursor()
    cur.execute('select count(*) from "user" where is_suspended')
    assert cur.fetchone()[0] == sum(u["isSuspended"] for u in tenant.to_dict()["users"])
    reader.close()
