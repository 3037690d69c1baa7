"""`whsync grant-reader`: a PostgreSQL role that reads the warehouse and nothing else."""
from __future__ import annotations

import typer

from .common import SCHEMA_OPTION, app, fail, target_of


@app.command("grant-reader")
def grant_reader(
    role: str = typer.Argument(..., help="An existing PostgreSQL role (e.g. a LOGIN role for a BI tool)."),
    schema: str = SCHEMA_OPTION,
) -> None:
    """PostgreSQL only: let ROLE read the warehouse of --schema (SELECT on its views and $raw tables and
    its Paradime/Bencher tables, USAGE on their schemas) and nothing else: no raw (benchling_raw),
    staging, dlt tables or other warehouses. The grants survive later syncs; run it again after adding
    a source. The connection is the one `sync --target postgres` uses."""
    try:
        tgt = target_of("postgres", schema)
        granted = tgt.grant_reader(role, tgt.published_relations())
        from ..journal import grant_journal

        granted.append(grant_journal(tgt, role))  # the failure journal: `status` as this role sees failures
    except Exception as e:  # noqa: BLE001
        fail(e)
        return
    print(f"granted {role} SELECT on {len(granted)} relations in {tgt.label()}: {', '.join(granted)}")
