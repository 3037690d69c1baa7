"""The SQL behind every list of the access review: files in `examples/queries/`, read as they are.

A file's first comment lines say what it lists; a `-- requires: a, b` line names the relations it reads
(quoted as in the SQL: `"user$raw"`, `paradime."user"`), so the report can tell which lists a warehouse
can answer and what is missing. Parameters are written `$since`, `$until` and `$inactive_since`
(timestamps, UTC), or, as in the other example queries, as a `with params as (...)` CTE of defaults
(`date_from`, `date_to`, `as_of`) that the report replaces with the review period. DuckDB binds them
as they are; for PostgreSQL they become `%(name)s`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable


_PARAM = re.compile(r"(?<![\w$\"])\$([a-z_]+)\b")
_PARAMS_CTE = re.compile(r"with params as \((.*?)\n\)", re.S)


def relation_key(name: str, default_schema: str) -> tuple[str, str]:
    """`paradime."user"` -> ("paradime", "user"); `"user$raw"` -> (default_schema, "user$raw")."""
    parts = [p.strip().strip('"') for p in re.findall(r'"[^"]+"|[^."]+', name.strip())]
    return (parts[0], parts[1]) if len(parts) == 2 else (default_schema, parts[0])


@dataclass(frozen=True)
class QueryFile:
    name: str  # path relative to examples/queries/, e.g. "access_review/changes.sql"

    @property
    def path(self) -> Path:
        from ..project import queries_dir  # a clone's examples/queries/, or the wheel's copy

        return queries_dir() / self.name

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
        """The relations named on the `-- requires:` line, else those in from/join clauses (not CTEs)."""
        for line in self.sql.splitlines():
            if line.startswith("-- requires:"):
                return [r.strip() for r in line.split(":", 1)[1].split(",") if r.strip()]
        ctes = {c.lower() for c in re.findall(r"\b(\w+)\s+as\s*\(", self.sql, re.I)}
        found = re.findall(r'(?:from|join)\s+((?:[a-z_]+\.)?(?:"[^"]+"|[a-z_][\w$]*))', self.sql, re.I)
        return list(dict.fromkeys(r for r in found if r.lower() not in ctes))

    @cached_property
    def runnable(self) -> str:
        """The SQL with its `params` CTE (the example queries' convention: defaults an analyst edits)
        turned into `$name` parameters, so the report binds its review period."""
        m = _PARAMS_CTE.search(self.sql)
        if not m:
            return self.sql
        names = re.findall(r"\bas\s+(\w+)\s*(?=,|\n|$)", m.group(1))
        cols = ", ".join(f"cast(${n} as timestamp) as {n}" for n in names)
        return self.sql[:m.start()] + f"with params as (select {cols})" + self.sql[m.end():]

    @cached_property
    def parameters(self) -> list[str]:
        return list(dict.fromkeys(_PARAM.findall(self.runnable)))

    def for_target(self, schema_of: Callable[[str], str], *, postgres: bool, bound: bool) -> str:
        """The SQL for one warehouse: `paradime.`/`bencher.`/`okta.` qualifiers as that warehouse's real schemas
        (a PostgreSQL `--schema acme` keeps them in `acme__paradime`), `$name` parameters in
        psycopg2's `%(name)s` form on PostgreSQL (literal % doubled)."""
        sql = re.sub(r'(?<![\w$".])(paradime|bencher|okta)\.(?=[a-z_"])',
                     lambda m: f'"{schema_of(m.group(1))}".', self.runnable)
        if postgres and bound:
            sql = _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))
        return sql

    def bind(self, params: dict[str, Any]) -> dict[str, Any]:
        missing = [p for p in self.parameters if p not in params]
        if missing:
            raise KeyError(f"{self.name} needs parameters {missing}")
        return {p: params[p] for p in self.parameters}
