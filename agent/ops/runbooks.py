"""Running a runbook: an argv command (no shell) or an HTTP request, with a hard timeout.

Secrets are substituted only here, at the last moment, and scrubbed from everything that
comes back (output, errors), so they never reach a log, an episode or the audit chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import time

from agent.ops.runbook_dry_run import dry_run_form, shown_output
from agent.ops.scrub import scrub, scrubbed_head, scrubbed_tail
from agent.ops.targets import CREDENTIAL_NAME, PLACEHOLDER, RunbookSpec
from agent.skills.actions import ActionOutput

OUTPUT_LIMIT = 4_000
#: Characters of the one line a run's detail shows.
DETAIL_LIMIT = 200


def _fill(text: str, target: str | None, secrets: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "target":
            return target or ""
        return secrets[key[len("secret:") :]]

    return PLACEHOLDER.sub(replace, text)


def shown_request(spec: RunbookSpec, target: str | None) -> list[str]:
    """What running `spec` on `target` will do, exactly, as lines a person approves: the argv
    (and environment), or METHOD URL, headers and body; every secret shown as ******."""
    masked = {name: "******" for name in spec.secrets}
    if spec.kind == "command":
        lines = ["run: " + shlex.join(_fill(arg, target, masked) for arg in spec.argv)]
        lines += [f"env: {k}={_fill(v, target, masked)}" for k, v in spec.env.items()]
        return lines
    lines = [f"{spec.method} {_fill(spec.url, target, masked)}"]
    for key, value in spec.headers.items():
        shown = "******" if CREDENTIAL_NAME.search(key) else _fill(value, target, masked)
        lines.append(f"{key}: {shown}")
    if spec.body is not None:
        lines.append("body: " + _fill(spec.body, target, masked))
    return lines


async def run_runbook(
    spec: RunbookSpec, secrets: dict[str, str], target: str | None, timeout_s: float | None = None
) -> ActionOutput:
    timeout = timeout_s or spec.timeout_s
    started = time.perf_counter()
    try:
        if spec.kind == "command":
            output = await _run_command(spec, secrets, target, limit_s=timeout)
        else:
            output = await _run_http(spec, secrets, target, limit_s=timeout)
    except Exception as exc:
        detail = scrubbed_head(f"{type(exc).__name__}: {exc}", secrets, DETAIL_LIMIT)
        output = ActionOutput(ok=False, detail=f"failed: {detail}")
    output.data["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    output.detail = scrub(output.detail, secrets)
    for key in ("stdout", "stderr", "body"):
        if isinstance(output.data.get(key), str):
            output.data[key] = scrub(output.data[key], secrets)
    return output


async def run_dry_run(
    spec: RunbookSpec, secrets: dict[str, str], target: str | None
) -> ActionOutput:
    """Run `spec`'s dry-run form (argv or request, secrets and scrubbing as for a real run);
    `data["output"]` is what it printed, scrubbed and cut to what an approval shows. A runbook
    without one fails: nothing may stand in for a dry run that was asked for."""
    if spec.dry_run is None:
        return ActionOutput(ok=False, detail=f"runbook {spec.name!r} has no dry-run form")
    output = await run_runbook(dry_run_form(spec), secrets, target)
    output.data["output"] = shown_output(output.data)
    return output


async def _run_command(
    spec: RunbookSpec, secrets: dict[str, str], target: str | None, limit_s: float
) -> ActionOutput:
    if spec.argv_secret_refusal:  # stored before the refusal at `add_runbook`
        return ActionOutput(ok=False, detail=spec.argv_secret_refusal)
    argv = [_fill(arg, target, secrets) for arg in spec.argv]
    env = {**os.environ, **{k: _fill(v, target, secrets) for k, v in spec.env.items()}}
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        return ActionOutput(ok=False, detail=f"cannot start {spec.argv[0]!r}: {exc.strerror}")
    try:
        async with asyncio.timeout(limit_s):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)  # the whole group: children of the command too
        await process.wait()
        return ActionOutput(
            ok=False,
            detail=f"killed after {limit_s:g} s (timeout)",
            data={"timed_out": True, "exit_code": process.returncode},
        )
    # Scrubbed before they are cut: a cut first would leave half a secret where no value matches.
    out = scrubbed_tail(stdout.decode(errors="replace"), secrets, OUTPUT_LIMIT)
    err = scrubbed_tail(stderr.decode(errors="replace"), secrets, OUTPUT_LIMIT)
    code = process.returncode
    last = (err or out).strip().splitlines()[-1:] or [""]
    detail = f"exit {code}" + (f": {last[0][:DETAIL_LIMIT]}" if last[0] else "")
    return ActionOutput(
        ok=code == 0, detail=detail, data={"exit_code": code, "stdout": out, "stderr": err}
    )


async def _run_http(
    spec: RunbookSpec, secrets: dict[str, str], target: str | None, limit_s: float
) -> ActionOutput:
    import httpx

    from agent.ops.checks import verifying_context

    url = _fill(spec.url, target, secrets)
    headers = {k: _fill(v, target, secrets) for k, v in spec.headers.items()}
    body = _fill(spec.body, target, secrets) if spec.body is not None else None
    try:
        # The shared verifying context: building one loads the CA bundle (~100 ms, blocking).
        async with httpx.AsyncClient(timeout=limit_s, verify=verifying_context()) as client:
            response = await client.request(spec.method, url, headers=headers, content=body)
    except httpx.TimeoutException:
        return ActionOutput(
            ok=False, detail=f"no answer within {limit_s:g} s", data={"timed_out": True}
        )
    except httpx.HTTPError as exc:
        return ActionOutput(ok=False, detail=f"request failed: {type(exc).__name__}")
    text = scrubbed_tail(response.text, secrets, OUTPUT_LIMIT)
    return ActionOutput(
        ok=response.status_code < 400,
        detail=f"HTTP {response.status_code}",
        data={"status_code": response.status_code, "body": text},
    )
