"""`whsync remediate apply`: load a plan (refused if edited), re-check live state, apply the guards,
then (with --apply) write through each API with a write-ahead audit, holding the warehouse's lock."""
from __future__ import annotations

import contextlib
import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import settings
from ..settings import ConfigError
from .audit import Audit, latest
from .model import Action, Plan, load_plan, state_text
from .systems import BencherExecutor, BenchlingExecutor, ParadimeExecutor, Result, SystemRefused, matches

DEFAULT_MAX_FRACTION = 0.10


@dataclass
class Overrides:
    allow_self: bool = False          # --allow-self: the operator's own accounts
    allow_key_owner: bool = False     # --allow-key-owner: the write key's own account (where the API tells)
    allow_last_admin: bool = False    # --allow-last-admin: a team/organization/workspace left without an admin
    max_fraction: float = DEFAULT_MAX_FRACTION  # --max-fraction: deactivations per system per apply


@dataclass
class Decision:
    action: Action
    live: Any = None
    verdict: str = "apply"        # apply | already_applied | drifted | refused | settled | not_checked
    cause: str | None = None


@dataclass
class ApplyReport:
    decisions: list[Decision]
    results: list[Result] = field(default_factory=list)
    refused_systems: dict[str, str] = field(default_factory=dict)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    applied: bool = False
    apply_id: str | None = None
    audit_rows: int = 0
    audit_seconds: float = 0.0

    recorded: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # what the audit got, by key

    def outcomes(self) -> dict[str, str]:
        """Per action key: the outcome recorded, else what the dry run would do (`would_apply`, ...)."""
        out = {}
        for d in self.decisions:
            if d.action.key in self.recorded:
                out[d.action.key] = self.recorded[d.action.key][0]
            elif self.applied:
                out[d.action.key] = "not_applied"
            else:
                out[d.action.key] = {"apply": "would_apply", "settled": "would_settle"}.get(d.verdict, d.verdict)
        return out

    def cause(self, key: str) -> str | None:
        if key in self.recorded:
            return self.recorded[key][1]
        return next((d.cause for d in self.decisions if d.action.key == key), None)

    @property
    def exit_code(self) -> int:
        ok = ("applied", "already_applied") if self.applied else ("would_apply", "would_settle", "already_applied")
        return 0 if all(o in ok for o in self.outcomes().values()) and not self.refused_systems else 1


# -- credentials (write keys are separate from the sync's) -------------------------------------------------

def _secret(env: str, key: str) -> str | None:
    v = settings.secret(key, env)
    return str(v).strip() if v else None


def benchling_executor(plan: Plan, base_url: str | None, allow_insecure_http: bool, wh_admins: dict) -> BenchlingExecutor:
    from ..benchling.client import normalize_base_url
    from urllib.parse import urlsplit

    url = base_url or settings.config("sources.benchling.base_url", "BENCHLING_BASE_URL")
    if not url:
        raise ConfigError("no Benchling tenant for the plan's Benchling actions: pass --base-url, or set BENCHLING_BASE_URL "
                          "(or sources.benchling.base_url in .dlt/config.toml)")
    key = _secret("BENCHLING_ADMIN_API_KEY", "sources.benchling.admin_api_key")
    if not key:
        raise ConfigError("no Benchling write key: set BENCHLING_ADMIN_API_KEY (or sources.benchling.admin_api_key in "
                          ".dlt/secrets.toml) to a tenant admin's API key (user management needs one; apps cannot be "
                          "tenant admins). The sync's read key is never used to write.")
    try:
        netloc = urlsplit(normalize_base_url(str(url))).netloc
    except ValueError as e:
        raise ConfigError(str(e)) from None
    tenants = {a.scope for a in plan.actions if a.action in ("suspend", "unsuspend")}
    if tenants and tenants != {netloc}:
        raise ConfigError(f"the plan's Benchling actions are for tenant {', '.join(sorted(tenants))}, but the configured "
                          f"tenant is {netloc}; point --base-url / BENCHLING_BASE_URL at the plan's tenant")
    try:
        return BenchlingExecutor(str(url), key, allow_insecure_http, wh_admins)
    except ValueError as e:
        raise ConfigError(str(e)) from None


def paradime_executor(allow_insecure_http: bool) -> ParadimeExecutor:
    import dataclasses
    import os

    from ..paradime.source import ConfigError as PdConfigError, _env_prefix, paradime_configs_from_env

    try:
        configs = paradime_configs_from_env()
    except PdConfigError as e:
        raise ConfigError(f"Paradime: {e}") from None
    out = []
    for c in configs:
        p = _env_prefix(c.name) + "ADMIN_"

        def pick(field_: str, c=c, p=p) -> str | None:
            return ((os.environ.get(p + field_.upper()) or "").strip()
                    or _secret(f"PARADIME_ADMIN_{field_.upper()}", f"sources.paradime.workspaces.{c.name}.admin_{field_}")
                    or _secret(f"PARADIME_ADMIN_{field_.upper()}", f"sources.paradime.admin_{field_}"))
        key, secret, token = pick("api_key"), pick("api_secret"), pick("bearer_token")
        if not token and not (key and secret):
            raise ConfigError(f"no Paradime write key for workspace '{c.name}': set PARADIME_ADMIN_API_KEY and "
                              "PARADIME_ADMIN_API_SECRET (or PARADIME_ADMIN_BEARER_TOKEN; per workspace "
                              f"{p}API_KEY ...; or admin_api_key/admin_api_secret under [sources.paradime] in "
                              ".dlt/secrets.toml), a key with the User Management Admin capability")
        out.append(dataclasses.replace(c, api_key=key, api_secret=secret, bearer_token=token,
                                       allow_insecure_http=allow_insecure_http))
    try:
        return ParadimeExecutor(out)
    except ValueError as e:
        raise ConfigError(f"Paradime: {e}") from None


def bencher_executor(allow_insecure_http: bool) -> BencherExecutor:
    from ..bencher.source import DEFAULT_BASE_URL

    url = _secret("BENCHER_API_URL", "sources.bencher.api_url") or DEFAULT_BASE_URL
    token = _secret("BENCHER_ADMIN_API_TOKEN", "sources.bencher.admin_api_token")
    if not token:
        raise ConfigError("no Bencher write token: set BENCHER_ADMIN_API_TOKEN (or sources.bencher.admin_api_token in "
                          ".dlt/secrets.toml), a token of a user with the edit and delete rights in the organizations")
    try:
        return BencherExecutor(url, token, allow_insecure_http)
    except ValueError as e:
        raise ConfigError(f"Bencher: {e}") from None


# -- the apply -----------------------------------------------------------------------------------------------

def _warehouse_facts(target: Any) -> tuple[dict[str, set[str]], dict[str, dict[str, int]], str]:
    """Benchling team admins, active accounts per system and scope, and the latest sync (for messages), from the
    published warehouse."""
    admins: dict[str, set[str]] = {}
    active: dict[str, dict[str, int]] = {}
    queries = {"admins": "select team_id, user_id from team_member where role = 'ADMIN'",
               "active": "select system, scope, count(*) from access where status = 'active' group by system, scope",
               "sync": "select run_id, started_at from sync_run order by started_at desc limit 1"}
    sync = "its latest sync"
    for what, sql in queries.items():
        try:
            with target.reader() as con:
                rows = con.execute(sql).fetchall()
        except Exception:  # noqa: BLE001 - a warehouse without Benchling has no team_member (nothing to guard there)
            if what == "active":
                raise ConfigError(f"{target.label()} has no `access` table: run `whsync sync` (this release) first") from None
            rows = []
        for row in rows:
            if what == "admins":
                admins.setdefault(row[0], set()).add(row[1])
            elif what == "active":
                active.setdefault(row[0], {})[row[1]] = int(row[2])
            else:
                sync = f"sync {row[0]} of {str(row[1])[:19]} UTC"
    return admins, active, sync


def _warehouse_statuses(target: Any, system: str) -> dict[tuple[str, str], str]:
    with target.reader() as con:
        mark = "?" if target.name == "duckdb" else "%s"
        rows = con.execute(f"select scope, account_id, status from access where system = {mark}", [system]).fetchall()
    return {(scope, account): status for scope, account, status in rows}


@dataclass
class ActiveCount:
    """A system's active accounts for the --max-fraction guard, and, when not all of it was counted live, the
    visible line that says where the rest comes from."""
    total: int
    fallback: str | None = None


def active_accounts(system: str, ex: Any, wh_active: dict[str, int], wh_sync: str,
                    wh_statuses: Callable[[], dict[tuple[str, str], str]]) -> ActiveCount:
    """Counted from the live check where it listed a whole scope (a Paradime workspace's `listUsers`, a Bencher
    organization's members); the other scopes from the warehouse, corrected by the live state of every account
    the check read one by one (Benchling reads the plan's users by id: it cannot count the tenant)."""
    live = ex.live_scopes()
    total = sum(live.values())
    rest = {scope: n for scope, n in wh_active.items() if scope not in live}
    total += sum(rest.values())
    read = {k: active for k, active in ex.live_accounts().items() if k[0] not in live}
    if read:
        statuses = wh_statuses()
        total += sum(int(active) - int(statuses.get(k) == "active") for k, active in read.items())
    if not rest and not read:
        return ActiveCount(total)
    where = {"benchling": "tenant", "paradime": "workspace", "bencher": "organization"}[system]
    parts = [f"{sum(live.values())} counted live in {len(live)} {where}(s) the plan touches"] if live else []
    if rest:
        parts.append(f"{sum(rest.values())} from the warehouse ({wh_sync}) for {', '.join(sorted(rest))}")
    if read:
        parts.append(f"corrected by the live state of the {len(read)} account(s) the live check read")
    why = getattr(ex, "count_limit", None) or f"the live check lists only the {where}s the plan touches"
    return ActiveCount(total, f"{system}: {total} active accounts for the --max-fraction guard: " + "; ".join(parts)
                       + f" ({why})")


def classify(d: Decision, previous: dict[str, Any] | None) -> None:
    a, live = d.action, d.live
    interrupted = previous is not None and previous.get("phase") == "intent"
    if live is not None and matches(live, a.result):
        d.verdict = "settled" if interrupted else "already_applied"
        d.cause = ("settled from live state: the call made before the apply was interrupted took effect"
                   if interrupted else f"already {state_text(a.result)}")
    elif live is None or not matches(live, a.expected):
        d.verdict = "drifted"
        d.cause = f"expected {state_text(a.expected)}, found {state_text(live)}"
    elif interrupted:
        d.cause = "the call made before the apply was interrupted did not take effect: made again"


def guard(decisions: list[Decision], executors: dict[str, Any], operator: str | None, ov: Overrides,
          active: Callable[[str], ActiveCount]) -> list[str]:
    """Refuse what a guard forbids (each names its accounts and its override flag); returns the messages
    (with, before a --max-fraction verdict, where its count of active accounts comes from when not all live)."""
    msgs: list[str] = []

    def refuse(ds: list[Decision], why: str, flag: str) -> None:
        ds = [d for d in ds if d.verdict == "apply"]
        if not ds:
            return
        for d in ds:
            d.verdict, d.cause = "refused", f"{why} (override: {flag})"
        msgs.append(f"refused {len(ds)} action(s): {why}: " + ", ".join(d.action.describe() for d in ds) + f" (override: {flag})")

    todo = [d for d in decisions if d.verdict == "apply"]
    if operator and not ov.allow_self:
        refuse([d for d in todo if (d.action.email or "").lower() == operator.lower()],
               f"the operator's own account ({operator})", "--allow-self")
    for system, ex in executors.items():
        owner = getattr(ex, "key_owner_email", None)
        if owner and not ov.allow_key_owner:
            refuse([d for d in todo if d.action.system == system and (d.action.email or "").lower() == owner],
                   f"the account the {system} write key belongs to ({owner})", "--allow-key-owner")
        elif not owner and any(d.action.system == system for d in todo):
            msgs.append(f"{system}: the write key's own account is not guarded: {ex.key_owner_unknown} "
                        "(--operator's accounts are)")
    if not ov.allow_last_admin:
        for system, ex in executors.items():
            acts = [d.action for d in decisions if d.verdict == "apply" and d.action.system == system]
            for where, cause in ex.last_admin(acts).items():
                what = {"benchling": f"Benchling team {where} would have no active admin",
                        "paradime": f"Paradime workspace {where} would have no admin",
                        "bencher": f"Bencher organization {where} would have no leader"}[system]
                keys = {a.key for a in cause}
                refuse([d for d in decisions if d.action.key in keys], what, "--allow-last-admin")
    for system in executors:
        deact = [d for d in decisions if d.verdict == "apply" and d.action.system == system and d.action.deactivates]
        if not deact:
            continue
        count = active(system)
        if count.fallback:
            msgs.append(count.fallback)
        total = max(count.total, len(deact))  # every account about to be deactivated was just seen active
        if len(deact) / total > ov.max_fraction:
            refuse(deact, f"{len(deact)} deactivations are {len(deact) / total:.0%} of {system}'s {total} active accounts "
                          f"({'counted live' if not count.fallback else 'counted as above'}), more than "
                          f"{ov.max_fraction:.0%} in one apply", f"--max-fraction {math.ceil(len(deact) / total * 100) / 100:.2f}")
    return msgs


def run_apply(target: Any, plan_path: Path, *, do_apply: bool, operator: str | None, wait: float, ov: Overrides,
              base_url: str | None = None, allow_insecure_http: bool = False,
              say: Callable[[str], None] = print) -> ApplyReport:
    plan = load_plan(plan_path)
    if do_apply and not operator:
        raise ConfigError("--operator EMAIL is required with --apply (the audit records who applied, and the guard "
                          "keeps the operator's own accounts out)")
    if not 0 < ov.max_fraction <= 1:
        raise ConfigError(f"--max-fraction {ov.max_fraction}: give a fraction between 0 and 1, e.g. 0.25")
    systems = sorted({a.system for a in plan.actions})
    lock = target.lock(wait, on_wait=lambda: say("waiting for another whsync run to finish…")) if do_apply \
        else contextlib.nullcontext()
    executors: dict[str, Any] = {}
    report = ApplyReport([Decision(a) for a in plan.actions], applied=do_apply)
    with lock:
        wh_admins, wh_active, wh_sync = _warehouse_facts(target)
        for s in systems:  # every credential is resolved before any request
            executors[s] = {"benchling": lambda: benchling_executor(plan, base_url, allow_insecure_http, wh_admins),
                            "paradime": lambda: paradime_executor(allow_insecure_http),
                            "bencher": lambda: bencher_executor(allow_insecure_http)}[s]()
        try:
            previous = latest(target, plan.sha256)
            for s, ex in executors.items():
                mine = [d for d in report.decisions if d.action.system == s]
                try:
                    live = ex.check([d.action for d in mine])
                except SystemRefused as e:
                    report.refused_systems[s] = str(e)
                    for d in mine:
                        d.verdict, d.cause = "not_checked", str(e)
                    continue
                for d in mine:
                    d.live = live.get(d.action.key)
                    classify(d, previous.get(d.action.key))
            messages = guard(report.decisions, executors, operator, ov,
                             lambda s: active_accounts(s, executors[s], wh_active.get(s, {}), wh_sync,
                                                       lambda: _warehouse_statuses(target, s)))
            for m in messages:
                say(m)
            if do_apply:
                report.apply_id = str(uuid.uuid4())
                audit = Audit(target, plan, report.apply_id, operator)
                audit.outcomes([(d.action, {"settled": "applied"}.get(d.verdict, d.verdict), d.cause, d.live,
                                 d.live if d.verdict != "settled" else d.action.result)
                                for d in report.decisions if d.verdict in ("already_applied", "drifted", "refused", "settled")])
                for s, ex in executors.items():
                    todo = [(d.action, d.live) for d in report.decisions if d.action.system == s and d.verdict == "apply"]
                    if not todo:
                        continue
                    try:
                        report.results += ex.execute(todo, audit)
                    except SystemRefused as e:
                        report.refused_systems[s] = str(e)
                report.recorded = audit.recorded
                report.audit_rows, report.audit_seconds = audit.rows_written, audit.seconds
        finally:
            for s, ex in executors.items():
                report.stats[s] = ex.stats()
                ex.close()
    return report
