"""The SQL behind every list of the access review: files in `examples/queries/`, read as they are.

A file's first comment lines say what it lists; a `-- requires: a, b` line names the relations it reads
(quoted as in the SQL: `"user$raw"`, `paradime."user"`), so the report can tell which lists a warehouse
can answer and what is missing. Parameters are written `$since`, `$until` and `$inactive_since`
(timestamps, UTC): DuckDB binds them as they are; for PostgreSQL they become `%(name)s`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

_REPO_QUERIES = Path(__file__).resolve().parents[2] / "examples" / "queries"
_PACKAGED_QUERIES = Path(__file__).resolve().parent / "queries"  # the wheel carries a copy (pyproject)
QUERY_DIR = _REPO_QUERIES if _REPO_QUERIES.is_dir() else _PACKAGED_QUERIES

_PARAM = re.compile(r"(?<![\w$\"])\$([a-z_]+)\b")


def relation_key(name: str, default_schema: str) -> tuple[str, str]:
    """`paradime."user"` -> ("paradime", "user"); `"user$raw"` -> (default_schema, "user$raw")."""
    parts = [p.strip().strip('"') for p in re.findall(r'"[^"]+"|[^."]+', name.strip())]
    return (parts[0], parts[1]) if len(parts) == 2 else (default_schema, parts[0])


@dataclass(frozen=True)
class QueryFile:
    name: str  # path relative to examples/queries/, e.g. "access_review/changes.sql"

    @property
    def path(self) -> Path:
        return QUERY_DIR / self.name

    @cached_property
    def sql(self) -> str:
        return self.path.read_text()

    @cached_property
    def description(self) -> str:
        lines = []
        for line in self.sql.splitlines():
            if not line.startswith("--"):
                break
            text = line[2:].strip()
            if not text.startswith(("requires:", "parameters:")):
                lines.append(text)
        return " ".join(lines)

    @cached_property
    def requires(self) -> list[str]:
        """The relations named on the `-- requires:` line, else those found in from/join clauses."""
        for line in self.sql.splitlines():
            if line.startswith("-- requires:"):
                return [r.strip() for r in line.split(":", 1)[1].split(",") if r.strip()]
        return re.findall(r'(?:from|join)\s+((?:[a-z_]+\.)?(?:"[^"]+"|[a-z_][\w$]*))', self.sql, re.I)

    @cached_property
    def parameters(self) -> list[str]:
        return list(dict.fromkeys(_PARAM.findall(self.sql)))

    def for_postgres(self) -> str:
        """The SQL with `$name` parameters in psycopg2's `%(name)s` form (literal % doubled)."""
        return _PARAM.sub(r"%(\1)s", self.sql.replace("%", "%%"))

    def bind(self, params: dict[str, Any]) -> dict[str, Any]:
        missing = [p for p in self.parameters if p not in params]
        if missing:
            raise KeyError(f"{self.name} needs parameters {missing}")
        return {p: params[p] for p in self.parameters}


def run_duckdb(con: Any, query: QueryFile, params: dict[str, Any]) -> tuple[list[str], list[tuple]]:
    cur = con.execute(query.sql, query.bind(params) or None)
    cols = [d[0] for d in cur.description]
    return cols, [tuple(r) for r in cur.fetchall()]


def run_postgres(con: Any, query: QueryFile, params: dict[str, Any]) -> tuple[list[str], list[tuple]]:
    cur = con.cursor()
    bound = query.bind(params)
    cur.execute(query.for_postgres() if bound else query.sql, bound or None)
    cols = [d[0] for d in cur.description]
    return cols, [tuple(r) for r in cur.fetchall()]
