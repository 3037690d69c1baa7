"""Tenant fixture model for the Benchling simulator: load, validate, dump (the seeded generator: generate.py).

A tenant fixture is one JSON object with the arrays ``users``, ``apps``, ``teams``, ``memberships``,
``organizations``, ``projects`` and ``folders``. Each object is exactly what the API returns for it
(camelCase). Keys starting with ``_`` are read only by the simulator and never served. See README.md.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

COLLECTIONS = ("users", "apps", "teams", "memberships", "organizations", "projects", "folders")

ARCHIVE_REASONS = ("Made in error", "Retired", "Other")

# Keys every served object must carry. Nullable keys get a default of null when the fixture omits them;
# the others are required in the fixture.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "users": ("id", "name", "handle", "email", "isSuspended"),
    "apps": ("id", "name", "description", "createdAt", "modifiedAt", "creator", "apiURL", "webURL"),
    "teams": ("id", "name", "organization"),
    "organizations": ("id", "handle", "name"),
    "projects": ("id", "name", "owner"),
    "folders": ("id", "name", "projectId"),
}
_NULLABLE_DEFAULTS: dict[str, tuple[str, ...]] = {
    "users": ("apiKeyLastChangedAt", "passwordLastChangedAt"),
    "apps": ("archiveRecord", "appDefinition"),
    "teams": (),
    "organizations": (),
    "projects": ("archiveRecord",),
    "folders": ("parentFolderId", "archiveRecord"),
}
_PREFIX = {"users": "ent_", "apps": "app_", "teams": "team_", "organizations": "ent_",
           "projects": "src_", "folders": "lib_"}


class TenantError(ValueError):
    """A tenant fixture is invalid. The message names the offending object."""


def now_iso() -> str:
    """Now in UTC, in the API's format (milliseconds, ``Z``)."""
    return iso(datetime.now(timezone.utc))


def iso(dt: datetime) -> str:
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 date or datetime; UTC when no zone is given. Raises ValueError."""
    v = value.strip()
    if len(v) == 10:
        dt = datetime.strptime(v, "%Y-%m-%d")
    else:
        if v.endswith(("Z", "z")):
            v = v[:-1] + "+00:00"
        dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def _describe(kind: str, index: int, obj: Any) -> str:
    oid = obj.get("id") if isinstance(obj, dict) else None
    if kind == "memberships" and isinstance(obj, dict):
        user = obj.get("user") if isinstance(obj.get("user"), dict) else {}
        return f"memberships[{index}] (teamId={obj.get('teamId')!r}, user.id={user.get('id')!r})"
    return f"{kind}[{index}]" + (f" (id={oid!r})" if oid is not None else "")


@dataclass
class Tenant:
    users: list[dict] = field(default_factory=list)
    apps: list[dict] = field(default_factory=list)
    teams: list[dict] = field(default_factory=list)
    memberships: list[dict] = field(default_factory=list)
    organizations: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)
    folders: list[dict] = field(default_factory=list)

    # ---- I/O -------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> "Tenant":
        """Load and validate a fixture file. Raises TenantError (or OSError) on bad input."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise TenantError(f"{p}: not valid JSON: {e}") from None
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Any, source: str = "fixture") -> "Tenant":
        if not isinstance(data, dict):
            raise TenantError(f"{source}: the top level must be a JSON object with arrays {', '.join(COLLECTIONS)}")
        unknown = sorted(set(data) - set(COLLECTIONS))
        if unknown:
            raise TenantError(f"{source}: unknown top-level key(s) {unknown}; expected {', '.join(COLLECTIONS)}")
        kwargs = {}
        for kind in COLLECTIONS:
            items = data.get(kind, [])
            if not isinstance(items, list):
                raise TenantError(f"{source}: {kind!r} must be an array")
            kwargs[kind] = [dict(o) if isinstance(o, dict) else o for o in items]
        t = cls(**kwargs)
        t.validate(source)
        return t

    def to_dict(self) -> dict:
        return {kind: getattr(self, kind) for kind in COLLECTIONS}

    def dump(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    # ---- validation ------------------------------------------------------------------------
    def validate(self, source: str = "fixture") -> None:
        """Check ids and references; fill nullable keys the fixture omitted with null."""
        seen: dict[str, str] = {}
        for kind in ("users", "apps", "teams", "organizations", "projects", "folders"):
            for i, obj in enumerate(getattr(self, kind)):
                where = f"{source}: {_describe(kind, i, obj)}"
                if not isinstance(obj, dict):
                    raise TenantError(f"{where}: must be a JSON object")
                if not isinstance(obj.get("id"), str) or not obj["id"]:
                    raise TenantError(f"{where}: missing 'id'")
                for key in _NULLABLE_DEFAULTS[kind]:
                    obj.setdefault(key, None)
                missing = [k for k in _REQUIRED[kind] if k not in obj]
                if missing:
                    raise TenantError(f"{where}: missing key(s) {missing}")
                if obj["id"] in seen:
                    raise TenantError(f"{where}: duplicate id {obj['id']!r} (also {seen[obj['id']]})")
                seen[obj["id"]] = _describe(kind, i, obj)
        users = {u["id"] for u in self.users}
        apps = {a["id"] for a in self.apps}
        teams = {t["id"] for t in self.teams}
        orgs = {o["id"] for o in self.organizations}
        projects = {p["id"] for p in self.projects}
        folders = {f["id"]: f for f in self.folders}
        for i, t in enumerate(self.teams):
            org = t.get("organization")
            if org is not None and (not isinstance(org, dict) or org.get("id") not in orgs):
                raise TenantError(f"{source}: {_describe('teams', i, t)}: organization {org!r} is not a known organization")
        pairs: set[tuple[str, str]] = set()
        for i, m in enumerate(self.memberships):
            where = f"{source}: {_describe('memberships', i, m)}"
            if not isinstance(m, dict):
                raise TenantError(f"{where}: must be a JSON object")
            if m.get("teamId") not in teams:
                raise TenantError(f"{where}: teamId {m.get('teamId')!r} is not a known team")
            user = m.get("user")
            if not isinstance(user, dict) or (user.get("id") not in users and user.get("id") not in apps):
                raise TenantError(f"{where}: user {user!r} is not a known user or app")
            if m.get("role") not in ("ADMIN", "MEMBER"):
                raise TenantError(f"{where}: role {m.get('role')!r} must be ADMIN or MEMBER")
            key = (m["teamId"], user["id"])
            if key in pairs:
                raise TenantError(f"{where}: duplicate membership")
            pairs.add(key)
        for i, p in enumerate(self.projects):
            owner = p.get("owner")
            if not isinstance(owner, dict) or (owner.get("id") not in users and owner.get("id") not in orgs):
                raise TenantError(f"{source}: {_describe('projects', i, p)}: owner {owner!r} is not a known user or organization")
        for i, f in enumerate(self.folders):
            where = f"{source}: {_describe('folders', i, f)}"
            if f.get("projectId") not in projects:
                raise TenantError(f"{where}: projectId {f.get('projectId')!r} is not a known project")
            parent = f.get("parentFolderId")
            if parent is not None:
                if parent not in folders:
                    raise TenantError(f"{where}: parentFolderId {parent!r} is not a known folder")
                if parent == f["id"]:
                    raise TenantError(f"{where}: a folder cannot be its own parent")
        for kind, key in (("users", "_modifiedAt"), ("apps", "modifiedAt"), ("apps", "createdAt"),
                          ("teams", "_modifiedAt"), ("organizations", "_modifiedAt"),
                          ("projects", "_modifiedAt"), ("folders", "_modifiedAt")):
            for i, obj in enumerate(getattr(self, kind)):
                v = obj.get(key)
                if v is not None:
                    try:
                        parse_time(v)
                    except (ValueError, TypeError, AttributeError):
                        raise TenantError(f"{source}: {_describe(kind, i, obj)}: {key} {v!r} is not an RFC 3339 time") from None


# ---- generator ---------------------------------------------------------------------------------
