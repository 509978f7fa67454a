"""Export pseudonyms live in the kernel (agent/social/anonymize.py), since what is sent to a
language model is anonymised the same way; the CLI's export imports them from here."""

from __future__ import annotations

from agent.social.anonymize import ACTOR_KEYS, Anonymizer

__all__ = ["ACTOR_KEYS", "Anonymizer"]
