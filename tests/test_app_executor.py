"""The executor app: its helpers, then in a real browser against ``workbench serve``.

Browser part: sign-in required; an Urumqi executor opens the campaign, filters the
grid, records an accepted result, sees progress change; the row is in the store
and the audit log; a Hami executor cannot reach Urumqi's rows (grid, crafted URL,
another user's kernel).  One server for the module (``tests/browser.py``).
Screenshots go to ``$WORKBENCH_SCREENSHOTS`` when it is set.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from browser import *  # noqa: F401,F403 (fixtures and helpers)
from browser import TestUser, cookie_header, start_server, stop_server

from workbench.apps.worklist import (
    GRID_COLUMNS, GRID_LAYOUT, GRID_OPTIONS, PAGE_LENGTH, ResultForm, assigned_executor, branch_summary_html,
    customer_html, executor_progress_html, filter_worklist, grid_rows_json, make_grid, next_position,
    on_behalf_text, parse_contacted_at, phone_lookup, plain_message, progress_summary, shown_executor,
    worklist_grid_frame,
)
from workbench.errors import AccessDenied, ParameterError
from workbench.store import SYSTEM_USER, PasswordPolicy, Store, User
from workbench.viz import progress_figure

EX_U = TestUser("ex_u", "executor", "urumqi", "ex-u-password-1", "乌鲁木齐 执行员")
EX_H = TestUser("ex_h", "executor", "hami", "ex-h-password-1", "哈密 执行员")
EX_U2 = TestUser("ex_u2", "executor", "urumqi", "ex-u2-password-1")
BM_U = TestUser("bm_u", "branch_manager", "urumqi", "bm-u-password-1")
PM = TestUser("pm", "province_manager", None, "pm-password-123")
ANALYST = TestUser("ana", "analyst", None, "ana-password-1")
USERS = [EX_U, EX_H, EX_U2, BM_U, PM, ANALYST]
#: Longest wait for an app to render (kernel start + execution on a busy 2-core machine).
# A bound on waiting, not a measure: a loaded 2-core CI machine can take well over a minute to start a kernel.
RENDER_TIMEOUT_MS = 240_000
GRID_ROW = ".wb-worklist table tbody tr"
SPEC = {"name": "Mobile newspaper trial", "product": "mnp_news", "channels": ["outbound_call", "sms"],
        # a period that began a month ago: contacts of the last days are within it (the store refuses earlier ones)
        "goal": {"period_start": (dt.date.today() - dt.timedelta(days=30)).isoformat()}}


def campaign_members(per_branch: int = 12) -> pd.DataFrame:
    """A small list: Urumqi rows for ex_u, Hami rows for ex_h, two control rows per branch."""
    rows = []
    for b, (branch, executor, prefix) in enumerate((("urumqi", "ex_u", "138"), ("hami", "ex_h", "139"))):
        for i in range(per_branch + 2):
            sid = 1000 * (b + 1) + i
            rows.append({
                "subscriber_id": sid, "branch_id": branch, "group": "target" if i < per_branch else "control",
                "score": round(0.95 - i * 0.03, 3), "score_band": "AB"[i % 2],
                "channel": "outbound_call" if i % 3 else "sms", "executor": executor,
                "reasons": f"reads news {i} times a week", "edition": ["news", "sports"][i % 2],
                "talking_points": "3 free months", "msisdn_masked": f"{prefix}****{sid:04d}",
            })
    return pd.DataFrame(rows)


def seed_campaign(store: Store, members: pd.DataFrame | None = None) -> int:
    """Release the test campaign as the analyst; returns its id."""
    analyst = store.authenticate(ANALYST.name, ANALYST.password)
    return store.release_campaign(analyst, SPEC, campaign_members() if members is None else members).campaign_id


def install_widget_frontends(root: Path) -> None:
    """Make anywidget's front-end (itables' widget) findable by a served instance under ``root``.

    Installed in the virtualenv, anywidget's labextension is already on Jupyter's
    path; installed elsewhere on ``PYTHONPATH`` it is copied into the instance's
    private data folder (see ``tests/browser.py``).
    """
    import anywidget

    if (Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "anywidget").is_dir():
        return
    source = Path(anywidget.__file__).resolve().parents[1] / "share" / "jupyter" / "labextensions" / "anywidget"
    dest = root / "home" / "jupyter_data_dir" / "labextensions" / "anywidget"
    if source.is_dir() and not dest.exists():
        shutil.copytree(source, dest)


def phone_numbers_of(members: pd.DataFrame) -> pd.DataFrame:
    """The full numbers behind the test list's masked ones (``138`` / ``139`` + the id on 8 digits)."""
    prefix = members["msisdn_masked"].str.slice(0, 3)
    return pd.DataFrame({"subscriber_id": members["subscriber_id"].astype("int64"),
                         "msisdn": prefix + members["subscriber_id"].map(lambda sid: f"{sid:08d}")})


def serve_with_campaign(tmp_path_factory, users, apps=("executor",), prepare=None, server_args=(), numbers=False):
    """A served instance with ``users`` and the released test campaign, its apps published.

    ``prepare(store, campaign_id)`` may add results or responses before the server starts;
    ``server_args`` are extra ``workbench serve`` options; ``numbers`` makes the served folder a
    workspace whose data holds the list's full numbers (``subscribers.parquet``, for "show number").
    """
    from workbench.apps.publish import publish_app

    root = tmp_path_factory.mktemp("served")
    if numbers:
        (root / "data").mkdir()
        phone_numbers_of(campaign_members()).to_parquet(root / "data" / "subscribers.parquet")
        (root / "workbench.toml").write_text('[workspace]\ndata = "data"\n', encoding="utf-8")
    store_url = f"sqlite:///{root / 'store.sqlite'}"
    with Store(store_url, password_policy=PasswordPolicy.fast_for_tests(), progress=False) as store:
        for user in users:
            store.add_user(SYSTEM_USER, user.name, user.role, password=user.password, branch_id=user.branch_id,
                           display_name=user.display_name)
        campaign_id = seed_campaign(store)
        if prepare is not None:
            prepare(store, campaign_id)
        published = {Path(app).stem: publish_app(campaign_id, app=app, apps_dir=root / "apps", store=store).name
                     for app in apps}
    install_widget_frontends(root)
    served = start_server(root, store_url, args=tuple(server_args))
    return served, campaign_id, published


def screenshot(page, name: str) -> None:
    """Save a full-page PNG into ``$WORKBENCH_SCREENSHOTS`` (README pictures), when it is set."""
    folder = os.environ.get("WORKBENCH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


# ------------------------------------------------------------------ helpers without a browser
@pytest.fixture
def local_store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}", password_policy=PasswordPolicy.fast_for_tests(),
                  progress=False)
    for user in USERS:
        store.add_user(SYSTEM_USER, user.name, user.role, password=user.password, branch_id=user.branch_id,
                       display_name=user.display_name)
    campaign_id = seed_campaign(store)
    yield store, campaign_id
    store.close()


def _user(u: TestUser) -> User:
    return User(u.name, u.role, u.branch_id)


def test_grid_frame_shows_the_listed_columns_with_labels(local_store):
    store, cid = local_store
    worklist = store.worklist(_user(EX_U), cid)
    frame = worklist_grid_frame(worklist, lang="en")
    assert list(frame.columns) == ["No.", "Number", "Score band", "Reasons", "Channel", "Contacts", "Last result"]
    assert len(frame) == 12 and frame["Number"].str.startswith("138****").all()
    assert set(frame["Channel"]) == {"Outbound call", "SMS"} or set(frame["Channel"]) >= {"Outbound call"}
    assert (frame["Last result"] == "").all()
    # the edition is the panel's, by its label (not the code)
    assert "recommended edition Sports" in customer_html(worklist.iloc[1], lang="en")


def test_a_manager_s_grid_names_whose_customer_each_row_is(local_store):
    store, cid = local_store
    worklist = store.worklist(_user(BM_U), cid)
    frame = worklist_grid_frame(worklist, lang="en", executors=True)
    # by the name the branch knows the executor by (users.display_name), not the login
    assert list(frame.columns)[:3] == ["No.", "Number", "Executor"] and set(frame["Executor"]) == {EX_U.display_name}
    assert set(worklist["executor"]) == {"ex_u"}                            # what code compares stays the login
    logins = worklist_grid_frame(worklist.drop(columns="executor_name"), lang="en", executors=True)
    assert set(logins["Executor"]) == {"ex_u"}                              # a frame without names: the logins
    long = worklist.assign(reasons="x" * 80)
    cell = worklist_grid_frame(long, lang="en")["Reasons"].iloc[0]
    assert cell.endswith("…") and len(cell) < 30                   # the panel shows the whole text
    assert "x" * 80 in customer_html(long.iloc[0], lang="en")
    assert 'data-member-id=""' in customer_html(None, lang="en")
    assert f"Executor: {EX_U.display_name}" in customer_html(worklist.iloc[0], lang="en", executors=True)
    assert f"所属执行员：{EX_U.display_name}" in customer_html(worklist.iloc[0], lang="zh", executors=True)
    gone = worklist.iloc[0].copy()
    gone["executor_name"] = None                                            # no name known: the login
    assert "Executor: ex_u" in customer_html(gone, lang="en", executors=True)
    assert shown_executor(gone) == "ex_u" and shown_executor(worklist.iloc[0]) == EX_U.display_name
    assert shown_executor({"executor": None, "executor_name": None}) == ""   # unassigned


def test_recorded_on_behalf_says_the_executors_name_and_an_unassigned_row_is_the_managers(local_store):
    from workbench.store.access import AccessPolicy, can_write_member, on_behalf_of

    store, cid = local_store
    store.policy = AccessPolicy(managers_record_for_executors=True)
    bm = _user(BM_U)
    row = store.worklist(bm, cid).iloc[0]
    recorded = store.record_result(bm, int(row["member_id"]), "reached")
    assert recorded.on_behalf_of == "ex_u"                                   # the store's answer: the login
    assert on_behalf_text(recorded.on_behalf_of, row, "en") == f"(recorded on behalf of {EX_U.display_name})"
    assert on_behalf_text(recorded.on_behalf_of, row, "zh") == f"（代执行员 {EX_U.display_name} 登记）"
    assert on_behalf_text("ex_u2", row, "en") == "(recorded on behalf of ex_u2)"   # not this row's: the login
    assert on_behalf_text(None, row, "en") == ""
    # an unassigned row (the store's frame holds NaN there) is nobody's: the manager records it, on nobody's behalf
    free = row.copy()
    free[["executor", "executor_name"]] = [float("nan"), None]
    assert assigned_executor(free) is None and assigned_executor(row) == "ex_u"
    assert can_write_member(bm, "urumqi", assigned_executor(free), AccessPolicy()) and not on_behalf_of(
        bm, assigned_executor(free))


def test_filters_put_due_callbacks_first_and_list_callbacks_by_due_time():
    now = dt.datetime(2026, 12, 7, 4, tzinfo=dt.timezone.utc)
    hour = dt.timedelta(hours=1)
    worklist = pd.DataFrame({
        "member_id": [1, 2, 3, 4, 5, 6],
        "contacts": [0, 1, 1, 1, 0, 1],
        "last_result": [None, "call_back", "call_back", "accepted", None, "call_back"],
        "callback_at": [None, now - hour, now - 3 * hour, None, None, now + hour],
    })
    ids = {which: filter_worklist(worklist, which, now)["member_id"].tolist()
           for which in ("to_work", "not_contacted", "callback_due", "call_back", "accepted", "all")}
    assert ids == {"to_work": [3, 2, 1, 5], "not_contacted": [1, 5], "callback_due": [3, 2],
                   "call_back": [3, 2, 6], "accepted": [4], "all": [1, 2, 3, 4, 5, 6]}
    shown = worklist_grid_frame(worklist.assign(
        msisdn_masked="138****0001", score_band="A", reasons="", channel="sms"), lang="en")
    assert shown["Last result"].iloc[1] == "Call back later 12-07 11:00"      # the due time in the province's clock
    with pytest.raises(ParameterError, match=r"'which' parameter must be one of \['to_work'.*Got 'soon'"):
        filter_worklist(worklist, "soon")


def test_after_a_result_the_next_customer_is_selected():
    before = pd.Series([10, 11, 12, 13])
    assert next_position(before, 1, 11, pd.Series([10, 12, 13])) == 1      # it left the list: the next moved up
    assert next_position(before, 1, 11, before) == 2                        # still listed (filter "all"): the one after
    assert next_position(before, 3, 13, pd.Series([10, 11, 12])) == 2       # the last one: stay at the end
    assert next_position(before, 0, 10, pd.Series([], dtype="int64")) is None


def test_a_grid_opens_on_the_page_of_its_selected_row():
    frame = pd.DataFrame({"No.": list(range(25))})
    grid = make_grid(frame, [PAGE_LENGTH + 3], lang="en")
    assert grid._dt_args["displayStart"] == PAGE_LENGTH and grid.selected_rows == [PAGE_LENGTH + 3]
    assert "displayStart" not in make_grid(frame, [], lang="en")._dt_args
    grid.close()


def test_each_executors_progress_is_listed_for_managers(local_store):
    store, cid = local_store
    ex = _user(EX_U)
    store.record_result(ex, int(store.worklist(ex, cid)["member_id"].iloc[0]), "accepted")
    line = executor_progress_html(store.progress(_user(BM_U), cid), lang="en")
    assert 'data-executor="ex_u" data-members="12" data-contacted="1"' in line and "1 / 12 (8%)" in line
    assert f"<td>{EX_U.display_name}</td>" in line and "<td>ex_u</td>" not in line     # named, keyed by login
    assert executor_progress_html(store.progress(_user(BM_U), cid).iloc[:0]) == ""


def test_numbers_are_read_from_the_data_folder(tmp_path):
    pd.DataFrame({"subscriber_id": [1001], "msisdn": ["13800001001"]}).to_parquet(tmp_path / "subscribers.parquet")
    lookup = phone_lookup(str(tmp_path))
    assert lookup(1001) == "13800001001" and lookup(1002) is None


def test_a_refused_reveal_is_said_in_the_users_language():
    from workbench.store.audit import RevealLimitReached

    exc = RevealLimitReached("ex_u", 200, 200)
    assert plain_message(exc, lang="zh") == "今天已查看 200 个号码，已达每日上限 200 个；请明天再试，或联系管理员。"
    assert "the daily limit of 200" in plain_message(exc, lang="en")


def test_grid_frame_names_missing_columns():
    with pytest.raises(ParameterError, match=r"must have the columns .*missing \['msisdn_masked'"):
        worklist_grid_frame(pd.DataFrame({c: [] for c in GRID_COLUMNS if c != "msisdn_masked"}))


def test_contacted_at_is_read_in_the_provinces_clock():
    when = parse_contacted_at("2026-03-01 09:30")
    assert when.astimezone(dt.timezone.utc) == dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.timezone.utc)
    with pytest.raises(ParameterError, match=r"'contacted_at' parameter must be a time like '%Y-%m-%d %H:%M'"):
        parse_contacted_at("yesterday")


def test_result_form_retries_with_the_same_request_id_and_renews_after_success(local_store):
    store, cid = local_store
    ex = _user(EX_U)
    member = int(store.worklist(ex, cid)["member_id"].iloc[0])
    form = ResultForm(store, ex)
    first_id = form.request_id
    # the write reached the store, but the answer was lost: the retry must not duplicate it
    store.record_result(ex, member, "accepted", "wants news", client_request_id=first_id)
    retried = form.submit(member, "accepted", "wants news")
    assert retried.created is False
    assert form.request_id != first_id
    again = form.submit(member, "call_back", "")
    assert again.created is True
    results = store.contact_results(ex, cid)
    assert results["client_request_id"].tolist() == [first_id, results["client_request_id"].iloc[1]]
    assert len(results) == 2


def test_result_form_keeps_its_id_after_a_refused_write_and_rejects_bad_results(local_store):
    store, cid = local_store
    other = int(store.worklist(_user(EX_H), cid)["member_id"].iloc[0])
    form = ResultForm(store, _user(BM_U))
    before = form.request_id
    with pytest.raises(AccessDenied, match="is not in the scope of user 'bm_u'"):
        form.submit(other, "accepted")
    assert form.request_id == before
    with pytest.raises(ParameterError, match=r"'result' parameter must be one of \['reached'"):
        form.submit(other, "maybe")


def test_progress_summary_and_figure_come_from_the_store(local_store):
    store, cid = local_store
    ex = _user(EX_U)
    members = store.worklist(ex, cid)["member_id"].tolist()
    store.record_result(ex, members[0], "accepted")
    store.record_result(ex, members[1], "refused")
    numbers = progress_summary(store.progress(ex, cid))
    assert numbers == {"members": 12, "contacted": 2, "accepted": 1, "contacted_rate": 2 / 12,
                       "accepted_rate": 1 / 12}
    fig = progress_figure(store.progress(ex, cid), ex, lang="en")
    assert [trace.name for trace in fig.data] == ["Contacted %", "Accepted %"]
    assert list(fig.data[0].x) == ["Mine"] and fig.data[0].y[0] == pytest.approx(16.7)
    manager = progress_figure(store.progress(_user(BM_U), cid), _user(BM_U), lang="en")
    assert list(manager.data[1].x) == ["My scope in total", EX_U.display_name]


def test_grid_rows_are_the_json_itables_makes():
    from itables.widget import ITable

    frame = pd.DataFrame({"No.": [3, 1], "Number": pd.Series(["138****0003", None], dtype="str"),
                          "Reasons": pd.Series(["a <b> & c", ""], dtype=object)})
    assert grid_rows_json(frame) == '[[3, "138****0003", "a &lt;b&gt; &amp; c"], [1, "", ""]]'
    reference = ITable(frame.fillna(""), **GRID_OPTIONS)._dt_args["data_json"]
    assert grid_rows_json(frame) == reference
    with pytest.raises(ParameterError, match="The grid column 'score' must hold integers or text; got dtype float64"):
        grid_rows_json(pd.DataFrame({"score": [0.5]}))


def test_a_grid_opens_with_every_row_and_its_controls_in_one_message(monkeypatch):
    import ipywidgets

    later = []  # state messages after the comm opened: anywidget's front-end may drop them
    monkeypatch.setattr(ipywidgets.Widget, "send_state",
                        lambda self, key=None: later.append(key) if self.comm is not None else None)
    opened = []
    original_open = ipywidgets.Widget.open
    monkeypatch.setattr(ipywidgets.Widget, "open",
                        lambda self: (opened.append(self.get_state()), original_open(self)))
    frame = pd.DataFrame({"No.": list(range(12)), "Number": [f"138****{i:04d}" for i in range(12)]})
    grid = make_grid(frame.iloc[:3], [1], lang="zh")
    states = [state for state in opened if "_dt_args" in state]  # the grid's (its layout opens too)
    assert later == [] and len(states) == 1
    state = states[0]
    assert state["_dt_args"]["layout"] == GRID_LAYOUT  # search and pager even for three rows
    assert state["_dt_args"]["data_json"] == grid_rows_json(frame.iloc[:3]) and state["_dt_args"]["pageLength"] == 10
    assert "<th>Number</th>" in state["_dt_args"]["table_html"] and state["selected_rows"] == [1]
    assert state["classes"] == "display compact nowrap wb-grid" and list(state["_dom_classes"]) == ["wb-worklist"]
    assert state["_dt_args"]["language"]["search"] == "搜索：" and "_TOTAL_" in state["_dt_args"]["language"]["info"]
    assert grid.df is not None and len(grid.df) == 3
    grid.close()


def test_branch_totals_are_shown_beside_the_own_progress(local_store):
    store, cid = local_store
    ex, colleague = _user(EX_U), _user(EX_U2)
    members = store.worklist(ex, cid)["member_id"].tolist()
    store.record_result(ex, members[0], "accepted")
    store.record_result(colleague, members[1], "refused")  # a colleague of the same branch works a row
    branch = store.branch_totals(ex, cid)
    line = branch_summary_html(branch, lang="en")
    assert 'data-branch="urumqi"' in line and 'data-members="12"' in line
    assert 'data-contacted="2"' in line and 'data-accepted="1"' in line
    assert "Urumqi in total: 12 customers, contacted 2 (17%), accepted 1 (8%)" in line
    assert branch_summary_html(branch.iloc[:0]) == ""
    fig = progress_figure(store.progress(ex, cid), ex, lang="en", branch=branch)
    assert list(fig.data[0].x) == ["Mine", "My branch"]
    # ex_u's rows are all of the branch's here, so both pairs count the colleague's contact too
    assert list(fig.data[0].y) == [pytest.approx(16.7), pytest.approx(16.7)]
    assert list(fig.data[1].y) == [pytest.approx(8.3), pytest.approx(8.3)]


def test_plain_messages_distinguish_refusals_from_failures():
    assert plain_message(AccessDenied("not yours"), lang="en") == "Cannot record: not yours"
    assert plain_message(OSError("database is locked\nmore"), lang="en").startswith(
        "Recording failed; click Retry later (no duplicate will be written): database is locked")


# ------------------------------------------------------------------ in a browser


def browser_test(test):
    """Chromium against a Voila server, whose pages run kernels: the ``browser`` and ``kernel`` markers."""
    return pytest.mark.kernel(pytest.mark.browser(test))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    served, campaign_id, published = serve_with_campaign(tmp_path_factory, USERS, numbers=True)
    try:
        yield served, campaign_id, published["executor"]
    finally:
        stop_server(served)
        shutil.rmtree(served.apps_dir.parent / "home", ignore_errors=True)


def sign_in_to_app(page, base_url: str, user: TestUser, path: str) -> None:
    """Sign in on the login page and go on to ``path`` (returns once the app's URL is reached).

    Unlike ``browser.sign_in`` it does not wait for the page's ``load`` event:
    Voila streams the page while the notebook runs, so the grid is awaited instead.
    """
    from urllib.parse import quote

    page.goto(f"{base_url}login?next={quote(path)}")
    page.fill("#username_input", user.name)
    page.fill("#password_input", user.password)
    page.click("#login_submit")
    page.wait_for_url("**/voila/render/**", wait_until="commit", timeout=RENDER_TIMEOUT_MS)


def _open_app(browser, server, user: TestUser, app: str, query: str = "", viewport=(1280, 900)):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    sign_in_to_app(page, server.url, user, f"/voila/render/{app}" + (f"?{query}" if query else ""))
    page.wait_for_selector(GRID_ROW, state="visible", timeout=RENDER_TIMEOUT_MS)  # no reload: it must render
    page.wait_for_selector(".wb-progress", state="attached", timeout=RENDER_TIMEOUT_MS)
    return context, page


def _grid_numbers(page) -> list[str]:
    return page.eval_on_selector_all(GRID_ROW, "rows => rows.map(r => r.innerText)")


@browser_test
def test_the_app_requires_sign_in(served, browser):
    server, _, app = served
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.app_url(app))
    assert page.url.startswith(server.url + "login?next=")
    assert page.is_visible("#username_input")
    context.close()


@browser_test
def test_executor_filters_records_an_accepted_result_and_sees_progress(served, browser):
    server, campaign_id, app = served
    context, page = _open_app(browser, server, EX_U, app)
    assert page.get_attribute(".wb-list-heading", "data-rows") == "12"
    assert page.get_attribute(".wb-progress", "data-contacted") == "0"
    widths = page.evaluate("[document.querySelector('.wb-worklist table').getBoundingClientRect().width,"
                           " document.querySelector('.wb-worklist').getBoundingClientRect().width]")
    assert widths[0] >= 0.95 * widths[1]                                       # the list spans the page
    assert "customers per page" in page.inner_text(".wb-worklist")            # DataTables' words from the catalogue
    assert "Customers 1 to 10 of 12" in page.inner_text(".wb-worklist")
    page.wait_for_selector(".wb-progress-chart .js-plotly-plot", timeout=RENDER_TIMEOUT_MS)

    page.fill(".wb-worklist .dt-search input", "138****1003")
    page.wait_for_function(f"() => document.querySelectorAll('{GRID_ROW}').length === 1")
    assert "138****1003" in _grid_numbers(page)[0]
    page.click(f"{GRID_ROW} >> nth=0")
    page.wait_for_selector(".wb-selected[data-member-id]:not([data-member-id=''])")
    assert "row selected" not in page.inner_text(".wb-worklist")              # English-only words hidden
    member_id = int(page.get_attribute(".wb-selected", "data-member-id"))
    assert "138****1003" in page.inner_text(".wb-selected")

    page.select_option(".wb-result select", label="Accepted")
    page.fill(".wb-note textarea", "wants the news edition")
    page.click(".wb-submit")
    page.wait_for_selector(".wb-message[data-kind=ok]", timeout=RENDER_TIMEOUT_MS)
    page.wait_for_selector(".wb-progress[data-contacted='1'][data-accepted='1']", timeout=RENDER_TIMEOUT_MS)
    screenshot(page, "executor-app-recorded.png")

    with Store(server.store_url, migrate=False, progress=False) as store:
        results = store.contact_results(SYSTEM_USER, campaign_id)
        audit = store.audit_log(SYSTEM_USER, campaign_id=campaign_id, action="record_result")
    assert results[["member_id", "executor", "result", "note"]].values.tolist() == [
        [member_id, "ex_u", "accepted", "wants the news edition"]]
    assert len(audit) == 1 and audit["user_name"].iloc[0] == "ex_u"
    assert audit["details"].iloc[0]["member_id"] == member_id
    assert audit["details"].iloc[0]["client_request_id"] == results["client_request_id"].iloc[0]
    context.close()


@browser_test
def test_the_branch_figure_follows_a_colleagues_result(served, browser):
    server, campaign_id, app = served
    context, page = _open_app(browser, server, EX_U, app)
    page.wait_for_selector(".wb-branch-progress[data-branch='urumqi']", state="attached", timeout=RENDER_TIMEOUT_MS)
    before = int(page.get_attribute(".wb-branch-progress", "data-contacted"))
    assert page.get_attribute(".wb-branch-progress", "data-members") == "12"
    with Store(server.store_url, migrate=False, progress=False) as store:
        branch = store.worklist(SYSTEM_USER, campaign_id, branch_id="urumqi")
        member = int(branch.loc[branch["contacts"] == 0, "member_id"].iloc[0])
        colleague = store.authenticate(EX_U2.name, EX_U2.password)
        store.record_result(colleague, member, "refused", "colleague's call")  # from the colleague's own app
        expected = int(store.branch_totals(store.authenticate(EX_U.name, EX_U.password), campaign_id)
                       ["contacted"].iloc[0])
    assert expected == before + 1
    page.reload()  # the figures are recomputed from the store, never kept in the page
    page.wait_for_selector(f".wb-branch-progress[data-contacted='{expected}']", state="attached",
                           timeout=RENDER_TIMEOUT_MS)
    assert "Urumqi in total" in page.inner_text(".wb-branch-progress")
    page.wait_for_selector(".wb-progress-chart .js-plotly-plot", timeout=RENDER_TIMEOUT_MS)
    assert "My branch" in page.inner_text(".wb-progress-chart")
    context.close()


@browser_test
def test_another_branch_cannot_reach_the_first_branchs_rows(served, browser):
    server, campaign_id, app = served
    context, page = _open_app(browser, server, EX_H, app, "branch=urumqi&user=ex_u&user_name=ex_u&user_branch=urumqi")
    page.select_option(".wb-worklist .dt-length select", "100")
    page.wait_for_function(f"() => document.querySelectorAll('{GRID_ROW}').length === 12")
    numbers = _grid_numbers(page)
    assert all("139****" in row for row in numbers), numbers
    assert not any("138****" in row for row in numbers)
    assert "ex_h" in page.inner_text(".wb-signed-in") or "哈密" in page.inner_text(".wb-signed-in")

    # the Urumqi executor's kernel: neither readable nor attachable by ex_h
    other, page_u = _open_app(browser, server, EX_U, app)
    kid = page_u.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    assert context.request.get(f"{server.url}api/kernels/{kid}").status == 403
    attach = """async (url) => await new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => { ws.close(); resolve("open"); };
        ws.onerror = () => resolve("refused");
        setTimeout(() => resolve("timeout"), 20000);
    })"""
    ws_url = server.url.replace("http://", "ws://") + f"api/kernels/{kid}/channels"
    assert page.evaluate(attach, ws_url) == "refused"
    headers = cookie_header(context)
    assert context.request.post(f"{server.url}voila/api/shutdown/{kid}",
                                headers={"X-XSRFToken": headers["X-XSRFToken"]}).status == 403
    with Store(server.store_url, migrate=False, progress=False) as store:
        assert (store.contact_results(SYSTEM_USER, campaign_id)["executor"] != "ex_h").all()
    other.close()
    context.close()


@browser_test
def test_an_open_page_outlives_the_idle_timeout_and_a_closed_one_is_culled(tmp_path_factory, browser):
    served, campaign_id, published = serve_with_campaign(
        tmp_path_factory, USERS, server_args=("--cull-idle-timeout", "2", "--cull-interval", "1"))
    try:
        context, page = _open_app(browser, served, EX_U, published["executor"])
        page.wait_for_timeout(6000)  # three idle timeouts with the page open (an executor's lunch break)
        page.click(f"{GRID_ROW} >> nth=0")
        page.wait_for_selector(".wb-selected[data-member-id]:not([data-member-id=''])")
        page.select_option(".wb-result select", label="Accepted")
        page.click(".wb-submit")
        page.wait_for_selector(".wb-message[data-kind=ok]", timeout=RENDER_TIMEOUT_MS)
        assert page.query_selector("#wb-connection-lost") is None
        with Store(served.store_url, migrate=False, progress=False) as store:
            assert store.contact_results(SYSTEM_USER, campaign_id)["result"].tolist() == ["accepted"]
        page.close()  # the tab is gone without saying so (no unload handler runs): its kernel must not linger
        context.close()
        deadline = time.monotonic() + 60
        while "Culling 'idle' kernel" not in served.log() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "Culling 'idle' kernel" in served.log()
    finally:
        stop_server(served)


def test_a_refused_contact_time_is_said_in_the_page_language_with_the_allowed_range():
    import datetime as dt

    from workbench.store.results import ContactTimeError

    utc = dt.timezone.utc
    exc = ContactTimeError(dt.datetime(1900, 1, 1, tzinfo=utc), dt.datetime(2026, 10, 31, 16, tzinfo=utc),
                           dt.datetime(2026, 12, 6, 4, tzinfo=utc))
    zh = plain_message(exc, lang="zh")
    assert "1900-01-01 08:00" in zh and "2026-11-01 00:00" in zh and "2026-12-06 12:00" in zh
    assert "parameter" not in zh and "活动开始" in zh
    assert "campaign's start 2026-11-01 00:00" in plain_message(exc, lang="en")


# ------------------------------------------------------------------ calling from the worklist, on one screen
SELECTED_ROW = ".wb-worklist table tbody tr.selected"


def _inside_viewport(page, selector: str) -> None:
    """``selector``'s box lies wholly inside the viewport, and the page is not scrolled."""
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    assert box is not None, f"{selector} is not rendered"
    assert page.evaluate("[window.scrollX, window.scrollY]") == [0, 0]
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= size["width"] + 1 and box["y"] + box["height"] <= size["height"] + 1, \
        (selector, box, size)


def _grid_member_ids(page) -> list[int]:
    return [int(text.split()[0]) for text in _grid_numbers(page)]


@browser_test
@pytest.mark.parametrize("viewport", [(1024, 768), (1366, 768)], ids=["1024x768", "1366x768"])
def test_a_caller_selects_reveals_records_and_goes_on_without_scrolling(served, browser, viewport):
    server, campaign_id, app = served
    context, page = _open_app(browser, server, EX_U, app, viewport=viewport)
    page.wait_for_selector(".wb-progress-chart .js-plotly-plot", timeout=RENDER_TIMEOUT_MS)
    for element in (".wb-panel", ".wb-result", ".wb-note", ".wb-submit", ".wb-filter", GRID_ROW):
        _inside_viewport(page, element)
    ids = _grid_member_ids(page)
    with Store(server.store_url, migrate=False, progress=False) as store:
        to_work = filter_worklist(store.worklist(store.authenticate(EX_U.name, EX_U.password), campaign_id))
    assert ids == to_work["member_id"].tolist()[:PAGE_LENGTH]     # the first page of the list "to work"
    assert len(ids) >= 3
    page.click(f"{GRID_ROW} >> nth=1")
    member_id = ids[1]
    page.wait_for_selector(f".wb-selected[data-member-id='{member_id}']")
    _inside_viewport(page, SELECTED_ROW)
    assert "*" in page.inner_text(".wb-selected")        # masked until revealed

    page.click(".wb-reveal")
    page.wait_for_selector(".wb-number", timeout=RENDER_TIMEOUT_MS)
    with Store(server.store_url, migrate=False, progress=False) as store:
        worklist = store.worklist(SYSTEM_USER, campaign_id).set_index("member_id")
        sid = int(worklist.loc[member_id, "subscriber_id"])
        audit = store.audit_log(SYSTEM_USER, campaign_id=campaign_id, action="reveal_number")
    number = f"138{sid:08d}"
    assert page.inner_text(".wb-number") == number
    assert page.get_attribute(".wb-number", "href") == f"tel:{number}"
    assert (audit["user_name"].iloc[0], audit["details"].iloc[0]["member_id"]) == ("ex_u", member_id)
    assert audit["details"].iloc[0]["subscriber_id"] == sid
    assert number not in page.inner_text(".wb-worklist")                   # the grid keeps it masked
    if viewport == (1024, 768):
        screenshot(page, "executor-app.png")

    page.select_option(".wb-result select", label="Call back later")
    page.wait_for_selector(".wb-callback-at input", state="visible")
    _inside_viewport(page, ".wb-submit")
    page.click(".wb-submit")
    page.wait_for_selector(".wb-message[data-kind=ok]", timeout=RENDER_TIMEOUT_MS)
    # the next customer is selected (the recorded one left the list "to work": the next moved up)
    page.wait_for_selector(f".wb-selected[data-member-id='{ids[2]}']", timeout=RENDER_TIMEOUT_MS)
    assert _grid_member_ids(page)[1] == ids[2]
    _inside_viewport(page, SELECTED_ROW)
    _inside_viewport(page, ".wb-submit")
    assert page.query_selector(".wb-number") is None                        # a new customer: masked again
    with Store(server.store_url, migrate=False, progress=False) as store:
        results = store.contact_results(SYSTEM_USER, campaign_id)
        listed = store.worklist(SYSTEM_USER, campaign_id).set_index("member_id")
    mine = results[results["member_id"] == member_id]
    assert mine["result"].tolist() == ["call_back"] and mine["executor"].tolist() == ["ex_u"]
    assert listed.loc[member_id, "callback_at"] is not None and not pd.isna(listed.loc[member_id, "callback_at"])

    callbacks = listed[listed["last_result"] == "call_back"].sort_values("callback_at").index.tolist()
    assert member_id in callbacks
    page.select_option(".wb-filter select", label="All callbacks (by due time)")   # callbacks listed by due time
    page.wait_for_function(f"() => document.querySelector('.wb-list-heading[data-rows=\"{len(callbacks)}\"]')",
                           timeout=RENDER_TIMEOUT_MS)
    page.wait_for_function(f"() => document.querySelectorAll('{GRID_ROW}').length === {len(callbacks)}")
    assert _grid_member_ids(page) == callbacks
    context.close()


@browser_test
def test_a_branch_manager_sees_executors_and_their_progress_and_does_not_record_for_them(served, browser):
    server, campaign_id, app = served
    context, page = _open_app(browser, server, BM_U, app, viewport=(1366, 768))
    headers = page.eval_on_selector_all(".wb-worklist thead th", "cells => cells.map(c => c.innerText.trim())")
    assert "Executor" in headers
    column = headers.index("Executor")
    # branch staff know each other by name: the executor's display name, not the login "ex_u"
    assert {row.split("\t")[column] for row in _grid_numbers(page)} == {EX_U.display_name}
    with Store(server.store_url, migrate=False, progress=False) as store:
        bm = store.authenticate(BM_U.name, BM_U.password)
        expected = store.progress(bm, campaign_id).query("dimension == 'executor' and key == 'ex_u'").iloc[0]
    progress = page.locator(".wb-executor-progress[data-executor='ex_u']")
    progress.wait_for(state="attached", timeout=RENDER_TIMEOUT_MS)
    assert progress.get_attribute("data-members") == "12"
    assert progress.get_attribute("data-contacted") == str(int(expected["contacted"]))
    assert "Mine" not in page.inner_text(".wb-progress")                     # the manager's figures are the branch's
    page.click(f"{GRID_ROW} >> nth=0")
    page.wait_for_selector(".wb-selected[data-member-id]:not([data-member-id=''])")
    assert f"Executor: {EX_U.display_name}" in page.inner_text(".wb-selected")
    page.wait_for_selector(".wb-message[data-kind=info]:has-text('managers watch progress')")
    assert page.is_disabled(".wb-submit") and page.is_hidden(".wb-reveal")   # the default policy: watch only
    screenshot(page, "executor-app-manager.png")
    context.close()


def test_the_workbench_named_trigger_campaign_is_shown_in_the_users_language():
    """The trigger waves' campaign carries the name the workbench gives it (the store finds it by that name):
    the worklist's campaign list words it in the user's language; a name an analyst gave stays as given."""
    from workbench.apps.worklist import DEFAULT_CAMPAIGN_NAMES, _campaign_name
    from workbench.triggers.waves import TriggerSpec

    assert DEFAULT_CAMPAIGN_NAMES["handset_trigger"] == TriggerSpec.name
    assert _campaign_name(TriggerSpec.name, "handset_trigger", "zh") == "换机触发营销"
    assert _campaign_name(TriggerSpec.name, "handset_trigger", "en") == "Handset-change trigger"
    assert _campaign_name("乌鲁木齐换机 12 月", "handset_trigger", "zh") == "乌鲁木齐换机 12 月"
    assert _campaign_name("handset-change trigger", "mobile_newspaper", "zh") == "handset-change trigger"
