"""VAS history per product family and per content category.

Built from the subscription spells seen at the snapshot month's last day
(:func:`workbench.features.subscriptions.spells_sql`, so an unsubscribe after
the snapshot leaves the spell open).  For each product family *f*
(``vas_fam_<f>_*``) and each content category *c* of the products
(``vas_cat_<c>_*``):

``orders``               spells started in the window (a repeated order while
                         subscribed is not counted);
``unsubscribes``         spells ended in the window;
``active``               subscribed at the snapshot month's last day;
``months_since_order``   calendar months from the month of the latest spell start
                         (any time before the snapshot) to the snapshot month;
                         missing when never ordered.
"""
from __future__ import annotations

from workbench.data.tables import CONTENT_CATEGORIES, PRODUCT_FAMILIES
from workbench.features._feature import Feature, Frame
from workbench.features.subscriptions import USES, spells_sql
from workbench.i18n import t

__all__ = ["FEATURES", "USES", "sql", "family_feature_names"]

_KINDS: dict[str, tuple[str, str, str, str | None]] = {
    # kind: (dtype, meaning, meaning_zh, fill)
    "orders": ("int", "{x}: orders (spells started) in the window", "{x}：窗口内订购次数", "0"),
    "unsubscribes": ("int", "{x}: unsubscribes in the window", "{x}：窗口内退订次数", "0"),
    "active": ("bool", "{x}: subscribed at the snapshot month end", "{x}：快照月末在订", "false"),
    "months_since_order": ("float", "{x}: months since the latest order (missing if never)",
                           "{x}：距最近一次订购的月数（从未订购为空）", None),
}


def _features() -> tuple[Feature, ...]:
    out = []
    for f in PRODUCT_FAMILIES:
        en, zh = f"{t('family.' + f, lang='en')} products", t("family." + f, lang="zh") + "产品"
        for kind, (dtype, men, mzh, fill) in _KINDS.items():
            out.append(Feature(f"vas_fam_{f}_{kind}", "vas_family", dtype, men.format(x=en), mzh.format(x=zh),
                               fill=fill, product_family=f))
    for c in CONTENT_CATEGORIES:
        en, zh = f"{c} content products", t("category." + c, lang="zh") + "类内容产品"
        for kind, (dtype, men, mzh, fill) in _KINDS.items():
            out.append(Feature(f"vas_cat_{c}_{kind}", "vas_category", dtype, men.format(x=en), mzh.format(x=zh),
                               fill=fill, content_category=c))
    return tuple(out)


FEATURES: tuple[Feature, ...] = _features()


def family_feature_names(family: str) -> list[str]:
    """Names of the ``vas_fam_<family>_*`` features (a model of that family must not use them)."""
    return [f.name for f in FEATURES if f.product_family == family]


def _aggregates(col: str, value: str, prefix: str, frame: Frame) -> list[str]:
    cond = f"{col} = '{value}'"
    return [
        f"count(*) FILTER (WHERE {cond} AND start_date >= {frame.w}) AS {prefix}_orders",
        f"count(*) FILTER (WHERE {cond} AND end_date >= {frame.w}) AS {prefix}_unsubscribes",
        f"coalesce(bool_or(end_date IS NULL) FILTER (WHERE {cond}), false) AS {prefix}_active",
        f"CAST(datediff('month', max(start_date) FILTER (WHERE {cond}), {frame.e}) AS DOUBLE)"
        f" AS {prefix}_months_since_order",
    ]


def sql(frame: Frame) -> str:
    """SELECT of the VAS features, one row per subscriber with any spell up to the snapshot."""
    cols = []
    for f in PRODUCT_FAMILIES:
        cols += _aggregates("family", f, f"vas_fam_{f}", frame)
    for c in CONTENT_CATEGORIES:
        cols += _aggregates("content_category", c, f"vas_cat_{c}", frame)
    body = ",\n           ".join(cols)
    return f"""
    SELECT subscriber_id,
           {body}
    FROM ({spells_sql(frame.end)}) sp
    GROUP BY subscriber_id"""
