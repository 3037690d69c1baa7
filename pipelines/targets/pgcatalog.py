"""What the PostgreSQL target's build and publish read from PostgreSQL's catalog: the relations of a schema,
the views that depend on relations being replaced (to recreate them), a view's definition carried into
the build, and the SELECT grants to copy onto the new relations. Queries only; `postgres.py` decides."""
from __future__ import annotations

from typing import Any, Sequence

_KINDS = "('r', 'v', 'm', 'p')"


def _build_name(schema: str) -> str:
    return f"{schema}__build"


def _relations(cur: Any, schema: str, names: Sequence[str] | None) -> dict[str, str]:
    """{name: relkind} of the tables and views in `schema` (of `names`, or all of them)."""
    cur.execute(
        "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        f"where n.nspname = %s and (%s or c.relname = any(%s)) and c.relkind in {_KINDS}",
        (schema, names is None, list(names or [])),
    )
    return {name: kind for name, kind in cur.fetchall()}


def _dependent_views(cur: Any, relations: Sequence[tuple[str, str]], schema: str) -> list[tuple[str, str]]:
    """(name, definition) of the views in `schema` that read any of `relations` (directly or through
    each other) and are not among them, in an order they can be created in."""
    if not relations:
        return []
    cur.execute("select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where (n.nspname, c.relname) in (select * from unnest(%s::text[], %s::text[]))",
                ([s for s, _ in relations], [n for _, n in relations]))
    dropped = {r[0] for r in cur.fetchall()}
    level: dict[int, int] = {}
    frontier, depth = set(dropped), 0
    while frontier and depth < 50:
        depth += 1
        cur.execute(
            "select distinct v.oid from pg_depend d join pg_rewrite r on r.oid = d.objid "
            "join pg_class v on v.oid = r.ev_class join pg_namespace n on n.oid = v.relnamespace "
            "where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass "
            "and d.refobjid = any(%s::oid[]) and v.oid <> d.refobjid and v.relkind = 'v' and n.nspname = %s",
            (list(frontier), schema))
        frontier = {r[0] for r in cur.fetchall()} - dropped
        for oid in frontier:
            level[oid] = depth
    if not level:
        return []
    cur.execute("select c.oid, c.relname, pg_get_viewdef(c.oid) from pg_class c where c.oid = any(%s::oid[])",
                (list(level),))
    return [(name, definition) for oid, name, definition in sorted(cur.fetchall(), key=lambda r: level[r[0]])]


def _carry_view(cur: Any, src: str, dst: str, name: str) -> None:
    """Recreate view `src.name` in `dst`: its definition printed with `src` as the search path (so the
    relations it reads in `src` are unqualified), created with `dst` as the search path (so they are the
    build's). Carry the relations it reads first."""
    from psycopg2 import sql

    cur.execute("select set_config('search_path', %s, true)", (f'"{src}"',))
    cur.execute("select pg_get_viewdef(c.oid) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = %s and c.relname = %s", (src, name))
    definition = cur.fetchone()[0]
    cur.execute("select set_config('search_path', %s, true)", (f'"{dst}"',))
    cur.execute(sql.SQL("create view {} as ").format(sql.Identifier(dst, name)) + sql.SQL(definition))
    cur.execute("select set_config('search_path', '', true)")


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
