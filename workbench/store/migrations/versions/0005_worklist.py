"""A callback's due time on a contact result (the worklist lists callbacks by it).

``contact_results.callback_at``: when the customer asked to be called back (set only with the
result ``call_back``; empty otherwise and on every row recorded before).  Added as a plain
nullable column, so SQLite keeps the table (and its append-only triggers) as it is.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contact_results", sa.Column("callback_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite >= 3.35 drops a column in place; a batch copy of the table would lose its append-only triggers
        op.execute("ALTER TABLE contact_results DROP COLUMN callback_at")
    else:
        op.drop_column("contact_results", "callback_at")
