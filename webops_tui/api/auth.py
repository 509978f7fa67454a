"""Bearer tokens and roles; there is no way to turn them off.

Who is calling is settled by `Authenticate`, an ASGI middleware, before FastAPI reads a body:
without a valid token a request gets 401 (with `WWW-Authenticate: Bearer`) and nothing about
its body. Whether the caller may do this is a per-route dependency: a role too low is 403 and
names the role that is needed. `/api/health` and `/openapi.json` answer anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.core.kernel import Kernel
from agent.core.tokens import Role
from webops_tui.api.errors import error_response

#: Paths under /api that need no token.
OPEN_PATHS = frozenset({"/api/health"})

#: Declares the scheme in /openapi.json; the checking is done by `Authenticate`.
_bearer = HTTPBearer(
    auto_error=False,
    description="A token from `webops token create NAME --role viewer|operator|admin`.",
)


async def get_kernel(request: Request) -> Kernel:
    """Async on purpose: FastAPI runs a plain `def` dependency in a worker thread, which cost
    more than the whole status call."""
    kernel: Kernel = request.app.state.kernel
    return kernel


KernelDep = Annotated[Kernel, Depends(get_kernel)]


@dataclass(frozen=True)
class Caller:
    """Whoever presented a valid token: its name goes into the audit log."""

    token: str
    role: Role
    #: The bearer token itself, so that long-lived streams can check it is still valid.
    credential: str = field(repr=False, default="")

    @property
    def actor(self) -> str:
        return f"token:{self.token}"


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            header: str = value.decode("latin-1")
            scheme, _, credential = header.partition(" ")
            if scheme.lower() == "bearer" and credential.strip():
                return credential.strip()
            return None
    return None


class Authenticate:
    def __init__(self, app: ASGIApp, kernel: Kernel) -> None:
        self.app = app
        self.kernel = kernel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/") or path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        credential = _bearer_token(scope)
        if credential is None:
            message = (
                "no bearer token: send 'Authorization: Bearer <token>' "
                "(make one with: webops token create NAME --role viewer)"
            )
        else:
            found = await self.kernel.tokens.authenticate(credential)
            if found is not None:
                scope.setdefault("state", {})["caller"] = Caller(*found, credential=credential)
                await self.app(scope, receive, send)
                return
            message = "the bearer token is not valid (unknown, malformed or revoked)"
        response = error_response(401, message, headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


def _require(role: Role) -> object:
    async def check(
        request: Request,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Caller:
        caller: Caller | None = getattr(request.state, "caller", None)
        if caller is None:  # only if the app was built without `Authenticate`
            raise HTTPException(401, "not authenticated", headers={"WWW-Authenticate": "Bearer"})
        if caller.role < role:
            raise HTTPException(
                403, f"token {caller.token!r} has the {caller.role} role; this needs {role}"
            )
        return caller

    return Depends(check)


Viewer = Annotated[Caller, _require(Role.VIEWER)]
Operator = Annotated[Caller, _require(Role.OPERATOR)]
Admin = Annotated[Caller, _require(Role.ADMIN)]
