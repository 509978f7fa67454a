"""Personality drift: slow, bounded change of the Big Five from named experiences.

Traits are stable but not frozen: people grow calmer about what keeps going well and more
careful after what keeps going wrong (Roberts & Mroczek 2008, "Personality trait change in
adulthood"; the "social investment" and "corrective experience" accounts). An agent's base
traits (what it was created with) stay as they are; experience adds a drift per trait, and the
current traits, base + drift, are what behaviour reads (risk tolerance, thoroughness,
exploration, ... in `personality.TraitEffects`).

Three rules keep it slow and reversible:
- each experience moves a trait by at most `MAX_STEP`, and by less the further the trait has
  already drifted that way (the step shrinks with 1 - |drift| / BOUND; a step back toward the
  base is whole): only repeated experiences add up, and ever more slowly;
- the drift of a trait stays within `BOUND` of its base, and the current trait within [0, 1];
- every change keeps its reason (`DriftReason`, newest first, the last `MAX_REASONS`), so an
  operator sees why, and a reset (`reset`) takes the agent back to its base.

Pure: the clock's reading comes in as an argument; `Mind.adapt` is the shell that applies it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from agent.mind.personality import TRAITS, Personality

#: The most one experience moves one trait.
MAX_STEP = 0.02
#: How far a trait may drift from its base either way.
BOUND = 0.15
#: Reasons kept, newest first.
MAX_REASONS = 12


class Experience(StrEnum):
    """The experiences that move traits; `STEPS` says which traits, by how much and why."""

    RISKY_SUCCESS_APPROVED = "risky_success_approved"
    DENIED = "denied"
    INCIDENT_FAILED = "incident_failed"
    FIXED_BY_EXPLORING = "fixed_by_exploring"
    HANDED_OVER = "handed_over"
    TIMED_OUT = "timed_out"


#: Per experience: the step of each trait it moves, and why it moves it that way.
STEPS: dict[Experience, tuple[dict[str, float], str]] = {
    # Exposure that keeps ending well lowers anxiety (the logic of exposure therapy).
    Experience.RISKY_SUCCESS_APPROVED: (
        {"neuroticism": -0.01},
        "a risky action that was approved worked again: less worry about risk",
    ),
    # Correction by a person: more careful, a little more worried.
    Experience.DENIED: (
        {"conscientiousness": 0.01, "neuroticism": 0.005},
        "a person denied what it proposed: more careful next time",
    ),
    # Failure makes the diligent more diligent: re-check and prepare more.
    Experience.INCIDENT_FAILED: (
        {"conscientiousness": 0.01, "neuroticism": 0.005},
        "incidents in a row that no remedy fixed: more thorough next time",
    ),
    # Curiosity that pays off is reinforced.
    Experience.FIXED_BY_EXPLORING: (
        {"openness": 0.01},
        "a remedy it tried to find out fixed the incident: curiosity paid off",
    ),
    # Cooperation that works builds cooperativeness.
    Experience.HANDED_OVER: (
        {"agreeableness": 0.01},
        "handed the work to a teammate better at it: more cooperative",
    ),
    Experience.TIMED_OUT: (
        {"neuroticism": 0.005},
        "an action did not answer in time: a little more worried",
    ),
}


class DriftReason(BaseModel):
    """One experience that moved traits: what it was, by how much each trait moved, when."""

    model_config = ConfigDict(frozen=True)

    experience: Experience
    why: str
    #: The change of each trait it moved (after the bounds: at a bound the change is smaller).
    changes: dict[str, float]
    detail: str = ""
    ts: float


class Drift(BaseModel):
    """How far each trait has drifted from its base, and why (newest reason first)."""

    model_config = ConfigDict(frozen=True)

    openness: float = Field(0.0, ge=-BOUND, le=BOUND)
    conscientiousness: float = Field(0.0, ge=-BOUND, le=BOUND)
    extraversion: float = Field(0.0, ge=-BOUND, le=BOUND)
    agreeableness: float = Field(0.0, ge=-BOUND, le=BOUND)
    neuroticism: float = Field(0.0, ge=-BOUND, le=BOUND)
    reasons: tuple[DriftReason, ...] = ()

    def as_dict(self) -> dict[str, float]:
        return {trait: getattr(self, trait) for trait in TRAITS}

    @property
    def zero(self) -> bool:
        return not any(self.as_dict().values())


def current(base: Personality, drift: Drift) -> Personality:
    """The traits behaviour reads: base + drift, within [0, 1]."""
    b, d = base.as_dict(), drift.as_dict()
    return Personality(**{t: round(min(1.0, max(0.0, b[t] + d[t])), 6) for t in TRAITS})


def bounded(base: float, drift: float) -> float:
    """A drift within `BOUND` that also keeps base + drift in [0, 1]."""
    low, high = max(-BOUND, -base), min(BOUND, 1.0 - base)
    return round(min(high, max(low, drift)), 6)


def apply(
    base: Personality,
    drift: Drift,
    experience: Experience,
    ts: float,
    detail: str = "",
    scale: float = 1.0,
) -> Drift:
    """The drift after one experience (`scale` in [0, 1] weakens it); unchanged (the same
    object) when every trait it moves is already at its bound."""
    steps, why = STEPS[experience]
    scale = min(1.0, max(0.0, scale))
    values = drift.as_dict()
    changes: dict[str, float] = {}
    for trait, step in steps.items():
        step = max(-MAX_STEP, min(MAX_STEP, step * scale))
        if step * values[trait] > 0:  # further the same way: ever smaller steps
            step *= max(0.0, 1.0 - abs(values[trait]) / BOUND)
        new = bounded(getattr(base, trait), values[trait] + step)
        if new != values[trait]:
            changes[trait] = round(new - values[trait], 6)
            values[trait] = new
    if not changes:
        return drift
    reason = DriftReason(experience=experience, why=why, changes=changes, detail=detail, ts=ts)
    return Drift(**values, reasons=(reason, *drift.reasons)[:MAX_REASONS])
