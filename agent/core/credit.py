"""Credit only for real fixes: what a remedy's outcome teaches, and the one-line reason.

An agent that credits whatever ran on a false alarm learns superstitions ("slow is fixed by
restart"), and an operator who sees it learned them cannot tell why. So every remedy's outcome
is judged here (`judged`): a reward of 1 when the fault was confirmed just before it and the
verification after it passed, 0 when a confirmed fault outlived it, neutral (None: the learner
is not told) otherwise; and with the verdict, one line saying why ("credited: failing check
0.2 s before, verification passed", "no credit: the fault was not confirmed just before it").
`learn` applies the reward to the agent; the remedy loop (remedy.py) carries the verdicts on
its `Outcome`, and the autopilot writes them on the incident (agent/ops/evidence.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.events import OutcomeLearned
from agent.memory.procedures import StepResult
from agent.ops.evidence import Credit

if TYPE_CHECKING:
    from agent.core.agent import WebOpsAgent


def credit(confirmed_before: bool, fixed: bool) -> float | None:
    """The reward a remedy's outcome earns: 1 for a real fix (the fault was confirmed just
    before and the verification after passed), 0 when a confirmed fault outlived it, None
    (neutral) when nobody knows there was a fault to fix."""
    if not confirmed_before:
        return None
    return 1.0 if fixed else 0.0


#: Why a remedy's outcome teaches nothing (or its result only), when nobody says more.
NOT_CONFIRMED = "the fault was not confirmed just before it"
CONFIRMED = "the fault was confirmed just before it"


def after_phrase(ran: bool, verified: bool, fixed: bool) -> str:
    """What was known after a remedy: its own failure, or what the verification found."""
    if not ran:
        return "the remedy itself failed"
    if verified:
        return "verification passed" if fixed else "verification still failing"
    return "it ran" if fixed else "it did not fix it"


def judged(
    action: str, fixed: bool, *, confirmed: bool, basis: str = "", after: str = ""
) -> Credit:
    """The credit a remedy's outcome earns (`credit`) with its one-line reason: `basis` says
    what confirmed the fault before it (or why nothing did), `after` what was known after."""
    reward = credit(confirmed, fixed)
    basis = basis or (CONFIRMED if confirmed else NOT_CONFIRMED)
    after = after or ("verification passed" if fixed else "the fault was still there after it")
    if reward is None:
        why = f"no credit: {basis}"
    elif reward:
        why = f"credited: {basis}, {after}"
    else:
        why = f"counted as a miss: {basis}, {after}"
    return Credit(action=action, fixed=fixed, credit=reward, why=why)


async def learn(
    agent: WebOpsAgent,
    situation: str,
    action: str,
    fixed: bool,
    *,
    tell_watchers: bool,
    confirmed: bool = True,
    basis: str = "",
    after: str = "",
    target: str | None = None,
) -> Credit:
    """A remedy's outcome, as a reward for `action` in `situation` (`credit`), and an episode
    (`remedy`) that reflection counts fixes by; nothing when the fault was not `confirmed`
    just before the remedy. Returns the credit with its reason (`judged`)."""
    judgement = judged(action, fixed, confirmed=confirmed, basis=basis, after=after)
    reward = judgement.credit
    if reward is None:
        return judgement
    agent.memory.learner.update(situation, action, reward)
    await agent.memory.remember(
        "remedy",
        f"{action} {'fixed' if fixed else 'did not fix'} {situation}",
        importance=agent.importance(0.3),
        situation=situation,
        details={"action": action, "fixed": fixed, **({"target": target} if target else {})},
    )
    bus = agent.host.bus
    if tell_watchers and bus.active:
        bus.publish(
            OutcomeLearned(
                agent=agent.name,
                situation=situation,
                action=action,
                reward=reward,
                ts=agent.now(),
            )
        )
    return judgement


def creditable(
    incident: bool, can_look: bool, confirmed_at: float | None, verified: bool, ran: bool
) -> tuple[bool, str]:
    """Whether a remedy's outcome may teach, and why when that is not down to what confirmed
    the fault just before it ("" then): on an incident with a way to look, only when the fault
    was confirmed before it and the outcome is known after it (verified, or the remedy itself
    failed). A person's order, or a stimulus with no way to look, teaches by its result as
    before."""
    if not incident:
        return True, "a person ordered it, taught by its result"
    if not can_look:
        return True, "no check to look with, taught by its result"
    if confirmed_at is None:
        return False, NOT_CONFIRMED
    if ran and not verified:
        return False, "nothing verified its outcome after it"
    return True, ""


def replay_basis(step: int, first: str, can_look: bool) -> str:
    """What confirmed the fault before a trusted procedure's step."""
    if not can_look:
        return "no check to verify the procedure with"
    if step == 0:
        return f"trusted procedure, {first}"
    return "trusted procedure, the step before did not fix it"


def changes_nothing(result: StepResult) -> Credit:
    """A step that changes nothing fixes nothing, whatever the check after it found."""
    return Credit(
        action=result.action,
        fixed=result.fixed,
        credit=None,
        why="no credit: it changes nothing, so it cannot be what fixed it",
    )


def approved_basis(
    confirmed: bool, failing_at: float | None, decided_at: float | None, by: str
) -> str:
    """What confirmed the fault before a remedy `by` approved (it runs as it is approved)."""
    if not confirmed or failing_at is None or decided_at is None:
        return f"the fault was not confirmed just before {by} approved it"
    if failing_at > decided_at:
        return f"failing check {failing_at - decided_at:.1f} s after {by} approved it"
    return f"failing check {decided_at - failing_at:.1f} s before {by} approved it"


def denied(action: str, by: str | None) -> Credit:
    """A remedy a person denied: it did not run, so it fixed nothing and teaches nothing here
    (the denial itself is feedback, see agent/core/approvals.py)."""
    why = f"no credit: {by or 'a person'} denied it; it did not run"
    return Credit(action=action, fixed=False, credit=None, why=why)
