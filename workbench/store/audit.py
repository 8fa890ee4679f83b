"""Reading the audit log (writing it is :meth:`workbench.store.core.StoreCore._audit`, in every transaction)."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from workbench.store.access import PROVINCE_ROLES, User, require_role
from workbench.store.core import StoreCore, _frame
from workbench.store.models import AuditEntry

__all__ = ["StoreAudit"]


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
