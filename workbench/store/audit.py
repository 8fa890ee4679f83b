"""Reading the audit log (writing it is :meth:`workbench.store.core.StoreCore._audit`, in every transaction),
and the audited reveal of a customer's number (:class:`StoreNumbers`)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
from sqlalchemy import func, select

from workbench.errors import AccessDenied, ParameterError
from workbench.store.access import PROVINCE_ROLES, REVEAL_CAP_ENV, User, can_reveal_number, require_role
from workbench.store.core import StoreCore, _frame
from workbench.store.models import AuditEntry, CampaignMember, CampaignVersion, UserRecord, utcnow
from workbench.store.results import PROVINCE_UTC_OFFSET

__all__ = ["StoreAudit", "StoreNumbers", "RevealLimitReached", "REVEAL_ACTION", "province_day_start"]

#: The audit action of one revealed number.
REVEAL_ACTION = "reveal_number"


class StoreAudit(StoreCore):
    """The audit log (part of :class:`workbench.store.Store`)."""

    def audit_log(self, user: User, *, campaign_id: int | None = None, action: str | None = None,
                  user_name: str | None = None, limit: int = 1000) -> pd.DataFrame:
        """The newest audit entries, filtered (province roles).

        Columns: ``at, user_name, action, campaign_id, details``.
        """
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, PROVINCE_ROLES, "reading the audit log")
            a = AuditEntry
            query = select(a.id, a.at, a.user_name, a.action, a.campaign_id, a.details).order_by(a.id.desc())
            for col, value in ((a.campaign_id, campaign_id), (a.action, action), (a.user_name, user_name)):
                if value is not None:
                    query = query.where(col == value)
            return _frame(session.execute(query.limit(int(limit))))


class RevealLimitReached(AccessDenied):
    """A user has revealed as many numbers today as the policy allows: carries the figures so a page
    can say it in its language.

    Attributes
    ----------
    user_name : str
    cap : int
        Reveals allowed per day (:attr:`AccessPolicy.reveal_daily_cap`).
    used : int
        Reveals already made today.
    """

    def __init__(self, user_name: str, cap: int, used: int):
        self.user_name, self.cap, self.used = user_name, int(cap), int(used)
        super().__init__(f"user {user_name!r} has revealed {used} phone numbers today; the daily cap is {cap} "
                         f"(setting {REVEAL_CAP_ENV}); try again tomorrow")


def province_day_start(now: dt.datetime | None = None) -> dt.datetime:
    """Local midnight (the province's clock, UTC+8) of the day of ``now`` (default: now), timezone-aware."""
    now = now or utcnow()
    local = now.astimezone(PROVINCE_UTC_OFFSET)
    return dt.datetime.combine(local.date(), dt.time(), PROVINCE_UTC_OFFSET)


class StoreNumbers(StoreCore):
    """Revealing a customer's full number to the user who calls them (part of :class:`workbench.store.Store`).

    Full numbers are never stored: the caller passes ``lookup`` (subscriber id -> number, e.g. read from
    the province data); the store decides whether the user may see it (:func:`can_reveal_number` under
    :attr:`policy`), counts the user's reveals of the day against ``policy.reveal_daily_cap`` and writes
    one ``audit_log`` row per reveal (action ``reveal_number``: who, which member and subscriber, when).
    """

    def _reveals_since(self, session, name: str, since: dt.datetime) -> int:
        a = AuditEntry
        return int(session.execute(select(func.count()).select_from(a).where(
            a.user_name == name, a.action == REVEAL_ACTION, a.at >= since)).scalar_one())

    def reveals_today(self, user: User) -> tuple[int, int]:
        """``(used, cap)``: numbers ``user`` revealed today (province day) and the daily cap."""
        with self._session() as session:
            actor = self._actor(session, user)
            return self._reveals_since(session, actor.name, province_day_start()), self.policy.reveal_daily_cap

    def reveal_number(self, user: User, member_id: int, lookup: Callable[[int], str | None]) -> str:
        """The full number of a worklist row, for ``user`` to call; audit-logged and capped per day.

        Parameters
        ----------
        user : User
            The acting user: a caller (:data:`CALLER_ROLES`) whose row it is (:func:`can_reveal_number`).
        member_id : int
            ``member_id`` of a worklist row (target group).
        lookup : callable
            ``lookup(subscriber_id) -> number or None``; called only once the reveal is allowed, inside
            the transaction that writes the audit row (a failed lookup writes nothing).

        Returns
        -------
        str
            The full number (never stored, never logged).

        Raises
        ------
        AccessDenied
            The row is outside what ``user`` may reveal (another executor's customer, another branch,
            a role that does not call), even if the id is valid.
        RevealLimitReached
            ``user`` reached the daily cap (the refusal is audit-logged, action ``reveal_refused``).
        ParameterError
            A control-group row (never contacted), or a subscriber the lookup has no number for.
        """
        refused = None
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            m, v = CampaignMember, CampaignVersion
            row = session.execute(
                select(m.branch_id, m.executor, m.subscriber_id, m.group, v.campaign_id)
                .join(v, m.campaign_version_id == v.id).where(m.id == int(member_id))).first()
            if row is None or not can_reveal_number(actor, row.branch_id, row.executor, self.policy):
                raise AccessDenied(f"revealing the number of member {member_id} is not allowed for user "
                                   f"{actor.name!r} (role {actor.role!r}, branch {actor.branch_id!r})")
            if row.group != "target":
                raise ParameterError(f"member {member_id} is in the {row.group!r} group, which must not be contacted")
            # one reveal at a time per user (PostgreSQL; SQLite's write transaction is already exclusive)
            session.execute(select(UserRecord.id).where(UserRecord.name == actor.name).with_for_update())
            cap = self.policy.reveal_daily_cap
            used = self._reveals_since(session, actor.name, province_day_start())
            if used >= cap:
                self._audit(session, actor, "reveal_refused", row.campaign_id, member_id=int(member_id),
                            used=used, cap=cap)
                refused = RevealLimitReached(actor.name, cap, used)
            else:
                number = lookup(int(row.subscriber_id))
                if number is None or not str(number).strip():
                    raise ParameterError(f"subscriber {int(row.subscriber_id)} (member {member_id}) has no phone "
                                         "number in the data")
                self._audit(session, actor, REVEAL_ACTION, row.campaign_id, member_id=int(member_id),
                            subscriber_id=int(row.subscriber_id), executor=row.executor, count=used + 1, cap=cap)
        if refused is not None:
            raise refused
        return str(number).strip()
