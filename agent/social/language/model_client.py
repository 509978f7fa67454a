"""One request to an OpenAI-compatible chat-completions endpoint, over httpx.

Every way a request can go wrong (no server, a timeout, a 500, a body that is not a chat
completion, a missing API key) becomes one `ModelUnavailable` with a short reason: the caller
does not care which, it answers with the rules instead and says so once. The whole request,
connection included, is bounded by `timeout_s` (httpx's own timeouts are per phase).

Imported only when `[llm]` is configured (httpx is not needed for anything offline).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from agent.social.language.model_config import LanguageModelSettings

#: The longest answer body read (a model that rambles past its budget is not waited for).
MAX_BODY = 256 * 1024


class ModelUnavailable(Exception):
    """The model gave no usable answer; `reason` is said to the operator ("timeout")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Completion:
    """The first choice of an answer: its text, or the model's refusal."""

    content: str | None
    refusal: str | None
    finish_reason: str | None
    #: The tokens the answer took (`usage.completion_tokens`), when the server says.
    completion_tokens: int | None = None


class _Message(BaseModel):
    content: str | None = None
    refusal: str | None = None


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Usage(BaseModel):
    completion_tokens: int | None = None


class _Answer(BaseModel):
    choices: list[_Choice]
    usage: _Usage | None = None


def request_body(
    settings: LanguageModelSettings,
    messages: list[dict[str, str]],
    *,
    json_output: bool,
    max_tokens: int | None = None,
) -> dict[str, Any]:
    """`max_tokens`: what is left of the turn's budget (all of it by default)."""
    body: dict[str, Any] = {
        "model": settings.model,
        "messages": messages,
        "max_tokens": max_tokens or settings.max_tokens,
        "temperature": settings.temperature,
        "stream": False,
    }
    if json_output:
        body["response_format"] = {"type": "json_object"}
    return body


async def complete(
    settings: LanguageModelSettings,
    messages: list[dict[str, str]],
    *,
    json_output: bool,
    max_tokens: int | None = None,
) -> Completion:
    """The model's answer to `messages`; ModelUnavailable when there is none to use."""
    headers = {"Accept": "application/json"}
    if settings.api_key_env:
        key = os.environ.get(settings.api_key_env)
        if not key:
            raise ModelUnavailable(f"the environment variable {settings.api_key_env} is not set")
        headers["Authorization"] = f"Bearer {key}"
    body = request_body(settings, messages, json_output=json_output, max_tokens=max_tokens)
    try:
        async with asyncio.timeout(settings.timeout_s):
            async with httpx.AsyncClient(timeout=settings.timeout_s) as client:
                response = await client.post(
                    f"{settings.base_url}/chat/completions", json=body, headers=headers
                )
    except TimeoutError:
        raise ModelUnavailable(f"no answer within {settings.timeout_s:g} s") from None
    except httpx.TimeoutException:
        raise ModelUnavailable(f"no answer within {settings.timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise ModelUnavailable(f"cannot connect ({type(exc).__name__})") from None
    if not response.is_success:
        raise ModelUnavailable(f"HTTP {response.status_code}")
    if len(response.content) > MAX_BODY:
        raise ModelUnavailable("an answer too large to read")
    try:
        answer = _Answer.model_validate_json(response.content)
    except ValidationError:
        raise ModelUnavailable("an answer that is not a chat completion") from None
    if not answer.choices:
        raise ModelUnavailable("an answer with no choices")
    first = answer.choices[0]
    used = answer.usage.completion_tokens if answer.usage is not None else None
    return Completion(first.message.content, first.message.refusal, first.finish_reason, used)
