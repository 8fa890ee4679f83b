"""Operations tables: published results (versioned, one current per kind), API tokens, OCS rules.

``published_versions`` / ``published_results`` hold what operations may use (issue 19):
a version is written while ``loading`` and switched to ``current`` in one transaction;
a partial unique index keeps at most one current version per kind.  ``api_tokens``
keeps only token hashes.  ``ocs_rules`` is the credit-control rule per credit grade of
a credit model version (issue 17).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "published_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("run_dir", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("activated_at", TS, nullable=True),
        sa.CheckConstraint("kind IN ('target', 'preference', 'credit', 'trigger')",
                           name=op.f("ck_published_versions_kind")),
        sa.CheckConstraint("status IN ('loading', 'ready', 'current', 'retired', 'failed')",
                           name=op.f("ck_published_versions_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_versions")),
    )
    op.create_index(op.f("ix_published_versions_kind_status"), "published_versions", ["kind", "status"])
    op.create_index("uq_published_versions_current", "published_versions", ["kind"], unique=True,
                    sqlite_where=sa.text("status = 'current'"), postgresql_where=sa.text("status = 'current'"))

    op.create_table(
        "published_results",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.BigInteger(), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("msisdn_masked", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("grade", sa.String(length=8), nullable=True),
        sa.Column("decile", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("offers", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["version_id"], ["published_versions.id"],
                                name=op.f("fk_published_results_version_id_published_versions")),
        sa.PrimaryKeyConstraint("version_id", "subscriber_id", name=op.f("pk_published_results")),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )

    op.create_table(
        "ocs_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("score_min", sa.Float(), nullable=False),
        sa.Column("score_max", sa.Float(), nullable=False),
        sa.Column("credit_limit_yuan", sa.Float(), nullable=False),
        sa.Column("stop_priority", sa.Integer(), nullable=False),
        sa.Column("exit_condition", sa.Text(), nullable=False),
        sa.Column("promotions_excluded", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocs_rules")),
        sa.UniqueConstraint("model_version", "grade", name=op.f("uq_ocs_rules_model_version_grade")),
    )


def downgrade() -> None:
    op.drop_table("ocs_rules")
    op.drop_table("api_tokens")
    op.drop_table("published_results")
    op.drop_index("uq_published_versions_current", table_name="published_versions")
    op.drop_index(op.f("ix_published_versions_kind_status"), table_name="published_versions")
    op.drop_table("published_versions")
