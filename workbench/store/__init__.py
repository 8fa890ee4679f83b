"""The campaign store: who may see what, and nothing lost.

SQLAlchemy models (:mod:`~workbench.store.models`), Alembic migrations
(``workbench/store/migrations``; the only way the schema is made), the
connection (:mod:`~workbench.store.db`: SQLite in WAL mode or PostgreSQL), the
access rules (:mod:`~workbench.store.access`), argon2 passwords
(:mod:`~workbench.store.passwords`) and :class:`Store`, through which every
app reads and writes, with the acting user passed explicitly and every
release, export, result and sign-in in the audit log.
"""
from workbench.store.access import (
    BRANCH_ROLES, DESIGN_ROLES, PROVINCE_ROLES, RESULT_WRITERS, SYSTEM_USER, User, can_read_member,
    can_write_member, require_role, sees_all_members, totals_branch,
)
from workbench.store.db import (
    DEFAULT_STORE_PATH, STORE_URL_ENV, current_revision, default_url, engine_for, head_revision, upgrade,
)
from workbench.store.models import (
    CAMPAIGN_STATUSES, CONTACT_RESULTS, GROUPS, MEMBER_COLUMNS, MEMBER_REQUIRED_COLUMNS, ROLES,
    ImmutableVersionError,
)
from workbench.store.passwords import MIN_PASSWORD_LENGTH, PasswordPolicy
from workbench.store.repository import (
    BRANCH_TOTALS_COLUMNS, MAX_NOTE_LENGTH, PROGRESS_COLUMNS, RECORDED_BATCH_COLUMNS, RESULT_BATCH_COLUMNS,
    WORKLIST_COLUMNS, RecordedResult, Release, Store, spec_hash, validate_members,
)

__all__ = [
    "Store", "Release", "RecordedResult", "spec_hash", "validate_members",
    "WORKLIST_COLUMNS", "PROGRESS_COLUMNS", "BRANCH_TOTALS_COLUMNS", "MAX_NOTE_LENGTH", "RESULT_BATCH_COLUMNS",
    "RECORDED_BATCH_COLUMNS",
    "User", "SYSTEM_USER", "BRANCH_ROLES", "PROVINCE_ROLES", "DESIGN_ROLES", "RESULT_WRITERS",
    "can_read_member", "can_write_member", "require_role", "sees_all_members", "totals_branch",
    "engine_for", "upgrade", "current_revision", "head_revision", "default_url", "STORE_URL_ENV",
    "DEFAULT_STORE_PATH",
    "ROLES", "CAMPAIGN_STATUSES", "GROUPS", "CONTACT_RESULTS", "MEMBER_COLUMNS", "MEMBER_REQUIRED_COLUMNS",
    "ImmutableVersionError",
    "PasswordPolicy", "MIN_PASSWORD_LENGTH",
]
