"""The retention policy (`[retention]` in the config file) and applying it: by `webops prune`,
and every hour by `webops run` and `webops serve` while they run.

Days per kind; a kind the policy leaves out is kept forever, except notifications, kept 30
days unless the policy says otherwise (the outbox grows with every reminder, and a delivery
older than a month tells nobody anything). The audit log is always kept.

    [retention]
    episodes = 90        # what agents lived through (memories)
    messages = 30        # chat turns and messages between agents
    check_samples = 14   # the check history anomaly baselines learn from
    incidents = 365      # closed incidents and their journal (open ones are always kept)
    notifications = 30   # sent or failed deliveries (pending ones are always kept)
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # SQLAlchemy only when pruning: the config is read by every command
    import asyncio

    from storage.database import Database

#: The kinds a policy names, as `storage.retention` deletes them.
KINDS = ("episodes", "messages", "check_samples", "incidents", "notifications")
#: Days sent and failed notifications are kept when the policy does not say.
NOTIFICATIONS_DAYS = 30.0

#: How often `run` and `serve` apply the policy.
PRUNE_EVERY_S = 3600.0
DAY_S = 86400.0
log = logging.getLogger("webops.retention")

Days = float | None


class RetentionPolicy(BaseModel):
    """`[retention]`: how many days each kind is kept (none: forever)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    episodes: Days = Field(None, gt=0, le=36500)
    messages: Days = Field(None, gt=0, le=36500)
    check_samples: Days = Field(None, gt=0, le=36500)
    incidents: Days = Field(None, gt=0, le=36500)
    notifications: float = Field(NOTIFICATIONS_DAYS, gt=0, le=36500)

    def days(self) -> dict[str, float]:
        return {kind: d for kind in KINDS if (d := getattr(self, kind)) is not None}

    def cutoffs(self, now: float) -> dict[str, float]:
        """Per kind, the time before which rows go."""
        return {kind: now - days * DAY_S for kind, days in self.days().items()}


async def apply(
    database: Database, policy: RetentionPolicy, *, now: float, dry_run: bool = False
) -> dict[str, int]:
    from storage.retention import prune

    return await prune(database, policy.cutoffs(now), dry_run=dry_run)


async def keep_pruning(
    database: Database,
    policy: RetentionPolicy,
    stopping: asyncio.Event,
    clock: Callable[[], float] = time.time,
    every_s: float = PRUNE_EVERY_S,
) -> None:
    """Apply `policy` at once and then every `every_s` until `stopping` is set."""
    import asyncio

    if not policy.days():
        return
    while not stopping.is_set():
        try:
            removed = await apply(database, policy, now=clock())
            if any(removed.values()):
                log.info("retention removed %s", removed)
        except Exception:  # a failed prune must not stop the loop or the server
            log.exception("retention: pruning failed; will try again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), every_s)
