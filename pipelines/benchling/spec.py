"""Benchling as a source of the sync (its entry in `pipelines/sources.py`): the tenant and credentials from
the command line, env or .dlt, and the plan that makes its dlt source (`source.py`) with a client (`client.py`)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..errors import ConfigError
from .. import settings
from ..sources import WAREHOUSE, SourcePlan, SourceSpec, SyncOptions

TABLES = ("user", "principal", "team", "team_member", "project", "folder")


def _default_activity() -> Any:
    from .activity import ActivityPolicy

    return ActivityPolicy()


@dataclass
class BenchlingConfig:
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    allow_insecure_http: bool = False
    timeout_s: float = 60.0  # read timeout per request; a slower answer is retried (bounded)
    activity: Any = field(default_factory=_default_activity)  # users' last activity (`activity.ActivityPolicy`)

    def client(self) -> Any:  # a client.BenchlingClient
        from .client import ApiKeyAuth, BenchlingClient, ClientCredentialsAuth

        try:
            if self.api_key:
                auth: Any = ApiKeyAuth(self.api_key)
            else:
                auth = ClientCredentialsAuth(self.client_id or "", self.client_secret or "")
            return BenchlingClient(self.base_url, auth, allow_insecure_http=self.allow_insecure_http,
                                   timeout=(10.0, self.timeout_s))
        except ValueError as e:  # bad URL, plain http to a remote host, empty key: the user's to fix
            raise ConfigError(str(e)) from None


def _secret(env: str, dlt_key: str) -> str | None:
    v = settings.secret(dlt_key, env)
    return str(v) if v else None


def _config(env: str, dlt_key: str) -> str | None:
    v = settings.config(dlt_key, env)
    return str(v) if v else None


def benchling_config(base_url: str | None, allow_insecure_http: bool = False) -> BenchlingConfig:
    """Resolve the tenant and credentials: --base-url / env / dlt config; key from env or secrets."""
    from .client import normalize_base_url

    url = base_url or _config("BENCHLING_BASE_URL", "sources.benchling.base_url")
    if not url:
        raise ConfigError(
            "no Benchling tenant given: pass --base-url https://<tenant>.benchling.com, or set "
            "BENCHLING_BASE_URL, or sources.benchling.base_url in .dlt/config.toml"
        )
    try:
        normalize_base_url(url)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    api_key = _secret("BENCHLING_API_KEY", "sources.benchling.api_key")
    client_id = _config("BENCHLING_CLIENT_ID", "sources.benchling.client_id")
    client_secret = _secret("BENCHLING_CLIENT_SECRET", "sources.benchling.client_secret")
    if not api_key and not (client_id and client_secret):
        raise ConfigError(
            "no Benchling credentials: set BENCHLING_API_KEY (or sources.benchling.api_key in "
            ".dlt/secrets.toml); for a Benchling app set BENCHLING_CLIENT_ID and "
            "BENCHLING_CLIENT_SECRET instead. Keys are never accepted on the command line."
        )
    config = BenchlingConfig(url, api_key, client_id, client_secret, allow_insecure_http)
    config.client().close()  # validates the URL scheme and credentials' shape before any work
    return config


def benchling_plan(config: BenchlingConfig, full_refresh: bool = False) -> SourcePlan:
    def make(synced_at: datetime, progress: Any) -> tuple[Any, Any, Any]:
        from .activity import ActivityCounts
        from .source import benchling_source

        client = config.client()
        progress.stats_fn = lambda: {
            "requests": client.stats.requests,
            "rate_limited": client.stats.rate_limited,
            "retries": client.stats.retries,
            **client.budget.snapshot(),
        }
        progress.activity = ActivityCounts()
        source = benchling_source(client, synced_at=synced_at, progress=progress.page, full_refresh=full_refresh,
                                  done=progress.resource_done, activity=config.activity,
                                  activity_counts=progress.activity, on_plan=progress.plan, warn=progress.warn)
        return source, client.stats, client.close

    return SourcePlan("benchling", make)


def configure(options: SyncOptions) -> SourcePlan:
    config = benchling_config(options.base_url, options.allow_insecure_http)
    if options.activity is not None:
        config = replace(config, activity=options.activity)
    return benchling_plan(config, options.full_refresh)


# The demo tenant's rate limit: a Benchling app's 300 requests / 30 s (the default 60/30 made the demo's
# 231 requests wait 90 s for nothing). The sync still learns it from the headers and paces to it.
DEMO_RATE_LIMIT = "300/30"


def demo(seed: int, stack: Any) -> tuple[SourcePlan, str]:
    """A generated tenant (200 users: the default activity budget checks them all) in a simulator at a
    Benchling app's rate limit (stated with its address)."""
    from datetime import timezone

    from .simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant

    tenant = generate_tenant(seed=seed, users=200, apps=10, teams=20, projects=50, folders=400,
                             present=datetime.now(timezone.utc))
    sim = stack.enter_context(BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit=DEMO_RATE_LIMIT))
    plan = benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))
    plan.people = [(u["email"], u["name"], not u["isSuspended"]) for u in tenant.users if u.get("email")]
    limit = DEMO_RATE_LIMIT.replace("/", " requests / ")
    return plan, f"{sim.base_url} (rate limit {limit} s, as a Benchling app gets; the sync paces itself to it)"


SOURCE = SourceSpec(
    name="benchling",
    title="Benchling",
    namespace=WAREHOUSE,
    relations=(*TABLES, *(f"{t}$raw" for t in TABLES), "user_activity", "user_activity$raw", "access", "person"),
    history=TABLES,
    credentials="BENCHLING_API_KEY",
    configure=configure,
    demo=demo,
    live_counts=True,
    arrow=True,
)
