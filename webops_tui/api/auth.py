"""Bearer tokens and roles; there is no way to turn them off.

Who is calling is settled by `Authenticate`, an ASGI middleware, before FastAPI reads a body:
without a valid token a request gets 401 (with `WWW-Authenticate: Bearer`) and nothing about
its body. Whether the caller may do this is a per-route dependency: a role too low is 403 and
names the role that is needed. `/api/health` and `/openapi.json` answer anyone; `/metrics`
needs a token (a viewer's is enough).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.core.kernel import Kernel
from agent.core.tokens import Role
from webops_tui.api.errors import error_response

#: Paths under /api that need no token.
OPEN_PATHS = frozenset({"/api/health"})

#: Outside /api but behind a token all the same: Prometheus scrapes with a viewer's.
GUARDED_PATHS = frozenset({"/metrics"})


def _guarded(path: str) -> bool:
    return (path.startswith("/api/") and path not in OPEN_PATHS) or path in GUARDED_PATHS


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
        if scope["type"] != "http" or not _guarded(path):
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


class _RoleCheck:
    """The per-route dependency: the caller, if its role is at least `needs`, else 403.

    A class so that `check_roles_first` can read which role a route needs."""

    def __init__(self, needs: Role) -> None:
        self.needs = needs

    async def __call__(
        self,
        request: Request,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Caller:
        caller: Caller | None = getattr(request.state, "caller", None)
        if caller is None:  # only if the app was built without `Authenticate`
            raise HTTPException(401, "not authenticated", headers={"WWW-Authenticate": "Bearer"})
        if caller.role < self.needs:
            raise HTTPException(403, _too_low(caller, self.needs))
        return caller


def _too_low(caller: Caller, needs: Role) -> str:
    return f"token {caller.token!r} has the {caller.role} role; this needs {needs}"


def _require(role: Role) -> object:
    return Depends(_RoleCheck(role))


Viewer = Annotated[Caller, _require(Role.VIEWER)]
Operator = Annotated[Caller, _require(Role.OPERATOR)]
Admin = Annotated[Caller, _require(Role.ADMIN)]


def _needed_role(route: APIRoute) -> Role | None:
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, _RoleCheck):
            return dependency.call.needs
    return None


class RoleFirst:
    """Refuse a caller whose role is too low before anything reads the request's body.

    FastAPI parses a JSON body before it runs any dependency, so with the role check only in
    the route's dependency a viewer posting malformed JSON to an admin route got 422 (and the
    shape of admin bodies) instead of 403. Runs after `Authenticate` has set the caller.
    """

    def __init__(self, app: ASGIApp, routers: Sequence[APIRouter]) -> None:
        self.app = app
        self._routes = [
            (route, needs)
            for router in routers
            for route in router.routes
            if isinstance(route, APIRoute) and (needs := _needed_role(route)) is not None
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = scope.get("state", {}).get("caller")
        if scope["type"] == "http" and isinstance(caller, Caller):
            for route, needs in self._routes:
                if route.matches(scope)[0] is Match.FULL:
                    if caller.role < needs:
                        response = error_response(403, _too_low(caller, needs))
                        await response(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)
