"""The executor app: choose a campaign, work the own list, record each contact, watch progress.

Compute and I/O are plain functions and one small class, so they are tested
without a browser; :func:`executor_app` assembles the widgets (the notebook's
last expression displays it):

- :func:`worklist_grid_frame` - the rows of :meth:`Store.worklist` the grid shows,
  with catalogue headers (the store decides which rows the user may see);
- :class:`ResultForm` - one submitted form: a ``client_request_id`` made once per
  form and kept after a failed write, so a retry never writes a duplicate.  The
  concurrency test drives this class, the same path the app's button takes;
- :func:`progress_summary` and :func:`workbench.viz.progress_figure` - own / scope progress,
  always re-read from :meth:`Store.progress` after a write, never from widget state;
- :func:`plain_message` - an exception as a sentence for the page.

The grid is itables' ``ITable`` widget (``maxBytes=0``: every row is sent;
rows are real DOM elements with sorting, search and paging).  Its rows are
encoded by :func:`grid_rows_json` (the JSON itables makes, several times faster
on a 20,000-row list than itables' own per-cell formatting).  A grid is made
whole by :func:`make_grid` and never changed: a new list replaces the widget.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import uuid

import pandas as pd

from workbench.apps.widgets import branch_label, role_label, sign_out_link
from workbench.errors import AccessDenied, ParameterError, WorkbenchError
from workbench.i18n import get_language, labels_for, t
from workbench.report.format import pct_text
from workbench.store import CONTACT_RESULTS, RecordedResult, Store, User
from workbench.store.results import PROVINCE_UTC_OFFSET, ContactTimeError
from workbench.viz import progress_figure

__all__ = [
    "GRID_COLUMNS",
    "TIME_FORMAT",
    "worklist_grid_frame",
    "GRID_OPTIONS",
    "edition_label",
    "grid_language",
    "GRID_LAYOUT",
    "grid_rows_json",
    "make_grid",
    "campaign_options",
    "parse_contacted_at",
    "ResultForm",
    "progress_summary",
    "branch_summary_html",
    "plain_message",
    "display_figure",
    "executor_app",
]

#: Worklist columns the grid shows, in order (``member_id`` first: the row's key).
GRID_COLUMNS: tuple[str, ...] = (
    "member_id", "msisdn_masked", "score_band", "reasons", "edition", "talking_points", "channel", "contacts",
    "last_result",
)
#: Options of the worklist grid (itables / DataTables): every row sent, rows drawn per page, one row selectable,
#: the table as wide as the page.
GRID_OPTIONS: dict = {"maxBytes": 0, "deferRender": True, "select": {"style": "single"}, "pageLength": 10,
                      "classes": "display compact wb-grid",
                      # the browser lays the columns out, across the page: DataTables' own widths, measured
                      # while the widget may not be on screen yet, squeezed the table to a third of the page
                      "autoWidth": False, "style": "width:100%"}
#: DataTables controls around the grid, shown even when the list fits one page (itables would hide them then).
GRID_LAYOUT: dict = {"topStart": "pageLength", "topEnd": "search", "bottomStart": "info", "bottomEnd": "paging"}
#: How the contact time is typed in the form.
TIME_FORMAT = "%Y-%m-%d %H:%M"
_PREFIX = "app_executor"


def _lang(lang: str | None) -> str:
    return lang or get_language()


def campaign_options(store: Store, user: User, lang: str | None = None) -> list[tuple[str, int]]:
    """``(label, campaign_id)`` of the released campaigns ``user`` may see (the store filters), newest first."""
    campaigns = store.visible_campaigns(user)
    campaigns = campaigns[campaigns["status"] != "draft"]
    return [(f"{name} (#{int(cid)})", int(cid)) for cid, name in zip(campaigns["campaign_id"], campaigns["name"])]


def edition_label(edition, lang: str | None = None) -> str:
    """An edition's name in ``lang`` (its content category's label, e.g. ``sports`` -> 体育); ``""`` for none.

    An edition the catalogue does not name is shown as it is.
    """
    if not isinstance(edition, str) or not edition:
        return ""
    return labels_for("category", _lang(lang)).get(edition, edition)


def grid_language(lang: str | None = None) -> dict:
    """DataTables' own words around the grid (page length, search, "showing ... of ...")."""
    words = labels_for(f"{_PREFIX}.grid", _lang(lang))
    return {
        "lengthMenu": words["lengthMenu"], "search": words["search"], "info": words["info"],
        "infoEmpty": words["infoEmpty"], "infoFiltered": words["infoFiltered"],
        "zeroRecords": words["zeroRecords"], "emptyTable": words["emptyTable"],
    }


def worklist_grid_frame(worklist: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """The grid's table: :data:`GRID_COLUMNS` of a :meth:`Store.worklist` frame, headers from the catalogue.

    Contact results, channels and editions are shown by their labels; the row order is kept.

    Raises
    ------
    ParameterError
        When ``worklist`` lacks one of :data:`GRID_COLUMNS`.
    """
    lang = _lang(lang)
    missing = [c for c in GRID_COLUMNS if c not in worklist.columns]
    if missing:
        raise ParameterError(f"The worklist table must have the columns {list(GRID_COLUMNS)}; missing {missing}. "
                             f"Got columns {list(worklist.columns)}.")
    frame = worklist.loc[:, list(GRID_COLUMNS)].reset_index(drop=True).copy()
    results = labels_for(f"{_PREFIX}.result", lang)
    channels = labels_for("channel", lang)
    frame["last_result"] = frame["last_result"].map(lambda r: results.get(r, "") if isinstance(r, str) else "")
    frame["channel"] = frame["channel"].map(lambda c: channels.get(c, c) if isinstance(c, str) else "")
    frame["edition"] = frame["edition"].map(lambda e: edition_label(e, lang))
    for col in ("msisdn_masked", "score_band", "reasons", "edition", "talking_points"):
        frame[col] = frame[col].astype("object").where(frame[col].notna(), "").astype(str)
    frame["member_id"] = frame["member_id"].astype("int64")
    frame["contacts"] = frame["contacts"].astype("int64")
    headers = labels_for(f"{_PREFIX}.column", lang)
    return frame.rename(columns={c: headers[c] for c in GRID_COLUMNS})


def grid_rows_json(frame: pd.DataFrame) -> str:
    """The rows of ``frame`` as the JSON array of arrays itables sends to DataTables (``data_json``).

    Text is HTML-escaped (``&``, ``<``, ``>``) and missing text is ``""``, as
    itables does; integer columns stay numbers.  Columns are converted whole
    (no per-cell formatting), so 20,000 rows take a few tens of milliseconds.

    Raises
    ------
    ParameterError
        When a column is neither integer nor text (the grid frame has only those).
    """
    columns = []
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_integer_dtype(col.dtype) and not col.isna().any():
            columns.append(col.astype("int64").tolist())
        elif pd.api.types.is_string_dtype(col.dtype) or col.dtype == object:
            text = col.astype("object").where(col.notna(), "").astype(str)
            text = text.str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False)
            columns.append(text.str.replace(">", "&gt;", regex=False).tolist())
        else:
            raise ParameterError(f"The grid column {name!r} must hold integers or text; got dtype {col.dtype}.")
    return json.dumps([list(row) for row in zip(*columns)] if columns else [])


def make_grid(frame: pd.DataFrame, selected_rows: list[int] | None = None,
              dom_classes: tuple[str, ...] = ("wb-worklist",), lang: str | None = None):
    """A new grid (itables ``ITable``, :data:`GRID_OPTIONS`, :data:`GRID_LAYOUT`) showing ``frame``.

    The widget's first message to the browser already holds every row and the
    selection: itables' own constructor opens the widget empty and fills it with
    later messages, and anywidget's front-end drops every message to a widget
    whose script took over 2 s to load (a loaded machine), leaving a grid that
    never draws.  A grid is therefore never changed afterwards: a new list is
    a new grid (:func:`executor_app` swaps it in).  Rows are encoded by
    :func:`grid_rows_json`.

    Parameters
    ----------
    frame : DataFrame
        The grid's table (:func:`worklist_grid_frame`).
    selected_rows : list of int, optional
        Positions of the selected rows.
    dom_classes : tuple of str
        CSS classes of the widget's element (set at creation, like everything else).
    lang : {"zh", "en"}, optional
        Language of DataTables' own words (:func:`grid_language`).

    Returns
    -------
    itables.widget.ITable
    """
    return _grid_class()(frame, selected_rows, dom_classes, lang)


_GRID_CLASS: list[type] = []


def _grid_class() -> type:
    if _GRID_CLASS:
        return _GRID_CLASS[0]
    from anywidget import AnyWidget
    from itables.javascript import get_itables_extension_arguments
    from itables.widget import ITable

    class WorklistGrid(ITable):
        """An ``ITable`` whose comm opens with its whole state (see :func:`make_grid`)."""

        def __init__(self, frame: pd.DataFrame, selected_rows: list[int] | None = None,
                     dom_classes: tuple[str, ...] = (), lang: str | None = None):
            dt_args, other = get_itables_extension_arguments(frame.iloc[:0], None, **GRID_OPTIONS,
                                                             language=grid_language(lang))
            dt_args = {**dt_args, "layout": dict(GRID_LAYOUT), "data_json": grid_rows_json(frame)}
            AnyWidget.__init__(self, caption=other.get("caption") or "", classes=other.get("classes") or "",
                               _style=other.get("style") or "", selected_rows=list(selected_rows or []),
                               _dt_args=dt_args, _dom_classes=list(dom_classes))
            self._df = frame

    WorklistGrid._esm = _grid_script(str(ITable._esm))  # after class creation: a text, not a file name
    _GRID_CLASS.append(WorklistGrid)
    return WorklistGrid


#: itables' view re-applies the selection on every draw, deselecting all rows first: 0.7 s on 20,000 rows
#: of a first paint that selects nothing.  The view's script is given a guard; an itables release whose
#: script does not contain this exact text keeps its own script (slower, same behaviour).
_SELECTION_APPLY = 'function c(){u=!0,o.selected_rows=t.get("selected_rows"),u=!1}'
_SELECTION_GUARDED = ('function c(){let s=t.get("selected_rows");'
                      'if(!s.length&&!o.dt.rows({selected:!0}).any())return;u=!0,o.selected_rows=s,u=!1}')


def _grid_script(script: str) -> str:
    """itables' widget script with :data:`_SELECTION_GUARDED` in place of :data:`_SELECTION_APPLY` (if found once)."""
    if script.count(_SELECTION_APPLY) != 1:
        return script
    return script.replace(_SELECTION_APPLY, _SELECTION_GUARDED)


def parse_contacted_at(text: str) -> dt.datetime:
    """The contact time typed as :data:`TIME_FORMAT` (local wall time is taken as UTC+8, the province's clock).

    Raises
    ------
    ParameterError
        When ``text`` does not match :data:`TIME_FORMAT`.
    """
    try:
        local = dt.datetime.strptime(str(text).strip(), TIME_FORMAT)
    except ValueError:
        raise ParameterError.invalid("contacted_at", f"a time like {TIME_FORMAT!r}", text) from None
    return local.replace(tzinfo=PROVINCE_UTC_OFFSET)


def now_text() -> str:
    """The current time in the province (UTC+8) as :data:`TIME_FORMAT`."""
    return dt.datetime.now(PROVINCE_UTC_OFFSET).strftime(TIME_FORMAT)


class ResultForm:
    """One contact-result form of one executor: submit, and retry without duplicates.

    A ``client_request_id`` is made when the form starts; it stays the same
    while writes fail (a retry sends it again, so the store keeps one row even
    if the first write did reach it) and a fresh one is made after a success.

    Parameters
    ----------
    store : Store
        The campaign store (enforces who may write which row).
    user : User
        The signed-in user.

    Examples
    --------
    >>> form = ResultForm(store, user)                                   # doctest: +SKIP
    >>> form.submit(member_id, "accepted", "wants the sports edition")    # doctest: +SKIP
    RecordedResult(result_id=1, member_id=7, created=True)
    """

    def __init__(self, store: Store, user: User):
        self.store = store
        self.user = user
        self.request_id = uuid.uuid4().hex
        self.pending: tuple | None = None

    def submit(self, member_id: int, result: str, note: str = "",
               contacted_at: dt.datetime | None = None) -> RecordedResult:
        """Record the form; on success the next form gets a new request id.

        A different member, result, note or time than the failed attempt before
        counts as a new form (new request id).

        Raises
        ------
        AccessDenied, ParameterError
            From :meth:`Store.record_result` (row outside the user's scope, bad
            value); the request id is kept for a retry.
        """
        if result not in CONTACT_RESULTS:
            raise ParameterError.invalid("result", f"one of {list(CONTACT_RESULTS)}", result)
        content = (int(member_id), result, note, contacted_at)
        if self.pending is not None and self.pending != content:
            self.request_id = uuid.uuid4().hex
        self.pending = content
        recorded = self.store.record_result(self.user, int(member_id), result, note, contacted_at,
                                            client_request_id=self.request_id)
        self.pending = None
        self.request_id = uuid.uuid4().hex
        return recorded


def progress_summary(progress: pd.DataFrame) -> dict[str, float]:
    """The ``total`` row of :meth:`Store.progress` as numbers (members, contacted, accepted and rates)."""
    total = progress[progress["dimension"] == "total"]
    if total.empty:
        return {"members": 0, "contacted": 0, "accepted": 0, "contacted_rate": 0.0, "accepted_rate": 0.0}
    row = total.iloc[0]
    return {"members": int(row["members"]), "contacted": int(row["contacted"]), "accepted": int(row["accepted"]),
            "contacted_rate": float(row["contacted_rate"]), "accepted_rate": float(row["accepted_rate"])}


def branch_summary_html(branch: pd.DataFrame, lang: str | None = None) -> str:
    """The branch's totals (:meth:`Store.branch_totals`) as a line of class ``wb-branch-progress``.

    The element carries ``data-branch``, ``data-members``, ``data-contacted`` and
    ``data-accepted`` for the browser tests; an empty frame gives ``""``.
    """
    if branch.empty:
        return ""
    row = branch.iloc[0]
    numbers = {c: int(row[c]) for c in ("members", "contacted", "accepted")}
    text = t("apps.branch_progress.summary", lang=_lang(lang), branch=branch_label(str(row["branch"]), lang),
             contacted_rate=pct_text(row["contacted_rate"], 0), accepted_rate=pct_text(row["accepted_rate"], 0),
             **numbers)
    return (f'<div class="wb-branch-progress" data-branch="{html.escape(str(row["branch"]))}" '
            f'data-members="{numbers["members"]}" data-contacted="{numbers["contacted"]}" '
            f'data-accepted="{numbers["accepted"]}">{html.escape(text)}</div>')


def plain_message(exc: BaseException, lang: str | None = None) -> str:
    """A sentence for the page: a refused write, a bad value, or a failure worth a retry."""
    lang = _lang(lang)
    if isinstance(exc, ContactTimeError):
        local = {k: getattr(exc, k).astimezone(PROVINCE_UTC_OFFSET).strftime(TIME_FORMAT)
                 for k in ("given", "earliest", "latest")}
        return t(f"{_PREFIX}.time_out_of_range", lang=lang, **local)
    if isinstance(exc, (AccessDenied, ParameterError)):
        return t(f"{_PREFIX}.refused", lang=lang, reason=str(exc))
    reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    return t(f"{_PREFIX}.failed", lang=lang, reason=reason)


def display_figure(fig) -> None:
    """Display a plotly figure as plotly's mimetype only (Voila's plotly renderer draws it).

    Unlike :func:`workbench.notebook.show` it never embeds plotly.js in the
    output: inside an ``Output`` widget that would send megabytes on every refresh.
    """
    from IPython.display import display

    display({"application/vnd.plotly.v1+json": fig.to_plotly_json(), "text/plain": repr(fig.layout.title.text)},
            raw=True)


def _html_message(text: str, kind: str) -> str:
    colours = {"ok": "#1e6b2f", "error": "#a61b1b", "info": "#52606d"}
    return (f'<div class="wb-message wb-message-{kind}" data-kind="{kind}" '
            f'style="color:{colours[kind]};min-height:1.4em">{html.escape(text)}</div>')


def executor_app(store: Store, user: User, campaign_id: int = 0, lang: str | None = None):
    """The executor app's layout: campaign choice, worklist grid, result form, progress.

    Parameters
    ----------
    store : Store
        The campaign store; every read and write goes through it with ``user``.
    user : User
        The signed-in user (from :func:`workbench.apps.signed_in_user`).
    campaign_id : int, default 0
        Campaign to open first (0: the newest visible one).
    lang : {"zh", "en"}, optional
        Label language (default: the current one).

    Returns
    -------
    ipywidgets.VBox
        Elements carry classes for the browser tests: ``wb-campaign``, ``wb-worklist``,
        ``wb-selected``, ``wb-result``, ``wb-note``, ``wb-contacted-at``, ``wb-submit``,
        ``wb-message``, ``wb-progress`` (``data-contacted`` / ``data-accepted``), ``wb-branch-progress``
        (the branch's totals, branch roles only), ``wb-progress-chart``.
    """
    import ipywidgets as widgets

    lang = _lang(lang)
    labels = labels_for(_PREFIX, lang)
    who = t(f"{_PREFIX}.signed_in_as", lang=lang, name=user.display_name or user.name,
            role=role_label(user.role, lang), branch=branch_label(user.branch_id, lang))
    header = widgets.HTML(
        # DataTables' "1 row selected" (English only: itables passes no nested words): the form names the row
        '<style>.wb-worklist .select-info{display:none}</style>'
        f'<h2 style="margin:0 0 .2em 0">{html.escape(labels["title"])}</h2>'
        f'<div class="wb-signed-in">{html.escape(who)} · {sign_out_link(lang)}</div>'
    )
    message = widgets.HTML(_html_message("", "info"))
    try:
        options = campaign_options(store, user, lang)
    except WorkbenchError as exc:
        message.value = _html_message(t(f"{_PREFIX}.load_failed", lang=lang, reason=str(exc)), "error")
        return widgets.VBox([header, message])
    if not options:
        message.value = _html_message(labels["no_campaign"], "info")
        return widgets.VBox([header, message])
    ids = [cid for _, cid in options]
    chooser = widgets.Dropdown(options=options, value=campaign_id if campaign_id in ids else ids[0],
                               description=labels["campaign"], layout=widgets.Layout(width="32em"))
    chooser.add_class("wb-campaign")
    list_heading = widgets.HTML()
    try:  # the grid is made with its first rows: an anywidget model changed before its view exists may not render
        first = store.worklist(user, chooser.value)
    except WorkbenchError as exc:
        message.value = _html_message(t(f"{_PREFIX}.load_failed", lang=lang, reason=str(exc)), "error")
        return widgets.VBox([header, chooser, message])
    grid_box = widgets.Box(layout=widgets.Layout(display="block"))  # holds the current grid (see make_grid)
    selected = widgets.HTML()
    form_style = {"description_width": "7em"}  # "Contacted at" whole, the three labels aligned
    result = widgets.Dropdown(options=[(labels[f"result.{r}"], r) for r in CONTACT_RESULTS], value="reached",
                              description=labels["result"], style=form_style)
    result.add_class("wb-result")
    note = widgets.Textarea(description=labels["note"], layout=widgets.Layout(width="36em", height="4em"),
                            style=form_style)
    note.add_class("wb-note")
    contacted_at = widgets.Text(value=now_text(), description=labels["contacted_at"], style=form_style)
    contacted_at.add_class("wb-contacted-at")
    submit = widgets.Button(description=labels["submit"], button_style="primary", disabled=True)
    submit.add_class("wb-submit")
    progress_text = widgets.HTML()
    chart = widgets.Output()
    chart.add_class("wb-progress-chart")
    state = {"worklist": pd.DataFrame(), "form": ResultForm(store, user), "grid": None}

    def show_grid(worklist: pd.DataFrame, keep: list[int]) -> None:
        old = state["grid"]
        grid = make_grid(worklist_grid_frame(worklist, lang), keep, ("wb-worklist",), lang)
        grid.observe(lambda change: show_selected(), names="selected_rows")
        state["grid"] = grid
        grid_box.children = (grid,)
        if old is not None:
            old.close()

    def show_selected() -> None:
        rows = state["grid"].selected_rows
        if not rows or state["worklist"].empty or rows[0] >= len(state["worklist"]):
            selected.value = (f'<div class="wb-selected" data-member-id="">'
                              f'{html.escape(labels["nothing_selected"])}</div>')
            submit.disabled = True
            return
        row = state["worklist"].iloc[rows[0]]
        text = t(f"{_PREFIX}.selected", lang=lang, msisdn=row["msisdn_masked"] or "-", band=row["score_band"] or "-",
                 edition=edition_label(row["edition"], lang) or "-")
        selected.value = (f'<div class="wb-selected" data-member-id="{int(row["member_id"])}">'
                          f"<b>{html.escape(text)}</b><br>{html.escape(str(row['talking_points'] or ''))}</div>")
        submit.disabled = False

    def refresh_progress() -> None:
        progress = store.progress(user, chooser.value)
        # the branch's totals (aggregates only; the store refuses any other branch) for branch roles
        branch = store.branch_totals(user, chooser.value) if user.branch_id else None
        numbers = progress_summary(progress)
        text = t(f"{_PREFIX}.progress_summary", lang=lang, members=numbers["members"],
                 contacted=numbers["contacted"], accepted=numbers["accepted"],
                 contacted_rate=pct_text(numbers["contacted_rate"], 0),
                 accepted_rate=pct_text(numbers["accepted_rate"], 0))
        own = t("apps.branch_progress.own_summary", lang=lang) if branch is not None else ""
        progress_text.value = (
            f'<h3>{html.escape(labels["progress_heading"])}</h3><div class="wb-progress" '
            f'data-members="{numbers["members"]}" data-contacted="{numbers["contacted"]}" '
            f'data-accepted="{numbers["accepted"]}">{html.escape(own + text)}</div>'
            + (branch_summary_html(branch, lang) if branch is not None else ""))
        with chart:
            chart.clear_output(wait=True)
            display_figure(progress_figure(progress, user, lang, branch))

    def load(keep_selection: bool = False, worklist: pd.DataFrame | None = None) -> None:
        keep = list(state["grid"].selected_rows) if keep_selection and state["grid"] is not None else []
        if worklist is None:
            worklist = store.worklist(user, chooser.value)
        show_grid(worklist, keep)
        state["worklist"] = worklist
        list_heading.value = (f'<h3 class="wb-list-heading" data-rows="{len(worklist)}">'
                              f'{html.escape(t(f"{_PREFIX}.list_heading", lang=lang, rows=len(worklist)))}</h3>'
                              f'<div style="color:#52606d">{html.escape(labels["select_hint"])}</div>')
        show_selected()
        refresh_progress()

    def guarded(action) -> None:
        try:
            action()
        except Exception as exc:  # the page shows a sentence, never a traceback
            message.value = _html_message(t(f"{_PREFIX}.load_failed", lang=lang, reason=str(exc).splitlines()[0]
                                            if str(exc) else type(exc).__name__), "error")

    def on_submit(_button) -> None:
        rows = state["grid"].selected_rows
        if not rows:
            message.value = _html_message(labels["select_first"], "error")
            return
        row = state["worklist"].iloc[rows[0]]
        try:
            when = parse_contacted_at(contacted_at.value)
        except ParameterError:
            message.value = _html_message(t(f"{_PREFIX}.bad_time", lang=lang, value=contacted_at.value), "error")
            return
        submit.disabled = True
        try:
            recorded = state["form"].submit(int(row["member_id"]), result.value, note.value, when)
        except Exception as exc:  # shown as a sentence; the same request id is kept for the retry
            retry = not isinstance(exc, (AccessDenied, ParameterError))
            submit.description = labels["retry"] if retry else labels["submit"]
            message.value = _html_message(plain_message(exc, lang), "error")
            submit.disabled = False
            return
        key = "saved" if recorded.created else "already_saved"
        message.value = _html_message(t(f"{_PREFIX}.{key}", lang=lang, msisdn=row["msisdn_masked"] or "-",
                                        result=labels[f"result.{result.value}"]), "ok")
        submit.description = labels["submit"]
        note.value = ""
        contacted_at.value = now_text()
        guarded(lambda: load(keep_selection=True))

    chooser.observe(lambda change: guarded(load), names="value")
    submit.on_click(on_submit)
    guarded(lambda: load(worklist=first))
    form = widgets.VBox([selected, widgets.HBox([result, contacted_at]), note, submit, message])
    return widgets.VBox([header, chooser, list_heading, grid_box, form, progress_text, chart])
