"""The worklist grid: which rows the executor app shows (filters), their columns, and the grid widget.

- :func:`filter_worklist` - the rows of one filter (to work, not yet contacted, callbacks due, by
  last result, all), callbacks ordered by their due time;
- :func:`worklist_grid_frame` - those rows with catalogue headers (the executor column for roles
  that watch executors, by the name people know the executor by: :func:`shown_executor`);
- :func:`make_grid` - itables' ``ITable`` widget made whole with every row, the selection and the
  page showing it (``maxBytes=0``: every row is sent; rows are real DOM elements with sorting,
  search and paging).  Rows are encoded by :func:`grid_rows_json` (the JSON itables makes, several
  times faster on a 20,000-row list than itables' own per-cell formatting).
"""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import get_language, labels_for
from workbench.store.members import shown_executor  # re-exported: the grid, the panel and the messages use it

__all__ = [
    "GRID_COLUMNS",
    "EXECUTOR_COLUMN",
    "EXECUTOR_NAME_COLUMN",
    "PAGE_LENGTH",
    "FILTERS",
    "DEFAULT_FILTER",
    "CALLBACK_FORMAT",
    "REASONS_CHARS",
    "filter_worklist",
    "shown_executor",
    "assigned_executor",
    "worklist_grid_frame",
    "GRID_OPTIONS",
    "GRID_LAYOUT",
    "edition_label",
    "grid_language",
    "grid_rows_json",
    "make_grid",
]

#: Worklist columns the grid shows, in order (``member_id`` first: the row's key).  The edition, the
#: talking points and the reasons in full are in the side panel of the selected customer, so the grid
#: and the panel fit a 1024-pixel-wide screen side by side.
GRID_COLUMNS: tuple[str, ...] = (
    "member_id", "msisdn_masked", "score_band", "reasons", "channel", "contacts", "last_result",
)
#: Shown after the number for roles that watch executors (:func:`workbench.store.access.sees_executors`).
EXECUTOR_COLUMN = "executor"
#: The worklist's column with the name people know a row's executor by (:meth:`Store.worklist`): the grid,
#: the side panel and the messages show it; :data:`EXECUTOR_COLUMN` (the login) stays what code compares.
EXECUTOR_NAME_COLUMN = "executor_name"
#: Rows per page: the grid and the form beside it fit a 1024x768 screen without scrolling.
PAGE_LENGTH = 10
#: The grid's filters (catalogue ``app_executor.filter.<name>``), in the order offered.
FILTERS: tuple[str, ...] = (
    "to_work", "not_contacted", "callback_due", "call_back", "reached", "not_reachable", "refused", "accepted",
    "all",
)
#: Longest reasons text in a grid cell (the side panel shows the selected customer's in full).
REASONS_CHARS = 16
#: The filter a list opens with: due callbacks (by due time), then customers not yet contacted.
DEFAULT_FILTER = "to_work"
#: How a callback's due time is shown in the grid (province clock).
CALLBACK_FORMAT = "%m-%d %H:%M"
#: Options of the worklist grid (itables / DataTables): every row sent, rows drawn per page, one row selectable,
#: the table as wide as its column, cells on one line (the side panel shows the selected row in full).
GRID_OPTIONS: dict = {"maxBytes": 0, "deferRender": True, "select": {"style": "single"}, "pageLength": PAGE_LENGTH,
                      "classes": "display compact nowrap wb-grid",
                      # the browser lays the columns out: DataTables' own widths, measured while the widget
                      # may not be on screen yet, squeezed the table to a third of the page
                      "autoWidth": False, "style": "width:100%"}
#: DataTables controls around the grid, shown even when the list fits one page (itables would hide them then).
GRID_LAYOUT: dict = {"topStart": "pageLength", "topEnd": "search", "bottomStart": "info", "bottomEnd": "paging"}
_PREFIX = "app_executor"
_UTC8 = dt.timezone(dt.timedelta(hours=8))


def _lang(lang: str | None) -> str:
    return lang or get_language()


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


def assigned_executor(row) -> str | None:
    """The login of the executor ``row`` (a worklist row) is assigned to; None for an unassigned row.

    What the access rules take (:func:`workbench.store.access.can_write_member` ...): the store's frame
    holds a missing executor as NaN (pandas' text dtype), which those rules would take for a name.
    """
    value = row.get(EXECUTOR_COLUMN) if hasattr(row, "get") else None
    return value if isinstance(value, str) and value else None


def _callback_times(worklist: pd.DataFrame) -> pd.Series:
    if "callback_at" not in worklist.columns:
        return pd.Series(pd.NaT, index=worklist.index, dtype="datetime64[us, UTC]")
    return pd.to_datetime(worklist["callback_at"], utc=True, errors="coerce")


def filter_worklist(worklist: pd.DataFrame, which: str = DEFAULT_FILTER, now: dt.datetime | None = None
                    ) -> pd.DataFrame:
    """The rows of :meth:`Store.worklist` that the filter ``which`` shows, in working order.

    ``to_work``: callbacks due by ``now`` (earliest due first), then customers not yet contacted
    (the store's order: best score first); ``not_contacted``; ``callback_due`` and ``call_back``
    (every callback) by due time, a callback without a time last; a contact result (``reached``,
    ``not_reachable``, ``refused``, ``accepted``): rows whose last result it is; ``all``.

    Raises
    ------
    ParameterError
        An unknown filter, or a worklist without ``contacts`` / ``last_result``.
    """
    if which not in FILTERS:
        raise ParameterError.invalid("which", f"one of {list(FILTERS)}", which)
    missing = [c for c in ("contacts", "last_result") if c not in worklist.columns]
    if missing:
        raise ParameterError(f"The worklist table must have the columns ['contacts', 'last_result']; missing "
                             f"{missing}. Got columns {list(worklist.columns)}.")
    now = now or dt.datetime.now(dt.timezone.utc)
    due_at = _callback_times(worklist)
    callback = worklist["last_result"].eq("call_back").fillna(False).astype(bool)
    due = callback & (due_at.isna() | (due_at <= pd.Timestamp(now)))
    fresh = worklist["contacts"].fillna(0).astype("int64").eq(0)

    def by_due(mask: pd.Series) -> pd.DataFrame:
        order = due_at[mask].sort_values(kind="stable", na_position="last").index
        return worklist.loc[order]

    if which == "to_work":
        return pd.concat([by_due(due), worklist[fresh]])
    if which == "not_contacted":
        return worklist[fresh]
    if which == "callback_due":
        return by_due(due)
    if which == "call_back":
        return by_due(callback)
    if which == "all":
        return worklist
    return worklist[worklist["last_result"].eq(which).fillna(False).astype(bool)]


def worklist_grid_frame(worklist: pd.DataFrame, lang: str | None = None, *, executors: bool = False
                        ) -> pd.DataFrame:
    """The grid's table: :data:`GRID_COLUMNS` of a :meth:`Store.worklist` frame, headers from the catalogue.

    Contact results and channels are shown by their labels, a callback with its due time
    (:data:`CALLBACK_FORMAT`, province clock); the row order is kept.  ``executors`` adds
    :data:`EXECUTOR_COLUMN` after the number (whose customer it is), showing each executor's name
    (:data:`EXECUTOR_NAME_COLUMN` where the worklist has it, else the login; see :func:`shown_executor`).

    Raises
    ------
    ParameterError
        When ``worklist`` lacks one of the columns shown.
    """
    lang = _lang(lang)
    columns = list(GRID_COLUMNS)
    if executors:
        columns.insert(2, EXECUTOR_COLUMN)
    missing = [c for c in columns if c not in worklist.columns]
    if missing:
        raise ParameterError(f"The worklist table must have the columns {columns}; missing {missing}. "
                             f"Got columns {list(worklist.columns)}.")
    frame = worklist.loc[:, columns].reset_index(drop=True).copy()
    if executors and EXECUTOR_NAME_COLUMN in worklist.columns:
        names = worklist[EXECUTOR_NAME_COLUMN].reset_index(drop=True)
        frame[EXECUTOR_COLUMN] = names.where(names.notna() & names.ne(""), frame[EXECUTOR_COLUMN])
    results = labels_for(f"{_PREFIX}.result", lang)
    channels = labels_for("channel", lang)
    last = frame["last_result"].map(lambda r: results.get(r, "") if isinstance(r, str) else "")
    due = _callback_times(worklist).reset_index(drop=True)
    when = due.dt.tz_convert(_UTC8).dt.strftime(CALLBACK_FORMAT).where(due.notna(), "")
    frame["last_result"] = (last + " " + when.astype(str)).str.strip().where(
        worklist["last_result"].eq("call_back").fillna(False).to_numpy(bool), last)
    frame["channel"] = frame["channel"].map(lambda c: channels.get(c, c) if isinstance(c, str) else "")
    text = ["msisdn_masked", "score_band", "reasons"] + ([EXECUTOR_COLUMN] if executors else [])
    for col in text:
        frame[col] = frame[col].astype("object").where(frame[col].notna(), "").astype(str)
    long = frame["reasons"].str.len() > REASONS_CHARS
    frame["reasons"] = frame["reasons"].where(~long, frame["reasons"].str.slice(0, REASONS_CHARS - 1) + "…")
    frame["member_id"] = frame["member_id"].astype("int64")
    frame["contacts"] = frame["contacts"].astype("int64")
    headers = labels_for(f"{_PREFIX}.column", lang)
    return frame.rename(columns={c: headers[c] for c in columns})


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

    The widget's first message to the browser already holds every row, the
    selection and the page that shows the selected row: itables' own constructor
    opens the widget empty and fills it with later messages, and anywidget's
    front-end drops every message to a widget whose script took over 2 s to load
    (a loaded machine), leaving a grid that never draws.  A grid is therefore
    never changed afterwards: a new list is a new grid (the executor app swaps it in).

    Parameters
    ----------
    frame : DataFrame
        The grid's table (:func:`worklist_grid_frame`).
    selected_rows : list of int, optional
        Positions of the selected rows; the grid opens on the page of the first.
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
            selected = list(selected_rows or [])
            dt_args = {**dt_args, "layout": dict(GRID_LAYOUT), "data_json": grid_rows_json(frame)}
            if selected:  # open on the page showing the selected row (the next customer after a result)
                dt_args["displayStart"] = (int(selected[0]) // PAGE_LENGTH) * PAGE_LENGTH
            AnyWidget.__init__(self, caption=other.get("caption") or "", classes=other.get("classes") or "",
                               _style=other.get("style") or "", selected_rows=selected,
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
