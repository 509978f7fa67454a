"""A runbook's dry-run form: what it runs to show what the real run would do, without doing it.

`kubectl rollout restart deploy/x --dry-run=server` or `POST /deploy?dry_run=1`: operators
already have these, and a risky remedy is safer when its dry run runs first (the risk
mitigation "dry run", agent/decision/risk.py) and a person approving it sees what it printed.

A command runbook's dry run is another argv (run with the runbook's environment); an HTTP
runbook's is another request whose method, headers and body default to the runbook's own
(headers given here are added to, or replace, those). Placeholders and secrets are the
runbook's; headers that carry credentials are sealed as the runbook's are
(`RunbookSpec._seal_credentials`). Stored inside the runbook's JSON `spec` column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from agent.ops import addresses

if TYPE_CHECKING:
    from agent.ops.targets import RunbookSpec

#: Characters of a dry run's output an approval keeps: its tail, scrubbed before it is cut.
OUTPUT_LIMIT = 2_000
#: The key the sealed secrets of a dry run's credential headers are named with.
HEADER_SECRET_PREFIX = "dry_run_header_"


class DryRunSpec(BaseModel):
    """`dry_run = { argv = [...] }` or `dry_run = { url = "...", method = "POST" }`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    argv: list[str] = Field(default_factory=list)
    method: str | None = None
    url: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None

    def texts(self) -> list[str]:
        """Everything that may hold a placeholder."""
        return [*self.argv, self.url, *self.headers.values(), self.body or ""]

    def check_fits(self, kind: str, url_template: str) -> None:
        """A `ValueError` when this form does not fit a runbook of `kind`: a command runbook's
        dry run is an argv, an HTTP runbook's a request with a URL (`url_template`: the URL
        with its placeholders filled by a stand-in value)."""
        if kind == "command":
            if self.url or self.method or self.headers or self.body is not None:
                raise ValueError("a command runbook's dry run is an argv, not a request")
            if not self.argv:
                raise ValueError("a command runbook's dry run needs an argv")
            return
        if self.argv:
            raise ValueError("an http runbook's dry run is a request (url), not an argv")
        if not self.url:
            raise ValueError("an http runbook's dry run needs a url")
        addresses.http_url(url_template, "a dry run's URL")
        if self.method is not None:
            addresses.method(self.method)
        for key, value in self.headers.items():
            addresses.header(key, value)


def dry_run_form(spec: RunbookSpec) -> RunbookSpec:
    """The runbook that runs `spec`'s dry run: the same name, kind, environment, secrets and
    timeout; its argv, or its request with the runbook's method, headers and body where it
    gives none. `spec` must have a dry run."""
    dry = spec.dry_run
    assert dry is not None
    if spec.kind == "command":
        update: dict[str, object] = {"argv": list(dry.argv)}
    else:
        update = {
            "url": dry.url,
            "method": dry.method or spec.method,
            "headers": {**spec.headers, **dry.headers},
            "body": dry.body if dry.body is not None else spec.body,
        }
    return spec.model_copy(update={**update, "dry_run": None})


def shown_output(data: dict[str, object]) -> str:
    """What a dry run printed, as one text: stdout then stderr, or the HTTP body. Already
    scrubbed by the run (agent/ops/runbooks.py), so cutting it to `OUTPUT_LIMIT` is safe."""
    parts = [data.get(key) for key in ("stdout", "stderr", "body")]
    text = "\n".join(p.rstrip("\n") for p in parts if isinstance(p, str) and p.strip())
    return text[-OUTPUT_LIMIT:]
