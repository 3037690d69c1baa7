"""The Okta simulator's data: the directory fixture, a generated one, and Okta's `search`/`filter`
expressions for the fields a sync (and the tests) use.

Fixture (JSON)::

    {"api_token": "00...",                      # SSWS token with an admin role
     "api_tokens_without_rights": ["00..."],    # valid tokens without an admin role: 200 and [] for users
     "service_apps": [{"client_id": "0oa...", "public_key": "-----BEGIN PUBLIC KEY-----...",
                       "scopes": ["okta.users.read", ...], "admin": true}],
     "users":  [User, ...],                     # as the API returns them (profile, status, dates)
     "groups": [Group + {"_members": [user id, ...]}],
     "apps":   [Application + {"_users": [AppUser, ...]}],  # AppUser: id (the user's), scope, status, ...
     "_max_limits": {"users": 5}}              # optional: serve smaller pages than Okta's maxima

Objects are what the API returns; underscore keys are read only by the simulator.
"""
from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

DEMO_API_TOKEN = "00demo-okta-api-token-0123456789abcdef"
STATUSES = ("STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT", "SUSPENDED",
            "DEPROVISIONED")


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def load_fixture(path: str | Path) -> dict[str, Any]:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    raw.setdefault("api_token", DEMO_API_TOKEN)
    return raw


def _id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(17))


def make_user(rng: random.Random, email: str, first: str, last: str, status: str, created: datetime,
              changed: datetime | None = None, login: str | None = None) -> dict[str, Any]:
    """A User object as `GET /api/v1/users` returns it (credentials omitted, as with okta-response)."""
    active = status not in ("STAGED",)
    activated = created + timedelta(hours=1) if active else None
    changed = changed or activated
    uid = _id(rng, "00u")
    return {
        "id": uid, "status": status, "created": iso(created), "activated": iso(activated),
        "statusChanged": iso(changed), "lastLogin": iso(changed + timedelta(days=3)) if changed and status != "STAGED" and status != "PROVISIONED" else None,
        "lastUpdated": iso(changed or created), "passwordChanged": iso(activated),
        "type": {"id": "oty1demo0000000000"},
        "profile": {"firstName": first, "lastName": last, "mobilePhone": None, "secondEmail": None,
                    "login": login or email, "email": email},
        "_links": {"self": {"href": f"/api/v1/users/{uid}"}},
    }


def make_group(rng: random.Random, name: str, created: datetime, members: list[str]) -> dict[str, Any]:
    gid = _id(rng, "00g")
    return {"id": gid, "created": iso(created), "lastUpdated": iso(created), "lastMembershipUpdated": iso(created),
            "objectClass": ["okta:user_group"], "type": "OKTA_GROUP",
            "profile": {"name": name, "description": f"{name} group"},
            "_links": {"users": {"href": f"/api/v1/groups/{gid}/users"}}, "_members": members}


def make_app(rng: random.Random, name: str, label: str, created: datetime, users: list[dict[str, Any]],
             status: str = "ACTIVE") -> dict[str, Any]:
    aid = _id(rng, "0oa")
    return {"id": aid, "name": name, "label": label, "status": status, "lastUpdated": iso(created),
            "created": iso(created), "signOnMode": "SAML_2_0",
            "accessibility": {"selfService": False, "errorRedirectUrl": None, "loginRedirectUrl": None},
            "visibility": {"autoSubmitToolbar": False, "hide": {"iOS": False, "web": False},
                           "appLinks": {name: True}},
            "features": [],
            "credentials": {"userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
                            "signing": {"kid": "sim-signing-key"}},
            "settings": {"app": {}, "signOn": {
                "ssoAcsUrl": f"https://{name}.example.com/saml/acs", "audience": f"https://{name}.example.com",
                "recipient": f"https://{name}.example.com/saml/acs", "destination": f"https://{name}.example.com/saml/acs",
                "subjectNameIdTemplate": "${user.userName}",
                "subjectNameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                "responseSigned": True, "assertionSigned": True, "signatureAlgorithm": "RSA_SHA256",
                "digestAlgorithm": "SHA256", "honorForceAuthn": True,
                "authnContextClassRef": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                "idpIssuer": "http://www.okta.com/${org.externalKey}", "requestCompressed": False,
                "allowMultipleAcsEndpoints": False, "acsEndpoints": [], "attributeStatements": []}},
            "_links": {"users": {"href": f"/api/v1/apps/{aid}/users"}}, "_users": users}


def app_user(user: dict[str, Any], scope: str, changed: datetime, status: str = "ACTIVE") -> dict[str, Any]:
    return {"id": user["id"], "externalId": None, "created": iso(changed), "lastUpdated": iso(changed),
            "scope": scope, "status": status, "statusChanged": iso(changed), "passwordChanged": None,
            "syncState": "DISABLED", "lastSync": None,
            "credentials": {"userName": user["profile"]["login"]},
            "profile": {}, "_links": {"user": {"href": f"/api/v1/users/{user['id']}"}}}


def generate_directory(seed: int = 0, users: int = 50, groups: int = 5, apps: int = 3,
                       people: list[tuple[str, str]] | None = None,
                       left: dict[str, str] | None = None, members_per_group: int | None = None,
                       users_per_app: int | None = None) -> dict[str, Any]:
    """A deterministic directory. `people`: (email, name) pairs that are the directory's users first (e.g. the
    demo's Benchling, Paradime and Bencher people); `left`: email -> status for those who left (SUSPENDED,
    DEPROVISIONED; "DELETED" leaves them out). Then `users` more generated ACTIVE-ish users, `groups` groups
    and `apps` apps (the first assigned to everyone through the first group, the others to some users)."""
    rng = random.Random(seed)
    base = datetime(2023, 1, 2, tzinfo=timezone.utc)
    left = {k.lower(): v for k, v in (left or {}).items()}
    out: list[dict[str, Any]] = []
    mix = ["ACTIVE"] * 90 + ["PROVISIONED", "STAGED", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT", "SUSPENDED"] + ["DEPROVISIONED"] * 4
    everyone = list(people or []) + [(f"person{i}@example.org", f"Person {i}") for i in range(users)]
    for i, (email, name) in enumerate(everyone):
        status = left.get(email.lower()) or (rng.choice(mix) if i >= len(people or []) else "ACTIVE")
        if status == "DELETED":
            continue
        first, _, last = name.partition(" ")
        created = base + timedelta(days=rng.randint(0, 500), seconds=rng.randint(0, 86399))
        changed = created + timedelta(days=rng.randint(1, 200)) if status != "ACTIVE" else None
        out.append(make_user(rng, email, first or name, last or "-", status, created, changed))
    ids = [u["id"] for u in out]
    gs = []
    for g in range(groups):
        k = members_per_group if members_per_group is not None else max(1, len(ids) // max(1, groups) * 2)
        members = ids if g == 0 else rng.sample(ids, min(k, len(ids)))
        gs.append(make_group(rng, "Everyone" if g == 0 else f"Team {g}", base + timedelta(days=g), members))
    by_id = {u["id"]: u for u in out}
    aps = []
    for a in range(apps):
        created = base + timedelta(days=30 + a)
        if a == 0:
            assigned = [app_user(by_id[i], "GROUP", created) for i in ids]
        else:
            k = users_per_app if users_per_app is not None else max(1, len(ids) // 5)
            chosen = rng.sample(ids, min(len(ids), k))
            assigned = [app_user(by_id[i], rng.choice(["USER", "GROUP"]), created) for i in chosen]
        name = "benchling" if a == 0 else f"app_{a}"
        aps.append(make_app(rng, name, "Benchling" if a == 0 else f"App {a}", created, assigned))
    return {"api_token": DEMO_API_TOKEN, "users": out, "groups": gs, "apps": aps}


# -- search / filter expressions ----------------------------------------------------------------------
_TOKEN = re.compile(r'\s*(\(|\)|"(?:[^"\\]|\\.)*"|[^\s()]+)')
_FIELDS = {"status", "id", "created", "lastUpdated", "statusChanged", "activated", "lastLogin", "type.id"}
_DATE_FIELDS = {"created", "lastUpdated", "statusChanged", "activated", "lastLogin"}
FILTER_FIELDS = {"status", "lastUpdated", "id", "profile.login", "profile.email", "profile.firstName",
                 "profile.lastName"}


class ExpressionError(ValueError):
    pass


def _value(user: dict[str, Any], field: str) -> Any:
    cur: Any = user
    for part in field.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def compile_expression(text: str, *, search: bool) -> Callable[[dict[str, Any]], bool]:
    """Okta's SCIM-like expressions: `field op "value"` joined by and/or, with parentheses; ops eq, ne (search),
    gt, ge, lt, le, sw (search), pr (search). `filter` allows only FILTER_FIELDS and no pr/sw/ne."""
    toks = _TOKEN.findall(text.strip())
    pos = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(toks):
            raise ExpressionError("unexpected end of expression")
        pos += 1
        return toks[pos - 1]

    def term() -> Callable[[dict[str, Any]], bool]:
        if peek() == "(":
            take()
            f = disjunction()
            if take() != ")":
                raise ExpressionError("missing )")
            return f
        field, op = take(), take().lower()
        if not search and (field not in FILTER_FIELDS or op in ("pr", "sw", "ne")):
            raise ExpressionError(f"filter does not support {field} {op}")
        if search and not (field in _FIELDS or field.startswith("profile.")):
            raise ExpressionError(f"unknown field {field}")
        if op == "pr":
            return lambda u: _value(u, field) is not None
        raw = take()
        if not (raw.startswith('"') and raw.endswith('"')):
            raise ExpressionError(f"value of {field} must be quoted")
        want = raw[1:-1].replace('\\"', '"')
        dated = field in _DATE_FIELDS

        def cmp(u: dict[str, Any]) -> bool:
            have = _value(u, field)
            if have is None:
                return op == "ne"
            if dated:
                a, b = parse_time(have), parse_time(want)
            else:
                a, b = str(have).lower(), want.lower()  # Okta compares strings case-insensitively
            if op == "eq":
                return a == b
            if op == "ne":
                return a != b
            if op == "sw":
                return isinstance(a, str) and a.startswith(b)
            if op in ("gt", "ge", "lt", "le"):
                return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]
            raise ExpressionError(f"unknown operator {op}")

        return cmp

    def conjunction() -> Callable[[dict[str, Any]], bool]:
        parts = [term()]
        while (peek() or "").lower() == "and":
            take()
            parts.append(term())
        return lambda u: all(p(u) for p in parts)

    def disjunction() -> Callable[[dict[str, Any]], bool]:
        parts = [conjunction()]
        while (peek() or "").lower() == "or":
            take()
            parts.append(conjunction())
        return lambda u: any(p(u) for p in parts)

    f = disjunction()
    if pos != len(toks):
        raise ExpressionError(f"unexpected {toks[pos]!r}")
    return f
