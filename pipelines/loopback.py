"""A local HTTP server on a loopback port, served from a background thread.

The plumbing the three source simulators share (start on a free port, stop, use as a context
manager). Everything about an API itself stays in that source's `simulator/` folder.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer:
    """Base of a simulator: call `_init_server(host, port, handler)` in `__init__`; the handler class
    reaches the simulator as `self.simulator`. `port=0` picks a free port, known after `start()`."""

    def _init_server(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self.host, self.port = host, port
        self._handler = handler
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Any:
        if self._server is not None:
            return self
        handler = type("Handler", (self._handler,), {"simulator": self})
        server = ThreadingHTTPServer((self.host, self.port), handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{type(self).__name__}-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"
