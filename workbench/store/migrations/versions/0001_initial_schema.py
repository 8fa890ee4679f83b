"""Initial schema of the campaign store, with the guards that keep history intact.

Besides the tables and indexes this revision installs database triggers, so the
rules hold even for SQL written outside the repository:

* a released campaign version (``released_at`` set) cannot be updated or deleted;
* members of a released version cannot be inserted, updated or deleted;
* ``contact_results`` and ``audit_log`` are append-only.

Every guard fails with an integrity error whose message starts with the table
name and says what to do instead.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

MSG_VERSION = "campaign_versions: a released version is immutable; release a new version instead"
MSG_MEMBERS = "campaign_members: the members of a released version are immutable; release a new version instead"
MSG_RESULTS = "contact_results: recorded results are append-only; record a new result instead"
MSG_AUDIT = "audit_log: the audit log is append-only"


def _tables() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("status IN ('draft', 'released', 'closed')", name=op.f("ck_campaigns_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(op.f("ix_campaigns_status"), "campaigns", ["status"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "branch_id IS NOT NULL OR role NOT IN ('executor', 'branch_manager')", name=op.f("ck_users_branch_role")
        ),
        sa.CheckConstraint(
            "role IN ('executor', 'branch_manager', 'province_manager', 'analyst', 'admin')", name=op.f("ck_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_audit_log_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_action_at"), "audit_log", ["action", "at"])
    op.create_index(op.f("ix_audit_log_campaign_id_at"), "audit_log", ["campaign_id", "at"])
    op.create_index(op.f("ix_audit_log_user_name_at"), "audit_log", ["user_name", "at"])

    op.create_table(
        "campaign_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("member_count", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("released_at", TS, nullable=True),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_versions_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_versions")),
        sa.UniqueConstraint("campaign_id", "version", name=op.f("uq_campaign_versions_campaign_id_version")),
    )

    op.create_table(
        "campaign_members",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("campaign_version_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.BigInteger(), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("score_band", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("executor", sa.String(length=64), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("edition", sa.String(length=64), nullable=True),
        sa.Column("talking_points", sa.Text(), nullable=True),
        sa.Column("msisdn_masked", sa.String(length=32), nullable=True),
        sa.CheckConstraint("\"group\" IN ('target', 'control')", name=op.f("ck_campaign_members_group")),
        sa.ForeignKeyConstraint(
            ["campaign_version_id"], ["campaign_versions.id"],
            name=op.f("fk_campaign_members_campaign_version_id_campaign_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_members")),
        sa.UniqueConstraint(
            "campaign_version_id", "subscriber_id", name=op.f("uq_campaign_members_campaign_version_id_subscriber_id")
        ),
    )
    op.create_index(
        op.f("ix_campaign_members_campaign_version_id_branch_id_executor"),
        "campaign_members", ["campaign_version_id", "branch_id", "executor"],
    )
    op.create_index(
        op.f("ix_campaign_members_campaign_version_id_executor"), "campaign_members", ["campaign_version_id", "executor"]
    )

    op.create_table(
        "responses",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("campaign_version_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.BigInteger(), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("stable", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_version_id"], ["campaign_versions.id"],
            name=op.f("fk_responses_campaign_version_id_campaign_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
        sa.UniqueConstraint("campaign_version_id", "subscriber_id", "product", "order_date", name="uq_responses_order"),
    )

    op.create_table(
        "contact_results",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("member_id", BIG_ID, nullable=False),
        sa.Column("executor", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("contacted_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("client_request_id", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "result IN ('reached', 'not_reachable', 'refused', 'accepted', 'call_back')",
            name=op.f("ck_contact_results_result"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["campaign_members.id"], name=op.f("fk_contact_results_member_id_campaign_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_results")),
        sa.UniqueConstraint("client_request_id", name=op.f("uq_contact_results_client_request_id")),
    )
    op.create_index(op.f("ix_contact_results_executor_contacted_at"), "contact_results", ["executor", "contacted_at"])
    op.create_index(op.f("ix_contact_results_member_id"), "contact_results", ["member_id"])


# ---------------------------------------------------------------- SQLite guards
def _sqlite_guard(name: str, when: str, table: str, condition: str, message: str) -> str:
    return (
        f"CREATE TRIGGER {name} BEFORE {when} ON {table} "
        f"FOR EACH ROW WHEN {condition} BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


_MEMBER_RELEASED = "(SELECT released_at FROM campaign_versions WHERE id = {row}.campaign_version_id) IS NOT NULL"

SQLITE_TRIGGERS = {
    "trg_versions_no_update": ("UPDATE", "campaign_versions", "OLD.released_at IS NOT NULL", MSG_VERSION),
    "trg_versions_no_delete": ("DELETE", "campaign_versions", "OLD.released_at IS NOT NULL", MSG_VERSION),
    "trg_members_no_insert": ("INSERT", "campaign_members", _MEMBER_RELEASED.format(row="NEW"), MSG_MEMBERS),
    "trg_members_no_update": ("UPDATE", "campaign_members", _MEMBER_RELEASED.format(row="OLD"), MSG_MEMBERS),
    "trg_members_no_delete": ("DELETE", "campaign_members", _MEMBER_RELEASED.format(row="OLD"), MSG_MEMBERS),
    "trg_results_no_update": ("UPDATE", "contact_results", "1", MSG_RESULTS),
    "trg_results_no_delete": ("DELETE", "contact_results", "1", MSG_RESULTS),
    "trg_audit_no_update": ("UPDATE", "audit_log", "1", MSG_AUDIT),
    "trg_audit_no_delete": ("DELETE", "audit_log", "1", MSG_AUDIT),
}


# ------------------------------------------------------------ PostgreSQL guards
def _pg_function(name: str, body: str) -> str:
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$"
    )


def _pg_raise(message: str) -> str:
    return f"RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';"


PG_FUNCTIONS = {
    "wb_guard_released_version": (
        f"IF OLD.released_at IS NOT NULL THEN {_pg_raise(MSG_VERSION)} END IF; "
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW;"
    ),
    # statement level, over the transition table "changed": cheap for a bulk COPY
    "wb_guard_released_members": (
        "IF EXISTS (SELECT 1 FROM changed c JOIN campaign_versions v ON v.id = c.campaign_version_id "
        f"WHERE v.released_at IS NOT NULL) THEN {_pg_raise(MSG_MEMBERS)} END IF; RETURN NULL;"
    ),
    "wb_append_only_results": _pg_raise(MSG_RESULTS),
    "wb_append_only_audit": _pg_raise(MSG_AUDIT),
}

PG_TRIGGERS = (
    "CREATE TRIGGER trg_versions_immutable BEFORE UPDATE OR DELETE ON campaign_versions "
    "FOR EACH ROW EXECUTE FUNCTION wb_guard_released_version()",
    "CREATE TRIGGER trg_members_no_insert AFTER INSERT ON campaign_members "
    "REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION wb_guard_released_members()",
    "CREATE TRIGGER trg_members_no_update AFTER UPDATE ON campaign_members "
    "REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION wb_guard_released_members()",
    "CREATE TRIGGER trg_members_no_delete AFTER DELETE ON campaign_members "
    "REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION wb_guard_released_members()",
    "CREATE TRIGGER trg_results_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON contact_results "
    "FOR EACH STATEMENT EXECUTE FUNCTION wb_append_only_results()",
    "CREATE TRIGGER trg_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION wb_append_only_audit()",
)


def upgrade() -> None:
    _tables()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, (when, table, condition, message) in SQLITE_TRIGGERS.items():
            op.execute(_sqlite_guard(name, when, table, condition, message))
    elif dialect == "postgresql":
        for name, body in PG_FUNCTIONS.items():
            op.execute(_pg_function(name, body))
        for statement in PG_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for name in ("contact_results", "responses", "campaign_members", "campaign_versions", "audit_log", "users",
                 "campaigns"):
        op.drop_table(name)  # indexes and PostgreSQL triggers go with their table
    if dialect == "postgresql":
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
