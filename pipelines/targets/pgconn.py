"""PostgreSQL connection settings for whsync, dlt and dbt, resolved once (`resolve`), and redaction:
no message that leaves this module holds the password."""
from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import quote

from . import TargetConfigError, TargetError

DSN_ENV = "WHSYNC_POSTGRES_DSN"


class PostgresConfigError(TargetConfigError):
    """Missing or malformed connection settings (the message never holds the password)."""


class PostgresError(TargetError):
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
    def schema_name(self, base: str) -> str:
        """One of this warehouse's own schemas: today's names for `public` (`benchling_raw`,
        `staging`, `paradime`, ...), `<schema>__<name>` for any other warehouse schema."""
        return base if self.schema == "public" else f"{self.schema}__{base}"

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


_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
# the schemas of the `public` warehouse, whose names predate several warehouses per database
_RESERVED = {"benchling_raw", "paradime_raw", "bencher_raw", "staging", "paradime", "bencher", "information_schema",
             "benchling_raw_staging", "paradime_raw_staging", "bencher_raw_staging"}  # dlt's merge staging


def check_schema(schema: str) -> str:
    if not _SCHEMA_RE.match(schema):
        raise PostgresConfigError(
            f"--schema {schema!r} is not a plain lower-case identifier (letters, digits, _; at most 40)"
        )
    if schema in _RESERVED or "__" in schema or schema.startswith("pg_"):
        raise PostgresConfigError(
            f"--schema {schema!r} is reserved by whsync or PostgreSQL (no '__', not a name of the public "
            "warehouse's own schemas); pick another name")
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


def redact_configured(text: str) -> str:
    """Remove the password of the configured connection (WHSYNC_POSTGRES_DSN) from a message."""
    password = None
    dsn = os.environ.get(DSN_ENV)
    if dsn:
        with contextlib.suppress(Exception):
            import psycopg2.extensions

            password = psycopg2.extensions.parse_dsn(dsn.strip()).get("password")
    return redact(text, password)
