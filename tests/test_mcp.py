"""`webops mcp` (stdio) and /api/mcp under `webops serve` (streamable HTTP), driven by the MCP
SDK's own client as an MCP client (a model's host) drives them: real subprocesses, a real SQLite
file, a real service on 127.0.0.1 behind a high-risk runbook, tokens made with the CLI."""

from __future__ import annotations

import asyncio
import getpass
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from agent.core.kernel import Kernel
from tests.conftest import CliResult, CliRunner
from tests.serve_process import ServeProcess
from tests.service import ControlledService, define_shop
from tests.test_incident_evidence import _run

ME = f"operator:{getpass.getuser()}"
TOOLS = {
    "list_agents",
    "agent_status",
    "list_incidents",
    "list_approvals",
    "recall",
    "check_target",
    "request_runbook",
    "approve",
    "deny",
}
#: A guard against a hung subprocess, not a measure of anything.
STUCK_S = 60
#: What a client sends first on stdio, written out for the tests that speak JSON-RPC raw.
HANDSHAKE: list[dict[str, Any]] = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
]


@pytest.fixture
def world(db_path: Path, service: ControlledService) -> Path:
    """`shop` on the service, down, with `fix-shop` (high risk: it waits for an approval), and
    ben, a bold agent."""

    async def setup() -> None:
        async with await Kernel.open(db_path) as kernel:
            await define_shop(kernel, service)
            await kernel.create_agent("ben", "bold")

    asyncio.run(setup())
    service.healthy = False
    return db_path


@asynccontextmanager
async def stdio(db: Path, tmp_path: Path, *args: str) -> AsyncIterator[Client]:
    """`python -m webops_tui --db DB ARGS` (ARGS naming `mcp`), as a client configured with
    `"command": "webops", "args": ["--db", DB, "mcp"]` starts it."""
    command = ["-m", "webops_tui", "--db", str(db), *(args or ("mcp",))]
    params = StdioServerParameters(command=sys.executable, args=command)
    with (tmp_path / "mcp-stderr.log").open("a") as errlog, anyio.fail_after(STUCK_S):
        async with Client(stdio_client(params, errlog=errlog)) as client:
            yield client


async def acli(cli: CliRunner, *args: str) -> CliResult:
    """The CLI from inside a test's event loop (it runs its own, so in a thread)."""
    return await asyncio.to_thread(cli, *args)


def _data(result: CallToolResult) -> Any:
    """A tool's JSON result: a list comes wrapped as {"result": [...]} (the SDK's way)."""
    assert not result.is_error, _text(result)
    data = result.structured_content
    assert data is not None
    return data["result"] if set(data) == {"result"} else data


def _text(result: CallToolResult) -> str:
    (content,) = result.content
    assert isinstance(content, TextContent)
    return content.text


def _refusal(result: CallToolResult) -> str:
    assert result.is_error
    text = _text(result)
    assert "\n" not in text and "Traceback" not in text, text
    return text


async def test_a_client_lists_the_tools_reads_a_status_and_a_risky_runbook_only_queues_an_approval(
    world: Path, cli: CliRunner, service: ControlledService, tmp_path: Path
) -> None:
    async with stdio(world, tmp_path) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS

        status = _data(await client.call_tool("agent_status", {"agent": "ben"}))
        shown = (await acli(cli, "status", "ben", "--json")).json()
        assert status["name"] == "ben" and status["preset"] == "bold"
        assert set(status["emotions"]) == set(shown["emotions"])
        assert set(status["mood"]) == set(shown["mood"]) and status["mood"]["label"]
        assert [a["name"] for a in _data(await client.call_tool("list_agents", {}))] == ["ben"]

        asked = _data(
            await client.call_tool(
                "request_runbook", {"agent": "ben", "runbook": "fix-shop", "target": "shop"}
            )
        )
        assert asked["status"] == "awaiting_approval" and asked["approval_id"] is not None
        assert service.fixes == 0 and not service.healthy  # queued, not run
        approval_id = asked["approval_id"]
        pending = (await acli(cli, "approvals", "--json")).json()
        assert [(p["id"], p["action"], p["status"]) for p in pending] == [
            (approval_id, "fix-shop", "pending")
        ]
        listed = _data(await client.call_tool("list_approvals", {}))
        assert [p["id"] for p in listed] == [approval_id]

        done = _data(await client.call_tool("approve", {"approval_id": approval_id}))
        assert done["status"] == "executed" and done["decided_by"] == ME
        assert service.fixes == 1 and service.healthy  # run once, now
        again = _refusal(await client.call_tool("approve", {"approval_id": approval_id}))
        assert f"approval {approval_id}" in again and "already executed" in again
        assert service.fixes == 1

        service.healthy = False
        second = _data(
            await client.call_tool("request_runbook", {"agent": "ben", "runbook": "fix-shop"})
        )
        denied = _data(await client.call_tool("deny", {"approval_id": second["approval_id"]}))
        assert denied["status"] == "denied" and service.fixes == 1

    audit = (await acli(cli, "audit", "--json")).json()
    decisions = [(e["event"], e["actor"]) for e in audit if e["event"] in ("approved", "denied")]
    assert decisions == [("denied", ME), ("approved", ME)]  # as `webops approvals` audits you


async def test_a_check_runs_now_and_bad_calls_are_one_line_tool_errors(
    world: Path, cli: CliRunner, service: ControlledService, tmp_path: Path
) -> None:
    service.healthy = True
    async with stdio(world, tmp_path) as client:
        hits = service.hits
        checked = _data(await client.call_tool("check_target", {"agent": "ben", "target": "shop"}))
        assert checked["status"] == "succeeded" and service.hits > hits

        for tool, arguments, expected in [
            ("agent_status", {"agent": "nobody"}, "no agent named 'nobody'"),
            ("check_target", {"agent": "ben", "target": "nowhere"}, "nowhere"),
            ("request_runbook", {"agent": "ben", "runbook": "rm-rf"}, "rm-rf"),
            ("approve", {"approval_id": 999}, "no approval with id 999"),
            ("recall", {"agent": "ben", "query": "  "}, "query is empty"),
            ("recall", {"agent": "ben", "query": "shop", "limit": 0}, "limit must be between"),
            # Only a declared target's URL, as the API refuses an operator's token.
            (
                "check_target",
                {"agent": "ben", "target": "http://127.0.0.1:9/"},
                "may check only a declared target's URL",
            ),
        ]:
            refused = _refusal(await client.call_tool(tool, arguments))
            assert expected in refused, (tool, refused)
        assert _refusal(await client.call_tool("approve", {"approval_id": "x"}))

        # A memory of the check just made comes back when recalled.
        recalled = _data(await client.call_tool("recall", {"agent": "ben", "query": "check shop"}))
        assert recalled and all(r["score"] is not None for r in recalled)
    assert (await acli(cli, "approvals", "--json")).json() == []
    assert "Traceback" not in (tmp_path / "mcp-stderr.log").read_text()


@pytest.mark.parametrize("args", [("--read-only", "mcp"), ("mcp", "--read-only")])
async def test_read_only_is_a_viewer_who_reads_but_cannot_run_or_approve(
    world: Path, cli: CliRunner, service: ControlledService, tmp_path: Path, args: tuple[str, ...]
) -> None:
    async with await Kernel.open(world) as kernel:
        waiting = (await kernel.task("ben", "run fix-shop on shop")).approval_id
    assert waiting is not None
    async with stdio(world, tmp_path, *args) as client:
        assert _data(await client.call_tool("agent_status", {"agent": "ben"}))["name"] == "ben"
        for tool, arguments in [
            ("approve", {"approval_id": waiting}),
            ("deny", {"approval_id": waiting}),
            ("request_runbook", {"agent": "ben", "runbook": "fix-shop"}),
            ("check_target", {"agent": "ben", "target": "shop"}),
        ]:
            refused = _refusal(await client.call_tool(tool, arguments))
            assert "has the viewer role; this needs operator" in refused, refused
            assert "read-only" in refused
    assert [p["status"] for p in (await acli(cli, "approvals", "--json")).json()] == ["pending"]
    assert service.fixes == 0


def test_an_incidents_report_and_an_agents_facts_are_resources(
    db_path: Path, cli: CliRunner, tmp_path: Path
) -> None:
    with ControlledService(healthy=False) as service:
        autopilot = _run(db_path, service, risk="high", policy="all", duration_s=6.5)
    (closed,) = autopilot.closed
    expected = cli("incident", "report", str(closed.id)).out
    facts = cli("memory", "ben", "--kind", "semantic", "--json").json()

    async def read() -> tuple[str, Any, list[dict[str, Any]], str]:
        async with stdio(db_path, tmp_path) as client:
            templates = {
                t.uri_template for t in (await client.list_resource_templates()).resource_templates
            }
            assert templates == {
                "webops://agents/{agent}/facts",
                "webops://incidents/{incident_id}/report",
            }
            report = (await client.read_resource(f"webops://incidents/{closed.id}/report")).contents
            known = (await client.read_resource("webops://agents/ben/facts")).contents
            incidents = _data(await client.call_tool("list_incidents", {"status": "resolved"}))
            with pytest.raises(MCPError) as missing:
                await client.read_resource("webops://incidents/4242/report")
            return report[0].text, json.loads(known[0].text), incidents, str(missing.value)  # type: ignore[union-attr]

    report, known, incidents, missing = asyncio.run(read())
    assert report == expected and report.startswith(f"# Postmortem: incident {closed.id} on shop")
    assert known == facts
    assert [(i["id"], i["target"]) for i in incidents] == [(closed.id, "shop")]
    assert "no incident" in missing and "4242" in missing


def test_stdout_carries_nothing_but_mcp_messages(world: Path) -> None:
    """A client reads every stdout line as JSON-RPC: a stray print would break it."""
    messages = [
        *HANDSHAKE,
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "agent_status", "arguments": {"agent": "nobody"}},
        },
    ]
    server = subprocess.Popen(
        [sys.executable, "-m", "webops_tui", "--db", str(world), "mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    replies = []
    for message in messages:
        server.stdin.write(json.dumps(message) + "\n")
        server.stdin.flush()
        if "id" in message:  # each request answered before the next is sent
            replies.append(json.loads(server.stdout.readline()))
    rest, err = server.communicate(timeout=STUCK_S)  # stdin closed: the server ends
    assert server.returncode == 0 and rest == "", (rest, err)
    assert [r["id"] for r in replies] == [1, 2, 3]
    assert {t["name"] for t in replies[1]["result"]["tools"]} == TOOLS
    assert replies[2]["result"]["isError"] is True
    assert "Traceback" not in err


def test_mcp_on_a_missing_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "webops_tui", "--db", str(tmp_path / "none.db"), "mcp"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=STUCK_S,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "no webops database" in done.stderr, done.stderr
    assert not (tmp_path / "none.db").exists()


# -- streamable HTTP under `webops serve` --------------------------------------------------------


async def _token(cli: CliRunner, name: str, role: str) -> str:
    made = await acli(cli, "token", "create", name, "--role", role, "--json")
    assert made.code == 0, made.err
    token: str = made.json()["token"]
    return token


@pytest.fixture
def server(world: Path) -> Iterator[ServeProcess]:
    running = ServeProcess(world)
    yield running
    running.stop(signal.SIGKILL)


@asynccontextmanager
async def over_http(url: str, token: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=STUCK_S) as http,
        Client(streamable_http_client(f"{url}/api/mcp", http_client=http)) as client,
    ):
        yield client


async def test_over_http_a_viewer_reads_but_cannot_approve_and_an_operators_request_is_queued(
    cli: CliRunner, server: ServeProcess, service: ControlledService
) -> None:
    viewer = await _token(cli, "wall", "viewer")
    operator = await _token(cli, "oncall", "operator")
    async with over_http(server.url, operator) as client:
        asked = _data(
            await client.call_tool("request_runbook", {"agent": "ben", "runbook": "fix-shop"})
        )
    assert asked["status"] == "awaiting_approval" and service.fixes == 0
    approval_id = asked["approval_id"]

    async with over_http(server.url, viewer) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        status = _data(await client.call_tool("agent_status", {"agent": "ben"}))
        assert status["name"] == "ben" and "joy" in status["emotions"]
        refused = _refusal(await client.call_tool("approve", {"approval_id": approval_id}))
        assert refused.endswith("token 'wall' has the viewer role; this needs operator")
        assert _refusal(
            await client.call_tool("request_runbook", {"agent": "ben", "runbook": "fix-shop"})
        )
    headers = {"Authorization": f"Bearer {viewer}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=STUCK_S) as rest:
        pending = (await rest.get("/api/approvals")).json()
    assert [(p["id"], p["status"]) for p in pending] == [(approval_id, "pending")]
    assert service.fixes == 0

    async with over_http(server.url, operator) as client:
        done = _data(await client.call_tool("approve", {"approval_id": approval_id}))
    assert done["status"] == "executed" and done["decided_by"] == "token:oncall"
    assert service.fixes == 1 and service.healthy
    assert server.stop() == 0, server.tail()
    assert "Traceback" not in server.tail()


def test_over_http_no_token_or_a_bad_one_is_401(cli: CliRunner, server: ServeProcess) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    with httpx.Client(base_url=server.url, timeout=STUCK_S) as client:
        for headers in ({}, {"Authorization": "Bearer webops_0000000000"}):
            answer = client.post("/api/mcp", json=initialize, headers=headers)
            assert answer.status_code == 401, answer.text
            assert answer.headers["www-authenticate"] == "Bearer"
    # /api/mcp is no REST route: /openapi.json, which schemathesis reads, leaves it out.
    assert (
        "/api/mcp" not in httpx.get(f"{server.url}/openapi.json", timeout=STUCK_S).json()["paths"]
    )


async def test_a_read_only_server_makes_every_mcp_caller_a_viewer(
    cli: CliRunner, world: Path, service: ControlledService
) -> None:
    admin = await _token(cli, "boss", "admin")
    running = ServeProcess(world, "--read-only")
    try:
        async with over_http(running.url, admin) as client:
            assert _data(await client.call_tool("list_agents", {}))[0]["name"] == "ben"
            refused = _refusal(
                await client.call_tool("request_runbook", {"agent": "ben", "runbook": "fix-shop"})
            )
            assert "read-only" in refused and "needs operator" in refused
        assert (await acli(cli, "approvals", "--json")).json() == [] and service.fixes == 0
    finally:
        running.stop(signal.SIGKILL)


def test_the_api_imports_the_sdk_only_when_mcp_is_first_called() -> None:
    """~0.7 s of `webops serve`'s start that a server nobody asks over MCP never pays."""
    script = "import sys, webops_tui.api.app; print('mcp' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=STUCK_S
    )
    assert done.stdout.strip() == "False", done.stderr


def test_sigterm_keeps_what_the_agent_lived_through(
    world: Path, cli: CliRunner, service: ControlledService
) -> None:
    """A client that gives up on closing stdin sends SIGTERM: the failed check the agent just
    made is remembered (the write-behind is flushed before the signal ends the process)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "webops_tui", "--db", str(world), "mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    check = {"name": "check_target", "arguments": {"agent": "ben", "target": "shop"}}
    for message in [
        *HANDSHAKE,
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": check},
    ]:
        server.stdin.write(json.dumps(message) + "\n")
        server.stdin.flush()
        if "id" in message:
            reply = json.loads(server.stdout.readline())
    assert json.loads(reply["result"]["content"][0]["text"])["status"] == "failed"  # shop is down
    server.send_signal(signal.SIGTERM)  # stdin still open
    _, err = server.communicate(timeout=STUCK_S)
    assert server.returncode == -signal.SIGTERM and "Traceback" not in err, err
    episodes = cli("memory", "ben", "--kind", "episodic", "--json").json()
    assert any("shop" in e["summary"] for e in episodes), episodes
