"""The Benchling simulator: Users: list, get, activity, create, update, bulk create/update (answered by a task)."""
from __future__ import annotations

import secrets

from ...simkit.wire import Request, Response
from .api import (ApiError, _csv, _public, bad_request,
                  route)
from .tenant import now_iso


class Users:
    """Endpoints of `BenchlingSimulator` (a mixin: the state is the simulator's)."""

    @route("GET", "/users")
    def list_users(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "modifiedAt:desc")
        self._ids_filter(req, "users", filters, fkey)
        self._name_filters(req, filters, fkey)
        self._modified_filter(req, "users", filters, fkey)
        self._group_filter(req, "memberOf", self._groups_of, filters, fkey)
        self._group_filter(req, "adminOf", self._admin_of, filters, fkey)
        handles = _csv(req.arg("handles"))
        if handles is not None:
            hs = set(handles)
            filters.append(("handles", lambda o: o.get("handle") in hs))
            fkey.append(("handles", sorted(hs)))
        emails = _csv(req.arg("email.anyOf"))
        if emails is not None:
            self._max100("email.anyOf", emails)
            es = {e.casefold() for e in emails}
            filters.append(("email", lambda o: str(o.get("email", "")).casefold() in es))
            fkey.append(("email.anyOf", sorted(es)))
        return self._paginate(req, "users", "users", self.tenant.users, sort, filters, tuple(map(str, fkey)))


    @route("GET", "/users/{user_id}")
    def get_user(self, req: Request, user_id: str) -> Response:
        return Response(200, _public(self._get("users", "User", user_id)))


    @route("GET", "/users/{user_id}/activity")
    def get_user_activity(self, req: Request, user_id: str) -> Response:
        if self.activity_forbidden:
            raise ApiError(403, "You do not have permission to read user activity.", type_="invalid_request_error")
        u = self._get("users", "User", user_id)
        return Response(200, {"userId": u["id"], "lastSeen": u.get("_lastSeen")})

    _USER_CREATE = {"name", "email", "handle"}
    _USER_UPDATE = {"name", "email", "handle", "isSuspended"}


    def _check_user_fields(self, body: dict, allowed: set, required: set, where: str) -> None:
        extra = sorted(set(body) - allowed)
        if extra:
            raise bad_request(f"{where}: unknown field(s) {', '.join(extra)}.")
        missing = sorted(required - set(body))
        if missing:
            raise bad_request(f"{where}: missing required field(s) {', '.join(missing)}.")
        for k, v in body.items():
            if k == "isSuspended":
                if not isinstance(v, bool):
                    raise bad_request(f"{where}: isSuspended must be a boolean.")
            elif k != "id" and (not isinstance(v, str) or not v):
                raise bad_request(f"{where}: {k} must be a non-empty string.")


    def _new_user(self, body: dict, now: str, taken: set[str]) -> dict:
        if body["handle"] in taken:
            raise bad_request(f"Handle {body['handle']!r} is already taken.")
        taken.add(body["handle"])
        alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        while True:
            uid = "ent_" + "".join(secrets.choice(alnum) for _ in range(8))
            if all(uid not in idx for idx in self._by_id.values()):
                break
        return {"id": uid, "name": body["name"], "handle": body["handle"], "email": body["email"],
                "isSuspended": False, "apiKeyLastChangedAt": None, "passwordLastChangedAt": None,
                "_createdAt": now, "_modifiedAt": now, "_lastSeen": None}


    def _apply_user_update(self, user: dict, body: dict, now: str) -> None:
        if "handle" in body and body["handle"] != user["handle"]:
            if any(u["handle"] == body["handle"] for u in self.tenant.users):
                raise bad_request(f"Handle {body['handle']!r} is already taken.")
        for k in ("name", "email", "handle", "isSuspended"):
            if k in body:
                user[k] = body[k]
        self._touch(user, now)
        if "name" in body or "handle" in body:
            for m in self.tenant.memberships:
                if m["user"]["id"] == user["id"]:
                    m["user"] = {"id": user["id"], "handle": user["handle"], "name": user["name"]}
            for p in self.tenant.projects:
                if p["owner"].get("id") == user["id"]:
                    p["owner"] = {"id": user["id"], "handle": user["handle"], "name": user["name"]}


    @route("POST", "/users")
    def create_user(self, req: Request) -> Response:
        body = self._json_body(req)
        self._check_user_fields(body, self._USER_CREATE, self._USER_CREATE, "UserCreate")
        user = self._new_user(body, now_iso(), {u["handle"] for u in self.tenant.users})
        self.tenant.users.append(user)
        self._changed()
        return Response(201, _public(user))


    @route("PATCH", "/users/{user_id}")
    def update_user(self, req: Request, user_id: str) -> Response:
        user = self._get("users", "User", user_id)
        body = self._json_body(req)
        self._check_user_fields(body, self._USER_UPDATE, set(), "UserUpdate")
        if user_id in self.reject_user_updates:
            raise bad_request(self.reject_user_updates[user_id])
        self._apply_user_update(user, body, now_iso())
        self._changed()
        return Response(200, _public(user))


    @route("POST", "/users:bulk-create")
    def bulk_create_users(self, req: Request) -> Response:
        body = self._json_body(req)
        users = body.get("users")
        if set(body) - {"users"} or not isinstance(users, list):
            raise bad_request("UserBulkCreateRequest must be {\"users\": [UserCreate, ...]}.")
        for i, u in enumerate(users):
            if not isinstance(u, dict):
                raise bad_request(f"users[{i}] must be an object.")
            self._check_user_fields(u, self._USER_CREATE, self._USER_CREATE, f"users[{i}]")
        now, taken = now_iso(), {u["handle"] for u in self.tenant.users}
        created = [self._new_user(u, now, taken) for u in users]
        self.tenant.users.extend(created)
        self._changed()
        return self._task({"status": "SUCCEEDED", "response": {"users": [_public(u) for u in created]}})


    @route("POST", "/users:bulk-update")
    def bulk_update_users(self, req: Request) -> Response:
        body = self._json_body(req)
        users = body.get("users")
        if set(body) - {"users"} or not isinstance(users, list):
            raise bad_request("UserBulkUpdateRequest must be {\"users\": [UserBulkUpdate, ...]}.")
        for i, u in enumerate(users):
            if not isinstance(u, dict) or not isinstance(u.get("id"), str):
                raise bad_request(f"users[{i}] must be an object with an id.")
            self._check_user_fields(u, self._USER_UPDATE | {"id"}, {"id"}, f"users[{i}]")
        rejected = [(i, u["id"]) for i, u in enumerate(users) if u["id"] in self.reject_user_updates]
        if rejected:
            # per-item errors. ASSUMPTION (the reference marks it uncertain): a bulk task is all or nothing,
            # so a FAILED task applied none of its items; `errors` lists the failed items by index
            return self._task({"status": "FAILED", "message": f"{len(rejected)} of {len(users)} users could not be updated.",
                               "errors": [{"index": i, "message": self.reject_user_updates[uid]} for i, uid in rejected]})
        unknown = [u["id"] for u in users if u["id"] not in self._by_id["users"]]
        if unknown:
            msg = f"Invalid ids: {', '.join(unknown)}"
            return self._task({"status": "FAILED", "message": msg,
                               "errors": [{"index": i, "message": f"User {u['id']} not found."}
                                          for i, u in enumerate(users) if u["id"] in unknown]})
        now = now_iso()
        updated = []
        for u in users:
            user = self._by_id["users"][u["id"]]
            self._apply_user_update(user, {k: v for k, v in u.items() if k != "id"}, now)
            updated.append(user)
        self._changed()
        return self._task({"status": "SUCCEEDED", "response": {"users": [_public(u) for u in updated]}})
