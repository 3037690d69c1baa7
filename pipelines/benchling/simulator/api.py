"""What the Benchling simulator's resource modules share: the API's constants, its error envelope, the
route table (`route`), and small helpers."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Optional

from ...simkit.routing import Router
from ...simkit.wire import Response
from .tenant import parse_time

API_PREFIX = "/api/v2"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
SORTS = ("createdAt", "createdAt:asc", "createdAt:desc", "modifiedAt", "modifiedAt:asc", "modifiedAt:desc",
         "name", "name:asc", "name:desc")
ARCHIVAL_KEYS = ("aaSequenceIds", "customEntityIds", "dnaSequenceIds", "entryIds", "folderIds", "mixtureIds",
                 "oligoIds", "protocolIds")

ROUTER = Router(API_PREFIX)  # every endpoint: `@route(METHOD, "/path/{param}")` on a simulator method
route = ROUTER.route


class ApiError(Exception):
    def __init__(self, status: int, message: str, invalid_id: Optional[str] = None, type_: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.invalid_id, self.type = status, message, invalid_id, type_

    def response(self) -> Response:
        err: dict[str, Any] = {"type": self.type, "message": self.message, "userMessage": self.message}
        if self.invalid_id is not None:
            err["invalidId"] = self.invalid_id
        return Response(self.status, {"error": err})


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(kind: str, oid: str) -> ApiError:
    return ApiError(404, f"{kind} {oid} not found.", invalid_id=oid)


def _public(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _csv(value: Optional[str]) -> Optional[list[str]]:
    if value is None:
        return None
    return [x.strip() for x in value.split(",") if x.strip()]


def _membership(m: dict) -> dict:
    return {"user": dict(m["user"]), "role": m["role"]}


_COND = re.compile(r"^\s*(>=|<=|>|<)\s*\"?([^\"\s]+)\"?\s*$")


def parse_modified_at(raw: str) -> list[tuple[str, datetime]]:
    """'> 2022-03-01', '< X', '> X AND < Y' (also >=, <=) -> [(op, utc datetime)]. Raises ApiError 400."""
    parts = re.split(r"\s+AND\s+", raw.strip(), flags=re.IGNORECASE)
    if len(parts) > 2:
        raise bad_request(f"Invalid modifiedAt {raw!r}: at most two conditions joined by AND.")
    out = []
    for part in parts:
        m = _COND.match(part)
        if not m:
            raise bad_request(f"Invalid modifiedAt {raw!r}: expected '> TIME', '< TIME' or '> TIME AND < TIME'.")
        try:
            out.append((m.group(1), parse_time(m.group(2))))
        except ValueError:
            raise bad_request(f"Invalid modifiedAt {raw!r}: {m.group(2)!r} is not an RFC 3339 date or datetime.") from None
    return out
