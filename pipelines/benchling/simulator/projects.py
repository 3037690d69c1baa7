"""The Benchling simulator: Projects: list, get, archive and unarchive (with their folders)."""
from __future__ import annotations

from typing import Optional

from ...simkit.wire import Request, Response
from .api import (ARCHIVAL_KEYS, _public, bad_request,
                  route)
from .tenant import ARCHIVE_REASONS, now_iso


class Projects:
    """Endpoints of `BenchlingSimulator` (a mixin: the state is the simulator's)."""

    @route("GET", "/projects")
    def list_projects(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "modifiedAt")
        self._ids_filter(req, "projects", filters, fkey)
        self._archive_filter(req, filters, fkey)
        name = req.arg("name")
        if name is not None:
            filters.append(("name", lambda o: o.get("name") == name))
            fkey.append(("name", name))
        return self._paginate(req, "projects", "projects", self.tenant.projects, sort, filters, tuple(map(str, fkey)))


    @route("GET", "/projects/{project_id}")
    def get_project(self, req: Request, project_id: str) -> Response:
        return Response(200, _public(self._get("projects", "Project", project_id)))


    def _archive_body(self, req: Request, ids_key: str, kind: str, archive: bool) -> tuple[list[str], Optional[str]]:
        body = self._json_body(req)
        allowed = {ids_key, "reason"} if archive else {ids_key}
        extra = sorted(set(body) - allowed)
        if extra:
            raise bad_request(f"Unknown field(s) {', '.join(extra)}.")
        ids = body.get(ids_key)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise bad_request(f"{ids_key} must be a list of ids.")
        reason = body.get("reason")
        if archive and reason not in ARCHIVE_REASONS:
            raise bad_request(f"Invalid reason {reason!r}: must be one of {', '.join(ARCHIVE_REASONS)}.")
        invalid = [i for i in ids if i not in self._by_id[kind]]
        if invalid:
            raise bad_request(f"Invalid ids: {', '.join(invalid)}")
        return ids, reason


    def _archival(self, project_ids: Optional[list[str]], folder_ids: list[str]) -> dict:
        body: dict[str, list[str]] = {k: [] for k in ARCHIVAL_KEYS}
        body["folderIds"] = folder_ids
        if project_ids is not None:
            body["projectIds"] = project_ids
        return body


    @route("POST", "/projects:archive")
    def archive_projects(self, req: Request) -> Response:
        ids, reason = self._archive_body(req, "projectIds", "projects", True)
        now, folders = now_iso(), []
        wanted = set(ids)
        for pid in ids:
            p = self._by_id["projects"][pid]
            p["archiveRecord"] = {"reason": reason}
            self._touch(p, now)
        for f in self.tenant.folders:
            if f["projectId"] in wanted and f.get("archiveRecord") is None:
                f["archiveRecord"] = {"reason": reason}
                f["_archivedBy"] = f["projectId"]
                self._touch(f, now)
                folders.append(f["id"])
        self._changed()
        return Response(200, self._archival(ids, folders))


    @route("POST", "/projects:unarchive")
    def unarchive_projects(self, req: Request) -> Response:
        ids, _ = self._archive_body(req, "projectIds", "projects", False)
        now, folders = now_iso(), []
        wanted = set(ids)
        for pid in ids:
            p = self._by_id["projects"][pid]
            p["archiveRecord"] = None
            self._touch(p, now)
        for f in self.tenant.folders:
            if f.get("_archivedBy") in wanted and f["projectId"] in wanted:
                f["archiveRecord"] = None
                f.pop("_archivedBy", None)
                self._touch(f, now)
                folders.append(f["id"])
        self._changed()
        return Response(200, self._archival(ids, folders))
