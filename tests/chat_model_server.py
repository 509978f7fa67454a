"""A real HTTP server on 127.0.0.1 that speaks OpenAI's chat-completions API with scripted
answers, for the `[llm]` tests: no patched client, the SDK-free httpx path talks to a socket.

`script(...)` queues answers (each used once, in order; when the queue is empty the server
answers "unclear"); `bodies` holds every request body the server received, as JSON, so a test
can check what would have left the machine.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.servers import LocalServer, QuietServer


@dataclass(frozen=True)
class Scripted:
    """One answer: a chat completion whose message content is `content` (a JSON document is
    dumped), or a raw `body` with `status`; `refusal` and `finish_reason` as the API has them;
    `delay_s` before answering (longer than a client's timeout: a slow model)."""

    content: Any = None
    status: int = 200
    body: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    delay_s: float = 0.0
    #: `usage.completion_tokens` of the answer (left out when None, as some servers do).
    completion_tokens: int | None = None


def completion(scripted: Scripted) -> str:
    content = scripted.content
    if content is not None and not isinstance(content, str):
        content = json.dumps(content)
    message = {"role": "assistant", "content": content, "refusal": scripted.refusal}
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": "scripted",
            "choices": [{"index": 0, "message": message, "finish_reason": scripted.finish_reason}],
            **(
                {"usage": {"completion_tokens": scripted.completion_tokens}}
                if scripted.completion_tokens is not None
                else {}
            ),
        }
    )


class _Handler(BaseHTTPRequestHandler):
    server: QuietServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        with owner.lock:
            owner.paths.append(self.path)
            owner.bodies.append(json.loads(raw))
            owner.headers.append(dict(self.headers))
            scripted = owner.queue.pop(0) if owner.queue else Scripted({"intent": "unclear"})
        if self.path != "/v1/chat/completions":
            scripted = Scripted(status=404, body='{"error": "not found"}')
        if scripted.delay_s and owner._stopping.wait(scripted.delay_s):
            return
        body = (scripted.body if scripted.body is not None else completion(scripted)).encode()
        self.send_response(scripted.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ChatModelServer(LocalServer):
    def __init__(self) -> None:
        self.queue: list[Scripted] = []
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        super().__init__(_Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *answers: Scripted) -> None:
        with self.lock:
            self.queue.extend(answers)

    def sent(self) -> str:
        """Everything the server received, as one text (to look for what must not be there)."""
        with self.lock:
            return json.dumps(self.bodies, ensure_ascii=False)
