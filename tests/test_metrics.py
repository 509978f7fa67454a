"""`GET /metrics` and `GET /api/health` as a scraper and a load balancer use them: a real
`webops serve` on 127.0.0.1 (the database file made read-only under it), and the app over
httpx's ASGI transport after the demo world ran faults in virtual time."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from agent.clock import VirtualClock
from agent.core.kernel import Kernel, KernelConfig
from agent.memory.recall_timing import RecallTimings
from storage.database import Database
from tests.conftest import CliRunner
from tests.serve_process import ServeProcess
from tests.service import ControlledService, define_shop
from webops_tui.api.app import create_app
from webops_tui.api.loop_probe import LAG_LIMIT_S, TICK_S
from webops_tui.demo.runner import run_demo
from webops_tui.demo.world import TEST_SLOWNESS, DemoWorld

WAIT_S = 40.0


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by name and sorted labels (parsed by prometheus-client)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _token(cli: CliRunner, name: str, role: str) -> str:
    made = cli("token", "create", name, "--role", role, "--json")
    assert made.code == 0, made.err
    token: str = made.json()["token"]
    return token


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


def _poll(client: httpx.Client, path: str, status: int) -> httpx.Response:
    deadline = time.monotonic() + WAIT_S
    while True:
        answer = client.get(path)
        if answer.status_code == status or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_health_turns_503_naming_the_database_when_its_file_is_made_read_only(
    cli: CliRunner, server: ServeProcess, db_path: Path
) -> None:
    mode = stat.S_IMODE(db_path.stat().st_mode)
    with httpx.Client(base_url=server.url, timeout=20) as client:
        healthy = _poll(client, "/api/health", 200)
        assert healthy.status_code == 200, healthy.text
        body = healthy.json()
        assert body["status"] == "ok" and body["failing"] == [] and not body["read_only"]
        assert body["database"]["writable"] and body["loop"]["ok"] and body["write_behind"]["ok"]
        try:
            db_path.chmod(0o444)
            sick = _poll(client, "/api/health", 503)
            assert sick.status_code == 503, sick.text
            body = sick.json()
            assert body["status"] == "unhealthy" and body["failing"] == ["database"]
            assert body["database"]["writable"] is False
            assert "read-only (mode 0444)" in body["database"]["detail"]
            assert str(db_path.parent) not in sick.text  # it answers anyone: no paths
        finally:
            db_path.chmod(mode)
        again = _poll(client, "/api/health", 200)
        assert again.status_code == 200 and again.json()["database"]["writable"], again.text
    assert server.stop() == 0, server.tail()


def test_metrics_over_a_real_socket_need_a_token_and_show_checks_and_emotions(
    cli: CliRunner, server: ServeProcess
) -> None:
    viewer = _token(cli, "prometheus", "viewer")
    operator = _token(cli, "ci", "operator")
    with httpx.Client(base_url=server.url, timeout=20) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        done = client.post(
            "/api/agents/ben/task",
            json={"text": "check shop"},
            headers={"Authorization": f"Bearer {operator}"},
        )
        assert done.status_code == 200 and done.json()["status"] == "succeeded", done.text
        status = client.get("/api/agents/ben/status", headers={"Authorization": f"Bearer {viewer}"})
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {viewer}"})
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    scrape = samples(scraped.text)
    emotions = status.json()["emotions"]
    for emotion, value in emotions.items():
        key = ("webops_agent_emotion", (("agent", "ben"), ("emotion", emotion)))
        # The agent runs: its emotions fade a hair between the two reads.
        assert scrape[key] == pytest.approx(value, abs=0.01), emotion
    assert (
        scrape[
            (
                "webops_actions_total",
                (("action", "http_check"), ("outcome", "succeeded"), ("risk", "none")),
            )
        ]
        == 1
    )
    assert scrape[("webops_incidents", (("state", "open"),))] == 0
    assert scrape[("webops_notifications_total", (("outcome", "sent"),))] == 0


async def test_after_the_demo_world_ran_faults_metrics_show_incidents_checks_and_moods(
    db_path: Path,
) -> None:
    clock = VirtualClock()
    world = DemoWorld(7, clock=clock, slowness=TEST_SLOWNESS)
    try:
        async with await Kernel.open(
            db_path, config=KernelConfig(seed=7), clock=clock.time
        ) as kernel:
            viewer = (await kernel.create_token("prom", "viewer", by="test")).token
            app = create_app(kernel)
            summary = await run_demo(
                kernel, world, seed=7, duration_s=6.0, approve="all", stop=asyncio.Event()
            )
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
                auth = {"Authorization": f"Bearer {viewer}"}
                memory = await c.get(
                    f"/api/agents/{(await kernel.agent_names())[0]}/memory",
                    params={"search": "restart"},
                    headers=auth,
                )
                assert memory.status_code == 200, memory.text
                scraped = await c.get("/metrics", headers=auth)
                statuses = {n: await kernel.status(n) for n in await kernel.agent_names()}
                incidents = await kernel.incidents(limit=10_000)
    finally:
        world.stop()
    assert scraped.status_code == 200, scraped.text
    scrape = samples(scraped.text)
    assert summary.incidents["opened"] >= 1
    by_state = {dict(k)["state"]: v for (n, k), v in scrape.items() if n == "webops_incidents"}
    assert sum(by_state.values()) == len(incidents) >= 1
    assert by_state["resolved"] == sum(i.status == "resolved" for i in incidents)
    for name, status in statuses.items():
        for emotion, value in status.emotions.items():
            key = ("webops_agent_emotion", (("agent", name), ("emotion", emotion)))
            assert scrape[key] == pytest.approx(value, abs=1e-3)
        mood = (
            "webops_agent_mood",
            (("agent", name), ("dimension", "pleasure"), ("label", status.mood.label)),
        )
        assert scrape[mood] == pytest.approx(status.mood.pleasure)
    checks = {dict(k)["result"] for (n, k), v in scrape.items() if n == "webops_checks_total" and v}
    assert {"up", "down"} <= checks, checks
    assert any(n == "webops_check_latency_seconds_count" and v for (n, _), v in scrape.items())
    remedies = [dict(k) for (n, k), v in scrape.items() if n == "webops_actions_total" and v]
    assert any(r["risk"] in ("low", "medium", "high") for r in remedies), remedies
    assert scrape[("webops_recall_latency_seconds_count", ())] >= 1
    started = scrape[("webops_check_start_lateness_seconds_count", ())]
    assert started >= 1
    assert scrape[("webops_check_start_lateness_seconds_bucket", (("le", "+Inf"),))] == started
    assert scrape[("webops_write_behind_errors_total", ())] == 0


async def test_a_read_only_server_says_so_and_stays_healthy_on_a_read_only_file(
    db_path: Path,
) -> None:
    async with await Kernel.open(db_path) as kernel:
        app = create_app(kernel, read_only=True)
        transport = httpx.ASGITransport(app=app)
        mode = stat.S_IMODE(db_path.stat().st_mode)
        try:
            db_path.chmod(0o444)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
                answer = await c.get("/api/health")
        finally:
            db_path.chmod(mode)
            app.state.stopping.set()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["read_only"] and body["failing"] == [] and body["database"]["writable"] is False


@given(st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), max_size=200))
def test_recall_timings_buckets_are_cumulative_and_hold_every_recall(seconds: list[float]) -> None:
    timings = RecallTimings()
    for s in seconds:
        timings.observe(s)
    cumulative = timings.cumulative()
    counts = [n for _, n in cumulative]
    assert counts == sorted(counts) and counts[-1] == len(seconds) == timings.count
    for bound, n in cumulative:
        assert n == sum(s <= bound for s in seconds)
    assert timings.total_s == pytest.approx(sum(seconds))


async def test_a_failed_flush_makes_health_503_until_a_flush_succeeds(db_path: Path) -> None:
    database = await Database.open(db_path, busy_timeout_ms=20)
    async with Kernel(database) as kernel:
        token = (await kernel.create_token("ops", "operator", by="test")).token
        await kernel.create_agent("anna", "cautious")
        transport = httpx.ASGITransport(app=create_app(kernel))
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api.test", headers=headers
        ) as client:
            chat = await client.post("/api/agents/anna/chat", json={"message": "hello"})
            assert chat.status_code == 200, chat.text
            other = sqlite3.connect(db_path, isolation_level=None)
            try:
                other.execute("BEGIN EXCLUSIVE")  # another process holds the file
                audit = await client.get("/api/audit")  # reading the audit flushes first
                assert audit.status_code == 503, audit.text
                sick = await client.get("/api/health")
                scraped = await client.get("/metrics")
            finally:
                other.rollback()
                other.close()
            assert (await client.get("/api/audit")).status_code == 200
            well = await client.get("/api/health")
    assert sick.status_code == 503 and sick.json()["failing"] == ["write_behind"], sick.text
    assert sick.json()["write_behind"]["errors"] >= 1
    scrape = samples(scraped.text)
    assert scrape[("webops_write_behind_errors_total", ())] >= 1
    assert scrape[("webops_write_behind_failing", ())] == 1
    assert well.status_code == 200, well.text
    assert well.json()["write_behind"]["last_flush_age_s"] < 30


async def test_a_stalled_event_loop_is_503_until_the_probe_has_seen_it_prompt_again(
    db_path: Path,
) -> None:
    async with await Kernel.open(db_path) as kernel:
        app = create_app(kernel)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
                assert (await c.get("/api/health")).status_code == 200  # the probe ticks now
                await asyncio.sleep(TICK_S * 2)
                # Something blocks the loop (every agent waits): the stall under test.
                time.sleep(LAG_LIMIT_S + 0.5)  # noqa: ASYNC251
                stalled = await c.get("/api/health")
                deadline = time.monotonic() + WAIT_S
                while (again := await c.get("/api/health")).status_code != 200:
                    assert time.monotonic() < deadline, again.text
                    await asyncio.sleep(0.5)
        finally:
            app.state.stopping.set()
    assert stalled.status_code == 503 and stalled.json()["failing"] == ["loop"], stalled.text
    assert stalled.json()["loop"]["lag_ms"] >= LAG_LIMIT_S * 1000
