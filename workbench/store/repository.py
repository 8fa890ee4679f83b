"""Every read and write the apps make, with the acting user passed explicitly.

Access control is enforced in the store, not in widgets: lists are filtered in
SQL by the rules of :mod:`workbench.store.access`, single rows are checked
before they are touched, and the acting user is re-read from ``users`` on every
call (a deactivated user is refused at once).  Each release, export, result,
sign-in and user change writes an ``audit_log`` row in the same transaction.

:class:`Store` is composed of one class per concern, each over the same core
(:class:`workbench.store.core.StoreCore`: sessions, the acting user, audit
writing, campaign and version lookup):

- :class:`~workbench.store.users.StoreUsers`: add_user, set_active, set_password, list_users,
  authenticate;
- :class:`~workbench.store.campaigns.StoreCampaigns`: save_draft, release_campaign, new_version,
  close_campaign, visible_campaigns, versions, spec;
- :class:`~workbench.store.members.StoreMembers`: worklist, export_list (and :func:`validate_members`);
- :class:`~workbench.store.results.StoreResults`: record_result, record_results;
- :class:`~workbench.store.progress.StoreProgress`: contact_results, progress, branch_totals;
- :class:`~workbench.store.responses.StoreResponses`: record_responses, responses;
- :class:`~workbench.store.audit.StoreAudit`: audit_log; :class:`~workbench.store.audit.StoreNumbers`:
  reveal_number, reveals_today (a caller's number, audit-logged, capped per day);
- :class:`~workbench.store.sessions.StoreSessions`: sign-in sessions and throttling;
- :class:`~workbench.store.lookup.StoreLookup`: published cards one subscriber at a time, API tokens,
  the API's audit;
- :class:`~workbench.store.published.StorePublished`: create/load/activate/fail/rollback_published,
  published_versions, current_published, iter_published (results published for operations);
- :class:`~workbench.store.credit.StoreCredit`: write_ocs_rules, ocs_rules.

Who may do what is decided only in :mod:`workbench.store.access`.

>>> import pandas as pd
>>> from workbench.store import Store, SYSTEM_USER
>>> store = Store("sqlite://", progress=False)              # doctest: +SKIP
>>> analyst = store.add_user(SYSTEM_USER, "ana", "analyst", password="s3cret-pass")  # doctest: +SKIP
>>> members = pd.DataFrame({"subscriber_id": [1, 2], "branch_id": ["urumqi", "hami"],
...                         "group": ["target", "control"], "channel": ["outbound_call"] * 2})
>>> release = store.release_campaign(analyst, {"name": "News Q1", "product": "mnp_news"}, members)  # doctest: +SKIP
"""
from __future__ import annotations

from workbench.store.audit import StoreAudit, StoreNumbers
from workbench.store.campaigns import Release, StoreCampaigns, spec_hash
from workbench.store.credit import StoreCredit
from workbench.store.lookup import StoreLookup
from workbench.store.members import WORKLIST_COLUMNS, StoreMembers, validate_members
from workbench.store.published import StorePublished
from workbench.store.progress import BRANCH_TOTALS_COLUMNS, PROGRESS_COLUMNS, StoreProgress
from workbench.store.responses import StoreResponses
from workbench.store.results import (
    MAX_NOTE_LENGTH, RECORDED_BATCH_COLUMNS, RESULT_BATCH_COLUMNS, RecordedResult, StoreResults,
)
from workbench.store.sessions import StoreSessions
from workbench.store.users import StoreUsers

__all__ = [
    "Store", "Release", "RecordedResult", "spec_hash", "validate_members", "WORKLIST_COLUMNS", "PROGRESS_COLUMNS",
    "BRANCH_TOTALS_COLUMNS", "MAX_NOTE_LENGTH", "RESULT_BATCH_COLUMNS", "RECORDED_BATCH_COLUMNS",
]


class Store(StoreUsers, StoreCampaigns, StoreMembers, StoreResults, StoreProgress, StoreResponses, StoreAudit,
            StoreNumbers, StoreSessions, StoreLookup, StorePublished, StoreCredit):
    """The campaign store: one database, every operation the workbench performs on it.

    Parameters
    ----------
    url : str, optional
        Store URL (see :func:`workbench.store.db.engine_for`); default
        ``$WORKBENCH_STORE_URL`` or ``runs/store.sqlite``.
    engine : sqlalchemy.Engine, optional
        Use this engine instead of making one from ``url``.
    migrate : bool
        Run the Alembic migrations up to the newest revision first (idempotent).
    password_policy : PasswordPolicy, optional
        How passwords are hashed (default: argon2id with argon2-cffi's costs).
    chunk_size : int
        Rows per batch when bulk-inserting a list.
    progress : bool
        Show a tqdm progress bar while inserting large lists.
    policy : AccessPolicy, optional
        The organisation's access settings (may a branch manager record on an executor's
        customer; numbers revealed per user and day), see :mod:`workbench.store.access`.
        Default :meth:`AccessPolicy.from_env`.
    """
