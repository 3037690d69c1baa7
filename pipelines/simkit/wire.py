"""One simulated API call: the parsed request and the answer a simulator gives it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class Request:
    method: str
    path: str                      # path without the query string
    query: dict[str, list[str]]    # parse_qs result ('+' already decoded to a space)
    headers: dict[str, str]        # lower-cased names
    body: bytes = b""
    route: Optional[str] = None    # path template, e.g. /api/v2/teams/{team_id}/memberships
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str) -> Optional[str]:
        v = self.query.get(name)
        return v[-1] if v else None


@dataclass
class Response:
    status: int
    body: Any = None               # dict/list -> JSON; bytes -> as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    fault: Optional[str] = None    # "reset": the handler closes the connection without answering
    not_before: Optional[float] = None  # time.monotonic() before which the handler does not answer (latency)
    sent_at: Optional[float] = None     # time.monotonic() once the handler has written the answer
