"""``workbench serve``: the campaign apps under Voila, on 127.0.0.1, with sign-in and kernel ownership.

:func:`serve` prepares a *state folder* (default ``runs/serve``, never inside
the served apps folder) holding the cookie secret and a generated Voila
configuration file ``voila.py`` (rewritten at every start; the prelaunch hook
can only be given there), then runs the Voila application of :func:`voila_app_class`, which

- reads configuration from the state folder only (no ``voila.py`` from the
  working directory or ``~/.jupyter`` can weaken it);
- refuses to start unless the identity provider, authorizer and kernel manager
  are the workbench's (:mod:`~workbench.apps.identity`,
  :mod:`~workbench.apps.kernels`) and it listens on the loopback address;
- starts each page's kernel as the signed-in user, asks the authorizer before
  Voila's shutdown call, requires sign-in for ``/voila/files/``, enables XSRF
  checks and answers unknown paths with a plain 404 page;
- answers its root with the portal (:mod:`~workbench.apps.portal`: the apps the
  user's role may open, in the user's language) instead of Voila's file list
  (``/voila/tree`` redirects there, the contents API is gone), and refuses an
  app the role may not open with a 403 page before any kernel starts;
- runs the app kernels on Unix sockets in a private temporary folder
  (:func:`kernel_socket_dir`, removed at exit) rather than loopback TCP ports;
- renders its pages from :data:`PAGE_TEMPLATES` first (Voila's lab pages
  without the Font Awesome stylesheets they link from a CDN: nothing is
  fetched from off the server, which an intranet without Internet needs).

Voila strips sources and hides tracebacks; kernels of closed pages are culled
once idle (``cull_idle_timeout`` / ``cull_interval``) while an open page keeps
its kernel (a page whose kernel is gone says so and asks for a reload, see
:func:`page_texts`).  Voila 0.5 refuses
``preheat_kernel`` together with a prelaunch hook, so pages take warmed-up
kernels from the kernel manager's own pool (``kernel_pool``,
:mod:`~workbench.apps.kernels`).  The server's kernel clients wait for
messages in slices (:func:`slice_kernel_client_polls`).
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ParameterError

__all__ = [
    "HOST",
    "DEFAULT_PORT",
    "DEFAULT_STATE_DIR",
    "CONFIG_FILE",
    "SECRET_FILE",
    "DEFAULT_IDENTITY_PROVIDER",
    "ServeSettings",
    "write_config",
    "prepare_state",
    "hold_state",
    "serve",
    "served_store_url",
    "voila_app_class",
    "POLL_SLICE_S",
    "SLICED_JUPYTER_CLIENT",
    "PAGE_TEMPLATES",
    "page_texts",
    "kernel_socket_dir",
    "slice_kernel_client_polls",
]

#: The only address the server listens on.
HOST = "127.0.0.1"
#: Voila's usual port.
DEFAULT_PORT = 8866
#: Where the secret and the generated configuration live (outside the served folder).
DEFAULT_STATE_DIR = Path("runs") / "serve"
#: The generated configuration file (Voila reads only ``voila.py`` / ``voila.json``).
CONFIG_FILE = "voila.py"
#: The cookie secret's file in the state folder.
SECRET_FILE = "cookie_secret"
#: The sign-in class of ``workbench serve`` unless a subclass is named (``--identity-provider``).
DEFAULT_IDENTITY_PROVIDER = "workbench.apps.identity.StoreIdentityProvider"
#: Locked by the running server: one server per state folder (its ``voila.py`` names the server's port).
LOCK_FILE = "serve.lock"
#: Longest single wait (seconds) of the server's kernel clients before they look at their socket again.
POLL_SLICE_S = 1.0
#: jupyter_client versions whose ``AsyncZMQSocketChannel.get_msg`` :func:`slice_kernel_client_polls`
#: was written for (lowest included, highest excluded); outside them it leaves the client as it is.
SLICED_JUPYTER_CLIENT = ((8, 0), (9, 0))
#: Longest Unix socket path on Linux (``sun_path`` less its terminating byte).
_SOCKET_PATH_MAX = 107
#: What Voila and jupyter_client add to the kernels' folder: ``/voila_XXXXXXXX/kernel-<uuid>-ipc-N``.
_KERNEL_SOCKET_SUFFIX = len("/voila_xxxxxxxx/kernel-") + 36 + len("-ipc-99")
#: The workbench's page templates, looked up before Voila's own: Voila's lab pages without their
#: remote (CDN) stylesheets, so a served page asks for nothing but the server's own addresses.
PAGE_TEMPLATES = Path(__file__).with_name("page_templates")


@dataclass(frozen=True)
class ServeSettings:
    """What ``workbench serve`` runs with; checked on creation.

    Parameters
    ----------
    port : int
        TCP port on 127.0.0.1 (1-65535; a busy port is an error, not silently another).
    apps_dir : path
        The served folder of app notebooks.
    state_dir : path
        Folder of the cookie secret and generated configuration; must not lie inside ``apps_dir``.
    store_url : str, optional
        Campaign store URL (default ``$WORKBENCH_STORE_URL`` or ``runs/store.sqlite``); :func:`serve` makes a
        relative SQLite path absolute against the workspace root (see :mod:`workbench.workspace`).
    cookie_hours : float
        How long a sign-in lasts.
    cull_idle_timeout : int
        Seconds of inactivity after which the kernel of a closed page is shut down (0 = never);
        an open page keeps its kernel.
    cull_interval : int
        Seconds between checks for idle kernels.
    kernel_pool : int
        Kernels kept started and warmed up for the next pages (0 = start each on demand).
    max_kernels_per_user : int
        Kernels one user may hold at once (one per app: a reload or second tab takes over).
    max_kernels : int
        Kernels the server holds for pages at once; a page past it gets a localized "server full" page (503).
    language : {"zh", "en"}, optional
        Language of pages and apps (default ``$WORKBENCH_LANG`` or zh).
    fast_passwords : bool
        Minimal argon2 cost for passwords hashed by the server (tests only).
    cookie_secret : path, optional
        The cookie secret's file (default ``state_dir / SECRET_FILE``); several servers behind one nginx share
        one (with one store), so a session signed in through any of them is valid on all.  Must lie outside
        ``apps_dir``.
    behind_proxy : bool
        Take the client's address and scheme from the ``X-Real-IP`` / ``X-Forwarded-For`` and
        ``X-Forwarded-Proto`` headers of the proxy in front (nginx, :mod:`workbench.apps.deploy`): sign-in
        is then throttled per real client rather than per proxy, and the cookie is ``Secure`` behind TLS.
        Only with a proxy that sets them: anyone reaching the port could set them too.
    identity_provider : str
        Dotted name of the sign-in class: :class:`~workbench.apps.identity.StoreIdentityProvider` or a
        subclass of it (an operator's LDAP or SSO, docs/deploy.md); anything else is refused at start.
    """

    port: int = DEFAULT_PORT
    apps_dir: Path = Path("runs") / "apps"
    state_dir: Path = DEFAULT_STATE_DIR
    store_url: str | None = None
    cookie_hours: float = 8.0
    cull_idle_timeout: int = 1800
    cull_interval: int = 60
    kernel_pool: int = 1
    max_kernels_per_user: int = 3
    max_kernels: int = 40
    language: str | None = None
    fast_passwords: bool = False
    cookie_secret: Path | None = None
    behind_proxy: bool = False
    identity_provider: str = DEFAULT_IDENTITY_PROVIDER

    def __post_init__(self):
        from workbench.i18n import LANGUAGES

        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ParameterError.invalid("port", "an integer from 1 to 65535", self.port)
        if not self.cookie_hours > 0:
            raise ParameterError.invalid("cookie_hours", "a positive number of hours", self.cookie_hours)
        for name in ("cull_idle_timeout", "cull_interval", "kernel_pool"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ParameterError.invalid(name, "a whole number >= 0", value)
        for name in ("max_kernels_per_user", "max_kernels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError.invalid(name, "a whole number >= 1", value)
        if self.cull_idle_timeout and not self.cull_interval:
            raise ParameterError.invalid("cull_interval", "> 0 when cull_idle_timeout is set", self.cull_interval)
        if not isinstance(self.identity_provider, str) or not re.fullmatch(
                r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+", self.identity_provider):
            raise ParameterError.invalid("identity_provider", "a dotted class name such as "
                                         "'mycompany.sso.HeaderIdentityProvider'", self.identity_provider)
        if self.language is not None and self.language not in LANGUAGES:
            raise ParameterError.invalid("language", f"one of {list(LANGUAGES)}", self.language)
        apps, state = Path(self.apps_dir).resolve(), Path(self.state_dir).resolve()
        if state == apps or state.is_relative_to(apps):
            raise ParameterError(
                f"The 'state_dir' {str(self.state_dir)!r} must lie outside the served folder "
                f"{str(self.apps_dir)!r}: it holds the cookie secret. Choose another folder."
            )
        secret = Path(self.cookie_secret).resolve() if self.cookie_secret is not None else state / SECRET_FILE
        if secret.is_relative_to(apps):
            raise ParameterError(
                f"The 'cookie_secret' {str(self.cookie_secret)!r} must lie outside the served folder "
                f"{str(self.apps_dir)!r}. Choose another file."
            )
        object.__setattr__(self, "apps_dir", apps)
        object.__setattr__(self, "state_dir", state)
        object.__setattr__(self, "cookie_secret", secret)

    @property
    def url(self) -> str:
        """The server's base address."""
        return f"http://{HOST}:{self.port}/"


_CONFIG_TEMPLATE = '''\
# Voila configuration of `workbench serve`, generated {generated}.
# Rewritten at every start: change the command's options, not this file.
# The cookie secret is read from {secret_path} (outside the served folder);
# the store URL comes from ${store_env} (set by `workbench serve`).
import os
from pathlib import Path

from workbench.apps.hook import prelaunch_hook

c = get_config()  # noqa: F821 (given by traitlets)

c.Voila.ip = {host!r}
c.Voila.port = {port!r}
c.Voila.port_retries = 0
c.Voila.open_browser = False
c.Voila.root_dir = {apps_dir!r}
c.Voila.connection_dir_root = {kernel_dir!r}  # private: kernels' connection files (with their keys), sockets
c.KernelManager.transport = {transport!r}  # "ipc": Unix sockets in that folder, reachable by nobody else
c.Voila.identity_provider_class = "{identity_provider}"  # StoreIdentityProvider or a subclass (checked)
c.Voila.authorizer_class = "workbench.apps.kernels.KernelOwnerAuthorizer"
c.Voila.cookie_secret = Path({secret_path!r}).read_bytes().strip()
c.Voila.tornado_settings = {{"xsrf_cookies": True}}
c.WorkbenchVoila.behind_proxy = {behind_proxy!r}  # client address and scheme from the proxy's X-Real-IP / X-Forwarded-*

c.StoreIdentityProvider.store_url = os.environ.get({store_env!r}) or None
c.StoreIdentityProvider.cookie_max_age_hours = {cookie_hours!r}
c.StoreIdentityProvider.fast_passwords = {fast_passwords!r}

c.VoilaConfiguration.prelaunch_hook = prelaunch_hook
c.VoilaConfiguration.multi_kernel_manager_class = "workbench.apps.kernels.OwnedKernelManager"
c.VoilaConfiguration.preheat_kernel = False  # Voila 0.5 refuses it together with a prelaunch hook
c.VoilaConfiguration.strip_sources = True
c.VoilaConfiguration.show_tracebacks = False
c.VoilaConfiguration.allow_template_override = "NO"
c.VoilaConfiguration.allow_theme_override = "NO"
c.VoilaConfiguration.resources = {page_texts!r}  # the pages' own words (resources.workbench in the templates)

c.MappingKernelManager.cull_idle_timeout = {cull_idle_timeout!r}
c.MappingKernelManager.cull_interval = {cull_interval!r}
c.MappingKernelManager.cull_connected = False  # an open page keeps its kernel; closed tabs' kernels are culled
c.OwnedKernelManager.pool_size = {kernel_pool!r}  # warmed-up kernels (Voila's preheat is off, see above)
c.OwnedKernelManager.max_kernels_per_user = {max_kernels_per_user!r}  # one per app; a reload takes over
c.OwnedKernelManager.max_kernels = {max_kernels!r}  # pages' kernels the server holds at once
'''


def page_texts(language: str | None = None) -> dict[str, object]:
    """The words the page templates show themselves (not the apps' notebooks), from the label catalogue.

    ``connection_lost`` / ``reload``: the banner of a page whose kernel or
    sign-in is gone (signed out elsewhere, sign-in expired, server restarted):
    what is clicked there may not be saved, and the page must be reloaded.
    ``by_language``: the same words in every language; the page shows those of the
    user's own language (the ``workbench-lang`` cookie the portal sets) when there is one.
    """
    from workbench.i18n import LANGUAGES, t

    keys = ("connection_lost", "reload")
    return {**{key: t(f"apps.page.{key}", lang=language) for key in keys},
            "by_language": {lang: {key: t(f"apps.page.{key}", lang=lang) for key in keys} for lang in LANGUAGES}}


def kernel_socket_dir() -> Path | None:
    """A new private folder (mode 0700) for the app kernels' connection files and Unix sockets.

    None when the temporary folder's path is so long that a socket path in it
    would pass the 107-byte limit: the kernels then talk over loopback TCP as
    Jupyter's do by default (and ipykernel warns about it in the server log).
    The caller removes the folder when the server stops.
    """
    import tempfile

    if len(tempfile.gettempdir()) + len("/wb-serve-xxxxxxxx") + _KERNEL_SOCKET_SUFFIX > _SOCKET_PATH_MAX:
        return None
    return Path(tempfile.mkdtemp(prefix="wb-serve-"))


def write_config(settings: ServeSettings, kernel_dir: Path | None = None) -> Path:
    """Write the Voila configuration file into ``settings.state_dir``; returns its path.

    ``kernel_dir`` (from :func:`kernel_socket_dir`) puts the kernels on Unix sockets there;
    without it their connection files go to the state folder and they use loopback TCP.
    """
    from workbench.store.db import STORE_URL_ENV

    state = settings.state_dir
    state.mkdir(parents=True, exist_ok=True)
    text = _CONFIG_TEMPLATE.format(
        kernel_dir=str(kernel_dir or state), transport="ipc" if kernel_dir else "tcp",
        generated=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        store_env=STORE_URL_ENV, host=HOST, identity_provider=settings.identity_provider, port=settings.port,
        behind_proxy=bool(settings.behind_proxy),
        apps_dir=str(settings.apps_dir), state_dir=str(state), secret_path=str(settings.cookie_secret),
        cookie_hours=float(settings.cookie_hours), fast_passwords=bool(settings.fast_passwords),
        cull_idle_timeout=settings.cull_idle_timeout, cull_interval=settings.cull_interval,
        kernel_pool=settings.kernel_pool, max_kernels_per_user=settings.max_kernels_per_user,
        max_kernels=settings.max_kernels, page_texts={"workbench": page_texts(settings.language)},
    )
    path = state / CONFIG_FILE
    path.write_text(text, encoding="utf-8")
    return path


def prepare_state(settings: ServeSettings, kernel_dir: Path | None = None) -> Path:
    """Make the folders, the cookie secret (kept across restarts), the built-in apps and the config file.

    Returns the configuration file's path (``kernel_dir``: see :func:`write_config`).
    """
    from workbench.apps.identity import load_or_create_secret
    from workbench.apps.publish import install_builtin_apps

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.state_dir, 0o700)
    load_or_create_secret(settings.cookie_secret)
    install_builtin_apps(settings.apps_dir)
    return write_config(settings, kernel_dir)


def hold_state(settings: ServeSettings):
    """Lock ``settings.state_dir`` for one server; returns the open lock file (closing it releases the lock).

    Several servers behind nginx each need their own state folder (the generated ``voila.py`` holds the
    port); they share the store and ``cookie_secret`` instead.

    Raises
    ------
    ParameterError
        When another running server holds the folder.
    """
    import fcntl

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    lock = open(settings.state_dir / LOCK_FILE, "a+b")  # noqa: SIM115 (held for the server's life)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise ParameterError(
            f"The state folder {str(settings.state_dir)!r} is in use by another running `workbench serve`. "
            "Give each server its own --state; servers behind one nginx share --cookie-secret and the store."
        ) from None
    return lock


def _release(version: str) -> tuple[int, int] | None:
    """``(major, minor)`` of a version string such as ``"8.10.0"``; ``None`` when it does not start so."""
    import re

    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match[1]), int(match[2])) if match else None


def slice_kernel_client_polls(slice_s: float = POLL_SLICE_S) -> bool:
    """Make the server's asyncio kernel clients re-check their socket at least every ``slice_s`` seconds.

    Voila runs an app's notebook through an asyncio kernel client whose
    ``get_msg(timeout=None)`` is a single ``await socket.poll()``.  Now and
    then (about one first render in ten on a loaded 2-core machine) that poll
    never wakes although the kernel has answered: the page then waits for ever
    ("voila is still executing"), the kernel idle, the reply queued on the
    client's socket (found by interrupting the kernel of a stuck page: it was
    not executing anything).  A poll with a timeout reads the socket's state
    when it expires, so waiting in slices of ``slice_s`` recovers from a missed
    wake-up within that time; a finite ``timeout`` is kept as it was.  Applied
    once, in the server's process only (``workbench serve``).  The same
    symptom - an asyncio poll on zmq's edge-triggered file descriptor that
    misses a wake-up and returns the waiting message only once a timeout
    expires - is reported in pyzmq issues #1558 and #2173.

    The replacement relies on the channel's private ``_recv``, so it is applied
    only to the jupyter_client releases it was written for
    (:data:`SLICED_JUPYTER_CLIENT`); with another release a warning is logged
    and the client is left unpatched.

    Returns
    -------
    bool
        Whether the sliced ``get_msg`` is in place (now or from an earlier call).
    """
    import logging
    import time
    from queue import Empty

    import jupyter_client
    from jupyter_client.channels import AsyncZMQSocketChannel

    if getattr(AsyncZMQSocketChannel.get_msg, "_workbench_sliced", False):
        return True
    version = str(getattr(jupyter_client, "__version__", ""))
    low, high = SLICED_JUPYTER_CLIENT
    release = _release(version)
    if release is None or not low <= release < high or not hasattr(AsyncZMQSocketChannel, "_recv"):
        logging.getLogger(__name__).warning(
            "jupyter_client %s is outside the releases the kernel-client poll slicing was written for "
            "(%d.%d <= version < %d.%d): left unpatched, so an app page may again wait for ever on a missed "
            "wake-up.", version or "(unknown version)", *low, *high)
        return False

    async def get_msg(self, timeout: float | None = None) -> dict:
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = slice_s if deadline is None else min(slice_s, max(0.0, deadline - time.monotonic()))
            if await self.socket.poll(int(wait * 1000)):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty

    get_msg._workbench_sliced = True
    get_msg.__wrapped__ = AsyncZMQSocketChannel.get_msg  # jupyter_client's own, kept for inspection and tests
    get_msg.__doc__ = AsyncZMQSocketChannel.get_msg.__doc__
    AsyncZMQSocketChannel.get_msg = get_msg
    return True


_APP_CLASS: list[type] = []


def voila_app_class() -> type:
    """The workbench's Voila application class (defined on first use: importing Voila takes seconds).

    A subclass of ``voila.app.Voila`` that refuses an unsafe configuration,
    guards Voila's handlers (kernel owner, signed-in files, XSRF) and answers
    unknown paths with a plain 404 page; see the module docstring.
    """
    if _APP_CLASS:
        return _APP_CLASS[0]
    slice_kernel_client_polls()

    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.utils import url_path_join
    from tornado import web
    from tornado.ioloop import IOLoop
    from traitlets import Bool
    from voila.app import Voila, _kernel_id_regex
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.static_file_handler import AllowListFileHandler
    from voila.tornado.contentshandler import VoilaContentsHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.treehandler import TornadoVoilaTreeHandler

    from workbench.apps.deploy import sweep_signed_out_kernels
    from workbench.apps.identity import NotFoundHandler, StoreIdentityProvider
    from workbench.apps.kernels import (
        KernelLimitError, KernelOwnerAuthorizer, OwnedKernelManager, OwnerShutdownKernelHandler, kernel_owner,
    )
    from workbench.apps.pages import ErrorPageMixin
    from workbench.apps.portal import portal_handlers, served_app_for, set_language_cookie

    class NoServerHeader(web.OutputTransform):
        """Drop Tornado's ``Server: TornadoServer/<version>`` header: a response names no versions."""

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            headers.pop("Server", None)
            return status_code, headers, chunk

    class OwnedVoilaHandler(ErrorPageMixin, TornadoVoilaHandler):
        """Voila's page handler: only an app the user's role may open, its kernel started as the signed-in user."""

        @web.authenticated
        async def get(self, path=None):
            served_app_for(self, path)  # 404 / 403 before any kernel starts
            set_language_cookie(self)  # the page's own words (its banner) in the user's language
            with kernel_owner(self.current_user.username, app=path or ""):
                await super().get(path)

        def write_error(self, status_code: int, **kwargs) -> None:
            exc = (kwargs.get("exc_info") or (None, None, None))[1]
            if isinstance(exc, KernelLimitError):  # a full server or a user's cap: say so in the user's words
                self.set_header("Retry-After", "60")
                self.error_reason = exc.reason_code
            ErrorPageMixin.write_error(self, status_code, **kwargs)

    class SignedInFileHandler(JupyterHandler, AllowListFileHandler):
        """``/voila/files/``: Voila's allow-listed files, for signed-in users only."""

        @web.authenticated
        def get(self, path, include_body=True):
            return AllowListFileHandler.get(self, path, include_body)

        @web.authenticated
        def head(self, path):
            return AllowListFileHandler.head(self, path)

    class WorkbenchVoila(Voila):
        """Voila with the workbench's sign-in, kernel ownership and configuration folder."""

        name = "voila"  # configuration is read from voila.py
        behind_proxy = Bool(False, config=True,
                            help="Trust the proxy's X-Real-IP / X-Forwarded-For / X-Forwarded-Proto headers.")

        def listen(self):
            if self.behind_proxy:  # Voila's listen() gives the HTTP server no options: add Tornado's xheaders
                listen = self.app.listen
                self.app.listen = lambda port, address=None, **kw: listen(port, address, xheaders=True, **kw)
            super().listen()

        def setup_template_dirs(self):
            super().setup_template_dirs()
            self.template_paths.insert(0, str(PAGE_TEMPLATES))

        def init_settings(self):
            self._check_security()
            settings = super().init_settings()
            settings["xsrf_cookies"] = True
            settings["default_handler_class"] = NotFoundHandler
            manager = self.kernel_manager
            manager.pool_env = {"VOILA_PREHEAT": "False", "VOILA_BASE_URL": self.base_url,
                                "VOILA_SERVER_URL": self.server_url, "VOILA_APP_PORT": str(self.port)}
            IOLoop.current().add_callback(manager.fill_pool)
            if isinstance(self.identity_provider, StoreIdentityProvider):  # signed out on another server
                sweep_signed_out_kernels(manager, self.identity_provider, self.identity_provider.session_check_seconds)
            return settings

        def _check_security(self) -> None:
            problems = []
            if self.ip != HOST:
                problems.append(f"Voila.ip must be {HOST!r}, got {self.ip!r}")
            if not issubclass(self.identity_provider_class, StoreIdentityProvider):
                problems.append("Voila.identity_provider_class must be StoreIdentityProvider, "
                                f"got {self.identity_provider_class.__name__}")
            if not issubclass(self.authorizer_class, KernelOwnerAuthorizer):
                problems.append("Voila.authorizer_class must be KernelOwnerAuthorizer, "
                                f"got {self.authorizer_class.__name__}")
            vc = self.voila_configuration
            if not issubclass(vc.multi_kernel_manager_class, OwnedKernelManager):
                problems.append("VoilaConfiguration.multi_kernel_manager_class must be OwnedKernelManager, "
                                f"got {vc.multi_kernel_manager_class.__name__}")
            if vc.prelaunch_hook is None:
                problems.append("VoilaConfiguration.prelaunch_hook is not set")
            if not vc.strip_sources or vc.show_tracebacks:
                problems.append("sources must be stripped and tracebacks hidden")
            if len(self.cookie_secret) < 32:
                problems.append("Voila.cookie_secret must be a kept secret of at least 32 bytes")
            if problems:
                raise ParameterError("workbench serve refuses an unsafe configuration: " + "; ".join(problems))

        def init_handlers(self):
            if getattr(self, "app", None) is not None:  # Voila.start made the app just before
                self.app.transforms.append(NoServerHeader)
            handlers = super().init_handlers()
            replaced = {VoilaShutdownKernelHandler: 0, AllowListFileHandler: 0, TornadoVoilaHandler: 0}
            dropped = {TornadoVoilaTreeHandler: 0, VoilaContentsHandler: 0}  # the file list: the portal instead
            out = portal_handlers(self.server_url)
            for spec in handlers:
                pattern, cls, *rest = spec
                if cls in dropped:
                    dropped[cls] += 1
                    continue
                if cls is VoilaShutdownKernelHandler:
                    spec = (url_path_join(self.server_url, r"/voila/api/shutdown/%s" % _kernel_id_regex),
                            OwnerShutdownKernelHandler)
                elif cls is AllowListFileHandler:
                    spec = (pattern, SignedInFileHandler, *rest)
                elif cls is TornadoVoilaHandler:
                    spec = (pattern, OwnedVoilaHandler, *rest)
                if cls in replaced:
                    replaced[cls] += 1
                out.append(spec)
            missing = [c.__name__ for c, n in replaced.items() if n != 1]
            missing += [c.__name__ for c, n in dropped.items() if n == 0]
            if missing:  # Voila changed: refuse rather than serve an unguarded route
                raise RuntimeError(f"workbench serve could not guard Voila's handlers {missing}")
            return out

    _APP_CLASS.append(WorkbenchVoila)
    return WorkbenchVoila


def served_store_url(settings: ServeSettings) -> str:
    """The store URL the server and its app kernels use: ``settings.store_url`` (default
    ``$WORKBENCH_STORE_URL`` or ``runs/store.sqlite``) with a relative SQLite path made absolute against
    the workspace root (the working folder outside a workspace).

    App kernels run in the apps folder: there a relative path would name another, new and empty store.
    """
    from workbench.store.db import default_url
    from workbench.workspace import cli_workspace, resolve_store_url

    return resolve_store_url(settings.store_url or default_url(), cli_workspace(hint=False).root)


def serve(settings: ServeSettings | None = None, *, announce: bool = True) -> None:
    """Serve the apps until interrupted (Ctrl+C or SIGTERM); kernels are shut down on the way out.

    Parameters
    ----------
    settings : ServeSettings, optional
        Port, folders, store and limits (defaults as documented there).
    announce : bool
        Print the address and how to sign in once the server listens.

    Raises
    ------
    ParameterError
        Bad settings, an unsafe configuration, or a store that cannot be opened.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from workbench.i18n import set_language
    from workbench.store import SYSTEM_USER, Store
    from workbench.store.db import STORE_URL_ENV
    from workbench.workspace import ENV_VAR, cli_workspace

    settings = settings or ServeSettings()
    url = served_store_url(settings)
    os.environ[STORE_URL_ENV] = url  # the identity provider and every app kernel use this store
    ws = cli_workspace(hint=False)
    if ws.config_file is not None:
        os.environ.setdefault(ENV_VAR, str(ws.root))  # templates served as apps resolve against the same workspace
    if settings.language:
        os.environ["WORKBENCH_LANG"] = settings.language
        set_language(settings.language)
    try:  # migrate now: a broken store fails here, not at the first sign-in
        with Store(url, progress=False) as store:
            has_users = not store.list_users(SYSTEM_USER).empty
    except SQLAlchemyError as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        raise ParameterError(f"The campaign store {shown!r} cannot be opened: {exc.__class__.__name__}: "
                             f"{str(exc).splitlines()[0]}") from exc
    lock = hold_state(settings)
    kernel_dir = kernel_socket_dir()
    try:
        config = prepare_state(settings, kernel_dir)
        app_class = voila_app_class()
        app = app_class(config_file_paths=[str(config.parent)])
        app.initialize([])
        _run(app, settings, has_users, announce)
    finally:
        lock.close()
        if kernel_dir is not None:
            import shutil

            shutil.rmtree(kernel_dir, ignore_errors=True)


def _run(app, settings: ServeSettings, has_users: bool, announce: bool) -> None:
    import tornado.ioloop

    from workbench.i18n import t

    def _announce():
        print(t("apps.serve.running", url=settings.url), flush=True)
        print(t("apps.serve.sign_in"), flush=True)
        if not has_users:
            print(t("apps.serve.no_users"), flush=True)
        print(t("apps.serve.whoami", url=settings.url + "voila/render/whoami.ipynb"), flush=True)
        print(t("apps.serve.stop"), flush=True)

    if announce:
        tornado.ioloop.IOLoop.current().add_callback(_announce)
    app.start()
