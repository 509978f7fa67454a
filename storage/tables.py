"""SQLModel tables: the ORM's view of the schema that `migrations` builds.

The migrations are the history of the schema; these classes describe its latest shape. A test
checks that the two agree column by column.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class AgentRow(SQLModel, table=True):
    """One agent: its name, Big Five personality, lifecycle state and last emotions."""

    __tablename__ = "agent"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    preset: str = "custom"
    state: str = "initializing"
    openness: float
    conscientiousness: float
    extraversion: float
    agreeableness: float
    neuroticism: float
    created_at: float
    updated_at: float
    #: JSON object of the eight emotions, as of `emotions_at` (decay is applied on load).
    emotions: str = "{}"
    emotions_at: float = 0.0


class ActionRecordRow(SQLModel, table=True):
    """How an agent has fared with one action on one kind of target."""

    __tablename__ = "action_record"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    action: str
    target_kind: str
    successes: int = 0
    failures: int = 0
    approved_successes: int = 0
    last_success_at: float | None = None
    last_failure_at: float | None = None


class ApprovalRow(SQLModel, table=True):
    """An action that waits for (or got) a human's decision."""

    __tablename__ = "approval"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    action: str
    target: str | None = None
    risk: str
    status: str
    summary: str
    #: JSON: what to run (action, target, parameters) once approved.
    request: str
    #: JSON: the decision's explanation at the time it was asked.
    explanation: str
    result: str | None = None
    created_at: float
    decided_at: float | None = None
    decided_by: str | None = None
