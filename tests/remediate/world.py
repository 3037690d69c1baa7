"""Three simulators with write keys, a warehouse synced from them, and whsync run as a subprocess (as an
operator runs it). `World.reset()` puts the simulators and the warehouse back to the first sync's state,
so failure tests share one (slow) sync."""
from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pipelines.bencher.simulator import BencherSimulator, generate_fixture
from pipelines.benchling.simulator import BenchlingSimulator, generate_tenant
from pipelines.paradime.simulator import ParadimeSimulator, generate_workspaces
from tests import forkserver
from tests.helpers import child_env

WHSYNC = str(Path(sys.executable).with_name("whsync"))
READ_KEY, ADMIN_KEY = "sk_read_key_3b1f", "sk_ADMIN_write_key_9c2e77"
PD_KEY, PD_SECRET, PD_ADMIN, PD_ADMIN_SECRET = "pd_read", "pd_read_secret", "pd_ADMIN_key_51", "pd_ADMIN_secret_a8f3"
BC_TOKEN, BC_ADMIN = "bencher_user_read_0000", "bencher_user_ADMIN_7d41e"
SECRETS = (ADMIN_KEY, PD_ADMIN, PD_ADMIN_SECRET, BC_ADMIN)
ADA = "ada.offboard@lab.example"
OPERATOR = "it.admin@lab.example"


def lab_org(members: int) -> dict:
    """A Bencher fixture of one organization, `lab`, whose members m-0 ... are all leaders."""
    stamp = "2024-01-01T00:00:00Z"
    return {"organizations": [{
        "uuid": "0b6c7a8e-1111-4a5b-8c9d-000000000001", "name": "Lab", "slug": "lab", "created": stamp,
        "modified": stamp, "claimed": None, "license": None,
        "_members": [{"uuid": f"0b6c7a8e-2222-4a5b-8c9d-{i:012d}", "name": f"M {i}", "slug": f"m-{i}",
                      "email": f"m{i}@x.io", "role": "leader", "created": stamp, "modified": stamp}
                     for i in range(members)]}]}


def _tenant() -> Any:
    t = generate_tenant(seed=11, users=40, apps=2, teams=4, projects=3, folders=6)
    admins = {m["user"]["id"] for m in t.memberships if m["role"] == "ADMIN"}
    ada = next(u for u in t.users if not u["isSuspended"] and u["id"] not in admins
               and any(m["user"]["id"] == u["id"] for m in t.memberships))
    ada["email"] = ADA
    op = next(u for u in t.users if not u["isSuspended"] and u is not ada)
    op["email"] = OPERATOR
    return t


def _workspaces() -> Any:
    ws = generate_workspaces(seed=5, n_workspaces=1, users_per_workspace=12)
    users = ws[0].active_users
    users[0].update(email=ADA, accountType="DEVELOPER")
    users[1].update(accountType="ADMIN")
    users[2].update(email=OPERATOR, accountType="ADMIN")
    return ws


def _orgs() -> Any:
    fx = generate_fixture(seed=5, organizations=2, members=24)
    fx["organizations"][0]["_members"][3]["email"] = ADA
    fx["organizations"][1]["_members"][0]["email"] = ADA
    return fx


class World:
    def __init__(self, root: Path, pg_dsn: str | None = None) -> None:
        self.root = root
        self.pg_dsn = pg_dsn  # the warehouse on PostgreSQL (--target postgres) instead of a DuckDB file
        self.bl = BenchlingSimulator(_tenant(), api_key=READ_KEY, admin_api_key=ADMIN_KEY, rate_limit="60/30").start()
        self.pd = ParadimeSimulator(_workspaces(), api_key=PD_KEY, api_secret=PD_SECRET, admin_api_key=PD_ADMIN,
                                    admin_api_secret=PD_ADMIN_SECRET).start()
        self.bc = BencherSimulator(_orgs(), token=BC_TOKEN, admin_token=BC_ADMIN).start()
        self.warehouse = root / "warehouse.duckdb"
        self.ws_name = self.pd.workspaces[0].name
        self.env = child_env("BENCHLING_", "PARADIME_", "BENCHER_", "WHSYNC_", "PG")
        self.env.update({
            "BENCHLING_BASE_URL": self.bl.root_url, "BENCHLING_API_KEY": READ_KEY, "BENCHLING_ADMIN_API_KEY": ADMIN_KEY,
            "PARADIME_API_ENDPOINT": self.pd.endpoint_for(self.ws_name), "PARADIME_API_KEY": PD_KEY,
            "PARADIME_API_SECRET": PD_SECRET, "PARADIME_WORKSPACE_NAME": self.ws_name,
            "PARADIME_ADMIN_API_KEY": PD_ADMIN, "PARADIME_ADMIN_API_SECRET": PD_ADMIN_SECRET,
            "BENCHER_API_URL": self.bc.base_url, "BENCHER_API_TOKEN": BC_TOKEN, "BENCHER_ADMIN_API_TOKEN": BC_ADMIN,
        })

    def snapshot(self) -> None:
        """Remember the simulators' and the warehouse's state (after the first sync)."""
        self._state = (copy.deepcopy(self.bl.tenant), copy.deepcopy(self.pd.workspaces), copy.deepcopy(self.bc.organizations))
        shutil.copyfile(self.warehouse, self.root / "snapshot.duckdb")

    def reset(self, to: Path) -> Path:
        """The simulators as at the snapshot (hooks and counts cleared) and a copy of its warehouse at `to`."""
        t, ws, orgs = self._state
        self.bl.tenant = copy.deepcopy(t)
        self.bl._reindex()
        self.bl.reject_user_updates.clear()
        self.bl.request_hook = None
        self.bl.task_polls = 0
        self.pd.workspaces[:] = copy.deepcopy(ws)
        self.bc.organizations[:] = copy.deepcopy(orgs)
        self.bl.reset_stats()
        self.pd._stats.update(requests=0, by_workspace={}, auth_failures=0, by_operation={})
        self.bc._stats.update(requests=0, by_status={}, by_path={}, per_page=[])
        to.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.root / "snapshot.duckdb", to / "warehouse.duckdb")
        return to / "warehouse.duckdb"

    def run(self, *args: str, warehouse: Path | None = None, env: dict | None = None, timeout: float = 600,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        wh = ["--duckdb", str(warehouse or self.warehouse)] if args[0] in ("sync", "remediate") else []
        if self.pg_dsn:
            wh = ["--target", "postgres"] if args[0] in ("sync", "remediate") else []
            env = {"WHSYNC_POSTGRES_DSN": self.pg_dsn, **(env or {})}
        return forkserver.run([WHSYNC, *args, *wh], cwd=cwd or self.root, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout)

    def sync(self, warehouse: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        r = self.run("sync", "--source", "benchling,paradime,bencher", "--activity", "off", warehouse=warehouse, env=env)
        assert r.returncode == 0, r.stderr + r.stdout
        return r

    def rows(self, sql: str, warehouse: Path | None = None, params: Any = None) -> list[tuple]:
        import duckdb

        con = duckdb.connect(str(warehouse or self.warehouse), read_only=True)
        try:
            return con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
        finally:
            con.close()

    def stop(self) -> None:
        for s in (self.bl, self.pd, self.bc):
            s.stop()

    # -- simulator state ------------------------------------------------------------------------------
    def bl_user(self, email: str) -> dict:
        return next(u for u in self.bl.tenant.users if u["email"] == email)

    def pd_user(self, email: str) -> dict:
        return next(u for u in self.pd.workspaces[0].active_users if u["email"] == email)

    def bc_members(self, email: str) -> list[tuple[str, dict]]:
        return [(o["slug"], m) for o in self.bc.organizations for m in o["_members"] if m["email"] == email]
