"""`webops serve` as a user runs it: a real uvicorn on 127.0.0.1, tokens made with the CLI,
events read over a real socket while a task runs, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.core.kernel import Kernel
from tests.conftest import CliRunner
from tests.serve_process import ServeProcess
from tests.service import ControlledService, define_shop
from tests.sse import frames


@pytest.fixture
def prepared(db_path: Path, service: ControlledService) -> Path:
    async def setup() -> None:
        async with await Kernel.open(db_path) as kernel:
            await define_shop(kernel, service)
            await kernel.create_agent("ben", "bold")

    asyncio.run(setup())
    return db_path


@pytest.fixture
def server(prepared: Path) -> Iterator[ServeProcess]:
    running = ServeProcess(prepared)
    yield running
    running.stop(signal.SIGKILL)


def _token(cli: CliRunner, name: str, role: str) -> str:
    made = cli("token", "create", name, "--role", role, "--json")
    assert made.code == 0, made.err
    token: str = made.json()["token"]
    return token


async def _events(lines: AsyncIterator[str], until: str, into: list[dict[str, Any]]) -> None:
    async for fields in frames(lines):
        into.append({"id": int(fields["id"]), "kind": fields["event"]} | json.loads(fields["data"]))
        if into[-1]["kind"] == until:
            return


def test_events_of_a_task_arrive_in_order_over_a_real_socket_and_sigterm_stops_cleanly(
    cli: CliRunner, server: ServeProcess, service: ControlledService, prepared: Path
) -> None:
    token = _token(cli, "ci", "operator")
    headers = {"Authorization": f"Bearer {token}"}

    async def scenario() -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        async with (
            httpx.AsyncClient(base_url=server.url, headers=headers, timeout=20) as client,
            client.stream("GET", "/api/events?agent=ben") as stream,
        ):
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            assert await anext(lines) == ": connected"  # subscribed: nothing from now is missed
            reader = asyncio.create_task(_events(lines, "action_finished", events))
            answer = await client.post("/api/agents/ben/task", json={"text": "check shop"})
            assert answer.status_code == 200 and answer.json()["status"] == "succeeded"
            await asyncio.wait_for(reader, 20)
        return events

    events = asyncio.run(scenario())
    kinds = [e["kind"] for e in events]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert {e["agent"] for e in events} == {"ben"}
    started, finished = kinds.index("action_started"), kinds.index("action_finished")
    assert kinds.index("decision_made") < started < finished
    assert events[finished]["action"] == "http_check" and events[finished]["status"] == "succeeded"
    assert events == sorted(events, key=lambda e: e["ts"])

    # SIGTERM with an event stream still open: the stream ends, the process exits 0 quickly.
    async def open_stream_then_stop() -> tuple[int, str, float]:
        async with (
            httpx.AsyncClient(base_url=server.url, headers=headers, timeout=20) as client,
            client.stream("GET", "/api/events") as stream,
        ):
            lines = stream.aiter_lines()
            assert await anext(lines) == ": connected"
            started = time.monotonic()
            code = await asyncio.to_thread(server.stop)
            return code, server.tail(), time.monotonic() - started

    code, err, took = asyncio.run(open_stream_then_stop())
    assert code == 0 and "Traceback" not in err, err
    assert took < 5
    with sqlite3.connect(prepared) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM episode").fetchone()[0] >= 1


def test_with_watch_the_team_finds_a_fault_and_waits_for_an_approval_over_the_api(
    cli: CliRunner, prepared: Path, service: ControlledService
) -> None:
    token = _token(cli, "oncall", "operator")
    service.healthy = False
    watching = ServeProcess(prepared, "--watch")
    try:
        with httpx.Client(
            base_url=watching.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            asked = client.get("/api/events?kind=approval_requested&limit=1&timeout=25")
            frame = next(line for line in asked.text.splitlines() if line.startswith("data: "))
            request = json.loads(frame.removeprefix("data: "))
            assert request["action"] == "fix-shop" and service.fixes == 0
            done = client.post(f"/api/approvals/{request['approval_id']}/approve")
            assert done.json()["status"] == "executed", done.text
            assert service.healthy and service.fixes == 1
    finally:
        code = watching.stop()
    assert code == 0, watching.tail()


def test_a_token_revoked_with_the_cli_is_refused_by_a_running_server(
    cli: CliRunner, server: ServeProcess
) -> None:
    token = _token(cli, "temp", "viewer")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        assert client.get("/api/agents").status_code == 200
        assert cli("token", "revoke", "temp").code == 0
        time.sleep(1.2)  # a running server rereads a token within a second
        refused = client.get("/api/agents")
        assert refused.status_code == 401 and "revoked" in refused.json()["error"]
    assert server.stop(signal.SIGINT) == 0, server.tail()


def test_token_secrets_are_shown_once_and_stored_only_as_hashes(
    cli: CliRunner, db_path: Path
) -> None:
    made = cli("token", "create", "alice", "--role", "admin")
    assert made.code == 0
    token = next(line for line in made.out.splitlines() if line.startswith("webops_"))
    listed = cli("token", "list", "--json")
    assert listed.code == 0 and token not in listed.out
    [row] = listed.json()
    assert (
        row["name"] == "alice"
        and row["role"] == "admin"
        and token.startswith("webops_" + row["prefix"])
    )
    assert "token" not in row and "token_hash" not in row
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert token.encode() not in raw
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT token_hash FROM api_token").fetchone()[0]
    assert stored == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("token", "create", "bob", "--role", "root"), "unknown role 'root'"),
        (("token", "create", "9bob"), "token name '9bob'"),
        (("token", "create", "alice\n"), "token name 'alice\\n'"),
        (("token", "create", "alice"), "already exists"),
        (("token", "revoke", "nobody"), "no token named 'nobody'"),
        (("serve", "--port", "70000"), "--port must be between 0 and 65535"),
    ],
)
def test_bad_token_and_serve_input_is_one_line_and_exit_2(
    cli: CliRunner, db_path: Path, args: tuple[str, ...], says: str
) -> None:
    assert cli("token", "create", "alice").code == 0
    result = cli(*args)
    assert result.code == 2 and says in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert [t["name"] for t in cli("token", "list", "--json").json()] == ["alice"]


def test_a_revoked_name_is_refused_twice_and_may_be_reused(cli: CliRunner) -> None:
    first = _token(cli, "ci", "viewer")
    assert cli("token", "revoke", "ci").code == 0
    again = cli("token", "revoke", "ci")
    assert again.code == 2 and "already revoked" in again.err
    second = _token(cli, "ci", "operator")
    assert second != first
    [row] = cli("token", "list", "--json").json()
    assert row["role"] == "operator" and row["revoked_at"] is None
    events = [e["event"] for e in cli("audit", "--json").json()]
    assert events == ["token_created", "token_revoked", "token_created"]


async def test_no_near_miss_of_a_token_is_accepted(db_path: Path) -> None:
    async with await Kernel.open(db_path) as kernel:
        token = (await kernel.create_token("ci", "admin", by="test")).token
        assert await kernel.tokens.authenticate(token) == ("ci", 3)
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
        near_misses = {token[:-1], token + "a", token.upper(), token.replace("webops_", "")}
        for i in range(len(token)):
            replacement = alphabet[(alphabet.find(token[i]) + 1) % len(alphabet)]
            near_misses.add(token[:i] + replacement + token[i + 1 :])
        near_misses.discard(token)
        for candidate in near_misses:
            assert await kernel.tokens.authenticate(candidate) is None, candidate


def test_listening_beyond_loopback_warns_and_a_busy_port_is_one_line(cli: CliRunner) -> None:
    # 192.0.2.1 is a documentation address no machine here has: the warning is printed before
    # binding, then binding fails, so nothing is ever exposed by this test.
    exposed = cli("serve", "--host", "192.0.2.1", "--port", "0")
    assert exposed.code == 2
    lines = exposed.err.splitlines()
    warning, error = lines[0], lines[-1]
    assert any(line.startswith("note: no tokens yet") for line in lines)
    assert warning.startswith("warning: listening on 192.0.2.1") and "plain text" in warning
    assert error.startswith("webops: error: cannot listen on 192.0.2.1:0")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = cli("serve", "--port", str(port))
    assert taken.code == 2 and f"cannot listen on 127.0.0.1:{port}" in taken.err
    assert "warning" not in taken.err
