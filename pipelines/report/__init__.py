"""`whsync report`: the access review as one self-contained HTML file and a CSV per list.

Every list on the page is one SQL file in `examples/queries/` (see `queries.py`), run as it is on the
warehouse; the page shows that SQL. A list may name a fallback file for warehouses that lack the
relations of the preferred one (e.g. accounts from each source's tables before `access` existed);
when no file can run, the page says which relations are missing and which command fills them.
Rendering lives in `render.py`, charts in `charts.py`.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator

from .. import catalog
from ..catalog import WAREHOUSE
from .queries import QueryFile, relation_key


class ReportError(ValueError):
    """Bad input for a report (missing warehouse, bad date): one line, exit code 2."""


@dataclass(frozen=True)
class ListSpec:
    key: str
    title: str
    section: str  # header | accounts | act | changes
    files: tuple[str, ...]  # preferred first; the first whose relations are all readable is used


LISTS: tuple[ListSpec, ...] = (
    ListSpec("sources", "Sources and scopes", "header", ("access_review/sources.sql",)),
    ListSpec("last_synced", "Last synced", "header",
             ("access_review/last_synced_runs.sql", "access_review/last_synced.sql",
              "access_review/last_synced_benchling.sql")),
    ListSpec("accounts", "Accounts", "accounts",
             ("access_review/accounts_by_system_status.sql", "access_review/accounts_by_system_status_snapshot.sql")),
    ListSpec("left_still_active", "Left the company, still active", "act", ("directory_left_still_active.sql",)),
    ListSpec("outside_directory", "Accounts outside the directory", "act", ("directory_accounts_outside.sql",)),
    ListSpec("dormant", "Active accounts unused for {inactive_days} days or more", "act",
             ("access_review/dormant_accounts.sql",)),
    ListSpec("never_used", "Active accounts never used", "act", ("access_never_seen.sql",)),
    ListSpec("activity_unchecked", "Active accounts whose activity is not checked yet", "act",
             ("access_review/activity_unchecked.sql",)),
    ListSpec("offboarding_gap", "The offboarding gap", "act", ("access_offboarding_gap.sql",)),
    ListSpec("privileged", "Privileged accounts", "act",
             ("access_admins_anywhere.sql", "access_review/privileged_accounts_snapshot.sql")),
    ListSpec("teams_without_admin", "Teams without an active admin", "act",
             ("access_review/teams_without_active_admin.sql",)),
    ListSpec("suspended_in_teams", "Suspended users still in teams", "act",
             ("history_suspended_users_still_in_teams.sql", "suspended_users_in_teams.sql")),
    ListSpec("history_coverage", "History recorded", "changes", ("access_review/history_coverage.sql",)),
    ListSpec("changes", "Changes in the review period", "changes", ("access_review/changes.sql",)),
    ListSpec("remediation", "Remediation applied and its verification by later syncs", "changes",
             ("access_review/remediation_verification.sql",)),
)
# Open review campaigns (`whsync review`): shown when the warehouse has campaign tables (none before the first
# `whsync review start`, so the list is not one of LISTS: its absence is not a gap to fill).
CAMPAIGNS = ListSpec("review_campaigns", "Open access review campaigns", "campaigns",
                     ("access_review/review_campaigns.sql",))


def hint_for(relation: str, readable_elsewhere: bool = False, role: str | None = None) -> str:
    """Which command makes `relation` available."""
    if readable_elsewhere and role:
        return f"the role {role} may not read {relation}: run `whsync grant-reader {role}` as the warehouse owner"
    if relation.endswith('$history"') or relation.endswith("$history"):
        return "run `whsync sync`: history starts with the first sync (it records what exists; later syncs record changes)"
    if relation == "user_activity":
        return "run `whsync sync` with activity enabled (`--activity-budget N` or `--activity all`)"
    if relation in ("access", "person"):
        return "run `whsync sync` to build `access` and `person` (one person across Benchling, Paradime and Bencher)"
    if relation.startswith("paradime."):
        return "run `whsync sync --source paradime` (Paradime not synced into this warehouse)"
    if relation.startswith("bencher."):
        return "run `whsync sync --source bencher` (Bencher not synced into this warehouse)"
    if relation.startswith("okta."):
        return "run `whsync sync --source okta` (the directory, Okta, not synced into this warehouse)"
    return "run `whsync sync`"


@dataclass
class ListResult:
    spec: ListSpec
    title: str
    query: QueryFile  # the file that ran, or the preferred one when none could
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    preferred: "ListResult | None" = None  # set when a fallback file ran: what the preferred one lacked
    error: str | None = None  # the query ran and failed (first line of the database's message)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.error

    @property
    def count(self) -> int:
        return len(self.rows)


@dataclass
class Report:
    warehouse: str
    generated_at: datetime  # naive UTC
    since: datetime
    inactive_days: int
    lists: dict[str, ListResult]

    def section(self, name: str) -> list[ListResult]:
        return [r for r in self.lists.values() if r.spec.section == name]


def normalize(value: Any) -> Any:
    """One Python value for both drivers: integral Decimals become int, aware times naive UTC."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


# -- reading: the target layer's read-only connection ---------------------------------------------

class WarehouseReader:
    """What the report needs of a `targets.Reader`: the relations it may read, and a query's rows.
    Unqualified names resolve in the warehouse namespace on both targets."""

    def __init__(self, target: Any, con: Any) -> None:
        self.con, self.label, self.postgres = con, target.label(), target.name == "postgres"
        self.schema = con.schema(WAREHOUSE)
        self.role = con.execute("select current_user").fetchone()[0] if self.postgres else None

    def relations(self) -> dict[tuple[str, str], bool]:
        """{(namespace, name): readable}: namespaces as the SQL files name them (`paradime`, not the
        real schema of a non-public PostgreSQL warehouse)."""
        real = {self.con.schema(ns): ns for ns in catalog.namespaces()}
        if self.postgres:
            rows = self.con.execute(
                "select n.nspname, c.relname, has_schema_privilege(n.oid, 'usage') and has_table_privilege(c.oid, "
                "'select') from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where c.relkind in ('r', 'v', 'm', 'p', 'f') and n.nspname = any(%s)", (list(real),)).fetchall()
        else:
            rows = [(s, n, True) for s, n in self.con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = current_database()").fetchall()]
        return {(self.schema if real[s] == WAREHOUSE else real[s], n): bool(ok) for s, n, ok in rows if s in real}

    def run(self, query: QueryFile, params: dict[str, Any]) -> tuple[list[str], list[tuple]]:
        bound = query.bind(params)
        sql = query.for_target(self.con.schema, postgres=self.postgres, bound=bool(bound))
        cur = self.con.execute(sql, bound or None)
        return [d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()]


@contextlib.contextmanager
def open_warehouse(target: Any) -> Iterator[WarehouseReader]:
    """The published warehouse of `target`, read-only."""
    with target.reader() as con:
        yield WarehouseReader(target, con)


# -- collecting the lists ---------------------------------------------------------------------------

def parameters(generated_at: datetime, since: datetime, inactive_days: int) -> dict[str, Any]:
    return {"since": since, "until": generated_at, "inactive_since": generated_at - timedelta(days=inactive_days),
            "date_from": since, "date_to": generated_at, "as_of": generated_at}  # the example queries' params CTE


def collect(reader: Any, *, since: datetime, inactive_days: int, generated_at: datetime | None = None) -> Report:
    generated_at = generated_at or datetime.now(timezone.utc).replace(tzinfo=None)
    if since >= generated_at:
        raise ReportError(f"--since {since:%Y-%m-%d} is not in the past: the review period ends now")
    params = parameters(generated_at, since, inactive_days)
    present = reader.relations()
    lists: dict[str, ListResult] = {}
    specs = LISTS + ((CAMPAIGNS,) if all(present.get(relation_key(r, reader.schema))
                                          for r in QueryFile(CAMPAIGNS.files[0]).requires) else ())
    for spec in specs:
        title = spec.title.format(inactive_days=inactive_days)
        preferred = ListResult(spec, title, QueryFile(spec.files[0]))
        result = preferred
        for i, name in enumerate(spec.files):
            q = QueryFile(name)
            keys = {r: relation_key(r, reader.schema) for r in q.requires}
            missing = [r for r, k in keys.items() if not present.get(k)]
            if i == 0 and missing:
                preferred.missing = missing
                preferred.hints = list(dict.fromkeys(hint_for(r, keys[r] in present, reader.role) for r in missing))
            if not missing:
                result = ListResult(spec, title, q, preferred=preferred if i else None)
                try:
                    result.columns, rows = reader.run(q, params)
                except Exception as e:  # noqa: BLE001 - one list failing must not lose the others
                    text = str(e).strip()
                    result.error = f"{type(e).__name__}: {text.splitlines()[0] if text else ''}"
                else:
                    result.rows = [tuple(normalize(v) for v in r) for r in rows]
                break
        lists[spec.key] = result
    return Report(reader.label, generated_at, since, inactive_days, lists)


def parse_since(text: str | None, now: datetime | None = None) -> datetime:
    """--since: a date (YYYY-MM-DD, the start of that day in UTC); default 90 days before today."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    if text is None:
        return datetime(now.year, now.month, now.day) - timedelta(days=90)
    try:
        d = datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        raise ReportError(f"--since {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-01") from None
    if d >= now:
        raise ReportError(f"--since {text} is not in the past: the review period ends now")
    return d
