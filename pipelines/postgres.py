"""The PostgreSQL target: connection, schemas, atomic publish and the read-only reporting role.

Layout in the database (one warehouse per database):

- `benchling_raw`      dlt's raw tables and its `_dlt_*` bookkeeping (readers get nothing here);
- `staging`            dbt's staging views (readers get nothing here);
- `<schema>__build`    where dbt builds the warehouse tables and views during a sync;
- `<schema>`           the published warehouse (`public` by default): `user`, `user$raw`, ...

Publishing moves the freshly built `$raw` tables and views from `<schema>__build` into `<schema>`
in one transaction (PostgreSQL DDL is transactional): a reader sees the old warehouse or the new
one, never a mix. Views are bound to their tables by OID, so a view moved with its tables keeps
reading the tables that now live in `<schema>`. The SELECT grants of the replaced objects are
copied onto the new ones inside the same transaction, so a reporting role keeps its access.

The connection comes from `WHSYNC_POSTGRES_DSN` (a libpq URI or `key=value` string) or dlt's
`destination.postgres.credentials`; the password is never printed: every error that leaves this
module goes through `redact()`.
"""
from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import quote

RAW_SCHEMA = "benchling_raw"
STAGING_SCHEMA = "staging"
DSN_ENV = "WHSYNC_POSTGRES_DSN"
_LOCK_KEY = 0x77687379  # "whsy": pg_advisory_lock key space for whsync, one lock per schema name


class PostgresConfigError(ValueError):
    """Missing or malformed connection settings (the message never holds the password)."""


class PostgresError(RuntimeError):
    """A failure talking to the server, with any secret removed from the message."""


@dataclass
class PgConfig:
    host: str = "localhost"
    port: int = 5432
    user: str = "postgres"
    password: str | None = field(default=None, repr=False)
    dbname: str = "postgres"
    schema: str = "public"
    options: dict[str, str] = field(default_factory=dict)  # sslmode etc., passed through to libpq

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_dsn(cls, dsn: str, schema: str = "public") -> "PgConfig":
        import psycopg2.extensions

        try:
            parts = psycopg2.extensions.parse_dsn(dsn.strip())
        except Exception:  # noqa: BLE001 - libpq's message may quote the DSN, password included
            raise PostgresConfigError(
                f"{DSN_ENV} is not a valid PostgreSQL connection string; expected e.g. "
                "postgresql://user:password@host:5432/dbname or 'host=... dbname=... user=...'"
            ) from None
        if "dbname" not in parts:
            raise PostgresConfigError(f"{DSN_ENV} names no database: add /dbname (or dbname=...)")
        try:
            port = int(parts.pop("port", 5432))
        except ValueError:
            raise PostgresConfigError(f"{DSN_ENV} has a port that is not a number") from None
        return cls(
            host=parts.pop("host", "localhost"),
            port=port,
            user=parts.pop("user", os.environ.get("PGUSER", "postgres")),
            password=parts.pop("password", None) or os.environ.get("PGPASSWORD") or None,
            dbname=parts.pop("dbname"),
            schema=check_schema(schema),
            options=parts,
        )

    # -- derived names --------------------------------------------------------------------------
    @property
    def build_schema(self) -> str:
        return f"{self.schema}__build"

    def label(self) -> str:
        """Where the warehouse is, for messages: never the password."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname} (schema {self.schema})"

    # -- connections ----------------------------------------------------------------------------
    def libpq_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"host": self.host, "port": self.port, "user": self.user, "dbname": self.dbname,
                              **self.options}
        if self.password:
            kw["password"] = self.password
        kw.setdefault("connect_timeout", 10)
        kw.setdefault("application_name", "whsync")
        return kw

    def dlt_credentials(self) -> str:
        """A connection string for dlt's postgres destination (a libpq URI)."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        host = self.host
        query = dict(self.options)
        if host.startswith("/"):  # a unix socket directory goes in the query string
            query["host"], host = host, ""
        q = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in query.items())
        return f"postgresql://{auth}@{host}:{self.port}/{quote(self.dbname, safe='')}" + (f"?{q}" if q else "")

    def dbt_env(self, schema: str | None = None) -> dict[str, str]:
        """The WHSYNC_PG_* variables that profiles/profiles.yml reads."""
        env = {
            "WHSYNC_TARGET": "postgres",
            "WHSYNC_PG_HOST": self.host,
            "WHSYNC_PG_PORT": str(self.port),
            "WHSYNC_PG_USER": self.user,
            "WHSYNC_PG_PASSWORD": self.password or "",
            "WHSYNC_PG_DBNAME": self.dbname,
            "WHSYNC_PG_SCHEMA": schema or self.schema,
        }
        if "sslmode" in self.options:
            env["PGSSLMODE"] = self.options["sslmode"]
        return env

    def redact(self, text: str) -> str:
        return redact(text, self.password)

    @contextlib.contextmanager
    def connect(self, autocommit: bool = False) -> Iterator[Any]:
        import psycopg2

        try:
            con = psycopg2.connect(**self.libpq_kwargs())
        except psycopg2.Error as e:
            raise PostgresError(f"cannot connect to {self.label()}: {self.redact(_first_line(e))}") from None
        con.autocommit = autocommit
        try:
            yield con
        finally:
            con.close()


_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,54}$")


def check_schema(schema: str) -> str:
    if not _SCHEMA_RE.match(schema):
        raise PostgresConfigError(
            f"--schema {schema!r} is not a plain lower-case identifier (letters, digits, _; at most 55)"
        )
    if schema in (RAW_SCHEMA, STAGING_SCHEMA) or schema.endswith("__build") or schema.startswith("pg_"):
        raise PostgresConfigError(f"--schema {schema!r} is reserved by whsync or PostgreSQL; pick another name")
    return schema


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__


def redact(text: str, password: str | None) -> str:
    """Remove a password (raw and URL-encoded) and any URI credentials from a message."""
    if password:
        for p in {password, quote(password, safe="")}:
            text = text.replace(p, "***")
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]+):[^@\s]*@", r"\1:***@", text)


def resolve(schema: str = "public") -> PgConfig:
    """The connection from WHSYNC_POSTGRES_DSN, else dlt's destination.postgres.credentials."""
    dsn = os.environ.get(DSN_ENV)
    if dsn:
        return PgConfig.from_dsn(dsn, schema)
    creds: Any = None
    with contextlib.suppress(Exception):
        import dlt

        creds = dlt.secrets.get("destination.postgres.credentials")
    if isinstance(creds, str) and creds:
        return PgConfig.from_dsn(creds, schema)
    if creds and hasattr(creds, "get"):  # a [destination.postgres.credentials] table
        cfg = PgConfig(
            host=str(creds.get("host") or "localhost"),
            port=int(creds.get("port") or 5432),
            user=str(creds.get("username") or creds.get("user") or "postgres"),
            password=(str(creds["password"]) if creds.get("password") else None),
            dbname=str(creds.get("database") or creds.get("dbname") or ""),
            schema=check_schema(schema),
        )
        if not cfg.dbname:
            raise PostgresConfigError("destination.postgres.credentials names no database")
        return cfg
    raise PostgresConfigError(
        f"no PostgreSQL connection: set {DSN_ENV}=postgresql://user:password@host:5432/dbname, or "
        "destination.postgres.credentials in .dlt/secrets.toml"
    )


# -- one writer at a time ---------------------------------------------------------------------------

class PostgresBusyError(RuntimeError):
    pass


@contextlib.contextmanager
def exclusive_lock(cfg: PgConfig, wait_seconds: float, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """A session advisory lock per warehouse schema, held for the whole sync."""
    with cfg.connect(autocommit=True) as con:
        cur = con.cursor()
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            cur.execute("select pg_try_advisory_lock(%s, hashtext(%s))", (_LOCK_KEY, cfg.schema))
            if cur.fetchone()[0]:
                break
            if time.monotonic() >= deadline:
                raise PostgresBusyError(
                    f"another whsync run is writing {cfg.label()}; waited {wait_seconds:.0f}s. "
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
                cur.execute("select pg_advisory_unlock(%s, hashtext(%s))", (_LOCK_KEY, cfg.schema))


# -- build schema and atomic publish ----------------------------------------------------------------

def reset_build_schema(cfg: PgConfig) -> None:
    """Drop what a failed or killed run left in `<schema>__build` (call while holding the lock)."""
    from psycopg2 import sql

    with cfg.connect(autocommit=True) as con:
        con.cursor().execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(cfg.build_schema)))


def publish(cfg: PgConfig, relations: Sequence[str], lock_wait_seconds: float = 300.0) -> None:
    """Move the built relations from `<schema>__build` into `<schema>` in one transaction.

    The old relations of the same names are dropped (views first), their SELECT grants copied to the
    new ones. An object of the user's that depends on a warehouse relation (e.g. their own view)
    makes the publish fail and leaves the old warehouse untouched: we never drop it silently.

    The old relations are locked in one statement with a 100 ms lock timeout, retried: a reader
    querying several warehouse relations can never deadlock with the publish, and waits at most
    for the (short) swap itself.
    """
    import psycopg2

    deadline = time.monotonic() + lock_wait_seconds
    while True:
        try:
            return _publish_once(cfg, relations)
        except psycopg2.errors.LockNotAvailable:
            # Readers hold the old relations: we waited briefly while holding the locks we had, then
            # let go of all of them, so a reader never deadlocks with us. Try again until the deadline.
            if time.monotonic() >= deadline:
                raise PostgresError(
                    f"publishing into {cfg.label()} gave up after {lock_wait_seconds:.0f}s: readers held the "
                    "warehouse tables the whole time; the previous warehouse is unchanged"
                ) from None
            time.sleep(0.05)


def _publish_once(cfg: PgConfig, relations: Sequence[str]) -> None:
    import psycopg2
    from psycopg2 import sql

    build, dest = cfg.build_schema, cfg.schema
    with cfg.connect() as con:
        try:
            cur = con.cursor()
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(dest)))
            built = _relations(cur, build, relations)
            missing = [r for r in relations if r not in built]
            if missing:
                raise PostgresError(f"the build produced no {', '.join(missing)} in schema {build}")
            old = _relations(cur, dest, relations)
            if old:
                # all old relations at once, waiting at most 100 ms (far below deadlock_timeout)
                cur.execute("set local lock_timeout = '100ms'")
                cur.execute(sql.SQL("lock table {} in access exclusive mode").format(
                    sql.SQL(", ").join(sql.Identifier(dest, n) for n in old)))
                cur.execute("set local lock_timeout = 0")
            grants = _select_grantees(cur, dest, list(old))
            # views first: they depend on the tables
            for name, kind in sorted(old.items(), key=lambda kv: kv[1] != "v"):
                stmt = "drop view {}" if kind == "v" else "drop table {}"
                cur.execute(sql.SQL(stmt).format(sql.Identifier(dest, name)))
            for name, kind in sorted(built.items(), key=lambda kv: kv[1] == "v"):
                stmt = "alter view {} set schema {}" if kind == "v" else "alter table {} set schema {}"
                cur.execute(sql.SQL(stmt).format(sql.Identifier(build, name), sql.Identifier(dest)))
            for name, roles in grants.items():
                for role in roles:
                    cur.execute(sql.SQL("grant select on {} to {}").format(
                        sql.Identifier(dest, name), sql.Identifier(role)))
            cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(build)))
            con.commit()
        except Exception as e:
            con.rollback()
            if isinstance(e, (PostgresError, psycopg2.errors.LockNotAvailable)):
                raise
            raise PostgresError(f"publishing into {cfg.label()} failed: {cfg.redact(_first_line(e))}") from None


def _relations(cur: Any, schema: str, names: Sequence[str]) -> dict[str, str]:
    cur.execute(
        "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = any(%s) and c.relkind in ('r', 'v', 'm', 'p')",
        (schema, list(names)),
    )
    return {name: kind for name, kind in cur.fetchall()}


def _select_grantees(cur: Any, schema: str, names: Sequence[str]) -> dict[str, list[str]]:
    if not names:
        return {}
    cur.execute(
        "select c.relname, r.rolname from pg_class c join pg_namespace n on n.oid = c.relnamespace, "
        "aclexplode(c.relacl) a join pg_roles r on r.oid = a.grantee "
        "where n.nspname = %s and c.relname = any(%s) and a.privilege_type = 'SELECT' "
        "and a.grantee <> c.relowner order by 1, 2",
        (schema, list(names)),
    )
    out: dict[str, list[str]] = {}
    for name, role in cur.fetchall():
        out.setdefault(name, []).append(role)
    return out


# -- reading ----------------------------------------------------------------------------------------

def table_counts(cfg: PgConfig, tables: Sequence[str]) -> dict[str, int | None]:
    from psycopg2 import sql

    out: dict[str, int | None] = {}
    with cfg.connect(autocommit=True) as con:
        cur = con.cursor()
        for t in tables:
            try:
                cur.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(cfg.schema, t)))
                out[t] = int(cur.fetchone()[0])
            except Exception:  # noqa: BLE001
                out[t] = None
    return out


# -- the reporting role -----------------------------------------------------------------------------

def grant_reader(cfg: PgConfig, role: str, relations: Sequence[str]) -> list[str]:
    """Let `role` read the published warehouse: USAGE on `<schema>` and SELECT on its views and
    `$raw` tables, nothing else. Grants survive later syncs (publish copies them). Returns the
    relations granted."""
    from psycopg2 import sql

    with cfg.connect() as con:
        cur = con.cursor()
        cur.execute("select 1 from pg_roles where rolname = %s", (role,))
        if not cur.fetchone():
            raise PostgresConfigError(
                f"role {role!r} does not exist in {cfg.label()}: create it first, e.g. "
                f"CREATE ROLE {role} LOGIN PASSWORD '...'"
            )
        present = _relations(cur, cfg.schema, relations)
        missing = [r for r in relations if r not in present]
        if missing:
            raise PostgresConfigError(f"no warehouse in {cfg.label()} yet ({', '.join(missing)} missing): "
                                      "run `whsync sync --target postgres` first")
        try:
            ident = sql.Identifier(role)
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(cfg.schema), ident))
            for name in relations:
                cur.execute(sql.SQL("grant select on {} to {}").format(sql.Identifier(cfg.schema, name), ident))
            con.commit()
        except Exception as e:
            con.rollback()
            raise PostgresError(f"granting {role} failed: {cfg.redact(_first_line(e))}") from None
    return list(relations)


# -- a sync into PostgreSQL -------------------------------------------------------------------------

def present_sources(cfg: PgConfig) -> list[str]:
    """Sources whose raw dataset exists in the database (synced now or before)."""
    from .sync import SOURCES

    with cfg.connect(autocommit=True) as con:
        cur = con.cursor()
        cur.execute("select schema_name from information_schema.schemata")
        schemas = {r[0] for r in cur.fetchall()}
    return [name for name in SOURCES if f"{name}_raw" in schemas]


def _build_and_publish(cfg: PgConfig, progress: Any) -> Any:
    from .dbt import run_dbt
    from .sync import WAREHOUSE_TABLES

    progress.set_stage("building the warehouse (dbt)")
    reset_build_schema(cfg)
    present = present_sources(cfg)
    select = [f"path:models/staging/{name}+" for name in present]
    if not select:
        raise PostgresConfigError(f"no raw data in {cfg.label()}: run `whsync sync --target postgres` first")
    # dbt builds the warehouse into `<schema>__build` (its target schema and the warehouse_schema var)
    result = run_dbt(
        "build", cfg.dbt_env(cfg.build_schema), key=f"postgres|{cfg.label()}",
        extra_args=["--select", *select, "--vars", f'{{"warehouse_schema": "{cfg.build_schema}"}}'],
    )
    progress.set_stage("publishing")
    if "benchling" in present:
        publish(cfg, WAREHOUSE_TABLES)
    reset_build_schema(cfg)
    return result


def sync_postgres(
    *, cfg: PgConfig, plans: list[Any], build: bool, progress: Any, wait_seconds: float = 0.0
) -> Any:
    """Extract every plan into its raw schema with dlt's postgres destination, build with dbt into
    `<schema>__build`, publish atomically into `<schema>`. Errors are returned with the password
    removed."""
    from datetime import datetime, timezone

    import dlt

    from .sync import SyncResult, extract_all

    started = time.monotonic()
    synced_at = datetime.now(timezone.utc)
    dbt_result = None
    build_seconds = 0.0
    try:
        with exclusive_lock(cfg, wait_seconds, on_wait=lambda: progress.line("waiting for another whsync run to finish…")):
            destination = dlt.destinations.postgres(credentials=cfg.dlt_credentials())
            # Arrow pages load into PostgreSQL as csv; the other sources' rows with dlt's default
            totals = extract_all(plans, destination, progress, synced_at, {"benchling": "csv", "*": None})
            extract_seconds = time.monotonic() - started
            if build:
                t0 = time.monotonic()
                dbt_result = _build_and_publish(cfg, progress)
                build_seconds = time.monotonic() - t0
    except Exception as e:
        _reraise_redacted(e, cfg)
        raise
    from .sync import WAREHOUSE_TABLES

    return SyncResult(
        warehouse=cfg.label(),  # type: ignore[arg-type] - a label, never the DSN
        seconds=time.monotonic() - started,
        rows=dict(progress.rows),
        requests=totals.requests,
        rate_limited=totals.rate_limited,
        retries=totals.retries,
        dbt=dbt_result,
        counts=table_counts(cfg, WAREHOUSE_TABLES) if build else {},
        extract_seconds=extract_seconds,
        build_seconds=build_seconds,
    )


def build_postgres(*, cfg: PgConfig, progress: Any, wait_seconds: float = 0.0) -> Any:
    try:
        with exclusive_lock(cfg, wait_seconds):
            return _build_and_publish(cfg, progress)
    except Exception as e:
        _reraise_redacted(e, cfg)
        raise


def _reraise_redacted(e: BaseException, cfg: PgConfig) -> None:
    """If any message in the exception chain holds the password, replace the error by a clean one."""
    if not cfg.password:
        return
    cur: BaseException | None = e
    seen = set()
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if cfg.password in str(cur) or quote(cfg.password, safe="") in str(cur):
            raise PostgresError(cfg.redact(_first_line(cur))) from None
        cur = cur.__cause__ or cur.__context__


def redact_configured(text: str) -> str:
    """Remove the password of the configured connection (WHSYNC_POSTGRES_DSN) from a message."""
    password = None
    dsn = os.environ.get(DSN_ENV)
    if dsn:
        with contextlib.suppress(Exception):
            import psycopg2.extensions

            password = psycopg2.extensions.parse_dsn(dsn.strip()).get("password")
    return redact(text, password)
