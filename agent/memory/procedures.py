"""Procedural memory: the steps that resolved a kind of situation, run as a chain and improved.

A step "fixed it" when the verification check passed right after it. `optimize` drops steps
that never fixed anything (a remedy tried first that failed, a re-check), orders the rest by how
often each fixed it, and is stored as a new version; the old version is kept, inactive, and
`dropped` says why each step went.

Trust comes from outcomes, not from replays alone: the incident a procedure was distilled from
counts as its first success, and each later incident in the same situation fixed by one of its
steps (`reinforce`: the procedure would have been that fix) counts as another. A replay that
does not fix it counts against it. So a procedure earns the right to run by itself from what
the agent did before it had one, instead of waiting for runs it is never given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Runs before a step that never fixed anything may be dropped (one run is enough when
#: another step of the procedure did fix it: the step was tried and the fault outlived it).
MIN_RUNS_TO_DROP = 2


@dataclass
class Step:
    action: str
    params: dict[str, Any] = field(default_factory=dict)
    runs: int = 0
    fixes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "params": self.params,
            "runs": self.runs,
            "fixes": self.fixes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        return cls(
            action=data["action"],
            params=dict(data.get("params") or {}),
            runs=int(data.get("runs", 0)),
            fixes=int(data.get("fixes", 0)),
        )


@dataclass
class Procedure:
    situation: str
    steps: list[Step]
    id: int | None = None
    version: int = 1
    parent_id: int | None = None
    active: bool = True
    successes: int = 0
    failures: int = 0
    sources: list[int] = field(default_factory=list)

    @property
    def success_rate(self) -> float:
        """Laplace-smoothed, so one lucky run does not beat a long good record."""
        return (self.successes + 1) / (self.successes + self.failures + 2)

    @property
    def signature(self) -> tuple[str, ...]:
        return tuple(s.action for s in self.steps)


@dataclass(frozen=True)
class StepResult:
    action: str
    ok: bool
    fixed: bool
    detail: str = ""


@dataclass(frozen=True)
class ProcedureRun:
    ok: bool
    results: tuple[StepResult, ...]

    @property
    def steps_run(self) -> int:
        return len(self.results)


RunStep = Callable[[Step], Awaitable[tuple[bool, str]]]
Verify = Callable[[], Awaitable[bool]]


async def execute_procedure(
    procedure: Procedure, run_step: RunStep, verify: Verify | None = None
) -> ProcedureRun:
    """Run the steps in order through `run_step` (the action layer), stopping at the first
    failure, or as soon as `verify` says the situation is resolved. Updates the statistics."""
    results: list[StepResult] = []
    ok = False
    for step in procedure.steps:
        step_ok, detail = await run_step(step)
        step.runs += 1
        if not step_ok:
            results.append(StepResult(step.action, False, False, detail))
            break
        fixed = await verify() if verify is not None else False
        if fixed:
            step.fixes += 1
        results.append(StepResult(step.action, True, fixed, detail))
        if fixed:
            ok = True
            break
    else:
        ok = verify is None and all(r.ok for r in results)
    if ok:
        procedure.successes += 1
    else:
        procedure.failures += 1
    return ProcedureRun(ok=ok, results=tuple(results))


def fixing_step(steps: Sequence[Step]) -> Step | None:
    """The step that fixed it (the last one that did), or None when none did."""
    return next((s for s in reversed(steps) if s.fixes > 0), None)


def reinforce(procedure: Procedure, steps: Sequence[Step]) -> bool:
    """Count an incident fixed by `steps` as a success of `procedure` when the step that fixed
    it is the procedure's own fixing step (replayed, the procedure would have been that fix);
    whether it was. That step's record grows by the run and the fix."""
    fix, own = fixing_step(steps), fixing_step(procedure.steps)
    if fix is None or own is None or fix.action != own.action:
        return False
    own.runs += 1
    own.fixes += 1
    procedure.successes += 1
    return True


def _useless(step: Step, any_fixed: bool) -> bool:
    """A step that never fixed anything, and ran often enough to say so."""
    return step.fixes == 0 and step.runs >= (1 if any_fixed else MIN_RUNS_TO_DROP)


def lean(procedure: Procedure) -> bool:
    """No step that is known to be useless: what optimising (at rest) would drop. Only a lean
    procedure runs by itself, so a replay never repeats a remedy that already failed."""
    any_fixed = any(s.fixes > 0 for s in procedure.steps)
    return not any(_useless(s, any_fixed) for s in procedure.steps)


def optimize(procedure: Procedure) -> Procedure | None:
    """A better version, or None when there is nothing to improve."""
    any_fixed = any(s.fixes > 0 for s in procedure.steps)
    keep = [s for s in procedure.steps if not _useless(s, any_fixed)]
    if not keep:
        keep = [max(procedure.steps, key=lambda s: (s.fixes, -s.runs))]
    keep.sort(key=lambda s: (s.fixes / s.runs) if s.runs else 0.5, reverse=True)
    if [s.action for s in keep] == [s.action for s in procedure.steps]:
        return None
    return Procedure(
        situation=procedure.situation,
        steps=[Step(s.action, dict(s.params), s.runs, s.fixes) for s in keep],
        version=procedure.version + 1,
        parent_id=procedure.id,
        successes=procedure.successes,
        failures=procedure.failures,
        sources=list(procedure.sources),
    )


def dropped(old: Procedure, new: Procedure) -> list[str]:
    """Why each step of `old` is not in `new`, one line each (the record an operator reads)."""
    kept = {s.action for s in new.steps}
    return [
        f"{s.action}: ran {s.runs} time(s), never fixed it"
        for s in old.steps
        if s.action not in kept
    ]


def best_procedure(procedures: Sequence[Procedure], situation: str) -> Procedure | None:
    """The active procedure for the situation with the best (smoothed) success rate."""
    matching = [p for p in procedures if p.active and p.situation == situation]
    return max(matching, key=lambda p: (p.success_rate, p.version), default=None)
