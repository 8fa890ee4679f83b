"""Reading contact results back: the recorded contacts, execution progress, one branch's totals.

Counts are recomputed from the store on every call; each role sees the rows
of its scope (:func:`workbench.store.access.member_scope`), and branch totals
are aggregates only (:func:`workbench.store.access.totals_branch`).
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from workbench.errors import AccessDenied
from workbench.store.access import User, member_scope, sees_all_members, totals_branch
from workbench.store.core import StoreCore, _frame
from workbench.store.models import CampaignMember, CampaignVersion, ContactResult

__all__ = ["StoreProgress", "PROGRESS_COLUMNS", "BRANCH_TOTALS_COLUMNS"]

#: Columns of :meth:`Store.progress`.
PROGRESS_COLUMNS: tuple[str, ...] = (
    "dimension", "key", "members", "contacted", "reached", "accepted",
    "contacted_rate", "reached_rate", "accepted_rate",
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
            ``total, branch, channel, executor``.
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
