"""Repositories: the only way code above `storage` reads or writes the database."""

from storage.repositories.agents import AgentRepository

__all__ = ["AgentRepository"]
