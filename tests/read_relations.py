"""Print every relation of a DuckDB file as JSON: {"format": ..., "relations": {"schema.name": rows}}.

A standalone script (no whsync import): the tests run it under other DuckDB releases installed in
throwaway environments, and under whsync's own DuckDB, and compare the output. The file is opened
read-only; every value is cast to text in SQL (so no Python type conversion differs between releases)
and rows are sorted. A relation that fails to read is reported with the reader's error message.
"""
import json
import sys

import duckdb


def main(path: str) -> None:
    con = duckdb.connect(path, read_only=True)
    rels = con.execute(
        "select schema_name, table_name from duckdb_tables() where not internal union all "
        "select schema_name, view_name from duckdb_views() where not internal order by 1, 2"
    ).fetchall()
    out = {}
    for schema, name in rels:
        q = '"{}"."{}"'.format(schema.replace('"', '""'), name.replace('"', '""'))
        try:
            cols = [r[0] for r in con.execute(f"select * from {q} limit 0").description]
            cast = ", ".join('cast("{}" as varchar)'.format(c.replace('"', '""')) for c in cols)
            rows = con.execute(f"select {cast} from {q}").fetchall() if cols else []
            out[f"{schema}.{name}"] = {"columns": cols, "rows": sorted([list(r) for r in rows], key=json.dumps)}
        except duckdb.Error as e:
            out[f"{schema}.{name}"] = {"error": str(e).splitlines()[0]}
    fmt = con.execute(
        "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    print(json.dumps({"duckdb": duckdb.__version__, "format": fmt[0] if fmt else None, "relations": out}))


if __name__ == "__main__":
    main(sys.argv[1])
