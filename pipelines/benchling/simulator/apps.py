"""The Benchling simulator: Apps (service accounts): list and get."""
from __future__ import annotations


from ...simkit.wire import Request, Response
from .api import (_csv, _public, route)


class Apps:
    """Endpoints of `BenchlingSimulator` (a mixin: the state is the simulator's)."""

    @route("GET", "/apps")
    def list_apps(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "modifiedAt")
        self._ids_filter(req, "apps", filters, fkey)
        self._name_filters(req, filters, fkey)
        self._modified_filter(req, "apps", filters, fkey)
        self._group_filter(req, "memberOf", self._groups_of, filters, fkey)
        self._group_filter(req, "adminOf", self._admin_of, filters, fkey)
        creators = _csv(req.arg("creatorIds"))
        if creators is not None:
            cs = set(creators)
            filters.append(("creatorIds", lambda o: (o.get("creator") or {}).get("id") in cs))
            fkey.append(("creatorIds", sorted(cs)))
        appdef = req.arg("appDefinitionId")
        if appdef is not None:
            filters.append(("appDefinitionId", lambda o: (o.get("appDefinition") or {}).get("id") == appdef))
            fkey.append(("appDefinitionId", appdef))
        return self._paginate(req, "apps", "apps", self.tenant.apps, sort, filters, tuple(map(str, fkey)))


    @route("GET", "/apps/{app_id}")
    def get_app(self, req: Request, app_id: str) -> Response:
        return Response(200, _public(self._get("apps", "App", app_id)))
