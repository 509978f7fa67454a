"""The kernel's settings, in their own module so that every kernel service can read them.

The services take a getter (`Callable[[], KernelConfig]`), not a copy: the workbench replaces
`kernel.config` (a new demo seed) while the kernel runs, and the next agent loaded must see it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agent.core.resources import ResourceLimits
from agent.decision.risk import RiskLevel
from agent.social.language.model_config import LanguageModelSettings


class KernelConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: Actions whose effective risk is above this level wait for a human's approval.
    approval_threshold: RiskLevel = RiskLevel.MEDIUM
    limits: ResourceLimits = ResourceLimits()
    flush_interval_s: float = 0.5
    stop_timeout_s: float = 5.0
    #: Seeds each agent's tie-breaking (with its name), so a run is repeatable.
    seed: int = 0
    #: Weights of relevance, recency and importance in recall (and the recency half-life).
    recall_relevance: float = Field(1.0, ge=0)
    recall_recency: float = Field(1.0, ge=0)
    recall_importance: float = Field(1.0, ge=0)
    recall_half_life_s: float = Field(6 * 3600.0, gt=0)
    #: Whether agents recall similar remedies and facts before choosing a remedy (a prior for
    #: the learner, cited in the explanation; agent/core/recollection.py). Off for ablations.
    recall_in_decisions: bool = True
    #: Whether experience moves agents' traits (bounded drift, see `agent.mind.drift`).
    adapt_personality: bool = True
    #: `[llm]`: an OpenAI-compatible endpoint that helps understand and word; None: offline.
    llm: LanguageModelSettings | None = None
