"""Sign-in without a browser: the secret file, the cookie's bounds, the store check, pages, kernel ownership."""
from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from types import SimpleNamespace

import pytest
from tornado import web
from tornado.web import create_signed_value, decode_signed_value

from workbench.apps.identity import (
    COOKIE_NAME, MAX_PASSWORD_LENGTH, LoginHandler, LogoutHandler, StoreIdentityProvider, WorkbenchUser,
    load_or_create_secret, safe_next_url,
)
from workbench.apps.kernels import KernelOwnerAuthorizer, OwnedKernelManager, kernel_owner
from workbench.apps.pages import render_error, render_login, render_logout
from workbench.errors import ParameterError
from workbench.store import SYSTEM_USER, PasswordPolicy, Store, User

SECRET = b"0123456789abcdef0123456789abcdef-test"


class FakeHandler:
    """What the identity provider uses of a tornado handler, with real signed cookies."""

    base_url = "/"

    def __init__(self, cookies=None, secret=SECRET):
        self.secret = secret
        self.cookies = dict(cookies or {})
        self.set_cookies: dict[str, tuple] = {}
        self.cleared: list[str] = []
        self.request = SimpleNamespace(protocol="http", host="127.0.0.1:8866")

    def set_secure_cookie(self, name, value, expires_days=30, **options):
        signed = create_signed_value(self.secret, name, value).decode()
        self.set_cookies[name] = (signed, expires_days, options)
        self.cookies[name] = signed

    def get_secure_cookie(self, name, value=None, max_age_days=31, min_version=None):
        raw = self.cookies.get(name)
        return decode_signed_value(self.secret, name, raw, max_age_days=max_age_days) if raw else None

    def get_cookie(self, name, default=None):
        return self.cookies.get(name, default)

    def clear_cookie(self, name, **options):
        self.cleared.append(name)
        self.cookies.pop(name, None)


def signed_cookie(payload: dict, secret=SECRET) -> dict[str, str]:
    return {COOKIE_NAME: create_signed_value(secret, COOKIE_NAME, json.dumps(payload)).decode()}


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('identity') / 'store.sqlite'}"
    with Store(url, password_policy=PasswordPolicy.fast_for_tests(), progress=False) as store:
        store.add_user(SYSTEM_USER, "ana", "executor", password="ana-password-1", branch_id="urumqi",
                       display_name="阿娜")
        store.add_user(SYSTEM_USER, "pm", "province_manager", password="pm-password-12")
        store.add_user(SYSTEM_USER, "gone", "executor", password="gone-password", branch_id="hami")
        store.set_active(SYSTEM_USER, "gone", False)
    return url


@pytest.fixture
def provider(store_url):
    p = StoreIdentityProvider(store_url=store_url, fast_passwords=True, cookie_max_age_hours=2.0,
                              user_cache_seconds=0.0)
    yield p
    if p._store is not None:
        p.store.close()


def run(coro):
    return asyncio.run(coro)


def stored_cookie(provider, payload: dict, secret=SECRET) -> dict[str, str]:
    """A signed cookie whose session id is a session of the store (as a sign-in makes one)."""
    import datetime as dt

    if "sid" in payload and "u" in payload:
        provider.store.open_session(payload["sid"], payload["u"], lifetime=dt.timedelta(hours=2))
    return signed_cookie(payload, secret)


# ------------------------------------------------------------------ the secret
def test_secret_is_made_private_and_kept_across_restarts(tmp_path):
    path = tmp_path / "state" / "cookie_secret"
    first = load_or_create_secret(path)
    assert len(first) >= 32
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_or_create_secret(path) == first


def test_secret_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "cookie_secret"
    load_or_create_secret(path)
    os.chmod(path, 0o644)
    with pytest.raises(ParameterError, match=r"owner only \(mode 600\)\. Got mode 644"):
        load_or_create_secret(path)


def test_short_secret_is_refused(tmp_path):
    path = tmp_path / "cookie_secret"
    path.write_bytes(b"short")
    os.chmod(path, 0o600)
    with pytest.raises(ParameterError, match="at least 32 bytes. Got 5"):
        load_or_create_secret(path)


# ------------------------------------------------------------------ redirects
@pytest.mark.parametrize("given, expected", [
    ("/voila/render/whoami.ipynb?x=1", "/voila/render/whoami.ipynb?x=1"),
    (None, "/"), ("", "/"), ("https://evil.example/", "/"), ("//evil.example/x", "/"),
    ("/\\evil.example", "/"), ("javascript:alert(1)", "/"), ("relative/path", "/"), ("/a\nb", "/"),
])
def test_next_url_stays_on_this_server(given, expected):
    assert safe_next_url(given, "/") == expected


# ------------------------------------------------------------------ sign-in
def test_right_password_gives_the_store_user_with_role_and_branch(provider):
    user = run(provider.authenticate("ana", "ana-password-1"))
    assert isinstance(user, WorkbenchUser)
    assert (user.username, user.role, user.branch_id, user.display_name) == ("ana", "executor", "urumqi", "阿娜")
    assert user.to_store_user() == User("ana", "executor", "urumqi", "阿娜")


@pytest.mark.parametrize("name, password", [
    ("ana", "wrong-password"), ("nobody", "ana-password-1"), ("gone", "gone-password"), ("", "x"), ("ana", ""),
    ("ana", "x" * (MAX_PASSWORD_LENGTH + 1)),
])
def test_wrong_unknown_or_deactivated_sign_in_is_refused(provider, name, password):
    assert run(provider.authenticate(name, password)) is None


def test_shared_token_is_never_accepted(store_url):
    p = StoreIdentityProvider(store_url=store_url, token="shared-secret-token")
    assert p.token == ""
    assert p.cookie_name == COOKIE_NAME


def test_non_positive_lifetime_is_refused(store_url):
    with pytest.raises(ParameterError, match="'cookie_max_age_hours' parameter must be a positive number"):
        StoreIdentityProvider(store_url=store_url, cookie_max_age_hours=0)


def test_handlers_are_the_workbench_pages_whatever_login_class_is_passed(store_url):
    from voila.voila_identity_provider import VoilaLoginHandler

    p = StoreIdentityProvider(store_url=store_url, login_handler_class=VoilaLoginHandler)
    assert dict(p.get_handlers()) == {"/login": LoginHandler, "/logout": LogoutHandler}


# ------------------------------------------------------------------ the cookie
def test_cookie_holds_only_name_time_and_session_id_and_expires_with_the_sign_in(provider):
    handler = FakeHandler()
    provider.set_login_cookie(handler, WorkbenchUser(username="ana", role="executor", branch_id="urumqi"))
    signed, expires_days, options = handler.set_cookies[COOKIE_NAME]
    assert expires_days == pytest.approx(2.0 / 24)
    assert options["httponly"] is True and options["samesite"] == "Lax" and options["path"] == "/"
    payload = json.loads(decode_signed_value(SECRET, COOKIE_NAME, signed))
    assert set(payload) == {"u", "iat", "sid"} and payload["u"] == "ana"
    assert abs(payload["iat"] - time.time()) < 5


def test_valid_cookie_gives_the_user_as_the_store_knows_them(provider):
    handler = FakeHandler(stored_cookie(provider, {"u": "ana", "iat": time.time(), "sid": "s1", "role": "admin"}))
    user = run(provider.get_user(handler))
    assert (user.username, user.role, user.branch_id) == ("ana", "executor", "urumqi")  # not the cookie's 'role'


@pytest.mark.parametrize("payload", [
    {"u": "ana", "iat": time.time() - 2 * 3600 - 1, "sid": "old"},       # older than the sign-in's life
    {"u": "ana", "iat": time.time() + 3600, "sid": "future"},            # issued in the future
    {"u": "gone", "iat": time.time(), "sid": "s2"},                      # deactivated user
    {"u": "nobody", "iat": time.time(), "sid": "s3"},                    # unknown user
    {"u": "ana", "iat": time.time()},                                    # malformed
    {"u": "ana", "iat": time.time(), "sid": "never-signed-in", "unstored": True},  # no session in the store
])
def test_expired_future_or_unknown_cookie_is_refused_and_cleared(provider, payload):
    payload = dict(payload)
    cookie = signed_cookie if payload.pop("unstored", False) else (lambda p: stored_cookie(provider, p))
    handler = FakeHandler(cookie(payload))
    assert run(provider.get_user(handler)) is None
    assert handler.cleared == [COOKIE_NAME]


def test_cookie_signed_with_another_secret_or_tampered_is_refused(provider):
    forged = FakeHandler(signed_cookie({"u": "pm", "iat": time.time(), "sid": "x"}, secret=b"another" * 6))
    assert run(provider.get_user(forged)) is None
    good = stored_cookie(provider, {"u": "ana", "iat": time.time(), "sid": "x"})[COOKIE_NAME]
    parts = good.split("|")  # 2|1:0|10:<time>|<name>|<len>:<base64 value>|<signature>
    value = base64.b64encode(json.dumps({"u": "pm", "iat": time.time(), "sid": "x"}).encode()).decode()
    parts[4] = f"{len(value)}:{value}"
    tampered = FakeHandler({COOKIE_NAME: "|".join(parts)})
    assert run(provider.get_user(tampered)) is None
    assert run(provider.get_user(FakeHandler({COOKIE_NAME: good}))).username == "ana"  # the untouched one works


def test_signed_out_session_is_refused_but_a_new_one_works(provider):
    cookies = stored_cookie(provider, {"u": "ana", "iat": time.time(), "sid": "to-revoke"})
    session = provider.read_session(FakeHandler(cookies))
    assert session is not None and session.name == "ana"
    provider.revoke(session)
    assert run(provider.get_user(FakeHandler(cookies))) is None
    fresh = stored_cookie(provider, {"u": "ana", "iat": time.time(), "sid": "another"})
    assert run(provider.get_user(FakeHandler(fresh))).username == "ana"


def test_revocation_is_kept_in_the_store_and_holds_for_a_new_server(store_url, provider):
    cookies = stored_cookie(provider, {"u": "ana", "iat": time.time(), "sid": "before-restart"})
    other = stored_cookie(provider, {"u": "ana", "iat": time.time(), "sid": "second-pc"})
    assert run(provider.get_user(FakeHandler(other))).username == "ana"
    provider.revoke(provider.read_session(FakeHandler(cookies)), all_sessions=True)
    restarted = StoreIdentityProvider(store_url=store_url, fast_passwords=True, cookie_max_age_hours=2.0,
                                      user_cache_seconds=0.0)
    try:
        assert run(restarted.get_user(FakeHandler(cookies))) is None
        assert run(restarted.get_user(FakeHandler(other))) is None      # every session of the user ended
    finally:
        restarted.store.close()


def test_deactivation_signs_the_user_out_at_the_next_refresh(store_url, provider):
    with Store(store_url, password_policy=PasswordPolicy.fast_for_tests(), progress=False) as store:
        store.add_user(SYSTEM_USER, "temp", "executor", password="temp-password", branch_id="hami")
        cookies = stored_cookie(provider, {"u": "temp", "iat": time.time(), "sid": "t"})
        assert run(provider.get_user(FakeHandler(cookies))).username == "temp"
        store.set_active(SYSTEM_USER, "temp", False)
    assert run(provider.get_user(FakeHandler(cookies))) is None


# ------------------------------------------------------------------ pages
def test_login_page_has_a_user_name_field_and_escapes_what_it_echoes():
    page = render_login(next_url="/voila/render/x.ipynb", error="failed", name='<script>"x"</script>',
                        xsrf_form_html='<input type="hidden" name="_xsrf" value="t">', lang="en")
    assert 'id="username_input" name="name"' in page and 'type="password"' in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'name="_xsrf" value="t"' in page and 'value="/voila/render/x.ipynb"' in page
    assert "Wrong user name or password" in page
    assert "用户名" in render_login(next_url="/", lang="zh")


def test_logout_and_error_pages_render_in_both_languages():
    assert 'href="/login"' in render_logout(lang="en") and "已退出" in render_logout(lang="zh")
    assert "Page not found (404)" in render_error(404, lang="en") and "does not exist" in render_error(404, lang="en")
    assert "找不到" in render_error(404, lang="zh")
    assert "500 Internal Server Error" in render_error(500, lang="en")


# ------------------------------------------------------------------ kernel ownership
class FakeKernels:
    def __init__(self, owners):
        self.owners = owners

    def kernel_owner(self, kernel_id):
        return self.owners.get(kernel_id)


def _handler(kernel_id=None, owners=None):
    return SimpleNamespace(path_kwargs={"kernel_id": kernel_id} if kernel_id else {},
                           kernel_manager=FakeKernels(owners or {}))


@pytest.mark.parametrize("user, kernel, resource, allowed", [
    ("ana", "k-ana", "kernels", True),
    ("bo", "k-ana", "kernels", False),
    ("bo", "k-unknown", "kernels", False),
    ("bo", None, "kernels", False),
    ("bo", None, "contents", True),
    (None, None, "contents", False),
])
def test_only_the_owner_may_act_on_a_kernel(user, kernel, resource, allowed):
    authorizer = KernelOwnerAuthorizer()
    who = WorkbenchUser(username=user) if user else None
    handler = _handler(kernel, {"k-ana": "ana"})
    for action in ("read", "write", "execute"):
        assert authorizer.is_authorized(handler, who, action, resource) is allowed


def test_no_kernel_is_started_without_an_owner():
    manager = OwnedKernelManager()
    with pytest.raises(web.HTTPError) as exc:
        run(manager.start_kernel(kernel_name="python3"))
    assert exc.value.status_code == 403
    assert manager.list_kernel_ids() == []
    with pytest.raises(web.HTTPError, match="signed-in user"):
        with kernel_owner(""):
            pass


@pytest.mark.kernel
def test_pooled_kernel_is_owned_by_the_user_who_takes_it(tmp_path):
    async def scenario():
        manager = OwnedKernelManager(root_dir=str(tmp_path), pool_size=1, pool_preload="import json")
        try:
            await manager.fill_pool()
            (pooled,) = manager.pooled_kernels
            assert manager.kernel_owner(pooled) is None  # waiting in the pool: reachable by nobody
            with kernel_owner("ana"):
                taken = await manager.start_kernel(kernel_name="python3", path="")
            assert taken == pooled
            assert manager.kernel_owner(taken) == "ana" and manager.kernels_of("ana") == [taken]
            await manager.fill_pool()  # the refill started by the take
            assert len(manager.pooled_kernels) == 1 and manager.pooled_kernels[0] != taken
            await manager.shutdown_kernel(taken, now=True)
            assert manager.kernel_owner(taken) is None and manager.kernels_of("ana") == []
        finally:
            await manager.shutdown_all(now=True)

    run(scenario())


def test_default_preload_skips_missing_modules_and_leaves_no_names():
    from workbench.apps import kernels

    code = kernels.DEFAULT_PRELOAD.replace(repr(kernels.PRELOAD_MODULES),
                                           repr(("json", "no_such_module_for_the_test")))
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 (the package's own code)
    assert set(namespace) == {"__builtins__"}


# ------------------------------------------------------------------ kernel caps
def _manager_with(kernels: dict[str, tuple[str, str]], **caps):
    from workbench.apps.kernels import OwnedKernelManager

    manager = OwnedKernelManager(**caps)
    for kid, (owner, app) in kernels.items():
        manager._kernels[kid] = object()
        manager._owners[kid] = owner
        manager._apps[kid] = app
    ended = []

    async def shutdown_kernel(kid, now=False, restart=False):
        ended.append(kid)
        manager._kernels.pop(kid, None)
        manager.remove_kernel(kid)

    manager.shutdown_kernel = shutdown_kernel
    return manager, ended


def test_a_new_page_of_an_app_takes_over_the_users_kernel_of_that_app_only():
    manager, ended = _manager_with({"k1": ("ana", "a.ipynb"), "k2": ("ana", "b.ipynb"), "k3": ("bo", "a.ipynb")})
    run(manager._make_room("ana", "a.ipynb"))
    assert ended == ["k1"]
    assert manager.kernels_of("ana") == ["k2"] and manager.kernels_of("bo") == ["k3"]


def test_kernel_caps_per_user_and_per_server_refuse_with_their_reason():
    from workbench.apps.kernels import KernelLimitError

    manager, ended = _manager_with({"k1": ("ana", "a.ipynb"), "k2": ("ana", "b.ipynb")}, max_kernels_per_user=2)
    with pytest.raises(KernelLimitError) as info:
        run(manager._make_room("ana", "c.ipynb"))
    assert (info.value.status_code, info.value.reason_code) == (429, "user_kernels") and ended == []
    run(manager._make_room("ana", "b.ipynb"))          # the same app again: taken over, not refused
    assert ended == ["k2"]
    full, _ = _manager_with({"k1": ("ana", "a.ipynb"), "k2": ("bo", "a.ipynb")}, max_kernels=2)
    with pytest.raises(KernelLimitError) as info:
        run(full._make_room("cy", "a.ipynb"))
    assert (info.value.status_code, info.value.reason_code) == (503, "server_kernels")


def test_the_server_full_page_is_localized():
    assert "服务器当前已满" in render_error(503, lang="zh", reason="server_kernels")
    assert "too many app pages open" in render_error(429, lang="en", reason="user_kernels")
