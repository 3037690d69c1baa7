"""Bencher as a source of the sync (its entry in `pipelines/sources.py`): its token and organizations from env
or .dlt (`source.py`), and the plan that makes its dlt source."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from ..errors import ConfigError
from ..sources import SourcePlan, SourceSpec, SyncOptions


def bencher_plan(config: Any | None = None, allow_insecure_http: bool = False) -> SourcePlan:
    from ..http import CountingSession
    from .source import ConfigError as BencherConfigError
    from .source import bencher_config_from_env, bencher_source

    try:
        config = config if config is not None else bencher_config_from_env()
        config = dataclasses.replace(config, allow_insecure_http=allow_insecure_http)
        config.client()  # validates the URL's scheme before any work
    except (BencherConfigError, ValueError) as e:
        raise ConfigError(f"Bencher: {e}") from None

    def make(synced_at: datetime, progress: Any) -> tuple[Any, Any, Any]:
        session = CountingSession()
        progress.stats_fn = session.counts
        return bencher_source(config, synced_at=synced_at, client_options={"session": session},
                              progress=progress.page), None, session.close

    return SourcePlan("bencher", make)


def configure(options: SyncOptions) -> SourcePlan:
    return bencher_plan(allow_insecure_http=options.allow_insecure_http)


def demo(seed: int, stack: Any) -> tuple[SourcePlan, str]:
    from .simulator import DEMO_TOKEN, BencherSimulator, generate_fixture
    from .source import BencherConfig

    fixture = generate_fixture(seed=seed)
    sim = stack.enter_context(BencherSimulator(fixture, token=DEMO_TOKEN))
    plan = bencher_plan(BencherConfig(token=DEMO_TOKEN, base_url=sim.base_url))
    plan.people = [(m["email"], m["name"], True) for o in fixture["organizations"] for m in o["_members"]]
    return plan, sim.base_url


SOURCE = SourceSpec(
    name="bencher",
    title="Bencher",
    namespace="bencher",
    relations=("organization", "member"),
    history=("organization", "member"),
    credentials="BENCHER_API_TOKEN (+ BENCHER_API_URL, BENCHER_ORGANIZATIONS)",
    configure=configure,
    demo=demo,
)
