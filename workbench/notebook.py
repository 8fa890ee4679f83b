"""What a template notebook calls, so that templates hold narrative, a parameters cell and calls.

A template's first code cell holds its parameters; the next one calls
:func:`setup`; every later cell calls the package.  Prose never lives in the
notebook: :func:`narrate` and :func:`guide` take a key of the label catalogue
(``workbench/i18n/labels/*.yaml``) so one template serves Chinese and English.

Each display helper has a pure counterpart that returns the text or HTML
(:func:`narrative`, :func:`guide_html`, :func:`kpi_cards_html`), which is what
the tests and the apps use.

Examples
--------
In a template::

    from workbench.notebook import setup, narrate, guide, show, kpi_cards
    setup(language)
    narrate("templates.hello.data", data=data, tables=7, rows=123456)
    guide("templates.hello.guide.chart")
"""
from __future__ import annotations

import html
import string
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import get_language, set_language, t

__all__ = [
    "PLOTLY_RENDERER",
    "OFFLINE_RENDERER",
    "PANDAS_OPTIONS",
    "OVERVIEW_COLUMNS",
    "setup",
    "narrative",
    "narrate",
    "guide_html",
    "guide",
    "show",
    "kpi_cards_html",
    "kpi_cards",
    "data_overview",
    "overview_totals",
    "overview_figure",
]

#: Name under which :func:`setup` registers the offline plotly renderer.
OFFLINE_RENDERER = "workbench_offline"
#: The default plotly renderer of a template: the plotly mimetype (JupyterLab, Voila) plus HTML
#: that needs no network (plotly.js is embedded once, in the output of the first figure).
PLOTLY_RENDERER = f"plotly_mimetype+{OFFLINE_RENDERER}"

#: pandas display options set by :func:`setup`.
PANDAS_OPTIONS: dict[str, object] = {
    "display.max_columns": 50,
    "display.max_colwidth": 80,
    "display.width": 200,
    "display.precision": 3,
}

#: Columns of the frame returned by :func:`data_overview`.
OVERVIEW_COLUMNS: tuple[str, str, str] = ("table", "label", "rows")


def _display(bundle: dict[str, str]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


# ----------------------------------------------------------------- setup
def _offline_renderer_class():
    from plotly.io import to_html
    from plotly.io._base_renderers import NotebookRenderer

    class OfflineNotebookRenderer(NotebookRenderer):
        """plotly's ``notebook`` renderer without any CDN reference.

        Activation embeds plotly.js (as plotly's ``notebook`` renderer does);
        unlike it, a figure's HTML does not load MathJax from a CDN, so a report
        opened without network shows every chart and asks for nothing.
        """

        def to_mimebundle(self, fig_dict):
            html_text = to_html(
                fig_dict,
                config=self.config,
                auto_play=self.auto_play,
                include_plotlyjs=False,
                include_mathjax=False,
                post_script=self.post_script,
                full_html=False,
                animation_opts=self.animation_opts,
                default_width="100%",
                default_height=525,
                validate=False,
            )
            return {"text/html": html_text}

    return OfflineNotebookRenderer


def _use_offline_renderer() -> None:
    import plotly.io as pio

    if OFFLINE_RENDERER not in pio.renderers:
        pio.renderers[OFFLINE_RENDERER] = _offline_renderer_class()()
    pio.renderers.default = PLOTLY_RENDERER


def setup(language: str = "zh", *, plotly_renderer: bool = True) -> None:
    """Prepare a template's kernel: language, plotly renderer, pandas display.

    Parameters
    ----------
    language : {"zh", "en"}
        Language of every label and narrative the template shows.
    plotly_renderer : bool, default True
        Install :data:`PLOTLY_RENDERER` now.  False for a template that never calls :func:`show`
        (template 05 draws into widgets): the renderer's set-up imports nbformat and its JSON-schema
        validator, seconds of a served page's first render; :func:`show` installs it when first used.

    Raises
    ------
    ParameterError
        When ``language`` is not one of :data:`workbench.i18n.LANGUAGES`.

    Notes
    -----
    plotly figures are rendered with :data:`PLOTLY_RENDERER`: JupyterLab and
    Voila draw the plotly mimetype, and the HTML report written by
    :func:`workbench.templates.run_template` carries plotly.js once, embedded,
    so it works offline.  ``notebook_connected`` is never used: it downloads
    plotly.js each time the report is opened.
    """
    set_language(language)
    if plotly_renderer:
        _use_offline_renderer()
    for option, value in PANDAS_OPTIONS.items():
        pd.set_option(option, value)


# ----------------------------------------------------------------- narrative
def _placeholders(text: str) -> set[str]:
    names = set()
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None:
            names.add(field.split(".", 1)[0].split("[", 1)[0])
    return names


def narrative(key: str, lang: str | None = None, **numbers) -> str:
    """The Markdown narrative ``key`` of the catalogue, filled in with ``numbers``.

    Parameters
    ----------
    key : str
        A label key, e.g. ``"templates.hello.data"``.
    lang : {"zh", "en"}, optional
        Language; the current one (see :func:`setup`) when omitted.
    **numbers
        The values of the text's ``{placeholders}``; formats such as
        ``{rows:,}`` or ``{share:.1%}`` are written in the catalogue.

    Returns
    -------
    str
        The filled-in Markdown.

    Raises
    ------
    KeyError
        When ``key`` is not in the catalogue.
    ParameterError
        When a placeholder of the text gets no value, or a value matches no placeholder.

    Examples
    --------
    >>> narrative("templates.hello.kpi.rows", lang="en")
    'Rows in total'
    """
    text = t(key, lang=lang)
    expected = _placeholders(text)
    missing = sorted(expected - set(numbers))
    extra = sorted(set(numbers) - expected)
    if missing or extra:
        raise ParameterError(
            f"The narrative {key!r} needs the values {sorted(expected)}; "
            f"missing {missing}, not used {extra}."
        )
    return text.format(**numbers) if expected else text


def narrate(key: str, **numbers) -> None:
    """Display the narrative ``key`` filled in with ``numbers`` as Markdown.

    See :func:`narrative` for the parameters and errors.
    """
    text = narrative(key, **numbers)
    _display({"text/markdown": text, "text/plain": text})


def guide_html(key: str, lang: str | None = None) -> str:
    """HTML of the guidance box for the catalogue entry ``key`` (Markdown inside).

    Parameters
    ----------
    key : str
        A label key whose text explains why a step is done or how to read a chart.
    lang : {"zh", "en"}, optional
        Language; the current one when omitted.
    """
    import mistune

    body = mistune.html(t(key, lang=lang))
    heading = html.escape(t("templates.guide.heading", lang=lang))
    return (
        '<div class="wb-guide" style="border-left:4px solid #2f80c2;background:#eef5fb;'
        'padding:8px 14px;margin:8px 0;border-radius:4px;color:#1f2328">'
        f'<div style="font-weight:600;margin-bottom:4px">{heading}</div>{body}</div>'
    )


def guide(key: str) -> None:
    """Display a guidance box for new analysts: why this step, how to read the chart.

    Parameters
    ----------
    key : str
        A label key of the catalogue.
    """
    text = t(key)
    _display({
        "text/html": guide_html(key),
        "text/markdown": f"> **{t('templates.guide.heading')}** {text}",
        "text/plain": text,
    })


# ----------------------------------------------------------------- figures and KPI tiles
def show(*figs) -> None:
    """Display plotly figures, in order, so they render in JupyterLab, Voila and the offline HTML report.

    Parameters
    ----------
    *figs : plotly.graph_objects.Figure
        The figures (chart builders return one and never show it themselves); none shows nothing,
        so ``show(*uplift_figures(None))`` is fine.

    Raises
    ------
    ParameterError
        When one of ``figs`` is not a plotly Figure (nothing is shown then).
    """
    import plotly.graph_objects as go
    import plotly.io as pio

    for fig in figs:
        if not isinstance(fig, go.Figure):
            raise ParameterError.invalid("fig", "a plotly.graph_objects.Figure", type(fig).__name__)
    if figs and pio.renderers.default != PLOTLY_RENDERER:
        _use_offline_renderer()
    for fig in figs:
        fig.show()


def _format_value(value, spec: str | None) -> str:
    if spec is not None:
        return spec.format(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return t("common.yes") if value else t("common.no")
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if isinstance(value, Real):
        return f"{float(value):,.2f}"
    raise ParameterError.invalid("values", "a mapping of label keys to numbers or strings", value)


def kpi_cards_html(values: Mapping[str, object], formats: Mapping[str, str] | None = None,
                   lang: str | None = None) -> str:
    """HTML of a row of KPI tiles.

    Parameters
    ----------
    values : mapping
        ``{label key: value}``; the tile's caption is the label, its body the value.
        Integers get thousands separators, other numbers two decimals, strings
        are shown as given.
    formats : mapping, optional
        ``{label key: format}`` for values that need another format, e.g.
        ``{"status.kpi.share": "{:.1%}"}``.
    lang : {"zh", "en"}, optional
        Language; the current one when omitted.

    Raises
    ------
    ParameterError
        When ``values`` is empty or ``formats`` names a key that is not in ``values``.
    KeyError
        When a key is not in the catalogue.
    """
    if not values:
        raise ParameterError.invalid("values", "a non-empty mapping of label keys to values", values)
    formats = dict(formats or {})
    unknown = sorted(set(formats) - set(values))
    if unknown:
        raise ParameterError(f"The 'formats' parameter names keys that are not in 'values': {unknown}; "
                             f"the keys of 'values' are {list(values)}.")
    tiles = []
    for key, value in values.items():
        label = html.escape(t(key, lang=lang))
        shown = html.escape(_format_value(value, formats.get(key)))
        tiles.append(
            '<div class="wb-kpi" style="min-width:140px;padding:10px 16px;border:1px solid #d0d7de;'
            'border-radius:8px;background:#f6f8fa">'
            f'<div style="font-size:12px;color:#57606a">{label}</div>'
            f'<div style="font-size:24px;font-weight:600;color:#1f2328">{shown}</div></div>'
        )
    return '<div class="wb-kpis" style="display:flex;flex-wrap:wrap;gap:12px;margin:8px 0">' + "".join(tiles) + "</div>"


def kpi_cards(values: Mapping[str, object], formats: Mapping[str, str] | None = None) -> None:
    """Display small KPI tiles; see :func:`kpi_cards_html` for the parameters."""
    html_text = kpi_cards_html(values, formats)
    plain = "\n".join(f"{t(k)}: {_format_value(v, (formats or {}).get(k))}" for k, v in values.items())
    _display({"text/html": html_text, "text/plain": plain})


# ----------------------------------------------------------------- a first look at a data source
def data_overview(data, lang: str | None = None) -> pd.DataFrame:
    """Rows in each data-model table of a source; empty when the source does not exist.

    Parameters
    ----------
    data : path, mapping or workbench.data.Source
        Anything :func:`workbench.data.connect` accepts.
    lang : {"zh", "en"}, optional
        Language of the ``label`` column; the current one when omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``table`` (name), ``label`` (what the table holds, in ``lang``)
        and ``rows`` (int64), in the data model's load order.
    """
    from workbench.data import TABLE_ORDER, as_source, connect, table

    lang = lang or get_language()
    table_col, label_col, rows_col = OVERVIEW_COLUMNS
    empty = pd.DataFrame({table_col: pd.Series(dtype="str"), label_col: pd.Series(dtype="str"),
                          rows_col: pd.Series(dtype="int64")})
    if isinstance(data, (str, Path)) and not Path(data).exists():
        return empty
    names = as_source(data).tables()
    if not names:
        return empty
    con = connect(data)
    try:
        sql = " UNION ALL ".join(f"SELECT '{n}' AS {table_col}, count(*) AS {rows_col} FROM \"{n}\"" for n in names)
        counts = con.execute(sql).df()
    finally:
        con.close()
    order = {n: i for i, n in enumerate(TABLE_ORDER)}
    counts = counts.sort_values(table_col, key=lambda s: s.map(order)).reset_index(drop=True)
    counts[label_col] = [table(n).meaning_zh if lang == "zh" else table(n).meaning for n in counts[table_col]]
    counts[rows_col] = counts[rows_col].astype("int64")
    return counts[list(OVERVIEW_COLUMNS)].astype({table_col: "str", label_col: "str"})


def overview_totals(overview: pd.DataFrame) -> dict[str, int]:
    """``{"tables": ..., "rows": ...}`` of a :func:`data_overview` frame (the numbers a narrative needs)."""
    return {"tables": int(len(overview)), "rows": int(overview[OVERVIEW_COLUMNS[2]].sum())}


def overview_figure(overview: pd.DataFrame, lang: str | None = None):
    """A bar chart of the rows in each table of a :func:`data_overview` frame.

    Drawn by :func:`workbench.viz.overview.overview_figure` (imported on first use, so that importing
    this module does not import every figure module).

    Returns
    -------
    plotly.graph_objects.Figure
        Never shown here; pass it to :func:`show`.
    """
    from workbench.viz.overview import overview_figure as draw

    _, label_col, rows_col = OVERVIEW_COLUMNS
    return draw(overview, lang, label_col=label_col, rows_col=rows_col)
