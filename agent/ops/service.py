"""Targets and runbooks, turned into actions the agents can take.

Each check kind is an action (`http_check`, `tcp_check`, `dns_check`, `tls_check`) whose target
is a defined target's name; each runbook is an action of its declared risk. Check timeouts
adapt to what a target usually needs (`adapt_execution`), and each target keeps a robust
latency baseline so "slow" is learned, not a fixed number.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from agent.decision.risk import RiskLevel
from agent.errors import Conflict, InvalidInput, NotFound
from agent.fresh import Fresh
from agent.ops.runbook_secrets import Rotation, RunbookSecrets, holds_secrets
from agent.ops.stored_specs import (
    first_line,
    runbook_detail,
    runbook_of,
    runbook_row,
    target_detail,
    target_of,
    target_row,
)
from agent.ops.targets import CHECK_KINDS, RunbookSpec, TargetKind, TargetSpec, load_toml
from agent.skills.actions import (
    RUNBOOK_SKILL,
    ActionOutput,
    ActionRegistry,
    ActionRequest,
    ActionSpec,
)
from storage.repositories.check_samples import CheckSampleRepository
from storage.repositories.runbooks import RunbookRepository
from storage.repositories.targets import TargetRepository
from storage.tables import CheckSampleRow

if TYPE_CHECKING:
    import httpx

    from agent.ops.anomaly import Baseline
    from storage.secrets import SecretBox

#: Checks an adapted timeout is learned from, and how it is set.
ADAPT_MIN_SAMPLES = 10
ADAPT_FACTOR = 10.0
ADAPT_FLOOR_S = 0.5
#: Samples a target gains between trims of its history: a flush at 5,000 targets trimmed each
#: target in it (thousands of DELETEs a flush); now a target is trimmed once per this many new
#: samples, so a history holds at most the kept 500 plus this many.
TRIM_EVERY = 50
#: Baselines read from history in one query (see `baseline`).
BASELINE_BATCH = 500
#: How old the definitions may be on hot paths (`refresh`).
REFRESH_S = 1.0


class OnChange(Protocol):
    """Told of every change of a definition (the kernel audits it): by whom (an API token, or
    None for the OS user), what happened, the detail, and what it was about."""

    async def __call__(
        self, by: str | None, event: str, detail: dict[str, Any], **about: str | None
    ) -> None: ...


async def _unheard(by: str | None, event: str, detail: dict[str, Any], **about: str | None) -> None:
    return None


def adapt_execution(base_timeout_s: float, latencies_ms: list[float]) -> tuple[float, str]:
    """A check's timeout from the target's history: ten times its 95th-percentile latency,
    at least 0.5 s and never more than the configured timeout; the configured one until
    there are ten healthy samples. A fast service that hangs is then noticed sooner."""
    if len(latencies_ms) < ADAPT_MIN_SAMPLES:
        return base_timeout_s, f"configured {base_timeout_s:g} s (too little history)"
    p95 = statistics.quantiles(latencies_ms, n=20)[-1]
    adapted = min(base_timeout_s, max(ADAPT_FLOOR_S, ADAPT_FACTOR * p95 / 1000))
    return round(adapted, 3), f"{adapted:.2f} s from a p95 of {p95:.0f} ms"


class Ops:
    def __init__(
        self,
        actions: ActionRegistry,
        targets: TargetRepository,
        runbooks: RunbookRepository,
        samples: CheckSampleRepository,
        secret_box: Callable[[bool], SecretBox],
        clock: Callable[[], float] = time.time,
        on_change: OnChange = _unheard,
    ) -> None:
        self._actions = actions
        self._changed = on_change
        self._targets = targets
        self._runbooks = runbooks
        self._samples = samples
        self.secrets = RunbookSecrets(secret_box)
        #: Called during a key rotation, after the new key is first, before the old is dropped.
        self.resealers: list[Callable[[], Awaitable[None]]] = []
        self._clock = clock
        self.targets: dict[str, TargetSpec] = {}
        self.runbooks: dict[str, RunbookSpec] = {}
        #: Stored definitions a stricter rule now refuses ("target NAME" -> why): not loaded.
        self.unusable: dict[str, str] = {}
        self.baselines: dict[str, Baseline] = {}
        self.pending_samples: list[CheckSampleRow] = []
        #: The `webops run --worker` making the checks, written with each sample ('' alone).
        self.worker = ""
        #: Targets whose baseline is wanted and not read yet, and the one read at a time.
        self._unread: set[str] = set()
        self._reading = asyncio.Lock()
        #: New samples per target since its history was last trimmed (see TRIM_EVERY).
        self._untrimmed: Counter[str] = Counter()
        #: The HTTP checks' shared client (made at the first check, closed by `close`).
        self._http: httpx.AsyncClient | None = None
        self._fresh = Fresh(self._reload, REFRESH_S, serve_stale_s=REFRESH_S)
        self._register_checks()

    # -- definitions -----------------------------------------------------------------------

    async def refresh(self) -> None:
        """Reload unless that was done within the last second: for hot paths (each chat turn),
        which must see another process's changes soon but not within the millisecond (and
        go on with the definitions held while they are read again, see `agent.fresh`)."""
        await self._fresh.get()

    async def close(self) -> None:
        """Let go of the checks' connections (the kernel closes)."""
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    async def reload(self) -> None:
        """Read the definitions again (another process may have changed them)."""
        await self._fresh.reload()

    async def _reload(self) -> None:
        # A row stored before a stricter rule (an interval of inf, a host with a space) is set
        # aside with the reason, not loaded: one bad row must not lock every command out.
        unusable: dict[str, str] = {}
        targets: dict[str, TargetSpec] = {}
        for stored in await self._targets.list():
            try:
                targets[stored.name] = target_of(stored)
            except ValueError as exc:
                unusable[f"target {stored.name}"] = first_line(exc)
        self.targets = targets
        fresh: dict[str, RunbookSpec] = {}
        for row in await self._runbooks.list():
            try:
                fresh[row.name] = runbook_of(row, self.secrets.open(row))
            except ValueError as exc:
                unusable[f"runbook {row.name}"] = first_line(exc)
        self.unusable = unusable
        for name in set(self.runbooks) - set(fresh):
            self._actions.unregister(name)
        self.runbooks = fresh
        for spec in fresh.values():
            self._register_runbook(spec)

    async def add_target(
        self, spec: TargetSpec, *, replace: bool = False, by: str | None = None
    ) -> TargetSpec:
        """Store a target (audited as `by`, see `OnChange`)."""
        await self._store_target(spec, replace)
        await self._changed(by, "target_added", target_detail(spec, replace), target=spec.name)
        return spec

    async def _store_target(self, spec: TargetSpec, replace: bool) -> None:
        row = target_row(spec, self._clock())
        # A taken name raises DuplicateKey, which is an AlreadyExists.
        await (self._targets.replace(row) if replace else self._targets.add(row))
        self.targets[spec.name] = spec

    async def remove_target(self, name: str, *, by: str | None = None) -> TargetSpec:
        """Remove a target no runbook verifies with; otherwise refuse, naming the runbooks (a
        removed target left their verification dangling: issue 18). A stored target that no
        longer loads (see `unusable`) can be removed too: that is how it is fixed."""
        await self.reload()
        row = await self._targets.get(name)
        if row is not None and (why := self.unusable.get(f"target {name}")) is not None:
            await self._targets.remove(name)
            await self._changed(by, "target_removed", {"unusable": why}, target=name)
            await self.reload()
            # As stored, unchecked: it is what the operator removes, and it is gone.
            kind: TargetKind = next((k for k in CHECK_KINDS if k == row.kind), "http")
            return TargetSpec.model_construct(name=name, kind=kind, address=row.address)
        spec = await self.target(name)
        await self.reload()
        users = sorted(r.name for r in self.runbooks.values() if r.verify_target == name)
        if users:
            raise Conflict(
                f"cannot remove target {name!r}: runbook {', '.join(map(repr, users))} "
                "verifies with it; remove the runbook or re-add it with another --verify first"
            )
        await self._targets.remove(name)
        self.targets.pop(name, None)
        await self._changed(by, "target_removed", target_detail(spec, False), target=name)
        return spec

    async def target(self, name: str) -> TargetSpec:
        if name not in self.targets:
            await self.reload()
        if name not in self.targets:
            known = ", ".join(sorted(self.targets)) or "none defined"
            raise NotFound(f"no target named {name!r} (known: {known})")
        return self.targets[name]

    async def add_runbook(
        self, spec: RunbookSpec, *, replace: bool = False, by: str | None = None
    ) -> RunbookSpec:
        """Store a runbook, its secrets encrypted (audited as `by`, see `OnChange`)."""
        await self._store_runbook(spec, replace)
        detail = runbook_detail(spec, replace)
        await self._changed(by, "runbook_added", detail, action=spec.name)
        return spec

    async def _store_runbook(self, spec: RunbookSpec, replace: bool) -> None:
        if spec.verify_target and spec.verify_target not in self.targets:
            await self.reload()
            if spec.verify_target not in self.targets:
                raise NotFound(
                    f"runbook {spec.name!r} verifies with target "
                    f"{spec.verify_target!r}, which is not defined"
                )
        if spec.argv_secret_refusal:
            raise InvalidInput(spec.argv_secret_refusal)
        holders: list[str] = []
        if spec.secrets:
            rows = await self._runbooks.list()
            holders = [r.name for r in rows if r.name != spec.name and holds_secrets(r)]
        sealed = self.secrets.seal(spec.secrets, holders)
        row = runbook_row(spec, sealed, self._clock())
        # A taken name raises DuplicateKey, which is an AlreadyExists.
        await (self._runbooks.replace(row) if replace else self._runbooks.add(row))
        self.runbooks[spec.name] = spec
        self._register_runbook(spec)

    async def remove_runbook(self, name: str, *, by: str | None = None) -> RunbookSpec:
        spec = await self.runbook(name)
        await self._runbooks.remove(name)
        self.runbooks.pop(name, None)
        self._actions.unregister(name)
        await self._changed(by, "runbook_removed", runbook_detail(spec, False), action=name)
        return spec

    async def runbook(self, name: str) -> RunbookSpec:
        if name not in self.runbooks:
            await self.reload()
        if name not in self.runbooks:
            known = ", ".join(sorted(self.runbooks)) or "none defined"
            raise NotFound(f"no runbook named {name!r} (known: {known})")
        return self.runbooks[name]

    async def rotate_key(self, *, drop_unreadable: bool = False) -> Rotation:
        """A new key for every runbook secret (see `RunbookSecrets.rotate` for crash safety)."""
        rows = await self._runbooks.list()
        changed = self.secrets.rotate(rows, drop_unreadable=drop_unreadable)
        for row in changed:
            await self._runbooks.replace(row)
        for reseal in self.resealers:  # other sealed values (notification URLs), same key
            await reseal()
        self.secrets.finish()
        await self.reload()
        dropped = sorted(r.name for r in changed if not holds_secrets(r))
        await self._changed(
            None, "secrets_key_rotated", {"runbooks": len(changed), "dropped": dropped}
        )
        return Rotation(
            key=str(self.secrets.key_path()),
            runbooks=len(changed) - len(dropped),
            secrets=sum(len(json.loads(r.secrets)) for r in changed if holds_secrets(r)),
            dropped=dropped,
        )

    async def import_toml(
        self, text: str, source: str, *, by: str | None = None
    ) -> tuple[int, int]:
        """Add or replace every definition in the file; nothing is stored if any is bad.
        Audited as one `imported` entry naming what the file defined."""
        targets, runbooks = load_toml(text, source)
        await self.reload()
        known = set(self.targets) | {t.name for t in targets}
        for runbook in runbooks:
            if runbook.verify_target and runbook.verify_target not in known:
                raise InvalidInput(
                    f"{source}: runbook {runbook.name!r} verifies with "
                    f"undefined target {runbook.verify_target!r}"
                )
        now = self._clock()
        await self._targets.replace_many([target_row(t, now) for t in targets])
        self.targets.update((t.name, t) for t in targets)
        for runbook in runbooks:
            await self._store_runbook(runbook, True)
        detail = {
            "source": source,
            "targets": [t.name for t in targets],
            "runbooks": [r.name for r in runbooks],
        }
        await self._changed(by, "imported", detail)
        return len(targets), len(runbooks)

    async def add_samples(self, rows: list[CheckSampleRow]) -> None:
        """Store check history (for baselines after a restart), keeping the newest per target."""
        if not rows:
            return
        await self._samples.add_many(rows)
        untrimmed = self._untrimmed
        for row in rows:
            if row.target not in untrimmed:  # each target's trims at its own turn, not all at once
                untrimmed[row.target] = zlib.crc32(row.target.encode()) % TRIM_EVERY
            untrimmed[row.target] += 1
        for target in [t for t, n in untrimmed.items() if n >= TRIM_EVERY]:
            await self._samples.trim(target)
            del untrimmed[target]

    async def recent_latencies(self, target: str, limit: int = 24) -> list[float]:
        """The latencies of `target`'s newest stored checks (those not flushed yet too), oldest
        first: what its detail plots, also for checks made before the workbench opened."""
        stored = await self._samples.history(target, limit)
        pending = [r for r in self.pending_samples if r.target == target]
        return [r.latency_ms for r in stored + pending if r.latency_ms is not None][-limit:]

    async def recent_latencies_of(
        self, targets: Sequence[str], limit: int = 24
    ) -> dict[str, list[float]]:
        """`recent_latencies` of many targets, a few queries for all of them: the Ops tab
        opening on 5,000 targets asked 5,000 times, one round trip each."""
        found: dict[str, list[float]] = {}
        for start in range(0, len(targets), BASELINE_BATCH):
            batch = targets[start : start + BASELINE_BATCH]
            for name, history in (await self._samples.histories(batch, limit)).items():
                found[name] = [ms for ms, _healthy in history if ms is not None]
        for row in self.pending_samples:
            if row.target in found and row.latency_ms is not None:
                found[row.target].append(row.latency_ms)
        return {name: latencies[-limit:] for name, latencies in found.items()}

    # -- actions ---------------------------------------------------------------------------

    def check_request(self, target: str, situation: str | None = None) -> ActionRequest:
        return ActionRequest(
            action=f"{self.targets[target].kind}_check", target=target, situation=situation
        )

    def _register_checks(self) -> None:
        for kind in CHECK_KINDS:
            self._actions.register(
                ActionSpec(
                    name=f"{kind}_check",
                    risk=RiskLevel.NONE,
                    mutates=False,
                    skill=f"{kind}_check",
                    target_kind=kind,
                    description=f"{kind} check of a target",
                    timeout_s=310,
                ),
                self._run_target_check,
            )
        self._actions.register(
            ActionSpec(
                name="check_url",
                risk=RiskLevel.NONE,
                mutates=False,
                skill="http_check",
                target_kind="http",
                timeout_s=310,
                description="an ad-hoc HTTP check of a URL (status < 400)",
            ),
            self._run_url_check,
        )

    def _register_runbook(self, spec: RunbookSpec) -> None:
        async def handler(request: ActionRequest) -> ActionOutput:
            from agent.ops.runbooks import run_dry_run, run_runbook

            current = self.runbooks.get(spec.name, spec)
            if spec.name in self.secrets.locked:
                return ActionOutput(ok=False, detail=self.secrets.locked[spec.name])
            if request.dry_run:
                return await run_dry_run(current, current.secrets, request.target)
            return await run_runbook(current, current.secrets, request.target)

        self._actions.register(
            ActionSpec(
                name=spec.name,
                risk=spec.level,
                mutates=True,
                skill=RUNBOOK_SKILL,
                target_kind="service",
                timeout_s=spec.timeout_s + 5,
                description=spec.description or f"runbook {spec.name}",
                supports_dry_run=spec.dry_run is not None,
            ),
            handler,
        )

    async def load_baselines(self, targets: list[str]) -> None:
        """Rebuild the baselines of `targets` from their history now, a batch per query: the
        autopilot does this before its first checks, which would otherwise each wait for a
        read (holding a check slot) while the database is busy writing samples."""
        from agent.ops.anomaly import Baseline

        wanted = [t for t in targets if t not in self.baselines]
        for start in range(0, len(wanted), BASELINE_BATCH):
            histories = await self._samples.histories(wanted[start : start + BASELINE_BATCH])
            for name, history in histories.items():
                self.baselines.setdefault(name, Baseline().replay(history))

    async def baseline(self, target: str) -> Baseline:
        """The target's baseline, rebuilt from its stored history the first time it is asked.

        The first checks of many targets come together: those waiting while one history is
        read are read next in one query (up to BASELINE_BATCH), not one round trip each."""
        while (found := self.baselines.get(target)) is None:
            self._unread.add(target)
            async with self._reading:
                if target in self.baselines:
                    break
                from agent.ops.anomaly import Baseline

                self._unread.discard(target)
                batch = [target, *itertools.islice(self._unread, BASELINE_BATCH - 1)]
                self._unread.difference_update(batch)
                histories = await self._samples.histories(batch)
                for name, history in histories.items():
                    self.baselines.setdefault(name, Baseline().replay(history))
        return found if found is not None else self.baselines[target]

    async def _run_target_check(self, request: ActionRequest) -> ActionOutput:
        from agent.ops.checks import run_check, shared_client
        from agent.ops.conditions import parse_all

        if request.target is None:
            return ActionOutput(ok=False, detail="a check needs a target")
        spec = await self.target(request.target)
        baseline = await self.baseline(spec.name)
        timeout, why = adapt_execution(spec.timeout_s, [float(x) for x in baseline.samples])
        if self._http is None and spec.kind == "http":
            self._http = shared_client()
        result = await run_check(
            spec.kind, spec.address, parse_all(spec.conditions), timeout, client=self._http
        )
        context = [
            c.field
            for c in parse_all(spec.context)
            if not (judged := c.evaluate(result.fields)).ok and not judged.missing
        ]
        anomaly = baseline.assess(result.latency_ms, result.healthy)
        baseline.add(result.latency_ms, result.healthy)
        self.pending_samples.append(
            CheckSampleRow(
                target=spec.name,
                ts=self._clock(),
                healthy=int(result.healthy),
                latency_ms=result.latency_ms,
                worker=self.worker,
            )
        )
        return self._output(
            result,
            {
                "target": spec.name,
                "timeout_s": timeout,
                "timeout_why": why,
                # Sustained (k of n samples), not one slow sample: see agent/ops/anomaly.py.
                "slow": anomaly.sustained,
                "outlier": anomaly.slow,
                "anomaly": anomaly.reason,
                # The context conditions this check broke: what the situation is named by.
                "context": context,
                "answered": result.error is None,
            },
        )

    async def _run_url_check(self, request: ActionRequest) -> ActionOutput:
        from agent.ops.checks import http_check

        url = str(request.params.get("url", ""))
        if not url.startswith(("http://", "https://")):
            return ActionOutput(ok=False, detail=f"not an http(s) URL: {url!r}")
        result = await http_check(url, [], 10.0)
        return self._output(result, {"target": url})

    @staticmethod
    def _output(result: Any, extra: dict[str, Any]) -> ActionOutput:
        failed = [c for c in result.conditions if not c.ok]
        if result.error:
            detail = result.error
        elif failed:
            detail = "; ".join(f"{c.condition} (got {c.actual})" for c in failed)
        else:
            latency = f" in {result.latency_ms:.0f} ms" if result.latency_ms is not None else ""
            detail = f"healthy{latency}"
        fields = {k: v for k, v in result.fields.items() if k != "body"}
        return ActionOutput(
            ok=result.healthy,
            detail=detail,
            data={
                "healthy": result.healthy,
                "latency_ms": result.latency_ms,
                "status_code": fields.get("status"),
                "kind": result.kind,
                "conditions": [c.model_dump() for c in result.conditions],
                **extra,
            },
        )
