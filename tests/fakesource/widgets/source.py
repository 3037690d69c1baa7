"""The widgets dlt source: one resource, `widgets`, from `GET <url>/widgets`."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import dlt


@dlt.source(name="widgets")
def widgets_source(url: str, token: str, synced_at: datetime, session: Any) -> Any:
    @dlt.resource(name="widgets", write_disposition="replace", primary_key="id")
    def widgets() -> Any:
        resp = session.get(f"{url}/widgets", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        resp.raise_for_status()
        yield [{**w, "_synced_at": synced_at} for w in resp.json()["widgets"]]

    return widgets
