"""Who is signed in: name + password against the campaign store, a signed cookie with a bounded life.

:class:`StoreIdentityProvider` is the Jupyter Server 2 ``IdentityProvider`` of
``workbench serve`` (configured as ``Voila.identity_provider_class``; the
``ServerApp.`` spelling is ignored by standalone Voila).  It

- shows its own sign-in page with a user-name field (:class:`LoginHandler`),
  checks the name and password with :meth:`workbench.store.Store.authenticate`
  (argon2; success and failure are in the store's audit log) in a worker thread
  so the server keeps serving while a hash is checked;
- throttles sign-in per account and per client address in the store
  (:class:`workbench.store.sessions.ThrottlePolicy`): after repeated failures
  the page answers HTTP 429 with ``Retry-After`` - even for the right password -
  without checking any password; failures and lock-outs are audited;
- keeps the session in a **signed cookie** holding the user name, the time of
  sign-in and a random session id that is a row of the store's ``app_sessions``.
  The cookie expires after ``cookie_max_age_hours`` both in the browser and on
  the server (the issue time is checked on every request), and a session ended
  in the store is refused within ``session_check_seconds`` on every server;
- reads the user's role and branch from the store, not from the cookie (cached
  for ``user_cache_seconds``), so a deactivated user is signed out within that
  time and a changed role takes effect;
- signs out with :class:`LogoutHandler`: a POST with the XSRF token (a GET only
  shows the sign-out form, so no other page can sign a user out), ending this
  session or all of the user's sessions in the store (it survives a restart),
  clearing the cookie and shutting the user's app kernels down.

The cookie secret is kept in a file outside every served folder
(:func:`load_or_create_secret`), so sign-ins survive a restart of the server.
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import IdentityProvider
from jupyter_server.auth.identity import User as JupyterUser
from jupyter_server.base.handlers import JupyterHandler
from tornado import web
from traitlets import Bool, Float, Integer, Unicode, default

from workbench.apps.pages import ErrorPageMixin, render_login, render_logout, render_logout_form
from workbench.errors import ParameterError
from workbench.i18n import LANGUAGES
from workbench.store.access import SYSTEM_USER, User
from workbench.store.sessions import ThrottlePolicy, account_key, client_key

__all__ = [
    "WorkbenchUser",
    "Session",
    "StoreIdentityProvider",
    "LoginHandler",
    "LogoutHandler",
    "NotFoundHandler",
    "load_or_create_secret",
    "safe_next_url",
    "COOKIE_NAME",
    "DEFAULT_COOKIE_HOURS",
    "SECRET_BYTES",
    "MAX_NAME_LENGTH",
    "MAX_PASSWORD_LENGTH",
]

#: Name of the session cookie.
COOKIE_NAME = "workbench-apps-session"
#: How long a sign-in lasts by default (a working day).
DEFAULT_COOKIE_HOURS = 8.0
#: Random bytes of a new cookie secret.
SECRET_BYTES = 32
#: Longest user name and password the sign-in form accepts (bounds the work of one attempt).
MAX_NAME_LENGTH = 64
MAX_PASSWORD_LENGTH = 1024
#: A cookie issued this far in the future (clock change) is still accepted.
_CLOCK_SKEW_S = 300.0


@dataclass
class WorkbenchUser(JupyterUser):
    """The signed-in user as the server knows it: Jupyter's ``User`` plus role, branch and language.

    ``username`` is the store's user name; ``role``, ``branch_id`` and ``language``
    (the user's own choice, None for the server's) come from the store's ``users``
    table at the time of the request.
    """

    role: str = ""
    branch_id: str | None = None
    language: str | None = None

    def to_store_user(self) -> User:
        """The same person as a :class:`workbench.store.User` (what store calls take)."""
        display = self.display_name if self.display_name != self.username else ""
        return User(self.username, self.role, self.branch_id, display)


@dataclass(frozen=True)
class Session:
    """What the session cookie holds: who, since when (Unix seconds), and a random id."""

    name: str
    issued_at: float
    session_id: str


def load_or_create_secret(path: str | os.PathLike) -> bytes:
    """The cookie secret kept in ``path``; made (random, owner-only) when the file does not exist.

    Keep ``path`` outside every folder the server serves.

    Raises
    ------
    ParameterError
        When the file exists but holds fewer than 32 bytes, or is readable by other users.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_hex(SECRET_BYTES).encode("ascii"))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ParameterError(
            f"The cookie secret {str(path)!r} must be readable by its owner only (mode 600). "
            f"Got mode {mode:o}; run `chmod 600 {path}`."
        )
    secret = path.read_bytes().strip()
    if len(secret) < SECRET_BYTES:
        raise ParameterError(
            f"The cookie secret {str(path)!r} must hold at least {SECRET_BYTES} bytes. Got {len(secret)}; "
            "delete the file to make a new one (everybody then signs in again)."
        )
    return secret


def safe_next_url(next_url: str | None, base_url: str = "/") -> str:
    """``next_url`` when it is a path on this server, else ``base_url`` (no open redirects)."""
    if not next_url or not isinstance(next_url, str):
        return base_url
    parsed = urlparse(next_url)
    if (parsed.scheme or parsed.netloc or not next_url.startswith("/") or next_url.startswith("//")
            or "\\" in next_url or any(ord(ch) < 32 for ch in next_url)):
        return base_url
    return next_url


class StoreIdentityProvider(IdentityProvider):
    """Sign-in with name and password checked against the campaign store (see the module docstring)."""

    store_url = Unicode(
        None, allow_none=True, config=True,
        help="Campaign store URL; default $WORKBENCH_STORE_URL or sqlite:///runs/store.sqlite.",
    )
    cookie_max_age_hours = Float(
        DEFAULT_COOKIE_HOURS, config=True,
        help="Hours a sign-in lasts; the browser drops the cookie and the server refuses it after that.",
    )
    user_cache_seconds = Float(
        30.0, config=True,
        help="Seconds the users' roles and branches are cached; a deactivated user is out within this time.",
    )
    session_check_seconds = Float(
        5.0, config=True,
        help="Seconds a session found valid in the store is trusted before it is checked again; a sign-out on "
             "another server takes effect within this time.",
    )
    throttle_account_limit = Integer(
        ThrottlePolicy.account_limit, config=True,
        help="Failed sign-ins of one account (within 15 minutes) that lock it for a while (HTTP 429).",
    )
    throttle_client_limit = Integer(
        ThrottlePolicy.client_limit, config=True,
        help="Failed sign-ins from one client address (within 15 minutes) that lock it for a while (HTTP 429).",
    )
    fast_passwords = Bool(
        False, config=True,
        help="Hash passwords with minimal argon2 cost (tests only; never in production).",
    )

    @default("cookie_name")
    def _cookie_name_default(self):
        return COOKIE_NAME

    @default("token")
    def _token_default(self):
        return ""  # no shared token: only named users sign in

    def __init__(self, **kwargs):
        kwargs["token"] = ""  # Voila passes token="" or a token; a shared token would bypass the users
        super().__init__(**kwargs)
        if self.cookie_max_age_hours <= 0:
            raise ParameterError.invalid("cookie_max_age_hours", "a positive number of hours",
                                         self.cookie_max_age_hours)
        self._store = None
        self._users: dict[str, WorkbenchUser] = {}
        self._users_loaded_at = float("-inf")
        self._users_lock: asyncio.Lock | None = None
        self._checked: dict[str, float] = {}   # session id -> monotonic time it was last found valid
        self.throttle = ThrottlePolicy(account_limit=self.throttle_account_limit,
                                       client_limit=self.throttle_client_limit)

    # ------------------------------------------------------------ the store
    @property
    def store(self):
        """The campaign store (opened, and migrated, on first use)."""
        if self._store is None:
            from workbench.store import PasswordPolicy, Store

            policy = PasswordPolicy.fast_for_tests() if self.fast_passwords else None
            self._store = Store(self.store_url or None, password_policy=policy, progress=False)
        return self._store

    @property
    def max_age_seconds(self) -> float:
        """Lifetime of a sign-in, in seconds."""
        return self.cookie_max_age_hours * 3600.0

    def _load_users(self) -> dict[str, WorkbenchUser]:
        frame = self.store.list_users(SYSTEM_USER)
        users = {}
        for row in frame.itertuples(index=False):
            if not bool(row.active):
                continue
            display = row.display_name or row.name
            branch = row.branch_id if isinstance(row.branch_id, str) and row.branch_id else None
            language = getattr(row, "language", None)
            users[row.name] = WorkbenchUser(username=row.name, name=display, display_name=display,
                                            role=row.role, branch_id=branch,
                                            language=language if language in LANGUAGES else None)
        return users

    def _users_stale(self) -> bool:
        return time.monotonic() - self._users_loaded_at > self.user_cache_seconds

    async def refresh_users(self, *, only_if_stale: bool = False) -> None:
        """Reload the active users from the store (in a worker thread).

        With ``only_if_stale``, requests that queued behind another reload do not reload again.
        """
        if self._users_lock is None:
            self._users_lock = asyncio.Lock()
        async with self._users_lock:
            if only_if_stale and not self._users_stale():
                return
            loop = asyncio.get_running_loop()
            self._users = await loop.run_in_executor(None, self._load_users)
            self._users_loaded_at = time.monotonic()

    async def lookup_user(self, name: str) -> WorkbenchUser | None:
        """The active user ``name`` as the store knows them (cached), or None."""
        if self._users_stale():
            await self.refresh_users(only_if_stale=True)
        return self._users.get(name)

    async def authenticate(self, name: str, password: str) -> WorkbenchUser | None:
        """Check a name and password with the store (argon2 in a worker thread); the user or None."""
        if not name or not password or len(name) > MAX_NAME_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
            return None
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, self.store.authenticate, name, password)
        if found is None:
            return None
        await self.refresh_users()  # a user created a moment ago is known at once
        return self._users.get(found.name)

    # ------------------------------------------------------------ the cookie
    def user_to_cookie(self, user: JupyterUser, session_id: str | None = None) -> str:
        """The cookie's content: user name, issue time and the session id (a fresh random one by default)."""
        return json.dumps({"u": user.username, "iat": time.time(), "sid": session_id or secrets.token_urlsafe(18)})

    def user_from_cookie(self, cookie_value: str) -> Session | None:
        """The :class:`Session` of a cookie's (already signature-checked) content, or None."""
        try:
            data = json.loads(cookie_value)
            session = Session(str(data["u"]), float(data["iat"]), str(data["sid"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.name and session.session_id else None

    async def start_session(self, user: JupyterUser, client: str) -> str:
        """Record a new session of ``user`` in the store; its id (what the cookie carries)."""
        import datetime as dt

        session_id = secrets.token_urlsafe(18)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.store.open_session(session_id, user.username, client=client,
                                                  lifetime=dt.timedelta(seconds=self.max_age_seconds)))
        return session_id

    def set_login_cookie(self, handler: web.RequestHandler, user: JupyterUser, session_id: str | None = None) -> None:
        """Set the signed session cookie: HTTP-only, SameSite=Lax, expiring with the sign-in."""
        options = {"httponly": True, "samesite": "Lax", "path": handler.base_url}
        options.update(self.cookie_options)
        options.pop("expires", None)
        options.pop("max_age", None)
        options["expires_days"] = self.cookie_max_age_hours / 24.0  # never longer than the sign-in
        secure = self.secure_cookie
        if secure is None:
            secure = handler.request.protocol == "https"
        if secure:
            options["secure"] = True
        handler.set_secure_cookie(self.get_cookie_name(handler), self.user_to_cookie(user, session_id), **options)

    def read_session(self, handler: web.RequestHandler) -> Session | None:
        """The request's valid session: signature, age and the store's record checked; else None."""
        raw = handler.get_secure_cookie(self.get_cookie_name(handler),
                                        max_age_days=(self.max_age_seconds + _CLOCK_SKEW_S) / 86400.0)
        if not raw:
            return None
        session = self.user_from_cookie(raw.decode("utf-8", "replace"))
        if session is None:
            return None
        now = time.time()
        if session.issued_at > now + _CLOCK_SKEW_S or now - session.issued_at > self.max_age_seconds:
            return None
        checked = self._checked.get(session.session_id)
        if checked is not None and time.monotonic() - checked <= self.session_check_seconds:
            return session
        if not self.store.session_valid(session.session_id, session.name):
            self._checked.pop(session.session_id, None)
            return None
        if len(self._checked) > 10_000:  # bounded: forget the oldest checks
            self._checked = dict(sorted(self._checked.items(), key=lambda kv: kv[1])[-5_000:])
        self._checked[session.session_id] = time.monotonic()
        return session

    def revoke(self, session: Session, *, all_sessions: bool = False) -> int:
        """End ``session`` (or every session of its user) in the store; how many sessions were ended."""
        self._checked.pop(session.session_id, None)
        if all_sessions:
            self._checked.clear()  # other sessions of the user on this server are re-checked at once
            return self.store.revoke_sessions_of(session.name, actor=session.name)
        return self.store.revoke_session(session.session_id, actor=session.name)

    def clear_login_cookie(self, handler: web.RequestHandler) -> None:
        """Delete the session cookie in the browser."""
        handler.clear_cookie(self.get_cookie_name(handler), path=handler.base_url)

    async def get_user(self, handler: web.RequestHandler) -> WorkbenchUser | None:
        """The signed-in user of a request, or None (the cookie is then cleared if one was sent)."""
        known = getattr(handler, "_jupyter_current_user", None)
        if known:
            return known
        session = self.read_session(handler)
        user = await self.lookup_user(session.name) if session is not None else None
        if user is None and handler.get_cookie(self.get_cookie_name(handler)) is not None:
            self.clear_login_cookie(handler)
        return user

    # ------------------------------------------------------------ handlers
    def get_handlers(self) -> list[tuple[str, object]]:
        """Sign-in and sign-out pages (whatever login handler class Voila passes in)."""
        return [(r"/login", LoginHandler), (r"/logout", LogoutHandler)]

    @property
    def login_available(self) -> bool:
        return True


class LoginHandler(ErrorPageMixin, JupyterHandler):
    """``/login``: the sign-in form (user name and password) and its check."""

    @property
    def provider(self) -> StoreIdentityProvider:
        return self.identity_provider

    def _next(self) -> str:
        return safe_next_url(self.get_argument("next", default=None), self.base_url)

    def _form(self, *, error: str | None = None, name: str = "", status: int = 200, **error_args) -> None:
        from workbench.apps.portal import LANGUAGE_COOKIE

        chosen = self.get_cookie(LANGUAGE_COOKIE)  # the language last used in this browser, else the server's
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        self.finish(render_login(next_url=self._next(), error=error, name=name, base_url=self.base_url,
                                 xsrf_form_html=self.xsrf_form_html(), error_args=error_args,
                                 lang=chosen if chosen in LANGUAGES else None))

    @allow_unauthenticated
    def get(self) -> None:
        if self.current_user:
            self.redirect(self._next())
            return
        self._form()

    @allow_unauthenticated
    async def post(self) -> None:
        name = self.get_body_argument("name", default="").strip()
        password = self.get_body_argument("password", default="")
        if not name or not password:
            self._form(error="missing", name=name[:MAX_NAME_LENGTH], status=400)
            return
        provider = self.provider
        store = provider.store
        client = str(self.request.remote_ip or "-")
        keys = [account_key(name), client_key(client)]
        loop = asyncio.get_running_loop()
        wait = await loop.run_in_executor(None, store.sign_in_wait, keys)
        if wait > 0:  # locked: no password is checked at all
            await loop.run_in_executor(None, lambda: store.sign_in_refused(keys, name=name, client=client, wait=wait))
            self._throttled(wait, name)
            return
        user = await provider.authenticate(name, password)
        if user is None:
            self.log.warning("sign-in refused for %r from %s", name[:MAX_NAME_LENGTH], client)
            locked = await loop.run_in_executor(
                None, lambda: store.sign_in_failed(keys, policy=provider.throttle, name=name, client=client))
            if locked > 0:
                self._throttled(locked, name)
                return
            self._form(error="failed", name=name[:MAX_NAME_LENGTH], status=401)
            return
        await loop.run_in_executor(None, store.sign_in_succeeded, user.username)
        session_id = await provider.start_session(user, client)
        provider.set_login_cookie(self, user, session_id)
        self.log.info("signed in: %s (%s)", user.username, user.role)
        self.redirect(self._next())

    def _throttled(self, wait: float, name: str) -> None:
        """HTTP 429 with ``Retry-After`` and the form saying how long to wait."""
        seconds = max(1, math.ceil(wait))
        self.set_header("Retry-After", str(seconds))
        self._form(error="throttled", name=name[:MAX_NAME_LENGTH], status=429,
                   minutes=max(1, math.ceil(seconds / 60)))


class LogoutHandler(ErrorPageMixin, JupyterHandler):
    """``/logout``: end the session (cookie cleared, its id refused), shut down the user's app kernels, say so.

    Ending the kernels ends every page the user still has open (in other tabs,
    or left on a shared branch PC): such a page then shows its connection-lost
    banner instead of accepting clicks that nobody signed in could make.
    """

    async def _end_kernels_of(self, name: str) -> None:
        from jupyter_core.utils import ensure_async

        from workbench.apps.kernels import OwnedKernelManager

        manager = self.settings.get("kernel_manager")
        if not isinstance(manager, OwnedKernelManager):
            return
        for kernel_id in manager.kernels_of(name):
            await ensure_async(manager.shutdown_kernel(kernel_id))
            self.log.info("kernel %s of %s shut down at sign-out", kernel_id, name)

    def _provider_session(self) -> Session | None:
        provider = self.identity_provider
        return provider.read_session(self) if isinstance(provider, StoreIdentityProvider) else None

    async def _language_of(self, session: Session | None) -> str | None:
        """The signed-in user's own language (None: the server's)."""
        if session is None:
            return None
        user = await self.identity_provider.lookup_user(session.name)
        return getattr(user, "language", None)

    @allow_unauthenticated
    async def get(self) -> None:
        """The sign-out form (a GET changes nothing: any page could make a browser send one)."""
        self.set_header("Cache-Control", "no-store")
        session = self._provider_session()
        lang = await self._language_of(session)
        if session is None:
            self.finish(render_logout(base_url=self.base_url))
            return
        self.finish(render_logout_form(base_url=self.base_url, xsrf_form_html=self.xsrf_form_html(), lang=lang))

    @allow_unauthenticated
    async def post(self) -> None:
        """Sign out (XSRF-checked by Tornado): this session, or with ``all=1`` every session of the user."""
        provider = self.identity_provider
        session = self._provider_session()
        lang = await self._language_of(session)
        if session is not None:
            everywhere = self.get_body_argument("all", default="") in ("1", "on", "true")
            loop = asyncio.get_running_loop()
            ended = await loop.run_in_executor(None, lambda: provider.revoke(session, all_sessions=everywhere))
            self.log.info("signed out: %s (%d session(s))", session.name, ended)
            await self._end_kernels_of(session.name)
        provider.clear_login_cookie(self)
        self.set_header("Cache-Control", "no-store")
        self.finish(render_logout(base_url=self.base_url, lang=lang))


class NotFoundHandler(ErrorPageMixin, JupyterHandler):
    """Every path no other handler serves: a plain 404 page (in the signed-in user's language)."""

    def get(self, *args, **kwargs) -> None:
        raise web.HTTPError(404)

    post = put = delete = patch = get
