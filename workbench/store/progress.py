"""Reading contact results back: the recorded contacts, execution progress, one branch's totals.

Counts are recomputed from the store on every call; each role sees the rows
of its scope (:func:`workbench.store.access.member_scope`), and branch totals
are aggregates only (:func:`workbench.store.access.totals_branch`).

The monitoring view reads aggregates only (:meth:`StoreProgress.daily_counts`,
:meth:`StoreProgress.group_counts`, :meth:`StoreProgress.campaign_period`):
the database counts per day, branch and executor, so a 200,000-member
campaign returns a few thousand rows, never its members or results.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Date, case, func, literal, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from workbench.errors import AccessDenied
from workbench.store.access import (
    PROVINCE_ROLES, User, can_read_responses, member_scope, require_role, sees_all_members, totals_branch,
)
from workbench.store.core import StoreCore, _frame
from workbench.store.models import CampaignMember, CampaignVersion, ContactResult, Response

__all__ = ["StoreProgress", "PROGRESS_COLUMNS", "BRANCH_TOTALS_COLUMNS", "DAILY_COUNT_COLUMNS",
           "GROUP_COUNT_COLUMNS", "PROVINCE_UTC_HOURS", "CampaignPeriod"]

#: Hours the province's clock is ahead of UTC (Beijing time): a contact's day is its local day.
PROVINCE_UTC_HOURS = 8
#: Columns of :meth:`Store.daily_counts`: per local day, branch and (assigned) executor.
DAILY_COUNT_COLUMNS: tuple[str, ...] = ("day", "branch", "executor", "contacted", "results", "accepted", "orders")
#: Columns of :meth:`Store.group_counts`: per experiment group.
GROUP_COUNT_COLUMNS: tuple[str, ...] = ("group", "members", "ordered")


class local_day(FunctionElement):
    """The province's local calendar day (UTC+8) of a UTC timestamp column, computed by the database."""

    type = Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+{PROVINCE_UTC_HOURS} hours')"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element, compiler, **kw):
    # timestamptz -> UTC wall time -> + offset -> its date: independent of the session's time zone
    return (f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') "
            f"+ INTERVAL '{PROVINCE_UTC_HOURS} hours' AS DATE)")


class CampaignPeriod(tuple):
    """``(start, end)`` local days of a campaign version's period (``goal.period_start/end`` of its spec).

    ``end`` is None when the spec names no end.
    """

    __slots__ = ()

    def __new__(cls, start: dt.date, end: dt.date | None):
        return super().__new__(cls, (start, end))

    @property
    def start(self) -> dt.date:
        return self[0]

    @property
    def end(self) -> dt.date | None:
        return self[1]

#: Columns of :meth:`Store.progress`.  ``executor_name``: on an ``executor`` row the name people know the
#: executor (``key``, the login) by (:meth:`StoreCore._executor_names`); None on every other row.
PROGRESS_COLUMNS: tuple[str, ...] = (
    "dimension", "key", "members", "contacted", "reached", "accepted",
    "contacted_rate", "reached_rate", "accepted_rate", "executor_name",
)
#: Columns of :meth:`Store.branch_totals` (one row: counts of one branch, never an executor's).
BRANCH_TOTALS_COLUMNS: tuple[str, ...] = (
    "branch", "members", "contacted", "reached", "accepted", "contacted_rate", "reached_rate", "accepted_rate",
)


class StoreProgress(StoreCore):
    """Contacts, progress and branch totals (part of :class:`workbench.store.Store`)."""

    def contact_results(self, user: User, campaign_id: int) -> pd.DataFrame:
        """Every recorded contact of a campaign (all versions) within ``user``'s scope."""
        with self._session() as session:
            actor = self._actor(session, user)
            self._campaign(session, campaign_id)
            m, r, v = CampaignMember, ContactResult, CampaignVersion
            query = (
                select(r.id.label("result_id"), r.member_id, v.version, m.subscriber_id, m.branch_id, m.channel,
                       r.executor, r.result, r.note, r.contacted_at, r.recorded_at, r.client_request_id)
                .join(m, r.member_id == m.id).join(v, m.campaign_version_id == v.id)
                .where(v.campaign_id == campaign_id, member_scope(actor))
                .order_by(r.id)
            )
            return _frame(session.execute(query))

    def progress(self, user: User, campaign_id: int, *, version: int | None = None) -> pd.DataFrame:
        """Execution progress of the target group, recomputed from the store.

        For the rows in ``user``'s scope: members, contacted (at least one
        attempt recorded), reached (some answer other than ``not_reachable``),
        accepted (an ``accepted`` result), and their shares of members — in
        total and by branch, channel and executor.

        Returns
        -------
        DataFrame
            Columns :data:`PROGRESS_COLUMNS`; ``dimension`` is one of
            ``total, branch, channel, executor``; executor rows carry the
            executor's display name (``executor_name``; ``key`` stays the login).
        """
        with self._session() as session:
            actor = self._actor(session, user)
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            m = CampaignMember
            summary = self._contact_summary(campaign_id)
            query = (
                select(m.branch_id.label("branch"), m.channel.label("channel"), m.executor.label("executor"),
                       func.count(m.id).label("members"), func.count(summary.c.subscriber_id).label("contacted"),
                       func.coalesce(func.sum(summary.c.reached), 0).label("reached"),
                       func.coalesce(func.sum(summary.c.accepted), 0).label("accepted"))
                .outerjoin(summary, summary.c.subscriber_id == m.subscriber_id)
                .where(m.campaign_version_id == found.id, m.group == "target", member_scope(actor))
                .group_by(m.branch_id, m.channel, m.executor)
            )
            cells = _frame(session.execute(query))
            names = self._executor_names(session, cells["executor"].unique())
        counts = ["members", "contacted", "reached", "accepted"]
        cells[counts] = cells[counts].astype("int64")
        parts = [pd.DataFrame({"dimension": ["total"], "key": ["total"],
                               **{c: [int(cells[c].sum())] for c in counts}})]
        for dimension in ("branch", "channel", "executor"):
            part = cells.groupby(dimension, dropna=False, sort=True)[counts].sum().reset_index()
            part = part.rename(columns={dimension: "key"})
            part.insert(0, "dimension", dimension)
            parts.append(part)
        out = pd.concat(parts, ignore_index=True)
        out["key"] = out["key"].astype(object).where(out["key"].notna(), None)
        out["executor_name"] = pd.Series([names.get(k) if d == "executor" and isinstance(k, str) else None
                                          for d, k in zip(out["dimension"], out["key"])], dtype=object)
        members = out["members"].where(out["members"] > 0)
        for c in ("contacted", "reached", "accepted"):
            out[f"{c}_rate"] = (out[c] / members).astype("float64").fillna(0.0)
        return out[list(PROGRESS_COLUMNS)]

    def branch_totals(self, user: User, campaign_id: int, *, branch_id: str | None = None,
                      version: int | None = None) -> pd.DataFrame:
        """Totals of one branch's target group: members, contacted, reached, accepted and their shares.

        Aggregates only - no member rows and no executor's figures - so an
        executor may compare their own progress with the branch's.  Branch
        roles get their own branch whatever ``branch_id`` says (another branch
        is refused and the refusal is written to the audit log); province roles
        name the branch.  Counted like :meth:`progress` (contacts under earlier
        versions count for the same subscriber).

        Parameters
        ----------
        user : User
            The signed-in user.
        campaign_id : int
            The campaign; branch roles must have rows in it.
        branch_id : str, optional
            The branch (default: the user's own; required for province roles).
        version : int, optional
            Released version (default: the newest).

        Returns
        -------
        DataFrame
            One row, columns :data:`BRANCH_TOTALS_COLUMNS`.

        Raises
        ------
        AccessDenied
            Another branch asked for by a branch role (audit action
            ``branch_totals_refused``), or a campaign without rows in the user's scope.
        ParameterError
            Unknown campaign, version or branch code; no branch named by a province role.
        """
        denied: AccessDenied | None = None
        with self._session() as session:
            actor = self._actor(session, user)
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            try:
                branch = totals_branch(actor, branch_id)
            except AccessDenied as exc:
                denied = exc
            else:
                m = CampaignMember
                if not sees_all_members(actor) and session.execute(select(m.id).where(
                        m.campaign_version_id == found.id, member_scope(actor)).limit(1)).first() is None:
                    raise AccessDenied(f"campaign {campaign_id} has no rows for user {actor.name!r}")
                summary = self._contact_summary(campaign_id)
                row = session.execute(
                    select(func.count(m.id).label("members"), func.count(summary.c.subscriber_id).label("contacted"),
                           func.coalesce(func.sum(summary.c.reached), 0).label("reached"),
                           func.coalesce(func.sum(summary.c.accepted), 0).label("accepted"))
                    .outerjoin(summary, summary.c.subscriber_id == m.subscriber_id)
                    .where(m.campaign_version_id == found.id, m.group == "target", m.branch_id == branch)
                ).one()
        if denied is not None:
            with self._session(write=True) as session:
                self._audit(session, actor, "branch_totals_refused", campaign_id, branch_id=branch_id)
            raise denied
        counts = {c: int(getattr(row, c)) for c in ("members", "contacted", "reached", "accepted")}
        rates = {f"{c}_rate": (counts[c] / counts["members"] if counts["members"] else 0.0)
                 for c in ("contacted", "reached", "accepted")}
        return pd.DataFrame([{"branch": branch, **counts, **rates}], columns=list(BRANCH_TOTALS_COLUMNS))

    # ------------------------------------------------------------------ aggregates of the monitoring view
    def campaign_period(self, user: User, campaign_id: int, *, version: int | None = None) -> CampaignPeriod:
        """The campaign's period as local days: ``goal.period_start`` .. ``goal.period_end`` of its spec.

        Without a period start, the local day of release (as contact times are bounded,
        :func:`workbench.store.results.campaign_start`); without an end, ``end`` is None.
        """
        from workbench.store.results import PROVINCE_UTC_OFFSET, campaign_start

        with self._session() as session:
            self._actor(session, user)
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            spec, released_at = found.spec, found.released_at
        start = campaign_start(spec, released_at).astimezone(PROVINCE_UTC_OFFSET).date()
        goal = (spec or {}).get("goal") if isinstance(spec, dict) else None
        end = None
        if isinstance(goal, dict) and goal.get("period_end"):
            try:
                end = dt.date.fromisoformat(str(goal["period_end"])[:10])
            except ValueError:
                end = None
        return CampaignPeriod(start, end if end is None or end >= start else start)

    def daily_counts(self, user: User, campaign_id: int, *, version: int | None = None) -> pd.DataFrame:
        """Per local day (UTC+8), branch and assigned executor: what happened to the target group in ``user``'s scope.

        Counted by the database (GROUP BY), over the members of the released
        version (default: the newest) and the contacts of every version of the
        campaign for the same subscribers, as :meth:`progress` counts:

        ``contacted``
            members whose **first** contact fell on that day;
        ``results``
            contact attempts recorded for that day (every result row);
        ``accepted``
            members whose first ``accepted`` result fell on that day;
        ``orders``
            orders recorded (:meth:`Store.record_responses`) with that order date;
            empty (``<NA>``) for roles that may not read responses
            (:func:`workbench.store.access.can_read_responses`).

        Returns
        -------
        DataFrame
            Columns :data:`DAILY_COUNT_COLUMNS`, one row per (day, branch, executor) with
            something counted, sorted; ``day`` is a ``datetime.date``; ``executor`` None for
            unassigned rows.
        """
        with self._session() as session:
            actor = self._actor(session, user)
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            m, r, v = CampaignMember, ContactResult, CampaignVersion
            contacted_member = aliased(CampaignMember)
            scope = (m.campaign_version_id == found.id, m.group == "target", member_scope(actor))
            versions = select(v.id).where(v.campaign_id == campaign_id)
            # every result of the campaign, keyed by subscriber
            results = (
                select(contacted_member.subscriber_id.label("subscriber_id"), r.contacted_at, r.result)
                .join(contacted_member, r.member_id == contacted_member.id)
                .where(contacted_member.campaign_version_id.in_(versions))
                .cte("results").prefix_with("MATERIALIZED")   # read once, used by two parts
            )
            first = (
                select(results.c.subscriber_id, func.min(results.c.contacted_at).label("first_at"),
                       func.min(case((results.c.result == "accepted", results.c.contacted_at))).label("accepted_at"))
                .group_by(results.c.subscriber_id).cte("first").prefix_with("MATERIALIZED")
            )
            zero = literal(0)
            parts = [
                select(local_day(first.c.first_at).label("day"), m.branch_id, m.executor,
                       func.count().label("contacted"), zero.label("results"), zero.label("accepted"),
                       zero.label("orders"))
                .join(first, first.c.subscriber_id == m.subscriber_id).where(*scope)
                .group_by(local_day(first.c.first_at), m.branch_id, m.executor),
                select(local_day(first.c.accepted_at).label("day"), m.branch_id, m.executor,
                       zero, zero, func.count(), zero)
                .join(first, first.c.subscriber_id == m.subscriber_id)
                .where(*scope, first.c.accepted_at.is_not(None))
                .group_by(local_day(first.c.accepted_at), m.branch_id, m.executor),
                select(local_day(results.c.contacted_at).label("day"), m.branch_id, m.executor,
                       zero, func.count(), zero, zero)
                .join(results, results.c.subscriber_id == m.subscriber_id).where(*scope)
                .group_by(local_day(results.c.contacted_at), m.branch_id, m.executor),
            ]
            orders = can_read_responses(actor)
            if orders:
                o = Response
                parts.append(
                    select(o.order_date.label("day"), m.branch_id, m.executor, zero, zero, zero, func.count())
                    .join(o, o.subscriber_id == m.subscriber_id)
                    .where(*scope, o.campaign_version_id.in_(versions))
                    .group_by(o.order_date, m.branch_id, m.executor))
            both = union_all(*parts).subquery("parts")
            query = (
                select(both.c.day, both.c.branch_id.label("branch"), both.c.executor,
                       *(func.sum(getattr(both.c, c)).label(c) for c in DAILY_COUNT_COLUMNS[3:]))
                .group_by(both.c.day, both.c.branch_id, both.c.executor)
            )
            rows = session.execute(query).all()
        out = pd.DataFrame(rows, columns=list(DAILY_COUNT_COLUMNS)) if rows else pd.DataFrame(
            {c: pd.Series(dtype=object if c in DAILY_COUNT_COLUMNS[:3] else "int64") for c in DAILY_COUNT_COLUMNS})
        out["day"] = [d if isinstance(d, dt.date) or d is None else dt.date.fromisoformat(str(d)[:10])
                      for d in out["day"]]
        for c in DAILY_COUNT_COLUMNS[3:]:
            out[c] = out[c].astype("int64")
        if not orders:
            out["orders"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["executor"] = out["executor"].astype(object).where(out["executor"].notna(), None)
        order = out.assign(_e=out["executor"].fillna("")).sort_values(["day", "branch", "_e"]).index
        return out.loc[order].reset_index(drop=True)

    def group_counts(self, user: User, campaign_id: int, *, version: int | None = None) -> pd.DataFrame:
        """Members of each experiment group and how many of them ordered (province roles): the first read.

        ``ordered`` counts members with at least one recorded response of any version of
        the campaign (:meth:`Store.record_responses`), by the database.

        Returns
        -------
        DataFrame
            Columns :data:`GROUP_COUNT_COLUMNS`, one row per group present (``control``, ``target``).

        Raises
        ------
        AccessDenied
            For roles that may not read responses.
        """
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, PROVINCE_ROLES, "reading responses")
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            m, o, v = CampaignMember, Response, CampaignVersion
            ordered = (select(o.subscriber_id.label("subscriber_id")).distinct()
                       .where(o.campaign_version_id.in_(select(v.id).where(v.campaign_id == campaign_id)))
                       .subquery("ordered"))
            rows = session.execute(
                select(m.group, func.count(m.id), func.count(ordered.c.subscriber_id))
                .outerjoin(ordered, ordered.c.subscriber_id == m.subscriber_id)
                .where(m.campaign_version_id == found.id, member_scope(actor))
                .group_by(m.group).order_by(m.group)
            ).all()
        out = pd.DataFrame(rows, columns=list(GROUP_COUNT_COLUMNS))
        out[["members", "ordered"]] = out[["members", "ordered"]].astype("int64")
        return out
