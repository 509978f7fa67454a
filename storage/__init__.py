"""Persistence: SQLModel tables, the async SQLite engine, migrations and repositories.

Imports nothing above it. Code above reaches the database only through `storage.database.Database`
and the classes in `storage.repositories`. This file imports nothing, so that `storage.errors` is
cheap to import for a CLI that has not touched the database yet.
"""
