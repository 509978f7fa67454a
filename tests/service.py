"""A controllable service on 127.0.0.1 for tests: /health answers 200 or 503; POST /fix and
/break change that, as a real restart or fault would. Runbooks fix it over real HTTP."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from agent.core.kernel import Kernel


class ControlledService:
    def __init__(self, healthy: bool = True) -> None:
        self.healthy = healthy
        self.fix_works = True
        self.fixes = 0
        #: Dry runs of the fix (POST /fix/dry-run): they change nothing; 409 unless they work.
        self.dry_runs = 0
        self.dry_run_works = True
        #: Health checks answered: real requests, not a counter the code under test sets.
        self.hits = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                service.hits += 1
                if service.healthy:
                    self._reply(200, b"ok")
                else:
                    self._reply(503, b"down")

            def do_POST(self) -> None:
                if self.path == "/fix":
                    service.fixes += 1
                    if service.fix_works:
                        service.healthy = True
                        self._reply(200, b"fixed")
                    else:
                        self._reply(500, b"fix failed")
                elif self.path == "/fix/dry-run":
                    service.dry_runs += 1
                    auth = self.headers.get("Authorization", "")
                    if service.dry_run_works:
                        self._reply(200, f"would restart 1 replica (auth {auth})".encode())
                    else:
                        self._reply(409, b"refused: a rollout is already in progress")
                elif self.path == "/break":
                    service.healthy = False
                    self._reply(200, b"broken")
                else:
                    self._reply(404, b"no")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


SECRET = "hunter2-s3cret"


async def define_shop(
    kernel: Kernel, service: ControlledService, risk: str = "high", failure_threshold: int = 1
) -> None:
    """A high-criticality target `shop` on the service, and `fix-shop`, its remedy over HTTP
    with a secret in a header (risk `risk`, so by default it waits for an approval).

    One failing check opens an incident here (`failure_threshold` 1, not the default 2): the
    tests using the shop are about what follows an incident; confirmation has its own tests."""
    from agent.ops.targets import runbook_spec, target_spec

    await kernel.ops.add_target(
        target_spec(
            name="shop",
            kind="http",
            address=f"{service.url}/health",
            conditions=["status == 200"],
            criticality="high",
            timeout_s=2,
            failure_threshold=failure_threshold,
        )
    )
    await kernel.ops.add_runbook(
        runbook_spec(
            name="fix-shop",
            kind="http",
            method="POST",
            url=f"{service.url}/fix",
            headers={"Authorization": "Bearer {secret:token}"},
            secrets={"token": SECRET},
            risk=risk,
            timeout_s=5,
            verify_target="shop",
        )
    )
