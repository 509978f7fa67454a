"""Settings handed to the app and the CLI, and the config file that keeps a user's choices.

The composition root builds everything from `Settings`; tests build one pointing at a
temporary file. The config file (TOML, `webops_tui.paths.default_config_path()`, or
`--config` / `WEBOPS_CONFIG`) holds the theme and key remappings:

    theme = "webops-16"

    [keys]
    "app.quit" = "ctrl+q"
    "app.memory" = "m,f3"       # several keys: comma-separated

    [agents]
    adapt_personality = false   # experience no longer moves traits (default: true)

    [llm]                       # optional: an OpenAI-compatible chat-completions endpoint
    base_url = "http://127.0.0.1:11434/v1"
    model = "llama3.2"
    api_key_env = "OPENAI_API_KEY"   # the variable's name; the key is never written here
    timeout_s = 10
    max_tokens = 400
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.errors import InvalidInput
from agent.ops.toml_documents import parse_toml
from agent.social.language.model_config import LanguageModelSettings
from storage.location import Location, locate
from webops_tui.paths import default_config_path, default_db_path
from webops_tui.retention import RetentionPolicy

if TYPE_CHECKING:
    from agent.core.config import KernelConfig

DEFAULT_THEME = "webops-dark"


class AgentsSection(BaseModel):
    """`[agents]`: how every agent the kernel loads behaves."""

    model_config = ConfigDict(extra="forbid")

    #: Whether experience moves agents' traits (bounded personality drift).
    adapt_personality: bool = True


class ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str | None = None
    keys: dict[str, str] = Field(default_factory=dict)
    agents: AgentsSection | None = None
    retention: RetentionPolicy | None = None
    llm: LanguageModelSettings | None = None


def load_config(path: Path) -> ConfigFile:
    """The config file's contents; a missing file is an empty config, a bad one an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigFile()
    except OSError as exc:
        raise InvalidInput(f"cannot read config {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"config {path} is not UTF-8 text") from None
    data = parse_toml(text, f"config {path}")
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        # The first problem, where and why, without the value (it may be a key written in
        # the wrong place).
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        why = error["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"config {path}: {where}: {why}") from None


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _llm_lines(llm: LanguageModelSettings) -> list[str]:
    """`[llm]`'s keys that differ from the defaults (base_url and model always)."""
    lines = [f"base_url = {_quote(llm.base_url)}", f"model = {_quote(llm.model)}"]
    for name, value in llm.model_dump(exclude_defaults=True).items():
        if name in ("base_url", "model"):
            continue
        lines.append(f"{name} = {_quote(value) if isinstance(value, str) else repr(value)}")
    return lines


def save_config(path: Path, config: ConfigFile) -> None:
    """Write the config atomically (a half-written file would lose the user's keys)."""
    lines = []
    if config.theme:
        lines.append(f"theme = {_quote(config.theme)}")
    if config.keys:
        lines += ["", "[keys]"]
        lines += [f"{_quote(k)} = {_quote(v)}" for k, v in sorted(config.keys.items())]
    if config.agents is not None:
        adapt = "true" if config.agents.adapt_personality else "false"
        lines += ["", "[agents]", f"adapt_personality = {adapt}"]
    if config.retention is not None and (kept := config.retention.days()):
        lines += ["", "[retention]"] + [f"{kind} = {days!r}" for kind, days in kept.items()]
    if config.llm is not None:
        lines += ["", "[llm]", *_llm_lines(config.llm)]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(temporary, path)


class Settings(BaseModel):
    """Everything a session needs to know before it opens the database."""

    model_config = ConfigDict(frozen=True)

    #: The SQLite file, or the PostgreSQL server's database (storage/location.py).
    db_path: Location
    theme: str = DEFAULT_THEME
    keymap: dict[str, str] = Field(default_factory=dict)
    config_path: Path | None = None
    debug: bool = False
    #: Whether the operator named the file (--db or WEBOPS_DB); the demo keeps its own
    #: file otherwise, so demo agents and targets never mix with real ones.
    db_explicit: bool = True
    #: `[agents] adapt_personality`: whether experience moves agents' traits.
    adapt_personality: bool = True
    #: `--read-only`: look, but run, approve, create and start nothing.
    read_only: bool = False
    #: `[retention]`: how long episodes, messages, check samples and incidents are kept.
    retention: RetentionPolicy = Field(default_factory=RetentionPolicy)
    #: `[llm]`: the optional language model; None keeps everything offline.
    llm: LanguageModelSettings | None = None

    @field_validator("db_path", mode="before")
    @classmethod
    def _located(cls, value: object) -> object:
        """A `postgresql://` string is a server, any other string a file."""
        return locate(value) if isinstance(value, str) else value

    @classmethod
    def resolve(
        cls,
        db_path: Location | str | None = None,
        *,
        debug: bool = False,
        config_path: Path | None = None,
        read_only: bool = False,
    ) -> Settings:
        config_path = (config_path or default_config_path()).expanduser()
        config = load_config(config_path)
        return cls(
            db_path=locate(db_path if db_path is not None else default_db_path()),
            theme=config.theme or DEFAULT_THEME,
            keymap=config.keys,
            config_path=config_path,
            debug=debug,
            db_explicit=db_path is not None,
            adapt_personality=config.agents is None or config.agents.adapt_personality,
            read_only=read_only,
            retention=config.retention or RetentionPolicy(),
            llm=config.llm,
        )

    def kernel_config(self, **changes: object) -> KernelConfig:
        """The kernel's settings from the config file (plus `changes`, e.g. a demo's seed)."""
        from agent.core.config import KernelConfig

        return KernelConfig.model_validate(
            {"adapt_personality": self.adapt_personality, "llm": self.llm, **changes}
        )

    def for_demo(self) -> Settings:
        if self.db_explicit or not isinstance(self.db_path, Path):
            return self
        return self.model_copy(update={"db_path": self.db_path.with_name("demo.db")})

    def remember_theme(self, theme: str) -> None:
        """Keep the user's theme for next time (nothing to do without a config file)."""
        if self.config_path is None:
            return
        config = load_config(self.config_path)
        if config.theme != theme:
            save_config(self.config_path, config.model_copy(update={"theme": theme}))
