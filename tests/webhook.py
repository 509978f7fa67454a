"""A real webhook receiver on 127.0.0.1 for notification tests: it keeps every JSON body it is
sent, by path, and answers each path with the statuses it is told (then 200)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.servers import LocalServer, QuietServer


class _Handler(BaseHTTPRequestHandler):
    server: QuietServer

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with owner.lock:
            answers = owner.answers.get(self.path, [])
            status = 503 if owner.down else answers.pop(0) if answers else 200
            owner.attempts.append((self.path, status))
            if status < 300:
                owner.received.setdefault(self.path, []).append(body)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class WebhookReceiver(LocalServer):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: path -> JSON bodies accepted there, in order.
        self.received: dict[str, list[Any]] = {}
        #: (path, status answered) for every request, in order.
        self.attempts: list[tuple[str, int]] = []
        #: path -> statuses to answer next (then 200).
        self.answers: dict[str, list[int]] = {}
        #: While set, every request is answered 503.
        self.down = False
        super().__init__(_Handler)

    def url(self, path: str) -> str:
        """An apprise json:// URL that posts to `path` here."""
        return f"json://127.0.0.1:{self.port}{path}"

    def titles(self, path: str) -> list[str]:
        with self.lock:
            return [str(b.get("title", "")) for b in self.received.get(path, [])]
