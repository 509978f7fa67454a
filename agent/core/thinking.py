"""How an agent thinks about a stimulus: appraise it, analyse the situation, decide.

The decision itself is the pure `agent.decision.reasoning.decide`; this is the shell around it
that gathers what it needs from the agent (its mind, its record with the action, what it
learned, its earned autonomy), remembers the stimulus and the decision, and tells listeners.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.core.recollection import cited
from agent.core.remedy import MAX_RECHECKS
from agent.core.stimulus import Stimulus, Thought
from agent.decision.reasoning import Decision, OptionKind, Situation, decide
from agent.decision.risk import Record, RiskLevel
from agent.events import BehaviourTriggered, DecisionMade
from agent.memory.learning import Choice
from agent.memory.precedents import Precedents
from agent.mind.emotions import INDEX as EMOTION_INDEX
from agent.skills.autonomy import earned_autonomy

if TYPE_CHECKING:
    from agent.core.agent import WebOpsAgent


def analyse(agent: WebOpsAgent, stimulus: Stimulus, rechecks: int = 0) -> Situation:
    spec = agent.host.actions.spec(stimulus.action.action) if stimulus.action else None
    return Situation(
        summary=stimulus.summary,
        target=stimulus.target,
        criticality=stimulus.criticality,
        severity=stimulus.severity,
        evidence=stimulus.evidence,
        action=spec.name if spec else None,
        action_risk=spec.risk if spec else RiskLevel.NONE,
        expected_benefit=spec.expected_benefit if spec else 0.0,
        supports_dry_run=spec.supports_dry_run if spec else False,
        rechecks_done=rechecks,
        teammate=stimulus.teammate,
        teammate_proficiency=stimulus.teammate_proficiency,
        proficiency=agent.skills.proficiency(spec.skill) if spec else 0.5,
        can_recheck=stimulus.recheck is not None and rechecks < MAX_RECHECKS,
        observation=spec is not None and not spec.mutates,
    )


async def think(
    agent: WebOpsAgent,
    stimulus: Stimulus,
    rechecks: int = 0,
    choice: Choice | None = None,
    recalled: Precedents | None = None,
) -> Thought:
    """Appraise the stimulus, analyse the situation and decide what to do; the decision
    cites the memories `recalled` for its remedy (agent/core/recollection.py)."""
    if stimulus.appraisal is not None and rechecks == 0:
        agent.feel(stimulus.appraisal, stimulus.intensity, cause=stimulus.summary)
    situation = analyse(agent, stimulus, rechecks)
    if situation.action is not None and stimulus.situation:
        arm = agent.memory.learner.stats(stimulus.situation, situation.action)
        if arm.weight > 0:
            situation = situation.model_copy(update={"learned": (arm.value, arm.weight)})
    record = agent.record_for(situation.action).record() if situation.action else Record()
    mind = agent.mind
    decision = decide(
        situation,
        mind.personality,
        mind.effects,
        mind.modifiers(),
        record,
        agent.host.threshold,
        learning=choice.as_dict() if choice else None,
    )
    decision = cited(consider_autonomy(agent, decision, record), recalled)
    agent.last_decision = decision
    if rechecks == 0:
        await agent.memory.remember(
            "stimulus",
            stimulus.summary,
            importance=importance(agent, 0.2),
            situation=stimulus.situation,
            details={
                "target": stimulus.target,
                "severity": stimulus.severity,
                "kind": stimulus.kind,
            },
        )
    await agent.memory.remember(
        "decision",
        decision.explanation.summary,
        importance=importance(agent, 0.1),
        situation=stimulus.situation,
        details={
            "option": decision.option,
            "action": decision.action,
            "target": decision.target,
            "confidence": decision.confidence,
            "patterns": decision.explanation.patterns,
            "memory": list(decision.explanation.memory),
        },
    )
    agent.emit(
        lambda: DecisionMade(
            agent=agent.name,
            option=decision.option,
            action=decision.action,
            target=decision.target,
            confidence=decision.confidence,
            requires_approval=decision.requires_approval,
            summary=decision.explanation.summary,
            ts=agent.now(),
        )
    )
    bus = agent.host.bus
    if bus.active:
        for pattern, score in decision.explanation.patterns.items():
            bus.publish(
                BehaviourTriggered(agent=agent.name, pattern=pattern, score=score, ts=agent.now())
            )
    return Thought(
        situation=situation,
        decision=decision,
        emotions=mind.as_dict(),
        mood=mind.mood(),
    )


def consider_autonomy(agent: WebOpsAgent, decision: Decision, record: Record) -> Decision:
    """An action above the threshold runs without asking once autonomy is earned."""
    risk = decision.explanation.risk
    if decision.action is None or risk is None or not risk.needs_approval:
        return decision
    spec = agent.host.actions.spec(decision.action)
    autonomy = earned_autonomy(
        risk.effective_level,
        record.approved_streak,
        agent.skills.proficiency(spec.skill),
        spec.skill,
    )
    explanation = decision.explanation.model_copy(update={"autonomy": autonomy.model_dump()})
    update: dict[str, object] = {"explanation": explanation}
    if autonomy.granted and decision.option is OptionKind.ACT:
        update["requires_approval"] = False
    return decision.model_copy(update=update)


def importance(agent: WebOpsAgent, outcome_weight: float) -> float:
    """Importance from the outcome, the surprise felt and how stirred the agent is."""
    emotions = agent.mind.emotions
    stirred = max(abs(e - r) for e, r in zip(emotions, agent.mind.rest, strict=True))
    surprise = emotions[EMOTION_INDEX["surprise"]]
    return min(1.0, 0.05 + 0.45 * outcome_weight + 0.25 * surprise + 0.25 * stirred)


def fallback_decision(agent: WebOpsAgent, stimulus: Stimulus) -> Decision:
    """What the agent would have decided, for an outcome when handling broke off early."""
    situation = Situation(summary=stimulus.summary, target=stimulus.target)
    mind = agent.mind
    return decide(
        situation, mind.personality, mind.effects, mind.modifiers(), Record(), agent.host.threshold
    )
