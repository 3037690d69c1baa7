"""The Benchling simulator: Teams and team memberships: list, get; memberships created, updated and deleted."""
from __future__ import annotations


from ...simkit.wire import Request, Response
from .api import (_csv, _membership, _public, bad_request,
                  not_found, route)


class Teams:
    """Endpoints of `BenchlingSimulator` (a mixin: the state is the simulator's)."""

    @route("GET", "/teams")
    def list_teams(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "modifiedAt:desc")
        self._ids_filter(req, "teams", filters, fkey)
        self._name_filters(req, filters, fkey)
        self._modified_filter(req, "teams", filters, fkey)
        org = req.arg("organizationId")
        if org is not None:
            filters.append(("organizationId", lambda o: (o.get("organization") or {}).get("id") == org))
            fkey.append(("organizationId", org))
        for param, admins in (("hasMembers", False), ("hasAdmins", True)):
            ids = _csv(req.arg(param))
            if ids is not None:
                need = set(ids)

                def pred(o, need=need, admins=admins):
                    have = {m["user"]["id"] for m in self._members.get(o["id"], ())
                            if not admins or m["role"] == "ADMIN"}
                    return need <= have
                filters.append((param, pred))
                fkey.append((param, sorted(need)))
        return self._paginate(req, "teams", "teams", self.tenant.teams, sort, filters, tuple(map(str, fkey)))


    @route("GET", "/teams/{team_id}")
    def get_team(self, req: Request, team_id: str) -> Response:
        return Response(200, _public(self._get("teams", "Team", team_id)))


    @route("GET", "/teams/{team_id}/memberships")
    def list_team_memberships(self, req: Request, team_id: str) -> Response:
        self._get("teams", "Team", team_id)
        filters: list = []
        fkey: list = []
        role = req.arg("role")
        if role is not None:
            filters.append(("role", lambda m: m["role"] == role))
            fkey.append(("role", role))
        members = self._members.get(team_id, [])
        resp = self._paginate(req, "memberships", "memberships", members, None, filters, tuple(map(str, fkey)))
        resp.body["memberships"] = [_membership(m) for m in resp.body["memberships"]]
        return resp


    def _find_membership(self, team_id: str, user_id: str) -> dict:
        self._get("teams", "Team", team_id)
        for m in self._members.get(team_id, ()):
            if m["user"]["id"] == user_id:
                return m
        raise not_found("Membership of", user_id)


    @route("GET", "/teams/{team_id}/memberships/{user_id}")
    def get_team_membership(self, req: Request, team_id: str, user_id: str) -> Response:
        return Response(200, _membership(self._find_membership(team_id, user_id)))


    @route("POST", "/teams/{team_id}/memberships")
    def create_team_membership(self, req: Request, team_id: str) -> Response:
        team = self._get("teams", "Team", team_id)
        body = self._json_body(req)
        uid, role = body.get("userId"), body.get("role", "MEMBER")
        if set(body) - {"userId", "role"}:
            raise bad_request(f"MembershipCreate: unknown field(s) {', '.join(sorted(set(body) - {'userId', 'role'}))}.")
        if role not in ("ADMIN", "MEMBER"):
            raise bad_request(f"Invalid role {role!r}: must be ADMIN or MEMBER.")
        principal = self._by_id["users"].get(uid) or self._by_id["apps"].get(uid)
        if not isinstance(uid, str) or principal is None:
            raise bad_request(f"Invalid userId {uid!r}: not a user or app of this tenant.")
        if any(m["user"]["id"] == uid for m in self._members.get(team_id, ())):
            raise bad_request(f"{uid} is already a member of {team_id}.")
        m = {"teamId": team_id, "user": {"id": uid, "handle": principal.get("handle", uid), "name": principal["name"]},
             "role": role}
        self.tenant.memberships.append(m)
        self._touch(team)
        self._changed()
        return Response(201, _membership(m))


    @route("PATCH", "/teams/{team_id}/memberships/{user_id}")
    def update_team_membership(self, req: Request, team_id: str, user_id: str) -> Response:
        m = self._find_membership(team_id, user_id)
        body = self._json_body(req)
        role = body.get("role")
        if set(body) - {"role"} or role not in ("ADMIN", "MEMBER"):
            raise bad_request(f"MembershipUpdate must be {{\"role\": \"ADMIN\"|\"MEMBER\"}}, got {body!r}.")
        m["role"] = role
        self._touch(self._by_id["teams"][team_id])
        self._changed()
        return Response(200, _membership(m))


    @route("DELETE", "/teams/{team_id}/memberships/{user_id}")
    def delete_team_membership(self, req: Request, team_id: str, user_id: str) -> Response:
        m = self._find_membership(team_id, user_id)
        self.tenant.memberships.remove(m)
        self._touch(self._by_id["teams"][team_id])
        self._changed()
        return Response(204, None)
