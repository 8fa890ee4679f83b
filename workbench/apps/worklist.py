"""The executor app: choose a campaign, work the list, call, record each contact, watch progress.

Compute and I/O are plain functions and one small class, tested without a browser, in two modules
(re-exported here): :mod:`~workbench.apps.worklist_grid` (filters, the grid's table and widget) and
:mod:`~workbench.apps.worklist_form` (times, :class:`ResultForm`, numbers, progress, messages).
:func:`executor_app` assembles the widgets (the notebook's last expression displays it):

- the grid on the left, the selected customer and the result form in a side panel on its right,
  both on one 1024x768 screen without scrolling (:data:`PAGE_LENGTH` rows a page);
- "show number" for a caller whose row it is (:func:`workbench.store.access.can_reveal_number`):
  :meth:`Store.reveal_number` audit-logs each reveal and keeps the daily cap; the number appears
  in the panel as a ``tel:`` link and stays masked in the grid;
- after a result the next customer is selected (:func:`next_position`) on the page that shows it;
  filters by result and "callback due", callbacks by due time (:func:`filter_worklist`);
- roles that watch executors (:func:`workbench.store.access.sees_executors`) see whose customer
  each row is and each executor's progress; whether they may record on it is the store's policy.
"""
from __future__ import annotations

import html

from workbench.apps.widgets import branch_label, portal_link, role_label, sign_out_link
from workbench.apps.worklist_form import (
    CALLBACK_DELAY, TIME_FORMAT, ResultForm, branch_summary_html, callback_text, executor_progress_html,
    next_position, now_text, on_behalf_text, parse_contacted_at, phone_lookup, plain_message, progress_summary,
)
from workbench.apps.worklist_grid import (
    CALLBACK_FORMAT, DEFAULT_FILTER, EXECUTOR_COLUMN, EXECUTOR_NAME_COLUMN, FILTERS, GRID_COLUMNS, GRID_LAYOUT,
    GRID_OPTIONS, PAGE_LENGTH, edition_label, filter_worklist, grid_language, grid_rows_json, make_grid,
    assigned_executor, shown_executor, worklist_grid_frame,
)
from workbench.errors import AccessDenied, ParameterError, WorkbenchError
from workbench.i18n import get_language, labels_for, t
from workbench.report.format import pct_text
from workbench.store import CONTACT_RESULTS, Store, User
from workbench.store.access import can_reveal_number, can_write_member, may_call, on_behalf_of, sees_executors
from workbench.viz import progress_figure

__all__ = [
    "GRID_COLUMNS", "EXECUTOR_COLUMN", "EXECUTOR_NAME_COLUMN", "shown_executor", "assigned_executor",
    "PAGE_LENGTH", "FILTERS", "DEFAULT_FILTER", "CALLBACK_FORMAT", "TIME_FORMAT",
    "CALLBACK_DELAY", "filter_worklist", "worklist_grid_frame", "GRID_OPTIONS", "edition_label", "grid_language",
    "GRID_LAYOUT", "grid_rows_json", "make_grid", "campaign_options", "parse_contacted_at", "now_text",
    "callback_text", "ResultForm", "phone_lookup", "next_position", "progress_summary", "branch_summary_html",
    "executor_progress_html", "on_behalf_text", "plain_message", "display_figure", "customer_html", "executor_app",
]
_PREFIX = "app_executor"
#: Width of the side panel (selected customer and form) beside the grid.
PANEL_WIDTH = "300px"
#: The page's own styles: DataTables' English-only "1 row selected" hidden (the panel names the row);
#: grid cells on one line and clipped (the panel shows the selected row in full).
_STYLE = ('<style>.wb-worklist .select-info{display:none}'
          '.wb-worklist td{max-width:11em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}'
          '.wb-worklist th,.wb-worklist td{padding-left:4px!important;padding-right:4px!important}'
          '.wb-panel .widget-label{min-width:0}.wb-executors td,.wb-executors th{padding:1px 8px;'
          'border-bottom:1px solid #e4e7eb;text-align:left}</style>')


def _lang(lang: str | None) -> str:
    return lang or get_language()


#: Campaigns the workbench names itself, by product: that default name is shown in the user's language
#: (``app_executor.campaign_kind.<product>``); a name an analyst gave is shown as given.
DEFAULT_CAMPAIGN_NAMES = {"handset_trigger": "handset-change trigger"}   # workbench.triggers.waves.TriggerSpec.name


def campaign_options(store: Store, user: User, lang: str | None = None) -> list[tuple[str, int]]:
    """``(label, campaign_id)`` of the released campaigns ``user`` may see (the store filters), newest first."""
    campaigns = store.visible_campaigns(user)
    campaigns = campaigns[campaigns["status"] != "draft"]
    return [(f"{_campaign_name(name, product, lang)} (#{int(cid)})", int(cid))
            for cid, name, product in zip(campaigns["campaign_id"], campaigns["name"], campaigns["product"])]


def _campaign_name(name: str, product: str, lang: str | None) -> str:
    if DEFAULT_CAMPAIGN_NAMES.get(product) == name:
        return t(f"app_executor.campaign_kind.{product}", _lang(lang))
    return name


def display_figure(fig) -> None:
    """Display a plotly figure as plotly's mimetype only (Voila's plotly renderer draws it).

    Unlike :func:`workbench.notebook.show` it never embeds plotly.js in the
    output: inside an ``Output`` widget that would send megabytes on every refresh.
    """
    from IPython.display import display

    from workbench.apps.heap import release_plotly_validators

    display({"application/vnd.plotly.v1+json": fig.to_plotly_json(), "text/plain": repr(fig.layout.title.text)},
            raw=True)
    release_plotly_validators()  # a redraw after a result runs outside any cell (see workbench.apps.heap)


def customer_html(row, lang: str | None = None, *, executors: bool = False) -> str:
    """The selected customer in the side panel (class ``wb-selected``, ``data-member-id``): masked
    number, score band, edition, whose customer (``executors``: the executor's name, :func:`shown_executor`),
    reasons and talking points in full;
    ``row`` None: "no customer selected" (``data-member-id=""``)."""
    lang = _lang(lang)
    if row is None:
        return (f'<div class="wb-selected" data-member-id="">'
                f'{html.escape(t(f"{_PREFIX}.nothing_selected", lang=lang))}</div>')
    text = t(f"{_PREFIX}.selected", lang=lang, msisdn=row["msisdn_masked"] or "-", band=row["score_band"] or "-",
             edition=edition_label(row["edition"], lang) or "-")
    whose = ""
    if executors:
        whose_text = t(f"{_PREFIX}.whose", lang=lang, executor=shown_executor(row) or "-")
        whose = f'<div class="wb-whose">{html.escape(whose_text)}</div>'
    colon = "：" if lang == "zh" else ": "
    extra = "".join(f'<div style="margin-top:.2em"><span style="color:#52606d">{html.escape(label + colon)}</span>'
                    f'{html.escape(str(value))}</div>'
                    for label, value in ((labels_for(f"{_PREFIX}.column", lang)["reasons"], row["reasons"]),
                                         (labels_for(f"{_PREFIX}.column", lang)["talking_points"],
                                          row["talking_points"]))
                    if isinstance(value, str) and value)
    return (f'<div class="wb-selected" data-member-id="{int(row["member_id"])}" style="line-height:1.35">'
            f"<b>{html.escape(text)}</b>{whose}{extra}</div>")


def _html_message(text: str, kind: str) -> str:
    colours = {"ok": "#1e6b2f", "error": "#a61b1b", "info": "#52606d"}
    return (f'<div class="wb-message wb-message-{kind}" data-kind="{kind}" '
            f'style="color:{colours[kind]};min-height:1.4em;line-height:1.3">{html.escape(text)}</div>')


def executor_app(store: Store, user: User, campaign_id: int = 0, lang: str | None = None, numbers=None):
    """The executor app's layout: campaign and filter, worklist grid beside the customer and form, progress.

    Parameters
    ----------
    store : Store
        The campaign store; every read and write goes through it with ``user`` (and its policy).
    user : User
        The signed-in user (from :func:`workbench.apps.signed_in_user`).
    campaign_id : int, default 0
        Campaign to open first (0: the newest visible one).
    lang : {"zh", "en"}, optional
        Label language (default: the current one).
    numbers : callable, optional
        ``numbers(subscriber_id) -> full number`` for "show number" (default :func:`phone_lookup` of
        the workspace's data, read at the first reveal).

    Returns
    -------
    ipywidgets.VBox
        Elements carry classes for the browser tests: ``wb-campaign``, ``wb-filter``, ``wb-worklist``,
        ``wb-panel``, ``wb-selected``, ``wb-reveal`` (button), ``wb-number`` (the revealed number, a
        ``tel:`` link), ``wb-result``, ``wb-note``, ``wb-contacted-at``, ``wb-callback-at``, ``wb-submit``,
        ``wb-message``, ``wb-progress`` (``data-contacted`` / ``data-accepted``), ``wb-branch-progress``
        (the branch's totals, branch roles only), ``wb-executor-progress`` (per executor, roles that
        watch executors), ``wb-progress-chart``.
    """
    import ipywidgets as widgets
    import pandas as pd

    lang = _lang(lang)
    labels = labels_for(_PREFIX, lang)
    numbers = numbers or phone_lookup()
    executors = sees_executors(user)
    who = t(f"{_PREFIX}.signed_in_as", lang=lang, name=user.display_name or user.name,
            role=role_label(user.role, lang), branch=branch_label(user.branch_id, lang))
    title = labels["title_manager"] if executors else labels["title"]
    header = widgets.HTML(
        f'{_STYLE}<h2 style="margin:0 0 .1em 0">{html.escape(title)}</h2>'
        f'<div class="wb-signed-in">{html.escape(who)} · {portal_link(lang)} · {sign_out_link(lang)}</div>'
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
                               description=labels["campaign"], layout=widgets.Layout(width="24em"))
    chooser.add_class("wb-campaign")
    which = widgets.Dropdown(options=[(labels[f"filter.{f}"], f) for f in FILTERS], value=DEFAULT_FILTER,
                             description=labels["filter"], layout=widgets.Layout(width="22em"))
    which.add_class("wb-filter")
    list_heading = widgets.HTML()
    try:  # the grid is made with its first rows: an anywidget model changed before its view exists may not render
        first = store.worklist(user, chooser.value)
    except WorkbenchError as exc:
        message.value = _html_message(t(f"{_PREFIX}.load_failed", lang=lang, reason=str(exc)), "error")
        return widgets.VBox([header, chooser, message])
    grid_box = widgets.Box(layout=widgets.Layout(display="block"))  # holds the current grid (see make_grid)
    selected = widgets.HTML(customer_html(None, lang))
    full = widgets.Layout(width="100%")
    form_style = {"description_width": "6.5em"}
    reveal = widgets.Button(description=labels["reveal"], icon="phone",
                            layout=widgets.Layout(display="none", width="auto", flex="0 0 auto"))
    reveal.add_class("wb-reveal")
    revealed = widgets.HTML()
    result = widgets.Dropdown(options=[(labels[f"result.{r}"], r) for r in CONTACT_RESULTS], value="reached",
                              description=labels["result"], style=form_style, layout=full)
    result.add_class("wb-result")
    contacted_at = widgets.Text(value=now_text(), description=labels["contacted_at"], style=form_style, layout=full)
    contacted_at.add_class("wb-contacted-at")
    callback_at = widgets.Text(value=callback_text(), description=labels["callback_at"], style=form_style,
                               layout=widgets.Layout(width="100%", display="none"))
    callback_at.add_class("wb-callback-at")
    note = widgets.Textarea(description=labels["note"], style=form_style, layout=widgets.Layout(width="100%",
                                                                                                height="3.6em"))
    note.add_class("wb-note")
    submit = widgets.Button(description=labels["submit"], button_style="primary", disabled=True,
                            layout=widgets.Layout(width="100%"))
    submit.add_class("wb-submit")
    progress_text = widgets.HTML()
    chart = widgets.Output()
    chart.add_class("wb-progress-chart")
    state = {"worklist": pd.DataFrame(), "all": pd.DataFrame(), "form": ResultForm(store, user), "grid": None}

    def show_grid(worklist: pd.DataFrame, keep: list[int]) -> None:
        old = state["grid"]
        grid = make_grid(worklist_grid_frame(worklist, lang, executors=executors), keep, ("wb-worklist",), lang)
        grid.observe(lambda change: show_selected(), names="selected_rows")
        state["grid"] = grid
        grid_box.children = (grid,)
        if old is not None:
            old.close()

    def current_row():
        rows = state["grid"].selected_rows if state["grid"] is not None else []
        if not rows or state["worklist"].empty or rows[0] >= len(state["worklist"]):
            return None
        return state["worklist"].iloc[rows[0]]

    def show_selected() -> None:
        row = current_row()
        revealed.value = ""
        selected.value = customer_html(row, lang, executors=executors)
        submit.disabled = row is None
        assigned = assigned_executor(row) if row is not None else None   # the login, None when unassigned
        callable_row = row is not None and may_call(user) and can_reveal_number(
            user, row["branch_id"], assigned, store.policy)
        reveal.layout.display = "" if callable_row else "none"
        reveal.disabled = not callable_row
        if row is not None and not can_write_member(user, row["branch_id"], assigned, store.policy):
            submit.disabled = True
            message.value = _html_message(labels["watch_only"], "info")
        elif row is not None and on_behalf_of(user, assigned):
            message.value = _html_message(on_behalf_text(on_behalf_of(user, assigned), row, lang), "info")

    def refresh_progress() -> None:
        progress = store.progress(user, chooser.value)
        # the branch's totals (aggregates only; the store refuses any other branch) for branch roles
        branch = store.branch_totals(user, chooser.value) if user.branch_id else None
        numbers_ = progress_summary(progress)
        text = t(f"{_PREFIX}.progress_summary", lang=lang, members=numbers_["members"],
                 contacted=numbers_["contacted"], accepted=numbers_["accepted"],
                 contacted_rate=pct_text(numbers_["contacted_rate"], 0),
                 accepted_rate=pct_text(numbers_["accepted_rate"], 0))
        # "mine" only for an executor, whose list is their own; a manager's figures are the scope's
        own = t("apps.branch_progress.own_summary", lang=lang) if branch is not None and not executors else ""
        progress_text.value = (
            f'<h3 style="margin:.4em 0 .2em 0">{html.escape(labels["progress_heading"])}</h3>'
            f'<div class="wb-progress" '
            f'data-members="{numbers_["members"]}" data-contacted="{numbers_["contacted"]}" '
            f'data-accepted="{numbers_["accepted"]}">{html.escape(own + text)}</div>'
            + (branch_summary_html(branch, lang) if branch is not None else "")
            + (executor_progress_html(progress, lang) if executors else ""))
        with chart:
            chart.clear_output(wait=True)
            display_figure(progress_figure(progress, user, lang, branch))

    def load(select: int | None = None, worklist: pd.DataFrame | None = None) -> None:
        if worklist is None:
            worklist = store.worklist(user, chooser.value)
        shown = filter_worklist(worklist, which.value).reset_index(drop=True)
        state["all"] = worklist
        state["worklist"] = shown
        show_grid(shown, [] if select is None else [select])
        list_heading.value = (f'<h3 class="wb-list-heading" data-rows="{len(shown)}" style="margin:.2em 0">'
                              f'{html.escape(t(f"{_PREFIX}.list_heading", lang=lang, rows=len(shown)))}</h3>')
        show_selected()
        refresh_progress()

    def guarded(action) -> None:
        try:
            action()
        except Exception as exc:  # the page shows a sentence, never a traceback
            message.value = _html_message(t(f"{_PREFIX}.load_failed", lang=lang, reason=str(exc).splitlines()[0]
                                            if str(exc) else type(exc).__name__), "error")

    def on_reveal(_button) -> None:
        row = current_row()
        if row is None:
            message.value = _html_message(labels["select_first"], "error")
            return
        try:
            number = store.reveal_number(user, int(row["member_id"]), numbers)
            used, cap = store.reveals_today(user)
        except Exception as exc:  # refused, over the cap, or no number to read: a sentence
            message.value = _html_message(plain_message(exc, lang), "error")
            return
        shown = html.escape(number)
        count = html.escape(t(f"{_PREFIX}.reveal_count", lang=lang, used=used, cap=cap))
        revealed.value = (f'<div class="wb-revealed"><a class="wb-number" href="tel:{shown}" '
                          f'style="font-size:1.25em;font-weight:600">{shown}</a> '
                          f'<span style="color:#52606d">{count}</span></div>')

    def on_result(change) -> None:
        callback_at.layout.display = "" if change["new"] == "call_back" else "none"

    def on_submit(_button) -> None:
        row = current_row()
        if row is None:
            message.value = _html_message(labels["select_first"], "error")
            return
        try:
            when = parse_contacted_at(contacted_at.value)
        except ParameterError:
            message.value = _html_message(t(f"{_PREFIX}.bad_time", lang=lang, value=contacted_at.value), "error")
            return
        due = None
        if result.value == "call_back":
            try:
                due = parse_contacted_at(callback_at.value, "callback_at")
            except ParameterError:
                message.value = _html_message(t(f"{_PREFIX}.bad_time", lang=lang, value=callback_at.value), "error")
                return
        submit.disabled = True
        position, member_id, before = int(state["grid"].selected_rows[0]), int(row["member_id"]), \
            state["worklist"]["member_id"]
        try:
            recorded = state["form"].submit(member_id, result.value, note.value, when, due)
        except Exception as exc:  # shown as a sentence; the same request id is kept for the retry
            retry = not isinstance(exc, (AccessDenied, ParameterError))
            submit.description = labels["retry"] if retry else labels["submit"]
            message.value = _html_message(plain_message(exc, lang), "error")
            submit.disabled = False
            return
        key = "saved" if recorded.created else "already_saved"
        text = t(f"{_PREFIX}.{key}", lang=lang, msisdn=row["msisdn_masked"] or "-",
                 result=labels[f"result.{result.value}"])
        if recorded.on_behalf_of:
            text += " " + on_behalf_text(recorded.on_behalf_of, row, lang)
        submit.description = labels["submit"]
        note.value = ""
        contacted_at.value = now_text()
        callback_at.value = callback_text()

        def reload_next() -> None:
            worklist = store.worklist(user, chooser.value)
            after = filter_worklist(worklist, which.value)["member_id"]
            load(select=next_position(before, position, member_id, after), worklist=worklist)

        guarded(reload_next)
        message.value = _html_message(text, "ok")

    chooser.observe(lambda change: guarded(load), names="value")
    which.observe(lambda change: guarded(lambda: load(worklist=state["all"] if len(state["all"]) else None)),
                  names="value")
    result.observe(on_result, names="value")
    reveal.on_click(on_reveal)
    submit.on_click(on_submit)
    guarded(lambda: load(worklist=first))
    panel = widgets.VBox([selected, widgets.HBox([reveal, revealed], layout=widgets.Layout(align_items="center")),
                          result, contacted_at, callback_at, note, submit, message],
                         layout=widgets.Layout(width=PANEL_WIDTH, min_width=PANEL_WIDTH, padding="0 6px 0 10px"))
    panel.add_class("wb-panel")
    # a grid wider than its place scrolls sideways rather than hide columns under the panel
    left = widgets.VBox([list_heading, grid_box], layout=widgets.Layout(flex="1 1 auto", min_width="0",
                                                                         overflow_x="auto"))
    main = widgets.HBox([left, panel], layout=widgets.Layout(width="100%", align_items="flex-start"))
    bar = widgets.HBox([chooser, which], layout=widgets.Layout(flex_flow="row wrap"))
    return widgets.VBox([header, bar, main, progress_text, chart])
