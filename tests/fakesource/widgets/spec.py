"""The widgets source's entry in the registry: its configuration from env or .dlt, and its plan."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pipelines import settings
from pipelines.errors import ConfigError
from pipelines.sources import WAREHOUSE, SourcePlan, SourceSpec, SyncOptions


def configure(options: SyncOptions) -> SourcePlan:
    url = settings.config("sources.widgets.url", "WIDGETS_URL")
    token = settings.secret("sources.widgets.token", "WIDGETS_TOKEN")
    if not url or not token:
        raise ConfigError("Widgets is not configured: set WIDGETS_URL and WIDGETS_TOKEN (or url and token "
                          "under [sources.widgets] in .dlt/secrets.toml)")

    def make(synced_at: datetime, progress: Any) -> tuple[Any, Any, Any]:
        from pipelines.http import CountingSession

        from .source import widgets_source

        session = CountingSession()
        progress.stats_fn = session.counts
        return widgets_source(str(url), str(token), synced_at, session), None, session.close

    return SourcePlan("widgets", make)


SOURCE = SourceSpec(
    name="widgets",
    title="Widgets",
    namespace=WAREHOUSE,
    relations=(),  # no dbt models: the raw table `widgets_raw.widgets` is all it adds
    credentials="WIDGETS_URL + WIDGETS_TOKEN",
    configure=configure,
)
