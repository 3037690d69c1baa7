"""`whsync docs`: dbt's documentation site for the warehouse (every relation and column, lineage) as
files that open from `file://`, with no server and no network request.

dbt's `docs generate --static` inlines the manifest and catalog into one HTML page. That page still
carries dbt's usage tracker (off when send_anonymous_usage_stats is false, but its loader URL is in the
page) and a few asset links; whsync removes them and adds a Content-Security-Policy that forbids
every non-inline resource, so the browser has nothing to fetch.

dbt opens a DuckDB database read-write even to read its catalog, which would conflict with readers
and syncs of the published warehouse, so the site is generated from a private copy of the file.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import typer

from .common import app
from .sql import READ_DUCKDB_OPTION, READ_SCHEMA_OPTION, READ_TARGET_OPTION

CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
       "img-src data:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'")
# what dbt's page would load or link: its usage tracker's script and collector, a favicon, a canonical link
_STRIP = [
    (re.compile(r"""(["'])(?:https?:)?//[A-Za-z0-9.-]+\.cloudfront\.net/[^"']*\1"""), '""'),
    (re.compile(r"""(["'])[A-Za-z0-9.-]*sinter-collect\.com\1"""), '""'),
    (re.compile(r"""<link rel="(?:shortcut icon|icon|canonical)"[^>]*>"""), ""),
]


def offline(html: str) -> str:
    """The page with its external loads removed and a CSP that blocks any that remain."""
    for pattern, repl in _STRIP:
        html = pattern.sub(repl, html)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    return re.sub(r"<head[^>]*>", lambda m: m.group(0) + meta, html, count=1)


def _write_site(env: dict[str, str], key: str, extra_args: list[str], tmp: Path, out: Path) -> Path:
    """Run `dbt docs generate --static` and write the offline page (and dbt's metadata) into `out`."""
    from ..dbt import run_dbt

    target = tmp / "target"
    run_dbt("docs generate --static", env, key=key, extra_args=["--target-path", str(target), *extra_args])
    out.mkdir(parents=True, exist_ok=True)
    page, tmp_page = out / "index.html", out / ".index.html.tmp"
    tmp_page.write_text(offline((target / "static_index.html").read_text(encoding="utf-8")), encoding="utf-8")
    os.replace(tmp_page, page)
    for name in ("manifest.json", "catalog.json"):  # the same metadata, for tools
        shutil.copyfile(target / name, out / name)
    return page


def generate(warehouse: Path, out: Path) -> Path:
    """Write the docs site for a DuckDB warehouse into `out`; return the page's path."""
    from .sql import published_warehouse
    from ..targets import resolve_target

    warehouse = published_warehouse(warehouse)
    with tempfile.TemporaryDirectory(prefix="whsync-docs-") as tmp:
        copy = Path(tmp) / warehouse.name  # same name: the site shows the warehouse's database name
        shutil.copyfile(warehouse, copy)
        return _site(resolve_target(duckdb=copy), f"docs|{warehouse}", Path(tmp), out)


def generate_postgres(schema: str, out: Path) -> Path:
    """Write the docs site for the PostgreSQL warehouse in `schema` (dbt only reads the catalog)."""
    from ..targets import resolve_target

    tgt = resolve_target(target="postgres", schema=schema)
    with tempfile.TemporaryDirectory(prefix="whsync-docs-") as tmp:
        return _site(tgt, f"docs|postgres|{tgt.label()}", Path(tmp), out)


def _site(tgt, key: str, tmp: Path, out: Path) -> Path:  # noqa: ANN001 - a targets.Target
    """The docs site of the sources whose raw data is in the published warehouse `tgt`."""
    import json

    from .. import catalog
    from ..targets import TargetConfigError

    with tgt.reader() as con:
        schemas = {r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()}
    present = [src for src, raw in catalog.raw_datasets().items() if tgt.schema_name(raw) in schemas]
    if not present:
        raise TargetConfigError(f"no warehouse in {tgt.label()}: run `whsync sync` first")
    select = [f"path:models/staging/{name}+" for name in present]
    return _write_site(tgt.dbt_env(), key, ["--select", *select, "--vars", json.dumps(tgt.dbt_vars())], tmp, out)


@app.command("docs")
def docs(
    out: Path = typer.Option(Path("warehouse-docs"), "--out", help="Directory to write the site into "
                             "(index.html, plus dbt's manifest.json and catalog.json)."),
    duckdb: Path = READ_DUCKDB_OPTION,
    target: str = READ_TARGET_OPTION,
    schema: str = READ_SCHEMA_OPTION,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the page's file:// address and errors."),
) -> None:
    """Write the warehouse's documentation site: every table, view and column with its description,
    and the lineage from the raw API data. Open index.html in a browser: no server, and the page
    makes no network request."""
    from .common import err as _err, explain as _explain

    if target not in ("duckdb", "postgres"):
        _err(f"--target {target!r}: choose duckdb or postgres", 2)
    try:
        if not quiet:
            print("documenting the warehouse (dbt docs generate)…", flush=True)
        page = generate_postgres(schema, out) if target == "postgres" else generate(duckdb, out)
    except FileNotFoundError as e:
        _err(str(e), 2)
        return
    except Exception as e:  # noqa: BLE001 - one line, the cause
        msg, code = _explain(e)
        _err(msg, code)
        return
    print(page.resolve().as_uri() if quiet else f"wrote the docs site; open {page.resolve().as_uri()}")
