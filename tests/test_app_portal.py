"""The portal after sign-in: which apps each role may open, the per-user language, 403/404 pages.

Fast part: the access rule (``apps_for``), the store's per-user language, what the portal lists
and the prelaunch hook's language.  Browser part (one server for the module, the campaign of
``test_app_executor`` with its executor app and template 05 published): each role's portal at
1024x768 and 1366x768, the file tree gone, the language switch kept across sign-out, 403/404
pages in English and Chinese.  The portal screenshot goes to docs/screenshots/portal.png.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from browser import *  # noqa: F401,F403 (fixtures and helpers)
from browser import sign_in, stop_server
from nbformat.v4 import new_code_cell, new_notebook
from test_app_executor import (
    ANALYST, BM_U, EX_H, EX_U, PM, RENDER_TIMEOUT_MS, SPEC, USERS, screenshot, serve_with_campaign,
)

from workbench.apps.hook import prelaunch_hook
from workbench.apps.identity import WorkbenchUser
from workbench.apps.pages import render_error
from workbench.apps.portal import portal_view, render_portal
from workbench.apps.publish import install_builtin_apps, list_apps, publish_app
from workbench.apps.widgets import branch_label
from workbench.errors import AccessDenied, ParameterError
from workbench.i18n import t
from workbench.store import SYSTEM_USER, PasswordPolicy, Store, User
from workbench.store.access import APP_ROLES, apps_for, can_open_app
from workbench.templates import find_template

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "docs" / "screenshots"
MONITORING = "05_campaign_monitoring"
ROLE_USERS = [EX_U, BM_U, PM, ANALYST]
VIEWPORTS = [(1024, 768), (1366, 768)]


def _user(u) -> User:
    return User(u.name, u.role, u.branch_id)


# ------------------------------------------------------------------ the access rule
@pytest.mark.parametrize("role, branch, expected", [
    ("executor", "urumqi", ["executor", "hall", "whoami"]),
    ("branch_manager", "urumqi", ["executor", MONITORING, "hall", "whoami"]),
    ("province_manager", None, [MONITORING, "hall", "whoami"]),
    ("analyst", None, [MONITORING, "hall", "whoami"]),
    ("admin", None, ["executor", MONITORING, "hall", "whoami"]),
])
def test_each_role_opens_its_apps(role, branch, expected):
    user = User("u", role, branch)
    assert apps_for(user) == expected
    assert apps_for(user, ["whoami", "executor"]) == [k for k in ["whoami", "executor"] if k in expected]  # order kept


def test_an_undeclared_app_kind_is_for_the_designers_only():
    assert "07_credit_grading" not in APP_ROLES
    assert [r for r in ("executor", "branch_manager", "province_manager", "analyst", "admin")
            if can_open_app(User("u", r, "urumqi" if r in ("executor", "branch_manager") else None),
                            "07_credit_grading")] == ["analyst", "admin"]


# ------------------------------------------------------------------ the store keeps each user's language
@pytest.fixture
def local_store(tmp_path):
    from test_app_executor import seed_campaign

    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}", password_policy=PasswordPolicy.fast_for_tests(),
                  progress=False)
    for u in USERS:
        store.add_user(SYSTEM_USER, u.name, u.role, password=u.password, branch_id=u.branch_id)
    yield store, seed_campaign(store)
    store.close()


def test_a_users_language_is_stored_audited_and_listed(local_store):
    store, _ = local_store
    ex = _user(EX_U)
    assert store.user_language(ex) is None                       # never chosen: the server's
    store.set_user_language(ex, "en")
    store.set_user_language(ex, "en")                            # no change: not audited again
    assert store.user_language(ex) == "en"
    assert store.list_users(SYSTEM_USER).set_index("name").loc["ex_u", "language"] == "en"
    assert store.user_language(_user(EX_H)) is None              # nobody else's changed
    store.set_user_language(ex, None)
    assert store.user_language(ex) is None
    audit = store.audit_log(SYSTEM_USER, action="set_language")
    assert [d["language"] for d in audit["details"]][::-1] == ["en", None]
    assert set(audit["user_name"]) == {"ex_u"}


def test_a_bad_language_or_another_users_language_is_refused(local_store):
    store, _ = local_store
    with pytest.raises(ParameterError, match=r"'language' parameter must be one of \['zh', 'en'\]. Got 'fr'"):
        store.set_user_language(_user(EX_U), "fr")
    with pytest.raises(AccessDenied, match="changing another user's language is allowed for roles \\['admin'\\]"):
        store.set_user_language(_user(EX_U), "en", name="ex_h")
    store.add_user(SYSTEM_USER, "adm", "admin", password="adm-password-1")
    store.set_user_language(User("adm", "admin"), "zh", name="ex_h")
    assert store.user_language(_user(EX_H)) == "zh"
    with pytest.raises(ParameterError, match="names no user. Got 'nobody'"):
        store.set_user_language(User("adm", "admin"), "en", name="nobody")


# ------------------------------------------------------------------ what the portal lists
def test_the_portal_lists_the_roles_apps_by_campaign_in_human_words(local_store, tmp_path):
    store, cid = local_store
    apps = tmp_path / "apps"
    install_builtin_apps(apps)
    for app in ("executor", str(find_template(MONITORING))):
        publish_app(cid, app=app, apps_dir=apps, store=store)
    served = {a.app for a in list_apps(apps)}
    assert served == {"executor", MONITORING, "hall", "whoami"}
    for u in ROLE_USERS:
        view = portal_view(store, _user(u), apps, base_url="/base/", lang="en")
        assert view.kinds == set(apps_for(_user(u), served)), u.role
        assert [c.campaign_id for c in view.campaigns] == [cid]
        campaign = view.campaigns[0]
        assert (campaign.name, campaign.status_label) == ("Mobile newspaper trial", "Released")
        assert campaign.period == f"from {SPEC['goal']['period_start']}"
        assert all(a.url.startswith("/base/voila/render/") for a in campaign.apps + view.tools)
    # an executor of a branch without rows in the campaign sees no campaign card, only the tools
    store.add_user(SYSTEM_USER, "ex_k", "executor", password="ex-k-password-1", branch_id="karamay")
    lonely = portal_view(store, User("ex_k", "executor", "karamay"), apps, lang="zh")
    assert lonely.campaigns == () and {a.kind for a in lonely.tools} == {"hall", "whoami"}
    user = WorkbenchUser(username="bm_u", name="bm_u", display_name="bm_u", role="branch_manager",
                         branch_id="urumqi")
    for lang in ("zh", "en"):
        page = render_portal(portal_view(store, _user(BM_U), apps, lang=lang), user=user, lang=lang)
        assert t("portal.app.executor", lang=lang) in page and t(f"portal.app.{MONITORING}", lang=lang) in page
        assert ".ipynb" not in re.sub(r'href="[^"]*"', "", page)  # file names only in the links' addresses
        assert t("store.role.branch_manager", lang=lang) in page and 'name="_xsrf"' not in page  # no token given


def test_error_pages_speak_chinese_and_english():
    zh403, en403 = render_error(403, lang="zh", reason="app_role"), render_error(403, lang="en", reason="app_role")
    assert "没有权限（403）" in zh403 and t("portal.error.app_role", lang="zh") in zh403 and "Forbidden" not in zh403
    assert "Not allowed (403)" in en403 and "not open to your role" in en403
    assert "找不到页面（404）" in render_error(404, lang="zh") and "Not Found" not in render_error(404, lang="zh")
    assert "Page not found (404)" in render_error(404, lang="en")
    assert 'lang="zh"' in zh403 and 'lang="en"' in en403


# ------------------------------------------------------------------ the apps' kernels speak the user's language
def _notebook():
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    params = new_code_cell('language = ""  # label language\nuser_name = ""\nuser_role = ""')
    params.metadata = {"tags": ["parameters"]}
    nb.cells = [params]
    return nbformat.from_dict(nb)


@pytest.mark.parametrize("language, injected", [("zh", "zh"), ("en", "en"), (None, "")])
def test_the_users_own_language_is_injected_into_the_app(language, injected):
    user = WorkbenchUser(username="ana", name="ana", display_name="ana", role="executor", branch_id="urumqi",
                         language=language)
    nb = prelaunch_hook(SimpleNamespace(current_user=user), _notebook(), ".")
    namespace: dict = {}
    for cell in nb.cells:
        exec(cell.source, namespace)  # noqa: S102 (the test's own notebook)
    assert namespace["language"] == injected  # none chosen: the notebook's default (the server's language)


# ------------------------------------------------------------------ in a browser
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    template = str(find_template(MONITORING))
    server, campaign_id, published = serve_with_campaign(tmp_path_factory, USERS, apps=("executor", template))
    try:
        yield server, campaign_id, published
    finally:
        stop_server(server)
        shutil.rmtree(server.apps_dir.parent / "home", ignore_errors=True)


def _portal(browser, server, user, viewport=(1024, 768)):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    sign_in(page, server.url, user.name, user.password)
    page.wait_for_selector("#wb-portal-title")
    return context, page


def _listed(page) -> set[tuple[str, str]]:
    return {tuple(x) for x in page.eval_on_selector_all(
        "a.app", "links => links.map(a => [a.dataset.campaign, a.dataset.app])")}


def _language_of(server, name: str):
    with sqlite3.connect(server.store_url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT language FROM users WHERE name = ?", (name,)).fetchone()[0]


@pytest.mark.browser
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v[0]}x{v[1]}")
def test_each_role_lands_on_a_portal_of_exactly_its_apps(served, browser, viewport):
    server, cid, _ = served
    campaign_kinds = {"executor", MONITORING}
    for user in ROLE_USERS:
        context, page = _portal(browser, server, user, viewport)
        assert page.url == server.url                              # the landing page after sign-in
        allowed = apps_for(_user(user), ["executor", MONITORING, "hall", "whoami"])
        assert _listed(page) == {(str(cid) if k in campaign_kinds else "", k) for k in allowed}, user.role
        body = page.inner_text("body")
        assert ".ipynb" not in body and "Select items" not in body
        assert t(f"store.role.{user.role}", lang="en") in page.inner_text("#wb-portal-user")
        card = page.inner_text(f"section.campaign[data-campaign-id='{cid}']")
        assert "Mobile newspaper trial" in card and "Released" in card
        period = page.inner_text(f"section.campaign[data-campaign-id='{cid}'] [data-field=period]")
        assert period == f"from {SPEC['goal']['period_start']}"     # the test plan names no end
        # everything a user needs is on screen without scrolling sideways; sign-out at the top
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
        assert page.is_visible("#logout_submit") and page.is_visible("#wb-lang-zh")
        box = page.locator("#logout_submit").bounding_box()
        assert box["y"] + box["height"] <= viewport[1]
        if user is BM_U and viewport == (1024, 768):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "portal.png"))
        context.close()


@pytest.mark.browser
@pytest.mark.kernel
def test_every_app_links_back_to_the_portal(served, browser):
    server, _, _ = served
    context, page = _portal(browser, server, BM_U)                  # 1024x768: the smallest screen served
    apps = sorted(_listed(page))
    assert {kind for _, kind in apps} == {"executor", MONITORING, "hall", "whoami"}
    for campaign, kind in apps:
        page.click(f"a.app[data-app='{kind}'][data-campaign='{campaign}']")
        link = page.wait_for_selector("#wb-portal", state="visible", timeout=RENDER_TIMEOUT_MS)
        assert link.inner_text() == t("apps.portal.link", lang="en")
        box = link.bounding_box()                                   # in the header, on the first screen
        assert box["y"] + box["height"] <= 768 and box["x"] + box["width"] <= 1024, kind
        if kind == MONITORING:                                      # the figures are in: the page at rest
            page.wait_for_selector(".wb-monitor-status-text", timeout=RENDER_TIMEOUT_MS)
        screenshot(page, f"app-{kind}-1024.png")
        with page.expect_navigation():
            link.click()
        assert page.url == server.url and page.is_visible("#wb-portal-title"), kind
    context.close()


@pytest.mark.browser
def test_the_file_tree_is_no_longer_shown(served, browser):
    server, _, _ = served
    context, page = _portal(browser, server, PM)
    for path in ("voila/tree", "voila/tree/", "tree", "voila/tree/whoami.ipynb"):
        page.goto(server.url + path)
        assert page.url == server.url, path
        assert page.is_visible("#wb-portal-title") and ".ipynb" not in page.inner_text("body")
    assert context.request.get(server.url + "voila/api/contents").status == 404
    context.close()


@pytest.mark.browser
def test_forbidden_and_unknown_pages_in_english_then_in_chinese(served, browser):
    server, _, published = served
    monitoring = server.app_url(published[MONITORING])
    context, page = _portal(browser, server, EX_H)
    for lang, title403, title404 in (("en", "Not allowed (403)", "Page not found (404)"),
                                     ("zh", "没有权限（403）", "找不到页面（404）")):
        response = page.goto(monitoring)                   # the executor's role may not open monitoring
        assert response.status == 403
        assert page.inner_text("#error-title") == title403
        assert page.inner_text("#error-message") == t("portal.error.app_role", lang=lang)
        assert page.get_attribute("html", "lang") == lang
        for path in ("no/such/page", "voila/render/no_such_app.ipynb"):
            response = page.goto(server.url + path)
            assert response.status == 404 and page.inner_text("#error-title") == title404, path
            assert page.inner_text("#error-message") == t("apps.error.404", lang=lang)
        if lang == "en":                                   # switch to Chinese from the portal
            page.goto(server.url)
            with page.expect_navigation():
                page.click("#wb-lang-zh")
    assert "'ex_h'" not in server.log()                    # a refused page started no kernel for the user
    # the switch is a POST with the XSRF token: a forged one changes nothing
    assert context.request.post(server.url + "portal/language", form={"language": "en"},
                                max_redirects=0).status == 403
    assert _language_of(server, EX_H.name) == "zh"
    context.close()


@pytest.mark.browser
@pytest.mark.kernel
def test_the_language_switch_holds_across_sign_out_and_reaches_the_apps(served, browser):
    server, _, _ = served
    context, page = _portal(browser, server, EX_U)
    assert page.inner_text("#wb-portal-title") == t("portal.heading", lang="en")   # the server's --lang en
    assert page.get_attribute("#wb-lang-en", "aria-pressed") == "true"
    with page.expect_navigation():
        page.click("#wb-lang-zh")
    assert page.url == server.url and page.inner_text("#wb-portal-title") == t("portal.heading", lang="zh")
    assert _language_of(server, EX_U.name) == "zh"
    page.check("#logout-all")
    with page.expect_navigation():
        page.click("#logout_submit")                       # sign out from the portal ...
    assert page.inner_text("#logout-title") == t("apps.logout.title", lang="zh")
    page.click("#login-again")                             # this browser's sign-in page speaks it as well
    assert page.inner_text("h1") == t("apps.login.heading", lang="zh")
    context.close()
    context, page = _portal(browser, server, EX_U)         # ... and in again, in a new browser
    assert page.inner_text("#wb-portal-title") == t("portal.heading", lang="zh")
    assert page.get_attribute("html", "lang") == "zh"
    page.click("a.app[data-app='hall']")                   # the app's kernel speaks it too
    page.wait_for_selector(".wb-hall-scope", timeout=RENDER_TIMEOUT_MS)
    expected = t("ops_api.hall.scope_branch", lang="zh", branch=branch_label("urumqi", "zh"))
    assert page.inner_text(".wb-hall-scope") == expected   # the server speaks English; this user Chinese
    other = context.new_page()                             # signed out in another tab: the page's own banner
    other.goto(server.url)
    with other.expect_navigation():
        other.click("#logout_submit")
    page.bring_to_front()
    page.click("body")
    banner = page.wait_for_selector("#wb-connection-lost", state="visible", timeout=30_000)
    assert banner.inner_text().startswith(t("apps.page.connection_lost", lang="zh"))
    context.close()
