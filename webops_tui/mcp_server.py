"""The MCP face of the kernel: the tools and resources an MCP client (a model) may use.

Every tool calls the same kernel method as the matching REST route, so a model asking
for a runbook goes through the agent's decision and the risk gate like a typed `webops task`:
above the approval threshold it gets `awaiting_approval` and an approval id, and nothing runs
until someone with the operator role approves. Results are the JSON the CLI's `--json` prints.

Who is calling differs by transport: on stdio (`webops mcp`) it is the local user, fixed when
the server is built; over HTTP (`webops serve`, /api/mcp) each request carries its own token,
so the caller is read from the request (webops_tui/api/mcp_mount.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp_types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import BaseModel, ValidationError

from agent.core.approval_view import ApprovalStatus
from agent.core.kernel import Kernel
from agent.core.tasks import undeclared_url
from agent.core.tokens import Role
from agent.errors import NotFound, WebopsError
from agent.ops.incidents import IncidentStatus
from webops_tui import __version__

T = TypeVar("T")

INSTRUCTIONS = (
    "webops-tui: a team of WebOps agents watching web services. Read with list_agents, "
    "agent_status, list_incidents, list_approvals and recall; act with check_target and "
    "request_runbook (a risky runbook only queues an approval: a person with the operator "
    "role approves or denies it). Resources: webops://agents/{agent}/facts and "
    "webops://incidents/{incident_id}/report."
)

#: `recall` and the facts resource: as many memories as `webops memory --limit` allows.
MAX_RECALL = 1000
MAX_LIST = 500


@dataclass(frozen=True)
class McpCaller:
    """Who calls a tool: the role decides what it may do, the actor goes into the audit log."""

    role: Role
    actor: str
    #: How refusals name the caller: "token 'ci'", "this read-only MCP session".
    who: str


#: The caller of the request a tool runs for.
CallerOf = Callable[[Context], McpCaller]


def build_server(kernel: Kernel, role: Role, actor: str, who: str | None = None) -> MCPServer:
    """The server for one fixed caller (stdio: the local user, `webops mcp`)."""
    caller = McpCaller(role, actor, who or f"{actor!r}")
    return build_server_for(kernel, lambda _ctx: caller)


def build_server_for(kernel: Kernel, caller_of: CallerOf) -> MCPServer:
    """The server whose tools ask `caller_of` who is calling (HTTP: one token per request)."""
    server = _quiet(
        lambda: _Server(
            "webops-tui",
            title="webops-tui",
            instructions=INSTRUCTIONS,
            version=__version__,
            log_level="WARNING",
        )
    )
    _add_read_tools(server, kernel)
    _add_operator_tools(server, kernel, caller_of)
    _add_resources(server, kernel)
    return server


class _Server(MCPServer[Any]):
    """The SDK's server, with arguments that fail the tool's schema refused in one line."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if not isinstance(cause, ValidationError):
                raise
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                for error in cause.errors(include_url=False)
            )
            raise ToolError(f"bad arguments for {name}: {problems}") from cause


def _quiet(make: Callable[[], T]) -> T:
    """Run `make` without letting the SDK claim the root logger for a Rich handler.

    `MCPServer()` calls `logging.basicConfig`, which would send the kernel's `webops.*` warnings
    to the terminal of `webops serve`; the project's rule is that they go to --log-file only."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    made = make()
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    return made


def _json(value: BaseModel) -> dict[str, Any]:
    return value.model_dump(mode="json")


async def _kernel_call(call: Awaitable[T]) -> T:
    """The kernel's one-line errors (no such agent, already decided) as MCP tool errors."""
    try:
        return await call
    except WebopsError as exc:
        raise ToolError(exc.message) from None


def _require(caller: McpCaller, needs: Role) -> McpCaller:
    """Refused as the REST API refuses a token whose role is too low (its 403 wording)."""
    if caller.role < needs:
        raise ToolError(f"{caller.who} has the {caller.role} role; this needs {needs}")
    return caller


_READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)


def _add_read_tools(server: MCPServer, kernel: Kernel) -> None:
    """Viewer tools: whoever may connect may call them (HTTP: any valid token)."""

    @server.tool(annotations=_READ)
    async def list_agents() -> list[dict[str, Any]]:
        """The agents: name, preset and personality (as `webops agent list --json`)."""
        return [_json(p) for p in await _kernel_call(kernel.list_agents())]

    @server.tool(annotations=_READ)
    async def agent_status(agent: str) -> dict[str, Any]:
        """An agent's state, emotions, mood, personality, skills and resources
        (as `webops status NAME --json`)."""
        return _json(await _kernel_call(kernel.status(agent)))

    @server.tool(annotations=_READ)
    async def list_incidents(
        status: IncidentStatus | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Incidents, newest first, each with the checks that confirmed it and each remedy's
        credit (as `GET /api/incidents`); `status` keeps one kind."""
        _bounded("limit", limit, MAX_LIST)
        return [_json(i) for i in await _kernel_call(kernel.incidents(status, limit))]

    @server.tool(annotations=_READ)
    async def list_approvals(
        status: ApprovalStatus | Literal["all"] = "pending",
    ) -> list[dict[str, Any]]:
        """Approvals waiting for a person (or with `status`, decided ones): who asks to run
        what on which target, the risk, why, and the dry run's output."""
        found = await _kernel_call(kernel.approvals(None if status == "all" else status))
        return [_json(a) for a in found]

    @server.tool(annotations=_READ)
    async def recall(agent: str, query: str, limit: int = 5) -> list[dict[str, Any]]:
        """An agent's memories most similar to `query` (episodes, facts, procedures), best
        first with their scores (as `webops memory NAME --search QUERY --json`)."""
        _bounded("limit", limit, MAX_RECALL)
        if not query.strip():
            raise ToolError("query is empty: say what to recall, e.g. 'shop slow'")
        items = await _kernel_call(kernel.memory(agent, None, query, limit))
        return [i.model_dump(mode="json", exclude={"details"}) for i in items]


def _bounded(name: str, value: int, most: int) -> None:
    if not 1 <= value <= most:
        raise ToolError(f"{name} must be between 1 and {most}, got {value}")


def _add_operator_tools(server: MCPServer, kernel: Kernel, caller_of: CallerOf) -> None:
    """Tools that act: the operator role, as `POST /api/agents/NAME/task` and the approvals."""

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    async def check_target(agent: str, target: str, ctx: Context) -> dict[str, Any]:
        """Let an agent check a declared target now (as `webops task AGENT "check TARGET"`).

        An http(s) URL instead of a target's name is checked only if a target declares it,
        unless the caller is an admin (no probing of arbitrary addresses)."""
        caller = _require(caller_of(ctx), Role.OPERATOR)
        text = f"check {target}"
        if caller.role < Role.ADMIN and await undeclared_url(text, kernel.ops):
            raise ToolError(
                f"{caller.who} may check only a declared target's URL; an admin may check any URL"
            )
        return _json(await _kernel_call(kernel.task(agent, text)))

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
    async def request_runbook(
        agent: str, runbook: str, ctx: Context, target: str | None = None
    ) -> dict[str, Any]:
        """Ask an agent to run a runbook (on a target; default: the one the runbook verifies).

        The agent decides as for `webops task AGENT "run RUNBOOK on TARGET"`: above the
        approval threshold the result is `awaiting_approval` with an `approval_id`, and the
        runbook runs only once a person (operator role) approves it."""
        _require(caller_of(ctx), Role.OPERATOR)
        text = f"run {runbook}" + (f" on {target}" if target is not None else "")
        return _json(await _kernel_call(kernel.task(agent, text)))

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
    async def approve(approval_id: int, ctx: Context) -> dict[str, Any]:
        """Grant a pending approval: its action runs now, once; the result comes back with it.
        Audited with the caller's name."""
        caller = _require(caller_of(ctx), Role.OPERATOR)
        return _json(await _kernel_call(kernel.approve(approval_id, by=caller.actor)))

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    async def deny(approval_id: int, ctx: Context) -> dict[str, Any]:
        """Deny a pending approval: its action never runs. Audited with the caller's name."""
        caller = _require(caller_of(ctx), Role.OPERATOR)
        return _json(await _kernel_call(kernel.deny(approval_id, by=caller.actor)))


async def _resource_call(call: Awaitable[T]) -> T:
    try:
        return await call
    except NotFound as exc:
        raise ResourceNotFoundError(exc.message) from None
    except WebopsError as exc:
        raise ResourceError(exc.message) from None


def _add_resources(server: MCPServer, kernel: Kernel) -> None:
    @server.resource(
        "webops://agents/{agent}/facts",
        name="facts",
        description="What an agent knows: its semantic memories, newest first (JSON).",
        mime_type="application/json",
    )
    async def facts(agent: str) -> list[dict[str, Any]]:
        items = await _resource_call(kernel.memory(agent, "semantic", None, MAX_RECALL))
        return [i.model_dump(mode="json", exclude={"details"}) for i in items]

    @server.resource(
        "webops://incidents/{incident_id}/report",
        name="incident-report",
        description="An incident's postmortem in Markdown (as `webops incident report ID`).",
        mime_type="text/markdown",
    )
    async def incident_report(incident_id: str) -> str:
        from webops_tui.cli.postmortem_format import markdown

        if not incident_id.isdigit() or not 1 <= int(incident_id) <= 2**63 - 1:
            raise ResourceNotFoundError(f"no incident {incident_id!r}: ids are whole numbers")
        return markdown(await _resource_call(kernel.incident_report(int(incident_id))))
