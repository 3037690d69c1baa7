"""A seeded generator of Benchling tenants of any size (`generate_tenant`), for the demo, tests and benchmarks:
deterministic for a seed, with the awkward data a real tenant has (unicode names, apps in teams, archived
projects and folders, suspended users)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from .tenant import ARCHIVE_REASONS, Tenant, iso, parse_time


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
