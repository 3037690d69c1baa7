"""dlt source for Bencher's organizations and organization members.

Raw tables (dataset ``bencher_raw``), write disposition ``merge``:

``organizations``  key ``uuid``: uuid, name, slug, created, modified, claimed, has_license, sso (json).
                   The ``license`` JWT is credential-like: it is NOT stored, only ``has_license``.
                   ``last_seen_at`` = the sync that last listed it *and read all its members*: it is
                   also the per-organization record of the latest successful member sync.
``members``        key ``(organization_uuid, uuid)``: the 7 JsonMember fields plus organization_uuid,
                   organization_slug. ``role`` verbatim (today only "leader"); ``created``/``modified``
                   are the membership's, not the user's.

``listings``       key ``synced_at``: one row per successful sync, ``scope`` ``all`` (every organization
                   visible to the token was listed) or ``selected`` (``BENCHER_ORGANIZATIONS``: only those),
                   and ``organization_count``. The record that tells current organizations from vanished
                   ones, even when the latest listing was empty.

Every row has ``last_seen_at`` and ``_whsync_synced_at`` (sync start, UTC). Rows that vanish are kept:
a member whose ``last_seen_at`` is older than its organization's ``last_seen_at`` was removed; an
organization whose ``last_seen_at`` is older than the latest ``all`` listing is deleted or no longer
visible (a ``selected`` sync says nothing of the organizations it did not select). A record out of
contract (no ``uuid``, a field of the wrong type) fails the sync naming it.
Pending invites are not listed by the API, so they are not in the warehouse.
Full refresh each sync (volumes are small; the list cannot be sorted by ``modified``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping

import dlt

from .. import settings
from ..records import checked_rows
from .client import BencherClient, BencherError

DEFAULT_BASE_URL = "https://api.bencher.dev"


class ConfigError(ValueError):
    """Bencher configuration is missing or incomplete (names the variable to set)."""


@dataclass(frozen=True)
class BencherConfig:
    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    organizations: list[str] | None = None  # slugs or uuids; None = every visible organization
    allow_insecure_http: bool = False  # plain http to a non-loopback host (the token unencrypted)

    def __repr__(self) -> str:
        return f"BencherConfig(base_url={self.base_url!r}, token='***', organizations={self.organizations!r})"

    __str__ = __repr__

    def client(self, **kwargs: Any) -> BencherClient:
        return BencherClient(self.base_url, self.token, allow_insecure_http=self.allow_insecure_http, **kwargs)


def _secret(key: str) -> Any:
    return settings.secret(key)


def bencher_config_from_env(environ: Mapping[str, str] | None = None) -> BencherConfig:
    """Env: ``BENCHER_API_TOKEN`` (required), ``BENCHER_API_URL`` (default https://api.bencher.dev),
    ``BENCHER_ORGANIZATIONS`` (optional comma list of slugs/uuids). Else dlt secrets ``[sources.bencher]``
    with ``api_token``, ``api_url``, ``organizations`` (list or comma string)."""
    env = os.environ if environ is None else environ
    token = (env.get("BENCHER_API_TOKEN") or "").strip() or _secret("sources.bencher.api_token")
    if not token:
        raise ConfigError(
            "Bencher is not configured: set BENCHER_API_TOKEN (a Bencher API token or user API key), "
            "or api_token under [sources.bencher] in .dlt/secrets.toml"
        )
    url = (env.get("BENCHER_API_URL") or "").strip() or _secret("sources.bencher.api_url") or DEFAULT_BASE_URL
    orgs: Any = (env.get("BENCHER_ORGANIZATIONS") or "").strip() or _secret("sources.bencher.organizations")
    if isinstance(orgs, str):
        orgs = [o.strip() for o in orgs.split(",") if o.strip()]
    return BencherConfig(token=str(token).strip(), base_url=str(url).rstrip("/"), organizations=list(orgs) if orgs else None)


_TS = {"data_type": "timestamp", "timezone": True}
ORGANIZATION_COLUMNS = {
    "uuid": {"data_type": "text", "nullable": False},
    "name": {"data_type": "text", "nullable": True},
    "slug": {"data_type": "text", "nullable": True},
    "created": {**_TS, "nullable": True},
    "modified": {**_TS, "nullable": True},
    "claimed": {**_TS, "nullable": True},
    "has_license": {"data_type": "bool", "nullable": False},
    "sso": {"data_type": "json", "nullable": True},
    "last_seen_at": {**_TS, "nullable": False},
    "_whsync_synced_at": {**_TS, "nullable": False},
}
MEMBER_COLUMNS = {
    "organization_uuid": {"data_type": "text", "nullable": False},
    "organization_slug": {"data_type": "text", "nullable": True},
    "uuid": {"data_type": "text", "nullable": False},
    "name": {"data_type": "text", "nullable": True},
    "slug": {"data_type": "text", "nullable": True},
    "email": {"data_type": "text", "nullable": True},
    "role": {"data_type": "text", "nullable": True},
    "created": {**_TS, "nullable": True},
    "modified": {**_TS, "nullable": True},
    "last_seen_at": {**_TS, "nullable": False},
    "_whsync_synced_at": {**_TS, "nullable": False},
}
LISTING_COLUMNS = {
    "synced_at": {**_TS, "nullable": False},
    "scope": {"data_type": "text", "nullable": False},
    "organization_count": {"data_type": "bigint", "nullable": False},
    "_whsync_synced_at": {**_TS, "nullable": False},
}


@dlt.source(name="bencher", max_table_nesting=0)
def bencher_source(
    config: BencherConfig,
    synced_at: datetime | None = None,
    client_options: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Any:
    """Organizations visible to the token (or ``config.organizations``) and all their members.

    ``progress(resource, pages, rows)`` is told of each page requested (an empty last page too), as
    Benchling's pages are counted: ``bencher.organizations`` and ``bencher.members``.
    """
    now = (synced_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    opts = dict(client_options or {})
    state: dict[str, Any] = {}

    def client() -> BencherClient:
        if "client" not in state:
            state["client"] = config.client(**opts)
            if progress is not None:
                state["client"].on_page = lambda resource, rows: progress(f"bencher.{resource}", 1, rows)
        return state["client"]

    def org_row(o: dict) -> dict:
        return {"uuid": o.get("uuid"), "name": o.get("name"), "slug": o.get("slug"), "created": o.get("created"),
                "modified": o.get("modified"), "claimed": o.get("claimed"), "has_license": bool(o.get("license")),
                "sso": o.get("sso"), "last_seen_at": now, "_whsync_synced_at": now}

    def selected_orgs() -> list[dict]:
        if "orgs" not in state:
            orgs = [o for page in client().list_organizations() for o in page]
            checked_rows("Bencher", "organizations", orgs, ORGANIZATION_COLUMNS, org_row)
            if config.organizations:
                wanted = list(dict.fromkeys(config.organizations))
                chosen = []
                for w in wanted:
                    match = next((o for o in orgs if w in (o.get("slug"), o.get("uuid"))), None)
                    if match is None:
                        raise BencherError(
                            f"Bencher organization '{w}' not found, or not visible to this token "
                            "(check BENCHER_ORGANIZATIONS)"
                        )
                    if match not in chosen:
                        chosen.append(match)
                orgs = chosen
            state["orgs"] = orgs
        return state["orgs"]

    def members_of() -> dict[str, list[dict]]:
        # Members are read before any organization row is emitted, so an organization's
        # last_seen_at always means "all its members were read in that sync".
        if "members" not in state:
            state["members"] = {
                o["uuid"]: checked_rows(
                    "Bencher", "members", [m for page in client().list_members(o.get("slug") or o["uuid"]) for m in page],
                    MEMBER_COLUMNS, lambda m, o=o: member_row(o, m))
                for o in selected_orgs()
            }
        return state["members"]

    def member_row(o: dict, m: dict) -> dict:
        return {"organization_uuid": o["uuid"], "organization_slug": o.get("slug"), "uuid": m.get("uuid"),
                "name": m.get("name"), "slug": m.get("slug"), "email": m.get("email"), "role": m.get("role"),
                "created": m.get("created"), "modified": m.get("modified"),
                "last_seen_at": now, "_whsync_synced_at": now}

    @dlt.resource(name="organizations", write_disposition="merge", primary_key="uuid",
                  columns=ORGANIZATION_COLUMNS)
    def organizations() -> Iterator[Any]:
        members_of()
        yield [org_row(o) for o in selected_orgs()]

    @dlt.resource(name="members", write_disposition="merge",
                  primary_key=("organization_uuid", "uuid"), columns=MEMBER_COLUMNS)
    def members() -> Iterator[Any]:
        by_org = members_of()
        for o in selected_orgs():
            yield by_org[o["uuid"]]

    @dlt.resource(name="listings", write_disposition="merge", primary_key="synced_at", columns=LISTING_COLUMNS)
    def listings() -> Iterator[Any]:
        members_of()  # recorded only once every selected organization and its members were read
        yield {"synced_at": now, "scope": "selected" if config.organizations else "all",
               "organization_count": len(selected_orgs()), "_whsync_synced_at": now}

    return organizations, members, listings
