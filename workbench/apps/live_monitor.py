"""The monitoring app (template 05 served by Voila): panels that a refresh redraws in place.

Template 05 shows its sections as panels of one :class:`LiveMonitor`; each panel
is an ``Output`` widget whose outputs (Markdown, plotly's mimetype, HTML) are
*replaced* on :meth:`LiveMonitor.refresh` - the refresh button, which the page
itself clicks every ``refresh_seconds`` (:meth:`LiveMonitor.auto_refresh`) - so new
results appear without re-running the notebook or reloading the page.  The timer
lives in the browser, not in a kernel thread: a thread started by the notebook broke
Voila 0.5's rendering of the widgets displayed after it ("model not found"), and a
page's timer stops with the page (and waits while its tab is hidden).  A refresh reads aggregates only
(:func:`workbench.apps.monitor.monitor_data`); a failed one says so in the
catalogue's words and leaves the previous figures on screen.

Served, the first read is *deferred* (``defer``, by default in a served page): the notebook displays the
panels at once (the campaign and plan already checked) and the kernel reads and
draws them right after the cell, on its event loop, while the browser loads
Voila's scripts and plotly.js - the page's kernel work and the browser's overlap
instead of adding up (the status says it is reading until the figures are in).

Elements carry classes for the browser tests: ``wb-monitor-status`` (with
``data-contacted``, ``data-accepted``, ``data-refreshes``), ``wb-refresh``,
``wb-monitor-panel`` (``data-panel``), ``wb-branch-status``.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import html

from workbench.apps.heap import release_plotly_validators
from workbench.apps.monitor import MonitorData, lagging_html, monitor_data, monitor_plan, monitored_campaign
from workbench.i18n import get_language, labels_for, t
from workbench.store import Store, User

__all__ = ["PANELS", "LiveMonitor", "monitor_app"]

#: The panels of the view, in the template's order.
PANELS: tuple[str, ...] = ("intro", "branches", "over_time", "dimensions", "provisional")
_PREFIX = "app_monitor"
_BEIJING = dt.timezone(dt.timedelta(hours=8))


def _markdown(text: str) -> dict:
    return {"output_type": "display_data", "data": {"text/markdown": text, "text/plain": text}, "metadata": {}}


def _figure(fig) -> dict:
    """plotly's mimetype only (Voila's plotly renderer draws it); no plotly.js inside the widget's state."""
    import json

    return {"output_type": "display_data", "metadata": {},
            "data": {"application/vnd.plotly.v1+json": json.loads(fig.to_json()),
                     "text/plain": str(fig.layout.title.text or "")}}


class LiveMonitor:
    """The manager view of one user and campaign, with panels redrawn in place by :meth:`refresh`.

    Parameters
    ----------
    store : Store
        The campaign store (every read with ``user``).
    user : User
        The signed-in user.
    campaign_id : int, default 0
        The campaign (0: the newest one the user may see).
    plan_days, capacity_per_day, lag_ratio
        The plan (see :func:`workbench.apps.monitor.monitor_data`); ``plan_days`` None or 0 (default): the plan
        runs over the campaign's period (:func:`workbench.apps.monitor.plan_length`).
    refresh_seconds : float, default 0
        Redraw every this many seconds (0: only on the button), see :meth:`auto_refresh`.
    lang : {"zh", "en"}, optional
        Label language (default: the current one).
    defer : bool, optional
        Read and draw right after the notebook's cell (on the kernel's event loop; at once when no loop
        runs), not in the constructor (:meth:`first_read`).  Default: in a kernel ``workbench serve`` started
        for a page (:func:`workbench.apps.hook.served_kernel`), never in a batch run.

    Raises
    ------
    ParameterError
        No campaign the user may see, bad plan parameters (checked at once, also when ``defer``);
        without ``defer``, anything the first read raises.
    """

    def __init__(self, store: Store, user: User, campaign_id: int = 0, *, plan_days: int | None = None,
                 capacity_per_day: int = 40, lag_ratio: float = 0.8, refresh_seconds: float = 0,
                 lang: str | None = None, defer: bool | None = None):
        import ipywidgets as widgets

        self.store, self.user, self.lang = store, user, lang or get_language()
        self.plan = monitor_plan(plan_days, capacity_per_day, lag_ratio)
        self.refresh_seconds = float(refresh_seconds or 0)
        self.refreshes = 0
        labels = labels_for(_PREFIX, self.lang)
        self.campaign_id, _ = monitored_campaign(store, user, campaign_id)
        if defer is None:
            from workbench.apps.hook import served_kernel

            defer = served_kernel()
        self.view: MonitorData | None = None if defer else monitor_data(store, user, self.campaign_id, **self.plan)
        self.status = widgets.HTML()
        self.status.add_class("wb-monitor-status")
        self.button = widgets.Button(description=labels["refresh"], icon="refresh",
                                     layout=widgets.Layout(width="auto"))
        self.button.add_class("wb-refresh")
        self.button.on_click(lambda _: self.refresh())
        self.outputs = {name: widgets.Output() for name in PANELS}
        for name, out in self.outputs.items():
            out.add_class("wb-monitor-panel")
            out.add_class(f"wb-panel-{name}")
        self.table = widgets.HTML()
        if defer:
            self.button.disabled = True
            self.status.value = (f'<span class="wb-monitor-loading" style="color:#52606d;margin-left:1em">'
                                 f'{html.escape(labels["loading"])}</span>')
            try:
                asyncio.get_running_loop().call_later(0.05, self.first_read)
            except RuntimeError:    # no event loop runs (a script): read now
                self.first_read()
        else:
            self._draw()

    def first_read(self) -> MonitorData | None:
        """Read and draw the panels the first time (a deferred :class:`LiveMonitor`); a failure is shown as a sentence.

        Returns
        -------
        MonitorData or None
            The view now shown; None when the read failed (the page says why; the refresh button retries).
        """
        return self._read(count=False)

    def _read(self, count: bool) -> MonitorData | None:
        """Read the aggregates and redraw every panel; a failure keeps the view shown and says why on the page."""
        self.button.disabled = True
        try:
            self.view = monitor_data(self.store, self.user, self.campaign_id, **self.plan)
            self.refreshes += int(count)
            self._draw()
        except Exception as exc:  # the page shows a sentence, never a traceback
            self._draw(error=self._failure(exc))
        finally:
            self.button.disabled = False
        return self.view

    # ------------------------------------------------------------------ layout
    def panel(self, name: str):
        """The widget of panel ``name`` (one of :data:`PANELS`); ``intro`` carries the refresh button.

        Raises
        ------
        ParameterError
            An unknown panel name.
        """
        import ipywidgets as widgets

        from workbench.errors import ParameterError

        if name not in PANELS:
            raise ParameterError.invalid("name", f"one of {list(PANELS)}", name)
        if name == "intro":
            bar = widgets.HBox([self.button, self.status], layout=widgets.Layout(align_items="center"))
            return widgets.VBox([self.outputs["intro"], bar])
        heading = widgets.HTML(f'<h2 style="margin:1em 0 .3em 0">'
                               f'{html.escape(t(f"{_PREFIX}.section.{name}", lang=self.lang))}</h2>')
        return widgets.VBox([heading, self.outputs[name], *([self.table] if name == "branches" else [])])

    def layout(self, title: bool = False):
        """Every panel in one box, in :data:`PANELS` order: what the template displays.

        One widget tree displayed by one cell: Voila 0.5 sometimes answered "model not found"
        for widgets displayed by the cells after the first two.

        Parameters
        ----------
        title : bool, default False
            Head the box with the page title in the user's language (the served app: publishing drops the
            template's bilingual title cell, see :func:`workbench.apps.publish.publish_app`).
        """
        import ipywidgets as widgets

        from workbench.apps.widgets import portal_link

        heading = [widgets.HTML(f'<h1 class="wb-app-title">{html.escape(t("t05.title", lang=self.lang))}</h1>'
                                f'<div class="wb-signed-in">{portal_link(self.lang)}</div>')]
        return widgets.VBox((heading if title else []) + [self.panel(name) for name in PANELS])

    # ------------------------------------------------------------------ drawing
    def _contents(self, view: MonitorData) -> dict[str, list[dict]]:
        from workbench.apps.monitor import plan_length
        from workbench.notebook import narrative
        from workbench.report.t05 import intro_story, lagging_story, provisional_story
        from workbench.viz.monitor import (
            activity_figure, branch_status_figure, dimension_figure, progress_over_time_figure,
        )

        lang = self.lang
        days, follows_period = plan_length(view.period, self.plan["plan_days"])
        key, values = intro_story(view, int(days), self.plan["capacity_per_day"], follows_period=follows_period)
        end = view.period[1].isoformat() if view.period[1] else labels_for(_PREFIX, lang)["open_end"]
        intro = [_markdown(narrative(key, lang=lang, **values) + "\n\n"
                           + t(f"{_PREFIX}.period", lang=lang, start=view.period[0].isoformat(), end=end))]
        key, values = lagging_story(view, self.plan["lag_ratio"], lang)
        branches = [_figure(branch_status_figure(view.status, lang)), _markdown(narrative(key, lang=lang, **values))]
        if len(view.daily):
            over_time = [_figure(progress_over_time_figure(view.daily, view.period, lang)),
                         _figure(activity_figure(view.activity(), view.period, lang, orders=view.shows_orders()))]
        else:
            over_time = [_markdown(narrative("t05.no_contacts", lang=lang))]
        dimensions = [_figure(dimension_figure(view.progress, "channel", lang)),
                      _figure(dimension_figure(view.progress, "executor", lang))]
        key, values = provisional_story(view)
        return {"intro": intro, "branches": branches, "over_time": over_time, "dimensions": dimensions,
                "provisional": [_markdown(narrative(key, lang=lang, **values))]}

    def _failure(self, exc: Exception) -> str:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return t(f"{_PREFIX}.refresh_failed", lang=self.lang, reason=reason[:300])

    def _draw(self, error: str = "") -> None:
        view = self.view
        if not error:
            contents = self._contents(view)
            release_plotly_validators()  # a timer's redraw runs outside any cell (see workbench.apps.heap)
            for name, outputs in contents.items():
                self.outputs[name].outputs = tuple(outputs)
            self.table.value = lagging_html(view.status, self.lang)
        totals = view.totals() if view is not None else {"contacted": 0, "accepted": 0}
        now = dt.datetime.now(_BEIJING).strftime("%H:%M:%S")
        words = [t(f"{_PREFIX}.updated_at", lang=self.lang, time=now)]
        if self.refresh_seconds > 0:
            words.append(t(f"{_PREFIX}.auto_refresh", lang=self.lang, seconds=f"{self.refresh_seconds:g}"))
        colour = "#a61b1b" if error else "#52606d"
        self.status.value = (
            f'<span class="wb-monitor-status-text" data-contacted="{totals["contacted"]}" '
            f'data-accepted="{totals["accepted"]}" data-refreshes="{self.refreshes}" '
            f'data-error="{"true" if error else "false"}" style="color:{colour};margin-left:1em">'
            f'{html.escape(error or " · ".join(words))}</span>')

    def refresh(self) -> MonitorData | None:
        """Read the aggregates again and redraw every panel in place (the button and the timer call it).

        Returns
        -------
        MonitorData or None
            The view now shown (the previous one when the read failed; the page then says why).
        """
        return self._read(count=True)

    # ------------------------------------------------------------------ the timer (in the page)
    def auto_refresh(self):
        """What makes the page click its refresh button every ``refresh_seconds`` (while its tab is visible).

        Returns
        -------
        IPython.display.HTML
            A script for the served page (nothing to run in a batch report); empty when
            ``refresh_seconds`` is 0.
        """
        from IPython.display import HTML

        if self.refresh_seconds <= 0:
            return HTML("")
        every = int(round(self.refresh_seconds * 1000))
        return HTML(
            '<script>(function () {\n'
            '  if (window.wbMonitorTimer) { clearInterval(window.wbMonitorTimer); }\n'
            f'  window.wbMonitorTimer = setInterval(function () {{\n'
            "    var button = document.querySelector('.wb-refresh');\n"
            "    if (button && !button.disabled && document.visibilityState === 'visible') { button.click(); }\n"
            f'  }}, {every});\n'
            '})();</script>')


def monitor_app(store: Store, user: User, campaign_id: int = 0, *, plan_days: int | None = None,
                capacity_per_day: int = 40,
                lag_ratio: float = 0.8, refresh_seconds: float = 0, lang: str | None = None,
                defer: bool | None = None) -> LiveMonitor:
    """The monitoring view of template 05, drawn once and refreshed in place (see :class:`LiveMonitor`).

    The template displays :meth:`LiveMonitor.layout` (every panel) and
    :meth:`LiveMonitor.auto_refresh` (the page's timer); in a served page the first read runs right after
    the cell, while the browser loads the page (``defer``, :class:`LiveMonitor`).

    Examples
    --------
    >>> live = monitor_app(store, user, 3, refresh_seconds=60)      # doctest: +SKIP
    >>> display(live.layout(), live.auto_refresh())                  # doctest: +SKIP
    """
    return LiveMonitor(store, user, campaign_id, plan_days=plan_days, capacity_per_day=capacity_per_day,
                       lag_ratio=lag_ratio, refresh_seconds=refresh_seconds, lang=lang, defer=defer)
