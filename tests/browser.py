"""Shared Playwright harness of the browser tests: a served workbench and Debian's Chromium.

Use it from a test module with ``from browser import *`` (``tests/`` is on
``sys.path`` under pytest's default rootdir-based import mode), then override
:func:`server_users` in the module to choose who may sign in::

    @pytest.fixture(scope="module")
    def server_users():
        return [TestUser("ana", "executor", "urumqi", "ana-password-1")]

    def test_whoami(apps_server, browser):
        page = browser.new_page()
        sign_in(page, apps_server.url, "ana", "ana-password-1")

Fixtures
--------
apps_server (module)
    ``workbench serve`` on a free loopback port with a fresh SQLite store, its
    own apps and state folders and private Jupyter/IPython/XDG/HOME folders;
    yields a :class:`ServedApps` once the sign-in page answers, stops the server
    (SIGTERM, then SIGKILL) afterwards.  Before the server starts,
    :func:`prepare_store` may fill the store (override it like ``server_users``).
browser (module)
    Chromium from ``/usr/bin/chromium`` (installed by ``make test``; never
    ``playwright install``), headless, talking to loopback only.

Everything binds 127.0.0.1; nothing is downloaded.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = [
    "CHROMIUM", "CHROMIUM_ARGS", "SERVER_START_TIMEOUT_S", "TestUser", "ServedApps", "free_port",
    "start_server", "stop_server", "server_users", "prepare_store", "apps_server", "browser", "sign_in",
    "cookie_header",
]

#: Debian's Chromium (apt package ``chromium``).
CHROMIUM = "/usr/bin/chromium"
#: Flags: no sandbox (root in CI), no GPU, no network beyond the page's own requests, no host name resolved.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no name but the loopback resolves
]
#: Seconds the server may take to answer its sign-in page (Voila's imports take a few seconds).
SERVER_START_TIMEOUT_S = 120.0
_JUPYTER_DIRS = ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "XDG_CONFIG_HOME",
                 "XDG_CACHE_HOME", "XDG_DATA_HOME", "HOME", "MPLCONFIGDIR")


@dataclass(frozen=True)
class TestUser:
    """A user the harness creates in the store before the server starts."""

    __test__ = False  # not a test class, whatever its name

    name: str
    role: str
    branch_id: str | None
    password: str
    display_name: str = ""


@dataclass
class ServedApps:
    """A running ``workbench serve``: its address, store, folders, process and log."""

    url: str
    port: int
    store_url: str
    apps_dir: Path
    state_dir: Path
    log_path: Path
    process: subprocess.Popen

    def log(self) -> str:
        """Everything the server wrote so far (stdout and stderr)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout: float = 90.0) -> None:
        """Wait until the server's log contains ``text`` (fails the test after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not log {text!r} within {timeout:.0f} s:\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def app_url(self, name: str, query: str = "") -> str:
        """Address of the app notebook ``name`` (``whoami.ipynb``), with an optional query string."""
        return f"{self.url}voila/render/{name}" + (f"?{query}" if query else "")


#: Ports :func:`free_port` hands out: below Linux's ephemeral range (32768-60999, where kernels, clients and
#: anything binding port 0 land), one block of :data:`PORT_BLOCK` per pytest-xdist worker.
PORT_BASE, PORT_BLOCK = 20000, 1000


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, in this pytest worker's own block.

    A server is started on it a moment later, so the port must not be handed to anyone else in
    between: a random port of the worker's block (``gw0`` 20000-20999, ``gw1`` 21000-21999, ...)
    is never another worker's, nor an ephemeral port the OS gives a kernel or a client meanwhile.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    first = PORT_BASE + PORT_BLOCK * (int(worker[2:]) if worker[2:].isdigit() else 0)
    for port in random.sample(range(first, first + PORT_BLOCK), PORT_BLOCK):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port on 127.0.0.1 in {first}-{first + PORT_BLOCK - 1}")


def _private_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var in _JUPYTER_DIRS:
        path = root / var.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    for var in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE", "WORKBENCH_LANG"):
        env.pop(var, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _wait_ready(served: ServedApps, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(f"workbench serve exited with {served.process.returncode}:\n{served.log()}")
        try:
            with urllib.request.urlopen(served.url + "login", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"workbench serve did not answer within {timeout:.0f} s:\n{served.log()}")


def start_server(root: Path, store_url: str, *, args: tuple[str, ...] = (), lang: str = "en",
                 timeout: float = SERVER_START_TIMEOUT_S) -> ServedApps:
    """Start ``workbench serve`` under ``root`` (folders, log, private Jupyter dirs) and wait until it answers."""
    port = free_port()
    apps, state = root / "apps", root / "state"
    log_path = root / "serve.log"
    command = [sys.executable, "-m", "workbench", "serve", "--port", str(port), "--store", store_url,
               "--apps", str(apps), "--state", str(state), "--lang", lang, "--fast-passwords", *args]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root,
                                   env=_private_env(root / "home"), start_new_session=True)
    served = ServedApps(f"http://127.0.0.1:{port}/", port, store_url, apps, state, log_path, process)
    try:
        _wait_ready(served, timeout)
    except BaseException:
        stop_server(served)
        raise
    return served


def stop_server(served: ServedApps, timeout: float = 30.0) -> None:
    """SIGTERM (Voila shuts its kernels down), then SIGKILL of the server's process group if needed."""
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(served.process.pid, signal.SIGKILL)
            served.process.wait(10)


@pytest.fixture(scope="module")
def server_users() -> list[TestUser]:
    """Users created before the server starts (override in a test module)."""
    return [
        TestUser("ana", "executor", "urumqi", "ana-password-1", "阿娜"),
        TestUser("bo", "executor", "hami", "bo-password-12"),
        TestUser("pm", "province_manager", None, "pm-password-123"),
    ]


@pytest.fixture(scope="module")
def prepare_store():
    """A function ``f(store)`` run on the fresh store after the users are added (override to seed data)."""
    return lambda store: None


@pytest.fixture(scope="module")
def apps_server(tmp_path_factory, server_users, prepare_store) -> Iterator[ServedApps]:
    """``workbench serve`` on a free loopback port with a fresh store holding :func:`server_users`."""
    from workbench.store import SYSTEM_USER, PasswordPolicy, Store

    root = tmp_path_factory.mktemp("served")
    store_url = f"sqlite:///{root / 'store.sqlite'}"
    with Store(store_url, password_policy=PasswordPolicy.fast_for_tests(), progress=False) as store:
        for user in server_users:
            store.add_user(SYSTEM_USER, user.name, user.role, password=user.password, branch_id=user.branch_id,
                           display_name=user.display_name)
        prepare_store(store)
    served = start_server(root, store_url)
    try:
        yield served
    finally:
        stop_server(served)
        shutil.rmtree(root / "home", ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's) driven by Playwright."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs the apt package 'chromium') or "
                    "`apt-get install -y chromium`; never `playwright install`.", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in(page, base_url: str, name: str, password: str, next_path: str | None = None) -> None:
    """Sign in through the sign-in page (optionally asking to go to ``next_path`` afterwards).

    Returns when the page the server sends next has loaded.
    """
    from urllib.parse import quote

    url = base_url + "login" + (f"?next={quote(next_path)}" if next_path else "")
    page.goto(url)
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    with page.expect_navigation():
        page.click("#login_submit")


def cookie_header(context) -> dict[str, str]:
    """``Cookie`` and ``X-XSRFToken`` headers carrying a browser context's session (for raw HTTP/WebSocket)."""
    cookies = context.cookies()
    headers = {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in cookies)}
    xsrf = next((c["value"] for c in cookies if c["name"] == "_xsrf"), None)
    if xsrf:
        headers["X-XSRFToken"] = xsrf
    return headers
