"""More than one ``workbench serve`` behind nginx: the configuration, then two servers sharing one PostgreSQL
store behind a real nginx on loopback - sign-in through nginx, stickiness, WebSockets, and 2 x 20 writers.

The served part is one module-scoped set-up (two servers, one nginx, one database); its writers run in the
servers' own app kernels, through :class:`workbench.apps.worklist.ResultForm` (what the executor app's
"record" button calls), twenty threads per kernel, the two kernels released together.
"""
from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from browser import free_port, start_server, stop_server
from store_fixtures import *  # noqa: F401,F403 - fixtures
from store_fixtures import SPEC, SQLITE_ONLY, fresh_database

from workbench.apps.deploy import (
    SESSION_COOKIE, UPSTREAM_HEADER, nginx_command, nginx_site, write_nginx_config,
)
from workbench.apps.identity import StoreIdentityProvider
from workbench.apps.server import SECRET_FILE, ServeSettings, hold_state, write_config
from workbench.cli import main
from workbench.errors import ParameterError

WRITERS = 20
ROWS_PER_WRITER = 2
#: The two signed-in executors whose pages run the writers (each writes as its team ``<name>_NN``).
LEADS = ("north", "south")
PASSWORD = "deploy-password-1"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


# ------------------------------------------------------------------ the configuration
def test_the_site_is_sticky_per_session_and_passes_websockets_and_the_client():
    text = nginx_site("127.0.0.1:8867, 127.0.0.1:8868", listen="127.0.0.1:8080")
    for line in ("hash $workbench_session consistent;", "server 127.0.0.1:8867 ", "server 127.0.0.1:8868 ",
                 "listen 127.0.0.1:8080;", "proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;",
                 "proxy_set_header Connection $workbench_connection;", "proxy_set_header Host $http_host;",
                 "proxy_set_header X-Real-IP $remote_addr;", "proxy_set_header X-Forwarded-Proto $scheme;",
                 "server_tokens off;", "proxy_buffering off;", f"{SESSION_COOKIE}=(?<workbench_sid>[^;]+)"):
        assert line in text, line
    assert UPSTREAM_HEADER not in text and "ssl" not in text
    tls = nginx_site(["127.0.0.1:8867"], listen=443, server_name="apps.example.cn",
                     tls_certificate="/etc/ssl/apps.pem", tls_key="/etc/ssl/apps.key", upstream_header=True)
    for line in ("listen 443 ssl;", "server_name apps.example.cn;", 'ssl_certificate "/etc/ssl/apps.pem";',
                 'ssl_certificate_key "/etc/ssl/apps.key";', "Strict-Transport-Security", UPSTREAM_HEADER):
        assert line in tls, line


def test_the_session_cookie_is_the_servers():
    from workbench.apps.identity import COOKIE_NAME

    assert SESSION_COOKIE == COOKIE_NAME


@pytest.mark.parametrize("kwargs, message", [
    ({"upstreams": ""}, "'upstreams' parameter must be at least one HOST:PORT"),
    ({"upstreams": "127.0.0.1"}, "'upstreams' parameter must be HOST:PORT .* Got '127.0.0.1'"),
    ({"upstreams": "127.0.0.1:0"}, "port from 1 to 65535"),
    ({"upstreams": "a;b:80"}, "Got 'a;b:80'"),
    ({"upstreams": "127.0.0.1:8867,127.0.0.1:8867"},
     r"each server once \(127.0.0.1:8867 is given twice\). Got '127.0.0.1:8867,127.0.0.1:8867'"),
    ({"upstreams": "127.0.0.1:8867", "listen": "all"}, "'listen' parameter must be HOST:PORT"),
    ({"upstreams": "127.0.0.1:8867", "server_name": "a b"}, "'server_name' parameter must be a host name"),
    ({"upstreams": "127.0.0.1:8867", "tls_certificate": "/etc/ssl/a.pem"},
     "'tls_key' parameter must be given together with the other"),
    ({"upstreams": "127.0.0.1:8867", "tls_certificate": "a.pem", "tls_key": "/k"},
     "'tls_certificate' parameter must be an absolute path"),
])
def test_a_bad_configuration_is_refused_naming_what_was_wrong(kwargs, message):
    upstreams = kwargs.pop("upstreams")
    with pytest.raises(ParameterError, match=message):
        nginx_site(upstreams, **kwargs)


def test_the_command_writes_the_configuration_and_the_servers_commands(tmp_path, capsys):
    out = tmp_path / "conf.d" / "workbench.conf"
    assert main(["deploy", "nginx", "--upstreams", "127.0.0.1:8867,127.0.0.1:8868", "--out", str(out),
                 "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    text = out.read_text()
    assert "hash $workbench_session consistent;" in text and "listen 127.0.0.1:8080;" in text
    for port in (8867, 8868):
        command = f"workbench serve --port {port} --state runs/serve-{port} --cookie-secret"
        assert command in printed and command in text
    assert "--behind-proxy" in printed and "nginx -t" in printed
    run = tmp_path / "run"
    assert main(["deploy", "nginx", "--upstreams", "127.0.0.1:8867", "--run-dir", str(run), "--lang", "en"]) == 0
    standalone = (run / "nginx.conf").read_text()
    assert f'pid "{run / "nginx.pid"}";' in standalone and "daemon off;" in standalone
    assert f'proxy_temp_path "{run / "tmp" / "proxy"}";' in standalone and (run / "tmp").is_dir()
    assert main(["deploy", "nginx", "--upstreams", "127.0.0.1:8867", "--run-dir", str(run), "--out", str(out),
                 "--lang", "en"]) == 1
    assert "'out' parameter must be left out with --run-dir" in capsys.readouterr().err


def test_servers_share_a_cookie_secret_outside_the_served_folder_and_trust_the_proxy_when_told(tmp_path):
    plain = ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / "state")
    assert plain.cookie_secret == tmp_path / "state" / SECRET_FILE and not plain.behind_proxy
    assert "c.WorkbenchVoila.behind_proxy = False" in write_config(plain).read_text()
    shared = ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / "state-2",
                           cookie_secret=tmp_path / "shared" / "secret", behind_proxy=True)
    text = write_config(shared).read_text()
    assert f"Path({str(tmp_path / 'shared' / 'secret')!r}).read_bytes()" in text
    assert "c.WorkbenchVoila.behind_proxy = True" in text
    with pytest.raises(ParameterError, match="'cookie_secret' .* must lie outside the served folder"):
        ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / "state", cookie_secret=tmp_path / "apps" / "s")


class DirectoryIdentityProvider(StoreIdentityProvider):
    """An operator's directory in place of the store's passwords (docs/deploy.md's LDAP sketch, minus LDAP)."""

    directory = {"north": "directory-password"}

    async def authenticate(self, name, password):
        if self.directory.get(name) != password:
            return None
        return await self.lookup_user(name)  # role and branch still come from the store


def test_an_operators_identity_provider_is_served_and_a_foreign_one_refused(tmp_path):
    from workbench.apps.server import prepare_state, voila_app_class

    def app(provider: str, state: str):
        settings = ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / state, kernel_pool=0,
                                 identity_provider=provider)
        served = voila_app_class()(config_file_paths=[str(prepare_state(settings).parent)])
        served.initialize([])
        return served

    ours = app(f"{__name__}.DirectoryIdentityProvider", "state")
    ours.init_settings()
    assert type(ours.identity_provider) is DirectoryIdentityProvider
    foreign = app("jupyter_server.auth.identity.PasswordIdentityProvider", "state-2")
    with pytest.raises(ParameterError, match="identity_provider_class must be StoreIdentityProvider"):
        foreign.init_settings()
    with pytest.raises(ParameterError, match="'identity_provider' parameter must be a dotted class name"):
        ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / "s", identity_provider="x; import os")


def test_one_state_folder_serves_one_server_at_a_time(tmp_path):
    settings = ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / "state")
    held = hold_state(settings)
    try:
        with pytest.raises(ParameterError, match="state folder .* is in use by another running `workbench serve`"):
            hold_state(ServeSettings(port=8868, apps_dir=tmp_path / "apps", state_dir=tmp_path / "state"))
        hold_state(ServeSettings(apps_dir=tmp_path / "apps", state_dir=tmp_path / "state-2")).close()
    finally:
        held.close()
    hold_state(settings).close()  # released with the server


# ------------------------------------------------------------------ two servers behind nginx
#: The writers' app: its kernel runs in the server that rendered the page; twenty threads record results
#: as the signed-in lead's team, released together with the other server's twenty.
WRITERS_CODE = '''\
import os, threading, time
from pathlib import Path
from workbench.apps.hook import signed_in_user
from workbench.apps.worklist import ResultForm
from workbench.store import Store, User, engine_for

lead = signed_in_user(user_name, user_role, user_branch)
url, campaign_id = os.environ["WORKBENCH_STORE_URL"], int(os.environ["WB_DEPLOY_CAMPAIGN"])
gate = Path(os.environ["WB_DEPLOY_GATE"])
team = [User(f"{lead.name}_{i:02d}", "executor", lead.branch_id) for i in range(WRITERS)]
stores = [Store(engine=engine_for(url, pool_size=2), migrate=False, progress=False) for _ in team]
rows = [own.worklist(user, campaign_id)["member_id"].tolist() for own, user in zip(stores, team)]
ready, errors, written = threading.Barrier(len(team)), [], []

def write(own, user, members):
    try:
        ready.wait(timeout=120)
        form = ResultForm(own, user)
        for k, member in enumerate(members):
            written.append(form.submit(member, ("accepted", "refused")[k % 2], f"{user.name} row {k}").created)
    except BaseException as exc:
        errors.append(repr(exc))

(gate / lead.name).touch()  # this server's writers are ready; wait for the other server's
deadline = time.monotonic() + 120
while len(list(gate.iterdir())) < 2 and time.monotonic() < deadline:
    time.sleep(0.02)
together = len(list(gate.iterdir())) == 2
threads = [threading.Thread(target=write, args=args) for args in zip(stores, team, rows)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
for own in stores:
    own.close()
print(f"WRITERS lead={lead.name} server_pid={os.getppid()} together={together} created={sum(written)} "
      f"errors={len(errors)} {errors[:3]}")
'''


def _writers_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('user_name = ""\nuser_role = ""\nuser_branch = ""\nuser_display_name = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(f"WRITERS = {WRITERS}\n" + WRITERS_CODE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["workbench"] = {"app": "executor"}  # stands in for the executor app: executors may open it
    return nb


def _seed(url: str) -> int:
    from workbench.store import SYSTEM_USER, PasswordPolicy, Store

    with Store(url, password_policy=PasswordPolicy.fast_for_tests(), progress=False) as store:
        analyst = store.add_user(SYSTEM_USER, "ana", "analyst", password=PASSWORD)
        executors = []
        for lead in LEADS:
            store.add_user(SYSTEM_USER, lead, "executor", branch_id="urumqi", password=PASSWORD)
            executors += [store.add_user(SYSTEM_USER, f"{lead}_{i:02d}", "executor", branch_id="urumqi",
                                         password=PASSWORD).name for i in range(WRITERS)]
        n = len(executors) * ROWS_PER_WRITER
        members = pd.DataFrame({
            "subscriber_id": range(7000, 7000 + n), "branch_id": ["urumqi"] * n, "group": ["target"] * n,
            "channel": ["outbound_call"] * n, "executor": executors * ROWS_PER_WRITER,
            "msisdn_masked": [f"138****{i:04d}" for i in range(n)],
        })
        return store.release_campaign(analyst, SPEC, members).campaign_id


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen on {port} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, postgres_url):
    """Two ``workbench serve`` (one PostgreSQL store, one cookie secret, --behind-proxy) and nginx in front."""
    from workbench.apps.identity import load_or_create_secret

    root = tmp_path_factory.mktemp("deploy")
    url, drop = fresh_database(postgres_url)
    campaign_id = _seed(url)
    secret = root / "cookie_secret"
    load_or_create_secret(secret)  # made once, before the servers start side by side
    gate = root / "gate"
    gate.mkdir()
    shared_apps = root / "apps"  # one published folder served by both (as docs/deploy.md has it)
    shared_apps.mkdir()
    nbformat.write(_writers_notebook(), shared_apps / "writers.ipynb")
    for name in ("a", "b"):
        (root / name).mkdir()
        (root / name / "apps").symlink_to(shared_apps, target_is_directory=True)
    servers, nginx = {}, None
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WB_DEPLOY_CAMPAIGN", str(campaign_id))
        mp.setenv("WB_DEPLOY_GATE", str(gate))

        def start(name):
            servers[name] = start_server(root / name, url, args=("--cookie-secret", str(secret), "--behind-proxy",
                                                                 "--kernel-pool", "0"))

        starters = [threading.Thread(target=start, args=(name,)) for name in ("a", "b")]
        for thread in starters:
            thread.start()
        for thread in starters:
            thread.join()
    try:
        assert set(servers) == {"a", "b"}, "a server did not start (its log is in the error above)"
        run, port = root / "nginx", free_port()
        upstreams = [f"127.0.0.1:{servers[n].port}" for n in ("a", "b")]
        write_nginx_config(run / "nginx.conf", upstreams, run_dir=run, listen=f"127.0.0.1:{port}",
                           upstream_header=True)
        if not Path(NGINX).exists():
            pytest.fail(f"{NGINX} is missing: run `make test` (it installs the apt package 'nginx') or "
                        "`apt-get install -y nginx`.", pytrace=False)
        subprocess.run(nginx_command(run, binary=NGINX, check=True), check=True, capture_output=True, timeout=30)
        with open(run / "nginx.out", "wb") as out:
            nginx = subprocess.Popen(nginx_command(run, binary=NGINX), stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _wait_for_port(port, nginx, run / "error.log")
        yield {"url": f"http://127.0.0.1:{port}/", "servers": servers, "run": run, "store_url": url,
               "campaign_id": campaign_id, "upstream_of": {f"127.0.0.1:{s.port}": n for n, s in servers.items()}}
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(30)
        for served in servers.values():
            stop_server(served)
        drop()


def _sign_in(base: str, name: str):
    """An HTTP client signed in through ``base``'s real sign-in form (XSRF token from the page)."""
    import httpx

    client = httpx.Client(base_url=base, timeout=300.0)
    form = client.get("login")
    assert form.status_code == 200
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text)[1]
    answer = client.post("login", data={"name": name, "password": PASSWORD, "_xsrf": xsrf})
    assert answer.status_code == 302, answer.text[:500]
    assert client.cookies.get(SESSION_COOKIE)
    return client


def _upstream(client) -> str:
    """The server nginx sends this client's requests to (a page needing no kernel: /login redirects)."""
    answer = client.get("login", params={"next": "/voila/tree"})
    assert answer.status_code == 302 and answer.headers["location"] == "/voila/tree"  # signed in there
    return answer.headers[UPSTREAM_HEADER]


@pytest.fixture(scope="module")
def sessions(cluster):
    """One signed-in client per lead, on two different servers (a new sign-in is a new hash key)."""
    north = _sign_in(cluster["url"], "north")
    home = _upstream(north)
    for _ in range(40):  # each sign-in lands on the other server with probability 1/2
        south = _sign_in(cluster["url"], "south")
        if _upstream(south) != home:
            break
        south.close()
    else:
        pytest.fail("40 sign-ins in a row all landed on one server: the hash does not spread sessions")
    yield {"north": north, "south": south}
    north.close()
    south.close()


@pytest.mark.postgres
@pytest.mark.kernel
def test_a_session_stays_on_one_server_and_is_valid_on_every_server(cluster, sessions):
    import httpx

    for client in sessions.values():
        seen = {_upstream(client) for _ in range(8)}
        assert len(seen) == 1, seen
    assert {_upstream(c) for c in sessions.values()} == set(cluster["upstream_of"])
    log = (cluster["run"] / "access.log").read_text()
    assert all(f"upstream={address}" in log for address in cluster["upstream_of"])
    # signed in through nginx on one server, the same cookie is a valid session on the other too
    cookie = {SESSION_COOKIE: sessions["north"].cookies[SESSION_COOKIE]}
    for served in cluster["servers"].values():
        with httpx.Client(base_url=served.url, cookies=cookie) as direct:
            answer = direct.get("login", params={"next": "/voila/tree"})
            assert answer.status_code == 302 and answer.headers["location"] == "/voila/tree", served.url
        with httpx.Client(base_url=served.url) as anonymous:
            assert anonymous.get("login", params={"next": "/voila/tree"}).status_code == 200  # the form


@pytest.mark.postgres
@pytest.mark.kernel
def test_the_servers_see_the_client_address_and_scheme_the_proxy_passes(cluster):
    import httpx
    import sqlalchemy as sa

    served = cluster["servers"]["a"]
    proxied = {"X-Real-IP": "203.0.113.7", "X-Forwarded-Proto": "https"}  # what nginx sends behind TLS
    with httpx.Client(base_url=served.url, headers=proxied) as client:
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', client.get("login").text)[1]
        answer = client.post("login", data={"name": "ana", "password": PASSWORD, "_xsrf": xsrf})
    assert answer.status_code == 302
    session_cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "; secure" in session_cookie.lower()  # the browser sends it over HTTPS only
    from workbench.store import engine_for

    engine = engine_for(cluster["store_url"])
    with engine.connect() as conn:
        clients = conn.execute(sa.text("SELECT client FROM app_sessions WHERE user_name = 'ana'")).scalars().all()
    engine.dispose()
    assert clients == ["203.0.113.7"]


@pytest.mark.postgres  # with the other nginx tests (make test-fast needs no nginx)
def test_the_tls_configuration_is_one_nginx_accepts(tmp_path):
    cert, key = tmp_path / "apps.pem", tmp_path / "apps.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=apps.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    run = tmp_path / "run"
    write_nginx_config(run / "nginx.conf", "127.0.0.1:8867,127.0.0.1:8868", run_dir=run, listen="127.0.0.1:8443",
                       server_name="apps.test", tls_certificate=cert, tls_key=key)
    checked = subprocess.run(nginx_command(run, binary=NGINX, check=True), capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


async def _kernel_info(url: str, cookies: dict[str, str], origin: str) -> str:
    """Open a kernel's WebSocket at ``url`` and ask for ``kernel_info``; its reply's status."""
    import uuid

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Origin": origin}
    ws = await websocket_connect(HTTPRequest(url, headers=headers, connect_timeout=30))
    try:
        msg_id = uuid.uuid4().hex
        await ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "kernel_info_request", "session": uuid.uuid4().hex,
                       "username": "", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "content": {}, "channel": "shell", "buffers": []}))
        while True:
            message = await asyncio.wait_for(ws.read_message(), 60)
            assert message is not None, "the kernel's WebSocket closed without a reply"
            reply = json.loads(message)
            if reply.get("parent_header", {}).get("msg_id") == msg_id and reply["msg_type"] == "kernel_info_reply":
                return reply["content"]["status"]
    finally:
        ws.close()


@pytest.mark.postgres
@pytest.mark.kernel
def test_two_servers_behind_nginx_lose_no_result_of_two_times_twenty_concurrent_writers(cluster, sessions):
    from tornado.httpclient import HTTPClientError

    from workbench.store import SYSTEM_USER, Store

    pages: dict[str, object] = {}

    def render(lead: str) -> None:
        pages[lead] = sessions[lead].get("voila/render/writers.ipynb")

    threads = [threading.Thread(target=render, args=(lead,)) for lead in LEADS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pids = {str(s.process.pid): f"127.0.0.1:{s.port}" for s in cluster["servers"].values()}
    kernels = {}
    for lead in LEADS:
        page = pages[lead]
        assert page.status_code == 200, page.text[-2000:]
        found = re.search(r"WRITERS lead=(\w+) server_pid=(\d+) together=(\w+) created=(\d+) errors=(\d+)", page.text)
        assert found, page.text[-3000:]
        assert found[1] == lead and found[3] == "True" and found[5] == "0", found[0]
        assert int(found[4]) == WRITERS * ROWS_PER_WRITER
        assert pids[found[2]] == page.headers[UPSTREAM_HEADER]  # the kernel ran where nginx sent the page
        config = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page.text, re.S)
        kernels[lead] = (json.loads(config[1])["kernelId"], page.headers[UPSTREAM_HEADER])
    assert kernels["north"][1] != kernels["south"][1]  # the two kernels ran on the two servers

    with Store(cluster["store_url"], migrate=False, progress=False) as store:
        results = store.contact_results(SYSTEM_USER, cluster["campaign_id"])
        audit = store.audit_log(SYSTEM_USER, campaign_id=cluster["campaign_id"], action="record_result")
    expected = {(f"{lead}_{i:02d}", ("accepted", "refused")[k], f"{lead}_{i:02d} row {k}")
                for lead in LEADS for i in range(WRITERS) for k in range(ROWS_PER_WRITER)}
    assert len(results) == len(expected) == 2 * WRITERS * ROWS_PER_WRITER
    assert set(zip(results["executor"], results["result"], results["note"])) == expected
    assert results["member_id"].is_unique and results["client_request_id"].is_unique
    assert len(audit) == len(expected)

    # a page's widgets reach its kernel through nginx's WebSocket; the other server does not hold it
    origin = cluster["url"].rstrip("/")
    for lead, (kernel_id, upstream) in kernels.items():
        cookies = dict(sessions[lead].cookies)
        ws = cluster["url"].replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
        assert asyncio.run(_kernel_info(ws, cookies, origin)) == "ok"
        other = next(s for a, s in ((f"127.0.0.1:{s.port}", s) for s in cluster["servers"].values()) if a != upstream)
        direct = other.url.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
        with pytest.raises(HTTPClientError):
            asyncio.run(_kernel_info(direct, cookies, other.url.rstrip("/")))


@pytest.mark.postgres
@pytest.mark.kernel
def test_signing_out_everywhere_through_one_server_ends_the_users_pages_on_the_other(cluster, sessions):
    import httpx

    south = sessions["south"]
    page = south.get("voila/render/whoami.ipynb")
    assert page.status_code == 200
    kernel_id = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                     page.text, re.S)[1])["kernelId"]
    home = cluster["upstream_of"][page.headers[UPSTREAM_HEADER]]
    other = cluster["servers"]["b" if home == "a" else "a"]
    with httpx.Client(base_url=other.url) as elsewhere:  # the same person at another computer, on the other server
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', elsewhere.get("login").text)[1]
        assert elsewhere.post("login", data={"name": "south", "password": PASSWORD, "_xsrf": xsrf}).status_code == 302
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', elsewhere.get("logout").text)[1]
        assert elsewhere.post("logout", data={"all": "1", "_xsrf": xsrf}).status_code == 200
    served = cluster["servers"][home]
    served.wait_for_log(f"kernel {kernel_id} of 'south' shut down: signed out", timeout=60)
    assert south.get("login", params={"next": "/voila/tree"}).status_code == 200  # the session is gone too


def test_only_the_kernels_of_users_without_a_valid_session_are_ended():
    from types import SimpleNamespace

    from workbench.apps.deploy import end_signed_out_kernels

    class Manager(dict):
        log = SimpleNamespace(info=lambda *args: None)

        def list_kernel_ids(self):
            return list(self)

        def kernel_owner(self, kernel_id):
            return self[kernel_id]

        async def shutdown_kernel(self, kernel_id):
            del self[kernel_id]

    manager = Manager(k1="north", k2="south", k3="south", pooled="")
    asked = []
    store = SimpleNamespace(signed_in=lambda names: asked.append(set(names)) or {"north"})
    assert sorted(asyncio.run(end_signed_out_kernels(manager, store))) == ["k2", "k3"]
    assert manager == {"k1": "north", "pooled": ""} and asked == [{"north", "south"}]
    assert asyncio.run(end_signed_out_kernels(Manager(pooled=""), store)) == [] and len(asked) == 1


@SQLITE_ONLY
def test_the_store_says_who_still_holds_a_valid_session(store):
    import datetime as dt

    hour = dt.timedelta(hours=1)
    store.open_session("s-north", "north", lifetime=hour)
    store.open_session("s-south-1", "south", lifetime=hour)
    store.open_session("s-south-2", "south", lifetime=hour)
    store.open_session("s-west", "west", lifetime=-hour)  # expired
    assert store.signed_in(["north", "south", "west", "nobody"]) == {"north", "south"}
    store.revoke_session("s-south-1", actor="south")
    assert store.signed_in(["south"]) == {"south"}  # one session left
    store.revoke_sessions_of("south", actor="south")
    assert store.signed_in(["north", "south"]) == {"north"} and store.signed_in([]) == set()
