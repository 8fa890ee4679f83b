"""Figures of the status analysis: KPI trend, penetration, retention, drivers, potential.

Draw only: every builder takes a frame computed by :mod:`workbench.status` and
returns a :class:`plotly.graph_objects.Figure` (never shown here).  Titles,
axes, legends and category names come from the label catalogue
(``status.*``, ``family.*``, ``brand.*``; zh by default, ``lang="en"`` for English).
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from workbench.data.tables import branch_name
from workbench.errors import ParameterError
from workbench.viz.ticks import funnel_text
from workbench.i18n import get_language, t

__all__ = [
    "kpi_trend_figure", "penetration_figure", "retention_figure", "drivers_figure", "potential_bands_figure",
    "potential_funnel_figure", "segment_label",
]


def _lang(lang: str | None) -> str:
    return lang or get_language()


def _check(frame, needed: set[str], name: str, producer: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or not needed <= set(frame.columns):
        got = sorted(frame.columns) if isinstance(frame, pd.DataFrame) else type(frame).__name__
        raise ParameterError.invalid(name, f"{producer} output with columns {sorted(needed)}", got)
    return frame


def _family(family: str, lang: str) -> str:
    return t(f"family.{family}", lang=lang)


def kpi_trend_figure(kpis: pd.DataFrame, family: str = "mobile_newspaper", *,
                     bars: Sequence[str] = ("orders", "unsubscribes", "free_month_leavers"),
                     line: str | None = "subscribers", lang: str | None = None) -> go.Figure:
    """Monthly flows as bars and the subscriber base as a line on a second axis.

    Parameters
    ----------
    kpis : pandas.DataFrame
        :func:`workbench.status.product_kpis` output.
    family : str
        Product family (for the title).
    bars : sequence of str
        KPI columns drawn as bars (one trace each).
    line : str, optional
        KPI column drawn as a line on the right axis (``None`` for none).
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace per ``bars`` entry, then the line trace.
    """
    lang = _lang(lang)
    cols = {"month", *bars, *([line] if line else [])}
    _check(kpis, cols, "kpis", "product_kpis()")
    fig = go.Figure()
    for col in bars:
        fig.add_trace(go.Bar(x=kpis["month"], y=kpis[col], name=t(f"status.kpi.{col}", lang=lang)))
    if line:
        fig.add_trace(go.Scatter(x=kpis["month"], y=kpis[line], name=t(f"status.kpi.{line}", lang=lang),
                                 mode="lines+markers", yaxis="y2"))
    fig.update_layout(
        title=t("status.kpi.title", lang=lang, family=_family(family, lang)), barmode="group",
        xaxis_title=t("common.month", lang=lang), yaxis_title=t("status.kpi.count", lang=lang),
        yaxis2=dict(title=t(f"status.kpi.{line}", lang=lang) if line else None, overlaying="y", side="right",
                    rangemode="tozero"),
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def segment_label(dimension: str, value: str, lang: str) -> str:
    """The name of a segment in ``lang``: a branch's or brand's name, yes/no, "unknown"; other values as given.

    >>> segment_label("branch_id", "hami", "en"), segment_label("age_band", "18-25", "zh")
    ('Hami', '18-25')
    """
    if value == "unknown":
        return t("status.value.unknown", lang=lang)
    if dimension == "branch_id":
        return branch_name(value, lang)
    if dimension == "brand":
        try:
            return t(f"brand.{value}", lang=lang)
        except KeyError:
            return value
    if dimension == "rejoined":
        return t("common.yes" if value.lower() == "true" else "common.no", lang=lang)
    return value


def penetration_figure(pen: pd.DataFrame, dimension: str | None = None, family: str = "mobile_newspaper", *,
                       lang: str | None = None, sort: bool = False) -> go.Figure:
    """Penetration by the values of one dimension, with the province average as a line.

    Parameters
    ----------
    pen : pandas.DataFrame
        :func:`workbench.status.penetration` output.
    dimension : str, optional
        Which dimension to draw (default: the first one in ``pen``).
    family : str
        Product family (for the title).
    lang : {"zh", "en"}, optional
    sort : bool
        Sort the bars by penetration (default: the table's order, e.g. band order).

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace (penetration in %) and one line trace (the average).
    """
    lang = _lang(lang)
    _check(pen, {"dimension", "value", "subscribers", "active", "penetration"}, "pen", "penetration()")
    dims = [d for d in pd.unique(pen["dimension"]) if d != "total"]
    if dimension is None:
        if not dims:
            raise ParameterError.invalid("pen", "a penetration() result with at least one dimension", dims)
        dimension = dims[0]
    if dimension not in dims:
        raise ParameterError.invalid("dimension", f"one of {dims}", dimension)
    rows = pen[pen["dimension"] == dimension]
    if sort:
        rows = rows.sort_values("penetration", ascending=False)
    labels = [segment_label(dimension, str(v), lang) for v in rows["value"]]
    total = pen.loc[pen["dimension"] == "total", "penetration"]
    fig = go.Figure(go.Bar(
        x=labels, y=rows["penetration"] * 100, name=t("status.penetration.value", lang=lang),
        customdata=rows[["subscribers", "active"]].to_numpy(),
        hovertemplate="%{x}: %{y:.2f}%<br>" + t("status.penetration.subscribers", lang=lang) + " %{customdata[0]}<br>"
                      + t("status.penetration.active", lang=lang) + " %{customdata[1]}<extra></extra>"))
    if len(total):
        avg = float(total.iloc[0]) * 100
        fig.add_trace(go.Scatter(x=labels, y=[avg] * len(labels), mode="lines",
                                 name=t("status.penetration.overall", lang=lang), line=dict(dash="dash")))
    dim_label = t(f"status.dimension.{dimension}", lang=lang)
    fig.update_layout(title=t("status.penetration.title", lang=lang, family=_family(family, lang),
                              dimension=dim_label),
                      xaxis_title=dim_label, yaxis_title=t("status.penetration.value", lang=lang) + " (%)")
    return fig


def retention_figure(curves: pd.DataFrame, family: str = "mobile_newspaper", *, cohorts: int | None = 12,
                     average: bool = True, stable_months: int | None = 3, lang: str | None = None) -> go.Figure:
    """Retention curves of the latest order cohorts, and their weighted average.

    Parameters
    ----------
    curves : pandas.DataFrame
        :func:`workbench.status.retention_curves` output.
    family : str
        Product family (for the title).
    cohorts : int, optional
        Draw the latest this many cohorts (``None`` for all).
    average : bool
        Add the curve pooled over every cohort (thick line).
    stable_months : int, optional
        Mark ``k = stable_months - 1`` (the point where an order becomes a stable subscriber).
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One line per cohort drawn, then the average line.
    """
    lang = _lang(lang)
    _check(curves, {"cohort", "k", "cohort_size", "retained", "retention"}, "curves", "retention_curves()")
    keep = sorted(pd.unique(curves["cohort"]))
    if cohorts is not None:
        keep = keep[-int(cohorts):]
    fig = go.Figure()
    for c in keep:
        rows = curves[curves["cohort"] == c]
        fig.add_trace(go.Scatter(x=rows["k"], y=rows["retention"] * 100, mode="lines",
                                 name=pd.Timestamp(c).strftime("%Y-%m"), opacity=0.55))
    if average and len(curves):
        from workbench.status.retention import average_retention

        avg = average_retention(curves)
        fig.add_trace(go.Scatter(x=avg["k"], y=avg["retention"] * 100, mode="lines+markers",
                                 name=t("status.retention.average", lang=lang), line=dict(width=4, color="black")))
    if stable_months:
        fig.add_vline(x=stable_months - 1, line_dash="dot",
                      annotation_text=t("status.retention.stable_mark", lang=lang, months=stable_months))
    fig.update_layout(title=t("status.retention.title", lang=lang, family=_family(family, lang)),
                      xaxis_title=t("status.retention.k", lang=lang),
                      yaxis_title=t("status.retention.share", lang=lang) + " (%)", yaxis_range=[0, 105])
    return fig


def _feature_label(name: str, lang: str) -> str:
    from workbench.features.catalogue import FEATURE_INDEX

    f = FEATURE_INDEX.get(name)
    if f is None:
        return name
    return f"{f.meaning_zh if lang == 'zh' else f.meaning} ({name})"


def drivers_figure(drivers: pd.DataFrame, family: str = "mobile_newspaper", *, top: int = 15,
                   lang: str | None = None) -> go.Figure:
    """The top drivers of uptake: information value as horizontal bars, top-bin lift in the hover.

    Parameters
    ----------
    drivers : pandas.DataFrame
        :func:`workbench.status.uptake_drivers` or :func:`information_value` output.
    family : str
        Product family (for the title).
    top : int
        Drivers drawn (highest IV at the top).
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace.
    """
    lang = _lang(lang)
    _check(drivers, {"feature", "iv", "top_bin", "lift"}, "drivers", "information_value()")
    rows = drivers.sort_values("iv", ascending=False).head(int(top)).iloc[::-1]
    fig = go.Figure(go.Bar(
        x=rows["iv"], y=[_feature_label(f, lang) for f in rows["feature"]], orientation="h",
        name=t("status.drivers.iv", lang=lang), customdata=rows[["top_bin", "lift"]].to_numpy(),
        hovertemplate="%{y}<br>IV %{x:.3f}<br>" + t("status.drivers.top_bin", lang=lang) + " %{customdata[0]}<br>"
                      + t("status.drivers.lift", lang=lang) + " %{customdata[1]:.2f}<extra></extra>"))
    fig.update_layout(title=t("status.drivers.title", lang=lang, family=_family(family, lang)),
                      xaxis_title=t("status.drivers.iv", lang=lang), yaxis_title=t("status.drivers.feature", lang=lang),
                      height=max(400, 28 * len(rows) + 150))
    return fig


def potential_bands_figure(bands: pd.DataFrame, family: str = "mobile_newspaper", *, k: float = 2.0,
                           lang: str | None = None) -> go.Figure:
    """Stable-subscriber density by similarity band (bars) and the high-potential threshold (line).

    Parameters
    ----------
    bands : pandas.DataFrame
        :func:`workbench.status.potential` output.
    family : str
        Product family (for the title).
    k : float
        The threshold used in :func:`~workbench.status.potential` (drawn as a line).
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace (density ratio) and one line trace (the threshold).
    """
    lang = _lang(lang)
    _check(bands, {"band", "density_ratio", "nonsubscribers", "high_potential"}, "bands", "potential()")
    x = bands["band"].astype(str)
    fig = go.Figure(go.Bar(
        x=x, y=bands["density_ratio"], name=t("status.potential.density_ratio", lang=lang),
        marker_color=["#d62728" if h else "#7f7f7f" for h in bands["high_potential"]],
        customdata=bands[["nonsubscribers"]].to_numpy(),
        hovertemplate="%{x}: %{y:.2f}<br>" + t("status.potential.nonsubscribers", lang=lang)
                      + " %{customdata[0]}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=[k] * len(bands), mode="lines", line=dict(dash="dash"),
                             name=t("status.potential.threshold", lang=lang, k=k)))
    fig.update_layout(title=t("status.potential.bands_title", lang=lang, family=_family(family, lang)),
                      xaxis_title=t("status.potential.band", lang=lang),
                      yaxis_title=t("status.potential.density_ratio", lang=lang))
    return fig


def potential_funnel_figure(funnel: pd.DataFrame, family: str = "mobile_newspaper", *,
                            lang: str | None = None) -> go.Figure:
    """Base -> non-subscribers -> look-alikes -> expected new stable subscribers.

    Parameters
    ----------
    funnel : pandas.DataFrame
        :func:`workbench.status.potential_funnel` output.
    family : str
        Product family (for the title).
    lang : {"zh", "en"}, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One funnel trace.
    """
    lang = _lang(lang)
    _check(funnel, {"stage", "count"}, "funnel", "potential_funnel()")
    counts = funnel["count"].astype(float).round(0).tolist()
    fig = go.Figure(go.Funnel(
        y=[t(f"status.potential.stage.{s}", lang=lang) for s in funnel["stage"]],
        x=counts, text=[funnel_text(c, counts[0] if counts else 0) for c in counts], textinfo="text",
        hovertemplate="%{y}: %{text}<extra></extra>"))
    fig.update_layout(title=t("status.potential.title", lang=lang, family=_family(family, lang)))
    return fig
