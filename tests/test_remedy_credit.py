"""Re-check before a mutating remedy, and credit only for real fixes: real HTTP services on
127.0.0.1, the real agent loop, virtual time where a loop is timed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.clock import VirtualClock
from agent.core.autopilot import Autopilot
from agent.core.kernel import Kernel
from agent.core.remedy import credit
from agent.core.stimulus import Stimulus, StimulusKind
from agent.events import IncidentChanged, KernelEvent
from agent.memory.reflection import EpisodeView, reflect
from agent.skills.actions import ActionRequest
from tests.service import ControlledService, define_shop

pytestmark = pytest.mark.both_backends


def test_credit_is_a_reward_only_for_a_confirmed_fault() -> None:
    assert credit(confirmed_before=True, fixed=True) == 1.0
    assert credit(confirmed_before=True, fixed=False) == 0.0
    assert credit(confirmed_before=False, fixed=True) is None
    assert credit(confirmed_before=False, fixed=False) is None


def _alert(kernel: Kernel, confirmed_at: float | None) -> Stimulus:
    ops = kernel.ops
    return Stimulus(
        kind=StimulusKind.ALERT,
        summary="shop: status=503",
        target="shop",
        situation="status=503",
        severity=0.8,
        evidence=0.9,
        candidates=(ActionRequest(action="fix-shop", target="shop", situation="status=503"),),
        recheck=ops.check_request("shop"),
        confirmed_at=confirmed_at,
    )


async def test_a_stale_alarm_on_a_healthy_target_runs_nothing_and_teaches_nothing(
    db_path: Path,
) -> None:
    with ControlledService(healthy=True) as service:
        async with await Kernel.open(db_path) as kernel:
            await define_shop(kernel, service, risk="low")
            await kernel.create_agent("ben", "bold")
            await kernel.ops.reload()
            stale = kernel.clock() - 60
            outcome = await kernel.stimulate("ben", _alert(kernel, stale))
            ben = await kernel.load_agent("ben")
            assert outcome.status == "recovered", outcome
            assert outcome.summary.startswith("recovered by itself")
            assert outcome.tried == () and outcome.steps == 1  # the re-check, nothing else
            assert service.fixes == 0
            arms = ben.memory.learner.arms
            assert all(arm.weight == 0 for (s, _), arm in arms.items() if s == "status=503")


async def test_a_re_checked_fault_gets_the_remedy_and_the_credit(db_path: Path) -> None:
    with ControlledService(healthy=False) as service:
        async with await Kernel.open(db_path) as kernel:
            await define_shop(kernel, service, risk="low")
            await kernel.create_agent("ben", "bold")
            await kernel.ops.reload()
            outcome = await kernel.stimulate("ben", _alert(kernel, kernel.clock() - 60))
            arm = (await kernel.load_agent("ben")).memory.learner.arms[("status=503", "fix-shop")]
        assert outcome.status == "succeeded" and outcome.tried == (("fix-shop", True),)
        # re-check, remedy, verification
        assert outcome.steps == 3 and service.fixes == 1
        assert arm.own == 1 and arm.value > 0.5


async def test_a_confirmed_fault_a_remedy_does_not_fix_is_a_real_miss(db_path: Path) -> None:
    with ControlledService(healthy=False) as service:
        service.fix_works = False
        async with await Kernel.open(db_path) as kernel:
            await define_shop(kernel, service, risk="low")
            await kernel.create_agent("ben", "bold")
            await kernel.ops.reload()
            outcome = await kernel.stimulate("ben", _alert(kernel, kernel.clock()))
            arm = (await kernel.load_agent("ben")).memory.learner.arms[("status=503", "fix-shop")]
        assert outcome.status == "failed" and service.fixes == 1
        assert outcome.steps == 1  # a fresh confirmation: no re-check; the remedy failed
        assert arm.own == 1 and arm.value < 0.5


async def test_an_incident_that_recovers_while_its_remedy_awaits_approval_runs_nothing(
    db_path: Path,
) -> None:
    """The owner asks a person for a high-risk remedy; before anyone answers, the service is
    healthy again: the request is withdrawn, nothing runs, the incident closes as recovered."""
    clock = VirtualClock()
    with ControlledService(healthy=False) as service:
        async with await Kernel.open(db_path, clock=clock.time) as kernel:
            await define_shop(kernel, service, risk="high", failure_threshold=2)
            await kernel.create_agent("ben", "bold")

            def follow(event: KernelEvent) -> None:
                if isinstance(event, IncidentChanged) and event.status == "awaiting_approval":
                    service.healthy = True  # it recovers by itself, nobody has answered yet

            kernel.bus.subscribe(follow)
            autopilot = Autopilot(kernel, approval_policy="human", clock=clock)
            await autopilot.run(asyncio.Event(), duration_s=200.0)
            approvals = await kernel.approvals(None)
        assert service.fixes == 0
        (incident,) = autopilot.closed
        assert incident.status == "recovered", incident
        assert incident.actions == []
        assert [a.status for a in approvals] == ["withdrawn"]


def _remedy(i: int, action: str, fixed: bool) -> EpisodeView:
    return EpisodeView(
        i, "remedy", f"{action} ...", 0.3, 1000.0 + i, "slow", {"action": action, "fixed": fixed}
    )


def test_reflection_states_fixed_by_only_after_three_credited_fixes() -> None:
    two = [_remedy(1, "restart", True), _remedy(2, "restart", True), _remedy(3, "scale", False)]
    assert not [i for i in reflect(two) if i.predicate == "fixed_by"]
    three = [*two, _remedy(4, "restart", True)]
    (fact,) = [i for i in reflect(three) if i.predicate == "fixed_by"]
    assert (fact.subject, fact.value, fact.sources) == ("slow", "restart", (1, 2, 4))
    # A runbook that merely ran (an action episode) is not a fix, however often.
    ran = [
        EpisodeView(i, "action", "restart", 0.4, 1000.0 + i, "slow", {"action": "restart",
                    "status": "succeeded", "mutates": True})
        for i in range(10)
    ]  # fmt: skip
    assert not [i for i in reflect(ran) if i.predicate == "fixed_by"]


def test_a_time_of_day_fact_needs_two_distinct_days() -> None:
    day = 86_400.0
    base = 20 * day + 14 * 3600  # 14:00 UTC

    def failure(i: int, ts: float) -> EpisodeView:
        return EpisodeView(
            i, "action", "check", 0.5, ts, None, {"target": "shop", "healthy": False}
        )

    one_afternoon = [failure(i, base + 60 * i) for i in range(8)]
    assert not [i for i in reflect(one_afternoon) if i.predicate == "fails_often_at"]
    two_days = one_afternoon[:4] + [failure(10 + i, base + day + 60 * i) for i in range(4)]
    (fact,) = [i for i in reflect(two_days) if i.predicate == "fails_often_at"]
    assert fact.value == "14:00-15:00 UTC"
