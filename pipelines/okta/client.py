"""HTTP client for Okta's management API (users, groups and members, apps and assigned users).

- Auth: an API token (``Authorization: SSWS <token>``), or an OAuth 2.0 service app: client credentials
  with ``private_key_jwt`` (a JWT signed with the app's private key, posted as ``client_assertion`` to
  ``/oauth2/v1/token``), scopes ``okta.users.read okta.groups.read okta.apps.read``; the access token is
  refreshed before it expires.
- Paging: cursors in the ``Link`` header (``rel="next"``) until there is none. A next link that leaves
  the org is refused (the token would follow it).
- Users in EVERY status: the plain ``GET /api/v1/users`` omits DEPROVISIONED users (the people who left),
  so users are listed with ``search=status pr`` (every user that has a status: all of them).
- Pacing: Okta's rate limits are per endpoint bucket; one `RateBudget` per bucket, in ``epoch`` reset mode
  (Okta's ``X-Rate-Limit-Reset`` is a UTC epoch second). A 429 waits for that bucket's reset.
- Errors raise :class:`OktaError` with a one-line message; the token, the client assertion and the
  access token never appear in one.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any, Iterator
from urllib.parse import quote, urlsplit

import requests

from ..errors import WhsyncError
from ..http import RETRY_STATUSES, Retries, RetryPolicy, headers_as_given, redact, refuse_plain_http, transport_failure
from ..ratelimit import ClientStats, RateBudget

log = logging.getLogger("whsync.okta")

USER_STATUSES = ("STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT", "SUSPENDED",
                 "DEPROVISIONED")
SCOPES = ("okta.users.read", "okta.groups.read", "okta.apps.read")
# page sizes: the documented maximum where Okta gives one (users 200, apps 200, app users 500), the
# recommended 200 for groups and the default 1000 for a group's members
LIMITS = {"users": 200, "groups": 200, "group_users": 1000, "apps": 200, "app_users": 500}
USERS_SEARCH = "status pr"  # every user with a status, DEPROVISIONED included (the plain listing omits them)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class OktaError(WhsyncError, RuntimeError):
    """A failure talking to Okta, with a one-line message safe to print (no secrets)."""


class OktaAuthError(OktaError):
    """Okta refused the credentials (401/403, or the token endpoint said no)."""


class OktaEmptyDirectoryError(OktaError):
    """The users listing returned no user at all: a token without an admin role gets 200 and []."""


def bucket_of(path: str) -> str:
    """The rate-limit bucket of an API path: Okta limits each endpoint family on its own."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts[:2] == ["oauth2", "v1"]:
        return "token"
    return parts[2] if len(parts) > 2 and parts[:2] == ["api", "v1"] else "other"


def normalize_org_url(url: str) -> str:
    """`https://acme.okta.com/` -> `https://acme.okta.com` (the org's root: no path)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Okta org URL {url!r} is not an http(s) URL; give the org's address, e.g. "
                         "https://acme.okta.com")
    if parts.path.strip("/") or parts.query:
        raise ValueError(f"Okta org URL {url!r} has a path; give only the org's address, e.g. https://acme.okta.com")
    return f"{parts.scheme}://{parts.netloc}"


class _Auth:
    secrets: tuple[str, ...] = ()

    def header(self, client: "OktaClient") -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(***)"


class ApiTokenAuth(_Auth):
    """``Authorization: SSWS <token>``: the token has the rights of the admin who created it."""

    def __init__(self, token: str) -> None:
        if not token or not token.strip():
            raise ValueError("the Okta API token is empty")
        self._value = f"SSWS {token.strip()}"
        self.secrets = (token.strip(),)

    def header(self, client: "OktaClient") -> str:
        return self._value


class PrivateKeyJwtAuth(_Auth):
    """An OAuth service app: client credentials with a ``private_key_jwt`` client assertion (RS256)."""

    def __init__(self, client_id: str, private_key: str, key_id: str | None = None,
                 scopes: tuple[str, ...] = SCOPES) -> None:
        if not client_id or not private_key:
            raise ValueError("an Okta service app needs both its client id and its private key (PEM)")
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            self._key = load_pem_private_key(private_key.encode(), password=None)
        except (ValueError, TypeError):
            raise ValueError("the Okta service app's private key is not an unencrypted PEM private key") from None
        self.client_id, self.key_id, self.scopes = client_id, key_id, scopes
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.secrets = (private_key,)

    def assertion(self, audience: str) -> str:
        import jwt

        now = int(time.time())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": audience, "iat": now, "exp": now + 300,
                  "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.key_id} if self.key_id else None)

    def header(self, client: "OktaClient") -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                url = client.org_url + "/oauth2/v1/token"
                resp = client._send("POST", url, "token", "get an access token", auth=None, data={
                    "grant_type": "client_credentials", "scope": " ".join(self.scopes),
                    "client_assertion_type": ASSERTION_TYPE, "client_assertion": self.assertion(url)})
                try:
                    body = resp.json()
                    token, lifetime = body["access_token"], float(body.get("expires_in", 3600))
                except (ValueError, KeyError, TypeError):
                    raise OktaError("Okta token endpoint: the answer has no access_token") from None
                self._token = token
                self._expires = time.monotonic() + lifetime - max(1.0, lifetime * 0.1)  # refresh early
            return f"Bearer {self._token}"

    def tokens(self) -> tuple[str, ...]:
        return (self._token,) if self._token else ()


class OktaClient:
    """One client per sync; the requests of each endpoint bucket are paced by that bucket's budget."""

    def __init__(self, org_url: str, auth: _Auth, *, session: requests.Session | None = None,
                 timeout: tuple[float, float] = (10.0, 60.0), retry: RetryPolicy | None = None,
                 allow_insecure_http: bool = False, limits: dict[str, int] | None = None) -> None:
        self.org_url = normalize_org_url(org_url)
        refuse_plain_http(self.org_url, "the Okta credentials", allow_insecure_http)
        self.auth = auth
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.limits = {**LIMITS, **(limits or {})}
        self.stats = ClientStats()
        self.budgets: dict[str, RateBudget] = {}
        self._budgets_lock = threading.Lock()
        self._session = headers_as_given(session or requests.Session())

    def __repr__(self) -> str:
        return f"OktaClient(org_url={self.org_url!r}, auth={self.auth!r})"

    def close(self) -> None:
        self._session.close()

    def budget(self, bucket: str) -> RateBudget:
        with self._budgets_lock:
            if bucket not in self.budgets:
                self.budgets[bucket] = RateBudget(self.stats, reset="epoch")
            return self.budgets[bucket]

    def _scrub(self, text: str) -> str:
        extra = self.auth.tokens() if isinstance(self.auth, PrivateKeyJwtAuth) else ()
        return redact(text, [*self.auth.secrets, *extra])

    def _detail(self, resp: requests.Response) -> str:
        try:
            body = resp.json()
        except ValueError:
            return ""
        if isinstance(body, dict):
            text = body.get("errorSummary") or body.get("error_description") or body.get("error")
            if text:
                return ": " + self._scrub(str(text))
        return ""

    def _send(self, method: str, url: str, bucket: str, what: str, auth: Any = True, **kwargs: Any) -> requests.Response:
        """One request, paced by its bucket, retried on 429 (after the bucket's reset), 5xx and transport
        failures; any other non-2xx answer raises."""
        budget = self.budget(bucket)
        retries = Retries(self.retry, OktaError, log)
        label = f"Okta {what}"
        while True:
            headers = {"Accept": "application/json"}
            if auth:
                headers["Authorization"] = self.auth.header(self)
            seq = budget.acquire()
            resp_headers = None
            try:
                self.stats.add(requests=1)
                resp = self._session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
                resp_headers = resp.headers
            except (requests.Timeout, requests.ConnectionError) as exc:
                kind = transport_failure(exc)
                if kind == "unknown host":
                    raise OktaError(f"{label}: host {self.org_url} is unknown (check OKTA_ORG_URL)") from None
                self.stats.add(retries=1)
                retries.failed(f"{label}: no answer from {self.org_url}" if kind == "timeout" else
                               f"{label}: cannot connect to {self.org_url} (connection {kind})", refused=kind == "refused")
                continue
            except requests.RequestException as exc:
                raise OktaError(f"{label}: request failed ({type(exc).__name__})") from None
            finally:
                budget.release(seq, resp_headers)
            status = resp.status_code
            if status in RETRY_STATUSES:
                self.stats.add(retries=1, rate_limited=int(status == 429))
                delay = budget.wait_for_reset(resp.headers) if status == 429 else None
                retries.failed(f"{label}: HTTP {status}{self._detail(resp)}", retry_after=resp.headers.get("Retry-After"),
                               delay=delay, sleep=budget.held_back if status == 429 else time.sleep)
                continue
            if status in (401, 403) or (bucket == "token" and status == 400):
                raise OktaAuthError(f"{label}: Okta at {self.org_url} refused the credentials (HTTP {status}"
                                    f"{self._detail(resp)}); check OKTA_API_TOKEN, or the service app's "
                                    "OKTA_CLIENT_ID, private key and granted scopes")
            if not 200 <= status < 300:
                raise OktaError(f"{label}: HTTP {status}{self._detail(resp)}")
            return resp

    def paged(self, path: str, what: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """Pages of a listing, following the ``Link`` header's ``rel="next"`` until there is none."""
        url: str | None = self.org_url + path
        bucket = bucket_of(path)
        query: dict[str, Any] | None = params
        while url:
            resp = self._send("GET", url, bucket, what, params=query)
            try:
                rows = resp.json()
            except ValueError:
                raise OktaError(f"Okta {what}: the answer is not JSON") from None
            if not isinstance(rows, list):
                raise OktaError(f"Okta {what}: expected a JSON array")
            yield rows
            nxt = resp.links.get("next", {}).get("url")
            if nxt and normalize_origin(nxt) != normalize_origin(self.org_url):
                raise OktaError(f"Okta {what}: the next page's link leaves the org ({urlsplit(nxt).hostname}); refused")
            url, query = nxt, None

    # -- the listings a sync makes ----------------------------------------------------------------
    def list_users(self) -> Iterator[list[dict[str, Any]]]:
        return self.paged("/api/v1/users", "list users", {"search": USERS_SEARCH, "limit": self.limits["users"]})

    def list_groups(self) -> Iterator[list[dict[str, Any]]]:
        return self.paged("/api/v1/groups", "list groups", {"limit": self.limits["groups"]})

    def list_group_members(self, group_id: str) -> Iterator[list[dict[str, Any]]]:
        return self.paged(f"/api/v1/groups/{quote(group_id, safe='')}/users", f"list members of group {group_id}",
                          {"limit": self.limits["group_users"]})

    def list_apps(self) -> Iterator[list[dict[str, Any]]]:
        return self.paged("/api/v1/apps", "list apps", {"limit": self.limits["apps"]})

    def list_app_users(self, app_id: str) -> Iterator[list[dict[str, Any]]]:
        return self.paged(f"/api/v1/apps/{quote(app_id, safe='')}/users", f"list users assigned to app {app_id}",
                          {"limit": self.limits["app_users"]})


def normalize_origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port)
