"""Real HTTP and TLS services on 127.0.0.1, a fault injector, background noise, a control plane.

Nine kinds of fault, each with exactly one correct remedy, offered (with a plausible wrong one,
`flush-dns`) as runbooks that call the control plane over HTTP, as an orchestrator's API would
be called. Three groups of faults look alike from outside and need different remedies: a 503
from an overload (`scale-up`) or from a dead database (`failover-db`); a 500 from a bad deploy
(`rollback`) or a full disk (`rotate-logs`); a slow answer from a thrashing cache
(`clear-cache`), a stale search index (`reindex`) or a memory leak (`restart`). Only the
service's health report tells them apart (its version, load, dependency checks, disk, memory,
cache and index age), as a Spring Boot actuator or a Kubernetes readiness probe would. The
agents are told neither what a fault is nor which remedy fixes it: they see what a check sees.

Noise (`noise=1.0` by default, 0 for none) adds latency jitter and, now and then, a single
failing answer from a healthy service (a 503 or a slow one): what confirmation must ignore.
"""

from __future__ import annotations

import json
import random
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from agent.clock import SYSTEM, Clock
from agent.ops.targets import RunbookSpec, TargetSpec
from webops_tui.demo.faults import (
    CONTEXT,
    CRITICALITY,
    HEALTHY,
    HTTP_FAULTS,
    REMEDY,
    RISK,
    SYMPTOMS,
    UNAVAILABLE,
    Risk,
)
from webops_tui.demo.tls_service import TlsService

__all__ = ["HTTP_FAULTS", "REMEDY", "RISK", "TEST_SLOWNESS", "DemoWorld", "Risk"]

#: How long a slow service takes to answer; the targets allow `LATENCY_LIMIT_MS`. Short next to
#: the check interval, so two slow checks confirm the fault within two intervals.
SLOW_S = 0.12
LATENCY_LIMIT_MS = 80
#: (slow_s, latency_limit_ms) for virtual-time runs on a busy machine (see `DemoWorld`).
TEST_SLOWNESS = (0.3, 200.0)
#: How often a server's loop looks for a stop: a crash (and `stop`) waits for that look, on the
#: event loop, so the standard library's 0.5 s would stall everything at each injected crash.
POLL_S = 0.02
HTTP_SERVICES = ("shop", "api", "auth", "search")
TLS_SERVICE = "cdn"
#: At noise 1: the chance that a healthy service gives one failing answer, and the most latency
#: jitter added to an answer.
BLIP_CHANCE = 0.02
JITTER_S = 0.01


@dataclass(frozen=True)
class Applied:
    """A remedy the control plane received: on which service, whether it fixed anything, and
    the fault the service had just before (None: it was healthy)."""

    ts: float
    service: str
    remedy: str
    fixed: bool
    fault: str | None


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer is not news


class Service:
    """One HTTP service whose health report and answers follow its fault (and the noise)."""

    def __init__(
        self,
        name: str,
        noise: float = 0.0,
        rng: random.Random | None = None,
        slow_s: float = SLOW_S,
    ) -> None:
        self.name = name
        self.fault: str | None = None
        self.noise = noise
        self.slow_s = slow_s
        self.rng = rng or random.Random(0)
        self._blipped = False
        self.port = 0
        self._server: _Quiet | None = None
        #: Stopped for good (the world is closing): `start` does nothing any more.
        self._stopped = False
        self.start()

    def answer(self) -> tuple[int, dict[str, Any], float]:
        """Status code, health report and delay for one request, as the service is now."""
        rng = self.rng
        delay = rng.uniform(0, JITTER_S * self.noise)
        report: dict[str, Any] = {**HEALTHY, "service": self.name}
        code = 200
        if self.fault in SYMPTOMS:
            code, changes, slow = SYMPTOMS[self.fault]
            report.update(changes)
            delay += self.slow_s if slow else 0.0
        elif not self._blipped and rng.random() < BLIP_CHANCE * self.noise:
            # A healthy service's single bad answer (never two in a row: that is a fault).
            self._blipped = True
            if rng.random() < 0.5:
                code, report = 503, {**UNAVAILABLE, "service": self.name}
            else:
                delay += self.slow_s
            return code, report, delay
        self._blipped = False
        return code, report, delay

    def start(self) -> None:
        if self._stopped:  # the world is going away: a late restart must not bind its port
            return
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                code, body, delay = service.answer()
                time.sleep(delay)
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Quiet(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_S},
            daemon=True,
            name=f"demo:{self.name}",
        ).start()

    def crash(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        self._stopped = True
        self.crash()


class DemoWorld:
    """The services, their control plane, and the fault injector's state.

    `clock` is the demo's time (the injector's, the escalation's, the autopilot's); the
    services themselves answer in real time, a slow one really slowly. With `opaque_names`
    the runbooks are called by meaningless ids ("rb-3f"), so that nothing but experience can
    tell an agent which one fixes what.

    `slow_s` and `latency_limit_ms` are how slow a slow fault answers and what the targets
    allow. Real time needs them short next to the 0.3 s check interval (two slow checks
    confirm a fault within two intervals); in virtual time waiting costs nothing, so tests
    on a loaded machine give them room (`TEST_SLOWNESS`), lest its own slow answers look like
    faults.
    """

    def __init__(
        self,
        seed: int = 7,
        clock: Clock = SYSTEM,
        *,
        noise: float = 1.0,
        opaque_names: bool = False,
        slowness: tuple[float, float] = (SLOW_S, LATENCY_LIMIT_MS),
    ) -> None:
        if noise < 0:
            raise ValueError("noise must be 0 (none) or more")
        self.rng = random.Random(seed)
        self.clock = clock
        self.noise = noise
        self.slow_s, self.latency_limit_ms = slowness
        self._folder = tempfile.TemporaryDirectory(prefix="webops-demo-")
        self.services = {
            name: Service(name, noise, random.Random(f"{seed}:{name}"), self.slow_s)
            for name in HTTP_SERVICES
        }
        self.tls = TlsService(TLS_SERVICE, Path(self._folder.name))
        remedies = sorted(RISK)
        ids = [
            f"rb-{n:02x}" for n in random.Random(f"{seed}:names").sample(range(256), len(remedies))
        ]
        #: runbook name -> the remedy it performs (the identity unless names are opaque).
        self.remedy_of = (
            dict(zip(ids, remedies, strict=True)) if opaque_names else {r: r for r in remedies}
        )
        self.injected: list[tuple[float, str, str]] = []
        self.remedies_applied: list[Applied] = []
        self._control = self._start_control()

    # -- control plane ---------------------------------------------------------------------

    def _start_control(self) -> _Quiet:
        world = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = self.path.strip("/").split("/")
                if len(parts) != 3 or parts[0] != "services":
                    self._reply(404, {"error": "POST /services/NAME/RUNBOOK"})
                    return
                changed = world.apply(parts[1], world.remedy_of.get(parts[2], parts[2]))
                self._reply(
                    200 if changed is not None else 404,
                    {"service": parts[1], "runbook": parts[2], "changed": bool(changed)},
                )

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = _Quiet(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": POLL_S},
            daemon=True,
            name="demo:control",
        ).start()
        return server

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self._control.server_address[1]}"

    def apply(self, name: str, remedy: str) -> bool | None:
        """A remedy from a runbook; None for an unknown service. Only the right one works."""
        if name not in self.services and name != TLS_SERVICE:
            return None
        fault = self.fault_of(name)
        fixed = fault is not None and REMEDY[fault] == remedy
        if fixed:
            if name == TLS_SERVICE:
                self.tls.set_expiring(False)
            else:
                service = self.services[name]
                if fault == "crash":
                    service.start()
                service.fault = None
        self.remedies_applied.append(Applied(self.clock.time(), name, remedy, fixed, fault))
        return fixed

    # -- faults ----------------------------------------------------------------------------

    def fault_of(self, name: str) -> str | None:
        if name == TLS_SERVICE:
            return self.tls.fault
        service = self.services[name]
        return "crash" if not service.running else service.fault

    def healthy(self) -> list[str]:
        return [n for n in [*self.services, TLS_SERVICE] if self.fault_of(n) is None]

    def inject(self, name: str | None = None, kind: str | None = None) -> tuple[str, str]:
        """Break a healthy service (chosen by the seeded generator unless given)."""
        name = name or self.rng.choice(self.healthy())
        if name == TLS_SERVICE:
            kind = "cert_expiring"
            self.tls.set_expiring(True)
        else:
            kind = kind or self.rng.choice(HTTP_FAULTS)
            service = self.services[name]
            if kind == "crash":
                service.crash()
            else:
                service.fault = kind
        self.injected.append((self.clock.time(), name, kind))
        return name, kind

    # -- what the agents are given ---------------------------------------------------------

    def targets(self, interval_s: float = 0.3) -> list[TargetSpec]:
        specs = [
            TargetSpec(
                name=name,
                kind="http",
                address=f"http://127.0.0.1:{svc.port}/health",
                conditions=["status == 200", f"latency_ms < {self.latency_limit_ms:g}"],
                context=CONTEXT,
                criticality=CRITICALITY[name],
                interval_s=interval_s,
                retry_interval_s=interval_s / 6,
                timeout_s=2.0,
            )
            for name, svc in self.services.items()
        ]
        specs.append(
            TargetSpec(
                name=TLS_SERVICE,
                kind="tls",
                address=f"127.0.0.1:{self.tls.port}",
                conditions=["cert_days > 14"],
                criticality="medium",
                interval_s=interval_s,
                retry_interval_s=interval_s / 6,
                timeout_s=2.0,
            )
        )
        return specs

    def runbooks(self) -> list[RunbookSpec]:
        return [
            RunbookSpec(
                name=name,
                kind="http",
                method="POST",
                url=f"{self.control_url}/services/{{target}}/{name}",
                risk=RISK[remedy],
                timeout_s=5,
                description=f"runbook {name} (through the control plane)"
                if name != remedy
                else f"{remedy} the service (through the control plane)",
            )
            for name, remedy in sorted(self.remedy_of.items())
        ]

    def stop(self) -> None:
        """Every server down. The control plane first: a runbook in flight (a restart) must
        not start a service again after it stopped. Then the services all at once: each
        `shutdown` waits for its loop's next look (`POLL_S`), so one after another the wait
        adds up on the quitting workbench's loop."""
        self._control.shutdown()
        self._control.server_close()
        self.tls.stop()
        stoppers = [threading.Thread(target=s.stop) for s in self.services.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        self._folder.cleanup()
