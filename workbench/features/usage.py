"""Monthly usage over the window: level, peak, last month, trend; content shares.

For each measure *m* of :data:`workbench.data.tables.USAGE_MEASURES`, over the
``monthly_usage`` rows of the window (the ``window`` months ending with the
snapshot month; months without a row are not counted as zero):

``m_mean``   mean of the monthly values (the level);
``m_max``    largest monthly value;
``m_last``   value of the snapshot month (missing when that month has no row);
``m_trend``  least-squares slope of the monthly value on the month number
             (units per month; missing with fewer than two months).

``content_share_<c>`` is category *c*'s share of all content items consumed in
the window (missing when none were consumed).  ``usage_months`` counts the
months of the window with a usage row.
"""
from __future__ import annotations

from workbench.data.tables import CONTENT_CATEGORIES, USAGE_MEASURES, table
from workbench.features._db import declare_columns
from workbench.features._feature import Feature, Frame
from workbench.i18n import t

__all__ = ["FEATURES", "USES", "STATS", "sql"]

USES = declare_columns({"monthly_usage": ("subscriber_id", "month", *USAGE_MEASURES)})

#: Statistic suffix -> (meaning, meaning_zh) templates.
STATS: dict[str, tuple[str, str]] = {
    "mean": ("{m}: mean of the window's months", "{m}：窗口内月均值"),
    "max": ("{m}: largest month of the window", "{m}：窗口内月最大值"),
    "last": ("{m}: snapshot month", "{m}：快照月值"),
    "trend": ("{m}: least-squares slope per month over the window", "{m}：窗口内月度趋势（最小二乘斜率，每月）"),
}


def _measure_meanings(measure: str) -> tuple[str, str]:
    col = table("monthly_usage").column(measure)
    if measure.startswith("content_"):
        cat = measure[len("content_"):]
        return (f"Items of {cat} content consumed",
                f"{t('category.' + cat, lang='zh')}类内容消费次数")
    unit = f" ({col.unit})" if col.unit else ""
    return col.meaning.replace(" in the month", "") + unit, col.meaning_zh


def _features() -> tuple[Feature, ...]:
    out = [Feature("usage_months", "usage", "int", "Months of the window with a usage record",
                   "窗口内有使用记录的月数", fill="0")]
    for m in USAGE_MEASURES:
        en, zh = _measure_meanings(m)
        for stat, (ten, tzh) in STATS.items():
            out.append(Feature(f"{m}_{stat}", "usage", "float", ten.format(m=en), tzh.format(m=zh), measure=m))
    for c in CONTENT_CATEGORIES:
        out.append(Feature(
            f"content_share_{c}", "content", "float",
            f"Share of {c} in all content items consumed in the window",
            f"窗口内{t('category.' + c, lang='zh')}类内容占全部内容消费的比例",
            content_category=c, measure=f"content_{c}"))
    return tuple(out)


FEATURES: tuple[Feature, ...] = _features()


def sql(frame: Frame) -> str:
    """SELECT of the usage features, one row per subscriber with a usage row in the window."""
    cols = ["count(*) AS usage_months"]
    for m in USAGE_MEASURES:
        cols += [
            f"avg(CAST({m} AS DOUBLE)) AS {m}_mean",
            f"CAST(max({m}) AS DOUBLE) AS {m}_max",
            f"CAST(max({m}) FILTER (WHERE mo = {frame.s}) AS DOUBLE) AS {m}_last",
            f"regr_slope(CAST({m} AS DOUBLE), k) AS {m}_trend",
        ]
    total = " + ".join(f"sum(content_{c})" for c in CONTENT_CATEGORIES)
    cols += [f"CAST(sum(content_{c}) AS DOUBLE) / nullif({total}, 0) AS content_share_{c}"
             for c in CONTENT_CATEGORIES]
    body = ",\n           ".join(cols)
    return f"""
    SELECT subscriber_id,
           {body}
    FROM (SELECT *, CAST(month AS DATE) AS mo,
                 CAST(datediff('month', {frame.w}, CAST(month AS DATE)) AS DOUBLE) AS k
          FROM monthly_usage
          WHERE CAST(month AS DATE) >= {frame.w} AND CAST(month AS DATE) <= {frame.e}) u
    GROUP BY subscriber_id"""
