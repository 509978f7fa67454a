"""Targets (what to watch) and runbooks (what an operator allows as a remedy), as validated
definitions: from the CLI, from TOML files, and as stored.

A runbook is an argv command run without a shell, or an HTTP request. Placeholders `{target}`
(the target's name, which is validated) and `{secret:NAME}` (a secret stored encrypted) are
filled in when it runs; nothing from chat text ever reaches a command line.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent.decision.risk import Criticality, CriticalityName, RiskLevel, RiskName
from agent.errors import InvalidInput
from agent.ops import addresses
from agent.ops.runbook_dry_run import HEADER_SECRET_PREFIX, DryRunSpec
from agent.ops.toml_documents import parse_toml, tables

#: How a target is checked (each kind is a check action, `<kind>_check`).
TargetKind = Literal["http", "tcp", "dns", "tls"]
#: What a runbook runs: an argv command (no shell) or an HTTP request.
RunbookKind = Literal["command", "http"]

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
CHECK_KINDS: tuple[TargetKind, ...] = ("http", "tcp", "dns", "tls")
#: Consecutive failing (passing) checks that open (resolve) an incident, unless a target says.
DEFAULT_FAILURE_THRESHOLD = 2
DEFAULT_SUCCESS_THRESHOLD = 1
#: Bounds of a check's interval and timeout, in seconds: at most a hundred checks a second, at
#: least one a week. (The demo world retries every 0.05 s.)
MIN_INTERVAL_S = 0.01
MAX_INTERVAL_S = 7 * 24 * 3600.0
PLACEHOLDER = re.compile(r"\{(target|secret:[A-Za-z_][A-Za-z0-9_]*)\}")
#: Names of environment variables and headers whose values are credentials even when written
#: without a {secret:NAME}: never shown, and (environment) stored encrypted like secrets.
CREDENTIAL_NAME = re.compile(r"auth|cookie|token|key|secret|passw|pwd|credential", re.IGNORECASE)


def _name(value: str, what: str) -> str:
    if not NAME.fullmatch(value):
        raise ValueError(
            f"invalid {what} name {value!r}: use letters, digits, '.', '-' or '_', "
            "starting with a letter"
        )
    return value


class TargetSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: TargetKind
    address: str = Field(min_length=1)
    #: Finite and sane: `inf` made `target list --json` print `Infinity` (not JSON) and 1e-320
    #: meant ~20 checks a second (issue 18).
    interval_s: float = Field(30.0, ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S, allow_inf_nan=False)
    timeout_s: float = Field(5.0, ge=MIN_INTERVAL_S, le=300, allow_inf_nan=False)
    criticality: CriticalityName = "medium"
    conditions: list[str] = Field(default_factory=list)
    #: Consecutive failing checks before an incident opens (Gatus's `failure-threshold`): one
    #: slow or refused check is a blip, not a fault.
    failure_threshold: int = Field(DEFAULT_FAILURE_THRESHOLD, ge=1, le=100)
    #: Consecutive passing checks before an open incident counts as resolved.
    success_threshold: int = Field(DEFAULT_SUCCESS_THRESHOLD, ge=1, le=100)
    #: Seconds to the next check after a failing one, until the fault is confirmed or gone
    #: (Uptime Kuma's retry interval): a fault is confirmed in seconds, not intervals. None:
    #: the usual interval.
    retry_interval_s: float | None = Field(
        None, ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S, allow_inf_nan=False
    )
    #: Conditions that describe a healthy service's context without judging its health, e.g.
    #: `json.version == "1.4.2"` or `json.disk_pct < 90`. Those a failing check breaks become part
    #: of the incident's situation ("status=500 & json.disk_pct"), so agents can tell apart
    #: faults that look alike and learn a remedy for each.
    context: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return _name(value, "target")

    @field_validator("conditions", "context")
    @classmethod
    def _valid_conditions(cls, value: list[str]) -> list[str]:
        from agent.ops.conditions import ConditionError, parse_all

        try:
            parse_all(value)
        except ConditionError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _address_fits_kind(self) -> TargetSpec:
        if self.kind == "http":
            addresses.http_url(self.address, "an http target's address")
        elif self.kind in ("tcp", "tls"):
            addresses.host_port(self.address, f"a {self.kind} target's address")
        else:
            addresses.host_name(self.address, "a dns target's address")
        if self.retry_interval_s is not None and self.retry_interval_s < MIN_INTERVAL_S:
            raise ValueError(f"retry_interval_s must be at least {MIN_INTERVAL_S} s")
        return self

    @property
    def level(self) -> Criticality:
        return Criticality[self.criticality.upper()]

    @property
    def retry_s(self) -> float:
        """Seconds between checks while a fault is suspected but not yet confirmed."""
        return min(self.interval_s, self.retry_interval_s or self.interval_s)


class RunbookSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: RunbookKind
    argv: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    method: str = "POST"
    url: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    #: name -> value; stored encrypted, used through {secret:NAME}, never printed.
    secrets: dict[str, str] = Field(default_factory=dict, repr=False)
    risk: RiskName = "medium"
    timeout_s: float = Field(30.0, gt=0, le=3600, allow_inf_nan=False)
    verify_target: str | None = None
    description: str = ""
    #: What runs first to show what it would do (agent/ops/runbook_dry_run.py); None: no dry run.
    dry_run: DryRunSpec | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return _name(value, "runbook")

    @model_validator(mode="before")
    @classmethod
    def _seal_credentials(cls, data: Any) -> Any:
        """`env = {API_TOKEN = "abc"}` becomes `{API_TOKEN = "{secret:env_API_TOKEN}"}` with the
        value a secret: stored encrypted and scrubbed like one; a header such as
        `Authorization: Bearer abc` likewise becomes `{secret:header_Authorization}` (it was
        stored in plain text, issue 18). Idempotent (a stored runbook already holds the
        placeholder), and values with placeholders are left as written."""
        if not isinstance(data, dict):
            return data
        sealed = dict(data)
        secrets = data.get("secrets")
        if not isinstance(secrets or {}, dict):
            return data
        secrets = dict(secrets or {})
        for field, prefix in (("env", "env_"), ("headers", "header_")):
            values = data.get(field)
            if isinstance(values, dict):
                sealed[field] = _sealed(values, prefix, secrets)
        dry_run = data.get("dry_run")
        if isinstance(dry_run, dict) and isinstance(dry_run.get("headers"), dict):
            headers = _sealed(dry_run["headers"], HEADER_SECRET_PREFIX, secrets)
            sealed["dry_run"] = {**dry_run, "headers": headers}
        if secrets or data.get("secrets") is not None:
            sealed["secrets"] = secrets
        return sealed

    @model_validator(mode="after")
    def _complete(self) -> RunbookSpec:
        if self.kind == "command" and not self.argv:
            raise ValueError("a command runbook needs a command (argv)")
        if self.kind == "http":
            # The template's shape: a placeholder may stand for a host or a port (the values
            # filled in at run time are checked then, and their errors scrubbed).
            addresses.http_url(PLACEHOLDER.sub("1", self.url), "an http runbook's URL")
            addresses.method(self.method)
            for key, value in self.headers.items():
                addresses.header(key, value)
        texts = [*self.argv, *self.env.values(), self.url, *self.headers.values(), self.body or ""]
        if self.dry_run is not None:
            self.dry_run.check_fits(self.kind, PLACEHOLDER.sub("1", self.dry_run.url))
            texts += self.dry_run.texts()
        for text in texts:
            for match in PLACEHOLDER.finditer(text):
                key = match.group(1)
                if key.startswith("secret:") and key[7:] not in self.secrets:
                    raise ValueError(f"{{{key}}} is used but no secret {key[7:]!r} is defined")
        return self

    @property
    def level(self) -> RiskLevel:
        return RiskLevel.parse(self.risk)

    @property
    def argv_secret_refusal(self) -> str | None:
        """Why this runbook must not run (or be added): a secret in its argv is in `ps` for every
        local user while it runs. None when its argv holds none."""
        argv = [*self.argv, *(self.dry_run.argv if self.dry_run else [])]
        if not any("{secret:" in arg for arg in argv):
            return None
        return (
            f"runbook {self.name!r}: a secret in the command line is visible to every local "
            "user in `ps` while it runs; pass it in the environment (--env NAME={secret:X}, "
            "`env` in TOML) instead"
        )

    def public(self) -> dict[str, Any]:
        """The definition as it may be shown: secret values masked."""
        data = self.model_dump(exclude={"secrets"})
        data["secrets"] = {key: "******" for key in self.secrets}
        return data


def _sealed(values: dict[Any, Any], prefix: str, secrets: dict[str, Any]) -> dict[Any, Any]:
    """`values` with each credential (by its name, see `CREDENTIAL_NAME`) written without a
    placeholder moved into `secrets` (named `prefix` + its name) and replaced by one."""
    values = dict(values)
    for name, value in values.items():
        if not isinstance(name, str) or not isinstance(value, str) or not value:
            continue
        if CREDENTIAL_NAME.search(name) and not PLACEHOLDER.search(value):
            secret = base = prefix + re.sub(r"\W", "_", name)
            n = 1
            while secrets.get(secret, value) != value:  # X-Key and X_Key: two secrets
                n += 1
                secret = f"{base}_{n}"
            secrets[secret] = value
            values[name] = f"{{secret:{secret}}}"
    return values


def _validation_message(exc: ValidationError, where: str) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "definition"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {field}: {message}"


def target_spec(where: str = "target", **fields: Any) -> TargetSpec:
    try:
        return TargetSpec(**fields)
    except ValidationError as exc:
        raise InvalidInput(_validation_message(exc, where)) from None


def runbook_spec(where: str = "runbook", **fields: Any) -> RunbookSpec:
    try:
        return RunbookSpec(**fields)
    except ValidationError as exc:
        raise InvalidInput(_validation_message(exc, where)) from None


def load_toml(text: str, source: str = "file") -> tuple[list[TargetSpec], list[RunbookSpec]]:
    """`[[target]]` and `[[runbook]]` tables from a TOML document; all or nothing."""
    document = parse_toml(text, source)
    unknown = set(document) - {"target", "runbook"}
    if unknown:
        raise InvalidInput(
            f"{source}: unknown table {sorted(unknown)[0]!r}; use [[target]] and [[runbook]]"
        )
    targets = [
        target_spec(f"{source}: target {i + 1}", **t)
        for i, t in enumerate(tables(document, "target", source))
    ]
    runbooks = [
        runbook_spec(f"{source}: runbook {i + 1}", **r)
        for i, r in enumerate(tables(document, "runbook", source))
    ]
    for kind, items in (("target", targets), ("runbook", runbooks)):
        counts = Counter(item.name for item in items)  # list.count was quadratic at 5,000
        duplicate = next((n for n, times in counts.items() if times > 1), None)
        if duplicate:
            raise InvalidInput(f"{source}: {kind} {duplicate!r} is defined twice")
    return targets, runbooks
