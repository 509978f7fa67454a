"""Watched web services, one row per unique name; the TOML import replaces them by name."""

from __future__ import annotations

from storage.repositories.named import NamedRowRepository
from storage.tables import TargetRow


class TargetRepository(NamedRowRepository[TargetRow]):
    model = TargetRow
    noun = "target"
