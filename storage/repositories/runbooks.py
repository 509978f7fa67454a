"""Operator-defined remedies, one row per unique name; the TOML import replaces them by name.

Secret values in `RunbookRow.secrets` arrive here already encrypted (see `storage.secrets`):
this repository stores text and never sees a plaintext secret.
"""

from __future__ import annotations

from storage.repositories.named import NamedRowRepository
from storage.tables import RunbookRow


class RunbookRepository(NamedRowRepository[RunbookRow]):
    model = RunbookRow
    noun = "runbook"
