"""Where webops-tui keeps its files by default (platformdirs' per-user data directory)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP_NAME = "webops-tui"


def default_db_path() -> Path:
    return user_data_path(APP_NAME) / "webops.db"


def default_config_path() -> Path:
    return user_config_path(APP_NAME) / "config.toml"
