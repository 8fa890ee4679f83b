"""Who is signed in: name + password against the campaign store, a signed cookie with a bounded life.

:class:`StoreIdentityProvider` is the Jupyter Server 2 ``IdentityProvider`` of
``workbench serve`` (configured as ``Voila.identity_provider_class``; the
``ServerApp.`` spelling is ignored by standalone Voila).  It

- shows its own sign-in page with a user-name field (:class:`LoginHandler`),
  checks the name and password with :meth:`workbench.store.Store.authenticate`
  (argon2; success and failure are in the store's audit log) in a worker thread
  so the server keeps serving while a hash is checked;
- keeps the session in a **signed, stateless cookie** holding only the user
  name, the time of sign-in and a random session id.  The cookie expires after
  ``cookie_max_age_hours`` both in the browser and on the server (the issue time
  is checked on every request), so a copied cookie is worthless after that;
- reads the user's role and branch from the store, not from the cookie (cached
  for ``user_cache_seconds``), so a deactivated user is signed out within that
  time and a changed role takes effect;
- signs out with :class:`LogoutHandler`: the cookie is cleared and its session
  id refused until the cookie would have expired anyway (in memory: a restart
  forgets the refusals, the bounded lifetime still holds).

The cookie secret is kept in a file outside every served folder
(:func:`load_or_create_secret`), so sign-ins survive a restart of the server.
"""
from __future__ import annotations

import asyncio
import json
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
from traitlets import Bool, Float, Unicode, default

from workbench.apps.pages import ErrorPageMixin, render_login, render_logout
from workbench.errors import ParameterError
from workbench.store.access import SYSTEM_USER, User

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
    """The signed-in user as the server knows it: Jupyter's ``User`` plus role and branch.

    ``username`` is the store's user name; ``role`` and ``branch_id`` come from
    the store's ``users`` table at the time of the request.
    """

    role: str = ""
    branch_id: str | None = None

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
        self._revoked: dict[str, float] = {}

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
            users[row.name] = WorkbenchUser(username=row.name, name=display, display_name=display,
                                            role=row.role, branch_id=branch)
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
    def user_to_cookie(self, user: JupyterUser) -> str:
        """The cookie's content: user name, issue time and a fresh random session id."""
        return json.dumps({"u": user.username, "iat": time.time(), "sid": secrets.token_urlsafe(18)})

    def user_from_cookie(self, cookie_value: str) -> Session | None:
        """The :class:`Session` of a cookie's (already signature-checked) content, or None."""
        try:
            data = json.loads(cookie_value)
            session = Session(str(data["u"]), float(data["iat"]), str(data["sid"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.name and session.session_id else None

    def set_login_cookie(self, handler: web.RequestHandler, user: JupyterUser) -> None:
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
        handler.set_secure_cookie(self.get_cookie_name(handler), self.user_to_cookie(user), **options)

    def read_session(self, handler: web.RequestHandler) -> Session | None:
        """The request's valid session: signature, age and revocation checked; else None."""
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
        if session.session_id in self._revoked:
            return None
        return session

    def revoke(self, session: Session) -> None:
        """Refuse ``session`` from now on (until it would have expired anyway)."""
        now = time.time()
        self._revoked = {sid: until for sid, until in self._revoked.items() if until > now}
        self._revoked[session.session_id] = session.issued_at + self.max_age_seconds + _CLOCK_SKEW_S

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

    def _form(self, *, error: str | None = None, name: str = "", status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        self.finish(render_login(next_url=self._next(), error=error, name=name, base_url=self.base_url,
                                 xsrf_form_html=self.xsrf_form_html()))

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
        user = await self.provider.authenticate(name, password)
        if user is None:
            self.log.warning("sign-in refused for %r from %s", name[:MAX_NAME_LENGTH], self.request.remote_ip)
            self._form(error="failed", name=name[:MAX_NAME_LENGTH], status=401)
            return
        self.provider.set_login_cookie(self, user)
        self.log.info("signed in: %s (%s)", user.username, user.role)
        self.redirect(self._next())


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

    @allow_unauthenticated
    async def get(self) -> None:
        provider = self.identity_provider
        session = provider.read_session(self) if isinstance(provider, StoreIdentityProvider) else None
        if session is not None:
            provider.revoke(session)
            self.log.info("signed out: %s", session.name)
            await self._end_kernels_of(session.name)
        provider.clear_login_cookie(self)
        self.set_header("Cache-Control", "no-store")
        self.finish(render_logout(base_url=self.base_url))


class NotFoundHandler(ErrorPageMixin, JupyterHandler):
    """Every path no other handler serves: a plain 404 page (after sign-in)."""

    def get(self, *args, **kwargs) -> None:
        raise web.HTTPError(404)

    post = put = delete = patch = get
