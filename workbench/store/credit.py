"""Credit rules: the OCS rules of a credit model version, written by analysts, read by province roles."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import delete, insert, select

from workbench.errors import ParameterError
from workbench.store.access import DESIGN_ROLES, PROVINCE_ROLES, User, require_role
from workbench.store.core import StoreCore, _frame
from workbench.store.models import OcsRule

__all__ = ["StoreCredit", "OCS_STORE_COLUMNS"]

#: Columns of an OCS rules table the store keeps (besides the model version).
OCS_STORE_COLUMNS: tuple[str, ...] = (
    "grade", "score_min", "score_max", "credit_limit_yuan", "stop_priority", "exit_condition",
    "promotions_excluded",
)


class StoreCredit(StoreCore):
    """OCS rules per credit grade (part of :class:`workbench.store.Store`)."""

    def write_ocs_rules(self, user: User, model_version: str, rules: pd.DataFrame) -> int:
        """Replace the OCS rules of ``model_version`` in one transaction (analyst / admin); returns rows.

        ``rules`` has :data:`OCS_STORE_COLUMNS` (as :func:`workbench.credit.actions.ocs_rules` makes).
        Nothing is written when a column or value is wrong.
        """
        if not isinstance(rules, pd.DataFrame):
            raise ParameterError.invalid("rules", "a pandas DataFrame", type(rules).__name__)
        version = str(model_version or "").strip()
        if not version or len(version) > 64:
            raise ParameterError.invalid("model_version", "a non-empty text of at most 64 characters",
                                         model_version)
        missing = [c for c in OCS_STORE_COLUMNS if c not in rules.columns]
        if missing:
            raise ParameterError(f"The 'rules' table must have the columns {list(OCS_STORE_COLUMNS)}; "
                                 f"missing {missing}. Got columns {list(rules.columns)}.")
        if rules["grade"].duplicated().any() or rules["grade"].isna().any():
            raise ParameterError.invalid("rules", "one row per grade", rules["grade"].tolist())
        rows = [{"model_version": version, "grade": str(r.grade), "score_min": float(r.score_min),
                 "score_max": float(r.score_max), "credit_limit_yuan": float(r.credit_limit_yuan),
                 "stop_priority": int(r.stop_priority), "exit_condition": str(r.exit_condition),
                 "promotions_excluded": bool(r.promotions_excluded)}
                for r in rules.itertuples(index=False)]
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, DESIGN_ROLES, "writing OCS rules")
            session.execute(delete(OcsRule).where(OcsRule.model_version == version))
            if rows:
                session.execute(insert(OcsRule), rows)
            self._audit(session, actor, "write_ocs_rules", None, model_version=version, rows=len(rows))
        return len(rows)

    def ocs_rules(self, user: User, model_version: str | None = None) -> pd.DataFrame:
        """OCS rules of one model version (default: every version), grade order (province roles)."""
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, PROVINCE_ROLES, "reading OCS rules")
            r = OcsRule
            query = select(r.model_version, *(getattr(r, c) for c in OCS_STORE_COLUMNS))
            if model_version is not None:
                query = query.where(r.model_version == str(model_version))
            return _frame(session.execute(query.order_by(r.model_version, r.grade)))
