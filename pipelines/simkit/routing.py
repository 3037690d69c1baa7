"""Routing of a simulated REST API: path templates (`/teams/{team_id}/memberships`) bound to handler methods
by a decorator, matched against a request (which gets its `route` and `params`)."""
from __future__ import annotations

import re
import urllib.parse
from typing import Callable, Optional

from .wire import Request

METHOD_NOT_ALLOWED = "(method not allowed)"


class Router:
    """`@router.route("GET", "/users/{user_id}")` on a method; `router.match(req)` names the method to call."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.routes: list[tuple[str, re.Pattern, str, str]] = []

    def route(self, method: str, template: str) -> Callable:
        full = self.prefix + template
        pattern = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(full)) + "$")

        def deco(fn: Callable) -> Callable:
            self.routes.append((method, pattern, full, fn.__name__))
            return fn
        return deco

    def match(self, req: Request) -> Optional[str]:
        """The name of the method for `req` (setting `req.route` and `req.params`), or None: no such path, or
        `req.route` is METHOD_NOT_ALLOWED when the path exists for another method."""
        path_ok = False
        for method, rx, template, fn_name in self.routes:
            m = rx.match(req.path)
            if m:
                path_ok = True
                if method == req.method:
                    req.route, req.params = template, {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
                    return fn_name
        if path_ok:
            req.route = METHOD_NOT_ALLOWED
        return None
