"""Authentication of a simulated API: which credentials it accepts, and how it refuses them.

An `AuthCheck` is built from the API's schemes, in the order the API tries them, and its `refuse` function
(`Refusal -> Response`: the API's own status, body and headers for a 400/401/403). `check(headers, **context)`
returns who the request is (what the accepting scheme's lookup returned: a role, a flag, a token record) or
raises `Denied` carrying that API's wire answer. `forbid(detail)` is the API's 403 for an authenticated caller
who may not do this.

Schemes:

- `Basic(lookup)`: ``Authorization: Basic base64(user:password)``; ``lookup(user, password, **context)``;
- `Token(keyword, lookup)`: ``Authorization: <keyword> <credential>`` (``Bearer``, Okta's ``SSWS``; the
  keyword and a space make the scheme present);
  ``lookup(credential, **context)``;
- `KeyHeaders(names, lookup)`: a key (and secret) in headers of their own (Paradime's ``X-API-KEY`` and
  ``X-API-SECRET``); ``lookup(*values, **context)``.

A lookup returns the principal, or None: not credentials it knows (the next scheme is tried). It may raise
`Refused(status, reason, detail)` to refuse at once (an expired token, a missing scope). A scheme made with
``final=True`` refuses as soon as its credentials are present but unknown, without trying the next scheme.

When no scheme accepts, the refusal's reason says why: ``missing`` (no credentials of an accepted scheme and
no Authorization header), ``malformed`` (an Authorization header of no accepted scheme, an empty credential,
Basic that is not base64 of ``user:password``) or ``invalid`` (credentials of an accepted scheme, unknown).
Its status is 401; the API's `refuse` decides what goes on the wire (Bencher answers a missing or malformed
header with 400).
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from .wire import Response


@dataclass(frozen=True)
class Refusal:
    status: int                   # 401 (not authenticated) or 403 (authenticated, not allowed)
    reason: str                   # "missing" | "malformed" | "invalid" | "expired" | "forbidden" | a lookup's own
    scheme: Optional[str] = None  # the scheme whose credentials were refused ("Basic", "Bearer", "SSWS", ...)
    detail: str = ""              # e.g. the scope a 403 lacks


class Refused(Exception):
    """Raised by a lookup to refuse the request now (e.g. `Refused(403, "forbidden", "okta.users.read")`)."""

    def __init__(self, status: int, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.status, self.reason, self.detail = status, reason, detail


class Denied(Exception):
    """`AuthCheck.check` refused: `response` is the API's answer, `refusal` why."""

    def __init__(self, refusal: Refusal, response: Response) -> None:
        super().__init__(refusal.reason)
        self.refusal, self.response = refusal, response


_ABSENT = object()      # the scheme's credentials are not in the request
_MALFORMED = object()   # they are, but cannot be read (empty, not base64, no colon)


def basic_credentials(credential: str, colon: bool = True) -> Optional[tuple[str, str]]:
    """The (user, password) of a Basic credential (the part after ``Basic ``), or None if it is not base64 of
    UTF-8 ``user:password`` (with ``colon=False``, a value without a colon is the user, with password "")."""
    try:
        user, sep, password = base64.b64decode(credential.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (user, password) if sep or not colon else None


class Scheme:
    name = ""
    final = False

    def credentials(self, headers: Mapping[str, str], fold_case: bool) -> Any:
        """The arguments of `lookup` (a tuple), or _ABSENT, or _MALFORMED."""
        raise NotImplementedError

    def lookup(self, *args: Any, **context: Any) -> Any:
        raise NotImplementedError


class _AuthorizationScheme(Scheme):
    """``Authorization: <keyword> <credential>``."""

    def __init__(self, keyword: str, lookup: Callable[..., Any], final: bool = False) -> None:
        self.name, self.final = keyword, final
        self.lookup = lookup  # type: ignore[method-assign]

    def credentials(self, headers: Mapping[str, str], fold_case: bool) -> Any:
        keyword, sep, credential = (headers.get("authorization") or "").partition(" ")
        if sep and ((keyword.lower() == self.name.lower()) if fold_case else (keyword == self.name)):
            credential = credential.strip()
            return self.parse(credential) if credential else _MALFORMED
        return _ABSENT

    def parse(self, credential: str) -> Any:
        return (credential,)


class Token(_AuthorizationScheme):
    """``Authorization: Bearer <token>`` (or another keyword, e.g. ``SSWS``); ``lookup(token, **context)``."""


class Basic(_AuthorizationScheme):
    """``Authorization: Basic base64(user:password)``; ``lookup(user, password, **context)``."""

    def __init__(self, lookup: Callable[..., Any], final: bool = False) -> None:
        super().__init__("Basic", lookup, final)

    def parse(self, credential: str) -> Any:
        return basic_credentials(credential) or _MALFORMED


class KeyHeaders(Scheme):
    """A key (and a secret) in headers of their own; present when the first header is sent.
    ``lookup(*values, **context)``, a missing second header being None."""

    def __init__(self, names: tuple[str, ...], lookup: Callable[..., Any], final: bool = False) -> None:
        self.names = tuple(n.lower() for n in names)
        self.name, self.final = self.names[0], final
        self.lookup = lookup  # type: ignore[method-assign]

    def credentials(self, headers: Mapping[str, str], fold_case: bool) -> Any:
        if headers.get(self.names[0]) is None:
            return _ABSENT
        return tuple(headers.get(n) for n in self.names)


class AuthCheck:
    """The schemes an API accepts, in order, and its answer to a refusal (`refuse(Refusal) -> Response`).
    ``fold_case``: the Authorization keyword is matched case-insensitively (as RFC 9110 says; Benchling does,
    the other simulated APIs match it exactly)."""

    def __init__(self, *schemes: Scheme, refuse: Callable[[Refusal], Response], fold_case: bool = False) -> None:
        if not schemes:
            raise ValueError("an AuthCheck needs at least one scheme")
        self.schemes, self.refuse, self.fold_case = schemes, refuse, fold_case

    def check(self, headers: Mapping[str, str], **context: Any) -> Any:
        """Who the request is (the accepting lookup's principal), or `Denied` with the API's answer.
        ``headers`` have lower-case names (`wire.Request.headers`); ``context`` goes to every lookup."""
        reason, scheme_name = "missing", None
        for scheme in self.schemes:
            args = scheme.credentials(headers, self.fold_case)
            if args is _ABSENT:
                continue
            if args is _MALFORMED:
                principal, why = None, "malformed"
            else:
                try:
                    principal = scheme.lookup(*args, **context)
                except Refused as r:
                    raise self._denied(Refusal(r.status, r.reason, scheme.name, r.detail)) from None
                why = "invalid"
            if principal is not None:
                return principal
            if reason == "missing" or why == "invalid":
                reason, scheme_name = why, scheme.name
            if scheme.final:
                break
        if reason == "missing" and headers.get("authorization"):
            reason = "malformed"  # an Authorization header, of no scheme this API accepts
        raise self._denied(Refusal(401, reason, scheme_name))

    def forbid(self, detail: str = "", scheme: Optional[str] = None) -> Response:
        """The API's 403: the caller is authenticated but may not do this."""
        return self.refuse(Refusal(403, "forbidden", scheme, detail))

    def _denied(self, refusal: Refusal) -> Denied:
        return Denied(refusal, self.refuse(refusal))
