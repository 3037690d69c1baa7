"""HTTP client for Bencher's REST API (organizations and their members).

``Authorization: Bearer <token>``; lists are bare JSON arrays paged with ``page``/``per_page``
(``per_page`` is a u8 on the server: at most 255) and counted by the ``x-total-count`` header.
Errors raise :class:`BencherError`; messages never contain the token, and exceptions from
``requests`` are not chained.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterator
from urllib.parse import quote

import requests

from ..errors import WhsyncError
from ..http import Retries, RetryPolicy, headers_as_given, redact, refuse_plain_http, send_with_retries

log = logging.getLogger(__name__)

MAX_PER_PAGE = 255


class BencherError(WhsyncError, RuntimeError):
    """A Bencher API call failed. The message never contains the token."""


class BencherAuthError(BencherError):
    """The API refused the token (400 for a missing/malformed one, 401 for an unknown one)."""


class BencherNotFoundError(BencherError):
    """404: the organization does not exist or the token may not view it (Bencher does not say which)."""


class BencherClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        per_page: int = MAX_PER_PAGE,
        timeout: float = 30.0,
        max_retries: int = 5,
        max_retry_seconds: float = RetryPolicy.max_seconds,
        backoff: float = RetryPolicy.base,
        max_backoff: float = RetryPolicy.cap,
        session: requests.Session | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        refuse_plain_http(base_url, "the Bencher API token", allow_insecure_http)
        if not token:
            raise BencherAuthError("Bencher: no API token configured (set BENCHER_API_TOKEN)")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.per_page = per_page
        self.timeout = timeout
        self.retry = RetryPolicy(max_tries=max_retries + 1, max_seconds=max_retry_seconds, base=backoff,
                                 cap=max_backoff)
        self._session = headers_as_given(session or requests.Session())
        self.requests_made = 0
        self.on_page: Callable[[str, int], None] | None = None  # (resource, rows) per page answered

    def __repr__(self) -> str:
        return f"BencherClient(base_url={self.base_url!r}, token='***')"

    def _scrub(self, text: str) -> str:
        return redact(text, [self._token])

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        url = self.base_url + path
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

        def send() -> requests.Response:
            self.requests_made += 1
            return self._session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)

        resp = send_with_retries(send, Retries(self.retry, BencherError, log), f"Bencher {what}", self.base_url,
                                 self.timeout, detail=self._message)
        self._raise_for(resp, what)
        return resp

    def _message(self, resp: requests.Response) -> str:
        try:
            body = resp.json()
        except ValueError:
            return ""
        if isinstance(body, dict) and body.get("message"):
            return ": " + self._scrub(str(body["message"]))
        return ""

    def _raise_for(self, resp: requests.Response, what: str) -> None:
        status = resp.status_code
        if 200 <= status < 300:
            return
        msg = self._message(resp)
        if (status == 400 and "auth" in msg.lower()) or status == 401:
            raise BencherAuthError(
                f"Bencher {what}: the API at {self.base_url} refused the token (HTTP {status}{msg}); "
                "check BENCHER_API_TOKEN"
            )
        if status == 404:
            raise BencherNotFoundError(
                f"Bencher {what}: not found, or not visible to this token (HTTP 404{msg})"
            )
        raise BencherError(f"Bencher {what}: HTTP {status}{msg}")

    def _paged(self, path: str, what: str, resource: str, params: dict[str, Any] | None = None) -> Iterator[list[dict]]:
        """Yields pages until x-total-count rows are read or a page is short; tells ``on_page`` of each
        page answered, an empty one too (it cost a request)."""
        page, read = 1, 0
        while True:
            q = {"sort": "name", "direction": "asc", "per_page": self.per_page, "page": page, **(params or {})}
            resp = self._request("GET", path, what, params=q)
            rows = resp.json()
            if not isinstance(rows, list):
                raise BencherError(f"Bencher {what}: expected a JSON array")
            read += len(rows)
            if self.on_page is not None:
                self.on_page(resource, len(rows))
            if rows:
                yield rows
            total = resp.headers.get("x-total-count")
            if len(rows) < self.per_page or (total is not None and total.isdigit() and read >= int(total)):
                return
            page += 1

    def list_organizations(self) -> Iterator[list[dict]]:
        return self._paged("/v0/organizations", "list organizations", "organizations")

    def list_members(self, organization: str) -> Iterator[list[dict]]:
        return self._paged(
            f"/v0/organizations/{quote(organization, safe='')}/members",
            f"list members of organization '{organization}'", "members",
        )

    # -- writes (used by tests and the demo) ------------------------------------------------------
    def invite_member(self, organization: str, email: str, role: str = "leader", name: str | None = None) -> dict:
        body = {"email": email, "role": role, **({"name": name} if name else {})}
        return self._request("POST", f"/v0/organizations/{quote(organization, safe='')}/members",
                             f"invite to organization '{organization}'", json=body).json()

    def update_member(self, organization: str, user: str, role: str | None) -> dict:
        return self._request("PATCH", f"/v0/organizations/{quote(organization, safe='')}/members/{quote(user, safe='')}",
                             f"update member of organization '{organization}'", json={"role": role}).json()

    def remove_member(self, organization: str, user: str) -> None:
        self._request("DELETE", f"/v0/organizations/{quote(organization, safe='')}/members/{quote(user, safe='')}",
                      f"remove member of organization '{organization}'")
