"""`whsync remediate plan|apply`: options and printing; the work is in `pipelines/remediate/` (planner, apply)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, List, Optional

import typer

from .common import app as whsync_app
from .common import fail, target_of

app = typer.Typer(help="Act on a review or an offboarding: plan the revocations (a file), then apply them through "
                  "each system's own API (a dry run unless --apply), each verified by the next sync.",
                  no_args_is_help=True)

DUCKDB = typer.Option(Path("warehouse.duckdb"), "--duckdb", help="The DuckDB warehouse.")
TARGET = typer.Option("duckdb", "--target", help="Where the warehouse lives: duckdb (the --duckdb file) or postgres.")
SCHEMA = typer.Option("public", "--schema", help="PostgreSQL only: the schema of the warehouse.")


def _cells(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def plan_table(plan: Any) -> str:
    from ..remediate.model import state_text

    rows = [[str(i + 1), a.system, a.action, a.email or a.account_id, a.account_id, a.scope,
             f"{state_text(a.expected)} -> {state_text(a.result)}", "yes" if a.undoable else "NO", a.reason]
            for i, a in enumerate(plan.actions)]
    return _cells(rows, ["#", "system", "action", "account", "id", "scope", "expects -> leaves", "undoable", "reason"])


@app.command("plan")
def plan_command(
    offboard: Optional[List[str]] = typer.Option(None, "--offboard", metavar="EMAIL", help="A person leaving: every "
                                                 "active account with this email in every synced system (repeatable)."),
    from_csv: Optional[Path] = typer.Option(None, "--from", metavar="FILE.csv", help="Rows of system, scope, account_id, "
                                            "action, role, reason."),
    review: Optional[str] = typer.Option(None, "--review", metavar="NAME", help="The revoke/change_role decisions of a "
                                         "closed review campaign."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why (for --offboard; default: 'offboarding EMAIL')."),
    out: Path = typer.Option(Path("plan.json"), "--out", help="The plan file to write."),
    duckdb: Path = DUCKDB, target: str = TARGET, schema: str = SCHEMA,
) -> None:
    """Write a remediation plan (JSON: each action with the state it expects and the state it leaves,
    whether the API can undo it, the reason and the decision; the sync it was made from; a SHA-256 of its
    actions) and print it as a table. Nothing is written to any system."""
    from ..remediate.planner import make_plan

    try:
        tgt = target_of(target, schema, duckdb)
        tgt.check()
        plan = make_plan(tgt, list(offboard or []), from_csv, reason, review)
        sha = plan.write(out)
    except Exception as e:  # noqa: BLE001 - one line and an exit code
        fail(e)
        return
    print(plan_table(plan))
    never = sum(not a.undoable for a in plan.actions)
    print(f"\nwrote {out}: {len(plan.actions)} action(s) from sync {plan.run_id} (actions sha256 {sha[:16]}…)"
          + (f"; {never} cannot be undone through the API" if never else ""))
    if not plan.actions:
        print("nothing to do: no active account matched")


@app.command("apply")
def apply_command(
    plan: Path = typer.Argument(..., help="The plan file (`whsync remediate plan --out FILE`)."),
    apply: bool = typer.Option(False, "--apply", help="Write. Without it: a dry run that re-checks live state and the "
                               "guards, and writes nothing anywhere."),
    operator: Optional[str] = typer.Option(None, "--operator", metavar="EMAIL", help="Who applies (required with "
                                           "--apply): recorded in the audit; their own accounts are refused."),
    wait: float = typer.Option(0.0, "--wait", help="Seconds to wait for a sync (or apply) holding the warehouse's lock."),
    max_fraction: float = typer.Option(0.10, "--max-fraction", help="Refuse a system's deactivations when they exceed "
                                       "this fraction of its active accounts: counted live where the live check lists "
                                       "them all (a Paradime workspace, a Bencher organization); Benchling's tenant and "
                                       "the scopes the plan does not touch from the warehouse, corrected by the accounts "
                                       "read live, and the apply says so."),
    allow_self: bool = typer.Option(False, "--allow-self", help="Allow acting on the operator's own accounts."),
    allow_key_owner: bool = typer.Option(False, "--allow-key-owner", help="Allow acting on the account the write key "
                                         "belongs to. Only a Bencher API token (a JWT) says whose it is; Benchling API "
                                         "keys, Paradime keys (a workspace's, not a user's) and Bencher user API keys "
                                         "do not, so there this guard cannot apply (the apply says so): only "
                                         "--operator's accounts are kept out."),
    allow_last_admin: bool = typer.Option(False, "--allow-last-admin", help="Allow leaving a Benchling team without an "
                                          "active admin, a Bencher organization without a leader, a Paradime workspace "
                                          "without an admin."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="The Benchling tenant (default BENCHLING_BASE_URL)."),
    allow_insecure_http: bool = typer.Option(False, "--allow-insecure-http", help="Allow plain-http URLs to "
                                             "non-loopback hosts."),
    duckdb: Path = DUCKDB, target: str = TARGET, schema: str = SCHEMA,
) -> None:
    """Apply a plan through each system's write API: refuses an edited plan; re-checks live state in as few
    requests as each API allows (drifted accounts are skipped, finished ones count as already applied);
    refuses what a guard forbids; records intent before and outcome after each call in the append-only
    `remediation_action` table; holds the warehouse's lock. Write keys: BENCHLING_ADMIN_API_KEY,
    PARADIME_ADMIN_API_KEY + PARADIME_ADMIN_API_SECRET (or PARADIME_ADMIN_BEARER_TOKEN), BENCHER_ADMIN_API_TOKEN,
    or the admin_* keys of sources.<name> in .dlt/secrets.toml; never on the command line, never printed."""
    from ..remediate.apply import Overrides, run_apply
    from ..remediate.model import state_text

    try:
        tgt = target_of(target, schema, duckdb)
        tgt.check()
        rep = run_apply(tgt, plan, do_apply=apply, operator=operator, wait=wait, base_url=base_url,
                        allow_insecure_http=allow_insecure_http,
                        ov=Overrides(allow_self, allow_key_owner, allow_last_admin, max_fraction))
    except Exception as e:  # noqa: BLE001
        fail(e)
        return
    outcomes = rep.outcomes()
    rows = [[str(i + 1), d.action.system, d.action.action, d.action.email or d.action.account_id, d.action.scope,
             state_text(d.live) if d.verdict != "not_checked" else "?", outcomes[d.action.key],
             rep.cause(d.action.key) or ""] for i, d in enumerate(rep.decisions)]
    print(_cells(rows, ["#", "system", "action", "account", "scope", "live", "outcome" if apply else "would", "cause"]))
    counts: dict[str, int] = {}
    for o in outcomes.values():
        counts[o] = counts.get(o, 0) + 1
    reqs = ", ".join(f"{s}: {st.get('requests', 0)} requests ({st.get('rate_limited', 0)} rate-limited)"
                     for s, st in rep.stats.items())
    print(("\napplied" if apply else "\ndry run (nothing written; --apply to write)") + ": "
          + ", ".join(f"{n} {o}" for o, n in sorted(counts.items())) + (f"; {reqs}" if reqs else ""))
    if apply:
        print(f"audit: {rep.audit_rows} rows appended to remediation_action in {rep.audit_seconds:.2f}s (apply {rep.apply_id})")
    for s, why in rep.refused_systems.items():
        print(f"whsync: error: {s}: {why}", file=sys.stderr, flush=True)
    if rep.exit_code:
        raise typer.Exit(1)


whsync_app.add_typer(app, name="remediate")
