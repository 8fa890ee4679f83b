"""Alembic environment of the campaign store (run through :func:`workbench.store.db.upgrade`)."""
