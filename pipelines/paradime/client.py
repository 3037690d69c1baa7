"""HTTP client for Paradime's GraphQL User Management API (one endpoint per workspace).

Auth: the legacy ``X-API-KEY`` + ``X-API-SECRET`` pair, or a bearer token (``prdm_wsp_...`` for a
workspace, ``prdm_cmp_...`` for a company, which also needs ``X-Paradime-Workspace: <uid>``).

Errors are raised as :class:`ParadimeError`. Its message names the workspace by its configured
*name* only: never the endpoint URL (it is configuration to keep secret), never a key or token.
Exceptions from ``requests`` are not chained (``from None``) because their text carries the URL.
"""
from __future__ import annotations

import logging
from typing import Any

import requests

from ..errors import WhsyncError
from ..http import REDACTOR, Retries, RetryPolicy, headers_as_given, redact, refuse_plain_http, send_with_retries

log = logging.getLogger(__name__)

LIST_USERS_QUERY = (
    "query ListUsers { listUsers { ok activeUsers { uid email name accountType } "
    "invitedUsers { email accountType inviteStatus } } }"
)
LIST_WORKSPACES_QUERY = "query ListWorkspaces { listWorkspaces { ok workspaces { name uid } } }"
INVITE_USER_MUTATION = (
    "mutation InviteUser($email: String!, $accountType: UserAccountType!) "
    "{ inviteUser(email: $email, accountType: $accountType) { ok } }"
)
UPDATE_ACCOUNT_TYPE_MUTATION = (
    "mutation UpdateUserAccountType($uid: String!, $accountType: UserAccountType!) "
    "{ updateUserAccountType(uid: $uid, accountType: $accountType) { ok } }"
)
DISABLE_USER_MUTATION = (
    "mutation DisableUser($uid: String!) { disableUser(uid: $uid) { ok } }"
)


class ParadimeError(WhsyncError, RuntimeError):
    """A Paradime API call failed. The message never contains the endpoint or credentials."""


class ParadimeOperationError(ParadimeError):
    """The API answered, but the operation failed (GraphQL ``errors``, or ``ok: false``): e.g. a key without
    the capability the operation needs."""


class ParadimeAuthError(ParadimeError):
    """The workspace refused the credentials (HTTP 401/403)."""


class ParadimeClient:
    """Calls one Paradime workspace's GraphQL endpoint.

    Args:
        endpoint: the workspace's API endpoint URL (secret).
        api_key / api_secret: legacy header credentials.
        bearer_token: alternative to key+secret (``prdm_wsp_...`` / ``prdm_cmp_...``).
        workspace_uid: sent as ``X-Paradime-Workspace`` (needed with a company token).
        name: the workspace's configured name, used in error messages.
        timeout: seconds per request (connect and read).
        max_retries: retries after the first attempt on 429/5xx/connection errors/timeouts, and
        max_retry_seconds: no retry whose wait ends later than this after the first attempt (the
        shared :class:`RetryPolicy`).
        backoff: base seconds of the exponential backoff (with jitter), capped at ``max_backoff``.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        bearer_token: str | None = None,
        workspace_uid: str | None = None,
        name: str = "default",
        timeout: float = 30.0,
        max_retries: int = 5,
        max_retry_seconds: float = RetryPolicy.max_seconds,
        backoff: float = RetryPolicy.base,
        max_backoff: float = RetryPolicy.cap,
        session: requests.Session | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        refuse_plain_http(endpoint or "", f"Paradime workspace '{name}' credentials", allow_insecure_http,
                          show_host=False)  # the endpoint URL is secret: never in a message
        if not endpoint:
            raise ParadimeError(f"Paradime workspace '{name}': no API endpoint configured")
        if not bearer_token and not (api_key and api_secret):
            raise ParadimeError(
                f"Paradime workspace '{name}': set an API key and secret, or a bearer token"
            )
        REDACTOR.register(endpoint, api_key, api_secret, bearer_token)
        self._endpoint = endpoint
        self.name = name
        self.timeout = timeout
        self.retry = RetryPolicy(max_tries=max_retries + 1, max_seconds=max_retry_seconds, base=backoff,
                                 cap=max_backoff)
        self._session = headers_as_given(session or requests.Session())
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        else:
            headers["X-API-KEY"] = api_key or ""
            headers["X-API-SECRET"] = api_secret or ""
        if workspace_uid:
            headers["X-Paradime-Workspace"] = workspace_uid
        self._headers = headers
        self.requests_made = 0

    def __repr__(self) -> str:
        return f"ParadimeClient(name={self.name!r}, endpoint='***', credentials='***')"

    # -- transport ---------------------------------------------------------------------------
    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POSTs one GraphQL operation and returns its ``data``; raises ParadimeError."""
        ws = f"Paradime workspace '{self.name}'"
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables

        def send() -> requests.Response:
            self.requests_made += 1
            return self._session.post(self._endpoint, json=body, headers=self._headers, timeout=self.timeout)

        # the endpoint URL is secret: messages say "the API endpoint"
        resp = send_with_retries(send, Retries(self.retry, ParadimeError, log), ws, "the API endpoint", self.timeout)
        return self._parse(resp, ws)

    def _parse(self, resp: requests.Response, ws: str) -> dict[str, Any]:
        status = resp.status_code
        if status in (401, 403):
            raise ParadimeAuthError(
                f"{ws}: the API refused the credentials (HTTP {status}); check the API key and "
                "secret (or bearer token) and that they belong to this workspace"
            )
        if not 200 <= status < 300:
            raise ParadimeError(f"{ws}: the API answered HTTP {status}")
        try:
            payload = resp.json()
        except ValueError:
            raise ParadimeError(f"{ws}: the API answered HTTP {status} with a non-JSON body") from None
        if not isinstance(payload, dict):
            raise ParadimeError(f"{ws}: unexpected response shape (not a JSON object)")
        errors = payload.get("errors")
        if errors:
            first = errors[0] if isinstance(errors, list) else errors
            msg = first.get("message") if isinstance(first, dict) else str(first)
            raise ParadimeOperationError(f"{ws}: GraphQL error: {self._scrub(str(msg))}")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise ParadimeError(f"{ws}: the response has no data")
        return data

    def _scrub(self, text: str) -> str:
        return redact(text, REDACTOR.secrets)

    def _operation(self, query: str, field: str, variables: dict[str, Any] | None = None) -> dict:
        data = self.execute(query, variables)
        result = data.get(field)
        if not isinstance(result, dict):
            raise ParadimeError(f"Paradime workspace '{self.name}': {field} returned no result")
        if result.get("ok") is not True:
            raise ParadimeOperationError(f"Paradime workspace '{self.name}': {field} returned ok: false")
        return result

    # -- operations --------------------------------------------------------------------------
    def list_users(self) -> tuple[list[dict], list[dict]]:
        """Returns (activeUsers, invitedUsers) of the workspace; not paginated."""
        result = self._operation(LIST_USERS_QUERY, "listUsers")
        return list(result.get("activeUsers") or []), list(result.get("invitedUsers") or [])

    def list_workspaces(self) -> list[dict]:
        """Returns the account's workspaces as ``[{name, uid}]``."""
        return list(self._operation(LIST_WORKSPACES_QUERY, "listWorkspaces").get("workspaces") or [])

    def invite_user(self, email: str, account_type: str) -> None:
        self._operation(INVITE_USER_MUTATION, "inviteUser", {"email": email, "accountType": account_type})

    def update_user_account_type(self, uid: str, account_type: str) -> None:
        self._operation(
            UPDATE_ACCOUNT_TYPE_MUTATION, "updateUserAccountType", {"uid": uid, "accountType": account_type}
        )

    def disable_user(self, uid: str) -> None:
        self._operation(DISABLE_USER_MUTATION, "disableUser", {"uid": uid})
