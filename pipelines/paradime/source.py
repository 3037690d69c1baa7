"""dlt source for Paradime's User Management API: workspaces, active users, invited users.

Raw tables (dataset ``paradime_raw``), all with write disposition ``merge``:

``workspaces``         key ``uid``. The account's workspaces from ``listWorkspaces`` (name, uid), and
                       ``listed_by``: the configured workspace whose key listed it last.
                       ``listWorkspaces`` needs the "Workspace metadata viewer" capability; a key
                       without it gets no rows here (a warning is logged), the user sync still runs.
``active_users``       key ``(workspace, uid)``. ``account_type`` verbatim.
``invited_users``      key ``(workspace, email)``. ``account_type``, ``invite_status`` verbatim.
``workspace_syncs``    key ``(workspace, synced_at)``. One row per configured workspace per
                       successful sync, with the counts read and ``workspaces_listed`` (its key
                       listed the account's workspaces). This is the record that lets models tell
                       current rows from vanished ones: a workspace is listed when the latest listing
                       by its ``listed_by`` workspace saw it, even when that listing was empty.

A record out of contract (an active user without ``uid``, an invite without ``email``, a field of the
wrong type) fails the sync naming the record.

``workspace`` in the user tables is the *configured* workspace name (``ParadimeWorkspaceConfig.name``):
the API's user objects carry no workspace, and the endpoint URL (which embeds an id) is secret, so
it is never stored. ``workspace_uid`` is stored when it is configured.

Vanished rows are kept, never deleted. Every row carries ``last_seen_at`` (the sync that last saw
it) and ``_whsync_synced_at`` (start of the sync that wrote it, UTC). A row whose ``last_seen_at`` is
older than its workspace's latest ``workspace_syncs.synced_at`` has vanished:
- an active user: disabled or removed (the API does not return disabled users, we believe);
- an invited user: the invite was accepted, expired-and-purged or revoked. Invites are kept and
  marked too (not replaced) so a sync never loses the history of who was invited, and a partial
  configuration (syncing one workspace of several) never wipes the others' rows.

Known limit: a table whose resource yields no row in the first sync is not created (dlt 1.31 on
DuckDB cannot load an empty jsonl file, so ``dlt.mark.materialize_table_schema()`` fails with
``loader_file_format="jsonl"``). Declared columns do exist as soon as the table has one row.

One sync covers every configured workspace; if any workspace fails, the whole extract fails (nothing
is loaded) with an error naming that workspace, never its endpoint or credentials.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping, Sequence

import dlt

from .. import settings
from ..records import checked_rows
from .client import ParadimeClient, ParadimeOperationError

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """Paradime configuration is missing or incomplete (names the variable to set)."""


@dataclass(frozen=True)
class ParadimeWorkspaceConfig:
    """Credentials of one Paradime workspace. ``repr`` hides the endpoint and every secret."""

    name: str
    endpoint: str = field(repr=False)
    api_key: str | None = field(default=None, repr=False)
    api_secret: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    workspace_uid: str | None = None
    allow_insecure_http: bool = False  # plain http to a non-loopback host (credentials unencrypted)

    def __repr__(self) -> str:
        auth = "bearer" if self.bearer_token else "key+secret"
        return (
            f"ParadimeWorkspaceConfig(name={self.name!r}, endpoint='***', auth={auth!r}, "
            f"workspace_uid={self.workspace_uid!r})"
        )

    __str__ = __repr__

    def client(self, **kwargs: Any) -> ParadimeClient:
        return ParadimeClient(
            self.endpoint,
            api_key=self.api_key,
            api_secret=self.api_secret,
            bearer_token=self.bearer_token,
            workspace_uid=self.workspace_uid,
            name=self.name,
            allow_insecure_http=self.allow_insecure_http,
            **kwargs,
        )


# -- configuration ---------------------------------------------------------------------------

def _env_prefix(name: str) -> str:
    return "PARADIME_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper() + "__"


def _secret(key: str) -> Any:
    return settings.secret(key)


def _build(name: str, values: Mapping[str, Any], hint: str) -> ParadimeWorkspaceConfig:
    """``values`` keys: api_endpoint, api_key, api_secret, bearer_token, workspace_uid.

    ``hint(field)`` gives the variable name a user must set for that field.
    """
    def get(k: str) -> str | None:
        v = values.get(k)
        return str(v).strip() if v not in (None, "") else None

    endpoint = get("api_endpoint")
    if not endpoint:
        raise ConfigError(
            f"Paradime workspace '{name}': no API endpoint; set {hint.format('API_ENDPOINT', 'api_endpoint')} "
            "(the URL shown next to the API keys in Paradime's settings)"
        )
    token = get("bearer_token")
    key, secret = get("api_key"), get("api_secret")
    if not token and not (key and secret):
        missing = [f for f, v in (("API_KEY", key), ("API_SECRET", secret)) if not v]
        names = " and ".join(hint.format(f, f.lower()) for f in missing)
        raise ConfigError(
            f"Paradime workspace '{name}': no credentials; set {names} "
            f"(or {hint.format('BEARER_TOKEN', 'bearer_token')})"
        )
    return ParadimeWorkspaceConfig(
        name=name, endpoint=endpoint, api_key=key, api_secret=secret,
        bearer_token=token, workspace_uid=get("workspace_uid"),
    )


def paradime_configs_from_env(environ: Mapping[str, str] | None = None) -> list[ParadimeWorkspaceConfig]:
    """Reads Paradime workspace credentials from env, then dlt secrets.

    Single workspace (env): ``PARADIME_API_ENDPOINT`` plus ``PARADIME_API_KEY`` + ``PARADIME_API_SECRET``
    or ``PARADIME_BEARER_TOKEN``; optional ``PARADIME_WORKSPACE_UID`` (required by company tokens
    ``prdm_cmp_...``) and ``PARADIME_WORKSPACE_NAME`` (default ``default``).

    Several workspaces (env): ``PARADIME_WORKSPACES="wsA,wsB"`` and, per name N (upper-cased, other
    characters as ``_``), ``PARADIME_<N>__API_ENDPOINT``, ``PARADIME_<N>__API_KEY``,
    ``PARADIME_<N>__API_SECRET`` or ``PARADIME_<N>__BEARER_TOKEN``, ``PARADIME_<N>__WORKSPACE_UID``.

    dlt secrets (``.dlt/secrets.toml``), used when no env variable is set:
    ``[sources.paradime.workspaces.<name>]`` tables with keys ``api_endpoint``, ``api_key``,
    ``api_secret``, ``bearer_token``, ``workspace_uid``; or those keys directly under
    ``[sources.paradime]`` for one workspace.

    Raises ConfigError naming the missing variable.
    """
    env = os.environ if environ is None else environ
    fields = ("api_endpoint", "api_key", "api_secret", "bearer_token", "workspace_uid")

    names_env = env.get("PARADIME_WORKSPACES", "").strip()
    if names_env:
        names = [n.strip() for n in names_env.split(",") if n.strip()]
        if not names:
            raise ConfigError("PARADIME_WORKSPACES is set but names no workspace (e.g. 'wsA,wsB')")
        out = []
        for n in names:
            p = _env_prefix(n)
            out.append(_build(n, {f: env.get(p + f.upper()) for f in fields}, p + "{0}"))
        _check_unique(out)
        return out

    if any(env.get("PARADIME_" + f.upper()) for f in fields):
        name = env.get("PARADIME_WORKSPACE_NAME", "").strip() or "default"
        return [_build(name, {f: env.get("PARADIME_" + f.upper()) for f in fields}, "PARADIME_{0}")]

    tables = _secret("sources.paradime.workspaces")
    if isinstance(tables, Mapping) and tables:
        out = [
            _build(str(n), dict(v) if isinstance(v, Mapping) else {},
                   f"[sources.paradime.workspaces.{n}] {{1}} in .dlt/secrets.toml")
            for n, v in tables.items()
        ]
        _check_unique(out)
        return out
    single = {f: _secret(f"sources.paradime.{f}") for f in fields}
    if any(single.values()):
        name = str(_secret("sources.paradime.workspace_name") or "default")
        return [_build(name, single, "[sources.paradime] {1} in .dlt/secrets.toml")]

    raise ConfigError(
        "Paradime is not configured: set PARADIME_API_ENDPOINT with PARADIME_API_KEY and "
        "PARADIME_API_SECRET (or PARADIME_BEARER_TOKEN); for several workspaces set "
        "PARADIME_WORKSPACES=wsA,wsB and PARADIME_WSA__API_ENDPOINT etc.; or add "
        "[sources.paradime.workspaces.<name>] tables to .dlt/secrets.toml"
    )


def _check_unique(configs: Sequence[ParadimeWorkspaceConfig]) -> None:
    seen: set[str] = set()
    for c in configs:
        if c.name in seen:
            raise ConfigError(f"Paradime workspace name '{c.name}' is configured twice")
        seen.add(c.name)


# -- dlt source ------------------------------------------------------------------------------

_TS = {"data_type": "timestamp", "timezone": True, "nullable": False}
_SYNC_COLS = {"last_seen_at": dict(_TS), "_whsync_synced_at": dict(_TS)}

WORKSPACE_COLUMNS = {
    "uid": {"data_type": "text", "nullable": False},
    "name": {"data_type": "text", "nullable": True},
    "listed_by": {"data_type": "text", "nullable": True},
    **_SYNC_COLS,
}
ACTIVE_USER_COLUMNS = {
    "workspace": {"data_type": "text", "nullable": False},
    "workspace_uid": {"data_type": "text", "nullable": True},
    "uid": {"data_type": "text", "nullable": False},
    "email": {"data_type": "text", "nullable": True},
    "name": {"data_type": "text", "nullable": True},
    "account_type": {"data_type": "text", "nullable": True},
    **_SYNC_COLS,
}
INVITED_USER_COLUMNS = {
    "workspace": {"data_type": "text", "nullable": False},
    "workspace_uid": {"data_type": "text", "nullable": True},
    "email": {"data_type": "text", "nullable": False},
    "account_type": {"data_type": "text", "nullable": True},
    "invite_status": {"data_type": "text", "nullable": True},
    **_SYNC_COLS,
}
WORKSPACE_SYNC_COLUMNS = {
    "workspace": {"data_type": "text", "nullable": False},
    "workspace_uid": {"data_type": "text", "nullable": True},
    "synced_at": dict(_TS),
    "active_user_count": {"data_type": "bigint", "nullable": False},
    "invited_user_count": {"data_type": "bigint", "nullable": False},
    "workspaces_listed": {"data_type": "bool", "nullable": True},
    "_whsync_synced_at": dict(_TS),
}


@dlt.source(name="paradime", max_table_nesting=0)
def paradime_source(
    configs: Sequence[ParadimeWorkspaceConfig],
    synced_at: datetime | None = None,
    client_options: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Any:
    """Syncs every configured workspace. ``synced_at`` defaults to now (UTC) at source creation.

    ``client_options`` go to :class:`ParadimeClient` (timeout, max_retries, backoff, ...).
    ``progress(resource, pages, rows)`` is told of each answered request, as Benchling's pages are
    counted: ``paradime.users`` (one ``listUsers`` per workspace, its active and invited users) and
    ``paradime.workspaces`` (one ``listWorkspaces`` per workspace).
    """
    if not configs:
        raise ConfigError("no Paradime workspace configured")
    _check_unique(configs)
    now = (synced_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    opts = dict(client_options or {})
    report = progress or (lambda *_: None)
    # One read per workspace per sync, shared by the resources (listUsers is not paginated).
    cache: dict[str, tuple[list[dict], list[dict]]] = {}

    def users_of(cfg: ParadimeWorkspaceConfig) -> tuple[list[dict], list[dict]]:
        if cfg.name not in cache:
            cache[cfg.name] = cfg.client(**opts).list_users()
            report("paradime.users", 1, sum(len(x) for x in cache[cfg.name]))
        return cache[cfg.name]

    listings: dict[str, list[dict] | None] = {}

    def listing_of(cfg: ParadimeWorkspaceConfig) -> list[dict] | None:
        """The account's workspaces as this workspace's key lists them, or None without the capability."""
        if cfg.name not in listings:
            try:
                listed = cfg.client(**opts).list_workspaces()
                report("paradime.workspaces", 1, len(listed))
                listings[cfg.name] = checked_rows(
                    "Paradime", "workspaces", listed, WORKSPACE_COLUMNS,
                    lambda w, cfg=cfg: {"uid": w.get("uid"), "name": w.get("name"), "listed_by": cfg.name,
                                        "last_seen_at": now, "_whsync_synced_at": now})
            except ParadimeOperationError as exc:
                log.warning("%s; skipping the workspace list (needs the 'Workspace metadata "
                            "viewer' capability)", exc)
                listings[cfg.name] = None
        return listings[cfg.name]

    @dlt.resource(name="workspaces", write_disposition="merge", primary_key="uid",
                  columns=WORKSPACE_COLUMNS)
    def workspaces() -> Iterator[Any]:
        seen: set[str] = set()
        for cfg in configs:
            for row in listing_of(cfg) or []:
                if row["uid"] not in seen:
                    seen.add(row["uid"])
                    yield row

    def user_rows(cfg: ParadimeWorkspaceConfig, active: bool) -> list[dict]:
        if active:
            return checked_rows("Paradime", "active_users", users_of(cfg)[0], ACTIVE_USER_COLUMNS, lambda u: {
                "workspace": cfg.name, "workspace_uid": cfg.workspace_uid, "uid": u.get("uid"),
                "email": u.get("email"), "name": u.get("name"), "account_type": u.get("accountType"),
                "last_seen_at": now, "_whsync_synced_at": now})
        return checked_rows("Paradime", "invited_users", users_of(cfg)[1], INVITED_USER_COLUMNS, lambda u: {
            "workspace": cfg.name, "workspace_uid": cfg.workspace_uid, "email": u.get("email"),
            "account_type": u.get("accountType"), "invite_status": u.get("inviteStatus"),
            "last_seen_at": now, "_whsync_synced_at": now})

    @dlt.resource(name="active_users", write_disposition="merge",
                  primary_key=("workspace", "uid"), columns=ACTIVE_USER_COLUMNS)
    def active_users() -> Iterator[Any]:
        for cfg in configs:
            yield user_rows(cfg, active=True)

    @dlt.resource(name="invited_users", write_disposition="merge",
                  primary_key=("workspace", "email"), columns=INVITED_USER_COLUMNS)
    def invited_users() -> Iterator[Any]:
        for cfg in configs:
            yield user_rows(cfg, active=False)

    @dlt.resource(name="workspace_syncs", write_disposition="merge",
                  primary_key=("workspace", "synced_at"), columns=WORKSPACE_SYNC_COLUMNS)
    def workspace_syncs() -> Iterator[Any]:
        rows = []
        for cfg in configs:
            active, invited = user_rows(cfg, active=True), user_rows(cfg, active=False)
            rows.append({"workspace": cfg.name, "workspace_uid": cfg.workspace_uid, "synced_at": now,
                         "active_user_count": len(active), "invited_user_count": len(invited),
                         "workspaces_listed": listing_of(cfg) is not None, "_whsync_synced_at": now})
        yield rows

    return workspaces, active_users, invited_users, workspace_syncs
