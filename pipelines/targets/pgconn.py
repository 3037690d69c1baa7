"""PostgreSQL connection settings, resolved once by libpq and shared by whsync, dlt and dbt.

whsync connects wherever `psql` with the same settings would: the connection string (a URI or
`key=value` string from `WHSYNC_POSTGRES_DSN` or dlt's `destination.postgres.credentials`), or none at
all and the standard `PG*` variables. libpq itself applies its rules (PGHOST/PGPORT/PGUSER/PGDATABASE,
PGPASSWORD, ~/.pgpass and PGPASSFILE, `service=` with PGSERVICEFILE, unix sockets, sslmode and the
certificate files): `PgConfig.resolve()` connects once and reads back what libpq used
(`get_dsn_parameters()`, `info.password`). Those resolved parameters are then given to dlt (a
key=value conninfo; no password needed), to dbt (the profile's host/port/user/password/dbname plus
libpq's own environment variables for the rest) and to whsync's own connections. A parameter that
one of them cannot take is refused up front (exit 2), naming it. No message holds the password.
"""
from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..redact import DSN_ENV, redact, redact_configured  # noqa: F401 - the secret-removal of every message
from .base import TargetConfigError, TargetError

# libpq's parameters that dbt can receive through libpq's environment variables (dbt's profile only
# has host/port/user/password/dbname and a few more; libpq reads these for everything else).
_ENV_OF = {
    "hostaddr": "PGHOSTADDR", "options": "PGOPTIONS", "sslmode": "PGSSLMODE", "sslnegotiation": "PGSSLNEGOTIATION",
    "sslcompression": "PGSSLCOMPRESSION", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "sslcertmode": "PGSSLCERTMODE",
    "sslrootcert": "PGSSLROOTCERT", "sslcrl": "PGSSLCRL", "sslcrldir": "PGSSLCRLDIR", "sslsni": "PGSSLSNI",
    "requirepeer": "PGREQUIREPEER", "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION", "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME", "gsslib": "PGGSSLIB", "gssdelegation": "PGGSSDELEGATION",
    "channel_binding": "PGCHANNELBINDING", "require_auth": "PGREQUIREAUTH",
    "target_session_attrs": "PGTARGETSESSIONATTRS", "load_balance_hosts": "PGLOADBALANCEHOSTS",
    "client_encoding": "PGCLIENTENCODING",
}
_CORE = ("host", "port", "user", "dbname")
# consumed by the resolution itself (the password they lead to is read back) or harmless to drop
_CONSUMED = {"passfile", "service", "servicefile", "application_name", "fallback_application_name", "connect_timeout"}
# what libpq reports for a parameter nobody set: not passed on
_DEFAULTS = {
    "options": "", "sslmode": "prefer", "sslnegotiation": "postgres", "sslcompression": "0", "sslcertmode": "allow",
    "sslsni": "1", "ssl_min_protocol_version": "TLSv1.2", "gssencmode": "prefer", "krbsrvname": "postgres",
    "gssdelegation": "0", "target_session_attrs": "any", "load_balance_hosts": "disable", "channel_binding": "prefer",
}


class PostgresConfigError(TargetConfigError):
    """Missing or unusable connection settings (the message never holds the password)."""


class PostgresError(TargetError):
    """A failure talking to the server, with any secret removed from the message."""


@dataclass
class PgConfig:
    dsn: str = field(default="", repr=False)  # as given (may hold a password); "" = libpq's PG* variables
    schema: str = "public"
    source: str = DSN_ENV  # where the settings came from, for messages
    _params: dict[str, str] | None = field(default=None, repr=False, compare=False)
    _password: str | None = field(default=None, repr=False, compare=False)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_dsn(cls, dsn: str, schema: str = "public", source: str = DSN_ENV) -> "PgConfig":
        cfg = cls(dsn.strip(), check_schema(schema), source)
        cfg.given()  # validates the syntax
        return cfg

    def given(self) -> dict[str, str]:
        """The parameters as written (libpq's parser, no defaults applied)."""
        import psycopg2.extensions

        try:
            return psycopg2.extensions.parse_dsn(self.dsn)
        except Exception:  # noqa: BLE001 - libpq's message may quote the DSN, password included
            raise PostgresConfigError(
                f"{self.source} is not a valid PostgreSQL connection string; expected e.g. "
                "postgresql://user@host:5432/dbname or 'host=... dbname=... user=...'"
            ) from None

    # -- resolution by libpq --------------------------------------------------------------------------
    def resolve(self) -> "PgConfig":
        """Connect once as libpq would and keep the parameters it used (cached)."""
        if self._params is not None:
            return self
        import psycopg2

        given = self.given()
        unsupported = sorted(k for k in given if k not in _ENV_OF and k not in _CORE and k not in _CONSUMED
                             and k != "password")
        if unsupported:
            raise PostgresConfigError(
                f"{self.source} sets {', '.join(unsupported)}, which dbt cannot pass to PostgreSQL "
                "(it has no profile field or libpq environment variable): remove it")
        extra = {"connect_timeout": 10} if "connect_timeout" not in given and not os.environ.get("PGCONNECT_TIMEOUT") else {}
        try:
            con = psycopg2.connect(self.dsn, application_name="whsync", **extra)
        except psycopg2.Error as e:
            raise self._connect_error(e) from None
        try:
            effective = con.get_dsn_parameters()
            self._password = con.info.password or None
            params = {"host": con.info.host, "port": str(con.info.port), "user": effective.get("user", ""),
                      "dbname": effective.get("dbname", "")}
        finally:
            con.close()
        for k, v in effective.items():
            if k in _CORE or k in _CONSUMED or v in (None, "") or _DEFAULTS.get(k) == v:
                continue
            if k not in _ENV_OF:
                raise PostgresConfigError(
                    f"the PostgreSQL settings set {k} (from {self.source}, a service file or PG* variables), "
                    "which dbt cannot pass to PostgreSQL: remove it")
            params[k] = v
        self._params = params
        return self

    def _connect_error(self, e: Exception) -> TargetError:
        """libpq's refusal as one line: which value, what to do; never the password."""
        msg = self.redact(_libpq_cause(e))
        where = self.label()
        low = msg.lower()
        if "no password supplied" in low:
            return PostgresConfigError(
                f"the server at {where} asks for a password and none was given: put it in the DSN, "
                "PGPASSWORD or ~/.pgpass (PGPASSFILE)")
        if "password authentication failed" in low:
            return PostgresError(f"cannot connect to {where}: {msg}; check the password in the DSN, PGPASSWORD "
                                 "or ~/.pgpass (PGPASSFILE)")
        m = re.search(r'database "([^"]*)" does not exist', msg)
        if m:
            return PostgresError(f"cannot connect to {where}: database {m.group(1)!r} does not exist; create it "
                                 f"(createdb {m.group(1)}) or name an existing one")
        if low.startswith(("invalid ", "definition of service", "service file")) or "invalid" in low.split(":")[0]:
            return PostgresConfigError(f"{self.source}: {msg}")
        return PostgresError(f"cannot connect to {where}: {msg}")

    # -- derived names --------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, str]:
        return dict(self.resolve()._params or {})

    def _shown(self, key: str, env: str, default: str) -> str:
        if self._params is not None:
            return self._params.get(key) or default
        try:
            given = self.given()
        except PostgresConfigError:
            given = {}
        return given.get(key) or os.environ.get(env) or default

    @property
    def host(self) -> str:
        return self._shown("host", "PGHOST", "localhost")

    @property
    def port(self) -> int:
        try:
            return int(self._shown("port", "PGPORT", "5432"))
        except ValueError:
            return 5432

    @property
    def user(self) -> str:
        return self._shown("user", "PGUSER", "")

    @property
    def dbname(self) -> str:
        return self._shown("dbname", "PGDATABASE", "")

    @property
    def password(self) -> str | None:
        return self._password

    def schema_name(self, base: str) -> str:
        """One of this warehouse's own schemas: today's names for `public` (`benchling_raw`,
        `staging`, `paradime`, ...), `<schema>__<name>` for any other warehouse schema."""
        return base if self.schema == "public" else f"{self.schema}__{base}"

    def label(self) -> str:
        """Where the warehouse is, for messages: never the password."""
        user = f"{self.user}@" if self.user else ""
        host = self.host
        where = f"{host}:{self.port}" if not host.startswith("/") else f"[{host}]:{self.port}"
        return f"postgresql://{user}{where}/{self.dbname} (schema {self.schema})"

    # -- what each library gets -------------------------------------------------------------------
    def libpq_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = dict(self.params)
        if self._password:
            kw["password"] = self._password
        kw.setdefault("connect_timeout", 10)
        kw.setdefault("application_name", "whsync")
        return kw

    def dlt_credentials(self) -> Any:
        """dlt's postgres credentials from the resolved parameters: no password needed (trust,
        peer, certificates), unix sockets and every libpq parameter passed through."""
        from .pgdlt import libpq_credentials

        return libpq_credentials(self.params, self._password, _CORE)

    def dbt_env(self, schema: str | None = None) -> dict[str, str]:
        """The WHSYNC_PG_* variables profiles/profiles.yml reads, and libpq's own variables for the
        parameters dbt's profile has no field for (its psycopg2 connection reads them)."""
        p = self.params
        env = {
            "WHSYNC_TARGET": "postgres",
            "WHSYNC_PG_HOST": p["host"],
            "WHSYNC_PG_PORT": p["port"],
            "WHSYNC_PG_USER": p["user"],
            "WHSYNC_PG_PASSWORD": self._password or "",
            "WHSYNC_PG_DBNAME": p["dbname"],
            "WHSYNC_PG_SCHEMA": schema or self.schema,
        }
        env.update({_ENV_OF[k]: v for k, v in p.items() if k in _ENV_OF})
        return env

    def redact(self, text: str) -> str:
        text = redact(text, self._password)
        with contextlib.suppress(Exception):
            text = redact(text, self.given().get("password"))
        return redact(text, os.environ.get("PGPASSWORD"))

    @contextlib.contextmanager
    def connect(self, autocommit: bool = False) -> Iterator[Any]:
        import psycopg2

        try:
            con = psycopg2.connect(**self.libpq_kwargs())
        except psycopg2.Error as e:
            raise self._connect_error(e) from None
        con.autocommit = autocommit
        try:
            yield con
        finally:
            con.close()


_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
# the schemas of the `public` warehouse, whose names predate several warehouses per database
_RESERVED = {"benchling_raw", "paradime_raw", "bencher_raw", "staging", "paradime", "bencher", "information_schema",
             "benchling_raw_staging", "paradime_raw_staging", "bencher_raw_staging",
             "okta_raw", "okta", "okta_raw_staging"}  # dlt's merge staging


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


def _libpq_cause(e: BaseException) -> str:
    """libpq's innermost message: `connection to server at "h", port 5432 failed: FATAL:  x` -> `x`."""
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
    line = lines[0] if lines else type(e).__name__
    line = re.sub(r'^connection to server (at|on) .*? failed:\s*', "", line)
    line = re.sub(r"^(FATAL|ERROR):\s*", "", line).strip() or line
    if len(lines) > 1 and lines[1].startswith("Is the server running"):  # libpq's own hint, kept
        line += "; is the server running and accepting connections there?"
    return line


_PG_VARS = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE")


def resolve(schema: str = "public") -> PgConfig:
    """The connection from WHSYNC_POSTGRES_DSN, else dlt's destination.postgres.credentials, else
    libpq's PG* variables (PGHOST, PGUSER, PGDATABASE, PGSERVICE, ...)."""
    dsn = os.environ.get(DSN_ENV)
    if dsn and dsn.strip():
        return PgConfig.from_dsn(dsn, schema)
    creds: Any = None
    with contextlib.suppress(Exception):
        import dlt

        creds = dlt.secrets.get("destination.postgres.credentials")
    if isinstance(creds, str) and creds:
        return PgConfig.from_dsn(creds, schema, source="destination.postgres.credentials")
    if creds and hasattr(creds, "get"):  # a [destination.postgres.credentials] table
        from psycopg2.extensions import make_dsn

        kw = {"host": creds.get("host"), "port": creds.get("port"), "user": creds.get("username") or creds.get("user"),
              "password": creds.get("password"), "dbname": creds.get("database") or creds.get("dbname")}
        return PgConfig.from_dsn(make_dsn(**{k: str(v) for k, v in kw.items() if v}), schema,
                                 source="destination.postgres.credentials")
    if any(os.environ.get(v) for v in _PG_VARS):
        return PgConfig.from_dsn("", schema, source="the PG* environment variables")
    raise PostgresConfigError(
        f"no PostgreSQL connection: set {DSN_ENV} (e.g. postgresql://user@host:5432/dbname or "
        "'service=NAME'), destination.postgres.credentials in .dlt/secrets.toml, or PGHOST/PGUSER/PGDATABASE"
    )
