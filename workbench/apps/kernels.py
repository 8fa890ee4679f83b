"""Each kernel belongs to the user whose page started it; nobody else may touch it.

By default any signed-in user who learns another user's kernel id can attach
to that kernel (``/api/kernels/<id>/channels``), read its model or shut it
down (``DELETE /api/kernels/<id>``, ``POST /voila/api/shutdown/<id>``).
Three pieces close this:

- :class:`OwnedKernelManager` records the owner of every kernel it starts; it
  starts kernels only inside :func:`kernel_owner` (which the server's page
  handler enters with the signed-in user's name) and refuses otherwise;
- :class:`KernelOwnerAuthorizer` allows an action on a kernel only to its owner
  (every other resource to any signed-in user);
- :class:`OwnerShutdownKernelHandler` replaces Voila's shutdown handler, which
  asks no authorizer.

Voila 0.5 cannot preheat kernels when a prelaunch hook is set (and the hook
is how the signed-in user reaches the notebook), so the first render of an app
waits for a kernel to start and import the workbench.  :class:`OwnedKernelManager`
therefore keeps ``pool_size`` kernels started and warmed up (``pool_preload``
imported), owned by nobody and reachable by nobody; a page takes one, it
becomes that user's, and the pool refills in the background.  Pooled kernels
are started with the server's environment, not a request's (an app must not
read ``QUERY_STRING`` for anything that matters anyway), and are never culled.

Every kernel (pooled or not) is an :class:`AppKernelManager`'s - started by
:mod:`workbench.apps.kernel_launch` (no debugger, pandas without pyarrow) - and
gets :data:`KERNEL_ENV` (how much memory an open page holds, measured in
``benchmarks/app.py``; the C heap trimmed after each cell, see :mod:`workbench.apps.heap`).
"""
from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from jupyter_core.utils import ensure_async
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager, ServerKernelManager
from tornado import web
from traitlets import Dict, Integer, Unicode, default

from workbench.apps.heap import STARTUP_FILE
from workbench.apps.hook import APP_KERNEL_ENV

__all__ = ["OwnedKernelManager", "AppKernelManager", "app_kernel_cmd", "APP_KERNEL_LAUNCHER",
           "KernelOwnerAuthorizer", "OwnerShutdownKernelHandler", "kernel_owner",
           "KernelLimitError",
           "KERNEL_RESOURCE", "DEFAULT_PRELOAD", "PRELOAD_MODULES", "KERNEL_ENV"]

#: The authorizer resource name of kernels (Jupyter Server's).
KERNEL_RESOURCE = "kernels"
#: Modules a pooled kernel imports while it waits for a page: what the executor app (the page most users hold
#: open) imports.  Not ``nbformat`` / ``workbench.notebook`` (setting plotly's renderer in
#: :func:`workbench.notebook.setup`, ~25 MiB): only the managers' monitoring page needs them, and every open
#: executor page would hold them for the day.
PRELOAD_MODULES: tuple[str, ...] = (
    "pandas", "ipywidgets", "plotly.graph_objects", "plotly.io", "sqlalchemy", "workbench.store",
    "workbench.apps.hook", "workbench.apps.widgets", "workbench.apps.worklist", "itables.widget",
)
#: Environment every app kernel gets on top of the server's (figures: an executor app with a 20,000-row
#: list, ``benchmarks/app.py``):
#:
#: - ``PYTHONSTARTUP``: IPython runs :data:`workbench.apps.heap.STARTUP_FILE` before the page's notebook - the
#:   C heap trimmed after each cell, and pandas imported without pyarrow where :class:`AppKernelManager`'s
#:   launcher did not already (-33 MiB RSS a kernel);
#: - ``PYTHONOPTIMIZE=2``: no docstrings (pandas', SQLAlchemy's, ours: -12 MiB RSS) and no ``assert``; nothing an
#:   app runs reads a docstring, and nothing relies on an assert (tests/test_app_memory.py runs the apps so).
#:   Its compiled modules are ``*.opt-2.pyc`` files: ``PYTHONDONTWRITEBYTECODE`` is emptied so that the first
#:   kernel writes them and the next ones load them (else every kernel compiles pandas from source at each
#:   start: a page opened 2.5x slower, measured); a read-only install compiles them once with
#:   ``python -OO -m compileall`` (docs/deploy.md);
#: - ``ARROW_DEFAULT_MEMORY_POOL=system``: where a page does import pyarrow (reading Parquet), Arrow's
#:   default allocator (mimalloc) would keep the memory of freed columns for reuse (-23 MiB while pandas
#:   kept text in Arrow);
#: - :data:`workbench.apps.hook.APP_KERNEL_ENV` tells an app it runs for a served page (not a batch run).
#:
#: ``MALLOC_ARENA_MAX=2`` was measured and changed nothing (a page's work runs on the kernel's main
#: thread), so it is not set.
KERNEL_ENV: dict[str, str] = {"PYTHONSTARTUP": str(STARTUP_FILE), "PYTHONOPTIMIZE": "2", "PYTHONDONTWRITEBYTECODE": "",
                              "ARROW_DEFAULT_MEMORY_POOL": "system", APP_KERNEL_ENV: "1"}
#: The code a pooled kernel runs: import :data:`PRELOAD_MODULES`, skipping any that is not installed, and
#: give the C heap's free pages back to the system after each cell (:mod:`workbench.apps.heap`).
DEFAULT_PRELOAD = (
    "import importlib as _il\n"
    f"for _m in {PRELOAD_MODULES!r}:\n"
    "    try:\n        _il.import_module(_m)\n    except ImportError:\n        pass\n"
    "_il.import_module('workbench.apps.heap').trim_after_each_cell()\n"
    "del _il, _m\n"
)
#: The module that starts an app kernel in place of ``ipykernel_launcher`` (:mod:`workbench.apps.kernel_launch`).
APP_KERNEL_LAUNCHER = "workbench.apps.kernel_launch"
_OWNER: ContextVar[tuple[str, str] | None] = ContextVar("workbench_kernel_owner", default=None)


class KernelLimitError(web.HTTPError):
    """A page refused because a kernel cap is reached (429 for the user's own cap, 503 for the server's)."""

    def __init__(self, status_code: int, reason: str):
        super().__init__(status_code, reason)
        self.reason_code = reason


@contextmanager
def kernel_owner(name: str, app: str = "") -> Iterator[None]:
    """Kernels started by :class:`OwnedKernelManager` inside this block belong to ``name`` (for page ``app``)."""
    if not name:
        raise web.HTTPError(403, "a kernel is started only for a signed-in user")
    token = _OWNER.set((name, app or ""))
    try:
        yield
    finally:
        _OWNER.reset(token)


def app_kernel_cmd(cmd: list[str]) -> list[str]:
    """``cmd`` (a kernel's command line) with ``-m ipykernel_launcher`` replaced by ``-m`` :data:`APP_KERNEL_LAUNCHER`.

    Any other command (another kernel, a launcher of its own) is returned unchanged.
    """
    cmd = list(cmd)
    for i in range(len(cmd) - 1):
        if cmd[i] == "-m" and cmd[i + 1] == "ipykernel_launcher":
            cmd[i + 1] = APP_KERNEL_LAUNCHER
            break
    return cmd


class AppKernelManager(ServerKernelManager):
    """One page's kernel, started by :mod:`workbench.apps.kernel_launch` (no debugger, pandas without pyarrow)."""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return app_kernel_cmd(super().format_kernel_cmd(extra_arguments))


class OwnedKernelManager(AsyncMappingKernelManager):
    """A kernel manager that knows who started each kernel (``VoilaConfiguration.multi_kernel_manager_class``).

    Also keeps a pool of warmed-up kernels (see the module docstring).
    """

    pool_size = Integer(0, config=True, help="Kernels kept started and warmed up for the next pages.")
    pool_preload = Unicode(DEFAULT_PRELOAD, config=True, help="Code a pooled kernel runs while it waits.")
    pool_kernel_name = Unicode("python3", config=True, help="Kernel spec of the pooled kernels.")
    pool_env = Dict(config=True, help="Environment variables added to the server's for pooled kernels.")
    kernel_env = Dict(KERNEL_ENV, config=True, help="Environment variables added for every kernel (pooled or not).")
    pool_timeout = Integer(120, config=True, help="Seconds a pooled kernel may take to start and preload.")
    max_kernels_per_user = Integer(
        3, config=True,
        help="Kernels one user may hold at once (one per app: a reload or second tab of the same app takes "
             "over the user's kernel of that app).",
    )
    max_kernels = Integer(
        40, config=True,
        help="Kernels the server holds at once for pages (pooled ones not counted); ~150-200 MiB each.",
    )

    @default("kernel_manager_class")
    def _default_kernel_manager_class(self):
        return "workbench.apps.kernels.AppKernelManager"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._owners: dict[str, str] = {}
        self._apps: dict[str, str] = {}
        self._user_locks: dict[str, asyncio.Lock] = {}
        self._pool: list[str] = []
        self._pool_task: asyncio.Task | None = None

    # ------------------------------------------------------------ owned kernels
    async def start_kernel(self, *, kernel_id: str | None = None, path: str | None = None, **kwargs) -> str:
        """Start (or take from the pool) a kernel owned by the user of the surrounding :func:`kernel_owner` block.

        A user's earlier kernel of the same app is shut down first (its page says
        it has expired): one kernel per user and app.

        Raises
        ------
        tornado.web.HTTPError
            403 outside a :func:`kernel_owner` block (no owner: no kernel).
        KernelLimitError
            429 when the user holds ``max_kernels_per_user`` kernels of other apps;
            503 when the server holds ``max_kernels``.
        """
        owner, app = _OWNER.get() or ("", "")
        if not owner:
            raise web.HTTPError(403, "a kernel is started only for a signed-in user")
        if kernel_id is not None and kernel_id in self:
            if self._owners.get(kernel_id) != owner:
                raise web.HTTPError(403, "kernel belongs to another user")
            return kernel_id
        lock = self._user_locks.setdefault(owner, asyncio.Lock())
        async with lock:  # one start at a time per user: two tabs opened together cannot both pass the caps
            await self._make_room(owner, app)
            kernel_id = await self._start_owned(owner, kernel_id=kernel_id, path=path, **kwargs)
            if app:
                self._apps[kernel_id] = app
            return kernel_id

    async def _make_room(self, owner: str, app: str) -> None:
        """Take over ``owner``'s kernel of ``app`` (a reload or second tab); refuse past the caps."""
        if app:
            for old in [k for k in self.kernels_of(owner) if self._apps.get(k) == app]:
                self.log.info("Kernel %s of %r taken over by a new page of %s", old, owner, app)
                await ensure_async(self.shutdown_kernel(old))
        if len(self.kernels_of(owner)) >= self.max_kernels_per_user:
            self.log.warning("kernel refused to %r: %d kernels held (cap %d)", owner, len(self.kernels_of(owner)),
                             self.max_kernels_per_user)
            raise KernelLimitError(429, "user_kernels")
        held = sum(1 for kid in self._owners if kid in self)
        if held >= self.max_kernels:
            self.log.warning("kernel refused to %r: the server holds %d kernels (cap %d)", owner, held,
                             self.max_kernels)
            raise KernelLimitError(503, "server_kernels")

    async def _start_owned(self, owner: str, *, kernel_id: str | None, path: str | None, **kwargs) -> str:
        if kernel_id is None and not path and kwargs.get("kernel_name", self.pool_kernel_name) == self.pool_kernel_name:
            pooled = self._take_pooled()
            if pooled is not None:
                self._owners[pooled] = owner
                self.log.info("Kernel %s (warm, from the pool) given to %r", pooled, owner)
                self.fill_pool()
                return pooled
        kernel_id = kernel_id or str(uuid.uuid4())
        self._owners[kernel_id] = owner
        if self.kernel_env:
            kwargs["env"] = {**(kwargs.get("env") or os.environ), **self.kernel_env}
        try:
            started = await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        except BaseException:
            self._owners.pop(kernel_id, None)
            raise
        self.fill_pool()
        return started

    def kernel_owner(self, kernel_id: str) -> str | None:
        """The user name owning a running kernel, or None for an unknown or pooled kernel."""
        return self._owners.get(kernel_id) if kernel_id in self else None

    def kernels_of(self, name: str) -> list[str]:
        """Ids of the running kernels owned by ``name``."""
        return [kid for kid, owner in self._owners.items() if owner == name and kid in self]

    def remove_kernel(self, kernel_id: str):
        self._owners.pop(kernel_id, None)
        self._apps.pop(kernel_id, None)
        if kernel_id in self._pool:
            self._pool.remove(kernel_id)
        return super().remove_kernel(kernel_id)

    async def cull_kernel_if_idle(self, kernel_id: str):
        """Cull idle kernels, except those waiting in the pool."""
        if kernel_id in self._pool:
            return None
        return await super().cull_kernel_if_idle(kernel_id)

    # ------------------------------------------------------------ the warm pool
    @property
    def pooled_kernels(self) -> list[str]:
        """Ids of the warmed-up kernels waiting for a page."""
        return list(self._pool)

    def _take_pooled(self) -> str | None:
        while self._pool:
            kid = self._pool.pop(0)
            if kid in self:
                return kid
        return None

    def fill_pool(self) -> asyncio.Task | None:
        """Start filling the pool in the background (no-op when full, disabled or already filling)."""
        if self.pool_size <= 0 or (self._pool_task is not None and not self._pool_task.done()):
            return self._pool_task
        if len(self._pool) >= self.pool_size:
            return None
        self._pool_task = asyncio.ensure_future(self._fill_pool())
        return self._pool_task

    async def _fill_pool(self) -> None:
        failures = 0
        while len(self._pool) < self.pool_size and failures < 3:
            kid = str(uuid.uuid4())
            try:
                env = {**os.environ, **self.pool_env, **self.kernel_env}
                await asyncio.wait_for(self._start_warm(kid, env), self.pool_timeout)
            except Exception as exc:  # a broken pool must not break serving: pages start cold kernels
                failures += 1
                self.log.warning("could not warm up a pooled kernel: %s", exc)
                if kid in self:
                    await ensure_async(self.shutdown_kernel(kid, now=True))
                continue
            self._pool.append(kid)
            self.log.info("Kernel %s warmed up and pooled (%d/%d)", kid, len(self._pool), self.pool_size)

    async def _start_warm(self, kernel_id: str, env: dict) -> None:
        await AsyncMappingKernelManager.start_kernel(self, kernel_id=kernel_id, path="",
                                                     kernel_name=self.pool_kernel_name, env=env)
        if not self.pool_preload:
            return
        client = self.get_kernel(kernel_id).client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=self.pool_timeout)
            reply = await client.execute_interactive(self.pool_preload, store_history=False, silent=True,
                                                     allow_stdin=False, timeout=self.pool_timeout,
                                                     output_hook=lambda msg: None)
            if reply["content"].get("status") != "ok":
                raise RuntimeError(f"preload failed: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
        finally:
            client.stop_channels()


def _kernel_id(handler: web.RequestHandler) -> str | None:
    kid = (getattr(handler, "path_kwargs", None) or {}).get("kernel_id")
    return kid or getattr(handler, "kernel_id", None)


class KernelOwnerAuthorizer(Authorizer):
    """Only a kernel's owner may act on it; other resources are open to any signed-in user."""

    def is_authorized(self, handler: web.RequestHandler, user, action: str, resource: str) -> bool:
        if user is None or not getattr(user, "username", None):
            return False
        if resource != KERNEL_RESOURCE:
            return True
        kernel_id = _kernel_id(handler)
        owner_of = getattr(handler.kernel_manager, "kernel_owner", None)
        owner = owner_of(kernel_id) if (kernel_id and owner_of is not None) else None
        if owner is None or owner != user.username:
            self.log.warning("refused %s on kernel %s to %r (owner %r)", action, kernel_id, user.username, owner)
            return False
        return True


class OwnerShutdownKernelHandler(APIHandler):
    """``POST /voila/api/shutdown/<kernel_id>`` (sent when a page closes), for the kernel's owner only."""

    auth_resource = KERNEL_RESOURCE

    @web.authenticated
    @authorized(action="write", resource=KERNEL_RESOURCE)
    async def post(self, kernel_id: str) -> None:
        await ensure_async(self.kernel_manager.shutdown_kernel(kernel_id))
        self.set_status(204)
        self.finish()
