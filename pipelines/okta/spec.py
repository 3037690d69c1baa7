"""Okta as a source of the sync (its entry in `pipelines/sources.py`): the org URL and credentials from env or
.dlt (`source.py`), and the plan that makes its dlt source."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from ..errors import ConfigError
from ..sources import SourcePlan, SourceSpec, SyncOptions


def okta_plan(config: Any | None = None, allow_insecure_http: bool = False) -> SourcePlan:
    from .source import ConfigError as OktaConfigError
    from .source import okta_config_from_env, okta_source

    try:
        config = config if config is not None else okta_config_from_env()
        config = dataclasses.replace(config, allow_insecure_http=allow_insecure_http or config.allow_insecure_http)
        config.client().close()  # validates the URL's scheme and the credentials' shape before any work
    except (OktaConfigError, ValueError) as e:
        raise ConfigError(f"Okta: {e}") from None

    def make(synced_at: datetime, progress: Any) -> tuple[Any, Any, Any]:
        client = config.client()
        progress.stats_fn = lambda: {"requests": client.stats.requests, "rate_limited": client.stats.rate_limited,
                                     "retries": client.stats.retries}
        return okta_source(client, synced_at=synced_at, progress=progress.page), None, client.close

    return SourcePlan("okta", make)


def configure(options: SyncOptions) -> SourcePlan:
    return okta_plan(allow_insecure_http=options.allow_insecure_http)


def demo_directory(seed: int, stack: Any, people: list[list[tuple[str, str, bool]]]) -> tuple[SourcePlan, str, Any]:
    """The demo's Okta org from the other demos' people (one list per source, in registry order: the leavers
    are planted among the first source's active accounts, contractors among the others'; `simulator/demo.py`);
    between the demo's two syncs one who left is deleted from Okta."""
    from .simulator import DEMO_API_TOKEN, OktaSimulator, demo_directory as directory
    from .source import OktaConfig

    first, rest = (people[0], people[1:]) if people else ([], [])
    fx, doomed = directory(seed, first, [(e, n) for source in rest for e, n, _ in source])
    sim = stack.enter_context(OktaSimulator(fx))
    return okta_plan(OktaConfig(sim.org_url, api_token=DEMO_API_TOKEN)), sim.org_url, lambda: sim.delete_user(doomed)


SOURCE = SourceSpec(
    name="okta",
    title="Okta",
    namespace="okta",
    relations=("user", "group", "group_member", "app", "app_user"),
    history=("user", "group_member", "app_user"),
    credentials="OKTA_ORG_URL + OKTA_API_TOKEN (or OKTA_CLIENT_ID + OKTA_PRIVATE_KEY_FILE)",
    configure=configure,
    demo_directory=demo_directory,
    directory=True,
)
