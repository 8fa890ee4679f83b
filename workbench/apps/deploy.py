"""Several ``workbench serve`` processes behind nginx: the nginx configuration, sticky per signed-in session.

One ``workbench serve`` holds the kernels of the app pages opened through it
(~150-200 MiB each), and a kernel lives in one process only: a page and the
WebSocket its widgets talk through must reach the server that started its
kernel.  :func:`nginx_site` writes the nginx ``upstream`` and ``server``
blocks that put several servers behind one address:

- **sticky**: ``hash <session cookie> consistent`` - every request carrying
  the same session cookie (pages, files, the kernel's WebSocket) goes to the
  same server; requests before sign-in (no cookie) all go to one server, which
  is harmless: sessions, sign-in throttling and results live in the shared
  store, and the cookie secret is shared (``workbench serve --cookie-secret``),
  so a session signed in on one server is valid on every other.  nginx cannot
  name a cookie with ``-`` in a ``$cookie_`` variable, so a ``map`` on the
  ``Cookie`` header picks the session cookie out;
- **WebSockets**: HTTP/1.1 to the servers with the ``Upgrade`` and
  ``Connection`` headers passed on, an hour of quiet allowed (Jupyter pings
  every 30 s anyway), and the browser's ``Host`` kept *with its port*
  (``$http_host``): Jupyter refuses a WebSocket whose ``Origin`` does not match
  ``Host``;
- **the client's address** in ``X-Real-IP`` / ``X-Forwarded-For`` and the
  scheme in ``X-Forwarded-Proto``: servers started with ``--behind-proxy``
  throttle sign-in per real client address (not per nginx) and mark the
  session cookie ``Secure`` behind TLS;
- **TLS terminated at nginx** when a certificate and key are given;
  ``server_tokens off`` (no version in the ``Server`` header); pages streamed
  unbuffered (Voila sends a page while its notebook runs).

:func:`nginx_standalone` wraps the same blocks in a whole ``nginx.conf``
whose pid file, logs and temporary folders lie in one run folder, for an
nginx started by an unprivileged user in the foreground
(:func:`nginx_command`); the tests run it so, on loopback.

Sign-out is store-wide but kernels are per server: :func:`sweep_signed_out_kernels`
(run by every ``workbench serve``) shuts down the kernels of users who no
longer hold any valid session, so "sign out on every other computer" through
one server also ends the user's pages on the others.

Examples
--------
>>> text = nginx_site(["127.0.0.1:8867", "127.0.0.1:8868"], listen="127.0.0.1:8080")
>>> "hash $workbench_session consistent;" in text
True
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ParameterError, Words

__all__ = [
    "Upstream",
    "parse_upstreams",
    "parse_listen",
    "nginx_site",
    "nginx_standalone",
    "nginx_command",
    "serve_commands",
    "write_nginx_config",
    "end_signed_out_kernels",
    "sweep_signed_out_kernels",
    "DEFAULT_LISTEN",
    "UPSTREAM_HEADER",
    "SESSION_COOKIE",
]

#: Where nginx listens unless told otherwise (loopback: put TLS and a public address in front on purpose).
DEFAULT_LISTEN = "127.0.0.1:8080"
#: Response header naming the server that answered (only with ``upstream_header=True``: tests, diagnosis).
UPSTREAM_HEADER = "X-Workbench-Upstream"
#: The session cookie the servers set (= :data:`workbench.apps.identity.COOKIE_NAME`; a test keeps them equal).
SESSION_COOKIE = "workbench-apps-session"
#: Seconds a quiet connection (an open app's WebSocket) is kept.
_IDLE_S = 3600
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
_ADDRESS = re.compile(rf"^(?P<host>{_HOST}):(?P<port>[0-9]{{1,5}})$")
_SERVER_NAME = re.compile(r"^[A-Za-z0-9*_.-]{1,253}$")
_COOKIE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class Upstream:
    """One ``workbench serve`` behind nginx: its address as nginx reaches it."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def _address(text: object, name: str) -> Upstream:
    found = _ADDRESS.match(text.strip()) if isinstance(text, str) else None
    if found is None or not 1 <= int(found["port"]) <= 65535:
        raise ParameterError.invalid(name, Words("errors.allowed.host_port"), text)
    return Upstream(found["host"], int(found["port"]))


def parse_upstreams(upstreams: str | Iterable[str]) -> list[Upstream]:
    """The servers of ``"127.0.0.1:8867,127.0.0.1:8868"`` (or a list of such addresses), in order.

    Raises
    ------
    ParameterError
        No address, a malformed one (named in the message) or the same one twice.
    """
    items = upstreams.split(",") if isinstance(upstreams, str) else list(upstreams)
    items = [item for item in items if not (isinstance(item, str) and not item.strip())]
    if not items:
        raise ParameterError.invalid("upstreams", Words("errors.allowed.upstreams"), upstreams)
    parsed = [_address(item, "upstreams") for item in items]
    seen: set[Upstream] = set()
    for upstream in parsed:
        if upstream in seen:
            raise ParameterError.invalid("upstreams", Words("errors.allowed.each_once", twice=str(upstream)),
                                         upstreams)
        seen.add(upstream)
    return parsed


def parse_listen(listen: str | int) -> str:
    """nginx's ``listen`` address: ``PORT`` (every address) or ``HOST:PORT``.

    Raises
    ------
    ParameterError
        Anything else.
    """
    text = str(listen).strip()
    if text.isdigit() and 1 <= int(text) <= 65535:
        return text
    return str(_address(text, "listen"))


def _check_name(value: str, name: str, pattern: re.Pattern, expected: Words) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise ParameterError.invalid(name, expected, value)
    return value


def _quoted_path(value, name: str) -> str:
    text = str(value)
    if not text or any(ch in text for ch in '";{}\n\r\\') or not Path(text).is_absolute():
        raise ParameterError.invalid(name, Words("errors.allowed.nginx_path"), text)
    return f'"{text}"'


def nginx_site(upstreams: str | Iterable[str], *, listen: str | int = DEFAULT_LISTEN, server_name: str = "_",
               tls_certificate: str | Path | None = None, tls_key: str | Path | None = None,
               upstream_header: bool = False, cookie_name: str = SESSION_COOKIE,
               max_body: str = "10m") -> str:
    """The nginx blocks (``http`` context) putting ``upstreams`` behind one address, sticky per session.

    Drop the text into ``/etc/nginx/conf.d/workbench.conf`` (Debian's nginx
    reads that folder inside ``http``), or wrap it with :func:`nginx_standalone`.

    Parameters
    ----------
    upstreams : str or iterable of str
        The servers' ``HOST:PORT`` (``workbench serve --port``), comma-separated or a list.
    listen : str or int
        Where nginx listens: ``PORT`` or ``HOST:PORT`` (default :data:`DEFAULT_LISTEN`).
    server_name : str
        The site's host name (``_``: any).
    tls_certificate, tls_key : path, optional
        PEM certificate (chain) and key: nginx then speaks HTTPS on ``listen`` and the servers see
        ``X-Forwarded-Proto: https``.  Both or neither.
    upstream_header : bool
        Add :data:`UPSTREAM_HEADER` naming the server that answered (tests and diagnosis only: it tells
        a visitor the servers' addresses).
    cookie_name : str
        The servers' session cookie (the key of the sticky hash).
    max_body : str
        Largest request body (nginx size, e.g. ``10m``): sign-in forms and small uploads.

    Returns
    -------
    str
        The configuration text.

    Raises
    ------
    ParameterError
        A bad address, name or path, or only one of certificate and key.
    """
    servers = parse_upstreams(upstreams)
    address = parse_listen(listen)
    _check_name(server_name, "server_name", _SERVER_NAME, Words("errors.allowed.server_name"))
    _check_name(cookie_name, "cookie_name", _COOKIE, Words("errors.allowed.cookie_name"))
    _check_name(max_body, "max_body", re.compile(r"^[0-9]{1,6}[kKmMgG]?$"), Words("errors.allowed.nginx_size"))
    if (tls_certificate is None) != (tls_key is None):
        raise ParameterError.invalid("tls_key" if tls_key is None else "tls_certificate",
                                     Words("errors.allowed.tls_pair"), None)
    tls = tls_certificate is not None
    cookie = cookie_name.replace(".", r"\.")  # the only regex character a cookie name may hold
    lines = [
        "# Generated by `workbench deploy nginx` (workbench.apps.deploy); regenerate rather than edit.",
        "# WebSockets: 'Connection: upgrade' only when the browser asks for an upgrade.",
        "map $http_upgrade $workbench_connection {",
        "    default upgrade;",
        "    ''      close;",
        "}",
        "# The session cookie's value: the key that keeps a signed-in browser on one server.",
        "map $http_cookie $workbench_session {",
        '    default "";',
        f'    "~(?:^|;\\s*){cookie}=(?<workbench_sid>[^;]+)" $workbench_sid;',
        "}",
        "upstream workbench_apps {",
        "    hash $workbench_session consistent;  # one browser session, one server (its kernels live there)",
    ]
    lines += [f"    server {s} max_fails=3 fail_timeout=30s;" for s in servers]
    lines += ["}", "server {"]
    lines.append(f"    listen {address}{' ssl' if tls else ''};")
    lines.append(f"    server_name {server_name};")
    lines.append("    server_tokens off;")
    if tls:
        lines += [
            f"    ssl_certificate {_quoted_path(tls_certificate, 'tls_certificate')};",
            f"    ssl_certificate_key {_quoted_path(tls_key, 'tls_key')};",
            "    ssl_protocols TLSv1.2 TLSv1.3;",
            "    ssl_session_cache shared:workbench_tls:10m;",
        ]
    lines += [
        f"    client_max_body_size {max_body};",
        "    location / {",
        "        proxy_pass http://workbench_apps;",
        "        proxy_http_version 1.1;",
        "        proxy_set_header Host $http_host;  # with the port: Jupyter compares a WebSocket's Origin with it",
        "        proxy_set_header X-Real-IP $remote_addr;  # sign-in throttling per client (serve --behind-proxy)",
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "        proxy_set_header X-Forwarded-Proto $scheme;  # https: the session cookie is marked Secure",
        "        proxy_set_header Upgrade $http_upgrade;",
        "        proxy_set_header Connection $workbench_connection;",
        f"        proxy_read_timeout {_IDLE_S}s;",
        f"        proxy_send_timeout {_IDLE_S}s;",
        "        proxy_buffering off;  # Voila streams a page while its notebook runs",
    ]
    if tls:
        lines.append('        add_header Strict-Transport-Security "max-age=31536000" always;')
    if upstream_header:
        lines.append(f"        add_header {UPSTREAM_HEADER} $upstream_addr always;  # tests and diagnosis only")
    lines += ["    }", "}"]
    return "\n".join(lines) + "\n"


def nginx_standalone(upstreams: str | Iterable[str], run_dir: str | Path, **site) -> str:
    """A whole ``nginx.conf`` around :func:`nginx_site` for an nginx run by an unprivileged user.

    Pid file, error and access logs and nginx's temporary folders all lie in
    ``run_dir``; nginx stays in the foreground as one process (``daemon off``,
    ``master_process off``) so whoever starts it (a test, a supervisor) stops it
    with SIGTERM.  Start it with :func:`nginx_command`.  Keyword arguments go to
    :func:`nginx_site`; the access log names the server of each request
    (``upstream=``).
    """
    run = Path(run_dir).resolve()
    path = lambda name: _quoted_path(run / name, "run_dir")  # noqa: E731
    temp = [f"    {kind}_temp_path {path('tmp/' + kind)};" for kind in ("client_body", "proxy", "fastcgi",
                                                                          "uwsgi", "scgi")]
    site_text = "\n".join(f"    {line}" if line else line for line in nginx_site(upstreams, **site).splitlines())
    return "\n".join([
        "# A foreground, single-process nginx of `workbench deploy nginx --run-dir` (tests, trials).",
        "daemon off;",
        "master_process off;",
        f"pid {path('nginx.pid')};",
        f"error_log {path('error.log')} warn;",
        "events {",
        "    worker_connections 1024;  # an open app page holds two (browser and server side of its WebSocket)",
        "}",
        "http {",
        "    default_type application/octet-stream;",
        "    log_format workbench '$remote_addr [$time_local] \"$request\" $status $body_bytes_sent '",
        "                         'upstream=$upstream_addr rt=$request_time';",
        f"    access_log {path('access.log')} workbench;",
        *temp,
        site_text,
        "}",
    ]) + "\n"


def nginx_command(run_dir: str | Path, *, binary: str = "nginx", check: bool = False) -> list[str]:
    """The command starting (``check``: only testing) the nginx of :func:`nginx_standalone` in ``run_dir``.

    ``-e`` sends nginx's start-up messages to the run folder's error log
    instead of ``/var/log/nginx``, which an unprivileged user cannot write.
    """
    run = Path(run_dir).resolve()
    command = [binary, "-p", str(run), "-c", str(run / "nginx.conf"), "-e", str(run / "error.log")]
    return command + (["-t", "-q"] if check else [])


def serve_commands(upstreams: str | Iterable[str], *,
                   cookie_secret: str | Path = "runs/serve/cookie_secret") -> list[str]:
    """The ``workbench serve`` command of each upstream (for the configuration's comment and the docs).

    Every server gets its own state folder, the one shared cookie secret and ``--behind-proxy``; the
    store is ``$WORKBENCH_STORE_URL`` (the same PostgreSQL store for all).
    """
    return [f"workbench serve --port {u.port} --state runs/serve-{u.port} --cookie-secret {cookie_secret} "
            "--behind-proxy" for u in parse_upstreams(upstreams)]


def write_nginx_config(path: str | Path, upstreams: str | Iterable[str], *, run_dir: str | Path | None = None,
                       **site) -> Path:
    """Write :func:`nginx_site` (or, with ``run_dir``, :func:`nginx_standalone`) to ``path``; returns it.

    With ``run_dir`` the folder and nginx's temporary folders are made (owner-only).
    """
    if run_dir is None:
        text = nginx_site(upstreams, **site)
    else:
        text = nginx_standalone(upstreams, run_dir, **site)
        for sub in ("", "tmp"):
            (Path(run_dir) / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    servers = "\n".join(f"#   {line}" for line in serve_commands(upstreams))
    text = (f"# The servers behind it, one command each, all with the same $WORKBENCH_STORE_URL (PostgreSQL):\n"
            f"{servers}\n{text}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


async def end_signed_out_kernels(manager, store) -> list[str]:
    """Shut down the kernels in ``manager`` whose owners hold no valid session in ``store`` any more.

    A user signed out everywhere (or deactivated sessions, or an expired sign-in) through another
    server keeps no page here.  Returns the ids of the kernels shut down.

    Parameters
    ----------
    manager : workbench.apps.kernels.OwnedKernelManager
        This server's kernels and their owners.
    store : workbench.store.Store
        The shared store (its ``app_sessions``).
    """
    import asyncio

    from jupyter_core.utils import ensure_async

    owned = {kid: manager.kernel_owner(kid) for kid in list(manager.list_kernel_ids())}
    owners = {owner for owner in owned.values() if owner}
    if not owners:
        return []
    valid = await asyncio.get_running_loop().run_in_executor(None, store.signed_in, owners)
    ended = []
    for kernel_id, owner in owned.items():
        if owner and owner not in valid and kernel_id in manager:
            await ensure_async(manager.shutdown_kernel(kernel_id))
            manager.log.info("kernel %s of %r shut down: signed out (no valid session left)", kernel_id, owner)
            ended.append(kernel_id)
    return ended


def sweep_signed_out_kernels(manager, provider, interval_s: float):
    """Run :func:`end_signed_out_kernels` every ``interval_s`` seconds on the current IO loop; the started
    ``tornado.ioloop.PeriodicCallback`` (the provider gives the store)."""
    from tornado.ioloop import PeriodicCallback

    async def sweep() -> None:
        try:
            await end_signed_out_kernels(manager, provider.store)
        except Exception:  # a store hiccup: try again at the next sweep, never stop the server
            manager.log.exception("checking the kernels' owners against the store's sessions failed")

    callback = PeriodicCallback(sweep, interval_s * 1000.0)
    callback.start()
    return callback
