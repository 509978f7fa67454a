"""Every `webops` command by name: where it lives and the line `webops --help` shows for it.

Building all ~50 typer commands imported every command module (and through them pydantic's
adapters and the agent's views) before `webops status` could read a row: ~120 ms of a command
that should answer in Python's own start-up time. `lazy_group.LazyGroup` lists these names
and imports only the module of the command asked for. The help lines are the first paragraph
of each command's own help; `tests/test_cli_lazy.py` checks them against the real commands,
so a changed docstring fails a test instead of drifting from `webops --help`.
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    """A command's module, the attribute there (a typer function or a `typer.Typer` group),
    and the first paragraph of its help, as typer makes it from the docstring."""

    module: str
    attribute: str
    help: str


_CLI = "webops_tui.cli"

#: In `webops --help`'s order: typer listed the single commands first, then the groups.
COMMANDS: dict[str, Entry] = {
    "status": Entry(
        f"{_CLI}.status",
        "status",
        "Show an agent's state, personality, emotions, mood and resources.",
    ),
    "team": Entry(
        f"{_CLI}.team",
        "team",
        "Each agent's trust in and liking for each teammate (and the operators it heard from).",
    ),
    "memory": Entry(
        f"{_CLI}.memory",
        "memory",
        "Show an agent's memories: recent first, or the most relevant to --search.",
    ),
    "chat": Entry(
        f"{_CLI}.chat",
        "chat",
        'Talk to an agent: "how are you feeling?", "check shop", "run restart-api on api", '
        '"why did you do that?", "what do you remember about shop?", "approve 3", "help".',
    ),
    "skills": Entry(
        f"{_CLI}.actions",
        "skills",
        "An agent's skills: proficiency, level, practice, and whether it acts on its own.",
    ),
    "task": Entry(
        f"{_CLI}.actions",
        "task",
        "Give an agent a task; exit 1 if it failed (a failed check, say).",
    ),
    "audit": Entry(
        f"{_CLI}.actions",
        "audit",
        "Show the audit log (newest first), print its head, or verify that nobody altered it.",
    ),
    "run": Entry(
        f"{_CLI}.autonomy",
        "run",
        "Watch the targets, open incidents, let the team handle them; Ctrl-C stops cleanly.",
    ),
    "workers": Entry(
        f"{_CLI}.workers",
        "workers",
        "Workers sharing the targets (webops run --worker): live or not, last seen, targets "
        "leased.",
    ),
    "demo": Entry(
        f"{_CLI}.autonomy",
        "demo",
        "Start real services on 127.0.0.1 with injected faults and a team that learns to fix them.",
    ),
    "incidents": Entry(
        f"{_CLI}.incidents",
        "incidents",
        "Incidents being worked (open or awaiting approval), newest first; --all adds history.",
    ),
    "serve": Entry(
        f"{_CLI}.serve",
        "serve",
        "Serve the REST API: the CLI's JSON over HTTP, bearer tokens with roles, live events.",
    ),
    "mcp": Entry(
        f"{_CLI}.mcp_command",
        "mcp",
        "Serve MCP on stdio: let an MCP client (a model) read and ask the agents.",
    ),
    "prune": Entry(
        f"{_CLI}.prune",
        "prune",
        "Delete episodes, messages, check samples, closed incidents and sent or failed "
        "notifications older than the config's [retention] policy allows (days per kind; a "
        "kind not named is kept, but notifications 30 days).",
    ),
    "apply": Entry(
        f"{_CLI}.apply",
        "apply",
        "Make agents, targets, runbooks, notification routes, maintenance windows and named "
        "silences match an ops document ([[agent]], [[target]], [[runbook]], [[notify]], "
        "[[maintenance]], [[silence]] tables); applying it again changes nothing.",
    ),
    "tui": Entry(
        f"{_CLI}.workbench",
        "tui",
        "Open the workbench (the same as running webops with no command).",
    ),
    "agent": Entry(
        f"{_CLI}.agents",
        "app",
        "Create, list, show and delete agents; reset their traits.",
    ),
    "approvals": Entry(
        f"{_CLI}.actions",
        "approvals_app",
        "List pending approvals, show one, or approve / deny one by id.",
    ),
    "target": Entry(f"{_CLI}.ops", "targets", "Define the web services the agents watch."),
    "runbook": Entry(f"{_CLI}.ops", "runbooks", "Define the remedies agents may run."),
    "incident": Entry(
        f"{_CLI}.incidents",
        "app",
        "What incidents the team handled: the checks that confirmed each, each remedy's credit.",
    ),
    "secrets": Entry(f"{_CLI}.secrets", "app", "The key that encrypts runbook secrets."),
    "token": Entry(f"{_CLI}.tokens", "app", "Create, list and revoke REST API tokens."),
    "export": Entry(f"{_CLI}.export", "app", "Export records as JSON to share or archive."),
    "silence": Entry(
        f"{_CLI}.silences",
        "silence_app",
        "Silence targets for a while: checks go on and are recorded, but no incident opens "
        "and no remedy runs.",
    ),
    "maintenance": Entry(
        f"{_CLI}.silences",
        "maintenance_app",
        "Recurring maintenance windows: targets are silenced from each time a cron expression "
        "fires (UTC), for a duration.",
    ),
    "notify": Entry(
        f"{_CLI}.notify",
        "app",
        "Send incidents, approvals and stuck agents to people (apprise URLs).",
    ),
}
