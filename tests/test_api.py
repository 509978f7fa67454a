"""The REST API through httpx's ASGI transport: every route, every role, every kind of bad input,
on a real SQLite file with a real service on 127.0.0.1 behind the runbooks."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.core.kernel import Kernel
from tests.conftest import CliRunner
from tests.service import SECRET, ControlledService, define_shop
from webops_tui.api.app import create_app


@dataclass
class Api:
    kernel: Kernel
    client: httpx.AsyncClient
    tokens: dict[str, str]

    async def call(
        self, method: str, path: str, role: str | None = "admin", **kwargs: Any
    ) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return await self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture
async def api(db_path: Path) -> AsyncIterator[Api]:
    async with await Kernel.open(db_path) as kernel:
        tokens = {
            role: (await kernel.create_token(f"{role}-token", role, by="test")).token
            for role in ("viewer", "operator", "admin")
        }
        await kernel.create_agent("anna", "cautious")
        app = create_app(kernel, max_body=4096, heartbeat_s=0.05)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield Api(kernel, client, tokens)


#: Every route, a request that would succeed for a strong enough role, and the weakest role it
#: needs. A test checks that this table names every route the app has.
ROUTES: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/api/agents", None, "viewer"),
    ("POST", "/api/agents", {"name": "zed"}, "admin"),
    ("GET", "/api/agents/anna", None, "viewer"),
    ("DELETE", "/api/agents/anna", None, "admin"),
    ("GET", "/api/status", None, "viewer"),
    ("GET", "/api/agents/anna/status", None, "viewer"),
    ("POST", "/api/agents/anna/chat", {"message": "how are you?"}, "operator"),
    ("POST", "/api/agents/anna/task", {"text": "check shop"}, "operator"),
    ("GET", "/api/agents/anna/memory", None, "viewer"),
    ("GET", "/api/agents/anna/skills", None, "viewer"),
    ("GET", "/api/approvals", None, "viewer"),
    ("GET", "/api/approvals/1", None, "viewer"),
    ("POST", "/api/approvals/1/approve", None, "operator"),
    ("POST", "/api/approvals/1/deny", None, "operator"),
    ("GET", "/api/audit", None, "viewer"),
    ("GET", "/api/incidents", None, "viewer"),
    ("GET", "/api/incidents/1", None, "viewer"),
    ("GET", "/api/incidents/1/report", None, "viewer"),
    ("POST", "/api/incidents/1/ack", None, "operator"),
    ("POST", "/api/incidents/1/resolve", {"note": "by hand"}, "operator"),
    ("POST", "/api/incidents/1/reopen", None, "operator"),
    ("POST", "/api/incidents/1/notes", {"text": "a note"}, "operator"),
    ("GET", "/api/team", None, "viewer"),
    ("GET", "/metrics", None, "viewer"),
    ("GET", "/api/targets", None, "viewer"),
    ("GET", "/api/targets/shop", None, "viewer"),
    ("POST", "/api/targets", {"name": "t2", "kind": "tcp", "address": "127.0.0.1:9"}, "admin"),
    ("DELETE", "/api/targets/shop", None, "admin"),
    ("GET", "/api/runbooks", None, "viewer"),
    ("GET", "/api/runbooks/fix-shop", None, "viewer"),
    ("POST", "/api/runbooks", {"name": "r2", "kind": "command", "argv": ["true"]}, "admin"),
    ("DELETE", "/api/runbooks/fix-shop", None, "admin"),
    ("GET", "/api/tokens", None, "admin"),
    ("POST", "/api/tokens", {"name": "new"}, "admin"),
    ("DELETE", "/api/tokens/viewer-token", None, "admin"),
    ("GET", "/api/events?timeout=0.1", None, "viewer"),
    ("GET", "/api/silences", None, "viewer"),
    ("POST", "/api/silences", {"target": "shop", "for": "2h"}, "operator"),
    ("DELETE", "/api/silences/1", None, "operator"),
]
RANK = {"viewer": 1, "operator": 2, "admin": 3}


def _template(path: str) -> str:
    for concrete, name in (
        ("anna", "{name}"),
        ("shop", "{name}"),
        ("fix-shop", "{name}"),
        ("viewer-token", "{name}"),
        ("incidents/1", "incidents/{incident_id}"),
        ("silences/1", "silences/{silence_id}"),
        ("1", "{approval_id}"),
    ):
        path = path.replace(f"/{concrete}/", f"/{name}/")
        if path.endswith(f"/{concrete}"):
            path = path[: -len(concrete)] + name
    return path.split("?")[0]


def test_the_route_table_names_every_route_of_the_app(db_path: Path) -> None:
    async def documented() -> set[tuple[str, str]]:
        async with await Kernel.open(db_path) as kernel:
            spec = create_app(kernel).openapi()
            return {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops}

    known = {(m, _template(p)) for m, p, _, _ in ROUTES} | {("GET", "/api/health")}
    assert asyncio.run(documented()) == known


@pytest.mark.parametrize(("method", "path", "body", "role"), ROUTES)
async def test_no_token_or_a_bad_one_is_401_and_changes_nothing(
    api: Api, method: str, path: str, body: dict[str, Any] | None, role: str
) -> None:
    before = await api.kernel.list_agents()
    for headers in ({}, {"Authorization": "Bearer webops_0000000000"}, {"Authorization": "x"}):
        answer = await api.call(method, path, role=None, json=body, headers=headers)
        assert answer.status_code == 401, (path, answer.text)
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "token" in answer.json()["error"]
    assert await api.kernel.list_agents() == before


@pytest.mark.parametrize(("method", "path", "body", "role"), ROUTES)
async def test_a_role_too_low_is_403_and_enough_is_let_through(
    api: Api, service: ControlledService, method: str, path: str, body: Any, role: str
) -> None:
    await define_shop(api.kernel, service)
    for caller in ("viewer", "operator", "admin"):
        answer = await api.call(method, path, role=caller, json=body)
        if RANK[caller] < RANK[role]:
            assert answer.status_code == 403, (caller, path, answer.text)
            assert f"needs {role}" in answer.json()["error"]
        else:
            # Allowed: whatever the answer, it is not about who is asking (approval 1 may not
            # exist: 404 is fine; a second delete finds nothing: 404 too).
            assert answer.status_code not in (401, 403), (caller, path, answer.text)
            assert answer.status_code < 500, answer.text
            break  # a second success would only repeat a create or a delete


async def test_health_and_the_openapi_description_need_no_token(api: Api) -> None:
    health = await api.call("GET", "/api/health", role=None)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    spec = (await api.call("GET", "/openapi.json", role=None)).json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    status = spec["paths"]["/api/agents/{name}/status"]["get"]["responses"]["200"]
    assert status["content"]["application/json"]["schema"]["$ref"].endswith("/AgentStatus")
    # No docs pages: they would fetch their scripts from a CDN.
    assert (await api.call("GET", "/docs", role=None)).status_code == 404


async def test_agents_are_created_listed_shown_and_deleted(api: Api) -> None:
    made = await api.call(
        "POST", "/api/agents", json={"name": "ben", "preset": "bold", "openness": 0.9}
    )
    assert made.status_code == 201
    assert made.json()["personality"]["openness"] == 0.9
    names = [a["name"] for a in (await api.call("GET", "/api/agents", "viewer")).json()]
    assert names == ["anna", "ben"]
    shown = (await api.call("GET", "/api/agents/ben", "viewer")).json()
    # An overridden trait makes it a custom personality, as with the CLI.
    assert shown["preset"] == "custom" and set(shown["mood"]) >= {"label", "pleasure"}
    gone = await api.call("DELETE", "/api/agents/ben")
    assert gone.status_code == 200 and gone.json()["name"] == "ben"
    assert (await api.call("GET", "/api/agents/ben", "viewer")).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (
            {"name": "ben", "openness": 1.5},
            422,
            "openness: Input should be less than or equal to 1",
        ),
        ({"name": "ben", "neuroticism": -0.1}, 422, "neuroticism"),
        ({"name": "ben", "mood": "happy"}, 422, "mood: unknown field"),
        ({"name": "ben", "preset": "reckless"}, 422, "reckless"),
        ({"name": "9ben"}, 422, "9ben"),
        ({}, 422, "name: Field required"),
        ([1, 2], 422, "JSON object"),
        ({"name": "anna"}, 409, "anna"),
    ],
)
async def test_bad_agent_bodies_get_a_json_error_and_store_nothing(
    api: Api, body: Any, status: int, says: str
) -> None:
    answer = await api.call("POST", "/api/agents", json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()
    assert error["status"] == status and says in error["error"]
    assert "\n" not in error["error"]
    assert [p.name for p in await api.kernel.list_agents()] == ["anna"]


async def test_malformed_json_and_a_form_body_are_422_with_a_readable_reason(api: Api) -> None:
    broken = await api.call(
        "POST",
        "/api/agents",
        content=b'{"name": "ben",',
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 422 and "not valid JSON" in broken.json()["error"]
    form = await api.call("POST", "/api/agents", content=b"name=ben")
    assert form.status_code == 422 and "Content-Type: application/json" in form.json()["error"]
    assert [p.name for p in await api.kernel.list_agents()] == ["anna"]


async def test_a_body_over_the_limit_is_413_declared_or_streamed(api: Api) -> None:
    big = {"name": "ben", "preset": "x" * 5000}
    declared = await api.call("POST", "/api/agents", json=big)
    assert declared.status_code == 413 and "4096 bytes" in declared.json()["error"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        for _ in range(10):
            yield b" " * 1000
        yield json.dumps({"name": "ben"}).encode()

    streamed = await api.call(
        "POST", "/api/agents", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert [p.name for p in await api.kernel.list_agents()] == ["anna"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/agents/nobody", None),
        ("DELETE", "/api/agents/nobody", None),
        ("GET", "/api/agents/nobody/status", None),
        ("POST", "/api/agents/nobody/chat", {"message": "hi"}),
        ("POST", "/api/agents/nobody/task", {"text": "check shop"}),
        ("GET", "/api/agents/nobody/memory", None),
        ("GET", "/api/agents/nobody/skills", None),
        ("GET", "/api/approvals/99", None),
        ("POST", "/api/approvals/99/approve", None),
        ("GET", "/api/targets/nothing", None),
        ("DELETE", "/api/runbooks/nothing", None),
        ("DELETE", "/api/tokens/nothing", None),
        ("GET", "/api/events?agent=nobody", None),
    ],
)
async def test_unknown_things_are_404_with_their_name(
    api: Api, method: str, path: str, body: Any
) -> None:
    answer = await api.call(method, path, json=body)
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"].startswith("no ")


async def test_status_has_the_same_shape_as_the_cli_json(api: Api, cli: CliRunner) -> None:
    from_api = (await api.call("GET", "/api/agents/anna/status", "viewer")).json()
    await api.kernel.flush()
    from_cli = (await asyncio.to_thread(cli, "status", "anna", "--json")).json()
    assert from_api.keys() == from_cli.keys()
    assert from_api["personality"] == from_cli["personality"]
    assert from_api["emotions"].keys() == from_cli["emotions"].keys()
    assert set(from_api["memory"]) == {"episodic", "semantic", "procedural"}
    every = (await api.call("GET", "/api/status", "viewer")).json()
    assert [s["name"] for s in every] == ["anna"]


async def test_chat_answers_from_the_agents_feelings(api: Api) -> None:
    answer = await api.call(
        "POST", "/api/agents/anna/chat", "operator", json={"message": "how are you feeling?"}
    )
    assert answer.status_code == 200
    reply = answer.json()
    assert reply["intent"] == "feeling"
    assert reply["mood"]["label"] in reply["reply"]
    german = await api.call(
        "POST", "/api/agents/anna/chat", "operator", json={"message": "help", "lang": "de"}
    )
    assert german.json()["lang"] == "de"
    empty = await api.call("POST", "/api/agents/anna/chat", "operator", json={"message": ""})
    assert empty.status_code == 422 and "message" in empty.json()["error"]


async def test_a_risky_task_waits_for_an_api_approval_which_is_audited_with_the_token(
    api: Api, service: ControlledService
) -> None:
    await define_shop(api.kernel, service)
    await api.kernel.create_agent("ben", "bold")
    service.healthy = False
    asked = (
        await api.call(
            "POST", "/api/agents/ben/task", "operator", json={"text": "run fix-shop on shop"}
        )
    ).json()
    assert asked["status"] == "awaiting_approval" and service.fixes == 0
    approval_id = asked["approval_id"]
    pending = (await api.call("GET", "/api/approvals", "viewer")).json()
    assert [p["id"] for p in pending] == [approval_id]

    refused = await api.call("POST", f"/api/approvals/{approval_id}/approve", "viewer")
    assert refused.status_code == 403 and service.fixes == 0

    done = await api.call("POST", f"/api/approvals/{approval_id}/approve", "operator")
    assert done.status_code == 200
    assert (
        done.json()["status"] == "executed" and done.json()["decided_by"] == "token:operator-token"
    )
    assert service.healthy and service.fixes == 1
    again = await api.call("POST", f"/api/approvals/{approval_id}/deny", "operator")
    assert again.status_code == 409 and "already executed" in again.json()["error"]

    service.healthy = False
    second = (
        await api.call(
            "POST", "/api/agents/ben/task", "operator", json={"text": "run fix-shop on shop"}
        )
    ).json()
    denied = await api.call("POST", f"/api/approvals/{second['approval_id']}/deny", "admin")
    assert denied.json()["status"] == "denied" and service.fixes == 1

    entries = (await api.call("GET", "/api/audit?limit=100", "viewer")).json()
    decisions = [(e["event"], e["actor"]) for e in entries if e["event"] in ("approved", "denied")]
    assert decisions == [("denied", "token:admin-token"), ("approved", "token:operator-token")]
    verified = (await api.call("GET", "/api/audit?verify=true", "viewer")).json()
    assert verified["ok"] and verified["entries"] >= 4 and verified["first_bad"] is None


async def test_approving_in_a_chat_is_audited_with_the_token_too(
    api: Api, service: ControlledService
) -> None:
    await define_shop(api.kernel, service)
    await api.kernel.create_agent("ben", "bold")
    service.healthy = False
    asked = await api.kernel.task("ben", "run fix-shop on shop")
    reply = await api.call(
        "POST", "/api/agents/ben/chat", "operator", json={"message": f"approve {asked.approval_id}"}
    )
    assert reply.json()["intent"] == "approve" and service.healthy
    actors = [e.actor for e in await api.kernel.audit_entries() if e.event == "approved"]
    assert actors == ["token:operator-token"]  # the token that authenticated, nothing else


async def test_audit_verify_names_the_first_altered_entry(api: Api, db_path: Path) -> None:
    await api.call("POST", "/api/tokens", json={"name": "one"})
    await api.call("POST", "/api/tokens", json={"name": "two"})
    await api.kernel.flush()
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE audit SET why = 'nothing happened' WHERE id = 4")
    verified = (await api.call("GET", "/api/audit?verify=true", "viewer")).json()
    assert verified == {  # three tokens, the agent anna, two more tokens
        "ok": False,
        "entries": 6,
        "first_bad": 4,
        "reason": verified["reason"],
    }


async def test_memory_and_skills_grow_with_a_task(api: Api, service: ControlledService) -> None:
    await define_shop(api.kernel, service)
    before = (await api.call("GET", "/api/agents/anna/skills", "viewer")).json()
    assert before == []
    checked = await api.call(
        "POST", "/api/agents/anna/task", "operator", json={"text": "check shop"}
    )
    assert checked.json()["status"] == "succeeded"
    skills = (await api.call("GET", "/api/agents/anna/skills", "viewer")).json()
    assert {s["name"] for s in skills} == {"http_check"}
    assert skills[0]["practice_count"] == 1 and "level" in skills[0]
    memories = (await api.call("GET", "/api/agents/anna/memory?kind=episodic", "viewer")).json()
    assert memories and set(memories[0]) == {"kind", "id", "summary", "score", "ts", "sources"}
    found = (
        await api.call("GET", "/api/agents/anna/memory?search=shop%20check&limit=1", "viewer")
    ).json()
    assert len(found) == 1 and found[0]["score"] is not None and "shop" in found[0]["summary"]
    for bad in ("kind=dreams", "limit=0", "limit=x"):
        answer = await api.call("GET", f"/api/agents/anna/memory?{bad}", "viewer")
        assert answer.status_code == 422, bad
        assert bad.split("=")[0] in answer.json()["error"]


async def test_targets_and_runbooks_round_trip_and_secrets_never_come_back(api: Api) -> None:
    target = {"name": "api", "kind": "http", "address": "http://127.0.0.1:9/health"}
    made = await api.call("POST", "/api/targets", json=target | {"conditions": ["status == 200"]})
    assert made.status_code == 201 and made.json()["criticality"] == "medium"
    listed = (await api.call("GET", "/api/targets", "viewer")).json()
    assert [t["name"] for t in listed] == ["api"]
    twice = await api.call("POST", "/api/targets", json=target)
    assert twice.status_code == 409
    bad = await api.call("POST", "/api/targets", json=target | {"name": "b", "address": "nope"})
    assert bad.status_code == 422 and "http(s)://" in bad.json()["error"]
    condition = await api.call(
        "POST", "/api/targets", json=target | {"name": "c", "conditions": ["status =="]}
    )
    assert condition.status_code == 422 and "conditions" in condition.json()["error"]

    runbook = {
        "name": "restart",
        "kind": "http",
        "url": "http://127.0.0.1:9/restart",
        "headers": {"Authorization": "Bearer {secret:key}"},
        "secrets": {"key": SECRET},
        "risk": "high",
    }
    added = await api.call("POST", "/api/runbooks", json=runbook)
    assert added.status_code == 201 and added.json()["secrets"] == {"key": "******"}
    for path in ("/api/runbooks", "/api/runbooks/restart"):
        assert SECRET not in (await api.call("GET", path, "viewer")).text
    missing = await api.call("POST", "/api/runbooks", json=runbook | {"name": "r2", "secrets": {}})
    assert missing.status_code == 422 and "secret" in missing.json()["error"]
    removed = await api.call("DELETE", "/api/runbooks/restart")
    assert removed.status_code == 200 and SECRET not in removed.text
    assert (await api.call("DELETE", "/api/targets/api")).json()["name"] == "api"
    assert (await api.call("GET", "/api/targets", "viewer")).json() == []


async def test_tokens_made_through_the_api_work_until_revoked(api: Api) -> None:
    made = await api.call("POST", "/api/tokens", json={"name": "bot", "role": "operator"})
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("webops_")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.client.get("/api/agents", headers=headers)).status_code == 200
    listed = (await api.call("GET", "/api/tokens")).text
    assert token not in listed and "token_hash" not in listed
    bad_role = await api.call("POST", "/api/tokens", json={"name": "x", "role": "root"})
    assert bad_role.status_code == 422
    revoked = await api.call("DELETE", "/api/tokens/bot")
    assert revoked.json()["revoked_at"] is not None
    assert (await api.client.get("/api/agents", headers=headers)).status_code == 401
    events = [(e.event, e.actor) for e in await api.kernel.audit_entries()][:2]
    assert events == [
        ("token_revoked", "token:admin-token"),
        ("token_created", "token:admin-token"),
    ]


async def test_events_stream_in_order_filtered_by_agent_and_kind(api: Api) -> None:
    await api.kernel.create_agent("ben", "bold")

    async def read(query: str) -> list[tuple[str, dict[str, Any]]]:
        answer = await api.call("GET", f"/api/events?{query}", "viewer")
        assert answer.headers["content-type"].startswith("text/event-stream")
        frames = []
        for block in answer.text.split("\n\n"):
            fields = dict(
                line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
            )
            if fields:
                frames.append((fields["event"], json.loads(fields["data"])))
        return frames

    reader = asyncio.create_task(
        read("agent=ben&kind=agent_said&kind=state_changed&limit=3&timeout=10")
    )
    # Talk until the stream has its three events (it subscribes at some point after the call).
    while not reader.done():
        await api.call("POST", "/api/agents/anna/chat", "operator", json={"message": "hello"})
        await api.call("POST", "/api/agents/ben/chat", "operator", json={"message": "thanks"})
        await asyncio.sleep(0.05)
    frames = reader.result()
    assert len(frames) == 3
    assert {data["agent"] for _, data in frames} == {"ben"}
    assert {kind for kind, _ in frames} <= {"agent_said", "state_changed"}
    said = [data["text"] for kind, data in frames if kind == "agent_said"]
    assert said, frames
    quiet = await api.call("GET", "/api/events?timeout=0.3", "viewer")
    assert quiet.text.count(": heartbeat") >= 3  # every 0.05 s here while nothing happens
    unknown = await api.call("GET", "/api/events?kind=telepathy", "viewer")
    assert unknown.status_code == 422 and "telepathy" in unknown.json()["error"]


async def test_a_bug_is_a_json_500_and_an_unknown_route_a_json_404(db_path: Path) -> None:
    async with await Kernel.open(db_path) as kernel:
        app = create_app(kernel)

        @app.get("/broken")
        async def broken() -> None:
            raise RuntimeError("a bug")

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            crashed = await client.get("/broken")
            assert crashed.status_code == 500
            assert crashed.json() == {
                "error": "internal error (RuntimeError); see the server's log",
                "status": 500,
            }
            missing = await client.get("/nothing-here")
            assert missing.status_code == 404 and missing.json()["status"] == 404
            unknown = await client.get("/api/nothing-here")  # under /api: who asks comes first
            assert unknown.status_code == 401
            wrong = await client.put("/api/health")
            assert wrong.status_code == 405 and "error" in wrong.json()


async def test_who_asks_is_settled_before_the_body_is_read(api: Api) -> None:
    broken = {"content": b"{not json", "headers": {"Content-Type": "application/json"}}
    anonymous = await api.call("POST", "/api/agents", role=None, **broken)
    assert anonymous.status_code == 401
    viewer = await api.call("POST", "/api/agents", role="viewer", json={"name": "x", "mood": 1})
    assert viewer.status_code == 403


async def test_an_approval_id_beyond_sqlite_integers_is_422_not_a_crash(api: Api) -> None:
    huge = "99999999999999999999999"
    for method, path in (
        ("GET", f"/api/approvals/{huge}"),
        ("POST", f"/api/approvals/{huge}/deny"),
    ):
        answer = await api.call(method, path)
        assert answer.status_code == 422 and "approval_id" in answer.json()["error"]


async def test_a_revoked_token_loses_its_open_event_stream(api: Api) -> None:
    made = await api.call("POST", "/api/tokens", json={"name": "watcher", "role": "viewer"})
    headers = {"Authorization": f"Bearer {made.json()['token']}"}
    stream = asyncio.create_task(api.client.get("/api/events?timeout=30", headers=headers))
    await asyncio.sleep(0.2)
    await api.call("DELETE", "/api/tokens/watcher")
    answer = await asyncio.wait_for(stream, 5)  # ended within a second or so, not after 30 s
    assert answer.text.rstrip().endswith(": the token is no longer valid")


async def test_a_stream_cancelled_while_waiting_leaves_no_task_behind() -> None:
    from agent.events import KernelEvent
    from webops_tui.api.routes.events import _next_event

    queue: asyncio.Queue[KernelEvent] = asyncio.Queue()
    stopping = asyncio.Event()
    before = len(asyncio.all_tasks())
    for _ in range(20):
        waiting = asyncio.create_task(_next_event(queue, stopping, 30))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before
    assert await _next_event(queue, stopping, 0.01) is None
    queue.put_nowait(KernelEvent(kind="state_changed", agent="anna"))
    assert (await _next_event(queue, stopping, 1)) is not None


@pytest.mark.parametrize("secrets", [[5], ["x"], "abc", 7])
async def test_runbook_secrets_that_are_not_a_table_are_422_not_500(api: Api, secrets: Any) -> None:
    """Found by schemathesis: a list of secrets beside an `env` crashed the sealing of
    credential-named env values (TypeError, 500)."""
    body = {
        "name": "r3",
        "kind": "http",
        "method": "POST",
        "url": "http://127.0.0.1:9/",
        "env": {"API_TOKEN": "abc"},
        "secrets": secrets,
    }
    answer = await api.call("POST", "/api/runbooks", json=body)
    assert answer.status_code == 422, answer.text
    assert "secrets" in answer.text


#: Integers SQLite cannot hold (a signed 64 bits), and one with more digits than int() parses.
HUGE_NUMBERS = [str(2**63), str(-(2**63) - 1), "9" * 40]


@pytest.mark.parametrize("huge", HUGE_NUMBERS)
async def test_huge_ids_and_limits_anywhere_in_the_api_are_422_or_404_never_500(
    api: Api, huge: str
) -> None:
    """Issue 18: numbers >= 2^63 reached the driver (OverflowError, a 500). Every route with an
    id in its path or a `limit` in its query, and a chat or task naming a huge approval id."""
    before = await api.call("GET", "/api/audit?limit=10000")
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/api/approvals/{huge}", None),
        ("POST", f"/api/approvals/{huge}/approve", None),
        ("POST", f"/api/approvals/{huge}/deny", None),
        ("GET", f"/api/incidents/{huge}", None),
        ("GET", f"/api/incidents?limit={huge}", None),
        ("GET", f"/api/audit?limit={huge}", None),
        ("GET", f"/api/agents/anna/memory?limit={huge}", None),
    ]
    for method, path, body in requests:
        answer = await api.call(method, path, json=body)
        assert answer.status_code in (422, 404), (path, answer.status_code, answer.text)
        assert "\n" not in answer.json()["error"]
    # The event stream's limit only counts events: any positive number ends it or not at all.
    stream = await api.call("GET", f"/api/events?limit={huge}&timeout=0.05")
    assert stream.status_code in (200, 422), stream.text
    for text in (f"approve {huge.lstrip('-')}", f"deny {huge.lstrip('-')}"):
        said = await api.call("POST", "/api/agents/anna/chat", json={"message": text})
        assert said.status_code == 200, said.text
    after = await api.call("GET", "/api/audit?limit=10000")
    assert [e for e in after.json() if "approv" in json.dumps(e)] == [
        e for e in before.json() if "approv" in json.dumps(e)
    ]


def test_a_runbook_whose_secrets_the_key_cannot_open_is_listed_locked_with_the_reason(
    db_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`runbook list` says which runbooks are locked (issue 18); the API said nothing, so a
    dashboard showed a runbook that fails every run as ready."""
    monkeypatch.setenv("WEBOPS_TEST_SECRET", SECRET)
    added = cli(
        "runbook", "add", "say", "--command", "true", "--env", "TOKEN={secret:token}",
        "--secret", "token=env:WEBOPS_TEST_SECRET",
    )  # fmt: skip
    assert added.code == 0, added.err
    assert cli("runbook", "add", "hello", "--command", "true").code == 0
    Path(f"{db_path}.key").unlink()

    async def ask() -> tuple[Any, Any, Any]:
        async with await Kernel.open(db_path) as kernel:
            token = (await kernel.create_token("viewer-token", "viewer", by="test")).token
            transport = httpx.ASGITransport(app=create_app(kernel))
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://api.test",
                headers={"Authorization": f"Bearer {token}"},
            ) as client:
                paths = ("/api/runbooks", "/api/runbooks/say", "/openapi.json")
                first, second, third = [(await client.get(path)).json() for path in paths]
                return first, second, third

    answers, one, schema = asyncio.run(ask())
    listed = {r["name"]: r for r in answers}
    cli_listed = {r["name"]: r for r in cli("runbook", "list", "--json").json()}
    assert listed["say"]["locked"] == cli_listed["say"]["locked"] == one["locked"]
    assert "missing" in listed["say"]["locked"] and str(db_path) in listed["say"]["locked"]
    assert listed["hello"]["locked"] is None
    assert SECRET not in json.dumps(listed)
    assert "locked" in json.dumps(schema["components"]["schemas"])


async def test_a_credential_header_posted_to_the_api_is_stored_sealed(
    api: Api, db_path: Path
) -> None:
    plain = "Bearer api-Header-Value-5150"
    body = {"name": "poke", "kind": "http", "url": "http://h/", "headers": {"Authorization": plain}}
    added = await api.call("POST", "/api/runbooks", json=body)
    assert added.status_code == 201, added.text
    assert added.json()["headers"] == {"Authorization": "{secret:header_Authorization}"}
    assert added.json()["secrets"] == {"header_Authorization": "******"}
    wal = Path(f"{db_path}-wal")
    raw = db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert plain.encode() not in raw and plain not in (await api.call("GET", "/api/runbooks")).text
