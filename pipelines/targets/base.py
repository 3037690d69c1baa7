"""Where the warehouse lives: one small interface, one module per target.

A `Target` is a published warehouse (a DuckDB file, a PostgreSQL schema). The sync
(`pipelines/sync.py`) only talks to this interface and never names a target:

    target = resolve_target(duckdb=path) / resolve_target(postgres=PgConfig(...))
    with target.lock(wait_seconds):              # one writer per warehouse (--wait)
        with target.build() as b:                # a private build; published atomically on success,
            b.carry(WAREHOUSE, "user$history")   #   discarded on failure. Persistent relations are
            dlt.pipeline(destination=b.destination(), dataset_name=b.dataset("benchling"))  # carried in
            run_dbt("build", b.dbt_env(), target.dbt_key, ["--vars", json.dumps(b.dbt_vars())])
            b.execute(f"insert into {b.relation(WAREHOUSE, 'sync_run')} ...")  # in the same publish
        target.journal("insert into ...")        # outside the swapped relations (failure journal)
    target.counts(relations); target.grant_reader(role, relations)
    with target.reader() as con: con.execute("select ...").fetchall()   # read-only, published data

Relations are named by (namespace, name) pairs (`pipelines/catalog.py`): namespace `warehouse` is
DuckDB's `main` or the PostgreSQL `--schema`; `paradime` and `bencher` are their own schemas. The
target maps namespaces and raw datasets to real schemas (`b.schema(ns)`, `b.relation(ns, name)`,
`b.dataset(source)`) and passes them to dbt as vars (`warehouse_schema`, `paradime_schema`,
`bencher_schema`, `staging_schema`, `<source>_raw_schema`).

What a publish swaps: everything the build holds in its warehouse namespaces (every source's
relations, carried history, the run log), with the readers' SELECT grants carried over.

Adding a third target (Snowflake, MotherDuck): write `targets/<name>.py` with a `Target` and a
`Build` subclass: `destination()` returns the dlt destination, `dbt_env()` the variables
`profiles/profiles.yml` reads (add an output there), `build()` makes a private copy (a database
clone or build schemas) and swaps it in one transaction (Snowflake: `ALTER SCHEMA ... SWAP WITH`),
`lock()` uses a lock the engine offers (a lock table, an advisory lock), `reader()` returns a
DB-API connection. Then add it to `resolve_target` and the CLI's `--target` choices; the sync, the
history models and the run log need no change.
"""
from __future__ import annotations

import abc
import contextlib
from typing import Any, Callable, Iterator, Sequence

from ..errors import ConfigError, WhsyncError
from .. import catalog
from ..catalog import STAGING, WAREHOUSE, relation_label

__all__ = ["Build", "Reader", "Target", "TargetBusyError", "TargetConfigError", "TargetError", "WAREHOUSE"]


class TargetConfigError(ConfigError):
    """The target is misconfigured (which value, what to do): exit 2. Never holds a secret."""


class TargetError(WhsyncError, RuntimeError):
    """A failure of the target (connection, publish): exit 1. Never holds a secret."""


class TargetBusyError(TargetError):
    """Another whsync run holds the warehouse's writer lock."""


class Reader:
    """A read-only connection to the published warehouse with DuckDB's shape:
    `con.execute(sql, params).fetchall()`; unqualified names resolve in the warehouse namespace."""

    def __init__(self, con: Any, execute: Callable[[str, Any], Any], schema: Callable[[str], str]) -> None:
        self.con = con
        self._execute = execute
        self.schema = schema  # namespace -> real schema name

    def execute(self, sql: str, params: Any = None) -> Any:
        return self._execute(sql, params)


class Build(abc.ABC):
    """A private copy of the warehouse being loaded and built. Writes here are invisible to
    readers until the `Target.build()` block ends without an error."""

    target: "Target"

    # -- where dlt loads -------------------------------------------------------------------------
    @abc.abstractmethod
    def destination(self) -> Any:
        """The dlt destination to load raw data into."""

    def dataset(self, source: str) -> str:
        """The dlt dataset (schema) of a source's raw data."""
        return self.target.schema_name(catalog.raw_datasets()[source])

    def load_dataset(self, source: str) -> str:
        """The dlt dataset this sync loads the source into (call once, before loading it): where a
        target's raw data is not already inside the build, a private copy published with the build."""
        return self.dataset(source)

    @abc.abstractmethod
    def loader_file_format(self, source: str) -> str | None:
        """dlt's loader file format for a source on this target (None: dlt's default)."""

    # -- how dbt is pointed ----------------------------------------------------------------------
    @abc.abstractmethod
    def dbt_env(self) -> dict[str, str]:
        """The environment `profiles/profiles.yml` reads to reach this build."""

    def dbt_vars(self) -> dict[str, str]:
        """Where every model goes and every source is read, for `dbt --vars`."""
        out = {f"{ns}_schema": self.schema(ns) for ns in catalog.namespaces()}
        out["staging_schema"] = self.target.schema_name("staging")
        out.update({f"{src}_raw_schema": self.dataset(src) for src in catalog.sources()})
        return out

    # -- what is in the build --------------------------------------------------------------------
    @abc.abstractmethod
    def schema(self, namespace: str) -> str:
        """The real schema where the build holds a namespace's relations."""

    def relation(self, namespace: str, name: str) -> str:
        """A quoted, qualified relation name in the build, for SQL run with `execute`."""
        return f'"{self.schema(namespace)}"."{name}"'

    @abc.abstractmethod
    def present_sources(self) -> list[str]:
        """Sources whose raw data is in the build (loaded now or by an earlier sync)."""

    @abc.abstractmethod
    def execute(self, sql: str, params: Any = None) -> list[tuple]:
        """Run SQL in the build (published with it); returns the rows, if any."""

    @abc.abstractmethod
    def carry(self, namespace: str, name: str) -> bool:
        """Make the published relation `name` (if any) available in the build, so that it is
        extended there (e.g. a dbt incremental `$history` model, the `sync_run` log) and published
        with the rest. Returns whether the published warehouse had it. Call before dbt runs."""

    @contextlib.contextmanager
    def held_open(self) -> Iterator[None]:
        """Around dlt's loads, and then around dbt's build and the publish (never around both): the build's
        connections may share what one of them opened, where a target pays for opening it (a DuckDB file, a
        PostgreSQL connection). By default nothing is held."""
        yield


class Target(abc.ABC):
    """A published warehouse and how to replace it atomically."""

    name: str  # "duckdb", "postgres": for messages and the dbt profile output
    notify: Callable[[str], None] | None = None  # where a target reports what it does on its own (a conversion)

    @abc.abstractmethod
    def label(self) -> str:
        """Where the warehouse is, for messages: never a secret."""

    @property
    def dbt_key(self) -> str:
        """Keys dbt's per-warehouse work dir (partial parsing is reused between runs)."""
        return f"{self.name}|{self.label()}"

    def schema_name(self, base: str) -> str:
        """The real name of one of this warehouse's internal schemas (`benchling_raw`, `staging`)."""
        return base

    def check(self) -> None:
        """Refuse bad configuration up front (TargetConfigError), before any API request."""

    @abc.abstractmethod
    def lock(self, wait_seconds: float, on_wait: Callable[[], None] | None = None) -> contextlib.AbstractContextManager:
        """Hold the one-writer lock of this warehouse; wait up to `wait_seconds` for another run."""

    @abc.abstractmethod
    def build(self) -> contextlib.AbstractContextManager[Build]:
        """A private build (call while holding the lock): published atomically when the block
        ends, discarded if it raises. Leftovers of killed runs are removed first."""

    @abc.abstractmethod
    def reader(self) -> contextlib.AbstractContextManager[Reader]:
        """A read-only connection to the published warehouse."""

    @abc.abstractmethod
    def journal(self, sql: str, params: Any = None) -> None:
        """Write to the published warehouse outside the swapped relations, in its own transaction
        (a failure journal). Call while holding the lock."""

    @abc.abstractmethod
    def grant_reader(self, role: str, relations: Sequence[tuple[str, str]]) -> list[str]:
        """Let `role` read the given published relations and nothing else; returns their labels."""

    @abc.abstractmethod
    def counts(self, relations: Sequence[tuple[str, str]]) -> dict[str, int | None]:
        """Row counts of published relations by label (None: missing)."""

    def dbt_env(self) -> dict[str, str]:
        """The environment `profiles/profiles.yml` reads to reach the published warehouse (docs)."""
        raise NotImplementedError(f"{self.name} cannot point dbt at its published warehouse")

    def dbt_vars(self) -> dict[str, str]:
        """Where the published warehouse's relations and sources are, for `dbt --vars` (docs)."""
        out = {f"{ns}_schema": self.schema(ns) for ns in catalog.namespaces()}
        out["staging_schema"] = self.schema_name(STAGING)
        out.update({f"{src}_raw_schema": self.schema_name(raw) for src, raw in catalog.raw_datasets().items()})
        return out

    def redact(self, text: str) -> str:
        """Remove any secret of this target from a message."""
        return text

    @contextlib.contextmanager
    def secret_safe(self) -> Iterator[None]:
        """Re-raise any error whose message (or cause's) holds a secret of this target as a clean one."""
        try:
            yield
        except Exception as e:
            cur: BaseException | None = e
            seen: set[int] = set()
            while cur is not None and id(cur) not in seen:
                seen.add(id(cur))
                text = str(cur)
                if self.redact(text) != text:
                    first = text.strip().splitlines()[0] if text.strip() else type(cur).__name__
                    raise TargetError(self.redact(first)) from None
                cur = cur.__cause__ or cur.__context__
            raise

    def published_relations(self) -> list[tuple[str, str]]:
        """The catalog relations (tables and their history) of every source present in the published
        warehouse, the run log `sync_run` (for freshness tiles) and every other persistent relation (the
        review campaigns)."""
        history = catalog.history_relations()
        rels = [r for src, rs in catalog.source_relations().items() for r in rs + history[src]] + [(WAREHOUSE, "sync_run")]
        rels += [r for r in catalog.persistent_relations() + catalog.audit_relations() if r not in rels]
        counts = self.counts(rels)
        return [r for r in rels if counts.get(relation_label(*r)) is not None]
