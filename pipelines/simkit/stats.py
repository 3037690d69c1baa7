"""`/_simulator/stats` of every simulator: GET answers what the simulator counted (`stats()`), POST
`/_simulator/stats/reset` starts the counts again. Simulator-only paths: no real API has them."""
from __future__ import annotations

from typing import Any, Callable, Optional

from .wire import Request, Response

STATS = "/_simulator/stats"
RESET = "/_simulator/stats/reset"


def stats_endpoint(req: Request, stats: Callable[[], Any], reset: Optional[Callable[[], None]],
                   error: Callable[[int, str], Response]) -> Optional[Response]:
    """The answer to a request for the stats endpoints, or None for any other path. `error(status, message)`
    is the API's own error envelope (a wrong method: 405)."""
    if req.path not in (STATS, RESET):
        return None
    if req.path == STATS and req.method == "GET":
        return Response(200, stats())
    if req.path == RESET and req.method == "POST" and reset is not None:
        reset()
        return Response(200, stats())
    return error(405, f"{req.method} not allowed on {req.path}")
