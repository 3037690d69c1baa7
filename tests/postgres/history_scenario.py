"""Shared by the history tests: the three simulators, syncing them into a target, writing to them
through their APIs, and the expected history folded from the published tables after each sync."""
from __future__ import annotations

import json
import re
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from pipelines.bencher.simulator import BencherSimulator
from pipelines.bencher.source import BencherConfig
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, Tenant
from pipelines.paradime.simulator import ParadimeSimulator, load_fixture
from pipelines.paradime.source import ParadimeWorkspaceConfig
from pipelines.progress import Progress
from pipelines.bencher.spec import bencher_plan
from pipelines.benchling.spec import benchling_plan, BenchlingConfig
from pipelines.paradime.spec import paradime_plan
from pipelines.sync import SyncResult, sync

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PD = json.loads((FIXTURES / "paradime_tricky.json").read_text(encoding="utf-8"))
BC = json.loads((FIXTURES / "bencher_tricky.json").read_text(encoding="utf-8"))

# history relation -> (namespace, the published relation it versions, its filter, key columns)
SPECS: dict[str, tuple[str, str, str, list[str]]] = {
    "user$history": ("warehouse", "user", "true", ["id"]),
    "principal$history": ("warehouse", "principal", "true", ["id"]),
    "team$history": ("warehouse", "team", "true", ["id"]),
    "team_member$history": ("warehouse", "team_member", "true", ["team_id", "user_id"]),
    "project$history": ("warehouse", "project$raw", "true", ["id"]),
    "folder$history": ("warehouse", "folder$raw", "true", ["id"]),
    "paradime.user$history": ("paradime", "user", "is_active", ["workspace", "uid"]),
    "paradime.invited_user$history": ("paradime", "invited_user", "is_pending", ["workspace", "email"]),
    "paradime.workspace$history": ("paradime", "workspace", "is_listed", ["uid"]),
    "bencher.member$history": ("bencher", "member", "is_member", ["organization_uuid", "uuid"]),
    "bencher.organization$history": ("bencher", "organization", "is_listed", ["uuid"]),
}


def utc(t: datetime) -> datetime:
    """A sync's start as the warehouse stores it: naive UTC."""
    return t.astimezone(timezone.utc).replace(tzinfo=None)


class Sources:
    """The three simulators (tricky fixtures, no rate limit) and their API writes."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self._stack = ExitStack()
        self.benchling = self._stack.enter_context(BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off"))
        fx = load_fixture(FIXTURES / "paradime_tricky.json")
        self.paradime = self._stack.enter_context(ParadimeSimulator(
            fx["workspaces"], api_key=fx["api_key"], api_secret=fx["api_secret"], port=0))
        self.bencher = self._stack.enter_context(BencherSimulator(json.loads(json.dumps(BC)), token=BC["token"], port=0))

    def close(self) -> None:
        self._stack.close()

    def plans(self, *names: str, full_refresh: bool = False) -> list[Any]:
        names = names or ("benchling", "paradime", "bencher")
        out = []
        if "benchling" in names:
            out.append(benchling_plan(BenchlingConfig(self.benchling.base_url, api_key=DEMO_API_KEY), full_refresh))
        if "paradime" in names:
            out.append(paradime_plan([
                ParadimeWorkspaceConfig(name=w["name"], endpoint=self.paradime.endpoint_for(w["name"]),
                                        api_key=PD["api_key"], api_secret=PD["api_secret"], workspace_uid=w["uid"])
                for w in PD["workspaces"]]))
        if "bencher" in names:
            out.append(bencher_plan(BencherConfig(token=BC["token"], base_url=self.bencher.base_url)))
        return out

    def sync(self, target: Any, *names: str, **kw: Any) -> SyncResult:
        return sync(plans=self.plans(*names, **kw), target=target, progress=Progress(quiet=True))

    # -- writes through the APIs ----------------------------------------------------------------------
    def benchling_api(self, method: str, path: str, body: Any = None) -> Any:
        r = requests.request(method, f"{self.benchling.base_url}{path}", json=body, auth=(DEMO_API_KEY, ""), timeout=10)
        assert r.status_code in (200, 201, 204), (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def graphql(self, workspace: str, query: str, variables: dict[str, Any]) -> None:
        r = requests.post(self.paradime.endpoint_for(workspace), json={"query": query, "variables": variables},
                          timeout=10, headers={"X-API-KEY": PD["api_key"], "X-API-SECRET": PD["api_secret"]})
        assert r.status_code == 200 and "errors" not in r.json(), r.text
        assert all(v["ok"] for v in r.json()["data"].values()), r.text

    def bencher_api(self, method: str, path: str, body: Any = None) -> None:
        r = requests.request(method, f"{self.bencher.base_url}/v0/organizations/{path}", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {BC['token']}"})
        assert r.status_code in (200, 204), r.text


def read_history(target: Any) -> dict[str, list[tuple]]:
    """Every history relation the warehouse has, sorted rows (documented columns, valid_from, valid_to)."""
    out = {}
    present = target.counts([(SPECS[n][0], n.split(".")[-1]) for n in SPECS])
    with target.reader() as con:
        for name, (ns, *_rest) in SPECS.items():
            if present.get(name) is None:
                continue
            rel = f'"{con.schema(ns)}"."{name.split(".")[-1]}"'
            out[name] = sorted((tuple(r) for r in con.execute(f"select * from {rel}").fetchall()), key=repr)
    return out


def read_current(target: Any) -> dict[str, tuple[list[str], dict[tuple, tuple]]]:
    """What each history relation versions, as published now: {name: (columns, {key: row})}."""
    out = {}
    present = target.counts([(SPECS[n][0], n.split(".")[-1]) for n in SPECS])
    with target.reader() as con:
        for name, (ns, table, where, keys) in SPECS.items():
            if present.get(name) is None:
                continue
            hist = f'"{con.schema(ns)}"."{name.split(".")[-1]}"'
            cols = [d[0] for d in con.execute(f"select * from {hist} where false").description][:-2]
            sel = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f'select {sel} from "{con.schema(ns)}"."{table}" where {where}').fetchall()
            out[name] = (cols, {tuple(r[cols.index(k)] for k in keys): tuple(r) for r in rows})
    return out


def fold(snapshots: list[tuple[datetime, dict[tuple, tuple]]]) -> list[tuple]:
    """The versions implied by the table as published after each sync (an independent oracle)."""
    open_: dict[tuple, tuple[tuple, datetime]] = {}
    out: list[tuple] = []
    for t, snap in snapshots:
        for k, (row, since) in list(open_.items()):
            if snap.get(k) != row:
                out.append(row + (since, t))
                del open_[k]
        for k, row in snap.items():
            if k not in open_:
                open_[k] = (row, t)
    out += [row + (since, None) for row, since in open_.values()]
    return sorted(out, key=repr)


def expected_history(snaps: list[tuple[datetime, dict[str, tuple[list[str], dict[tuple, tuple]]]]]) -> dict[str, list[tuple]]:
    return {name: fold([(t, cur[name][1]) for t, cur in snaps]) for name in SPECS}


QUERIES = Path(__file__).resolve().parents[2] / "examples" / "queries"


def run_query(target: Any, name: str, **params: datetime) -> list[tuple]:
    """An example query with its `params` CTE set to the given naive UTC times."""
    sql = (QUERIES / name).read_text()
    values = ", ".join(f"cast('{v.isoformat(sep=' ')}' as timestamp) as {k}" for k, v in params.items())
    if params:
        sql, n = re.subn(r"with params as \(.*?\n\)", f"with params as (select {values})", sql, count=1, flags=re.S)
        assert n == 1, f"{name} has no params CTE"
    with target.reader() as con:
        return [tuple(r) for r in con.execute(sql).fetchall()]
