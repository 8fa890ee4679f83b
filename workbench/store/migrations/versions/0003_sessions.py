"""Sign-in sessions and sign-in throttling live in the store.

``app_sessions`` holds one row per sign-in (the cookie carries only its id), so a
sign-out - of one session or of all of a user's sessions - holds after a restart
and on every server sharing the store.  ``sign_in_throttle`` counts failed
sign-ins per account and per client address and keeps a lock-out time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "app_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_sessions")),
    )
    op.create_index(op.f("ix_app_sessions_user_name"), "app_sessions", ["user_name"])
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", TS, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_throttle")
    op.drop_index(op.f("ix_app_sessions_user_name"), table_name="app_sessions")
    op.drop_table("app_sessions")
