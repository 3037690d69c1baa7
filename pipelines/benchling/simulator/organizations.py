"""The Benchling simulator: Organizations: list and get."""
from __future__ import annotations


from ...simkit.wire import Request, Response
from .api import (_public, route)


class Organizations:
    """Endpoints of `BenchlingSimulator` (a mixin: the state is the simulator's)."""

    @route("GET", "/organizations")
    def list_organizations(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "modifiedAt:desc")
        self._ids_filter(req, "organizations", filters, fkey)
        self._name_filters(req, filters, fkey)
        self._modified_filter(req, "organizations", filters, fkey)
        return self._paginate(req, "organizations", "organizations", self.tenant.organizations, sort, filters,
                              tuple(map(str, fkey)))


    @route("GET", "/organizations/{organization_id}")
    def get_organization(self, req: Request, organization_id: str) -> Response:
        return Response(200, _public(self._get("organizations", "Organization", organization_id)))
