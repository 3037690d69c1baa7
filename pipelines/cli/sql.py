"""`whsync sql`: read-only SQL against the warehouse (the DuckDB file or the PostgreSQL target).

DuckDB: the published file is opened read-only, with external access off (no file is read or
written by SQL: no COPY ... TO, ATTACH, INSTALL, read_csv) and the configuration locked (SQL cannot
turn either back on). A sync writes a private copy and publishes it with `os.replace`, so a query
never waits for a sync and a sync never waits for a query (a query that started before the publish
finishes on the previous warehouse).

PostgreSQL: each statement is checked to be exactly one read (`sqlguard.check_read`: no COMMIT, SET,
BEGIN, DO, second statement, ...) and runs in its own `BEGIN READ ONLY` transaction, rolled back
after it; the search path is the warehouse schema only. `WHSYNC_POSTGRES_READER_DSN`, when set, is
used instead of the owner's connection: with a role made by `whsync grant-reader` the server itself
refuses every write, whatever the SQL.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import json
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import typer

from .common import app

FORMATS = ("table", "csv", "json")
# options shared by the read-only commands (sql, docs)
READ_DUCKDB_OPTION = typer.Option(Path("warehouse.duckdb"), "--duckdb", help="The DuckDB warehouse file to read.")
READ_TARGET_OPTION = typer.Option("duckdb", "--target", help="duckdb (the --duckdb file) or postgres (the database "
                                  "of WHSYNC_POSTGRES_DSN or destination.postgres.credentials).")
READ_SCHEMA_OPTION = typer.Option("public", "--schema", help="PostgreSQL only: the warehouse schema.")
Result = tuple[list[str], list[tuple[Any, ...]]]
# `whsync sql` on DuckDB: SQL can read the warehouse and nothing else, and cannot change that
READ_ONLY_DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                           "enable_external_access": False, "lock_configuration": True}
READER_DSN_ENV = "WHSYNC_POSTGRES_READER_DSN"


class QueryError(RuntimeError):
    """The database refused the query: the message is the database's, in one line."""


def _one_line(message: str) -> str:
    """The database's message up to its first blank line (DuckDB adds the query and a caret after)."""
    head = str(message).strip().split("\n\n", 1)[0]
    return " ".join(part.strip() for part in head.splitlines() if part.strip())


def published_warehouse(path: Path) -> Path:
    """The absolute path of an existing DuckDB warehouse file; FileNotFoundError says what to run."""
    path = path.resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no warehouse at {path}: run `whsync demo` or `whsync sync` first, or pass --duckdb")
    return path


# -- connections: each yields a function that runs one query and returns (columns, rows) ---------

@contextlib.contextmanager
def duckdb_runner(path: Path) -> Iterator[Callable[[str], Result]]:
    import duckdb

    from ..duckdb_storage import DEFAULT_STORAGE_VERSION, file_format, format_of_version, newer, readable_by

    path = published_warehouse(path)
    try:
        con = duckdb.connect(str(path), read_only=True, config=READ_ONLY_DUCKDB_CONFIG)
    except duckdb.Error as e:
        raise QueryError(f"cannot open {path}: {_one_line(str(e))}") from None
    try:
        have, lts = file_format(path), format_of_version(DEFAULT_STORAGE_VERSION)
        if newer(have, lts):
            print(f"whsync: note: {path.name} is in DuckDB storage format {have}, which only {readable_by(have)} "
                  f"open (not the DuckDB drivers of most BI tools); `whsync build --duckdb {path}` converts it "
                  f"to {lts}, keeping everything", file=sys.stderr)

        def run(query: str) -> Result:
            try:
                cur = con.execute(query)
                if cur.description is None:
                    return [], []
                return [d[0] for d in cur.description], cur.fetchall()
            except duckdb.Error as e:
                raise QueryError(_one_line(str(e))) from None

        yield run
    finally:
        con.close()


def reader_config(schema: str) -> Any:
    """The connection of `whsync sql --target postgres`: WHSYNC_POSTGRES_READER_DSN when set (a role
    made by `whsync grant-reader`), else the target's configured connection."""
    import os

    from ..targets.pgconn import PgConfig, resolve

    dsn = os.environ.get(READER_DSN_ENV, "")
    if dsn.strip():
        return PgConfig.from_dsn(dsn, schema, source=READER_DSN_ENV)
    return resolve(schema)


@contextlib.contextmanager
def postgres_runner(schema: str) -> Iterator[Callable[[str], Result]]:
    import psycopg2
    import psycopg2.extensions as ext
    from psycopg2 import sql

    from ..sqlguard import NotReadOnly, check_read

    cfg = reader_config(schema)
    with cfg.connect() as con:
        con.set_session(readonly=True, autocommit=True)  # and each statement in its own read-only transaction
        cur = con.cursor()
        # the lexer of sqlguard reads '...' as PostgreSQL does only with standard_conforming_strings on
        cur.execute("set standard_conforming_strings = on")
        cur.execute(sql.SQL("set search_path to {}").format(sql.Identifier(cfg.schema)))  # this warehouse only

        def run(query: str) -> Result:
            try:
                check_read(query)
            except NotReadOnly as e:
                raise QueryError(str(e)) from None
            try:
                cur.execute("begin transaction read only")
                try:
                    cur.execute(query)
                    if con.info.transaction_status not in (ext.TRANSACTION_STATUS_INTRANS,
                                                           ext.TRANSACTION_STATUS_INERROR):
                        raise QueryError("the statement ended its read-only transaction: refused")
                    if cur.description is None:
                        return [], []
                    return [d.name for d in cur.description], cur.fetchall()
                finally:
                    if con.info.transaction_status != ext.TRANSACTION_STATUS_IDLE:
                        cur.execute("rollback")
            except psycopg2.Error as e:
                msg = e.diag.message_primary or str(e)
                if e.diag.message_hint:
                    msg += f" ({e.diag.message_hint})"
                raise QueryError(cfg.redact(_one_line(msg))) from None

        yield run


# -- output ------------------------------------------------------------------------------------------

def _text(value: Any, null: str) -> str:
    if value is None:
        return null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (uuid.UUID, dt.timedelta)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def write(result: Result, fmt: str, out: Any = None) -> None:
    out = out or sys.stdout
    columns, rows = result
    if not columns:
        return
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(columns)
        w.writerows([_text(v, "") for v in row] for row in rows)
    elif fmt == "json":
        out.write(json.dumps([dict(zip(columns, row)) for row in rows], default=_json_value, ensure_ascii=False,
                             indent=1) + "\n")
    else:
        cells = [[_text(v, "NULL") for v in row] for row in rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
        numeric = [bool(rows) and all(isinstance(r[i], (int, float, decimal.Decimal)) and not isinstance(r[i], bool)
                                      for r in rows if r[i] is not None) for i in range(len(columns))]

        def line(values: list[str]) -> str:
            return " | ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

        out.write(line(columns) + "\n" + "-+-".join("-" * w for w in widths) + "\n")
        for r in cells:
            out.write(line(r) + "\n")
        out.write(f"({len(rows)} row{'' if len(rows) == 1 else 's'})\n")


# -- the command -------------------------------------------------------------------------------------

def _statements(run: Callable[[str], Result], fmt: str) -> None:
    """Statements from standard input, each run as soon as its `;` arrives (the connection is open
    before the first). In a terminal: a prompt, errors printed and the prompt goes on; .quit or Ctrl-D
    leaves. From a pipe: the first error ends the command (exit 1)."""
    tty = sys.stdin.isatty()
    if tty:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()
        print("whsync sql: read-only; end statements with ';', leave with .quit or Ctrl-D", file=sys.stderr)
    buf: list[str] = []
    while True:
        if tty:
            try:
                text = input("whsync> " if not buf else "   ...> ")
            except EOFError:
                print(file=sys.stderr)
                break
            except KeyboardInterrupt:
                buf = []
                print(file=sys.stderr)
                continue
        else:
            text = sys.stdin.readline()
            if not text:
                break
        if not buf and text.strip() in (".quit", ".exit", "\\q"):
            return
        buf.append(text.rstrip("\n"))
        if text.rstrip().endswith(";"):
            query, buf = "\n".join(buf), []
            try:
                write(run(query), fmt)
                sys.stdout.flush()
            except QueryError as e:
                if not tty:
                    raise
                print(f"error: {e}", file=sys.stderr)
    if "".join(buf).strip():
        write(run("\n".join(buf)), fmt)


@app.command("sql")
def sql(
    query: Optional[str] = typer.Argument(
        None, help="The SQL to run (single-quote it in a shell when it names $ columns). Without it: the "
        "statements on standard input, or an interactive prompt in a terminal."),
    fmt: str = typer.Option("table", "--format", "-f", help="Output: table (aligned text), csv (with a "
                            "header row) or json (an array of objects)."),
    duckdb: Path = READ_DUCKDB_OPTION,
    target: str = READ_TARGET_OPTION,
    schema: str = READ_SCHEMA_OPTION,
) -> None:
    """Run a read-only SQL query against the warehouse and print the result.

    Example: whsync sql 'select "archive_purpose$", count(*) from "project$raw" group by 1'.
    A query never blocks a running sync, nor a sync the query (the DuckDB file is replaced atomically).
    """
    from .common import err as _err, explain as _explain

    if fmt not in FORMATS:
        _err(f"--format {fmt!r}: choose table, csv or json", 2)
    if target not in ("duckdb", "postgres"):
        _err(f"--target {target!r}: choose duckdb or postgres", 2)
    try:
        with postgres_runner(schema) if target == "postgres" else duckdb_runner(duckdb) as run:
            if query is None:
                _statements(run, fmt)
            elif query.strip():
                write(run(query), fmt)
            else:
                _err("no query given: pass one as an argument or on standard input", 2)
    except typer.Exit:
        raise
    except FileNotFoundError as e:
        _err(str(e), 2)
    except QueryError as e:
        _err(str(e), 1)
    except Exception as e:  # noqa: BLE001 - connection and configuration failures: one line, the cause
        msg, code = _explain(e)
        _err(msg, code)
