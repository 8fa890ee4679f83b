"""Responses: the orders observed after a campaign, recorded by analysts and read by province roles."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import insert, select

from workbench.errors import DataValidationError, ParameterError
from workbench.store.access import DESIGN_ROLES, PROVINCE_ROLES, User, require_role
from workbench.store.core import StoreCore, _frame
from workbench.store.models import SUBSCRIBER_ID, CampaignVersion, Response

__all__ = ["StoreResponses"]

_RESPONSE_COLUMNS: tuple[str, ...] = (SUBSCRIBER_ID, "order_date", "product", "stable")


class StoreResponses(StoreCore):
    """Responses to campaigns (part of :class:`workbench.store.Store`)."""

    def record_responses(self, user: User, campaign_id: int, responses: pd.DataFrame, *,
                         version: int | None = None) -> int:
        """Store the orders observed after a campaign (analyst / admin); returns rows written.

        ``responses`` has ``subscriber_id, order_date, product`` and optionally
        ``stable`` (kept the product for the defined period; empty = not known yet).
        """
        if not isinstance(responses, pd.DataFrame):
            raise ParameterError.invalid("responses", "a pandas DataFrame", type(responses).__name__)
        missing = [c for c in _RESPONSE_COLUMNS[:3] if c not in responses.columns]
        if missing:
            raise ParameterError(f"The 'responses' table must have the columns {list(_RESPONSE_COLUMNS[:3])}; "
                                 f"missing {missing}. Got columns {list(responses.columns)}.")
        dates = pd.to_datetime(responses["order_date"], errors="coerce")
        sid = pd.to_numeric(responses[SUBSCRIBER_ID], errors="coerce")
        bad = sid.isna() | dates.isna() | responses["product"].isna()
        if bad.any():
            raise DataValidationError(
                f"responses: {int(bad.sum())} rows lack a subscriber_id, order_date or product",
                [{"table": "responses", "column": "*", "check": "not null", "count": int(bad.sum()),
                  "examples": responses[bad].head(5).to_dict("records")}],
            )
        stable = responses["stable"] if "stable" in responses.columns else pd.Series(None, index=responses.index)
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, DESIGN_ROLES, "recording responses")
            self._campaign(session, campaign_id)
            found = self._version(session, campaign_id, version)
            rows = [
                {"campaign_version_id": found.id, "subscriber_id": int(s), "order_date": d.date(),
                 "product": str(p), "stable": None if pd.isna(st) else bool(st)}
                for s, d, p, st in zip(sid.tolist(), dates, responses["product"].tolist(), stable.tolist())
            ]
            if rows:
                session.execute(insert(Response), rows)
            self._audit(session, actor, "record_responses", campaign_id, version=found.version, rows=len(rows))
            return len(rows)

    def responses(self, user: User, campaign_id: int) -> pd.DataFrame:
        """Recorded responses of every version of a campaign (province roles)."""
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, PROVINCE_ROLES, "reading responses")
            self._campaign(session, campaign_id)
            r, v = Response, CampaignVersion
            return _frame(session.execute(
                select(v.version, r.subscriber_id, r.order_date, r.product, r.stable)
                .join(v, r.campaign_version_id == v.id).where(v.campaign_id == campaign_id)
                .order_by(v.version, r.subscriber_id, r.order_date)
            ))
