"""`[llm]` in the config: an optional OpenAI-compatible chat-completions endpoint (Ollama,
llama.cpp's llama-server, vLLM or a hosted one) that helps the rules understand and word.

Only the *name* of the environment variable holding the API key is kept, never the key: a
config file is copied, shared and shown; an environment is not. Timeouts and the token budget
are bounded so that a typo cannot make one chat turn wait an hour or cost a fortune.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


class LanguageModelSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Where the API lives, up to and including its version: `http://127.0.0.1:11434/v1`.
    base_url: str
    #: The model's name as the server knows it (`llama3.2`, `qwen2.5:7b-instruct`).
    model: str = Field(min_length=1, max_length=200)
    #: The environment variable that holds the API key (sent as a bearer token); None: no key.
    api_key_env: str | None = None
    #: The longest one request may take, connection included, before the rules answer instead.
    timeout_s: float = Field(10.0, gt=0, le=300, allow_inf_nan=False)
    #: The token budget of one chat turn: its requests share it (`max_tokens` of each is
    #: what is left); a report's narrative has it all.
    max_tokens: int = Field(400, ge=16, le=8192)
    #: Sampling temperature: low, since the model mostly fills in structured answers.
    temperature: float = Field(0.2, ge=0, le=2, allow_inf_nan=False)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http:// or https:// URL")
        if parts.username or parts.password:
            raise ValueError("base_url must not hold credentials; name them in api_key_env")
        if parts.query or parts.fragment:
            raise ValueError("base_url takes no query or fragment")
        return value.strip().rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.fullmatch(value):
            # The value is not echoed: it may be the key itself, written in the wrong place.
            raise ValueError(
                "api_key_env is the name of an environment variable (like OPENAI_API_KEY), "
                "not the key"
            )
        return value
