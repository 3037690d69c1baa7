"""Benchling: users by `ids` (100 per request), memberships by team listing; suspensions through
`users:bulk-update` and its tasks, memberships one call each."""
from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import orjson

from ...benchling.client import (ApiKeyAuth, BenchlingAuthError, BenchlingClient, BenchlingError,
                                 BenchlingNotFoundError)
from ...http import REDACTOR
from ..model import Action
from .common import (CHUNK, FIRST_BURST, TASK_WAIT_SECONDS, WRITE_RETRY_SECONDS, WRITE_TRIES, Result, SystemRefused,
                     _as_completed, _parallel, matches)

log = logging.getLogger("whsync.remediate")


class BenchlingExecutor:
    system = "benchling"
    key_owner_email: str | None = None
    # benchling-api-client 2.0.434's OpenAPI spec (stable, beta, alpha) has no endpoint naming the caller of an API
    # key (no users/me; `POST /token` is OAuth for apps, which cannot manage users)
    key_owner_unknown = "Benchling's API does not say whose API key it is (its OpenAPI spec has no 'who am I' endpoint)"
    count_limit = "the live check reads the plan's users by id, not the whole tenant"

    def __init__(self, base_url: str, admin_key: str, allow_insecure_http: bool = False,
                 wh_admins: dict[str, set[str]] | None = None, poll_interval: float = 1.0) -> None:
        REDACTOR.register(admin_key)
        self.client = BenchlingClient(base_url, ApiKeyAuth(admin_key), max_tries=WRITE_TRIES,
                                      max_retry_seconds=WRITE_RETRY_SECONDS, allow_insecure_http=allow_insecure_http,
                                      first_burst=FIRST_BURST)
        self.netloc = self.client.netloc
        self.wh_admins = wh_admins or {}   # team id -> admin user ids, from the warehouse (the plan's sync)
        self.poll_interval = poll_interval
        self.members: dict[str, dict[str, str]] = {}   # team id -> {user id: role}, listed live
        self.users: dict[str, dict[str, Any]] = {}     # user id -> User, read live
        self.calls = {"checks": 0, "bulk": 0, "polls": 0, "writes": 0}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def stats(self) -> dict[str, int]:
        return {"requests": self.client.stats.requests, "rate_limited": self.client.stats.rate_limited,
                "retries": self.client.stats.retries, **self.calls}

    def _call(self, method: str, path: str, body: Any = None, params: dict | None = None) -> Any:
        try:
            return self.client._send(method, path, params=params,
                                     data=None if body is None else orjson.dumps(body),
                                     headers={"Content-Type": "application/json"} if body is not None else None,
                                     authorize=True, parse_json=method != "DELETE")
        except BenchlingAuthError as e:
            raise SystemRefused(str(e)) from None

    # -- live state ------------------------------------------------------------------------------------
    def read_users(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Users by id, 100 per request, the requests sent at once (the rate budget paces them); ids Benchling
        does not know are left out (`ids` is all or nothing: one unknown id fails the request with a 400 naming
        it, so those are dropped and the rest asked again)."""
        todo = list(dict.fromkeys(ids))
        chunks = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
        out: dict[str, dict[str, Any]] = {}
        for users in _parallel(self._read_chunk, chunks):
            out.update(users)
        return out

    def _read_chunk(self, chunk: list[str]) -> dict[str, dict[str, Any]]:
        while chunk:
            try:
                self._count("checks")
                body = self._call("GET", "/users", params={"ids": ",".join(chunk), "pageSize": CHUNK})
            except BenchlingError as e:
                bad = set(re.findall(r"ent_\w+", str(e).split("Invalid ids", 1)[-1])) if "Invalid ids" in str(e) else set()
                if not bad & set(chunk):
                    raise
                chunk = [c for c in chunk if c not in bad]
                continue
            return {u["id"]: u for u in body.get("users") or []}
        return {}

    def _count(self, what: str) -> None:
        with self._lock:
            self.calls[what] += 1

    def check(self, actions: list[Action]) -> dict[str, dict[str, Any] | None]:
        teams = sorted({a.scope for a in actions if a.action in ("remove_membership", "set_team_role")})
        for t in teams:
            self._count("checks")
            try:
                self.members[t] = {m["user"]["id"]: m["role"] for page in self.client.paginate(f"/teams/{t}/memberships", "memberships")
                                   for m in page}
            except BenchlingNotFoundError:
                self.members[t] = {}  # the team is gone: no memberships
            except BenchlingAuthError as e:
                raise SystemRefused(str(e)) from None
        ids = [a.account_id for a in actions if a.action in ("suspend", "unsuspend")]
        # the admins of every team the plan touches, to keep one active admin per team (their suspension live)
        for team in self.affected_teams(actions):
            ids += sorted(self.admins_of(team))
        self.users = self.read_users(ids) if ids else {}
        live: dict[str, dict[str, Any] | None] = {}
        for a in actions:
            if a.action in ("suspend", "unsuspend"):
                u = self.users.get(a.account_id)
                live[a.key] = None if u is None else {"status": "suspended" if u.get("isSuspended") else "active"}
            else:
                role = self.members.get(a.scope, {}).get(a.account_id)
                live[a.key] = {"status": "removed"} if role is None else {"status": "member", "role": role}
        return live

    def admins_of(self, team: str) -> set[str]:
        if team in self.members:
            return {u for u, r in self.members[team].items() if r == "ADMIN" and u.startswith("ent_")}
        return set(self.wh_admins.get(team, set()))

    def affected_teams(self, actions: list[Action]) -> set[str]:
        teams = {a.scope for a in actions if a.action in ("remove_membership", "set_team_role")}
        suspended = {a.account_id for a in actions if a.action == "suspend"}
        teams |= {t for t, admins in self.wh_admins.items() if admins & suspended}
        return teams

    def last_admin(self, actions: list[Action]) -> dict[str, list[Action]]:
        """Teams an active admin would be left without by `actions`: {team id: the actions that cause it}."""
        out: dict[str, list[Action]] = {}
        for team in sorted(self.affected_teams(actions)):
            def active(u: str) -> bool:
                user = self.users.get(u)
                return user is not None and not user.get("isSuspended")
            before = {u for u in self.admins_of(team) if active(u)}
            after = set(before)
            cause = []
            for a in actions:
                if a.action == "suspend" and a.account_id in after:
                    after.discard(a.account_id)
                    cause.append(a)
                elif a.scope == team and a.action == "remove_membership" and a.account_id in after:
                    after.discard(a.account_id)
                    cause.append(a)
                elif a.scope == team and a.action == "set_team_role":
                    if a.result.get("role") == "MEMBER" and a.account_id in after:
                        after.discard(a.account_id)
                        cause.append(a)
                    elif a.result.get("role") == "ADMIN" and active(a.account_id):
                        after.add(a.account_id)
            if before and not after:
                out[team] = cause
        return out

    def live_scopes(self) -> dict[str, int]:
        """Active accounts per scope listed whole by the live check: none (users are read by id)."""
        return {}

    def live_accounts(self) -> dict[tuple[str, str], bool]:
        """The users the live check read, by (tenant, id): active or not."""
        return {(self.netloc, uid): not u.get("isSuspended") for uid, u in self.users.items()}

    # -- writes ------------------------------------------------------------------------------------------
    def execute(self, todo: list[tuple[Action, Any]], audit: Any) -> list[Result]:
        results: list[Result] = []
        users = [(a, b) for a, b in todo if a.action in ("suspend", "unsuspend")]
        others = [(a, b) for a, b in todo if a.action not in ("suspend", "unsuspend")]
        if len(users) == 1:
            results += self._one(users[0], audit, self._patch_user)
        elif users:
            results += self._bulk(users, audit)
        for item in others:
            results += self._one(item, audit, self._membership)
        return results

    def _one(self, item: tuple[Action, Any], audit: Any, call: Any) -> list[Result]:
        a, before = item
        audit.intents([item])
        try:
            self.calls["writes"] += 1
            r = call(a)
        except SystemRefused:
            audit.outcomes([(a, "failed", "the write key was refused (see the message)", before, before)])
            raise
        except BenchlingNotFoundError as e:
            r = Result(a, "already_applied", f"gone when written: {e}", before, a.result) \
                if a.action == "remove_membership" else Result(a, "failed", str(e), before, before)
        except BenchlingError as e:
            r = Result(a, "failed", str(e), before, before)
        r.before = before
        audit.outcomes([(r.action, r.outcome, r.cause, r.before, r.after)])
        return [r]

    def _patch_user(self, a: Action) -> Result:
        u = self._call("PATCH", f"/users/{a.account_id}", {"isSuspended": a.action == "suspend"})
        after = {"status": "suspended" if u.get("isSuspended") else "active"}
        return Result(a, "applied" if matches(after, a.result) else "failed",
                      None if matches(after, a.result) else "the API answered with the user unchanged", None, after)

    def _membership(self, a: Action) -> Result:
        path = f"/teams/{a.scope}/memberships/{a.account_id}"
        if a.action == "remove_membership":
            self._call("DELETE", path)
            return Result(a, "applied", None, None, {"status": "removed"})
        m = self._call("PATCH", path, {"role": a.result["role"]})
        return Result(a, "applied", None, None, {"status": "member", "role": m.get("role")})

    def _bulk(self, users: list[tuple[Action, Any]], audit: Any) -> list[Result]:
        """Suspensions through `POST /users:bulk-update` in chunks of 100: every chunk's intents recorded first
        (one write), then each chunk's request and its task's polls run as one chain, the chains at once (a
        chunk's task is polled as soon as its own request is answered, not after the slowest chunk's); the
        outcomes are recorded as each chain ends."""
        results: list[Result] = []
        todo = users
        refused: SystemRefused | None = None
        for attempt in (1, 2):
            chunks = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
            audit.intents([item for chunk in chunks for item in chunk])
            again: list[tuple[Action, Any]] = []
            for chunk, task in _as_completed(self._chain, chunks):
                if isinstance(task, SystemRefused):
                    refused = task
                    rs = [Result(a, "failed", "the write key was refused (see the message)", b, b) for a, b in chunk]
                elif isinstance(task, BenchlingError):
                    rs = [Result(a, "failed", str(task), b, b) for a, b in chunk]
                else:
                    rs, retry = self._settle(chunk, task, last=attempt == 2 or refused is not None)
                    again += retry
                audit.outcomes([(r.action, r.outcome, r.cause, r.before, r.after) for r in rs])
                results += rs
            if refused is not None:
                raise refused
            if not again:
                break
            todo = again
        return results

    def _chain(self, chunk: list[tuple[Action, Any]]) -> Any:
        """One chunk: its bulk-update request, then its task polled until it ends (the first poll at once, then
        after 1, 2, 4, 8 s ...). The task, an error of the request (SystemRefused/BenchlingError), or None for a
        task still RUNNING after TASK_WAIT_SECONDS. An error while polling propagates (the chunk stays `unknown`)."""
        link = self._submit(chunk)
        if isinstance(link, Exception):
            return link
        start, delay = time.monotonic(), self.poll_interval
        while True:
            task = self._poll(link)
            if task.get("status") != "RUNNING":
                return task
            if time.monotonic() - start > TASK_WAIT_SECONDS:
                return None
            time.sleep(delay)
            delay = min(delay * 2, 8.0)

    def _submit(self, chunk: list[tuple[Action, Any]]) -> Any:
        try:
            self._count("bulk")
            link = self._call("POST", "/users:bulk-update",
                              {"users": [{"id": a.account_id, "isSuspended": a.action == "suspend"} for a, _ in chunk]})
            return link["taskId"]
        except (SystemRefused, BenchlingError) as e:
            return e

    def _poll(self, tid: str) -> dict:
        self._count("polls")
        return self._call("GET", f"/tasks/{tid}")

    def _settle(self, chunk: list[tuple[Action, Any]], task: dict | None, last: bool
                ) -> tuple[list[Result], list[tuple[Action, Any]]]:
        if task is None:  # left without an outcome row: `unknown`, settled by the next apply from live state
            log.warning("a bulk-update task was still running after %.0fs", TASK_WAIT_SECONDS)
            return [], []
        if task.get("status") == "SUCCEEDED":
            return [Result(a, "applied", None, b, a.result) for a, b in chunk], []
        errors = task.get("errors") or []
        if isinstance(errors, dict):
            errors = [errors]
        per_item = {int(e["index"]): str(e.get("message") or "error") for e in errors
                    if isinstance(e, dict) and isinstance(e.get("index"), int)}
        results = [Result(chunk[i][0], "failed", f"bulk-update task item error: {msg}", chunk[i][1], chunk[i][1])
                   for i, msg in sorted(per_item.items()) if i < len(chunk)]
        rest = [item for i, item in enumerate(chunk) if i not in per_item]
        if not rest:
            return results, []
        live = self.read_users([a.account_id for a, _ in rest])  # did the task apply the other items?
        again = []
        for a, b in rest:
            u = live.get(a.account_id)
            state = None if u is None else {"status": "suspended" if u.get("isSuspended") else "active"}
            if matches(state, a.result):
                results.append(Result(a, "applied", None, b, state))
            elif last or not per_item:
                results.append(Result(a, "failed", f"bulk-update task FAILED: {task.get('message') or 'no message'}", b, state))
            else:
                again.append((a, b))  # not applied because another item failed: sent again without it
        return results, again
