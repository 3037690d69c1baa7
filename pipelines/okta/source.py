"""dlt source for Okta, the company directory: users in every status, groups and their members, apps and
their assigned users.

Raw tables (dataset ``okta_raw``), write disposition ``merge`` (rows that vanish are kept; their
``last_seen_at`` stays at the last sync that listed them):

``users``          key ``id``: id, status, created, activated, status_changed, last_login, last_updated,
                   password_changed, login, email, first_name, last_name (``profile.*``). Listed with
                   ``search=status pr``: DEPROVISIONED users (the people who left) are included.
``groups``         key ``id``: id, name, description, type, created, last_updated, last_membership_updated.
``group_members``  key ``(group_id, user_id)``.
``apps``           key ``id``: id, name, label, status, sign_on_mode, created, last_updated.
``app_users``      key ``(app_id, user_id)``: status, scope (USER: assigned directly; GROUP: through a
                   group), app_username (``credentials.userName``), status_changed, created, last_updated.
``listings``       key ``synced_at``: one row per complete listing of the org (every table above read in
                   full in that sync), with ``org_url`` and ``user_count``. A row whose ``last_seen_at`` is older than the
                   latest listing is gone from Okta (a deleted user, a removed membership or assignment).

Every row has ``last_seen_at`` and ``_whsync_synced_at`` (the sync start, UTC). A users listing with no
user at all fails the sync (:class:`OktaEmptyDirectoryError`): Okta answers 200 and ``[]`` to a token
without an admin role, and an empty directory would mark everyone as deleted.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator

import dlt

from .. import settings
from ..records import checked_rows
from .client import (SCOPES, ApiTokenAuth, OktaClient, OktaEmptyDirectoryError, OktaError, PrivateKeyJwtAuth,
                     normalize_org_url)


PER_BUCKET_WORKERS = 4  # requests in flight per listing of one bucket (each group's members, each app's users)


class ConfigError(ValueError):
    """Okta configuration is missing or incomplete (names the variable to set)."""


@dataclass(frozen=True)
class OktaConfig:
    org_url: str
    api_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    private_key: str | None = field(default=None, repr=False)  # PEM, for the OAuth service app
    key_id: str | None = None
    allow_insecure_http: bool = False

    def client(self, **kwargs: Any) -> OktaClient:
        auth: Any = (ApiTokenAuth(self.api_token) if self.api_token
                     else PrivateKeyJwtAuth(self.client_id or "", self.private_key or "", self.key_id, SCOPES))
        return OktaClient(self.org_url, auth, allow_insecure_http=self.allow_insecure_http, **kwargs)


def okta_config_from_env() -> OktaConfig:
    """``OKTA_ORG_URL`` (or ``sources.okta.org_url`` in .dlt/config.toml); credentials from the environment or
    ``[sources.okta]`` in .dlt/secrets.toml: ``OKTA_API_TOKEN`` (``api_token``), or a service app's
    ``OKTA_CLIENT_ID`` (``client_id``) with ``OKTA_PRIVATE_KEY`` (``private_key``, PEM) or
    ``OKTA_PRIVATE_KEY_FILE`` (``private_key_file``), and optionally ``OKTA_KEY_ID`` (``key_id``)."""
    url = settings.config("sources.okta.org_url", "OKTA_ORG_URL")
    if not url:
        raise ConfigError("Okta is not configured: set OKTA_ORG_URL (e.g. https://acme.okta.com), or org_url "
                          "under [sources.okta] in .dlt/config.toml")
    try:
        url = normalize_org_url(str(url))
    except ValueError as e:
        raise ConfigError(str(e)) from None
    token = settings.secret("sources.okta.api_token", "OKTA_API_TOKEN")
    client_id = settings.config("sources.okta.client_id", "OKTA_CLIENT_ID")
    key = settings.secret("sources.okta.private_key", "OKTA_PRIVATE_KEY")
    key_file = settings.config("sources.okta.private_key_file", "OKTA_PRIVATE_KEY_FILE")
    if not key and key_file:
        try:
            with open(str(key_file), encoding="utf-8") as f:
                key = f.read()
        except OSError as e:
            raise ConfigError(f"OKTA_PRIVATE_KEY_FILE {key_file}: cannot be read ({type(e).__name__}); "
                              "give the service app's private key file (PEM)") from None
    if token:
        return OktaConfig(url, api_token=str(token).strip())
    if client_id and key:
        return OktaConfig(url, client_id=str(client_id), private_key=str(key),
                          key_id=settings.config("sources.okta.key_id", "OKTA_KEY_ID"))
    raise ConfigError("no Okta credentials: set OKTA_API_TOKEN (an API token of a read-only admin), or for an "
                      "OAuth service app OKTA_CLIENT_ID and OKTA_PRIVATE_KEY_FILE (or the same under [sources.okta] "
                      "in .dlt/secrets.toml). Keys are never accepted on the command line.")


def _ts(nullable: bool = True) -> dict[str, Any]:
    return {"data_type": "timestamp", "timezone": True, "nullable": nullable}


def _text(nullable: bool = True) -> dict[str, Any]:
    return {"data_type": "text", "nullable": nullable}


def _cols(**spec: str) -> dict[str, dict[str, Any]]:
    """dlt column hints (a fresh dict each: dlt keeps and amends them), from `name="text"` / `"key"` (text, not
    null) / `"ts"`; every table ends with `last_seen_at` and `_whsync_synced_at`."""
    kinds = {"text": lambda: _text(), "key": lambda: _text(False), "ts": lambda: _ts(),
             "bigint": lambda: {"data_type": "bigint", "nullable": False}}
    return {**{k: kinds[v]() for k, v in spec.items()}, "last_seen_at": _ts(False), "_whsync_synced_at": _ts(False)}


USER_COLUMNS = _cols(id="key", status="key", created="ts", activated="ts", status_changed="ts", last_login="ts",
                     last_updated="ts", password_changed="ts", login="text", email="text", first_name="text",
                     last_name="text")
GROUP_COLUMNS = _cols(id="key", name="text", description="text", type="text", created="ts", last_updated="ts",
                      last_membership_updated="ts")
GROUP_MEMBER_COLUMNS = _cols(group_id="key", user_id="key")
APP_COLUMNS = _cols(id="key", name="text", label="text", status="text", sign_on_mode="text", created="ts",
                    last_updated="ts")
APP_USER_COLUMNS = _cols(app_id="key", user_id="key", status="text", scope="text", app_username="text",
                         status_changed="ts", created="ts", last_updated="ts")
LISTING_COLUMNS = {"synced_at": _ts(False), "org_url": _text(False), "user_count": {"data_type": "bigint", "nullable": False},
                   "_whsync_synced_at": _ts(False)}


def _profile(o: dict[str, Any]) -> dict[str, Any]:
    p = o.get("profile")
    return p if isinstance(p, dict) else {}


@dlt.source(name="okta", max_table_nesting=0)
def okta_source(client: OktaClient, synced_at: datetime | None = None, progress: Any = None) -> Any:
    """Every user (all eight statuses), group with its members, and app with its assigned users."""
    now = (synced_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    sync = {"last_seen_at": now, "_whsync_synced_at": now}
    state: dict[str, Any] = {}

    stop = threading.Event()  # a listing failed: the others stop at their next page

    def page(table: str, rows: list[Any]) -> list[Any]:
        if stop.is_set():
            raise OktaError("Okta: stopped, another listing failed")
        if progress is not None:
            progress(f"okta.{table}", 1, len(rows))
        return rows

    def user_row(u: dict[str, Any]) -> dict[str, Any]:
        p = _profile(u)
        return {"id": u.get("id"), "status": u.get("status"), "created": u.get("created"), "activated": u.get("activated"),
                "status_changed": u.get("statusChanged"), "last_login": u.get("lastLogin"),
                "last_updated": u.get("lastUpdated"), "password_changed": u.get("passwordChanged"),
                "login": p.get("login"), "email": p.get("email"), "first_name": p.get("firstName"),
                "last_name": p.get("lastName"), **sync}

    def users_read() -> list[dict[str, Any]]:
        if "users" not in state:
            rows = [r for pg in client.list_users() for r in checked_rows("Okta", "users", page("users", pg), USER_COLUMNS, user_row)]
            if not rows:
                raise OktaEmptyDirectoryError(
                    f"Okta list users: {client.org_url} returned no users at all (Okta answers 200 and an empty "
                    "list when the API token or service app has no admin role); give it a read-only admin role "
                    "and sync again")
            state["users"] = rows
        return state["users"]

    def group_row(g: dict[str, Any]) -> dict[str, Any]:
        return {"id": g.get("id"), "name": _profile(g).get("name"), "description": _profile(g).get("description"),
                "type": g.get("type"), "created": g.get("created"), "last_updated": g.get("lastUpdated"),
                "last_membership_updated": g.get("lastMembershipUpdated"), **sync}

    def app_row(a: dict[str, Any]) -> dict[str, Any]:
        return {"id": a.get("id"), "name": a.get("name"), "label": a.get("label"), "status": a.get("status"),
                "sign_on_mode": a.get("signOnMode"), "created": a.get("created"), "last_updated": a.get("lastUpdated"),
                **sync}

    def app_user_row(aid: str, au: dict[str, Any]) -> dict[str, Any]:
        cred = au.get("credentials") if isinstance(au.get("credentials"), dict) else {}
        return {"app_id": aid, "user_id": au.get("id"), "status": au.get("status"), "scope": au.get("scope"),
                "app_username": cred.get("userName"), "status_changed": au.get("statusChanged"),
                "created": au.get("created"), "last_updated": au.get("lastUpdated"), **sync}

    def each(ids: list[str], listing: Any) -> list[dict[str, Any]]:
        """`listing(id)` for every id, a few at a time (they share the bucket's budget), rows in id order."""
        with ThreadPoolExecutor(max_workers=PER_BUCKET_WORKERS, thread_name_prefix="okta") as pool:
            return [r for rows in pool.map(listing, ids) for r in rows]

    def groups_read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        groups = [r for pg in client.list_groups() for r in checked_rows("Okta", "groups", page("groups", pg), GROUP_COLUMNS, group_row)]
        members = each([g["id"] for g in groups], lambda gid: [
            r for pg in client.list_group_members(gid)
            for r in checked_rows("Okta", "group members", page("group_members", pg), GROUP_MEMBER_COLUMNS,
                                  lambda u: {"group_id": gid, "user_id": u.get("id"), **sync})])
        return groups, members

    def apps_read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        apps = [r for pg in client.list_apps() for r in checked_rows("Okta", "apps", page("apps", pg), APP_COLUMNS, app_row)]
        assigned = each([a["id"] for a in apps], lambda aid: [
            r for pg in client.list_app_users(aid)
            for r in checked_rows("Okta", "app users", page("app_users", pg), APP_USER_COLUMNS,
                                  lambda au: app_user_row(aid, au))])
        return apps, assigned

    def read_all() -> dict[str, list[dict[str, Any]]]:
        """The whole org, read once before any row is emitted: a table's rows are loaded only when every
        listing succeeded, so `listings` always means "all of it was read". Okta limits each endpoint
        family on its own, so users, groups and apps are read at the same time, each paced by its bucket."""
        if "tables" not in state:
            with ThreadPoolExecutor(max_workers=3, thread_name_prefix="okta-bucket") as pool:
                users_f, groups_f, apps_f = pool.submit(users_read), pool.submit(groups_read), pool.submit(apps_read)
                try:
                    t: dict[str, list[dict[str, Any]]] = {"users": users_f.result()}
                    t["groups"], t["group_members"] = groups_f.result()
                    t["apps"], t["app_users"] = apps_f.result()
                except BaseException:
                    stop.set()
                    raise
            t["listings"] = [{"synced_at": now, "org_url": client.org_url, "user_count": len(t["users"]), "_whsync_synced_at": now}]
            state["tables"] = t
        return state["tables"]

    def resource(name: str, key: Any, columns: dict[str, Any]) -> Any:
        @dlt.resource(name=name, write_disposition="merge", primary_key=key, columns=columns)
        def rows() -> Iterator[Any]:
            yield read_all()[name]
        return rows

    return (resource("users", "id", USER_COLUMNS), resource("groups", "id", GROUP_COLUMNS),
            resource("group_members", ("group_id", "user_id"), GROUP_MEMBER_COLUMNS),
            resource("apps", "id", APP_COLUMNS), resource("app_users", ("app_id", "user_id"), APP_USER_COLUMNS),
            resource("listings", "synced_at", LISTING_COLUMNS))
