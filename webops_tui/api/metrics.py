"""`GET /metrics`: the kernel in Prometheus's text format, for a scraper with a viewer token.

Two kinds of numbers, on a registry of this app's own (tests build many apps; the global one
would mix them):

- Counted from the kernel's event bus since this server started (Prometheus handles the reset
  at a restart): checks by result and their latency per target (`TargetChecked`), actions by
  risk and outcome (`ActionFinished`, the risk from the runbook's definition), notifications
  sent and failed (events whose kind is `notification_sent` / `notification_failed`).
  Only what runs in this process is seen: `webops serve --watch` runs the checks here.
- Read from the kernel at scrape (`KernelState`), so they are right after a restart and need
  no keeping in sync: incidents by state and approvals pending (from the database), each
  agent's emotions and mood, recall latency, how late scheduled checks started, and the
  write-behind flush's age and errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import prometheus_client
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    generate_latest,
)
from prometheus_client import Histogram as HistogramMetric
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from agent.core.kernel import Kernel
from agent.errors import NotFound
from agent.events import ActionFinished, KernelEvent, TargetChecked
from agent.mind.mood import Mood
from webops_tui.api.auth import Viewer

router = APIRouter(tags=["metrics"])

PATH = "/metrics"
#: Check latency buckets (seconds): a healthy answer is tens of milliseconds, a slow one seconds.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: prometheus-client leaves this one untyped.
_no_created_series: Callable[[], None] = prometheus_client.disable_created_metrics
NOTIFICATION_KINDS = {"notification_sent": "sent", "notification_failed": "failed"}


@dataclass
class Scrape:
    """What the database and the agents say now, read before the text is written."""

    incidents: dict[str, int] = field(default_factory=dict)
    approvals_pending: int = 0
    emotions: dict[str, dict[str, float]] = field(default_factory=dict)
    moods: dict[str, Mood] = field(default_factory=dict)


class KernelState(Collector):
    """The numbers read from the kernel at scrape: `read` (async) first, then `collect`."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.scrape = Scrape()

    async def read(self) -> None:
        kernel = self.kernel
        scrape = Scrape(
            incidents=await kernel.incident_log.counts(),
            approvals_pending=len(await kernel.pending_approval_ids()),
        )
        for name in await kernel.agent_names():
            mind = (await kernel.load_agent(name)).mind
            scrape.emotions[name] = mind.as_dict()
            scrape.moods[name] = mind.mood()
        self.scrape = scrape

    def collect(self) -> Iterator[Metric]:
        scrape = self.scrape
        incidents = GaugeMetricFamily(
            "webops_incidents", "Incidents in the database, by state.", labels=["state"]
        )
        for state, n in sorted(scrape.incidents.items()):
            incidents.add_metric([state], n)
        yield incidents
        yield GaugeMetricFamily(
            "webops_approvals_pending",
            "Risky actions waiting for a human's decision.",
            value=scrape.approvals_pending,
        )
        emotion = GaugeMetricFamily(
            "webops_agent_emotion",
            "Each agent's emotions (Plutchik's eight), 0 to 1.",
            labels=["agent", "emotion"],
        )
        for agent, values in sorted(scrape.emotions.items()):
            for name, value in values.items():
                emotion.add_metric([agent, name], value)
        yield emotion
        mood = GaugeMetricFamily(
            "webops_agent_mood",
            "Each agent's mood as pleasure, arousal and dominance, -1 to 1; label: its name.",
            labels=["agent", "dimension", "label"],
        )
        for agent, m in sorted(scrape.moods.items()):
            for dimension in ("pleasure", "arousal", "dominance"):
                mood.add_metric([agent, dimension, m.label], getattr(m, dimension))
        yield mood
        yield from self._recall()
        yield from self._lateness()
        yield from self._flush()

    def _recall(self) -> Iterator[Metric]:
        timings = self.kernel.memory_backend.recall_timings
        recall = HistogramMetricFamily(
            "webops_recall_latency_seconds",
            "How long recalling similar episodes took (memory search, decisions' precedents).",
        )
        buckets = [("+Inf" if b == float("inf") else repr(b), n) for b, n in timings.cumulative()]
        recall.add_metric([], buckets, timings.total_s)
        yield recall

    def _lateness(self) -> Iterator[Metric]:
        late = self.kernel.check_lateness
        family = HistogramMetricFamily(
            "webops_check_start_lateness_seconds",
            "How late scheduled checks started (due time to start; `serve --watch` runs them).",
        )
        buckets = [("+Inf" if b == float("inf") else repr(b), n) for b, n in late.cumulative()]
        family.add_metric([], buckets, late.sum_s)
        yield family

    def _flush(self) -> Iterator[Metric]:
        flusher = self.kernel.write_behind
        yield GaugeMetricFamily(
            "webops_write_behind_flush_age_seconds",
            "Seconds since the last write-behind flush that succeeded.",
            value=flusher.flush_age_s,
        )
        errors = CounterMetricFamily(
            "webops_write_behind_errors",
            "Write-behind flushes that failed (their rows stayed in memory for the next).",
            value=flusher.errors,
        )
        yield errors
        yield GaugeMetricFamily(
            "webops_write_behind_failing",
            "1 while the newest write-behind flush failed.",
            value=int(flusher.failing),
        )


class Metrics:
    """The app's registry: the bus counters, fed by a subscription, and `KernelState`."""

    def __init__(self, kernel: Kernel) -> None:
        # The `_created` series (a timestamp per counter and label set) are OpenMetrics' idea;
        # in the text format they are one more line per series, a third of a 200-target scrape.
        _no_created_series()
        self.kernel = kernel
        self._scraping = asyncio.Lock()
        self.registry = CollectorRegistry(auto_describe=False)
        self.checks = Counter(
            "webops_checks",
            "Target checks by result: up, degraded or down.",
            ["target", "result"],
            registry=self.registry,
        )
        self.latency = HistogramMetric(
            "webops_check_latency_seconds",
            "How long each target took to answer its check.",
            ["target"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.actions = Counter(
            "webops_actions",
            "Actions run, by risk and outcome (succeeded, failed, timeout, refused).",
            ["action", "risk", "outcome"],
            registry=self.registry,
        )
        self.notifications = Counter(
            "webops_notifications",
            "Notifications, by outcome: sent or failed.",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in NOTIFICATION_KINDS.values():
            self.notifications.labels(outcome)  # 0 until the first, not absent
        self.state = KernelState(kernel)
        self.registry.register(self.state)
        self.unsubscribe = kernel.bus.subscribe(self.count)

    def count(self, event: KernelEvent) -> None:
        if isinstance(event, TargetChecked):
            self.checks.labels(event.target, event.health).inc()
            if event.latency_ms is not None:
                self.latency.labels(event.target).observe(event.latency_ms / 1000)
        elif isinstance(event, ActionFinished):
            self.actions.labels(event.action, self._risk(event.action), event.status).inc()
        elif event.kind in NOTIFICATION_KINDS:
            self.notifications.labels(NOTIFICATION_KINDS[event.kind]).inc()

    def _risk(self, action: str) -> str:
        try:
            return str(self.kernel.actions.spec(action).risk)
        except NotFound:  # a runbook removed since it ran: its risk is no longer known
            return "unknown"

    async def text(self) -> bytes:
        """Read the kernel, then write the text in a thread: with 200 targets that takes about
        a tenth of a second, which the event loop (every agent and check) should not wait out.
        One scrape at a time, so the state read is the one written."""
        async with self._scraping:
            await self.state.read()
            return await asyncio.to_thread(generate_latest, self.registry)


@router.get(PATH, response_class=Response)
async def metrics(request: Request, _: Viewer) -> Response:
    """The kernel in Prometheus's text format; any valid token (a viewer's is enough).

    Scrape it with `authorization: {credentials: TOKEN}` in Prometheus's scrape config."""
    collected: Metrics = request.app.state.metrics
    return Response(await collected.text(), media_type=CONTENT_TYPE_LATEST)
