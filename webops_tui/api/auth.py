"""Bearer tokens and roles as FastAPI dependencies; there is no way to turn them off.

No token or a bad one is 401 (with `WWW-Authenticate: Bearer`); a good token whose role is too
low is 403 and names the role that is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agent.kernel import Kernel
from agent.tokens import Role

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

    @property
    def actor(self) -> str:
        return f"token:{self.token}"


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _require(role: Role) -> object:
    """One dependency per route for the token and the role: each layer of FastAPI dependencies
    costs about as much as the status call itself."""

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Caller:
        if credentials is None:
            raise _unauthorized(
                "no bearer token: send 'Authorization: Bearer <token>' "
                "(make one with: webops token create NAME --role viewer)"
            )
        kernel: Kernel = request.app.state.kernel
        found = await kernel.tokens.authenticate(credentials.credentials)
        if found is None:
            raise _unauthorized("the bearer token is not valid (unknown, malformed or revoked)")
        caller = Caller(*found)
        if caller.role < role:
            raise HTTPException(
                403, f"token {caller.token!r} has the {caller.role} role; this needs {role}"
            )
        return caller

    return Depends(check)


Viewer = Annotated[Caller, _require(Role.VIEWER)]
Operator = Annotated[Caller, _require(Role.OPERATOR)]
Admin = Annotated[Caller, _require(Role.ADMIN)]
