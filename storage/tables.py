"""SQLModel tables: the ORM's view of the schema that `migrations` builds.

The migrations are the history of the schema; these classes describe its latest shape. A test
checks that the two agree column by column.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class AgentRow(SQLModel, table=True):
    """One agent: its name, Big Five personality and persisted lifecycle state."""

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
