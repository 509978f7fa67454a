"""The remedy loop: how an agent works an incident, and learns from it, in one place.

Whoever raises the incident (the autopilot, a chat request, a test), the agent works it the same
way: a trusted procedure first; then remedies chosen by what it learned, each verified by the
re-check, until one fixes it, one needs a human's approval, or none is left. Every verified
outcome teaches the learner (`learn`); what fixed it is kept as a procedure. When a human's
approval was needed, the autopilot hands the approved run back here (`verify_approved`,
`keep_what_fixed`), so that path learns and keeps procedures by the same rules.

Two rules keep agents from acting on, and learning from, faults that are not there:

- **Re-check before a mutating remedy.** On an incident (an ALERT), a remedy that changes
  things runs only on a fault confirmed within `CONFIRMED_FRESH_S`: the failing check that
  opened the incident, or a failed verification of the remedy before; a high-risk one only on
  a re-check made just before it. Otherwise the agent re-checks first; if the target is
  healthy, nothing runs and the incident closes as
  `recovered` (by itself); no remedy gets credit.
- **Credit only for real fixes** (`credit`): on an incident, a remedy earns a reward of 1
  when the fault was confirmed just before it and the verification after it passes, 0 when
  the fault was confirmed and is still there after it; any other outcome (not confirmed
  before, not verified after) is neutral: the learner is not told.

Each of those decisions comes with its one-line reason (`judged`: "credited: failing check
0.2 s before, verification passed", "no credit: the fault was not confirmed just before it"),
which the `Outcome` carries (`credits`) and the autopilot writes on the incident, so an
operator can see why an agent learned what it learned (agent/ops/evidence.py).

Watchers hear (`OutcomeLearned`) about the remedies an agent chose itself; a trusted
procedure's replay and a human-approved run teach only the agent that ran them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agent.core.credit import (
    CONFIRMED,
    NOT_CONFIRMED,
    after_phrase,
    changes_nothing,
    creditable,
    judged,
    learn,
    replay_basis,
)
from agent.core.credit import credit as credit  # the credit rule, where readers look for it
from agent.core.dry_runs import dry_run_first
from agent.core.recollection import recollect
from agent.core.stimulus import Outcome, OutcomeStatus, Stimulus, StimulusKind
from agent.decision.reasoning import Decision, OptionKind
from agent.decision.risk import RiskLevel
from agent.memory.procedures import Procedure, ProcedureRun, Step, execute_procedure, lean
from agent.ops.evidence import Credit
from agent.skills.actions import ActionRequest, ActionResult

if TYPE_CHECKING:
    from agent.core.agent import WebOpsAgent

#: Re-checks one stimulus may take before the agent must choose something else.
MAX_RECHECKS = 3
#: Checks that must all fail after a remedy before it counts as not having fixed the fault.
VERIFY_CHECKS = 2
#: Remedies one incident may try before the agent gives up and reports failure.
MAX_ATTEMPTS = 4
#: How old (host clock, seconds) a failing check may be and still confirm the fault before a
#: mutating remedy; older, the agent re-checks.
CONFIRMED_FRESH_S = 1.0
#: What an incident's outcome says when the fault went away before any remedy ran.
RECOVERED = "recovered by itself"
#: A procedure runs by itself once it worked this often with this smoothed success rate: the
#: incident it was distilled from and the later ones it would have fixed count, failed replays
#: count against it (agent/memory/procedures.py).
TRUSTED_RUNS = 2
TRUSTED_RATE = 0.6

_NOT_ACTING: dict[OptionKind, OutcomeStatus] = {
    OptionKind.WAIT: "waiting",
    OptionKind.HANDOVER: "handed_over",
}


def healthy(check: ActionResult) -> bool:
    """A re-check that found the target up: passing, and not slow (a degraded target passes
    its conditions but is still the fault being worked on)."""
    return check.ok and not check.data.get("slow")


async def verify(
    agent: WebOpsAgent, recheck: ActionRequest, decision: Decision | None = None
) -> tuple[bool, int]:
    """After a remedy: whether the target is healthy, and how many checks that took. A failing
    answer is looked at again (up to `VERIFY_CHECKS`), as a fault is confirmed by a run of
    failing checks: one blip must not blame the remedy that fixed it and credit the next."""
    for looks in range(1, VERIFY_CHECKS + 1):
        if healthy(await agent.act(recheck, decision=decision)):
            return True, looks
    return False, VERIFY_CHECKS


def high_risk(agent: WebOpsAgent, action: str) -> bool:
    """Whether `action` is high-risk or worse: it runs only on a fault seen this moment."""
    return agent.host.actions.spec(action).risk >= RiskLevel.HIGH


async def work(agent: WebOpsAgent, stimulus: Stimulus) -> Outcome:
    """Think, then act on the decision: re-check, run, ask for approval, wait or hand over.

    With a situation and candidate remedies, this works the incident until a remedy fixes it
    or none is left; what worked is kept as a procedure.
    """
    situation = stimulus.situation or stimulus.summary
    rechecks = 0
    steps = 0
    tried: list[tuple[str, bool]] = []
    credits: list[Credit] = []
    taken: list[Step] = []
    confirmed_at = stimulus.confirmed_at
    #: What confirmed the fault at `confirmed_at`: the reason a remedy gets credit.
    confirmed_by = "failing check"
    incident = stimulus.kind is StimulusKind.ALERT

    async def still_faulty(recheck: ActionRequest | None, action: str | None = None) -> bool:
        """Before a mutating remedy: the fault is confirmed (fresh, or by a re-check now; always
        by a re-check now before a high-risk one). Only an incident's remedies need it; a
        person's explicit order runs as told."""
        nonlocal confirmed_at, confirmed_by, steps, rechecks
        if not incident or recheck is None:
            return True
        fresh = confirmed_at is not None and agent.now() - confirmed_at <= CONFIRMED_FRESH_S
        if fresh and not (action is not None and high_risk(agent, action)):
            return True
        check = await agent.act(recheck)
        steps += 1
        rechecks += 1
        if healthy(check):
            return False
        confirmed_at, confirmed_by = agent.now(), "re-check"
        return True

    def confirmation() -> str:
        """What confirmed the fault just before the next remedy, and how long before."""
        if confirmed_at is None:
            return NOT_CONFIRMED
        return f"{confirmed_by} {max(0.0, agent.now() - confirmed_at):.1f} s before"

    def recovered(before: str) -> Outcome:
        decision = agent.last_decision or agent.fallback_decision(stimulus)
        return Outcome(
            status="recovered",
            summary=f"{RECOVERED}: a re-check just before {before} found it healthy",
            decision=decision,
            rechecks=rechecks,
            steps=steps,
            tried=tuple(tried),
            credits=tuple(credits),
        )

    if stimulus.situation and stimulus.candidates and stimulus.action is None:
        procedure = await trusted_procedure(agent, stimulus)
        if procedure is not None and not await still_faulty(stimulus.recheck):
            return recovered(f"the procedure for {situation}")
        ran = (
            None if procedure is None else await replay(agent, stimulus, procedure, confirmation())
        )
        if ran is not None:
            procedure, run, replayed, looks = ran
            steps += run.steps_run + looks
            tried.extend((r.action, r.fixed) for r in run.results)
            credits.extend(replayed)
            if run.ok:
                decision = agent.last_decision or agent.fallback_decision(stimulus)
                return Outcome(
                    status="succeeded",
                    summary=f"procedure for {situation} fixed it in {run.steps_run} step(s)",
                    decision=decision,
                    steps=steps,
                    tried=tuple(tried),
                    credits=tuple(credits),
                    procedure_id=procedure.id,
                )
    recalled = await recollect(agent, stimulus)
    while True:
        current, choice = agent.choose(stimulus, {a for a, _ in tried}, recalled)
        thought = await agent.think(current, rechecks, choice, recalled)
        decision = thought.decision
        if (
            decision.option is OptionKind.RECHECK
            and current.recheck is not None
            and rechecks < MAX_RECHECKS
        ):
            check = await agent.act(current.recheck, decision=decision)
            rechecks += 1
            steps += 1
            if healthy(check):
                return Outcome(
                    status="resolved",
                    summary="a re-check found it healthy",
                    decision=decision,
                    result=check,
                    rechecks=rechecks,
                    steps=steps,
                    tried=tuple(tried),
                    credits=tuple(credits),
                )
            confirmed_at, confirmed_by = agent.now(), "re-check"
            stimulus = stimulus.model_copy(update={"evidence": max(stimulus.evidence, 0.95)})
            continue
        summary = decision.explanation.summary
        mutating = current.action is not None and agent.mutates(current.action.action)
        if (
            mutating
            and current.action is not None
            and (decision.requires_approval or decision.option is OptionKind.ACT)
            and not await still_faulty(current.recheck, current.action.action)
        ):
            return recovered(current.action.action)
        asks_or_acts = decision.requires_approval or decision.option is OptionKind.ACT
        if mutating and asks_or_acts and current.action is not None:
            decision, dry = await dry_run_first(agent, current.action, decision)
            if dry is not None and not dry.ok:  # the real action never runs; nothing is learned
                return Outcome(
                    status="failed",
                    summary=dry.stopped(current.action.action),
                    decision=decision,
                    rechecks=rechecks,
                    steps=steps + 1,
                    tried=tuple(tried),
                    credits=tuple(credits),
                )
        if decision.requires_approval and current.action is not None:
            approval_id = await agent.host.request_approval(agent, current.action, decision)
            return Outcome(
                status="awaiting_approval",
                summary=summary,
                decision=decision,
                approval_id=approval_id,
                rechecks=rechecks,
                steps=steps,
                tried=tuple(tried),
                credits=tuple(credits),
            )
        if decision.option is not OptionKind.ACT or current.action is None:
            status: OutcomeStatus = _NOT_ACTING.get(decision.option, "deferred")
            if tried:
                status = "failed"
            await agent.memory.remember(
                "outcome",
                f"{situation}: {status} ({decision.option})",
                importance=agent.importance(0.3),
                situation=stimulus.situation,
            )
            return Outcome(
                status=status,
                summary=summary,
                decision=decision,
                rechecks=rechecks,
                steps=steps,
                tried=tuple(tried),
                credits=tuple(credits),
            )
        request = current.action
        agent.last_situation = request.situation or stimulus.situation
        # Unconfirmed before it, only a failed verification after it can confirm the fault.
        before = confirmation() if confirmed_at is not None else "the check after it failed"
        result = await agent.act(request, decision=decision)
        steps += 1
        fixed = result.ok
        verified = False
        if result.ok and current.recheck is not None and mutating:
            fixed, looks = await verify(agent, current.recheck, decision)
            verified = True
            steps += looks
            if not fixed:  # the fault outlived the remedy: still confirmed
                confirmed_at, confirmed_by = agent.now(), "failed verification"
        tried.append((request.action, fixed))
        taken.append(Step(request.action, dict(request.params), runs=1, fixes=int(fixed)))
        ok, why = creditable(
            incident, current.recheck is not None, confirmed_at, verified, result.ok
        )
        basis, after = why or before, after_phrase(result.ok, verified, fixed)
        if stimulus.situation:
            judgement = await learn(
                agent,
                situation,
                request.action,
                fixed,
                tell_watchers=True,
                confirmed=ok,
                basis=basis,
                after=after,
                target=request.target,
            )
        else:
            judgement = judged(request.action, fixed, confirmed=ok, basis=basis, after=after)
        credits.append(judgement)
        done = {a for a, _ in tried} | set(stimulus.tried)
        more = [c for c in stimulus.candidates if c.action not in done]
        if fixed or not more or stimulus.action is not None or len(tried) >= MAX_ATTEMPTS:
            if fixed and stimulus.situation and agent.mutates(request.action):
                await agent.memory.store_procedure(situation, taken)
            return Outcome(
                status="succeeded" if fixed else "failed",
                summary=result.detail or summary,
                decision=decision,
                result=result,
                rechecks=rechecks,
                steps=steps,
                tried=tuple(tried),
                credits=tuple(credits),
            )


async def trusted_procedure(agent: WebOpsAgent, stimulus: Stimulus) -> Procedure | None:
    """The stored procedure for this situation when the record says it is trusted, it holds
    no step known to be useless (rest drops those, see agent/core/rest_schedule.py) and no
    step would need a human's approval."""
    assert stimulus.situation is not None
    procedure = await agent.memory.best_procedure(stimulus.situation)
    if procedure is None or procedure.successes < TRUSTED_RUNS or not lean(procedure):
        return None
    if procedure.success_rate < TRUSTED_RATE:
        return None
    host = agent.host
    if any(host.actions.spec(s.action).risk > host.threshold for s in procedure.steps):
        return None
    return procedure


async def replay(
    agent: WebOpsAgent, stimulus: Stimulus, procedure: Procedure, basis: str = CONFIRMED
) -> tuple[Procedure, ProcedureRun, list[Credit], int]:
    """Run a trusted procedure, step by step, verifying after each (the caller confirmed the
    fault just before, `basis` says how; a failed verification confirms it for the next step).
    Returns each step's credit with why, too, and the checks the verifications took (steps
    like any other)."""
    assert stimulus.situation is not None
    situation = stimulus.situation
    looks = 0

    async def run_step(step: Step) -> tuple[bool, str]:
        request = ActionRequest(
            action=step.action, target=stimulus.target, params=step.params, situation=situation
        )
        result = await agent.act(request)
        return result.ok, result.detail

    async def verify_step() -> bool:
        nonlocal looks
        if stimulus.recheck is None:
            return False
        fixed, checks = await verify(agent, stimulus.recheck)
        looks += checks
        return fixed

    run = await execute_procedure(
        procedure, run_step, verify_step if stimulus.recheck is not None else None
    )
    credits = []
    can_look = stimulus.recheck is not None
    for i, r in enumerate(run.results):
        credits.append(
            await learn(
                agent,
                situation,
                r.action,
                r.fixed,
                tell_watchers=False,
                confirmed=can_look,
                basis=replay_basis(i, basis, can_look),
                after=after_phrase(r.ok, can_look, r.fixed),
                target=stimulus.target,
            )
            if agent.mutates(r.action)
            else changes_nothing(r)
        )
    await agent.memory.save_procedure_stats(procedure)
    return procedure, run, credits, looks


async def verify_approved(
    agent: WebOpsAgent,
    situation: str,
    action: str,
    executed: bool,
    recheck: ActionRequest,
    *,
    confirmed: bool = True,
    basis: str = "",
) -> Credit:
    """After a human-approved `action` ran (or failed to): check, learn (only when the fault
    was `confirmed` just before it ran, see `credit`; `basis` says how); whether it fixed it
    (`fixed`), the credit and why."""
    fixed = executed and (await verify(agent, recheck))[0]
    judgement = await learn(
        agent,
        situation,
        action,
        fixed,
        tell_watchers=False,
        confirmed=confirmed,
        basis=basis,
        after=after_phrase(executed, True, fixed),
    )
    agent.mark_dirty()
    return judgement


async def keep_what_fixed(
    agent: WebOpsAgent, situation: str, tried: Sequence[tuple[str, bool]]
) -> None:
    """Keep the incident's remedies (those that change things) as the procedure for
    `situation`; nothing when a remedy is no longer a known action."""
    actions = agent.host.actions
    if not all(a in actions.names() for a, _ in tried):
        return
    steps = [Step(a, runs=1, fixes=int(ok)) for a, ok in tried if actions.spec(a).mutates]
    if steps:
        await agent.memory.store_procedure(situation, steps)
