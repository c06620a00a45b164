"""A real HTTP receiver of webhook events for the tests: it records every request and
answers the status codes it is given, in order (200 once they run out); over TLS, it
records the server name each client asked for (SNI). No tests here."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    def signed_with(self, secret: str) -> bool:
        """What a subscriber does: recompute HMAC-SHA256 over '<t>.<raw body>'."""
        fields = dict(p.split("=", 1) for p in self.headers["iati-ec-signature"].split(","))
        expected = hmac.new(
            secret.encode(), fields["t"].encode() + b"." + self.body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, fields["v1"])


class Receiver:
    """A ThreadingHTTPServer on `host` (127.0.0.1), `port` (a free one), in a thread; over
    TLS with `tls`, a server context holding its certificate."""

    def __init__(
        self, statuses: list[int] | None = None, *, host: str = "127.0.0.1", port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[Received] = []
        self.server_names: list[str | None] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with lock:
                    receiver.requests.append(Received(self.path, headers, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.url + "/moved")
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.arrived.set()

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port: int = self.server.server_address[1]
        if tls is not None:
            tls.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "http" if tls is None else "https"
        self.url = f"{scheme}://{host}:{self.port}/hooks/iati"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    @property
    def events(self) -> list[dict[str, Any]]:
        return [request.event for request in self.requests]


def server_context(folder: Path, name: str) -> tuple[ssl.SSLContext, Path]:
    """A TLS server context with a new self-signed certificate for `name` (made by the
    `openssl` command), and the certificate's file, for clients to trust."""
    certificate, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={name}", "-addext",
         f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    return context, certificate
