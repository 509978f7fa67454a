"""Reasoning: analyse the situation, generate options, evaluate them, decide, and explain.

Pure: every input (personality effects, emotion modifiers, the record, the operator's
threshold) is an argument, and the result carries each factor that moved a utility with its
size, so a person (or a test) can see why a cautious and a bold agent chose differently.

Utilities (all inputs in [0, 1]):
    act       = severity x benefit x P(success) x (0.4 + 0.6 evidence) + 0.2 (proficiency - 0.5)
                - perceived risk
    recheck   = 0.5 (1 - evidence) + 0.35 thoroughness - 0.25 rechecks done
                - 0.15 severity (1 + 2 impatience)
    wait      = 0.25 (1 - severity) - 0.3 impatience
    ask_human = 0.9 perceived risk + 0.2 (1 - evidence) - 0.2
    handover  = 0.8 (teammate's proficiency - own proficiency) + 0.1 politeness - 0.05
Behaviour patterns then add their strength x match score to the option they favour.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.decision.risk import Criticality, Record, RiskAssessment, RiskLevel, assess
from agent.mind.behaviour import PatternAction, matching
from agent.mind.emotions import EmotionModifiers
from agent.mind.personality import Personality, TraitEffects


class OptionKind(StrEnum):
    ACT = "act"
    RECHECK = "recheck"
    WAIT = "wait"
    ASK_HUMAN = "ask_human"
    HANDOVER = "handover"


class Situation(BaseModel):
    """What an agent is deciding about, after analysing a stimulus."""

    model_config = ConfigDict(frozen=True)

    summary: str
    target: str | None = None
    criticality: Criticality = Criticality.MEDIUM
    severity: float = Field(0.5, ge=0, le=1)
    evidence: float = Field(0.7, ge=0, le=1)
    action: str | None = None
    action_risk: RiskLevel = RiskLevel.NONE
    expected_benefit: float = Field(0.7, ge=0, le=1)
    supports_dry_run: bool = False
    proficiency: float = Field(0.5, ge=0, le=1)
    rechecks_done: int = Field(0, ge=0)
    teammate: str | None = None
    teammate_proficiency: float = Field(0.0, ge=0, le=1)
    #: What experience says of the action here: (value in [0, 1], weight of experience).
    learned: tuple[float, float] | None = None
    #: Whether there is a way to look again (a check to re-run).
    can_recheck: bool = True
    #: The action only looks (a check): there is nothing to weigh, the agent just looks.
    observation: bool = False


class Factor(BaseModel):
    """One thing that moved an option's utility: `value x weight` is its contribution."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: float
    weight: float
    note: str = ""

    @property
    def contribution(self) -> float:
        return self.value * self.weight


class OptionScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    option: OptionKind
    utility: float
    factors: tuple[Factor, ...]


class Explanation(BaseModel):
    model_config = ConfigDict(frozen=True)

    summary: str
    options: tuple[OptionScore, ...]
    personality: dict[str, float]
    emotions: dict[str, float]
    risk_tolerance: float
    #: Behaviour patterns that fired, with their match scores.
    patterns: dict[str, float]
    risk: RiskAssessment | None
    confidence_factors: tuple[Factor, ...]
    #: How the action was chosen among candidates (values, experience, exploration bonus).
    learning: dict[str, Any] | None = None
    #: Whether an action above the threshold was auto-approved by earned autonomy, and why.
    autonomy: dict[str, Any] | None = None
    #: The memories (episodes, facts, by id) that moved the remedy options, one line each.
    memory: tuple[str, ...] = ()
    #: What the action's dry run did before it ran or was put to a person (agent/core/dry_runs.py).
    dry_run: dict[str, Any] | None = None


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    option: OptionKind
    action: str | None
    target: str | None
    confidence: float
    requires_approval: bool
    explanation: Explanation


def _factor(name: str, value: float, weight: float, note: str = "") -> Factor:
    """A factor of a utility (positional, to keep the option tables readable)."""
    return Factor(name=name, value=value, weight=weight, note=note)


def _score(option: OptionKind, factors: list[Factor]) -> OptionScore:
    utility = sum(f.contribution for f in factors)
    return OptionScore(option=option, utility=round(utility, 4), factors=tuple(factors))


def _r(x: float) -> float:
    return round(x, 4)


def decide(
    situation: Situation,
    personality: Personality,
    effects: TraitEffects,
    modifiers: EmotionModifiers,
    record: Record,
    threshold: RiskLevel,
    learning: dict[str, Any] | None = None,
) -> Decision:
    s = situation
    tolerance = max(0.02, min(0.98, effects.risk_tolerance + modifiers.risk_tolerance))
    thoroughness = max(0.0, min(1.0, effects.thoroughness + modifiers.recheck))
    risk: RiskAssessment | None = None
    options: dict[OptionKind, list[Factor]] = {}

    if s.action is not None:
        risk = assess(
            s.action_risk,
            s.criticality,
            record,
            tolerance,
            threshold,
            supports_dry_run=s.supports_dry_run,
        )
        gain = s.severity * s.expected_benefit * (1 - risk.probability) * (0.4 + 0.6 * s.evidence)
        options[OptionKind.ACT] = [
            _factor(
                name="expected benefit",
                value=_r(gain),
                weight=1.0,
                note=f"severity {s.severity:.2f}, P(success) {1 - risk.probability:.2f}",
            ),
            _factor(
                name="proficiency",
                value=_r(s.proficiency - 0.5),
                weight=0.2,
                note=f"own proficiency {s.proficiency:.2f}",
            ),
            _factor(
                name="perceived risk",
                value=risk.perceived,
                weight=-1.0,
                note=f"{risk.level} action, risk {risk.score:.2f} seen through risk "
                f"tolerance {tolerance:.2f}",
            ),
        ]
        if s.learned is not None:
            value, experience = s.learned
            options[OptionKind.ACT].append(
                _factor(
                    "learned value",
                    _r(value - 0.5),
                    0.4 * min(1.0, experience / 5),
                    note=f"{value:.2f} over {experience:.1f} tries in this situation",
                )
            )
        options[OptionKind.ASK_HUMAN] = [
            _factor(name="perceived risk", value=risk.perceived, weight=0.9),
            _factor(name="uncertainty", value=_r(1 - s.evidence), weight=0.2),
            _factor(name="cost of asking", value=1.0, weight=-0.2),
        ]
    if s.observation and s.action is not None:
        options = {
            OptionKind.ACT: [
                _factor("looking changes nothing", 1.0, 0.5, note=f"{s.action} only observes")
            ]
        }
        scored = {OptionKind.ACT: _score(OptionKind.ACT, options[OptionKind.ACT])}
        confidence, confidence_factors = _confidence(s, personality, modifiers, scored)
        return Decision(
            option=OptionKind.ACT,
            action=s.action,
            target=s.target,
            confidence=confidence,
            requires_approval=False,
            explanation=Explanation(
                summary=f"look: {s.action}" + (f" on {s.target}" if s.target else ""),
                options=tuple(scored.values()),
                personality=effects.model_dump(),
                emotions={},
                risk_tolerance=_r(tolerance),
                patterns={},
                risk=None,
                confidence_factors=confidence_factors,
                learning=learning,
            ),
        )
    options[OptionKind.RECHECK] = [
        _factor(name="uncertainty", value=_r(1 - s.evidence), weight=0.5),
        _factor(
            name="thoroughness",
            value=_r(thoroughness),
            weight=0.35,
            note=f"personality {effects.thoroughness:.2f}, emotions {modifiers.recheck:+.2f}",
        ),
        _factor(name="rechecks already done", value=float(s.rechecks_done), weight=-0.25),
        _factor(
            name="delay",
            value=_r(s.severity * (1 + 2 * modifiers.impatience)),
            weight=-0.15,
            note="anger makes waiting costlier" if modifiers.impatience > 0.05 else "",
        ),
    ]
    options[OptionKind.WAIT] = [
        _factor(name="low severity", value=_r(1 - s.severity), weight=0.25),
        _factor(name="impatience", value=_r(modifiers.impatience), weight=-0.3),
    ]
    if s.teammate is not None:
        options[OptionKind.HANDOVER] = [
            _factor(
                name="teammate is better at it",
                value=_r(s.teammate_proficiency - s.proficiency),
                weight=0.8,
                note=f"{s.teammate}",
            ),
            _factor(name="politeness", value=_r(effects.politeness), weight=0.1),
            _factor(name="cost of a hand-over", value=1.0, weight=-0.05),
        ]

    if not s.can_recheck:
        del options[OptionKind.RECHECK]
    scored = {kind: _score(kind, factors) for kind, factors in options.items()}
    confidence, confidence_factors = _confidence(s, personality, modifiers, scored)

    # Behaviour patterns: matched against the situation as it now stands.
    context = {
        "fear_above_baseline": modifiers.recheck / 0.7 if modifiers.recheck > 0 else 0.0,
        "confidence": confidence,
        "action_risk": s.action_risk / RiskLevel.CRITICAL if s.action else 0.0,
        "extraversion": personality.extraversion,
    }
    favoured = {
        PatternAction.FAVOUR_RECHECK: OptionKind.RECHECK,
        PatternAction.FAVOUR_ASK_HUMAN: OptionKind.ASK_HUMAN,
    }
    fired: dict[str, float] = {}
    for pattern, match in matching(context, set(favoured)):
        kind = favoured[pattern.action]
        if kind in options:
            options[kind].append(
                _factor(
                    name=f"pattern: {pattern.name}",
                    value=_r(match),
                    weight=pattern.strength,
                    note=pattern.description,
                )
            )
            scored[kind] = _score(kind, options[kind])
            fired[pattern.name] = _r(match)

    ranked = sorted(scored.values(), key=lambda o: o.utility, reverse=True)
    best = ranked[0]
    requires_approval = s.action is not None and (
        best.option is OptionKind.ASK_HUMAN
        or (best.option is OptionKind.ACT and risk is not None and risk.needs_approval)
    )
    explanation = Explanation(
        summary=_summary(
            s, personality, modifiers, ranked, effects, tolerance, fired, risk, requires_approval
        ),
        options=tuple(ranked),
        personality=effects.model_dump(),
        emotions={
            "risk_tolerance": _r(modifiers.risk_tolerance),
            "recheck": _r(modifiers.recheck),
            "confidence": _r(modifiers.confidence),
            "impatience": _r(modifiers.impatience),
        },
        risk_tolerance=_r(tolerance),
        patterns=fired,
        risk=risk,
        confidence_factors=confidence_factors,
        learning=learning,
    )
    return Decision(
        option=best.option,
        action=s.action if best.option in (OptionKind.ACT, OptionKind.ASK_HUMAN) else None,
        target=s.target,
        confidence=confidence,
        requires_approval=requires_approval,
        explanation=explanation,
    )


def _confidence(
    s: Situation,
    p: Personality,
    modifiers: EmotionModifiers,
    scored: Mapping[OptionKind, OptionScore],
) -> tuple[float, tuple[Factor, ...]]:
    utilities = sorted((o.utility for o in scored.values()), reverse=True)
    margin = utilities[0] - utilities[1] if len(utilities) > 1 else 0.5
    factors = (
        _factor(name="base", value=1.0, weight=0.2),
        _factor(name="evidence", value=_r(s.evidence), weight=0.35),
        _factor(name="proficiency", value=_r(s.proficiency), weight=0.2),
        _factor(name="margin over the next option", value=_r(margin), weight=0.8),
        _factor(name="extraversion (self-assurance)", value=_r(p.extraversion - 0.5), weight=0.15),
        _factor(name="neuroticism (self-doubt)", value=_r(p.neuroticism - 0.5), weight=-0.15),
        _factor(
            name="emotions (joy, trust vs fear, sadness)",
            value=_r(modifiers.confidence),
            weight=1.0,
        ),
    )
    value = sum(f.contribution for f in factors)
    return _r(max(0.0, min(1.0, value))), factors


def _summary(
    s: Situation,
    p: Personality,
    modifiers: EmotionModifiers,
    ranked: list[OptionScore],
    effects: TraitEffects,
    tolerance: float,
    patterns: dict[str, float],
    risk: RiskAssessment | None,
    requires_approval: bool,
) -> str:
    best = ranked[0]
    what = {
        OptionKind.ACT: f"run {s.action}",
        OptionKind.RECHECK: "check again first",
        OptionKind.WAIT: "wait and watch",
        OptionKind.ASK_HUMAN: f"ask a human before {s.action}",
        OptionKind.HANDOVER: f"hand over to {s.teammate}",
    }[best.option]
    target = f" on {s.target}" if s.target else ""
    parts = [f"{what}{target} (utility {best.utility:+.2f}"]
    if len(ranked) > 1:
        runner = ranked[1]
        parts[0] += f" vs {runner.option} {runner.utility:+.2f})"
    else:
        parts[0] += ")"
    parts.append(
        f"risk tolerance {tolerance:.2f} ({TraitEffects.drivers(p, 'risk_tolerance')}), "
        f"thoroughness {effects.thoroughness:.2f} ({TraitEffects.drivers(p, 'thoroughness')})"
    )
    if abs(modifiers.risk_tolerance) >= 0.02 or abs(modifiers.recheck) >= 0.02:
        parts.append(
            f"emotions moved risk tolerance {modifiers.risk_tolerance:+.2f} and re-checking "
            f"{modifiers.recheck:+.2f}"
        )
    if risk is not None:
        parts.append(f"{risk.level} risk {risk.score:.2f}")
    if patterns:
        parts.append("patterns: " + ", ".join(patterns))
    if requires_approval:
        parts.append("needs a human's approval")
    return "; ".join(parts)
