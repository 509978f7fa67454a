"""Limits uvicorn's httptools protocol lacks: how big a request's headers may be, and how long
a client may take to send them.

uvicorn arms no timer until a response is sent, and httptools keeps a header in memory however
long it grows: 1,500 half-sent requests held the server open for good, and one 200 MB header
grew it by 200 MB. Here each request's head (request line and headers) must arrive within
`HEADER_TIMEOUT_S` and fit in `MAX_HEADER_BYTES`; otherwise the client gets 408 or 431 and the
connection is closed. Bodies have their own limit (`BodyLimit`, 413).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Room for a long bearer token and a browser's cookies; more is an attack.
MAX_HEADER_BYTES = 64 * 1024
#: From the first byte of a request (or the connection) until its headers are complete.
HEADER_TIMEOUT_S = 10.0
#: Connections and requests served at once; beyond that uvicorn answers 503.
MAX_CONCURRENCY = 1024


def _refusal(status: int, reason: str, message: str) -> bytes:
    body = f'{{"error": "{message}", "status": {status}}}'.encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class LimitedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a size limit and a deadline for each request's head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Bytes received for the current request's head; None once its headers are complete.
        self._head_bytes: int | None = 0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a TCP server's, always
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head_bytes is not None:
            if self._head_timer is None:
                self._arm_head_timer()
            self._head_bytes += len(data)
        super().data_received(data)
        if self._head_bytes is not None and self._head_bytes > MAX_HEADER_BYTES:
            self._refuse(
                431, "Request Header Fields Too Large", "the request headers are too large"
            )

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_bytes = 0  # the next bytes on this connection start the next request

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._head_bytes is not None:
            self._refuse(408, "Request Timeout", "the request headers took too long")

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self._cancel_head_timer()
        if not self.transport.is_closing():
            self.transport.write(_refusal(status, reason, message))
            self.transport.close()
