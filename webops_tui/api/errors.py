"""Every error the API returns has one shape: `{"error": "<one line>", "status": N, ...}`.

The kernel's own errors map by type (not found 404, conflict 409, bad input 422); FastAPI's
validation errors keep their field-by-field `detail` but gain the one line a person reads first.
Bodies above the size limit are refused with 413 before anything parses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.errors import Conflict, DatabaseBusy, InvalidInput, NotFound, WebopsError


class ApiError(BaseModel):
    """The body of every error response."""

    error: str
    status: int
    detail: list[dict[str, Any]] | None = None


def error_response(
    status: int,
    message: str,
    detail: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ApiError(error=message, status=status, detail=detail)
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, headers=dict(headers or {})
    )


def status_of(exc: WebopsError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, InvalidInput):
        return 422
    if isinstance(exc, DatabaseBusy):
        return 503
    return 500 if exc.exit_code != 2 else 422


#: Messages for errors about the body as a whole, which pydantic words for programmers.
_BODY_ERRORS = {
    "model_attributes_type": "the body must be a JSON object (send Content-Type: application/json)",
    "dict_type": "the body must be a JSON object",
    "json_invalid": "the body is not valid JSON",
    "missing": "a JSON body is required",
}


def _field_message(error: dict[str, Any]) -> str:
    loc = tuple(error.get("loc", ()))
    kind = str(error.get("type", ""))
    if loc == ("body",) and kind in _BODY_ERRORS:
        return _BODY_ERRORS[kind]
    if kind == "json_invalid":
        return _BODY_ERRORS[kind] + f" (at character {loc[-1]})"
    where = ".".join(str(part) for part in loc if part not in ("body", "query", "path"))
    message = "unknown field" if kind == "extra_forbidden" else str(error.get("msg", "invalid"))
    return f"{where}: {message}" if where else message


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {k: v for k, v in dict(e).items() if k in ("loc", "msg", "type")} for e in exc.errors()
    ]
    message = "; ".join(_field_message(e) for e in errors[:3])
    if len(errors) > 3:
        message += f" (and {len(errors) - 3} more)"
    return error_response(422, message or "invalid request", errors)


async def _webops(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WebopsError)
    status = status_of(exc)
    return error_response(
        status, exc.message, headers={"Retry-After": "1"} if status == 503 else None
    )


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    """A bug, not bad input: a JSON 500 for the client; uvicorn logs the traceback."""
    return error_response(500, f"internal error ({type(exc).__name__}); see the server's log")


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, (RecursionError, ValueError)):
        # FastAPI's 400 for a body `json.loads` could not finish: nested too deep for it
        # (RecursionError) or not text. The README promises 422 for every malformed body.
        return error_response(422, _BODY_ERRORS["json_invalid"] + " (nested too deep)")
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(WebopsError, _webops)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, declared or streamed, before parsing.

    Bodies here are small JSON documents, so the whole body is read up front and replayed.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, f"request body is larger than the limit of {self.limit} bytes"
        )
        await response(scope, receive, send)
