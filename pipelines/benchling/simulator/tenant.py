"""Tenant fixture model for the Benchling simulator: load, validate, dump, and a seeded generator.

A tenant fixture is one JSON object with the arrays ``users``, ``apps``, ``teams``, ``memberships``,
``organizations``, ``projects`` and ``folders``. Each object is exactly what the API returns for it
(camelCase). Keys starting with ``_`` are read only by the simulator and never served. See README.md.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
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
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_FIRST = ["Louis", "Marie", "Rosalind", "Barbara", "Gregor", "Ada", "Élodie", "José", "Zoë", "Søren", "Łukasz",
          "François", "Ångström", "Nuño", "İlker", "Chloé", "Björn", "Raphaël", "Mónica", "Dvořák", "Ahmed",
          "Priya", "Kwame", "Olusegun", "Ana", "Tomás", "Hélène", "Jürgen", "Maëlle", "Ñusta", "Kenji", "Mei",
          "Wei", "Yuki", "Hana", "Ji-woo", "Aarav", "Sofía", "Nikolai", "Fatima"]
_LAST = ["Pasteur", "Curie", "Franklin", "McClintock", "Mendel", "Lovelace", "Müller", "García", "Nørgaard",
         "Kowalski", "Dubois", "Çelik", "Østergaard", "Smith", "Nguyễn", "Okafor", "Silva", "Rossi", "Novák",
         "Fischer", "Johansson", "Haddad", "Patel", "Kim", "Ivanova", "O'Brien", "van der Berg", "Żółć"]
_CJK = ["山田 太郎", "李 小龙", "王 芳", "佐藤 花子", "김 민준", "陈 静", "鈴木 一郎", "박 서연"]
_EMOJI = ["🧬", "🔬", "🧪", "🦠", "🌱", "⚗️", "🧫", "💉"]
_TEAM_WORDS = ["Assay Dev", "Protein Eng", "Cell Line", "Bioinformatics", "Antibody Discovery", "Gene Therapy",
               "QC", "Process Dev", "Analytical", "Screening", "Structural Bio", "Formulation", "Vector Core",
               "Immunology", "Microbiology", "Génomique", "データ科学", "Platform", "Automation", "Clinical Ops"]
_PROJECT_WORDS = ["CRISPR", "mAb", "AAV", "Kinase", "Enzyme", "Vaccine", "Biomarker", "Plasmid", "Strain", "Peptide",
                  "Lentivirus", "Organoid", "Fermentation", "Phage", "siRNA", "Toxicology", "Étude", "研究", "Señal"]
_FOLDER_WORDS = ["Data", "Protocols", "Results", "Raw", "Plates", "Sequences", "Analyses", "Archive", "Drafts",
                 "Run", "Batch", "Lot", "Samples", "Notebook", "Figures", "Reagents", "Expériences", "結果", "Año"]


def _base_time() -> datetime:
    return datetime(2023, 1, 1, tzinfo=timezone.utc)


def generate_tenant(
    seed: int = 1,
    users: int = 200,
    apps: int = 10,
    teams: int = 20,
    projects: int = 50,
    folders: int = 400,
    organizations: int | None = None,
    present: datetime | None = None,
) -> Tenant:
    """Generate a realistic tenant, deterministic for ``seed``, the sizes and ``present``.

    ``present`` is "now" for the users' `_lastSeen` (default: a fixed day after every generated time):
    about 20% never logged in; suspended users were last seen before their suspension (`_modifiedAt`);
    the others mostly within the last 30 days of ``present``, some 30-180 days and a few 180-720 days
    before it, never before their creation. `whsync demo` passes the current time.

    Shapes: some suspended users, users in no team, unicode names (accents, CJK, emoji), teams of skewed
    sizes (the first team is as large as the tenant allows up to 400 members, one team has a single member),
    apps that are team members, projects owned by users or organizations, archived projects and folders with
    each documented reason (archives cascade to folder contents), folders nested up to 8 levels deep.
    """
    for name, n in (("users", users), ("apps", apps), ("teams", teams), ("projects", projects), ("folders", folders)):
        if n < 0:
            raise ValueError(f"{name} must be >= 0, got {n}")
    rng = random.Random(seed)
    used: set[str] = set()

    def new_id(prefix: str) -> str:
        while True:
            i = prefix + "".join(rng.choices(_ALNUM, k=8))
            if i not in used:
                used.add(i)
                return i

    base = _base_time()
    span = int(timedelta(days=730).total_seconds())

    def times() -> tuple[str, str]:
        c = base + timedelta(seconds=rng.randrange(span), milliseconds=rng.randrange(1000))
        m = c + timedelta(seconds=rng.randrange(span // 4 + 1))
        return iso(c), iso(m)

    present = present or base + timedelta(days=730 + 183)
    seen_rng = random.Random(f"lastSeen-{seed}")  # its own stream: the other objects stay as they were

    def last_seen(created: str, modified: str, suspended: bool) -> str:
        c, m = parse_time(created), parse_time(modified)
        if suspended:
            return iso(c + (m - c) * seen_rng.random())
        r = seen_rng.random()
        days = seen_rng.uniform(0, 30) if r < 0.75 else seen_rng.uniform(30, 180) if r < 0.92 else seen_rng.uniform(180, 720)
        return iso(max(c, present - timedelta(days=days)))

    t = Tenant()
    n_orgs = organizations if organizations is not None else max(1, min(5, teams // 20 + 1))
    for i in range(n_orgs):
        c, m = times()
        word = ["Acme Bio", "Genentech Labs", "Ñandú Therapeutics", "東京バイオ", "Helix 🧬 Research"][i % 5]
        name = word if i < 5 else f"{word} {i}"
        t.organizations.append({"id": new_id("ent_"), "handle": f"org{i}", "name": name,
                                "_createdAt": c, "_modifiedAt": m})

    handles: set[str] = set()
    for i in range(users):
        r = rng.random()
        if r < 0.06:
            name = rng.choice(_CJK)
        else:
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            if r > 0.97:
                name += f" {rng.choice(_EMOJI)}"
        ascii_base = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:12] or "user"
        handle = ascii_base
        while handle in handles:
            handle = f"{ascii_base}{rng.randrange(10, 10000)}"
        handles.add(handle)
        c, m = times()
        user = {
            "id": new_id("ent_"),
            "name": name,
            "handle": handle,
            "email": f"{handle}@example.com",
            "isSuspended": rng.random() < 0.05,
            "apiKeyLastChangedAt": m if rng.random() < 0.2 else None,
            "passwordLastChangedAt": c if rng.random() < 0.7 else None,
            "_createdAt": c,
            "_modifiedAt": m,
        }
        seen = rng.random() < 0.8
        user["_lastSeen"] = last_seen(c, m, user["isSuspended"]) if seen else None
        t.users.append(user)

    for i in range(apps):
        c, m = times()
        aid = new_id("app_")
        creator = t.users[rng.randrange(users)] if users else None
        has_def = rng.random() < 0.5
        t.apps.append({
            "id": aid,
            "name": f"{rng.choice(_PROJECT_WORDS)} Sync App {i}",
            "description": rng.choice(["", "Pushes plate reads into Benchling.", "Intégration LIMS — nightly."]),
            "createdAt": c,
            "modifiedAt": m,
            "creator": _summary(creator) if creator else {"id": "ent_00000000", "handle": "system", "name": "System"},
            "archiveRecord": {"reason": ARCHIVE_REASONS[i % 3]} if rng.random() < 0.1 else None,
            "appDefinition": {"id": new_id("appdef_"), "versionNumber": f"1.{rng.randrange(10)}.0"} if has_def else None,
            "apiURL": f"https://example.benchling.com/api/v2/apps/{aid}",
            "webURL": f"https://example.benchling.com/developer/apps/{aid}",
        })

    # Team membership pool: ~5% of users are in no team at all.
    pool = [u for u in t.users if rng.random() >= 0.05] if users > 2 else list(t.users)
    members_pool = [_summary(u) for u in pool] + [{"id": a["id"], "handle": None, "name": a["name"]} for a in t.apps]
    app_summaries = [x for x in members_pool if x["id"].startswith("app_")]
    for i in range(teams):
        c, m = times()
        org = t.organizations[i % n_orgs]
        word = _TEAM_WORDS[i % len(_TEAM_WORDS)]
        name = word if i < len(_TEAM_WORDS) else f"{word} {i // len(_TEAM_WORDS) + 1}"
        team = {"id": new_id("team_"), "name": name, "organization": _summary(org), "_createdAt": c, "_modifiedAt": m}
        t.teams.append(team)
        if not members_pool:
            continue
        if i == 0:
            size = min(len(members_pool), 400)
        elif i == 1:
            size = 1
        else:
            size = min(len(members_pool), 350, max(1, int(rng.paretovariate(1.1) * 3)))
        chosen = rng.sample(members_pool, size)
        if app_summaries and i % 4 == 2 and not any(x["id"].startswith("app_") for x in chosen):
            chosen.append(rng.choice(app_summaries))
        for j, s in enumerate(chosen):
            summary = dict(s)
            if summary["handle"] is None:  # an app: UserSummary has a handle key; apps have none
                summary["handle"] = summary["id"]
            role = "ADMIN" if j == 0 or rng.random() < 0.08 else "MEMBER"
            t.memberships.append({"teamId": team["id"], "user": summary, "role": role})

    owners = [_summary(u) for u in t.users] + [_summary(o) for o in t.organizations]
    for i in range(projects):
        c, m = times()
        r = rng.random()
        archived = {"reason": ARCHIVE_REASONS[i % 3]} if (r < 0.16 or (3 <= i <= 5 and projects > 8)) else None
        if i < 3:
            archived = None
        t.projects.append({
            "id": new_id("src_"),
            "name": f"{rng.choice(_PROJECT_WORDS)} {rng.choice(['Program', 'Study', 'Pipeline', 'Campaign'])} {i + 1}",
            "owner": dict(rng.choice(owners)) if owners else _summary(t.organizations[0]),
            "archiveRecord": archived,
            "_createdAt": c,
            "_modifiedAt": m,
        })

    by_project: dict[str, list[tuple[str, int]]] = {}
    depth: dict[str, int] = {}
    fidx: dict[str, int] = {}
    for i in range(folders):
        if not t.projects:
            break
        c, m = times()
        if i < 6:  # a chain 6 deep in the first project
            proj = t.projects[0]
            parent = t.folders[-1]["id"] if i > 0 else None
        else:
            proj = t.projects[rng.randrange(len(t.projects))]
            existing = by_project.get(proj["id"])
            parent = None
            if existing and rng.random() < 0.7:
                cand = existing[rng.randrange(len(existing))]
                if cand[1] < 8:
                    parent = cand[0]
        fid = new_id("lib_")
        d = depth[parent] + 1 if parent else 1
        depth[fid] = d
        archived, by = None, None
        parent_obj = t.folders[fidx[parent]] if parent else None
        if proj["archiveRecord"] is not None:
            archived, by = dict(proj["archiveRecord"]), proj["id"]
        elif parent_obj is not None and parent_obj["archiveRecord"] is not None:
            archived, by = dict(parent_obj["archiveRecord"]), parent_obj.get("_archivedBy") or parent
        elif i >= 6 and rng.random() < 0.06:
            archived = {"reason": ARCHIVE_REASONS[rng.randrange(3)]}
        fidx[fid] = len(t.folders)
        extra = {"_archivedBy": by} if by else {}
        t.folders.append({
            "id": fid,
            "name": f"{rng.choice(_FOLDER_WORDS)} {d}.{i + 1}",
            "parentFolderId": parent,
            "projectId": proj["id"],
            "archiveRecord": archived,
            "_createdAt": c,
            "_modifiedAt": m,
            **extra,
        })
        by_project.setdefault(proj["id"], []).append((fid, d))
    # Make sure every documented reason appears on folders when there are enough of them.
    if len(t.folders) >= 20:
        live = [f for f in t.folders[6:] if f["archiveRecord"] is None]
        have = {f["archiveRecord"]["reason"] for f in t.folders if f["archiveRecord"]}
        for reason in ARCHIVE_REASONS:
            if reason not in have and live:
                victim = live.pop(rng.randrange(len(live)))
                if not any(g["parentFolderId"] == victim["id"] for g in t.folders):
                    victim["archiveRecord"] = {"reason": reason}
    return t


def _summary(o: dict) -> dict:
    return {"id": o["id"], "handle": o.get("handle"), "name": o["name"]}
