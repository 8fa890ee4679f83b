"""Member lists: checking a list before release, the worklist a role may work, exports.

Lists are filtered in SQL by :func:`workbench.store.access.member_scope`;
contacts recorded under an earlier version count for the same subscriber.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import func, literal, select

from workbench.data.tables import ORDER_CHANNELS
from workbench.errors import DataValidationError, ParameterError
from workbench.store.access import BRANCH_IDS, PROVINCE_ROLES, User, member_scope, require_role
from workbench.store.core import StoreCore, _frame, _row_tuples
from workbench.store.models import (
    BRANCH_ID, GROUPS, MEMBER_COLUMNS, MEMBER_REQUIRED_COLUMNS, SUBSCRIBER_ID, CampaignMember, CampaignVersion,
    ContactResult,
)

__all__ = ["StoreMembers", "validate_members", "WORKLIST_COLUMNS", "shown_executor"]

#: Columns of :meth:`Store.worklist` and :meth:`Store.export_list`.  ``executor`` is the login the
#: row is assigned to (what filters and the access rules compare); ``executor_name`` the name people
#: know that executor by (:meth:`StoreCore._executor_names`; None for an unassigned row).
WORKLIST_COLUMNS: tuple[str, ...] = (
    "member_id", "campaign_id", "version", *MEMBER_COLUMNS, "contacts", "last_result", "last_contacted_at",
    "callback_at", "executor_name",
)
def shown_executor(row) -> str:
    """Whose customer ``row`` is, as people read it; ``""`` for an unassigned row.

    ``row``: a row of :meth:`Store.worklist` (or any row with ``executor`` and, optionally,
    ``executor_name``, e.g. an evaluation's executor table): the executor's display name
    (``executor_name``, from the store), else the login (``executor``: a row without the name,
    e.g. a frame made outside the store).
    """
    get = row.get if hasattr(row, "get") else (lambda _key, default=None: default)
    for col in ("executor_name", "executor"):
        value = get(col, None)
        if isinstance(value, str) and value:
            return value
    return ""


#: Unmasked phone numbers (11 digits) must never reach the store.
_PLAIN_MSISDN = r"\d{11}"
_STRING_LIMITS = {
    c.name: c.type.length for c in CampaignMember.__table__.columns if getattr(c.type, "length", None)
}


def _problem(column: str, check: str, mask: pd.Series, values: pd.Series) -> dict | None:
    count = int(mask.sum())
    if not count:
        return None
    return {"table": "campaign_members", "column": column, "check": check, "count": count,
            "examples": values[mask].head(5).tolist()}


def validate_members(members: pd.DataFrame) -> pd.DataFrame:
    """Check a released list and return its :data:`MEMBER_COLUMNS` (missing optional ones empty).

    Raises
    ------
    ParameterError
        When ``members`` is not a DataFrame or lacks a required column.
    DataValidationError
        Listing every failed check (lazy, like pandera): duplicate or missing
        subscriber ids, unknown branch / group / channel, text too long, or a
        phone number that is not masked.
    """
    if not isinstance(members, pd.DataFrame):
        raise ParameterError.invalid("members", "a pandas DataFrame", type(members).__name__)
    missing = [c for c in MEMBER_REQUIRED_COLUMNS if c not in members.columns]
    if missing:
        raise ParameterError(
            f"The 'members' table must have the columns {list(MEMBER_REQUIRED_COLUMNS)}; "
            f"missing {missing}. Got columns {list(members.columns)}."
        )
    frame = pd.DataFrame(index=members.index)
    for col in MEMBER_COLUMNS:
        frame[col] = members[col] if col in members.columns else None
    problems = []
    sid = pd.to_numeric(frame[SUBSCRIBER_ID], errors="coerce")
    checks = [
        (SUBSCRIBER_ID, "not null integer", sid.isna() | (sid != sid.round())),
        (SUBSCRIBER_ID, "unique", frame[SUBSCRIBER_ID].duplicated(keep=False) & frame[SUBSCRIBER_ID].notna()),
        (BRANCH_ID, f"isin {list(BRANCH_IDS)}", ~frame[BRANCH_ID].isin(BRANCH_IDS)),
        ("group", f"isin {list(GROUPS)}", ~frame["group"].isin(GROUPS)),
        ("channel", f"isin {list(ORDER_CHANNELS)}", ~frame["channel"].isin(ORDER_CHANNELS)),
        ("score", "numeric or empty", pd.to_numeric(frame["score"], errors="coerce").isna() & frame["score"].notna()),
    ]
    masked = frame["msisdn_masked"].astype("str").where(frame["msisdn_masked"].notna(), "")
    checks.append(("msisdn_masked", "masked (not 11 plain digits)", masked.str.fullmatch(_PLAIN_MSISDN)))
    for col, limit in _STRING_LIMITS.items():
        if col in frame.columns:
            text = frame[col].astype("str").where(frame[col].notna(), "")
            checks.append((col, f"at most {limit} characters", text.str.len() > limit))
    for col, check, mask in checks:
        problem = _problem(col, check, mask.fillna(False).astype(bool), frame[col])
        if problem:
            problems.append(problem)
    if problems:
        lines = "; ".join(f"{p['column']}: {p['check']} failed for {p['count']} rows, e.g. {p['examples']}"
                          for p in problems)
        raise DataValidationError(f"campaign_members: {len(problems)} check(s) failed: {lines}", problems)
    frame[SUBSCRIBER_ID] = sid.astype("int64")
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    # in key order the unique index grows at its end: several times faster for big lists
    return frame.sort_values(SUBSCRIBER_ID, kind="stable").reset_index(drop=True)


def _member_rows(frame: pd.DataFrame, version_id: int, start: int, stop: int) -> list[tuple]:
    """Rows ``start:stop`` of a validated list as tuples of Python values (None for missing)."""
    return _row_tuples(frame.iloc[start:stop], version_id, MEMBER_COLUMNS)


class StoreMembers(StoreCore):
    """The worklist and exports of a campaign's list (part of :class:`workbench.store.Store`)."""

    def _list_query(self, actor: User, campaign_id: int, version: CampaignVersion, *, branch_id=None,
                    executor=None, channel=None, include_control=False):
        m = CampaignMember
        summary = self._contact_summary(campaign_id)
        last = ContactResult.__table__.alias("last_result")
        query = (
            select(
                m.id.label("member_id"), literal(campaign_id).label("campaign_id"),
                literal(version.version).label("version"), *[getattr(m, c) for c in MEMBER_COLUMNS],
                func.coalesce(summary.c.contacts, 0).label("contacts"),
                last.c.result.label("last_result"), last.c.contacted_at.label("last_contacted_at"),
                last.c.callback_at.label("callback_at"),  # the last result's, when it is call_back
            )
            .outerjoin(summary, summary.c.subscriber_id == m.subscriber_id)
            .outerjoin(last, last.c.id == summary.c.last_id)
            .where(m.campaign_version_id == version.id, member_scope(actor))
            .order_by(m.branch_id, m.executor, m.score.desc(), m.id)
        )
        if not include_control:
            query = query.where(m.group == "target")
        for col, value in ((m.branch_id, branch_id), (m.executor, executor), (m.channel, channel)):
            if value is not None:
                query = query.where(col == value)
        return query

    def _named(self, session, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (rows read by :meth:`_list_query`) with ``executor_name``, in :data:`WORKLIST_COLUMNS` order.

        One query for the distinct executors of the rows, not one per row; equal names share one object.
        """
        names = self._executor_names(session, frame["executor"].unique())
        frame["executor_name"] = pd.Series([names.get(e) if isinstance(e, str) else None for e in frame["executor"]],
                                           index=frame.index, dtype=object)
        return frame[list(WORKLIST_COLUMNS)]

    def worklist(self, user: User, campaign_id: int, *, version: int | None = None, branch_id: str | None = None,
                 executor: str | None = None, channel: str | None = None,
                 include_control: bool = False) -> pd.DataFrame:
        """The rows of a campaign ``user`` may work, with each subscriber's contact state.

        Executors get the rows assigned to them, branch managers their branch,
        province roles everything.  The filters narrow further; they never widen.
        Control-group rows (not to be contacted) are left out unless
        ``include_control`` (province roles only).  Contacts recorded under an
        earlier version count for the same subscriber.

        Returns
        -------
        DataFrame
            Columns :data:`WORKLIST_COLUMNS` (``executor_name``: whose customer, as people read it).
        """
        with self._session() as session:
            actor = self._actor(session, user)
            if include_control:
                require_role(actor, PROVINCE_ROLES, "listing control-group members")
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            query = self._list_query(actor, campaign_id, found, branch_id=branch_id, executor=executor,
                                     channel=channel, include_control=include_control)
            return self._named(session, _frame(session.execute(query)))

    def export_list(self, user: User, campaign_id: int, *, version: int | None = None,
                    branch_id: str | None = None, executor: str | None = None, channel: str | None = None,
                    purpose: str = "") -> pd.DataFrame:
        """The same rows as :meth:`worklist`, for leaving the system (a file, a dialler); audit-logged.

        The audit entry (action ``export``) records the filters, the purpose
        and the number of rows, in the same transaction as the read.
        """
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            query = self._list_query(actor, campaign_id, found, branch_id=branch_id, executor=executor,
                                     channel=channel)
            frame = self._named(session, _frame(session.execute(query)))
            self._audit(session, actor, "export", campaign_id, version=found.version, rows=len(frame),
                        branch_id=branch_id, executor=executor, channel=channel, purpose=purpose)
            return frame
