"""Paradime as a source of the sync (its entry in `pipelines/sources.py`): its workspaces' credentials from
env or .dlt (`source.py`), and the plan that makes its dlt source."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from ..errors import ConfigError
from ..sources import SourcePlan, SourceSpec, SyncOptions


def paradime_plan(configs: list[Any] | None = None, allow_insecure_http: bool = False) -> SourcePlan:
    from ..http import CountingSession
    from .client import ParadimeError
    from .source import ConfigError as ParadimeConfigError
    from .source import paradime_configs_from_env, paradime_source

    try:
        configs = configs if configs is not None else paradime_configs_from_env()
        configs = [dataclasses.replace(c, allow_insecure_http=allow_insecure_http) for c in configs]
        for c in configs:
            c.client()  # validates the endpoint's scheme and the credentials' shape before any work
    except (ParadimeConfigError, ValueError, ParadimeError) as e:
        raise ConfigError(f"Paradime: {e}") from None

    def make(synced_at: datetime, progress: Any) -> tuple[Any, Any, Any]:
        session = CountingSession()
        progress.stats_fn = session.counts
        return paradime_source(configs, synced_at=synced_at, client_options={"session": session},
                               progress=progress.page), None, session.close

    return SourcePlan("paradime", make)


def configure(options: SyncOptions) -> SourcePlan:
    return paradime_plan(allow_insecure_http=options.allow_insecure_http)


def demo(seed: int, stack: Any) -> tuple[SourcePlan, str]:
    from .simulator import DEMO_API_KEY, DEMO_API_SECRET, ParadimeSimulator, generate_workspaces
    from .source import ParadimeWorkspaceConfig

    workspaces = generate_workspaces(seed=seed)
    sim = stack.enter_context(ParadimeSimulator(workspaces, api_key=DEMO_API_KEY, api_secret=DEMO_API_SECRET))
    configs = [ParadimeWorkspaceConfig(ws.name, sim.endpoint_for(ws.name), DEMO_API_KEY, DEMO_API_SECRET, None, None)
               for ws in workspaces]
    plan = paradime_plan(configs)
    plan.people = [(u["email"], u.get("name") or "", True) for ws in workspaces for u in ws.active_users
                   if not u.get("_disabled")]
    return plan, sim.base_url


SOURCE = SourceSpec(
    name="paradime",
    title="Paradime",
    namespace="paradime",
    relations=("user", "invited_user", "workspace"),
    history=("user", "invited_user", "workspace"),
    credentials="PARADIME_API_ENDPOINT + PARADIME_API_KEY + PARADIME_API_SECRET (or PARADIME_BEARER_TOKEN; "
    "PARADIME_WORKSPACES for several)",
    configure=configure,
    demo=demo,
)
