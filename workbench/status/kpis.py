"""Product KPIs by month: subscribers, orders, unsubscribes, net adds, free-month leavers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.features.subscriptions import monthly_flows

__all__ = ["product_kpis", "KPI_COLUMNS"]

#: Columns of :func:`product_kpis`, in order.
KPI_COLUMNS: tuple[str, ...] = (
    "month", "subscribers", "orders", "unsubscribes", "net_adds", "free_month_leavers",
    "free_month_leaver_share", "churn_rate",
)


def product_kpis(source, family: str = "mobile_newspaper", start=None, end=None, *,
                 gap_days: int = 0) -> pd.DataFrame:
    """Monthly KPIs of a product family.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        Needs ``vas_orders`` and ``vas_products``.
    family : str
        Product family (default the mobile newspaper).
    start, end : "YYYY-MM", optional
        First and last month (default: from the first order to the last record).
    gap_days : int
        Days between two spells that still count as one stay (see
        :func:`workbench.features.stable_subscribers`).

    Returns
    -------
    pandas.DataFrame
        One row per month with :data:`KPI_COLUMNS`: ``subscribers`` at the month
        end (distinct subscribers), ``orders`` and ``unsubscribes`` (spells
        started / ended in the month), ``net_adds`` (change of subscribers),
        ``free_month_leavers`` (unsubscribes before the free months ended),
        ``free_month_leaver_share`` (of the month's unsubscribes) and
        ``churn_rate`` (unsubscribes / subscribers at the previous month end;
        NaN when that is zero).

    Examples
    --------
    >>> kpis = product_kpis("sample_data/province", "mobile_newspaper", "2026-05", "2026-10")  # doctest: +SKIP
    """
    flows = monthly_flows(source, family, start, end, gap_days=gap_days)
    previous = (flows["subscribers"] - flows["net_adds"]).astype("float64")
    out = flows.assign(
        free_month_leaver_share=flows["free_month_leavers"] / flows["unsubscribes"].where(flows["unsubscribes"] > 0),
        churn_rate=flows["unsubscribes"] / previous.where(previous > 0),
    )
    out["free_month_leaver_share"] = out["free_month_leaver_share"].astype("float64")
    out["churn_rate"] = out["churn_rate"].astype("float64").replace([np.inf], np.nan)
    return out[list(KPI_COLUMNS)]
