"""The manager view (template 05 served as an app): its computations, then in a real browser.

Its figures are tested in test_viz_monitor.py, its words in test_report_t05.py.

One server for the module; the campaign of ``test_app_executor`` with Urumqi's
executor half-way through and Hami not started, and a few orders recorded.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from browser import *  # noqa: F401,F403 (fixtures and helpers)
from browser import stop_server
from test_app_executor import (
    BM_U, EX_U, PM, RENDER_TIMEOUT_MS, USERS, screenshot, seed_campaign, serve_with_campaign, sign_in_to_app,
)
from test_viz_monitor import PROGRESS

from workbench.apps.monitor import (
    BRANCH_STATUS_COLUMNS, DAILY_COLUMNS, DEFAULT_PLAN_DAYS, activity_by_day, branch_status, daily_progress,
    newcombe_difference, plan_length, shown_days,
)
from workbench.errors import ParameterError
from workbench.store import CampaignPeriod, Store, User
from workbench.templates import find_template

NOW = dt.datetime.now(dt.timezone.utc)
ROOT = Path(__file__).resolve().parents[1]


# Store.daily_counts of Urumqi's executor: 2, 1 and 3 first contacts on the period's first three days
COUNTS = pd.DataFrame({
    "day": [dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)],
    "branch": ["urumqi"] * 3, "executor": ["ex_u"] * 3,
    "contacted": [2, 1, 3], "results": [2, 1, 4], "accepted": [0, 1, 1], "orders": [0, 0, 2],
})
PERIOD = CampaignPeriod(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
TODAY = dt.date(2026, 3, 3)


def _daily(counts=COUNTS, **kw):
    return daily_progress(counts, PROGRESS, PERIOD, **{"plan_days": 10, "capacity_per_day": 5, "today": TODAY, **kw})


def test_daily_progress_counts_first_contacts_per_day_against_plan_and_capacity():
    daily = _daily()
    assert list(daily.columns) == list(DAILY_COLUMNS)
    urumqi = daily[daily["branch"] == "urumqi"]
    assert [d.date() for d in urumqi["day"]] == [dt.date(2026, 3, d) for d in (1, 2, 3)]
    assert urumqi["contacted"].tolist() == [2, 1, 3]
    assert urumqi["cumulative"].tolist() == [2, 3, 6]
    assert urumqi["contacted_rate"].tolist() == pytest.approx([0.2, 0.3, 0.6])
    assert urumqi["planned_rate"].tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert urumqi["capacity"].tolist() == [5, 5, 5]
    hami = daily[daily["branch"] == "hami"]   # members but nothing done yet: a flat line at 0
    assert hami["cumulative"].tolist() == [0, 0, 0] and hami["capacity"].tolist() == [0, 0, 0]
    assert activity_by_day(daily)[["contacted", "results", "orders"]].values.tolist() == [[2, 2, 0], [1, 1, 0],
                                                                                           [3, 4, 2]]


def test_days_are_bounded_by_the_campaign_period_whatever_a_contact_says():
    back_dated = pd.concat([COUNTS, pd.DataFrame({
        "day": [dt.date(2019, 7, 1), dt.date(2027, 5, 1)], "branch": ["urumqi"] * 2, "executor": ["ex_u"] * 2,
        "contacted": [1, 1], "results": [1, 1], "accepted": [0, 0], "orders": [0, 0]})], ignore_index=True)
    daily = _daily(back_dated)
    assert daily["day"].min().date() == PERIOD.start and daily["day"].max().date() == TODAY
    urumqi = daily[daily["branch"] == "urumqi"]
    assert urumqi["contacted"].tolist() == [3, 1, 4]   # counted on the first and the last day shown, not lost
    assert shown_days(PERIOD, dt.date(2026, 2, 1)) == (PERIOD.start, PERIOD.start)   # before the period
    assert shown_days(PERIOD, dt.date(2026, 6, 1)) == (PERIOD.start, PERIOD.end)     # after it
    assert shown_days((PERIOD.start, None), TODAY) == (PERIOD.start, TODAY)          # no end in the spec


def test_branch_status_marks_the_branch_behind_plan():
    daily = _daily()
    status = branch_status(PROGRESS, daily, plan_days=10, capacity_per_day=5, lag_ratio=0.8)
    assert list(status.columns) == list(BRANCH_STATUS_COLUMNS)
    assert status["branch"].tolist() == ["hami", "urumqi"]
    assert status["lagging"].tolist() == [True, False]
    assert status["planned_rate"].tolist() == pytest.approx([0.3, 0.3])
    assert status.loc[1, "capacity_days"] == pytest.approx(0.8)  # 4 left / (1 executor x 5 a day)
    assert pd.isna(status.loc[0, "capacity_days"])  # nobody has worked Hami's list yet


def _paced_counts(members: int, days_worked: int, period_days: int, start: dt.date, branch: str = "urumqi"):
    """Store.daily_counts of a branch whose executors work the list as the demo paces them (simulate_execution)."""
    from workbench.demo.simulate import simulate_execution

    listed = pd.DataFrame({"subscriber_id": range(1, members + 1), "branch_id": branch, "group": "target",
                           "channel": "outbound_call", "executor": f"ex_{branch}", "score": 0.5})
    contacts = simulate_execution(listed, start=start, days=days_worked, pace_days=period_days, seed=3)
    first = contacts.groupby("subscriber_id")["contacted_at"].min().dt.date
    per_day = first.value_counts().sort_index()
    return pd.DataFrame({"day": per_day.index, "branch": branch, "executor": f"ex_{branch}",
                         "contacted": per_day.to_numpy(), "results": per_day.to_numpy(), "accepted": 0, "orders": 0})


def test_a_branch_on_the_demos_pace_is_not_behind_a_plan_over_the_campaign_period():
    # workbench demo --executed 0.5: executors pace their lists over the whole period (92 days) and stop half-way
    period = CampaignPeriod(dt.date(2026, 11, 1), dt.date(2027, 1, 31))
    today = dt.date(2026, 12, 16)                     # day 46 of 92
    on_pace = _paced_counts(400, 46, 92, period.start)
    slow = _paced_counts(400, 46, 92 * 3, period.start, branch="hami")   # a third of the pace
    counts = pd.concat([on_pace, slow], ignore_index=True)
    progress = pd.DataFrame([("branch", b, 400, int(c["contacted"].sum()), 0, 0, c["contacted"].sum() / 400, 0.0, 0.0)
                             for b, c in (("urumqi", on_pace), ("hami", slow))], columns=PROGRESS.columns)
    assert 0.45 <= progress.loc[0, "contacted_rate"] <= 0.55          # the demo's half-way branch
    assert plan_length(period) == (92.0, True)
    daily = daily_progress(counts, progress, period, today=today)
    urumqi = daily[daily["branch"] == "urumqi"].set_index("day")
    assert urumqi["planned_rate"].iloc[0] == pytest.approx(1 / 92)      # the plan starts with the period
    assert urumqi["planned_rate"].iloc[-1] == pytest.approx(46 / 92)
    status = branch_status(progress, daily).set_index("branch")
    assert not status.at["urumqi", "lagging"] and status.at["hami", "lagging"]
    assert status.at["urumqi", "planned_rate"] == pytest.approx(0.5)
    # the analyst's own plan of 14 days from the first contact: then everyone is behind at mid-period
    fast = branch_status(progress, daily_progress(counts, progress, period, plan_days=14, today=today), plan_days=14)
    assert fast["lagging"].all() and fast["planned_rate"].tolist() == pytest.approx([1.0, 1.0])
    # nobody has started at mid-period: behind a plan that started with the period
    nothing = daily_progress(counts.iloc[:0], progress.assign(contacted=0, contacted_rate=0.0), period, today=today)
    idle = branch_status(progress.assign(contacted=0, contacted_rate=0.0), nothing)
    assert idle["lagging"].all() and idle["planned_rate"].tolist() == pytest.approx([0.5, 0.5])
    # a campaign without an end day: 14 days from the first contact unless the analyst says otherwise
    assert plan_length((period.start, None)) == (float(DEFAULT_PLAN_DAYS), False)
    assert plan_length((period.start, None), 30) == plan_length(period, 30) == (30.0, False)


@pytest.mark.parametrize("name, value, message", [
    ("plan_days", -1, "'plan_days' parameter must be a finite number >= 0. Got -1"),
    ("capacity_per_day", -3, "'capacity_per_day' parameter must be a finite number > 0. Got -3"),
])
def test_bad_plan_parameters_are_refused(name, value, message):
    with pytest.raises(ParameterError, match=message):
        _daily(**{name: value})


def test_bad_lag_ratio_and_missing_columns_are_refused():
    with pytest.raises(ParameterError, match=r"'lag_ratio' parameter must be a finite number in \(0, 1\]. Got 1.5"):
        branch_status(PROGRESS, _daily(), lag_ratio=1.5)
    with pytest.raises(ParameterError, match=r"'counts' table must have the columns .*missing \['executor'\]"):
        _daily(COUNTS.drop(columns="executor"))


@pytest.mark.parametrize("xt, nt, xc, nc", [(60, 1000, 40, 1000), (0, 50, 3, 20), (5, 5, 0, 7), (1, 2, 1, 3),
                                            (1600, 180_000, 400, 20_000)])
def test_the_provisional_interval_is_statsmodels_newcombe_interval(xt, nt, xc, nc):
    from workbench.metrics.experiment import proportion_effect

    row = proportion_effect(xt, nt, xc, nc).iloc[0]
    assert newcombe_difference(xt, nt, xc, nc) == pytest.approx(
        (row["abs_lift"], row["abs_ci_low"], row["abs_ci_high"]), abs=1e-12)
    assert newcombe_difference(xt, nt, xc, nc, alpha=0.2)[1] > row["abs_ci_low"]     # a narrower 80 % interval


@pytest.mark.parametrize("args, message", [((3, 2, 1, 5), "count_treated"), ((1, 5, 1, 0), "count_control"),
                                           ((1, 5, -1, 5), "count_control")])
def test_the_provisional_interval_refuses_impossible_counts(args, message):
    with pytest.raises(ParameterError, match=message):
        newcombe_difference(*args)
    with pytest.raises(ParameterError, match="alpha"):
        newcombe_difference(1, 5, 1, 5, alpha=1)


def test_live_monitor_redraws_in_place_and_keeps_the_figures_when_a_refresh_fails(tmp_path):
    from workbench.apps.live_monitor import PANELS, monitor_app
    from workbench.store import SYSTEM_USER, PasswordPolicy

    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}", password_policy=PasswordPolicy.fast_for_tests(),
                  progress=False)
    for u in USERS:
        store.add_user(SYSTEM_USER, u.name, u.role, password=u.password, branch_id=u.branch_id)
    campaign_id = seed_campaign(store)
    _prepare(store, campaign_id)
    live = monitor_app(store, store.authenticate(PM.name, PM.password), campaign_id, lang="en", refresh_seconds=30)
    outputs = dict(live.outputs)
    assert 'data-contacted="6"' in live.status.value and 'data-refreshes="0"' in live.status.value
    assert [k for k, o in outputs.items() if o.outputs] == list(PANELS)     # every panel drawn
    ex = User(EX_U.name, EX_U.role, EX_U.branch_id)
    worklist = store.worklist(ex, campaign_id)
    store.record_result(ex, int(worklist.loc[worklist["contacts"] == 0, "member_id"].iloc[0]), "reached")
    live.refresh()
    assert 'data-contacted="7"' in live.status.value and 'data-refreshes="1"' in live.status.value
    assert live.outputs == outputs                                           # the same widgets, new outputs
    assert "7 contacted" in live.outputs["intro"].outputs[0]["data"]["text/markdown"]
    drawn = {k: o.outputs for k, o in live.outputs.items()}
    store.set_active(SYSTEM_USER, PM.name, False)                            # the next read is refused
    live.refresh()
    assert 'data-error="true"' in live.status.value and "Refresh failed" in live.status.value
    assert {k: o.outputs for k, o in live.outputs.items()} == drawn          # the previous figures stay
    assert "setInterval" in live.auto_refresh().data and "30000" in live.auto_refresh().data
    live.refresh_seconds = 0
    assert live.auto_refresh().data == ""
    store.close()


def test_a_served_page_draws_right_after_its_cell_and_a_batch_run_at_once(tmp_path, monkeypatch):
    import asyncio

    from workbench.apps.hook import APP_KERNEL_ENV
    from workbench.apps import LiveMonitor
    from workbench.store import SYSTEM_USER, PasswordPolicy

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = Store(url, password_policy=PasswordPolicy.fast_for_tests(), progress=False)
    for u in USERS:
        store.add_user(SYSTEM_USER, u.name, u.role, password=u.password, branch_id=u.branch_id)
    campaign_id = seed_campaign(store)
    _prepare(store, campaign_id)
    pm = store.authenticate(PM.name, PM.password)
    monkeypatch.setenv(APP_KERNEL_ENV, "1")                 # a kernel `workbench serve` started for a page

    async def page():
        live = LiveMonitor(store, pm, campaign_id, lang="en")
        before = (live.status.value, [n for n, o in live.outputs.items() if o.outputs], live.button.disabled)
        await asyncio.sleep(0.5)                             # the kernel's loop runs the first read
        return live, before

    live, (status, drawn, disabled) = asyncio.run(page())
    assert "wb-monitor-loading" in status and "Reading" in status and drawn == [] and disabled
    assert 'data-contacted="6"' in live.status.value and not live.button.disabled
    assert [n for n, o in live.outputs.items() if o.outputs] == list(live.outputs) != []
    with pytest.raises(ParameterError, match="campaign_id"):            # checked at once, not after the cell
        LiveMonitor(store, pm, campaign_id + 99, lang="en")
    monkeypatch.delenv(APP_KERNEL_ENV)                      # a batch run: drawn before the cell ends
    assert 'data-contacted="6"' in LiveMonitor(store, pm, campaign_id, lang="en").status.value
    store.close()
    # the provisional read is drawn without statsmodels / scipy (1.1 s and ~70 MiB in a page's kernel)
    probe = ("import sys\nfrom workbench.store import Store\nfrom workbench.apps import monitor_app\n"
             f"store = Store({url!r}, migrate=False, progress=False)\n"
             f"live = monitor_app(store, store.authenticate({PM.name!r}, {PM.password!r}), {campaign_id}, lang='en')\n"
             "assert live.view.effect is not None\n"
             "print(sorted(m for m in ('statsmodels', 'scipy', 'workbench.metrics') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# ------------------------------------------------------------------ in a browser


def browser_test(test):
    """Chromium against a Voila server, whose pages run kernels: the ``browser`` and ``kernel`` markers."""
    return pytest.mark.kernel(pytest.mark.browser(test))


def _prepare(store: Store, campaign_id: int) -> None:
    ex = User(EX_U.name, EX_U.role, EX_U.branch_id)
    rows = store.worklist(ex, campaign_id)["member_id"].tolist()
    for i, member in enumerate(rows[:6]):
        store.record_result(ex, member, "accepted" if i % 2 else "reached",
                            contacted_at=NOW - dt.timedelta(days=2 - i // 3))
    analyst = store.authenticate("ana", "ana-password-1")
    members = store.worklist(analyst, campaign_id, include_control=True)
    ordered = members.loc[members["group"] == "target", "subscriber_id"].head(4).tolist()
    ordered += members.loc[members["group"] == "control", "subscriber_id"].head(1).tolist()
    store.record_responses(analyst, campaign_id, pd.DataFrame({
        "subscriber_id": ordered, "order_date": [NOW.date()] * len(ordered), "product": ["mnp_news"] * len(ordered)}))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    template = str(find_template("05_campaign_monitoring"))
    served, campaign_id, published = serve_with_campaign(tmp_path_factory, USERS, apps=(template,),
                                                         prepare=_prepare)
    try:
        yield served, published["05_campaign_monitoring"]
    finally:
        stop_server(served)
        shutil.rmtree(served.apps_dir.parent / "home", ignore_errors=True)


def _open(browser, server, user, app, viewport=(1280, 900)):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    sign_in_to_app(page, server.url, user, f"/voila/render/{app}")
    page.wait_for_selector(".wb-branch-status", state="attached", timeout=RENDER_TIMEOUT_MS)
    return context, page


#: Plotly figures of the province manager's view: branches, over time, work per day, channels, executors.
FIGURES = 5
_X_RANGE = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(gd => gd.layout && gd.layout.xaxis && gd.layout.xaxis.type === 'date')
    .map(gd => gd.layout.xaxis.range)"""


@browser_test
def test_province_manager_sees_charts_lagging_branch_and_a_provisional_read(served, browser):
    server, app = served
    context, page = _open(browser, server, PM, app)
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot').length >= {FIGURES}",
                           timeout=RENDER_TIMEOUT_MS)
    lagging = page.eval_on_selector_all(".wb-branch-status tr[data-branch]",
                                        "rows => rows.map(r => [r.dataset.branch, r.dataset.lagging])")
    assert lagging == [["hami", "true"], ["urumqi", "false"]]
    text = page.inner_text("body")
    assert "PROVISIONAL" in text
    assert "12 contacted" not in text and "6 contacted (25%)" in text  # 24 target customers, 6 contacted
    # both day axes span the campaign's period: its first day (30 days ago) to today, not the contacts' days
    start = dt.date.today() - dt.timedelta(days=30)
    ranges = page.evaluate(_X_RANGE)
    assert len(ranges) == 2
    for low, high in ranges:
        assert pd.Timestamp(low).date() == start - dt.timedelta(days=1)    # half a day before the first
        assert abs((pd.Timestamp(high).normalize() - pd.Timestamp(dt.date.today())).days) <= 1
    screenshot(page, "manager-view.png")
    context.close()


@browser_test
def test_branch_manager_sees_only_their_branch(served, browser):
    server, app = served
    context, page = _open(browser, server, BM_U, app)
    rows = page.eval_on_selector_all(".wb-branch-status tr[data-branch]", "rows => rows.map(r => r.dataset.branch)")
    assert rows == ["urumqi"]
    assert "PROVISIONAL" not in page.inner_text("body")  # responses are for province roles
    context.close()


@browser_test
def test_refresh_shows_a_result_recorded_since_without_reloading_the_page(served, browser):
    """Last in the module: it records a result."""
    server, app = served
    context, page = _open(browser, server, PM, app, viewport=(1024, 768))
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot').length >= {FIGURES}",
                           timeout=RENDER_TIMEOUT_MS)
    status = ".wb-monitor-status-text"
    before = int(page.get_attribute(status, "data-contacted"))
    refreshes = int(page.get_attribute(status, "data-refreshes"))   # the page's own timer may have clicked
    assert f"{before} contacted" in page.inner_text(".wb-panel-intro")
    page.evaluate("window.wbSamePage = true")   # gone if the page were loaded again
    with Store(server.store_url, migrate=False, progress=False) as store:
        ex = User(EX_U.name, EX_U.role, EX_U.branch_id)
        worklist = store.worklist(ex, int(store.visible_campaigns(ex)["campaign_id"].iloc[0]))
        fresh = worklist.loc[worklist["contacts"] == 0, "member_id"].iloc[0]
        store.record_result(ex, int(fresh), "accepted")
    page.click(".wb-refresh")
    page.wait_for_selector(f"{status}[data-contacted='{before + 1}']", state="attached", timeout=60_000)
    assert int(page.get_attribute(status, "data-refreshes")) > refreshes
    assert page.evaluate("window.wbSamePage === true")
    assert f"{before + 1} contacted" in page.inner_text(".wb-panel-intro")
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot').length >= {FIGURES}")
    screenshot(page, "monitoring.png")
    context.close()
