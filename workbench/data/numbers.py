"""Full phone numbers of given subscribers: personal data, read when a role that may see them asks.

The one reader of ``subscribers.msisdn`` for people (an export to a caller, a number revealed in the
worklist); the numbers are returned, never stored.  Kept out of :mod:`workbench.campaign` so an app
kernel that reveals a number imports DuckDB only, not the planning stack.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.data.source import connection
from workbench.data.tables import table

__all__ = ["phone_numbers"]

_SUBS = table("subscribers")
SUBSCRIBER_ID: str = _SUBS.column("subscriber_id").name
MSISDN: str = _SUBS.column("msisdn").name


def phone_numbers(source, ids) -> pd.Series:
    """Full phone numbers (personal data) of ``ids`` from ``subscribers``, as a Series indexed by subscriber id.

    For a role that may see numbers (:func:`workbench.store.access.can_see_numbers`,
    :meth:`workbench.store.Store.reveal_number`); never store them.  An id without a subscriber is absent.
    """
    with connection(source) as con:
        con.register("_wb_ids", pd.DataFrame({SUBSCRIBER_ID: np.asarray(ids, dtype=np.int64)}))
        try:
            got = con.execute(f'SELECT s."{SUBSCRIBER_ID}", CAST(s."{MSISDN}" AS VARCHAR) AS "{MSISDN}" '
                              f'FROM subscribers s JOIN _wb_ids i ON i."{SUBSCRIBER_ID}" = s."{SUBSCRIBER_ID}"').df()
        finally:
            con.unregister("_wb_ids")
    return pd.Series(got[MSISDN].astype("str").to_numpy(), index=got[SUBSCRIBER_ID].to_numpy())
