"""Repositories: the only way code above `storage` reads or writes the database."""
