"""The hall / call-centre page: its helpers, then in Chromium against ``workbench serve`` at 1024x768.

An Urumqi executor looks up an Urumqi subscriber (masked number, each current model, yes / why
not for every product) and is refused a Hami subscriber; the look-ups are in the audit log.  The
screenshot goes to docs/screenshots/hall-app.png.
"""
from __future__ import annotations

import html

import shutil
from pathlib import Path

import pytest

from workbench.i18n import t
from browser import *  # noqa: F401,F403 (fixtures and helpers)
from browser import TestUser
from lookup_fixtures import seed_published

from workbench.apps.hall import card_html, lookup_card
from workbench.errors import AccessDenied, ParameterError
from workbench.store import SYSTEM_USER, Store, User

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "docs" / "screenshots"
EX_U = TestUser("ex_u", "executor", "urumqi", "ex-u-password-1", "乌鲁木齐 营业员")
PM = TestUser("pm", "province_manager", None, "pm-password-123")
RENDER_TIMEOUT_MS = 240_000


@pytest.fixture
def store(tmp_path):
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}", progress=False) as s:
        seed_published(s.engine)
        for u in (EX_U, PM):
            s.add_user(SYSTEM_USER, u.name, u.role, password=u.password, branch_id=u.branch_id)
        yield s


def test_the_card_in_words_for_a_branch_executor(store):
    ex = User(EX_U.name, EX_U.role, EX_U.branch_id)
    card = lookup_card(store, ex, " 1001 ", "en")
    page = card_html(card, "en")
    assert 'data-subscriber="1001"' in page and "138****1001" in page and "Urumqi" in page
    assert '<tr data-kind="target">' in page and '<tr data-kind="credit">' in page and "reads news often" in page
    assert 'data-product="MNP_NEWS" data-eligible="true"' in page
    assert "STOCK cannot be ordered: " + html.escape(t("ops.reason.handset", lang="en")) in page
    assert lookup_card(store, ex, "424242", "en") is None
    with pytest.raises(AccessDenied, match="belongs to another branch than user 'ex_u'"):
        lookup_card(store, ex, "2001", "en")
    with pytest.raises(ParameterError, match="Enter a subscriber id"):
        lookup_card(store, ex, "13800001001x", "en")
    assert lookup_card(store, User(PM.name, PM.role), "2001", "zh")["branch_id"] == "hami"   # province role
    audit = store.audit_log(SYSTEM_USER, action="hall.lookup")
    assert sorted((d["subscriber_id"], d["allowed"]) for d in audit["details"]) == [
        (1001, True), (2001, False), (2001, True), (424242, True)]


# ------------------------------------------------------------------ in a browser
@pytest.fixture(scope="module")
def server_users():
    return [EX_U, PM]


@pytest.fixture(scope="module")
def prepare_store():
    return lambda store: seed_published(store.engine)


@pytest.mark.kernel
@pytest.mark.browser
def test_a_hall_executor_looks_up_a_subscriber_and_is_refused_another_branch(apps_server, browser):
    from urllib.parse import quote

    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.goto(f"{apps_server.url}login?next={quote('/voila/render/hall.ipynb')}")
    page.fill("#username_input", EX_U.name)
    page.fill("#password_input", EX_U.password)
    page.click("#login_submit")
    page.wait_for_selector(".wb-hall-id input", timeout=RENDER_TIMEOUT_MS)
    assert "Urumqi" in page.inner_text(".wb-hall-scope")
    page.fill(".wb-hall-id input", "1001")
    page.click(".wb-hall-lookup")
    page.wait_for_selector(".wb-hall-card[data-subscriber='1001']", timeout=RENDER_TIMEOUT_MS)
    card = page.inner_text(".wb-hall-card")
    assert "138****1001" in card and "13800001001" not in card
    assert page.get_attribute(".wb-hall-offers tr[data-product='MNP_NEWS']", "data-eligible") == "true"
    assert t("ops.reason.credit_grade", lang="en", arg="D") in page.inner_text(
        ".wb-hall-offers tr[data-product='STOCK']")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "hall-app.png"))

    page.fill(".wb-hall-id input", "2001")
    page.click(".wb-hall-lookup")
    page.wait_for_selector(".wb-hall-message[data-kind='error']", timeout=RENDER_TIMEOUT_MS)
    assert "another branch" in page.inner_text(".wb-hall-message")
    assert page.query_selector(".wb-hall-card") is None
    context.close()
    with Store(apps_server.store_url, migrate=False, progress=False) as store:
        audit = store.audit_log(SYSTEM_USER, action="hall.lookup")
    assert {(d["subscriber_id"], d["allowed"]) for d in audit["details"]} == {(1001, True), (2001, False)}
    assert set(audit["user_name"]) == {"ex_u"}
    shutil.rmtree(apps_server.apps_dir.parent / "home", ignore_errors=True)
