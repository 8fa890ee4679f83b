"""The handset at the snapshot and the subscriber's handset changes.

The handset at the snapshot is the latest ``handset_events`` row dated on or
before the snapshot month's last day.  A subscriber's first row is the first
handset seen; every later row is a **change** (a new IMEI).  When no row is
known, ``handset_known`` is false, the capability flags are false, the price
band is missing and the month counts are missing.

``handset_changed_1m`` / ``_2m``: a change dated in the snapshot month / in the
snapshot month or the month before.  ``handset_months_since_change``: calendar
months from the month of the latest change to the snapshot month (missing
when the subscriber never changed).  ``handset_changes_window``: changes dated
in the window.
"""
from __future__ import annotations

from workbench.data.tables import CAPABILITIES, table
from workbench.features._db import add_months, declare_columns, sql_date
from workbench.features._feature import Feature, Frame

__all__ = ["FEATURES", "USES", "sql"]

_CAP_COLUMNS = tuple(f"cap_{c}" for c in CAPABILITIES)
USES = declare_columns({
    "handset_events": ("subscriber_id", "event_date", "handset_model"),
    "handset_models": ("handset_model", "price_band", *_CAP_COLUMNS, "smartphone"),
})
_MODELS = table("handset_models")


def _features() -> tuple[Feature, ...]:
    out = [Feature("handset_known", "handset", "bool", "A handset is known at the snapshot", "快照时终端已知",
                   fill="false")]
    for cap in _CAP_COLUMNS:
        col = _MODELS.column(cap)
        out.append(Feature(f"handset_{cap}", "handset", "bool", f"Handset at the snapshot: {col.meaning}",
                           f"快照时终端{col.meaning_zh}", fill="false"))
    sp = _MODELS.column("smartphone")
    out += [
        Feature("handset_smartphone", "handset", "bool", f"Handset at the snapshot: {sp.meaning}",
                f"快照时终端为{sp.meaning_zh}", fill="false"),
        Feature("handset_price_band", "handset", "category", "Price band of the handset at the snapshot",
                "快照时终端价位", categories=tuple(_MODELS.column("price_band").allowed)),
        Feature("handset_months_since_change", "handset", "float",
                "Months since the latest handset change (missing if never changed)",
                "距最近一次换机的月数（从未换机为空）"),
        Feature("handset_changed_1m", "handset", "bool", "Changed handset in the snapshot month",
                "快照月内换机", fill="false"),
        Feature("handset_changed_2m", "handset", "bool", "Changed handset in the snapshot month or the month before",
                "快照月或上月换机", fill="false"),
        Feature("handset_changes_window", "handset", "int", "Handset changes in the window", "窗口内换机次数",
                fill="0"),
    ]
    return tuple(out)


FEATURES: tuple[Feature, ...] = _features()


def sql(frame: Frame) -> str:
    """SELECT of the handset features, one row per subscriber with a handset row up to the snapshot."""
    prev = sql_date(add_months(frame.start, -1))
    caps = ",\n           ".join(f"coalesce(CAST(m.{c} AS BOOLEAN), false) AS handset_{c}" for c in _CAP_COLUMNS)
    return f"""
    SELECT h.subscriber_id, true AS handset_known,
           {caps},
           coalesce(CAST(m.smartphone AS BOOLEAN), false) AS handset_smartphone,
           CAST(m.price_band AS VARCHAR) AS handset_price_band,
           CAST(datediff('month', h.last_change, {frame.e}) AS DOUBLE) AS handset_months_since_change,
           coalesce(h.last_change >= {frame.s}, false) AS handset_changed_1m,
           coalesce(h.last_change >= {prev}, false) AS handset_changed_2m,
           h.changes_window AS handset_changes_window
    FROM (
        SELECT subscriber_id,
               arg_max(handset_model, d) AS handset_model,
               CASE WHEN count(*) > 1 THEN max(d) END AS last_change,
               count(*) FILTER (WHERE d >= {frame.w}) - CASE WHEN min(d) >= {frame.w} THEN 1 ELSE 0 END
                   AS changes_window
        FROM (SELECT subscriber_id, CAST(event_date AS DATE) AS d, handset_model FROM handset_events
              WHERE CAST(event_date AS DATE) <= {frame.e}) e
        GROUP BY subscriber_id
    ) h
    LEFT JOIN handset_models m ON m.handset_model = h.handset_model"""
