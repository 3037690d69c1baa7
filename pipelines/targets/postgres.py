"""The PostgreSQL target: build schemas, one atomic publish for every source, locking, grants.

Layout of the warehouse `--schema S` in its database (`public` keeps the names of earlier releases):

| what                                   | S = public                  | any other S                   |
|----------------------------------------|-----------------------------|-------------------------------|
| dlt's raw tables and `_dlt_*` state    | benchling_raw, paradime_raw, bencher_raw | S__benchling_raw, ... |
| dbt's staging views                    | staging                     | S__staging                    |
| published warehouse relations          | public, paradime, bencher   | S, S__paradime, S__bencher    |
| the build (during a sync)              | public__build, paradime__build, bencher__build | S__build, ...  |
| its staging views and the raw data it loads | staging__build, benchling_raw__build, ... | S__staging__build, ... |

so warehouses in one database share nothing, and readers get only the published schemas.

A sync never loads into the live raw schemas: a source it extracts is first copied (tables and dlt's
state, so the incremental cursor) into `<raw>__build`, dlt loads and merges there, and the publish
moves those tables into `<raw>` with the rest. A failed or killed sync drops its build schemas and so
leaves no raw row and no moved cursor behind; a source not extracted now is read from its live raw
schema.

Publishing moves every relation the build holds from `<x>__build` into `<x>`, for every published
schema, in one transaction (PostgreSQL DDL is transactional): a reader sees the old warehouse or the
new one, never Benchling from one sync and Paradime from another. Views are bound to their tables by
OID, so a view moved with its tables keeps reading them. The SELECT grants of the replaced relations
are copied onto the new ones in the same transaction. Relations that persist across syncs (history,
the run log) are copied into the build first (`carry`), extended there, and swapped with the rest.
What the build and the publish read from (and recreate through) PostgreSQL's catalog is `pgcatalog.py`.
"""
from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Iterator, Sequence

from .. import catalog
from ..catalog import STAGING, WAREHOUSE, relation_label
from .base import Build, Reader, Target, TargetBusyError
from .pgcatalog import _build_name, _carry_view, _dependent_views, _relations, _select_grantees
from .pgconn import PgConfig, PostgresConfigError, PostgresError, _first_line

_LOCK_KEY = 0x77687379  # "whsy": pg_advisory_lock key space for whsync, one lock per warehouse schema


class PostgresBuild(Build):
    def __init__(self, target: "PostgresTarget") -> None:
        self.target = target
        self.cfg = target.cfg
        self.loaded: set[str] = set()  # sources loaded into their build raw schema by this sync
        self._held: Any = None  # the connection `held_open` keeps for the build's own statements

    @contextlib.contextmanager
    def held_open(self) -> Iterator[None]:
        """One connection for the build's own statements in the block (copying raw schemas, carrying the
        persistent relations, the run log's row) instead of a new one for each: a sync made about 30, each a
        server backend and an authentication. dlt and dbt keep their own connections."""
        with self.cfg.connect() as con:
            self._held = con
            try:
                yield
            finally:
                self._held = None

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Any]:
        """The held connection, or a new one closed after the block. Either way what the block did not commit
        is discarded when it ends (as closing a connection discards it), so each block is its own transaction."""
        if self._held is None:
            with self.cfg.connect() as con:
                yield con
            return
        con = self._held
        try:
            yield con
        except BaseException:
            with contextlib.suppress(Exception):  # the block's error is the one to report
                con.rollback()
            raise
        con.rollback()  # nothing if the block committed; otherwise what closing would have discarded

    def destination(self) -> Any:
        import dlt

        # keep `S__benchling_raw` as is (dlt would fold `__` into `_`, and warehouses could collide)
        return dlt.destinations.postgres(credentials=self.cfg.dlt_credentials(),
                                         enable_dataset_name_normalization=False)

    def loader_file_format(self, source: str) -> str | None:
        return "csv" if catalog.arrow(source) else None  # Arrow pages load as csv; rows with dlt's default

    def dbt_env(self) -> dict[str, str]:
        return self.cfg.dbt_env(self.schema(WAREHOUSE))

    def dbt_vars(self) -> dict[str, str]:
        return {**super().dbt_vars(), "staging_schema": _build_name(self.target.schema_name(STAGING))}

    def schema(self, namespace: str) -> str:
        return f"{self.target.schema(namespace)}__build"

    def dataset(self, source: str) -> str:
        live = super().dataset(source)
        return _build_name(live) if source in self.loaded else live

    def load_dataset(self, source: str) -> str:
        """A private copy of the source's raw schema (tables and dlt's state) for dlt to load into."""
        from psycopg2 import sql

        live = super().dataset(source)
        build = _build_name(live)
        with self._connect() as con:
            cur = con.cursor()
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(build)))
            cur.execute(sql.SQL("create schema {}").format(sql.Identifier(build)))
            for name, kind in sorted(_relations(cur, live, None).items()):
                if kind not in ("r", "p"):
                    continue
                cur.execute(sql.SQL("create table {} (like {} including all)").format(
                    sql.Identifier(build, name), sql.Identifier(live, name)))
                cur.execute(sql.SQL("insert into {} select * from {}").format(
                    sql.Identifier(build, name), sql.Identifier(live, name)))
            con.commit()
        self.loaded.add(source)
        return build

    def present_sources(self) -> list[str]:
        rows = self.execute("select schema_name from information_schema.schemata")
        schemas = {r[0] for r in rows}
        return [s for s in catalog.sources() if self.dataset(s) in schemas]

    def execute(self, sql: str, params: Any = None) -> list[tuple]:
        with self._connect() as con:
            cur = con.cursor()
            cur.execute(sql, params)
            rows = cur.fetchall() if cur.description else []
            con.commit()
        return rows

    def carry(self, namespace: str, name: str) -> bool:
        from psycopg2 import sql

        src, dst = self.target.schema(namespace), self.schema(namespace)
        with self._connect() as con:
            cur = con.cursor()
            kind = _relations(cur, src, [name]).get(name)
            if not kind:
                return False
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(dst)))
            if kind == "v":  # a view over carried tables: its definition, re-bound to the build's relations
                _carry_view(cur, src, dst, name)
                con.commit()
                return True
            cur.execute(sql.SQL("create table {} (like {} including all)").format(
                sql.Identifier(dst, name), sql.Identifier(src, name)))
            cur.execute(sql.SQL("insert into {} select * from {}").format(
                sql.Identifier(dst, name), sql.Identifier(src, name)))
            con.commit()
        return True


class PostgresTarget(Target):
    name = "postgres"

    def __init__(self, cfg: PgConfig) -> None:
        self.cfg = cfg

    def label(self) -> str:
        return self.cfg.label()

    def schema_name(self, base: str) -> str:
        return self.cfg.schema_name(base)

    def schema(self, namespace: str) -> str:
        return self.cfg.schema if namespace == WAREHOUSE else self.cfg.schema_name(namespace)

    def redact(self, text: str) -> str:
        return self.cfg.redact(text)

    def dbt_env(self) -> dict[str, str]:
        return self.cfg.dbt_env(self.cfg.schema)

    def check(self) -> None:
        self.cfg.resolve()  # connects once: refuses unusable settings before any API request

    @contextlib.contextmanager
    def lock(self, wait_seconds: float, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """A session advisory lock per warehouse schema, held for the whole sync."""
        with self.cfg.connect(autocommit=True) as con:
            cur = con.cursor()
            deadline = time.monotonic() + wait_seconds
            told = False
            while True:
                cur.execute("select pg_try_advisory_lock(%s, hashtext(%s))", (_LOCK_KEY, self.cfg.schema))
                if cur.fetchone()[0]:
                    break
                if time.monotonic() >= deadline:
                    raise TargetBusyError(
                        f"another whsync run is writing {self.label()}; waited {wait_seconds:.0f}s. "
                        "Try again when it finishes, or raise --wait."
                    )
                if not told and on_wait:
                    on_wait()
                    told = True
                time.sleep(0.2)
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    cur.execute("select pg_advisory_unlock(%s, hashtext(%s))", (_LOCK_KEY, self.cfg.schema))

    def _internal(self) -> list[str]:
        """The live schemas of staging and raw data whose build copies a sync publishes with the rest."""
        raw = catalog.raw_datasets()
        return [self.schema_name(STAGING)] + [self.schema_name(raw[s]) for s in catalog.sources()]

    def _drop_builds(self, create: bool = False) -> None:
        from psycopg2 import sql

        with self.cfg.connect(autocommit=True) as con:
            for ns in catalog.namespaces():
                name = sql.Identifier(f"{self.schema(ns)}__build")
                con.cursor().execute(sql.SQL("drop schema if exists {} cascade").format(name))
                if create:
                    con.cursor().execute(sql.SQL("create schema {}").format(name))
            for live in self._internal():  # raw data and staging views of the build, dlt's merge staging
                for name in (_build_name(live), f"{_build_name(live)}_staging"):
                    con.cursor().execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(name)))

    @contextlib.contextmanager
    def build(self) -> Iterator[PostgresBuild]:
        self._drop_builds(create=True)  # drops what a failed or killed run left
        try:
            yield PostgresBuild(self)
            self.publish()
        finally:
            self._drop_builds()

    # -- the atomic publish -------------------------------------------------------------------------
    def publish(self, lock_wait_seconds: float = 300.0) -> None:
        """Move every relation of the build schemas into the published schemas in one transaction.

        The old relations of the same names are dropped (views first), their SELECT grants copied to
        the new ones. An object of the user's that depends on a warehouse relation (e.g. their own
        view) makes the publish fail and leaves the old warehouse untouched: we never drop it silently.
        The old relations are locked in one statement with a 100 ms lock timeout, retried: a reader
        querying several warehouse relations can never deadlock with the publish.
        """
        import psycopg2

        deadline = time.monotonic() + lock_wait_seconds
        while True:
            try:
                return self._publish_once()
            except psycopg2.errors.LockNotAvailable:
                if time.monotonic() >= deadline:
                    raise PostgresError(
                        f"publishing into {self.label()} gave up after {lock_wait_seconds:.0f}s: readers held the "
                        "warehouse tables the whole time; the previous warehouse is unchanged"
                    ) from None
                time.sleep(0.05)

    def _publish_once(self) -> None:
        import psycopg2
        from psycopg2 import sql

        with self.cfg.connect() as con:
            try:
                cur = con.cursor()
                moves = []  # (build schema, published schema, built relations, old relations)
                # the warehouse namespaces, then staging (views over raw), then the raw data loaded now
                for dest in [self.schema(ns) for ns in catalog.namespaces()] + self._internal():
                    built = _relations(cur, _build_name(dest), None)
                    if built:
                        moves.append((_build_name(dest), dest, built, _relations(cur, dest, list(built))))
                if not moves:
                    return
                old_all = [sql.Identifier(dest, n) for _, dest, _, old in moves for n in old]
                if old_all:  # all old relations at once, waiting at most 100 ms (far below deadlock_timeout)
                    cur.execute("set local lock_timeout = '100ms'")
                    cur.execute(sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(old_all)))
                    cur.execute("set local lock_timeout = 0")
                grants = {dest: _select_grantees(cur, dest, list(old)) for _, dest, _, old in moves}
                # staging views that read old raw tables and are not rebuilt (a `--no-build` sync): dropped
                # with them and made again over the new tables, from their own definitions
                staging = self.schema_name(STAGING)
                cur.execute("set local search_path to pg_catalog")  # view definitions with every name qualified
                kept = _dependent_views(cur, [(dest, n) for _, dest, _, old in moves for n in old], staging)
                if kept:
                    cur.execute(sql.SQL("drop view {}").format(
                        sql.SQL(", ").join(sql.Identifier(staging, n) for n, _ in kept)))
                for views in (True, False):  # the old views, then the old tables, each in one statement
                    names = [sql.Identifier(dest, n) for _, dest, _, old in moves for n, k in old.items()
                             if (k == "v") == views]  # (views over views among them drop together)
                    if names:
                        stmt = "drop view {}" if views else "drop table {}"
                        cur.execute(sql.SQL(stmt).format(sql.SQL(", ").join(names)))
                for build, dest, built, old in moves:
                    cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(dest)))
                    for name, kind in sorted(built.items(), key=lambda kv: kv[1] == "v"):
                        stmt = "alter view {} set schema {}" if kind == "v" else "alter table {} set schema {}"
                        cur.execute(sql.SQL(stmt).format(sql.Identifier(build, name), sql.Identifier(dest)))
                    for name, roles in grants[dest].items():
                        for role in roles:
                            cur.execute(sql.SQL("grant select on {} to {}").format(
                                sql.Identifier(dest, name), sql.Identifier(role)))
                for name, definition in kept:
                    cur.execute(sql.SQL("create view {} as ").format(sql.Identifier(staging, name)) + sql.SQL(definition))
                con.commit()
            except Exception as e:
                con.rollback()
                if isinstance(e, (PostgresError, psycopg2.errors.LockNotAvailable)):
                    raise
                raise PostgresError(f"publishing into {self.label()} failed: {self.redact(_first_line(e))}") from None

    # -- reading and granting -----------------------------------------------------------------------
    @contextlib.contextmanager
    def reader(self) -> Iterator[Reader]:
        with self.cfg.connect(autocommit=True) as con:
            cur = con.cursor()
            cur.execute("set default_transaction_read_only = on")
            cur.execute("select set_config('search_path', %s, false)", (f'"{self.cfg.schema}"',))

            def execute(q: str, params: Any) -> Any:
                c = con.cursor()
                c.execute(q, params)
                return c

            yield Reader(con, execute, self.schema)

    def journal(self, sql: str, params: Any = None) -> None:
        with self.cfg.connect() as con:
            cur = con.cursor()
            cur.execute("select set_config('search_path', %s, true)", (f'"{self.cfg.schema}"',))
            cur.execute(sql, params)
            con.commit()

    def counts(self, relations: Sequence[tuple[str, str]]) -> dict[str, int | None]:
        from psycopg2 import sql

        out: dict[str, int | None] = {}
        with self.cfg.connect(autocommit=True) as con:
            cur = con.cursor()
            for ns, name in relations:
                try:
                    cur.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(self.schema(ns), name)))
                    out[relation_label(ns, name)] = int(cur.fetchone()[0])
                except Exception:  # noqa: BLE001 - missing relation
                    out[relation_label(ns, name)] = None
        return out

    def grant_reader(self, role: str, relations: Sequence[tuple[str, str]]) -> list[str]:
        """USAGE on the published schemas and SELECT on the given relations, nothing else; the grants
        survive later syncs (publish copies them)."""
        from psycopg2 import sql

        with self.cfg.connect() as con:
            cur = con.cursor()
            cur.execute("select 1 from pg_roles where rolname = %s", (role,))
            if not cur.fetchone():
                raise PostgresConfigError(
                    f"role {role!r} does not exist in {self.label()}: create it first, e.g. "
                    f"CREATE ROLE {role} LOGIN PASSWORD '...'"
                )
            if not relations:
                raise PostgresConfigError(f"no warehouse in {self.label()} yet: run `whsync sync --target postgres` first")
            try:
                ident = sql.Identifier(role)
                for schema in dict.fromkeys(self.schema(ns) for ns, _ in relations):
                    cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), ident))
                for ns, name in relations:
                    cur.execute(sql.SQL("grant select on {} to {}").format(sql.Identifier(self.schema(ns), name), ident))
                con.commit()
            except Exception as e:
                con.rollback()
                raise PostgresError(f"granting {role} failed: {self.redact(_first_line(e))}") from None
        return [relation_label(*r) for r in relations]
