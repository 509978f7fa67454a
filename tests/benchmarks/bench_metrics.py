"""What a Prometheus scrape costs: `GET /metrics` with 200 targets and 20 agents, against a
plain `GET /api/agents` and `GET /api/health` in the same run.

In-process, through httpx's ASGI transport (the network is the same for every route, so it is
left out): one request at a time, the median of `REPEAT`. The targets' check counters and
latency histograms are filled the way the autonomous loop fills them, with `TargetChecked`
events on the kernel's bus (ten per target); the scrape also reads incidents and approvals from
the file and every agent's emotions and mood. Targets: a scrape within 20 times an agents read
and within a quarter of a second (a scraper asks every 15 s or so). Measured here (2 shared
cores, busy): about 130-180 ms and 200 KB, nearly all of it prometheus-client writing the text
(a 10-bucket latency histogram per target is 12 lines each); it runs in a thread, so the event
loop goes on meanwhile.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from agent.core.kernel import Kernel
from agent.events import TargetChecked
from agent.ops.targets import target_spec
from tests.benchmarks.figures import Figure
from webops_tui.api.app import create_app

TARGETS = 200
AGENTS = 20
REPEAT = 30


async def _median_ms(client: httpx.AsyncClient, path: str) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        answer = await client.get(path)
        times.append(time.perf_counter() - started)
        answer.raise_for_status()
    return statistics.median(times) * 1000


async def _measure(db: Path) -> tuple[float, float, float, int]:
    async with await Kernel.open(db) as kernel:
        token = (await kernel.create_token("prom", "viewer", by="bench")).token
        for i in range(AGENTS):
            await kernel.create_agent(f"agent{i}")
        for i in range(TARGETS):
            spec = target_spec(name=f"t{i}", kind="http", address=f"http://127.0.0.1:9/{i}")
            await kernel.ops.add_target(spec, by="bench")
        app = create_app(kernel)
        for n in range(10):
            for i in range(TARGETS):
                healthy = n % 5 != 0
                kernel.bus.publish(
                    TargetChecked(
                        target=f"t{i}",
                        healthy=healthy,
                        health="up" if healthy else "down",
                        latency_ms=5.0 + n * i % 300,
                        detail="",
                    )
                )
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as client:
            size = len((await client.get("/metrics")).content)
            agents = await _median_ms(client, "/api/agents")
            health = await _median_ms(client, "/api/health")
            scrape = await _median_ms(client, "/metrics")
        app.state.stopping.set()
    return scrape, agents, health, size


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        scrape, agents, health, size = asyncio.run(_measure(Path(tmp) / "bench.db"))
    print(
        f"  metrics: scrape {scrape:.1f} ms ({size:,} bytes), /api/agents {agents:.1f} ms, "
        f"/api/health {health:.2f} ms",
        flush=True,
    )
    return [
        Figure(
            "metrics.scrape_ms",
            scrape,
            "ms",
            "<= 250",
            f"{TARGETS} targets, {AGENTS} agents, {size:,} bytes",
        ),
        Figure(
            "metrics.scrape_vs_agents",
            scrape / agents,
            "x",
            "<= 20",
            f"/api/agents {agents:.1f} ms, /api/health {health:.2f} ms",
        ),
    ]
