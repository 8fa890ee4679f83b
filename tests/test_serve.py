"""``workbench serve``: its settings and configuration, then in a real browser: sign-in required,
identity injected, kernels private, sign-out.

One server for the module (see ``tests/browser.py``); Debian's Chromium via Playwright.
"""
from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import stat
import time
from pathlib import Path

import pytest
from browser import *  # noqa: F401,F403 (fixtures and helpers)
from browser import start_server, stop_server
from browser import TestUser, cookie_header, sign_in

from workbench.apps.server import (
    CONFIG_FILE, SECRET_FILE, ServeSettings, prepare_state, voila_app_class,
)
from workbench.cli import main
from workbench.commands.serve import DEFAULTS
from workbench.errors import ParameterError


def browser_test(test):
    """Chromium against a Voila server, whose pages run kernels: the ``browser`` and ``kernel`` markers."""
    return pytest.mark.kernel(pytest.mark.browser(test))


ANA = TestUser("ana", "executor", "urumqi", "ana-password-1", "阿娜")
BO = TestUser("bo", "executor", "hami", "bo-password-12")
PM = TestUser("pm", "province_manager", None, "pm-password-123")
CY = TestUser("cy", "executor", "hami", "cy-password-123")       # the throttling test's account
DEE = TestUser("dee", "executor", "hami", "dee-password-12")     # ... and the one it must not affect
EVE = TestUser("eve", "executor", "hami", "eve-password-12")     # opens one app many times
WHOAMI = ".wb-whoami [data-field=name]"
#: Longest wait for an app to render (kernel start + execution on a busy 2-core machine).
RENDER_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def server_users():
    return [ANA, BO, PM, CY, DEE, EVE]


# ------------------------------------------------------------------ settings and configuration
@pytest.mark.parametrize("field, value, message", [
    ("port", 0, "'port' parameter must be an integer from 1 to 65535. Got 0"),
    ("port", 70000, "from 1 to 65535. Got 70000"),
    ("port", "8866", "Got '8866'"),
    ("cookie_hours", 0, "'cookie_hours' parameter must be a positive number"),
    ("cull_idle_timeout", -1, "'cull_idle_timeout' parameter must be a whole number >= 0"),
    ("kernel_pool", 1.5, "'kernel_pool' parameter must be a whole number >= 0"),
    ("language", "fr", "'language' parameter must be one of \\['zh', 'en'\\]"),
])
def test_bad_settings_are_refused(tmp_path, field, value, message):
    with pytest.raises(ParameterError, match=message):
        ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / "state", **{field: value})


@pytest.mark.parametrize("state", ["apps", "apps/private"])
def test_state_folder_inside_the_served_folder_is_refused(tmp_path, state):
    with pytest.raises(ParameterError, match="must lie outside the served folder"):
        ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / state)


def test_command_defaults_equal_the_settings_defaults():
    fields = {f.name: f for f in dataclasses.fields(ServeSettings)}
    assert DEFAULTS["port"] == fields["port"].default
    assert DEFAULTS["state"] == str(fields["state_dir"].default)
    assert DEFAULTS["apps"] == str(fields["apps_dir"].default)
    for name in ("cookie_hours", "cull_idle_timeout", "cull_interval", "kernel_pool", "max_kernels_per_user",
                 "max_kernels"):
        assert DEFAULTS[name] == fields[name].default, name


def test_serve_flags_set_the_access_policy_and_the_variables_still_count(monkeypatch, capsys):
    from workbench.commands.serve import policy_environ
    from workbench.store.access import MANAGERS_RECORD_ENV, REVEAL_CAP_ENV, AccessPolicy

    monkeypatch.setenv(REVEAL_CAP_ENV, "50")
    monkeypatch.setenv(MANAGERS_RECORD_ENV, "1")
    assert policy_environ() == {}                                          # no flag: the variables decide
    assert AccessPolicy.from_env() == AccessPolicy(managers_record_for_executors=True, reveal_daily_cap=50)
    updates = policy_environ(0, "off")                                     # a flag overrides its variable
    assert updates == {REVEAL_CAP_ENV: "0", MANAGERS_RECORD_ENV: "0"}
    assert AccessPolicy.from_env(updates) == AccessPolicy(managers_record_for_executors=False, reveal_daily_cap=0)
    assert policy_environ(None, "on", environ={}) == {MANAGERS_RECORD_ENV: "1"}
    with pytest.raises(ParameterError, match=r"'--reveal-daily-cap' parameter must be an integer >= 0. Got -1"):
        policy_environ(-1)
    monkeypatch.setenv(REVEAL_CAP_ENV, "many")                             # a bad variable is named at start
    with pytest.raises(ParameterError, match=REVEAL_CAP_ENV):
        policy_environ(None, "on")
    assert policy_environ(20) == {REVEAL_CAP_ENV: "20"}                    # ... unless the flag replaces it
    monkeypatch.setenv("WORKBENCH_LANG", "zh")
    assert main(["serve", "--reveal-daily-cap", "-3"]) == 1               # before anything starts
    assert "参数 '--reveal-daily-cap' 的取值不符合要求：应为不小于 0 的整数" in capsys.readouterr().err


def test_command_reports_bad_settings(capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LANG", "en")  # the messages are compared in English (the CLI's default is zh)
    assert main(["serve", "--port", "0"]) == 1
    assert "'port' parameter must be an integer from 1 to 65535" in capsys.readouterr().err


def test_prepared_state_keeps_the_secret_private_and_out_of_the_config(tmp_path):
    settings = ServeSettings(port=9999, apps_dir=tmp_path / "apps", state_dir=tmp_path / "state",
                             cull_idle_timeout=600, cull_interval=30, kernel_pool=2)
    config = prepare_state(settings)
    assert config == tmp_path / "state" / CONFIG_FILE
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    secret = (tmp_path / "state" / SECRET_FILE).read_bytes()
    assert stat.S_IMODE((tmp_path / "state" / SECRET_FILE).stat().st_mode) == 0o600
    text = config.read_text()
    assert secret.decode() not in text
    for line in ("c.Voila.ip = '127.0.0.1'", "c.Voila.port = 9999", "c.Voila.port_retries = 0",
                 'identity_provider_class = "workbench.apps.identity.StoreIdentityProvider"',
                 'authorizer_class = "workbench.apps.kernels.KernelOwnerAuthorizer"',
                 "c.VoilaConfiguration.prelaunch_hook = prelaunch_hook",
                 "c.VoilaConfiguration.preheat_kernel = False", "c.VoilaConfiguration.strip_sources = True",
                 "c.VoilaConfiguration.show_tracebacks = False", "c.MappingKernelManager.cull_idle_timeout = 600",
                 "c.MappingKernelManager.cull_interval = 30", "c.OwnedKernelManager.pool_size = 2"):
        assert line in text, line
    assert (tmp_path / "apps" / "whoami.ipynb").is_file()
    assert prepare_state(settings) == config and (tmp_path / "state" / SECRET_FILE).read_bytes() == secret


def test_kernel_sockets_go_to_a_private_short_folder_or_fall_back_to_tcp(tmp_path, monkeypatch):
    import tempfile

    from workbench.apps.server import kernel_socket_dir, write_config

    settings = ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / "state")
    folder = kernel_socket_dir()
    try:
        assert folder.name.startswith("wb-serve-") and stat.S_IMODE(folder.stat().st_mode) == 0o700
        text = write_config(settings, folder).read_text()
        assert f"c.Voila.connection_dir_root = {str(folder)!r}" in text and "c.KernelManager.transport = 'ipc'" in text
    finally:
        folder.rmdir()
    text = write_config(settings).read_text()
    assert f"connection_dir_root = {str(settings.state_dir)!r}" in text and "transport = 'tcp'" in text
    monkeypatch.setattr(tempfile, "gettempdir", lambda: "/tmp/" + "x" * 60)  # a socket path there would be too long
    assert kernel_socket_dir() is None


def _app(state_dir, extra: str = ""):
    if extra:
        with open(state_dir / CONFIG_FILE, "a", encoding="utf-8") as fh:
            fh.write(extra)
    app = voila_app_class()(config_file_paths=[str(state_dir)])
    app.initialize([])
    return app


def test_the_served_app_guards_voilas_handlers(tmp_path):
    settings = ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / "state", kernel_pool=0)
    prepare_state(settings)
    app = _app(settings.state_dir)
    settings_ = app.init_settings()
    assert settings_["xsrf_cookies"] is True
    classes = {spec[1].__name__ for spec in app.init_handlers()}
    assert {"OwnedVoilaHandler", "SignedInFileHandler", "OwnerShutdownKernelHandler", "LoginHandler",
            "LogoutHandler"} <= classes
    assert not {"VoilaShutdownKernelHandler", "AllowListFileHandler", "TornadoVoilaHandler",
                "VoilaLoginHandler"} & classes


def test_an_unsafe_configuration_is_refused(tmp_path):
    settings = ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / "state", kernel_pool=0)
    prepare_state(settings)
    app = _app(settings.state_dir, "\nc.Voila.ip = '0.0.0.0'\n"
                                   "c.Voila.authorizer_class = 'jupyter_server.auth.authorizer.AllowAllAuthorizer'\n"
                                   "c.VoilaConfiguration.show_tracebacks = True\n")
    with pytest.raises(ParameterError, match=r"refuses an unsafe configuration: Voila.ip must be '127.0.0.1'.*"
                                             r"authorizer_class must be KernelOwnerAuthorizer.*tracebacks hidden"):
        app.init_settings()


# ------------------------------------------------------------------ in a browser
def _whoami(page) -> dict[str, str]:
    page.wait_for_selector(WHOAMI, state="visible", timeout=RENDER_TIMEOUT_MS)
    fields = {}
    for element in page.query_selector_all(".wb-whoami [data-field]"):
        fields[element.get_attribute("data-field")] = element.inner_text().strip()
        fields[element.get_attribute("data-field") + "_code"] = element.get_attribute("data-code")
    return fields


def _kernel_id(page) -> str:
    kid = page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", kid), kid
    return kid


def _signed_in_context(browser, apps_server, user, next_path=None):
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, apps_server.url, user.name, user.password, next_path)
    return context, page


@browser_test
def test_app_without_sign_in_redirects_to_the_login_page(apps_server, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(apps_server.app_url("whoami.ipynb"))
    assert page.url.startswith(apps_server.url + "login?next=")
    assert "whoami.ipynb" in page.url
    assert page.is_visible("#username_input") and page.is_visible("#password_input")
    assert page.title().startswith("Sign in")
    for path in ("", "voila/files/logo.png", "api/kernels/00000000-0000-0000-0000-000000000000"):
        response = context.request.get(apps_server.url + path, max_redirects=0)
        assert response.status in (302, 403), (path, response.status)
    context.close()


@browser_test
def test_wrong_password_is_refused(apps_server, browser):
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, apps_server.url, ANA.name, "not-the-password", "/voila/render/whoami.ipynb")
    assert page.url.startswith(apps_server.url + "login")
    assert page.is_visible("#login-error")
    assert page.input_value("#username_input") == ANA.name
    assert not [c for c in context.cookies() if c["name"] == "workbench-apps-session"]
    page.goto(apps_server.app_url("whoami.ipynb"))
    assert page.url.startswith(apps_server.url + "login")
    context.close()


@browser_test
def test_executor_sees_the_injected_identity_and_first_load_is_measured(apps_server, browser):
    apps_server.wait_for_log("warmed up and pooled")  # measure what a user meets on a server that is up
    context = browser.new_context()
    page = context.new_page()
    page.goto(apps_server.url + "login?next=/voila/render/whoami.ipynb")
    page.fill("#username_input", ANA.name)
    page.fill("#password_input", ANA.password)
    start = time.perf_counter()
    page.click("#login_submit")
    fields = _whoami(page)
    first_load = time.perf_counter() - start
    print(f"\nwhoami first load (sign-in click -> widget visible, warm kernel): {first_load:.2f} s")
    assert "(warm, from the pool) given to 'ana'" in apps_server.log()
    assert fields["name"] == "ana"
    assert fields["display_name"] == "阿娜"
    assert fields["role_code"] == "executor" and fields["role"] == "Executor"
    assert fields["branch_code"] == "urumqi" and fields["branch"] == "Urumqi"
    content = page.content()
    assert "signed_in_user(" not in content and "user_name =" not in content  # sources stripped
    context.close()


@browser_test
def test_crafted_url_query_does_not_change_the_identity(apps_server, browser):
    context, page = _signed_in_context(browser, apps_server, BO)
    query = "user=pm&role=province_manager&user_name=pm&user_role=province_manager&user_branch=urumqi"
    page.goto(apps_server.app_url("whoami.ipynb", query))
    fields = _whoami(page)
    assert (fields["name"], fields["role_code"], fields["branch_code"]) == ("bo", "executor", "hami")
    context.close()


@browser_test
def test_another_user_can_neither_attach_to_nor_shut_down_a_kernel(apps_server, browser):
    context_a, page_a = _signed_in_context(browser, apps_server, ANA, "/voila/render/whoami.ipynb")
    assert _whoami(page_a)["name"] == "ana"
    kid = _kernel_id(page_a)
    kernel_url = f"{apps_server.url}api/kernels/{kid}"
    context_b, page_b = _signed_in_context(browser, apps_server, BO)

    headers_b = cookie_header(context_b)
    assert context_b.request.get(kernel_url).status == 403
    assert context_b.request.delete(kernel_url, headers={"X-XSRFToken": headers_b["X-XSRFToken"]}).status == 403
    shutdown = f"{apps_server.url}voila/api/shutdown/{kid}"
    assert context_b.request.post(shutdown, headers={"X-XSRFToken": headers_b["X-XSRFToken"]}).status == 403
    assert f"refused write on kernel {kid} to 'bo'" in apps_server.log()  # the owner check refused, not XSRF

    attach = """async (url) => await new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => { ws.close(); resolve("open"); };
        ws.onerror = () => resolve("refused");
        setTimeout(() => resolve("timeout"), 20000);
    })"""
    ws_url = apps_server.url.replace("http://", "ws://") + f"api/kernels/{kid}/channels"
    assert page_b.evaluate(attach, ws_url) == "refused"
    assert f"refused execute on kernel {kid} to 'bo'" in apps_server.log()

    # the owner still has the kernel, may read it and attach to it
    model = context_a.request.get(kernel_url)
    assert model.status == 200 and model.json()["id"] == kid
    assert page_a.evaluate(attach, ws_url) == "open"
    context_b.close()
    context_a.close()


@browser_test
def test_logout_ends_the_session_and_the_old_cookie_is_refused(apps_server, browser):
    context, page = _signed_in_context(browser, apps_server, PM, "/voila/render/whoami.ipynb")
    assert _whoami(page)["role_code"] == "province_manager"
    old_cookies = context.cookies()
    page.goto(apps_server.url + "logout")
    with page.expect_navigation():
        page.click("#logout_submit")
    assert page.is_visible("#logout-title")
    assert page.is_visible("#login-again")
    page.goto(apps_server.app_url("whoami.ipynb"))
    assert page.url.startswith(apps_server.url + "login")
    context.close()

    replay = browser.new_context()
    replay.add_cookies(old_cookies)  # a copy of the signed cookie taken before signing out
    response = replay.request.get(apps_server.app_url("whoami.ipynb"), max_redirects=0)
    assert response.status == 302 and "/login" in response.headers["location"]
    replay.close()


@browser_test
def test_signing_out_ends_the_users_open_pages_and_they_say_so(apps_server, browser):
    context, page = _signed_in_context(browser, apps_server, ANA, "/voila/render/whoami.ipynb")
    assert _whoami(page)["name"] == "ana"
    kernel_url = apps_server.url + "api/kernels/" + page.evaluate(
        "JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    assert context.request.get(kernel_url).status == 200
    page.click("body")                                  # a click on a live page checks its kernel: no banner
    page.wait_for_timeout(1000)
    assert page.query_selector("#wb-connection-lost") is None
    other = context.new_page()
    other.goto(apps_server.url + "logout")             # signing out in another tab
    with other.expect_navigation():
        other.click("#logout_submit")
    page.bring_to_front()
    page.click("body")                                  # the user comes back and clicks
    banner = page.wait_for_selector("#wb-connection-lost", state="visible", timeout=30_000)
    assert "This page has expired" in banner.inner_text()
    assert f"Kernel shutdown: {kernel_url.rsplit('/', 1)[1]}" in apps_server.log()  # the kernel, not only the session
    page.click("#wb-connection-lost a")                 # reload: back to the sign-in page
    page.wait_for_url("**/login?next=**")
    context.close()


@browser_test
def test_app_kernels_talk_over_private_unix_sockets(apps_server, browser):
    context, page = _signed_in_context(browser, apps_server, ANA, "/voila/render/whoami.ipynb")
    assert _whoami(page)["name"] == "ana"
    config = (apps_server.state_dir / CONFIG_FILE).read_text()
    root = Path(re.search(r"c.Voila.connection_dir_root = '([^']+)'", config).group(1))
    connections = [json.loads(p.read_text()) for p in root.glob("voila_*/kernel-*.json")]
    assert connections and {c["transport"] for c in connections} == {"ipc"}
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert "without encryption" not in apps_server.log()  # ipykernel's warning about TCP
    context.close()


@browser_test
def test_unknown_path_gives_a_plain_error_page(apps_server, browser):
    context, page = _signed_in_context(browser, apps_server, BO)
    response = page.goto(apps_server.url + "no/such/page")
    assert response.status == 404
    assert page.is_visible("#error-title") and "404" in page.inner_text("#error-title")
    assert "Traceback" not in page.content()
    context.close()


@browser_test
def test_served_pages_ask_for_nothing_off_the_server(apps_server, browser):
    # An operator's intranet has no Internet: a page that links a CDN waits on it (Voila's own
    # pages link Font Awesome from cdn.jsdelivr.net; the workbench's page templates drop it).
    context = browser.new_context()
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    sign_in(page, apps_server.url, ANA.name, ANA.password, "/voila/render/whoami.ipynb")
    assert _whoami(page)["name"] == "ana"
    page.goto(apps_server.url + "voila/tree")             # the list of apps
    page.wait_for_load_state("load")
    page.goto(apps_server.url + "no/such/page")           # the error page
    page.goto(apps_server.url + "logout")                 # the signed-out page
    context.close()
    assert any("whoami.ipynb" in url for url in requested) and any("voila/tree" in url for url in requested)
    off_server = sorted({url for url in requested
                         if not url.startswith((apps_server.url, "data:", "blob:", "about:"))})
    assert off_server == []


@browser_test
def test_a_page_opened_eight_times_leaves_one_kernel_for_that_user_and_app(apps_server, browser):
    context, page = _signed_in_context(browser, apps_server, EVE, "/voila/render/whoami.ipynb")
    assert _whoami(page)["name"] == "eve"
    pages, kernels = [page], [_kernel_id(page)]
    for _ in range(7):                                    # new tabs of the same app, one after the other
        pages.append(context.new_page())
        pages[-1].goto(apps_server.app_url("whoami.ipynb"))
        assert _whoami(pages[-1])["name"] == "eve"
        kernels.append(_kernel_id(pages[-1]))
    assert len(set(kernels)) == 8
    alive = [k for k in kernels if context.request.get(apps_server.url + "api/kernels/" + k).status == 200]
    assert alive == [kernels[-1]]                          # the newest page took over; the others ended
    pages[0].bring_to_front()
    pages[0].click("body")
    pages[0].wait_for_selector("#wb-connection-lost", state="visible", timeout=30_000)
    context.close()


@browser_test
def test_a_full_server_says_so_in_the_users_language(apps_server, browser, tmp_path_factory):
    root = tmp_path_factory.mktemp("full")
    small = start_server(root, apps_server.store_url, args=("--max-kernels", "1", "--kernel-pool", "0"))
    try:
        first, page = _signed_in_context(browser, small, ANA, "/voila/render/whoami.ipynb")
        assert _whoami(page)["name"] == "ana"              # the one kernel the server may hold
        second = browser.new_context()
        other = second.new_page()
        sign_in(other, small.url, BO.name, BO.password)
        response = other.goto(small.app_url("whoami.ipynb"))
        assert response.status == 503 and response.headers.get("retry-after") == "60"
        assert "The server is full" in other.inner_text("#error-message")
        assert "Traceback" not in other.content()
        first.close()
        second.close()
    finally:
        stop_server(small)


def _post_sign_in(context, apps_server, name: str, password: str):
    """POST the sign-in form as a browser would (with the page's XSRF cookie and field); the raw response."""
    page = context.new_page()
    page.goto(apps_server.url + "login")
    page.close()
    xsrf = next(c["value"] for c in context.cookies() if c["name"] == "_xsrf")
    return context.request.post(apps_server.url + "login", max_redirects=0,
                                form={"_xsrf": xsrf, "name": name, "password": password})


def _audit_actions(apps_server, user: str) -> list[str]:
    path = apps_server.store_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return [a for (a,) in conn.execute("SELECT action FROM audit_log WHERE user_name = ? ORDER BY id", (user,))]


@browser_test
def test_repeated_wrong_passwords_throttle_the_account_even_for_the_right_one(apps_server, browser):
    context = browser.new_context()
    statuses = [_post_sign_in(context, apps_server, CY.name, "not-the-password").status for _ in range(10)]
    assert statuses[0] == 401 and statuses[-1] == 429
    right = _post_sign_in(context, apps_server, CY.name, CY.password)
    assert right.status == 429 and int(right.headers["retry-after"]) > 0
    assert "分钟后再试" in right.text() or "minute" in right.text()
    assert not [c for c in context.cookies() if c["name"] == "workbench-apps-session"]
    context.close()
    actions = _audit_actions(apps_server, CY.name)
    assert "login_locked" in actions and "login_throttled" in actions and "login" not in actions
    # a locked account does not lock the others signing in from the same address
    other = browser.new_context()
    response = _post_sign_in(other, apps_server, DEE.name, DEE.password)
    assert response.status == 302 and [c for c in other.cookies() if c["name"] == "workbench-apps-session"]
    other.close()


@browser_test
def test_a_get_of_logout_or_a_post_without_xsrf_signs_nobody_out(apps_server, browser):
    context, page = _signed_in_context(browser, apps_server, BO, "/voila/render/whoami.ipynb")
    assert _whoami(page)["name"] == "bo"
    assert context.request.get(apps_server.url + "logout").status == 200    # e.g. <img src=".../logout">
    assert context.request.post(apps_server.url + "logout", max_redirects=0).status == 403   # no XSRF token
    response = context.request.get(apps_server.app_url("whoami.ipynb"), max_redirects=0)
    assert response.status == 200                                           # still signed in
    assert response.headers.get("server") is None                           # no versions named
    context.close()


@browser_test
def test_signing_out_everywhere_ends_the_users_other_session(apps_server, browser):
    first, page = _signed_in_context(browser, apps_server, DEE, "/voila/render/whoami.ipynb")
    second, other = _signed_in_context(browser, apps_server, DEE, "/voila/render/whoami.ipynb")
    assert _whoami(other)["name"] == "dee"
    page.goto(apps_server.url + "logout")
    page.check("#logout-all")
    with page.expect_navigation():
        page.click("#logout_submit")
    response = second.request.get(apps_server.app_url("whoami.ipynb"), max_redirects=0)
    assert response.status == 302 and "/login" in response.headers["location"]
    first.close()
    second.close()


@browser_test
def test_passwords_are_stored_only_as_argon2_hashes(apps_server):
    path = apps_server.store_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        hashes = dict(conn.execute("SELECT name, password_hash FROM users").fetchall())
    assert set(hashes) == {u.name for u in (ANA, BO, PM, CY, DEE, EVE)}
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    raw = b"".join(p.read_bytes() for p in Path(path).parent.glob(Path(path).name + "*"))  # with -wal, -shm
    assert b"$argon2id$" in raw
    for user in (ANA, BO, PM, CY, DEE):
        assert user.password.encode() not in raw


# ---------------------------------------------------------------- the server's kernel clients
class _Socket:
    """A socket whose poll reports a message only at the third look (a missed wake-up before)."""

    def __init__(self, ready_at: int | None):
        self.polls: list[int | None] = []
        self.ready_at = ready_at

    async def poll(self, timeout_ms=None):
        self.polls.append(timeout_ms)
        return 1 if self.ready_at is not None and len(self.polls) >= self.ready_at else 0


class _Channel:
    def __init__(self, socket):
        self.socket = socket

    async def _recv(self):
        return {"msg_type": "execute_reply"}


def _run(coro):
    """Run a coroutine on its own loop in a thread (Playwright's loop may be running in this one)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_kernel_client_waits_are_sliced_so_a_missed_wake_up_recovers():
    from queue import Empty

    from jupyter_client.channels import AsyncZMQSocketChannel

    from workbench.apps.server import POLL_SLICE_S, slice_kernel_client_polls

    slice_kernel_client_polls()
    slice_kernel_client_polls()  # applied once
    assert AsyncZMQSocketChannel.get_msg._workbench_sliced is True
    socket = _Socket(ready_at=3)
    msg = _run(AsyncZMQSocketChannel.get_msg(_Channel(socket), timeout=None))
    assert msg == {"msg_type": "execute_reply"}
    assert socket.polls == [int(POLL_SLICE_S * 1000)] * 3  # never one endless poll
    never = _Socket(ready_at=None)
    with pytest.raises(Empty):
        _run(AsyncZMQSocketChannel.get_msg(_Channel(never), timeout=0.01))
    assert all(p is not None and p <= 10 for p in never.polls)
