"""The Benchling simulator: Folders: list, get, archive and unarchive (with their descendants)."""
from __future__ import annotations


from ...simkit.wire import Request, Response
from .api import (_public, route)
from .tenant import now_iso


class Folders:
    """Endpoints of `BenchlingSimulator` (a mixin: the state is the simulator's)."""

    @route("GET", "/folders")
    def list_folders(self, req: Request) -> Response:
        filters: list = []
        fkey: list = []
        sort = self._sort(req, "name")
        self._ids_filter(req, "folders", filters, fkey)
        self._archive_filter(req, filters, fkey)
        self._name_filters(req, filters, fkey, include_names=False)
        parent = req.arg("parentFolderId")
        if parent is not None:
            want = None if parent == "NO_PARENT" else parent
            filters.append(("parentFolderId", lambda o: o.get("parentFolderId") == want))
            fkey.append(("parentFolderId", parent))
        project = req.arg("projectId")
        if project is not None:
            filters.append(("projectId", lambda o: o.get("projectId") == project))
            fkey.append(("projectId", project))
        return self._paginate(req, "folders", "folders", self.tenant.folders, sort, filters, tuple(map(str, fkey)))


    @route("GET", "/folders/{folder_id}")
    def get_folder(self, req: Request, folder_id: str) -> Response:
        return Response(200, _public(self._get("folders", "Folder", folder_id)))


    def _descendants(self, folder_id: str) -> list[str]:
        out, stack = [], list(self._children.get(folder_id, ()))
        while stack:
            fid = stack.pop()
            out.append(fid)
            stack.extend(self._children.get(fid, ()))
        return out


    @route("POST", "/folders:archive")
    def archive_folders(self, req: Request) -> Response:
        ids, reason = self._archive_body(req, "folderIds", "folders", True)
        now, changed = now_iso(), list(ids)
        for fid in ids:
            f = self._by_id["folders"][fid]
            f["archiveRecord"] = {"reason": reason}
            f.pop("_archivedBy", None)
            self._touch(f, now)
            for did in self._descendants(fid):
                d = self._by_id["folders"][did]
                if d.get("archiveRecord") is None:
                    d["archiveRecord"] = {"reason": reason}
                    d["_archivedBy"] = fid
                    self._touch(d, now)
                    changed.append(did)
        self._changed()
        return Response(200, self._archival(None, changed))


    @route("POST", "/folders:unarchive")
    def unarchive_folders(self, req: Request) -> Response:
        ids, _ = self._archive_body(req, "folderIds", "folders", False)
        now, changed = now_iso(), list(ids)
        for fid in ids:
            f = self._by_id["folders"][fid]
            f["archiveRecord"] = None
            f.pop("_archivedBy", None)
            self._touch(f, now)
            for did in self._descendants(fid):
                d = self._by_id["folders"][did]
                if d.get("_archivedBy") == fid:
                    d["archiveRecord"] = None
                    d.pop("_archivedBy", None)
                    self._touch(d, now)
                    changed.append(did)
        self._changed()
        return Response(200, self._archival(None, changed))
