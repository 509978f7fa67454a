"""`webops target ...`, `webops runbook ...`: what to watch and which remedies are allowed."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from webops_tui.cli.output import console, emit_json, print_rows
from webops_tui.cli.runtime import with_kernel
from widgets.literal_text import assemble

if TYPE_CHECKING:
    from agent.core.kernel import Kernel

targets = typer.Typer(help="Define the web services the agents watch.", no_args_is_help=True)
runbooks = typer.Typer(help="Define the remedies agents may run.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]


def _pairs(values: list[str], what: str) -> dict[str, str]:
    from agent.errors import InvalidInput

    pairs = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{what} {value!r} must look like NAME=VALUE")
        if what == "--secret":
            rest = _secret_value(key, rest)
        pairs[key] = rest
    return pairs


def _secret_value(key: str, given: str) -> str:
    """A secret from the environment (`env:VAR`) or stdin (`-`), never from argv: the command
    line of a running process is in `ps` for every local user."""
    import sys

    from agent.errors import InvalidInput

    if given.startswith("env:"):
        var = given[4:]
        if var not in os.environ:
            raise InvalidInput(f"--secret {key}: environment variable {var} is not set")
        return os.environ[var]
    if given == "-":
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise InvalidInput(f"--secret {key}=-: nothing on stdin")
        return value
    raise InvalidInput(
        f"--secret {key}: a value on the command line is visible to every local user in `ps`; "
        f"use {key}=env:VAR (an environment variable) or {key}=- (one line on stdin)"
    )


@targets.command("add")
def target_add(
    ctx: typer.Context,
    name: str,
    kind: Annotated[str, typer.Option("--kind", "-k", help="http, tcp, dns or tls.")] = "http",
    address: Annotated[
        str, typer.Option("--address", "-a", help="URL (http), host:port (tcp, tls), or name.")
    ] = "",
    condition: Annotated[
        list[str] | None,
        typer.Option("--condition", "-c", help='e.g. "status == 200"; repeatable.'),
    ] = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between checks.")] = 30,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds a check may take.")] = 5,
    criticality: Annotated[
        str, typer.Option("--criticality", help="low, medium, high or critical.")
    ] = "medium",
    failure_threshold: Annotated[
        int,
        typer.Option(
            "--failure-threshold", help="Consecutive failing checks before an incident opens."
        ),
    ] = 2,
    success_threshold: Annotated[
        int,
        typer.Option(
            "--success-threshold", help="Consecutive passing checks before it is resolved."
        ),
    ] = 1,
    retry_interval: Annotated[
        float | None,
        typer.Option(
            "--retry-interval",
            help="Seconds to the next check after a failing one, until it is confirmed "
            "(default: the interval).",
        ),
    ] = None,
    context: Annotated[
        list[str] | None,
        typer.Option(
            "--context",
            "-x",
            help='What a healthy service reports, e.g. "json.disk_pct < 90"; the ones a '
            "failing check breaks name its incident's situation. Repeatable.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a target. Example: webops target add shop --address https://shop.example/health
    -c "status == 200" -c "latency_ms < 300" --criticality high"""
    from agent.ops.targets import target_spec

    spec = target_spec(
        name=name,
        kind=kind,
        address=address,
        conditions=condition or [],
        interval_s=interval,
        timeout_s=timeout,
        criticality=criticality,
        failure_threshold=failure_threshold,
        success_threshold=success_threshold,
        retry_interval_s=retry_interval,
        context=context or [],
    )
    with_kernel(ctx, lambda k: k.ops.add_target(spec), creates=True)
    if as_json:
        emit_json(spec)
    else:
        console().print(
            assemble("added target ", (spec.name, "bold"), f" ({spec.kind} {spec.address})")
        )


@targets.command("list")
def target_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the targets."""

    async def load(kernel: Kernel) -> list[dict[str, Any]]:
        from webops_tui.cli.silences import silenced

        specs = sorted(kernel.ops.targets.values(), key=lambda t: t.name)
        return [s.model_dump(mode="json") | await silenced(kernel, s.name) for s in specs]

    found = with_kernel(ctx, load)
    if as_json:
        emit_json(found)
        return
    rows = [
        s | {"conditions": "; ".join(s["conditions"]), "silenced_until": s["silenced_until"] or ""}
        for s in found
    ]
    print_rows(
        rows,
        ["name", "kind", "address", "criticality", "interval_s", "conditions", "silenced_until"],
        "no targets yet: webops target add NAME --address URL",
    )


@targets.command("remove")
def target_remove(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """Remove a target."""
    spec = with_kernel(ctx, lambda k: k.ops.remove_target(name))
    if as_json:
        emit_json(spec)
    else:
        console().print(assemble("removed target ", (spec.name, "bold")))


def _import(ctx: typer.Context, file: Path, as_json: bool) -> None:
    from agent.errors import InvalidInput

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{file} is not UTF-8 text") from None
    counts = with_kernel(ctx, lambda k: k.ops.import_toml(text, str(file)), creates=True)
    if as_json:
        emit_json({"targets": counts[0], "runbooks": counts[1]})
    else:
        console().print(f"imported {counts[0]} target(s) and {counts[1]} runbook(s)")


@targets.command("import")
def target_import(ctx: typer.Context, file: Path, as_json: JsonFlag = False) -> None:
    """Add or replace targets (and runbooks) from a TOML file with [[target]] tables."""
    _import(ctx, file, as_json)


@runbooks.command("add")
def runbook_add(
    ctx: typer.Context,
    name: str,
    command: Annotated[
        str | None,
        typer.Option("--command", help="The argv, split like a shell would (run without one)."),
    ] = None,
    http: Annotated[
        tuple[str, str] | None,
        typer.Option("--http", help="METHOD URL of an HTTP request instead of a command."),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", metavar="NAME=VALUE", help="Repeatable.")
    ] = None,
    body: Annotated[str | None, typer.Option("--body", help="Request body.")] = None,
    env: Annotated[list[str] | None, typer.Option("--env", help="NAME=VALUE.")] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(
            "--secret",
            help="NAME=env:VAR or NAME=- (one line from stdin); stored encrypted, used as "
            "{secret:NAME}. A value on the command line is refused (ps shows it).",
        ),
    ] = None,
    risk: Annotated[
        str, typer.Option("--risk", help="none, low, medium, high or critical.")
    ] = "medium",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds before it is killed.")] = 30,
    verify: Annotated[
        str | None, typer.Option("--verify", help="Target whose check verifies the fix.")
    ] = None,
    description: Annotated[str, typer.Option("--description")] = "",
    dry_run_command: Annotated[
        str | None,
        typer.Option(
            "--dry-run-command",
            help="With --command: the argv that shows what it would do (its dry run), split "
            'like --command, e.g. "kubectl rollout restart deploy/x --dry-run=server".',
        ),
    ] = None,
    dry_run_url: Annotated[
        str | None,
        typer.Option("--dry-run-url", help="With --http: the URL its dry run requests."),
    ] = None,
    dry_run_method: Annotated[
        str | None,
        typer.Option("--dry-run-method", help="The dry run's method (default: the runbook's)."),
    ] = None,
    dry_run_header: Annotated[
        list[str] | None,
        typer.Option(
            "--dry-run-header",
            metavar="NAME=VALUE",
            help="Repeatable: added to the runbook's headers.",
        ),
    ] = None,
    dry_run_body: Annotated[
        str | None, typer.Option("--dry-run-body", help="The dry run's body (default: --body).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a runbook. Example: webops runbook add restart-api --command "systemctl restart api"
    --dry-run-command "systemctl --dry-run restart api" --risk high --verify api"""
    from agent.errors import InvalidInput
    from agent.ops.targets import runbook_spec

    if (command is None) == (http is None):
        raise InvalidInput("give exactly one of --command or --http METHOD URL")
    fields: dict[str, Any] = {
        "name": name,
        "risk": risk,
        "timeout_s": timeout,
        "verify_target": verify,
        "description": description,
        "secrets": _pairs(secret or [], "--secret"),
        "env": _pairs(env or [], "--env"),
    }
    if command is not None:
        try:
            fields |= {"kind": "command", "argv": shlex.split(command)}
        except ValueError as exc:
            raise InvalidInput(f"--command: {exc}") from None
    else:
        assert http is not None
        fields |= {
            "kind": "http",
            "method": http[0].upper(),
            "url": http[1],
            "headers": _pairs(header or [], "--header"),
            "body": body,
        }
    dry_request = {
        "method": dry_run_method.upper() if dry_run_method else None,
        "headers": _pairs(dry_run_header or [], "--dry-run-header"),
        "body": dry_run_body,
    }
    if dry_run_command is not None:
        try:
            fields["dry_run"] = {"argv": shlex.split(dry_run_command)}
        except ValueError as exc:
            raise InvalidInput(f"--dry-run-command: {exc}") from None
        if dry_run_url is not None or any(dry_request.values()):
            raise InvalidInput("--dry-run-command does not go with --dry-run-url/-method/-header")
    elif dry_run_url is not None:
        fields["dry_run"] = {"url": dry_run_url} | {k: v for k, v in dry_request.items() if v}
    elif any(dry_request.values()):
        raise InvalidInput("--dry-run-method/-header/-body need --dry-run-url")
    spec = runbook_spec(**fields)
    with_kernel(ctx, lambda k: k.ops.add_runbook(spec), creates=True)
    if as_json:
        emit_json(spec.public())
    else:
        console().print(assemble("added runbook ", (spec.name, "bold"), f" (risk {spec.risk})"))


@runbooks.command("list")
def runbook_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the runbooks (secret values are never shown)."""

    async def load(kernel: Kernel) -> list[dict[str, Any]]:
        return [
            r.public() | {"locked": kernel.ops.secrets.locked.get(r.name)}
            for r in sorted(kernel.ops.runbooks.values(), key=lambda r: r.name)
        ]

    rows = with_kernel(ctx, load)
    if as_json:
        emit_json(rows)
        return
    shown = [
        r
        | {
            "what": " ".join(r["argv"]) if r["kind"] == "command" else f"{r['method']} {r['url']}",
            "secrets": ", ".join(r["secrets"]) + (" (locked)" if r["locked"] else ""),
            "dry run": _dry_run_shown(r["dry_run"]),
        }
        for r in rows
    ]
    print_rows(
        shown,
        ["name", "kind", "what", "risk", "timeout_s", "verify_target", "secrets", "dry run"],
        "no runbooks yet: webops runbook add NAME --command ...",
    )
    for row in rows:
        if row["locked"]:
            console().print(assemble(row["locked"]))


def _dry_run_shown(dry_run: dict[str, Any] | None) -> str:
    """A runbook's dry-run form in one cell: its argv or its request; "-" when it has none."""
    if not dry_run:
        return "-"
    if dry_run["argv"]:
        return shlex.join(dry_run["argv"])
    return f"{dry_run['method'] or '(same method)'} {dry_run['url']}"


@runbooks.command("remove")
def runbook_remove(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """Remove a runbook."""
    spec = with_kernel(ctx, lambda k: k.ops.remove_runbook(name))
    if as_json:
        emit_json(spec.public())
    else:
        console().print(assemble("removed runbook ", (spec.name, "bold")))


@runbooks.command("import")
def runbook_import(ctx: typer.Context, file: Path, as_json: JsonFlag = False) -> None:
    """Add or replace runbooks (and targets) from a TOML file with [[runbook]] tables."""
    _import(ctx, file, as_json)
