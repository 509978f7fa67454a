"""The agent as a whole: decisions that depend on who it is and how it feels, approvals that
hold, failures it survives, and state that survives a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.core.kernel import Kernel, KernelConfig
from agent.core.resources import ResourceExhausted, ResourceLimits, Resources
from agent.core.stimulus import Stimulus
from agent.decision.reasoning import OptionKind, Situation, decide
from agent.decision.risk import Criticality, Record, RiskLevel
from agent.errors import InvalidInput, NotFound
from agent.events import AgentSaid, KernelEvent
from agent.mind.emotions import Appraisal, EmotionModifiers
from agent.mind.personality import PRESETS, TraitEffects
from agent.skills.actions import ActionOutput, ActionRegistry, ActionRequest, ActionSpec
from tests.conftest import FakeClock

pytestmark = pytest.mark.both_backends

CALM = EmotionModifiers(risk_tolerance=0.0, recheck=0.0, confidence=0.0, impatience=0.0)
SLOW_SHOP = Situation(
    summary="shop is slow",
    target="shop",
    criticality=Criticality.HIGH,
    severity=0.7,
    evidence=0.7,
    action="restart",
    action_risk=RiskLevel.MEDIUM,
)


def _decide(preset: str, situation: Situation = SLOW_SHOP, record: Record | None = None):
    p = PRESETS[preset]
    return decide(situation, p, TraitEffects.of(p), CALM, record or Record(), RiskLevel.MEDIUM)


def test_cautious_and_bold_decide_differently_and_say_why() -> None:
    cautious, bold = _decide("cautious"), _decide("bold")
    assert cautious.option is OptionKind.RECHECK
    assert bold.option is OptionKind.ACT
    assert "conscientiousness 0.85" in cautious.explanation.summary
    assert "neuroticism 0.70 lowers it" in cautious.explanation.summary
    assert "openness 0.80 raises it" in bold.explanation.summary
    assert cautious.explanation.risk_tolerance < 0.3 < 0.7 < bold.explanation.risk_tolerance
    # Personality also shows in confidence and in every factor's size.
    assert bold.confidence > cautious.confidence
    act = next(o for o in cautious.explanation.options if o.option is OptionKind.ACT)
    risk = next(f for f in act.factors if f.name == "perceived risk")
    bold_act = next(o for o in bold.explanation.options if o.option is OptionKind.ACT)
    bold_risk = next(f for f in bold_act.factors if f.name == "perceived risk")
    assert risk.value > bold_risk.value  # the same risk looms larger for the cautious agent


def test_risk_grows_with_level_criticality_and_failures() -> None:
    def risk(**changes: object) -> float:
        d = _decide("balanced", SLOW_SHOP.model_copy(update=changes))
        assert d.explanation.risk is not None
        return d.explanation.risk.score

    assert risk(action_risk=RiskLevel.LOW) < risk() < risk(action_risk=RiskLevel.HIGH)
    assert risk(criticality=Criticality.LOW) < risk(criticality=Criticality.CRITICAL)
    failing = _decide("balanced", record=Record(failures=5, recent_failure=True))
    assert failing.explanation.risk is not None
    assert failing.explanation.risk.score > risk()
    assert "recheck first" in failing.explanation.risk.mitigations


def test_critical_target_raises_the_level_above_the_threshold() -> None:
    d = _decide("bold", SLOW_SHOP.model_copy(update={"criticality": Criticality.CRITICAL}))
    assert d.explanation.risk is not None
    assert d.explanation.risk.effective_level is RiskLevel.HIGH
    assert d.requires_approval and "human approval" in d.explanation.risk.mitigations


def _registry(calls: list[str], *, ok: bool = True, risk: RiskLevel = RiskLevel.MEDIUM):
    registry = ActionRegistry()

    async def handler(request: ActionRequest) -> ActionOutput:
        calls.append(request.target or "")
        return ActionOutput(ok=ok, detail="done" if ok else "still broken")

    async def probe(request: ActionRequest) -> ActionOutput:
        calls.append("probe")
        return ActionOutput(ok=False, detail="still failing")

    registry.register(ActionSpec(name="deploy", risk=risk, target_kind="service"), handler)
    registry.register(ActionSpec(name="probe", mutates=False), probe)
    return registry


def _incident(**changes: object) -> Stimulus:
    base = Stimulus(
        summary="api errors",
        target="api",
        severity=0.8,
        evidence=0.9,
        action=ActionRequest(action="deploy", target="api"),
    )
    return base.model_copy(update=changes)


async def test_failures_raise_fear_until_the_agent_stops_acting(
    db_path: Path, clock: FakeClock
) -> None:
    calls: list[str] = []
    kernel = await Kernel.open(db_path, clock=clock, actions=_registry(calls, ok=False))
    async with kernel:
        await kernel.create_agent("ben", "balanced")
        resting_fear = (await kernel.status("ben")).emotions["fear"]
        incident = _incident(recheck=ActionRequest(action="probe", target="api"))
        outcomes = [await kernel.stimulate("ben", incident) for _ in range(5)]
        status = await kernel.status("ben")
    first, last = outcomes[0].decision, outcomes[-1].decision
    assert first.option is OptionKind.ACT and outcomes[0].status == "failed"
    assert status.emotions["fear"] > resting_fear + 0.15
    # The same incident, the same agent: after failing, it no longer acts straight away.
    assert last.option in (OptionKind.RECHECK, OptionKind.ASK_HUMAN)
    assert "emotions moved risk tolerance -" in last.explanation.summary
    assert "double-check when anxious" in last.explanation.patterns
    deploys = [c for c in calls if c != "probe"]
    record = next(r for r in status.records if r.action == "deploy")
    assert record.failures == len(deploys) >= 1
    assert outcomes[-1].rechecks >= 1 and "probe" in calls


async def test_high_risk_action_waits_for_approval_and_runs_only_then(
    db_path: Path, clock: FakeClock
) -> None:
    calls: list[str] = []
    actions = _registry(calls, risk=RiskLevel.HIGH)
    async with await Kernel.open(db_path, clock=clock, actions=actions) as kernel:
        await kernel.create_agent("ben", "bold")
        outcome = await kernel.stimulate("ben", _incident())
        assert outcome.status == "awaiting_approval" and outcome.approval_id is not None
        assert calls == []
        # Calling act directly without a granted approval is refused too.
        agent = await kernel.load_agent("ben")
        refused = await agent.act(ActionRequest(action="deploy", target="api"))
        assert refused.status == "refused" and calls == []
        (pending,) = await kernel.approvals()
        assert pending.risk == "high" and "needs a human's approval" in pending.summary
    # The approval outlives the process that asked for it.
    async with await Kernel.open(db_path, clock=clock, actions=actions) as kernel:
        done = await kernel.approve(pending.id, by="alice")
        assert calls == ["api"]
        assert done.status == "executed" and done.decided_by == "alice"
        assert done.result is not None and done.result["status"] == "succeeded"
        with pytest.raises(InvalidInput, match="already executed"):
            await kernel.approve(pending.id)
        assert await kernel.approvals() == []


async def test_a_denied_action_never_runs(db_path: Path, clock: FakeClock) -> None:
    calls: list[str] = []
    async with await Kernel.open(
        db_path, clock=clock, actions=_registry(calls, risk=RiskLevel.HIGH)
    ) as kernel:
        await kernel.create_agent("ben", "bold")
        outcome = await kernel.stimulate("ben", _incident())
        assert outcome.approval_id is not None
        sad_before = (await kernel.status("ben")).emotions["sadness"]
        denied = await kernel.deny(outcome.approval_id)
        assert denied.status == "denied"
        with pytest.raises(InvalidInput, match="already denied"):
            await kernel.approve(outcome.approval_id)
        assert calls == []
        assert (await kernel.status("ben")).emotions["sadness"] > sad_before
        with pytest.raises(NotFound):
            await kernel.approve(9999)


async def test_a_crashing_or_hanging_action_is_a_failed_outcome_not_a_dead_agent(
    db_path: Path,
) -> None:
    registry = ActionRegistry()

    async def crash(request: ActionRequest) -> ActionOutput:
        raise RuntimeError("disk on fire")

    async def hang(request: ActionRequest) -> ActionOutput:
        await asyncio.sleep(60)
        return ActionOutput(ok=True)

    registry.register(ActionSpec(name="crash"), crash)
    registry.register(ActionSpec(name="hang", timeout_s=0.05), hang)
    async with await Kernel.open(db_path, actions=registry) as kernel:
        await kernel.create_agent("ben", "bold")
        crashed = await kernel.stimulate("ben", _incident(action=ActionRequest(action="crash")))
        assert crashed.status == "failed" and crashed.result is not None
        assert "disk on fire" in crashed.result.detail
        assert crashed.result.error is not None and "RuntimeError" in crashed.result.error
        hung = await kernel.stimulate("ben", _incident(action=ActionRequest(action="hang")))
        assert hung.result is not None and hung.result.status == "timeout"
        fine = await kernel.stimulate("ben", _incident(action=ActionRequest(action="noop")))
        assert fine.status == "succeeded"
        assert (await kernel.load_agent("ben")).running


async def test_a_recheck_that_passes_resolves_without_acting(db_path: Path) -> None:
    calls: list[str] = []
    actions = _registry(calls)
    async with await Kernel.open(db_path, actions=actions) as kernel:
        await kernel.create_agent("anna", "cautious")
        outcome = await kernel.stimulate(
            "anna", _incident(evidence=0.5, recheck=ActionRequest(action="noop"))
        )
    assert outcome.status == "resolved" and outcome.rechecks == 1
    assert calls == []


def test_resources_refuse_past_each_limit_and_say_which() -> None:
    clock = FakeClock()
    resources = Resources(ResourceLimits(max_concurrent_actions=1, actions_per_minute=2), clock)
    with resources.allocate():
        assert resources.monitor().running_actions == 1
        with (
            pytest.raises(ResourceExhausted, match="concurrent actions") as refused,
            resources.allocate(),
        ):
            pass
        assert refused.value.limit == "max_concurrent_actions"
    with resources.allocate():
        pass
    with pytest.raises(ResourceExhausted, match="actions per minute"), resources.allocate():
        pass
    assert resources.monitor().actions_last_minute == 2
    clock.advance(61)
    with resources.allocate():
        pass
    assert resources.monitor().actions_last_minute == 1


async def test_an_extraverted_agent_shares_its_success(db_path: Path) -> None:
    said: list[KernelEvent] = []
    calls: list[str] = []
    async with await Kernel.open(db_path, actions=_registry(calls, risk=RiskLevel.LOW)) as kernel:
        kernel.bus.subscribe(lambda e: said.append(e) if isinstance(e, AgentSaid) else None)
        await kernel.create_agent("cleo", "friendly")
        await kernel.create_agent("anna", "cautious")
        for name in ("cleo", "anna"):
            outcome = await kernel.stimulate(name, _incident())
            assert outcome.status == "succeeded", outcome.summary
        # Looking (a check, a no-op) is not news worth sharing.
        await kernel.stimulate("cleo", _incident(action=ActionRequest(action="noop")))
    assert [e.agent for e in said] == ["cleo"]
    assert isinstance(said[0], AgentSaid)
    # cleo is verbose and polite: she says how long it took, and says it warmly.
    assert said[0].text.startswith("Good news, everyone: deploy on api worked in ")
    assert "(done)" in said[0].text


async def test_stop_finishes_queued_work_and_saves_state(db_path: Path) -> None:
    async with await Kernel.open(db_path) as kernel:
        await kernel.create_agent("ben", "bold")
        agent = await kernel.start_agent("ben")
        futures = [
            await agent.submit(_incident(action=ActionRequest(action="noop"))) for _ in range(50)
        ]
        await agent.stop()
        assert all(f.done() and f.result().status == "succeeded" for f in futures)
        assert (await kernel.get_agent("ben")).state == "shutdown"


async def test_emotions_and_records_survive_a_restart(db_path: Path, clock: FakeClock) -> None:
    async with await Kernel.open(db_path, clock=clock) as kernel:
        await kernel.create_agent("anna", "cautious")
        await kernel.feel("anna", Appraisal.THREAT, cause="shop is down")
        await kernel.stimulate(
            "anna", _incident(action=ActionRequest(action="noop"), evidence=1.0, severity=1.0)
        )
        before = await kernel.status("anna")
    async with await Kernel.open(db_path, clock=clock) as kernel:
        after = await kernel.status("anna")
        assert after.emotions == before.emotions
        assert after.records == before.records and after.records[0].successes == 1
        clock.advance(3600)  # an hour off: fear has decayed back toward its resting level
        later = await kernel.status("anna")
    assert later.emotions["fear"] < before.emotions["fear"]
    assert abs(later.emotions["fear"] - later.baseline["fear"]) < 0.01


async def test_configured_threshold_changes_what_needs_approval(db_path: Path) -> None:
    calls: list[str] = []
    strict = KernelConfig(approval_threshold=RiskLevel.LOW)
    async with await Kernel.open(db_path, config=strict, actions=_registry(calls)) as kernel:
        await kernel.create_agent("ben", "bold")
        outcome = await kernel.stimulate("ben", _incident())
    assert outcome.status == "awaiting_approval" and calls == []
