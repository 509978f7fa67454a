"""Targets and runbooks between their stored rows and their specs, and what the audit says.

The one place rows become specs (their text columns, such as kind and criticality, are
validated into the spec's `Literal` types here) and specs become rows, so the service that
stores them holds the rules of storing, not the columns.
"""

from __future__ import annotations

import json
from typing import Any

from agent.ops.targets import RunbookSpec, TargetSpec
from storage.tables import RunbookRow, TargetRow

#: A runbook's fields with columns of their own; the rest is the row's JSON `spec`.
_RUNBOOK_COLUMNS = {"secrets", "name", "kind", "risk", "timeout_s", "verify_target", "description"}


def target_of(row: TargetRow) -> TargetSpec:
    """The stored row as a spec (a `ValueError` if a stricter rule now refuses it)."""
    return TargetSpec.model_validate(
        {
            "name": row.name,
            "kind": row.kind,
            "address": row.address,
            "interval_s": row.interval_s,
            "timeout_s": row.timeout_s,
            "criticality": row.criticality,
            "conditions": json.loads(row.conditions),
            "failure_threshold": row.failure_threshold,
            "success_threshold": row.success_threshold,
            "retry_interval_s": row.retry_interval_s,
            "context": json.loads(row.context),
        }
    )


def target_row(spec: TargetSpec, now: float) -> TargetRow:
    return TargetRow(
        name=spec.name,
        kind=spec.kind,
        address=spec.address,
        interval_s=spec.interval_s,
        timeout_s=spec.timeout_s,
        criticality=spec.criticality,
        conditions=json.dumps(spec.conditions),
        failure_threshold=spec.failure_threshold,
        success_threshold=spec.success_threshold,
        retry_interval_s=spec.retry_interval_s,
        context=json.dumps(spec.context),
        created_at=now,
        updated_at=now,
    )


def runbook_of(row: RunbookRow, secrets: dict[str, str]) -> RunbookSpec:
    """The stored row as a spec, with its secrets as opened (a `ValueError` if refused)."""
    return RunbookSpec.model_validate(
        {
            "name": row.name,
            "kind": row.kind,
            "risk": row.risk,
            "timeout_s": row.timeout_s,
            "verify_target": row.verify_target,
            "description": row.description,
            "secrets": secrets,
            **json.loads(row.spec),
        }
    )


def runbook_row(spec: RunbookSpec, sealed_secrets: str, now: float) -> RunbookRow:
    return RunbookRow(
        name=spec.name,
        kind=spec.kind,
        spec=json.dumps(spec.model_dump(exclude=_RUNBOOK_COLUMNS)),
        secrets=sealed_secrets,
        risk=spec.risk,
        timeout_s=spec.timeout_s,
        verify_target=spec.verify_target,
        description=spec.description,
        created_at=now,
        updated_at=now,
    )


def target_detail(spec: TargetSpec, replaced: bool) -> dict[str, Any]:
    """What a target is, for the audit."""
    return {"kind": spec.kind, "address": spec.address, "replaced": replaced}


def runbook_detail(spec: RunbookSpec, replaced: bool) -> dict[str, Any]:
    """What a runbook does, for the audit: its argv or its method and URL (never env,
    headers or secrets, which may carry credentials)."""
    does: dict[str, Any] = (
        {"argv": spec.argv} if spec.kind == "command" else {"method": spec.method, "url": spec.url}
    )
    if spec.dry_run is not None:
        dry = spec.dry_run
        does["dry_run"] = (
            dry.argv if spec.kind == "command" else f"{dry.method or spec.method} {dry.url}"
        )
    return {"kind": spec.kind, "risk": spec.risk, **does, "replaced": replaced}


def first_line(exc: ValueError) -> str:
    """A validation error in one line: what is wrong with which field."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "definition"
        return f"{where}: {first.get('msg', exc)}"
    return str(exc).splitlines()[0]
