"""Each user's own language of the apps and pages (``users.language``).

The portal's English/Chinese switch is stored per user, so it holds on every
computer and every server sharing the store, and the app kernels started for the
user run in it.  NULL: the server's language (``workbench serve --lang``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
