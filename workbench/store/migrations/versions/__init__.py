"""Alembic revisions of the campaign store, oldest first."""
