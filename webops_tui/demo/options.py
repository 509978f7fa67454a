"""What a demo run is: seed, approval policy, length, noise and runbook names.

Apart from the workbench's demo runner so that `webops demo --headless` reads it without
importing Textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from agent.ops.incidents import ApprovalPolicy

if TYPE_CHECKING:
    from webops_tui.demo.world import DemoWorld


class DemoOptions(BaseModel):
    """Run the demo world inside the workbench (`webops demo`).

    A pydantic model, because the options cross from the command line: `approve` is checked
    against the policies when the options are made and is an `ApprovalPolicy` from then on.
    """

    model_config = ConfigDict(frozen=True)

    seed: int = 7
    approve: ApprovalPolicy = "human"
    duration_s: float | None = None
    #: Background noise (jitter, single bad answers): 1 by default, 0 for none.
    noise: float = Field(1.0, ge=0)
    #: Runbooks called by meaningless ids, so only experience tells which fixes what.
    opaque: bool = False
    #: apprise URLs notified of everything during this run only (`--notify`).
    notify: tuple[str, ...] = ()

    def world(self) -> DemoWorld:
        """The demo world these options describe (its services start now)."""
        from webops_tui.demo.world import DemoWorld

        return DemoWorld(self.seed, noise=self.noise, opaque_names=self.opaque)
