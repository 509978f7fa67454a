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

    @classmethod
    def resolve(cls, db_path: Path | None = None, *, debug: bool = False) -> Settings:
        return cls(db_path=(db_path or default_db_path()).expanduser(), debug=debug)
