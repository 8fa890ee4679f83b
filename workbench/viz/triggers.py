"""Figures of the handset-change trigger campaign: the waves' make-up and the uplift of each arm.

Draw only: builders take what :mod:`workbench.triggers` computed and return a
:class:`plotly.graph_objects.Figure`; labels come from the catalogue (``triggers.*``).
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.checks import require_columns
from workbench.i18n import t

__all__ = ["waves_figure", "arms_uplift_figure"]


def waves_figure(members: pd.DataFrame, lang: str | None = None) -> go.Figure:
    """Stacked bars per wave day: changers and comparison members, pushed and held back.

    Parameters
    ----------
    members : DataFrame
        :func:`workbench.triggers.wave_members` rows (``wave_day``, ``score_band``, ``group``).
    """
    require_columns(members, "members", ["wave_day", "score_band", "group"])
    counts = members.groupby(["wave_day", "score_band", "group"]).size().rename("n").reset_index()
    fig = go.Figure()
    for arm in ("changer", "comparison"):
        for group in ("target", "control"):
            rows = counts[(counts["score_band"] == arm) & (counts["group"] == group)]
            fig.add_bar(x=pd.to_datetime(rows["wave_day"]), y=rows["n"],
                        name=f"{t(f'triggers.arm.{arm}', lang)} · {t(f'triggers.fig.group.{group}', lang)}")
    fig.update_layout(barmode="stack", title=t("triggers.fig.funnel", lang),
                      xaxis_title=t("triggers.col.day", lang), yaxis_title=t("triggers.col.count", lang))
    return fig


def arms_uplift_figure(arms: pd.DataFrame, lang: str | None = None) -> go.Figure:
    """Order rate pushed vs held back per arm, and each arm's uplift with its CI as error bars.

    Parameters
    ----------
    arms : DataFrame
        ``evaluate_triggers(...)["arms"]``.
    """
    require_columns(arms, "arms", ["arm", "rate_pushed", "rate_held_back", "uplift", "uplift_low", "uplift_high"])
    names = [t(f"triggers.arm.{a}", lang) for a in arms["arm"]]
    fig = go.Figure()
    fig.add_bar(x=names, y=arms["rate_held_back"], name=t("triggers.fig.group.control", lang))
    fig.add_bar(x=names, y=arms["rate_pushed"], name=t("triggers.fig.group.target", lang))
    fig.add_scatter(x=names, y=arms["uplift"], mode="markers", name=t("triggers.col.uplift", lang),
                    error_y={"type": "data", "symmetric": False,
                             "array": arms["uplift_high"] - arms["uplift"],
                             "arrayminus": arms["uplift"] - arms["uplift_low"]},
                    marker={"size": 12, "symbol": "diamond"})
    fig.update_layout(barmode="group", title=t("triggers.fig.uplift", lang),
                      yaxis_title=t("triggers.fig.rate", lang), yaxis_tickformat=".0%")
    return fig
