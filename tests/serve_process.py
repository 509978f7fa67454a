"""`webops serve --port 0` in a subprocess, as a user starts it, for tests and benchmarks.

The port is read from the line the server prints on stderr once it listens; a thread drains
stderr the whole time (a full pipe would block the server) and keeps it for assertions.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

READY = re.compile(r"webops API on http://127\.0\.0\.1:(\d+)/api")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0


class ServeProcess:
    def __init__(self, db: Path | str, *extra: str) -> None:
        command = [sys.executable, "-m", "webops_tui", "--db", str(db), "serve", "--port", "0"]
        self.process = subprocess.Popen(
            [*command, *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
        self.stderr: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        try:
            self.port = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{self.port}"

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _wait_ready(self) -> int:
        deadline = time.monotonic() + START_TIMEOUT_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise RuntimeError(f"webops serve exited before listening:\n{self.tail()}")
            if match := READY.search(line):
                return int(match.group(1))
        raise RuntimeError(
            f"webops serve did not say it listens within {START_TIMEOUT_S:.0f} s:\n{self.tail()}"
        )

    def tail(self, lines: int = 20) -> str:
        return "".join(self.stderr[-lines:]) or "(nothing on stderr)"

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig` and wait; the exit status (-9 when it had to be killed)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            code = -9
        self._drainer.join(5)
        return code
