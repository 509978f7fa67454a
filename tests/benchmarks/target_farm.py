"""Thousands of healthy HTTP targets on 127.0.0.1, in a subprocess, that note when each is asked.

Why a farm of our own: `python -m http.server` answers one request at a time, so at 1,000
targets the checks queued behind each other and a healthy server looked down. This one is plain
asyncio with HTTP/1.1 keep-alive, a few ports and one path per target (`/t/<i>`); it answers
200 at once and records each request's arrival time (monotonic seconds) per path. The arrivals
let a benchmark measure how late checks start without trusting the product's own figure.

In a subprocess so its CPU is not the product's (the parent reads the farm's CPU from its
rusage when it ends). Usage:

    farm = TargetFarm()
    urls = farm.start(5000)        # http://127.0.0.1:PORT/t/0 ... one per target
    ...
    arrivals = farm.stop()         # {"/t/0": [t0, t1, ...], ...}; farm.cpu_s is its CPU

Run as `python -m tests.benchmarks.target_farm N PORTS OUT`: prints the ports as one JSON line,
serves until SIGTERM/SIGINT, then writes the arrivals to OUT as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import TracebackType

_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
    b"Connection: keep-alive\r\n\r\nok"
)


class _Http(asyncio.Protocol):
    """Minimal HTTP/1.1: request line and headers, no request bodies, keep-alive."""

    def __init__(self, arrivals: defaultdict[str, list[float]]) -> None:
        self.arrivals = arrivals
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buffer += data
        assert self.transport is not None
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            line = head.split(b"\r\n", 1)[0].split(b" ")
            path = line[1].decode("ascii", "replace") if len(line) > 1 else "/"
            self.arrivals[path].append(now)
            self.transport.write(_RESPONSE)
            if b"connection: close" in head.lower():
                self.transport.close()
                return


async def _serve(n_ports: int, out: Path) -> None:
    arrivals: defaultdict[str, list[float]] = defaultdict(list)
    loop = asyncio.get_running_loop()
    servers = [
        await loop.create_server(lambda: _Http(arrivals), "127.0.0.1", 0, backlog=4096)
        for _ in range(n_ports)
    ]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    print(json.dumps({"ports": ports}), flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()
    out.write_text(json.dumps(arrivals))


class TargetFarm:
    """The farm as a subprocess: `start(n)` gives the targets' URLs, `stop()` their arrivals."""

    def __init__(self, ports: int = 4) -> None:
        self.ports = ports
        self.cpu_s = 0.0
        self._process: subprocess.Popen[str] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="webops-farm-")
        self._out = Path(self._dir.name) / "arrivals.json"

    def start(self, n: int) -> list[str]:
        """Start serving `n` targets; their URLs, target i on port i mod ports."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks.target_farm", str(self.ports), str(self._out)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        ports = json.loads(self._process.stdout.readline())["ports"]
        return [f"http://127.0.0.1:{ports[i % len(ports)]}/t/{i}" for i in range(n)]

    def stop(self) -> dict[str, list[float]]:
        """Stop the farm; each path's arrival times (monotonic seconds, this machine's clock)."""
        process = self._process
        if process is None:
            return {}
        self._process = None
        process.send_signal(signal.SIGTERM)
        _pid, _status, usage = os.wait4(process.pid, 0)
        process.returncode = 0
        self.cpu_s = usage.ru_utime + usage.ru_stime
        try:
            arrivals: dict[str, list[float]] = json.loads(self._out.read_text())
        finally:
            self._dir.cleanup()
        return arrivals

    def __enter__(self) -> TargetFarm:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None:
            self.stop()


def main() -> None:
    # Thousands of keep-alive connections: more than the usual 1,024 descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 65536), hard), hard))
    asyncio.run(_serve(int(sys.argv[1]), Path(sys.argv[2])))


if __name__ == "__main__":
    main()
