"""Subscriber attributes: the base rows of the feature table.

One row per subscriber who joined on or before the snapshot month's last day.
Attributes are taken as the ``subscribers`` table states them (the extract's
attributes; the data model keeps no history of brand or tariff changes).
``tenure_months`` counts calendar months from the join month to the snapshot
month (0 for a subscriber who joined in the snapshot month).
"""
from __future__ import annotations

from workbench.data.tables import BRANCHES, BRANDS, table
from workbench.features._db import declare_columns
from workbench.features._feature import Feature, Frame

__all__ = ["FEATURES", "USES", "sql"]

USES = declare_columns({
    "subscribers": ("subscriber_id", "branch_id", "brand", "tariff_plan", "join_date", "age", "gender", "rejoined"),
    "branches": ("branch_id", "is_capital"),
})

_GENDERS = tuple(table("subscribers").column("gender").allowed)

FEATURES: tuple[Feature, ...] = (
    Feature("tenure_months", "attributes", "int",
            "Calendar months from the join month to the snapshot month", "在网月数（入网月至快照月）"),
    Feature("brand", "attributes", "category", "Brand (gotone, mzone, easyown)", "品牌", categories=BRANDS),
    Feature("tariff_plan", "attributes", "category", "Tariff plan code", "资费套餐"),
    Feature("branch_id", "attributes", "category", "Home branch", "归属分公司",
            categories=tuple(b[0] for b in BRANCHES)),
    Feature("is_capital", "attributes", "bool", "Home branch is the provincial capital (Urumqi)",
            "归属首府（乌鲁木齐）", fill="false"),
    Feature("rejoined", "attributes", "bool", "Had a previous subscription (re-joined)", "再入网用户"),
    Feature("age", "attributes", "float", "Age in years (missing when unknown)", "年龄（未知为空）"),
    Feature("gender", "attributes", "category", "Gender (M, F; missing when unknown)", "性别（未知为空）",
            categories=_GENDERS),
)


def sql(frame: Frame) -> str:
    """SELECT of the base rows: ``subscriber_id`` and the attribute features."""
    return f"""
    SELECT s.subscriber_id,
           CAST(datediff('month', CAST(s.join_date AS DATE), {frame.e}) AS BIGINT) AS tenure_months,
           CAST(s.brand AS VARCHAR) AS brand, CAST(s.tariff_plan AS VARCHAR) AS tariff_plan,
           CAST(s.branch_id AS VARCHAR) AS branch_id, CAST(b.is_capital AS BOOLEAN) AS is_capital,
           CAST(s.rejoined AS BOOLEAN) AS rejoined, CAST(s.age AS DOUBLE) AS age,
           CAST(s.gender AS VARCHAR) AS gender
    FROM subscribers s
    LEFT JOIN branches b ON b.branch_id = s.branch_id
    WHERE CAST(s.join_date AS DATE) <= {frame.e}"""
