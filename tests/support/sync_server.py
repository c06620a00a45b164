"""A real HTTP server of IATI datasets for the sync tests: files with ETags, conditional
GETs, gzip, and sources that are slow, failing or redirected. No tests here."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = Callable[[dict[str, list[str]]], bytes]  # a dynamic body from the query string


@dataclass
class Route:
    """What one path serves: a body (or an answer to the query), and how."""

    body: bytes | Answer
    etag: str | None = None
    last_modified: str | None = None
    statuses: list[int] = field(default_factory=list)  # answered first, one per request
    retry_after: str | None = None
    delay: float = 0.0  # before the headers: a source slower than the read time-out
    gzip: bool = False  # gzip transfer encoding when the client accepts it
    location: str | None = None  # a redirect


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


class SourceServer:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port) in a thread."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                headers = {name.lower(): value for name, value in self.headers.items()}
                with lock:
                    server.requests.append(Request(self.path, headers))
                    route = server.routes.get(parts.path)
                    status = route.statuses.pop(0) if route and route.statuses else None
                if route is None:
                    return self._empty(404)
                time.sleep(route.delay)
                if status is not None:
                    extra = {"Retry-After": route.retry_after} if route.retry_after else {}
                    return self._empty(status, extra)
                if route.location is not None:
                    return self._empty(302, {"Location": route.location})
                if route.etag and headers.get("if-none-match") == route.etag:
                    return self._empty(304, {"ETag": route.etag})
                body = route.body(parse_qs(parts.query)) if callable(route.body) else route.body
                return self._send(route, body, "gzip" in headers.get("accept-encoding", ""))

            def _send(self, route: Route, body: bytes, accepts_gzip: bool) -> None:
                self.send_response(200)
                if route.gzip and accepts_gzip:
                    body = gzip.compress(body)
                    self.send_header("Content-Encoding", "gzip")
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _empty(self, status: int, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, body: bytes | Answer, **how: Any) -> str:
        """Serve `body` at `path` (replacing what was there); its URL."""
        self.routes[path] = Route(body, **how)
        return self.base + path

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if urlsplit(r.path).path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
