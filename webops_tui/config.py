"""Settings handed to the app and the CLI: the composition root builds everything from these."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from webops_tui.paths import default_db_path

DEFAULT_THEME = "webops-dark"


class Settings(BaseModel):
    """Everything a session needs to know before it opens the database.

    Tests build one pointing at a temporary file; the CLI builds one from `--db`/`WEBOPS_DB`.
    """

    model_config = ConfigDict(frozen=True)

    db_path: Path
    theme: str = DEFAULT_THEME
    debug: bool = False
    #: Whether the operator named the file (--db or WEBOPS_DB); the demo keeps its own
    #: file otherwise, so demo agents and targets never mix with real ones.
    db_explicit: bool = True

    @classmethod
    def resolve(cls, db_path: Path | None = None, *, debug: bool = False) -> Settings:
        return cls(
            db_path=(db_path or default_db_path()).expanduser(),
            debug=debug,
            db_explicit=db_path is not None,
        )

    def for_demo(self) -> Settings:
        if self.db_explicit:
            return self
        return self.model_copy(update={"db_path": self.db_path.with_name("demo.db")})
