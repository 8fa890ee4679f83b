"""The first look at a data source (template 00): rows in each table.

Draw only: :func:`overview_figure` takes :func:`workbench.notebook.data_overview`'s
frame and returns a :class:`plotly.graph_objects.Figure` (never shown here).
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.i18n import t

__all__ = ["overview_figure"]


def overview_figure(overview: pd.DataFrame, lang: str | None = None, *, label_col: str = "label",
                    rows_col: str = "rows") -> go.Figure:
    """A bar chart of the rows in each table of a :func:`workbench.notebook.data_overview` frame.

    Parameters
    ----------
    overview : pandas.DataFrame
        One row per table: what it holds (``label_col``) and its rows (``rows_col``).
    lang : {"zh", "en"}, optional
        Language of the title and axes; the current one when omitted.
    label_col, rows_col : str
        Columns of ``overview`` (defaults: those of :data:`workbench.notebook.OVERVIEW_COLUMNS`).

    Returns
    -------
    plotly.graph_objects.Figure
        Never shown here; pass it to :func:`workbench.notebook.show`.
    """
    fig = go.Figure(go.Bar(
        x=overview[label_col].tolist(), y=overview[rows_col].tolist(),
        text=[f"{r:,}" for r in overview[rows_col]], textposition="outside",
    ))
    fig.update_layout(
        title=t("templates.overview.title", lang=lang),
        xaxis_title=t("templates.overview.table", lang=lang),
        yaxis_title=t("templates.overview.rows", lang=lang),
        template="plotly_white", height=420, margin={"t": 60, "b": 40},
    )
    return fig
