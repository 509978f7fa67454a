"""A tiny in-process stand-in for a service, for tests that need remedies with real effects.

(The real HTTP demo world comes with the autonomous-operation work; these tests exercise the
agent's memory and learning, which only need actions that change something checkable.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from agent.decision.risk import RiskLevel
from agent.skills.actions import ActionOutput, ActionRegistry, ActionRequest, ActionSpec


@dataclass
class ToyService:
    healthy: bool = False
    latency_ms: float = 120.0
    log: list[str] = field(default_factory=list)


def toy_registry(service: ToyService) -> ActionRegistry:
    """check (looks), restart (fixes), clear-cache (does nothing useful), all low risk."""
    registry = ActionRegistry()

    async def check(request: ActionRequest) -> ActionOutput:
        service.log.append("check")
        return ActionOutput(
            ok=service.healthy,
            detail="healthy" if service.healthy else "unhealthy",
            data={
                "healthy": service.healthy,
                "latency_ms": service.latency_ms,
                "target": request.target,
            },
        )

    async def restart(request: ActionRequest) -> ActionOutput:
        service.log.append("restart")
        service.healthy = True
        return ActionOutput(ok=True, detail="restarted")

    async def clear_cache(request: ActionRequest) -> ActionOutput:
        service.log.append("clear-cache")
        return ActionOutput(ok=True, detail="cache cleared")

    registry.register(ActionSpec(name="check", mutates=False, target_kind="service"), check)
    registry.register(
        ActionSpec(name="restart", risk=RiskLevel.LOW, target_kind="service"), restart
    )
    registry.register(
        ActionSpec(name="clear-cache", risk=RiskLevel.LOW, target_kind="service"), clear_cache
    )
    return registry


def bandit_registry(rates: dict[str, float], seed: int) -> ActionRegistry:
    """Remedies that work with fixed probabilities, drawn from a seeded generator."""
    registry = ActionRegistry()
    rng = random.Random(seed)
    for name, rate in rates.items():

        async def handler(request: ActionRequest, rate: float = rate) -> ActionOutput:
            ok = rng.random() < rate
            return ActionOutput(ok=ok, detail="fixed" if ok else "no change")

        registry.register(ActionSpec(name=name, risk=RiskLevel.LOW, target_kind="service"), handler)
    return registry
