"""Run the API under uvicorn on the kernel's own event loop, and stop cleanly on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
import socket
from collections.abc import Callable, Generator
from types import FrameType

import uvicorn
from fastapi import FastAPI

from webops_tui.api.http_limits import MAX_CONCURRENCY, LimitedHttpTools

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str) -> str | None:
    """What to tell the operator before listening beyond this machine; None on loopback."""
    if is_loopback(host):
        return None
    return (
        f"warning: listening on {host}, reachable from other machines. Tokens travel in plain "
        "text over HTTP: anyone on the network path can read one and act with its role "
        "(operators approve risky actions, admins can add runbooks that run commands here). "
        "Put TLS in front (a reverse proxy) or bind 127.0.0.1 and tunnel over SSH."
    )


class _Server(uvicorn.Server):
    """uvicorn's server, but signals only ask it to stop.

    uvicorn re-raises a caught signal after its own shutdown, which for SIGTERM would kill the
    process before the kernel has written what it holds in memory; here the signal just stops
    the server, event streams end at once, and the caller closes the kernel afterwards.
    """

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop = on_stop

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_stop()
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


async def serve(
    app: FastAPI,
    host: str,
    port: int,
    *,
    on_ready: Callable[[str, int], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve `app` until SIGINT or SIGTERM; `on_ready(host, port)` once it listens.

    Port 0 picks a free port; `on_ready` gets the real one.
    """
    stopping: asyncio.Event = app.state.stopping
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        # httptools (a dependency: ~60% more requests per core than the h11 fallback), with a
        # size limit and a deadline for each request's headers, which uvicorn lacks.
        http=LimitedHttpTools,
        limit_concurrency=MAX_CONCURRENCY,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    server = _Server(config, stopping.set)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY on accepted connections only then, and
    # without it each keep-alive response waited ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    bound_port = sock.getsockname()[1]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    # uvicorn offers `started` as a flag only, with no event or callback to await.
    while not server.started and not task.done():  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    if server.started and on_ready is not None:
        on_ready(host, bound_port)
    try:
        await task
    finally:
        stopping.set()
        sock.close()
