"""The campaign store: who may see what, and nothing lost.

SQLAlchemy models (:mod:`~workbench.store.models`), Alembic migrations
(``workbench/store/migrations``; the only way the schema is made), the
connection (:mod:`~workbench.store.db`: SQLite in WAL mode or PostgreSQL), the
access rules (:mod:`~workbench.store.access`, the only place roles are
decided), argon2 passwords (:mod:`~workbench.store.passwords`) and
:class:`Store`, through which every app reads and writes, with the acting user
passed explicitly and every release, export, result and sign-in in the audit
log.  ``Store`` (:mod:`~workbench.store.repository`) is one class per concern
over one core (:mod:`~workbench.store.core`): users, campaigns, member lists,
results, progress, responses and audit.
"""
from workbench.store.access import (
    BRANCH_ROLES, DESIGN_ROLES, NUMBER_VISIBLE_ROLES, PROVINCE_ROLES, RESULT_WRITERS, SYSTEM_USER, USER_ADMINS,
    USER_READERS, User, can_read_member, can_read_responses, can_see_numbers, can_write_member,
    may_record_for_others, member_scope, require_role, sees_all_members, sees_drafts, sees_missing_members,
    totals_branch, user_scope,
)
from workbench.store.campaigns import Release, spec_hash
from workbench.store.db import (
    DEFAULT_STORE_PATH, STORE_URL_ENV, current_revision, default_url, engine_for, head_revision, upgrade,
)
from workbench.store.members import WORKLIST_COLUMNS, validate_members
from workbench.store.models import (
    CAMPAIGN_STATUSES, CONTACT_RESULTS, GROUPS, MEMBER_COLUMNS, MEMBER_REQUIRED_COLUMNS, ROLES,
    ImmutableVersionError,
)
from workbench.store.passwords import MIN_PASSWORD_LENGTH, PasswordPolicy
from workbench.store.progress import (
    BRANCH_TOTALS_COLUMNS, DAILY_COUNT_COLUMNS, GROUP_COUNT_COLUMNS, PROGRESS_COLUMNS, CampaignPeriod,
)
from workbench.store.repository import Store
from workbench.store.results import MAX_NOTE_LENGTH, RECORDED_BATCH_COLUMNS, RESULT_BATCH_COLUMNS, RecordedResult

__all__ = [
    "Store", "Release", "RecordedResult", "spec_hash", "validate_members",
    "WORKLIST_COLUMNS", "PROGRESS_COLUMNS", "BRANCH_TOTALS_COLUMNS", "MAX_NOTE_LENGTH", "RESULT_BATCH_COLUMNS",
    "RECORDED_BATCH_COLUMNS", "DAILY_COUNT_COLUMNS", "GROUP_COUNT_COLUMNS", "CampaignPeriod",
    "User", "SYSTEM_USER", "BRANCH_ROLES", "PROVINCE_ROLES", "DESIGN_ROLES", "RESULT_WRITERS",
    "can_read_member", "can_write_member", "require_role", "sees_all_members", "totals_branch",
    "USER_ADMINS", "USER_READERS", "NUMBER_VISIBLE_ROLES", "can_read_responses", "can_see_numbers",
    "may_record_for_others", "member_scope", "sees_drafts", "sees_missing_members", "user_scope",
    "engine_for", "upgrade", "current_revision", "head_revision", "default_url", "STORE_URL_ENV",
    "DEFAULT_STORE_PATH",
    "ROLES", "CAMPAIGN_STATUSES", "GROUPS", "CONTACT_RESULTS", "MEMBER_COLUMNS", "MEMBER_REQUIRED_COLUMNS",
    "ImmutableVersionError",
    "PasswordPolicy", "MIN_PASSWORD_LENGTH",
]
