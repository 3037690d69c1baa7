"""The source registry: the one list of source systems whsync syncs, and what a source declares.

A source is one folder, `pipelines/<name>/` (its client, dlt source and simulator), whose `spec.py` declares
`SOURCE`, a `SourceSpec`, and one entry in `REGISTRY` below. Everything else reads the registry: the sync
(`pipelines/sync.py` names no source), `--source`'s choices and help, the progress lines, `sync_run`, the
counts, `grant-reader`, the docs site, `whsync demo`, and the targets (raw datasets and namespaces, through
`pipelines/catalog.py`). SOURCES_API.md tells how to add a source.

The registry names packages rather than importing them, so that this module stays plumbing (the targets read
the catalog, and must not import a source): a spec module imports only plumbing at import time and its
source's own modules inside its functions.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Optional

from .errors import ConfigError

# The registry: one line per source, in the order they are synced and listed.
REGISTRY: list[str] = [
    "pipelines.benchling",
    "pipelines.paradime",
    "pipelines.bencher",
    "pipelines.okta",
]

WAREHOUSE = "warehouse"  # the namespace of the Benchling-compatible warehouse (DuckDB `main`, PostgreSQL `--schema`)


@dataclass
class SyncOptions:
    """What the command line says about the sources of a sync; each source reads what applies to it."""

    base_url: Optional[str] = None  # --base-url (Benchling's tenant)
    allow_insecure_http: bool = False
    full_refresh: bool = False
    activity: Any = None  # --activity/--activity-budget (Benchling's `activity.ActivityPolicy`), None: default


@dataclass
class SourcePlan:
    """One source to extract: its name and how to make its dlt source.

    `make(synced_at, progress)` returns `(dlt source, stats, close)`: `stats` has `requests`, `rate_limited` and
    `retries` (or is None: the source's requests are counted by `progress.stats_fn`), `close()` ends its HTTP
    session. `synced_at` is the sync's start, to stamp every raw row with."""

    name: str
    make: Callable[[datetime, Any], tuple[Any, Any, Callable[[], None]]]
    # `whsync demo` only: the demo's accounts as (email, name, active), for a directory source's demo org
    people: list[tuple[str, str, bool]] = field(default_factory=list)


@dataclass(frozen=True)
class SourceSpec:
    """What the sync needs to know about a source system."""

    name: str  # the --source name; raw dataset `<name>_raw`, dlt pipeline `whsync_<name>`, dbt models/staging/<name>/
    title: str  # how messages name it: "extracting from Benchling"
    namespace: str  # the namespace of its warehouse relations: WAREHOUSE, or its own (a schema: `paradime`)
    relations: tuple[str, ...]  # its published warehouse relations, in `namespace` (counts, grants, sync_run)
    # the plan of a sync from configuration (env, .dlt/config.toml, .dlt/secrets.toml) and the command line's
    # options; checks the configuration's shape and raises ConfigError naming what to set, before any work
    configure: Callable[[SyncOptions], SourcePlan] = field(repr=False)
    history: tuple[str, ...] = ()  # its relations with a `<relation>$history` (versions, `macros/history.sql`)
    credentials: str = ""  # how its configuration and secrets are given (env, .dlt/secrets.toml): --source's help
    # `whsync demo`: start its simulator with generated data (seed) in the ExitStack; return (plan, base URL)
    demo: Optional[Callable[[int, Any], tuple[SourcePlan, str]]] = field(default=None, repr=False)
    # a directory's `whsync demo` (Okta): (seed, ExitStack, the other demos' `people`, one list per source) ->
    # (plan, base URL, a change to make between the demo's two syncs: a user who left deleted from the directory)
    demo_directory: Optional[Callable[[int, Any, list[list[tuple[str, str, bool]]]],
                                      tuple[SourcePlan, str, Callable[[], None]]]] = \
        field(default=None, repr=False)
    # the company directory (Okta): where leaving is recorded. Its accounts are not reviewed by default in an
    # access review (`whsync review start` reviews the applications: every source that is not a directory);
    # its facts feed `person`'s directory columns and the campaign's left_company / outside_directory flags
    directory: bool = False
    live_counts: bool = False  # reports its own pages to the progress (else: the rows dlt normalized, per table)
    arrow: bool = False  # yields Arrow tables (loaded as parquet/csv files) rather than rows

    @property
    def raw_dataset(self) -> str:
        return f"{self.name}_raw"


def specs() -> list[SourceSpec]:
    """Every registered source's spec, in registry order."""
    out = []
    for package in REGISTRY:
        spec = importlib.import_module(f"{package}.spec").SOURCE
        if not isinstance(spec, SourceSpec):
            raise TypeError(f"{package}.spec.SOURCE is not a SourceSpec")
        out.append(spec)
    return out


def names() -> list[str]:
    return [s.name for s in specs()]


def reviewed() -> list[str]:
    """The systems an access review campaign reviews by default: the applications (every source but a directory)."""
    return [s.name for s in specs() if not s.directory]


def directories() -> list[str]:
    """The directory sources (Okta): not reviewed by default; their facts are the campaign's directory flags."""
    return [s.name for s in specs() if s.directory]


def spec(name: str) -> SourceSpec:
    for s in specs():
        if s.name == name:
            return s
    raise ConfigError(f"unknown source {name!r}: choose {', '.join(names())} or all")


def choose(requested: list[str] | None) -> list[SourceSpec]:
    """The specs of `--source` values (repeated or comma-separated names, or `all`); default: the first source."""
    wanted: list[str] = []
    for n in requested or [names()[0]]:
        for part in n.split(","):
            part = part.strip().lower()
            wanted.extend(names() if part == "all" else [spec(part).name])
    return [spec(n) for n in dict.fromkeys(wanted)]


def plans_for(requested: list[str] | None, options: SyncOptions | None = None) -> list[SourcePlan]:
    """Source plans from configuration for `--source` values."""
    return [s.configure(options or SyncOptions()) for s in choose(requested)]
