"""The API's limits, probed as an attacker did, against `webops serve` on a real socket: bodies
that are not JSON or nested too deep, a viewer poking at admin routes, headers that never end
or never arrive, and ad-hoc checks used as a port scanner."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.core.kernel import Kernel
from tests.conftest import CliRunner
from tests.serve_process import ServeProcess
from tests.servers import HttpServer, Response
from tests.service import ControlledService, define_shop

pytestmark = pytest.mark.both_backends


@pytest.fixture
def server(db_path: Path, service: ControlledService) -> Iterator[ServeProcess]:
    async def setup() -> None:
        async with await Kernel.open(db_path) as kernel:
            await define_shop(kernel, service)
            await kernel.create_agent("ben", "bold")

    asyncio.run(setup())
    running = ServeProcess(db_path)
    yield running
    running.stop(signal.SIGKILL)


def _client(cli: CliRunner, server: ServeProcess, role: str) -> httpx.Client:
    made = cli("token", "create", f"{role}-1", "--role", role, "--json")
    assert made.code == 0, made.err
    headers = {"Authorization": f"Bearer {made.json()['token']}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


JSON = {"Content-Type": "application/json"}
DEEP = b"[" * 20_000 + b"]" * 20_000
BAD_BODIES = [b"{", b"\xff\xfe{}", DEEP, b'{"a":' * 5000 + b"1" + b"}" * 5000]


def test_bodies_that_are_not_json_or_nested_too_deep_are_422_with_one_line(
    cli: CliRunner, server: ServeProcess
) -> None:
    with _client(cli, server, "admin") as admin:
        for body in BAD_BODIES:
            answer = admin.post("/api/targets", content=body, headers=JSON)
            assert answer.status_code == 422, (body[:20], answer.text)
            message = answer.json()["error"]
            assert "JSON" in message and "\n" not in message
        assert [t["name"] for t in admin.get("/api/targets").json()] == ["shop"]
    assert "Traceback" not in server.tail(200)


def test_a_viewer_gets_403_before_the_body_of_an_admin_route_is_even_parsed(
    cli: CliRunner, server: ServeProcess
) -> None:
    with _client(cli, server, "viewer") as viewer:
        for path in ("/api/targets", "/api/runbooks", "/api/agents", "/api/tokens"):
            for body in [*BAD_BODIES, b'{"nme": 1}', b"[1]"]:
                answer = viewer.post(path, content=body, headers=JSON)
                assert answer.status_code == 403, (path, body[:20], answer.text)
                assert "needs admin" in answer.json()["error"]
                assert "detail" not in answer.json()


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_huge_header_is_refused_without_the_server_keeping_it(
    cli: CliRunner, server: ServeProcess
) -> None:
    before = _rss_kib(server.process.pid)
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as conn:
        conn.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        chunk = b"a" * (1 << 20)
        answer = b""
        try:
            while sent < 64 << 20:  # 64 MiB of one header, or until the server hangs up
                conn.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            answer = conn.recv(4096)
    assert sent < 64 << 20 or answer.startswith(b"HTTP/1.1 431"), answer[:80]
    if answer:
        assert answer.startswith(b"HTTP/1.1 431"), answer[:80]
    with _client(cli, server, "viewer") as viewer:
        assert viewer.get("/api/agents").status_code == 200
    assert _rss_kib(server.process.pid) - before < 16 * 1024


def test_half_sent_headers_are_dropped_and_the_server_keeps_answering(
    cli: CliRunner, server: ServeProcess
) -> None:
    from webops_tui.api.http_limits import HEADER_TIMEOUT_S

    stalled = []
    for _ in range(300):
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        conn.sendall(b"GET /api/agents HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
        stalled.append(conn)
    try:
        deadline = time.monotonic() + HEADER_TIMEOUT_S + 10
        for conn in stalled:
            conn.settimeout(max(0.1, deadline - time.monotonic()))
            data = conn.recv(4096)  # b"" (closed) or a 408, never a hang past the deadline
            assert data == b"" or data.startswith(b"HTTP/1.1 408"), data[:80]
        with _client(cli, server, "viewer") as viewer:
            assert viewer.get("/api/agents").status_code == 200
    finally:
        for conn in stalled:
            conn.close()


def test_an_operator_may_check_only_declared_targets_an_admin_any_url(
    cli: CliRunner, server: ServeProcess, service: ControlledService
) -> None:
    with HttpServer() as elsewhere:
        undeclared = {"text": f"check {elsewhere.url}"}
        with _client(cli, server, "operator") as operator:
            refused = operator.post("/api/agents/ben/task", json=undeclared)
            assert refused.status_code == 403, refused.text
            assert "declared target" in refused.json()["error"]
            assert elsewhere.requests == []
            declared = {"text": f"check {service.url}/health"}
            assert operator.post("/api/agents/ben/task", json=declared).status_code == 200
            assert operator.post("/api/agents/ben/task", json={"text": "check shop"}).json()[
                "status"
            ] == ("succeeded")
        with _client(cli, server, "admin") as admin:
            allowed = admin.post("/api/agents/ben/task", json=undeclared)
            assert allowed.status_code == 200 and allowed.json()["status"] == "succeeded"
            assert elsewhere.requests == ["/"]


def test_redirects_of_a_check_are_bounded(cli: CliRunner, server: ServeProcess) -> None:
    from agent.ops.checks import MAX_REDIRECTS

    with HttpServer(Response(status=302, headers={"Location": "/again"})) as looping:
        with _client(cli, server, "admin") as admin:
            answer = admin.post("/api/agents/ben/task", json={"text": f"check {looping.url}"})
        assert answer.status_code == 200 and answer.json()["status"] == "failed", answer.text
        assert "redirect" in answer.json()["summary"].lower() or "redirect" in str(
            answer.json()["result"]
        )
        assert len(looping.requests) == MAX_REDIRECTS + 1
