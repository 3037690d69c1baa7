"""The HTTP side of every simulator: one request handler that parses a request into a `wire.Request`, asks the
simulator (`simulator.handle(req) -> wire.Response`) and writes the answer, or resets the connection for an
injected `reset` fault. A simulator's class attributes choose what differs between APIs: server name, JSON
encoding and content type, the answer to an exception."""
from __future__ import annotations

import json
import socket
import struct
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler
from typing import Any

from .wire import Request, Response


def compact_json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def plain_json(body: Any) -> bytes:
    return json.dumps(body).encode()


class SimHandler(BaseHTTPRequestHandler):
    """Subclass per simulator and set `server_version`, `content_type`, `encode`; the LoopbackServer gives
    the handler its `simulator`, which answers `handle(Request) -> Response` and `internal_error(exc)`."""

    simulator: Any
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as API servers run: the stdlib writes the headers and the body in two sends, and with Nagle on
    # the body waits for the client's delayed ACK of the headers (~40 ms per request on a kept-alive connection)
    disable_nagle_algorithm = True
    methods: tuple[str, ...] = ("GET", "POST", "PATCH", "DELETE", "PUT")  # others: the stdlib's 501
    content_type = "application/json; charset=utf-8"  # of a JSON body, unless the Response names its own
    encode = staticmethod(compact_json)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: paths may hold ids
        pass

    def _serve(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        req = Request(method=self.command, path=split.path,
                      query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
                      headers={k.lower(): v for k, v in self.headers.items()}, body=body)
        try:
            resp = self.simulator.handle(req)
        except Exception as e:  # never kill the connection without an answer
            resp = self.simulator.internal_error(e)
        self.write(resp)

    def write(self, resp: Response) -> None:
        if resp.fault == "reset":  # injected: RST instead of an answer
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass
            return
        if resp.body is None:
            payload = b""
        elif isinstance(resp.body, bytes):
            payload = resp.body
        else:
            payload = self.encode(resp.body)
        if resp.not_before is not None:  # a simulated latency: the answer, encoded, waits for its time
            delay = resp.not_before - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self.send_response(resp.status)
        if payload and "content-type" not in {k.lower() for k in resp.headers}:
            self.send_header("Content-Type", self.content_type)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        try:
            self.end_headers()
            if payload and self.command != "HEAD":
                self.wfile.write(payload)
            resp.sent_at = time.monotonic()
        except OSError:  # the client went away (e.g. it timed out on a `slow` fault)
            self.close_connection = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for method in cls.methods:
            setattr(cls, f"do_{method}", cls._serve)

