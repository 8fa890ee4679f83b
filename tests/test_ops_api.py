"""The look-up API: a real ``workbench api serve`` (uvicorn on 127.0.0.1, a free port) asked with httpx.

Published rows are written straight into the store (tests/lookup_fixtures.py).  Checked: the card and
the eligibility answers (200) in both languages, 401 / 403 / 404 / 422, the OpenAPI description,
no Server header, tokens stored as hashes only, a revoked token refused, every call audited and
the audit queue written on a clean shutdown.
"""
from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from workbench.i18n import t
from browser import free_port
from lookup_fixtures import seed_published

from workbench.errors import AccessDenied, ParameterError
from workbench.ops.api import pick_language
from workbench.store import SYSTEM_USER, Store, User
from workbench.store.access import parse_token_scope

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


class Served:
    def __init__(self, store_url: str, *, refresh: float = 0.2, flush: float = 0.2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workbench", "api", "serve", "--port", str(self.port), "--store", store_url,
             "--refresh", str(refresh), "--flush", str(flush)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"workbench api serve exited: {self.process.stdout.read()}")
            try:
                if httpx.get(self.url + "/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("workbench api serve did not answer within 60 s")
            time.sleep(0.1)

    def get(self, path: str, token: str | None = None, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.get(self.url + path, headers=headers, timeout=10, **kwargs)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    url = f"sqlite:///{root / 'store.sqlite'}"
    with Store(url, progress=False) as store:
        versions = seed_published(store.engine)
        tokens = {name: store.create_api_token(SYSTEM_USER, name, scope)
                  for name, scope in (("crm", "province"), ("hall-hami", "branch:hami"), ("old", "province"))}
    served = Served(url)
    try:
        yield served, tokens, versions, url, root / "store.sqlite"
    finally:
        served.stop()


def test_the_card_holds_every_current_version_masked_and_in_words(api):
    served, tokens, versions, *_ = api
    r = served.get("/v1/subscribers/1001?lang=en", tokens["crm"])
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["subscriber_id"] == 1001 and card["branch_id"] == "urumqi" and card["msisdn_masked"] == "138****1001"
    assert [(x["kind"], x["version_id"]) for x in card["results"]] == [("target", versions["target"]),
                                                                       ("credit", versions["credit"])]
    target, credit = card["results"]
    assert target["score"] == 0.8125 and target["decile"] == 1 and target["model_version"] == "m1"
    assert target["valid_from"] == "2026-12-01" and target["valid_to"] == "2026-12-31"
    assert target["reasons"] == [{"code": "news_reader", "text": "reads news often"}]
    assert credit["grade"] == "D" and credit["valid_to"] is None
    assert card["eligible_offers"] == ["MNP_NEWS"]
    stock = next(o for o in card["offers"] if o["product"] == "STOCK")
    assert [x["code"] for x in stock["reasons"]] == ["handset", "credit_grade:D"]
    # Chinese by default, English when Accept-Language prefers it
    zh = served.get("/v1/subscribers/1001", tokens["crm"]).json()
    assert zh["results"][0]["reasons"][0]["text"] == "常读新闻" and zh["language"] == "zh"
    en = served.get("/v1/subscribers/1001", tokens["crm"], headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert en.json()["language"] == "en"
    assert "1381" not in r.text.replace("138****1001", "")          # no full number anywhere


def test_eligibility_answers_why_not_in_both_languages(api):
    served, tokens, *_ = api
    ok = served.get("/v1/subscribers/1001/eligibility/MNP_NEWS?lang=en", tokens["crm"]).json()
    assert ok["eligible"] is True and ok["reasons"] == [] and ok["answer"] == "MNP_NEWS can be ordered"
    stock = served.get("/v1/subscribers/1001/eligibility/STOCK?lang=en", tokens["crm"]).json()
    assert stock["eligible"] is False
    # the words are the catalogue's (labels/ops.yaml), both refusals named, in the asked language
    assert stock["answer"] == (f"STOCK cannot be ordered: {t('ops.reason.handset', lang='en')}; "
                               f"{t('ops.reason.credit_grade', lang='en', arg='D')}")
    held = served.get("/v1/subscribers/1001/eligibility/FETION", tokens["crm"]).json()
    assert held["answer"] == f"不能办理 FETION：{t('ops.reason.held', lang='zh')}"
    hami = served.get("/v1/subscribers/2001/eligibility/FETION?lang=en", tokens["hall-hami"]).json()
    assert hami["reasons"][0]["text"] == t("ops.reason.exclusive", lang="en", arg="MNP_NEWS")
    assert "MNP_NEWS" in hami["reasons"][0]["text"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wbk_not-a-token"},
                                     {"Authorization": "Basic Y3JtOnNlY3JldA=="}, {"Authorization": "Bearer"}])
def test_no_valid_token_is_401(api, headers):
    served, *_ = api
    r = served.get("/v1/subscribers/1001", headers=dict(headers))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in r.json()["detail"]
    assert "score" not in r.text


def test_a_branch_token_reads_its_branch_only(api):
    served, tokens, *_ = api
    assert served.get("/v1/subscribers/2001", tokens["hall-hami"]).status_code == 200
    r = served.get("/v1/subscribers/1001?lang=en", tokens["hall-hami"])
    assert r.status_code == 403
    assert r.json()["detail"] == "this subscriber belongs to urumqi; this token may look up branch:hami only"
    assert served.get("/v1/subscribers/1001/eligibility/STOCK", tokens["hall-hami"]).status_code == 403


def test_unknown_subscriber_or_product_is_404(api):
    served, tokens, *_ = api
    r = served.get("/v1/subscribers/424242?lang=en", tokens["crm"])
    assert r.status_code == 404 and r.json()["detail"] == "no published result names subscriber 424242"
    r = served.get("/v1/subscribers/1001/eligibility/RINGBACK?lang=en", tokens["crm"])
    assert r.status_code == 404
    assert r.json()["detail"] == ("the published results of subscriber 1001 name no product RINGBACK; known: "
                                  "FETION, MNP_NEWS, STOCK")
    assert served.get("/v1/nothing", tokens["crm"]).status_code == 404


@pytest.mark.parametrize("path, message", [
    ("/v1/subscribers/abc?lang=en", "subscriber_id must be a whole number from 1 to 9223372036854775807; got 'abc'"),
    ("/v1/subscribers/0?lang=en", "got '0'"),
    ("/v1/subscribers/-5?lang=en", "got '-5'"),
    ("/v1/subscribers/99999999999999999999?lang=en", "got '99999999999999999999'"),
    ("/v1/subscribers/1001/eligibility/bad%20id!?lang=en", "product_id must be 1 to 32 letters, digits, '_' or '-'; "
                                                   "got 'bad id!'"),
    ("/v1/subscribers/1001?lang=fr", "lang must be zh or en; got 'fr'"),
])
def test_malformed_ids_are_422_with_a_clear_message(api, path, message):
    served, tokens, *_ = api
    r = served.get(path, tokens["crm"])
    assert r.status_code == 422
    assert message in r.json()["detail"]


def test_openapi_is_served_without_docs_pages_or_a_server_header(api):
    served, tokens, *_ = api
    spec = served.get("/openapi.json").json()
    assert {"/v1/subscribers/{subscriber_id}", "/v1/subscribers/{subscriber_id}/eligibility/{product_id}"} <= set(
        spec["paths"])
    assert served.get("/docs").status_code == 404 and served.get("/redoc").status_code == 404
    r = served.get("/v1/subscribers/1001", tokens["crm"])
    assert "server" not in r.headers


def test_tokens_are_stored_hashed_never_raw(api):
    served, tokens, _, url, path = api
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT name, token_hash FROM api_tokens")).all())
    engine.dispose()
    assert stored["crm"] == hashlib.sha256(tokens["crm"].encode()).hexdigest()
    data = b"".join(p.read_bytes() for p in path.parent.glob("store.sqlite*"))
    assert all(t.encode() not in data for t in tokens.values())
    listed = _cli("api", "token", "list", "--store", url)
    assert listed.returncode == 0 and "hall-hami" in listed.stdout and "branch:hami" in listed.stdout
    assert tokens["crm"] not in listed.stdout and stored["crm"] not in listed.stdout


def test_a_revoked_token_is_refused(api):
    served, tokens, _, url, _ = api
    assert served.get("/v1/subscribers/1001", tokens["old"]).status_code == 200
    revoked = _cli("api", "token", "revoke", "old", "--store", url)
    assert revoked.returncode == 0, revoked.stderr
    deadline = time.monotonic() + 15                      # the server re-reads tokens every 0.2 s here
    while served.get("/v1/subscribers/1001", tokens["old"]).status_code != 401:
        assert time.monotonic() < deadline, "the revoked token was still accepted after 15 s"
        time.sleep(0.1)
    again = _cli("api", "token", "revoke", "old", "--store", url)
    assert again.returncode == 1 and "was revoked already" in again.stderr
    assert served.get("/v1/subscribers/1001", tokens["crm"]).status_code == 200


def test_token_cli_creates_a_token_once_and_refuses_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LANG", "en")  # the messages are compared in English (the CLI's default is zh)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    made = _cli("api", "token", "create", "ivr", "--scope", "branch:turpan", "--store", url)
    assert made.returncode == 0, made.stderr
    token = made.stdout.splitlines()[0]
    assert token.startswith("wbk_") and len(token) > 40
    with Store(url, progress=False) as store:
        assert store.verify_api_token(token).branch_id == "turpan"
    bad = _cli("api", "token", "create", "x", "--scope", "branch:paris", "--store", url)
    assert bad.returncode == 1 and "'scope' parameter must be 'province' or 'branch:<id>'" in bad.stderr
    twice = _cli("api", "token", "create", "ivr", "--scope", "province", "--store", url)
    assert twice.returncode == 1 and "exists already" in twice.stderr
    unknown = _cli("api", "token", "revoke", "nobody", "--store", url)
    assert unknown.returncode == 1 and "must name an API token, one of ['ivr']" in unknown.stderr


def test_token_rules_live_in_the_store(tmp_path):
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}", progress=False) as store:
        store.add_user(SYSTEM_USER, "ana", "analyst", password="ana-password-1")
        with pytest.raises(AccessDenied, match=r"creating an API token is allowed for roles \['admin'\]"):
            store.create_api_token(User("ana", "analyst"), "crm", "province")
        with pytest.raises(ParameterError, match="'name' parameter must be a printable name of 1 to 48"):
            store.create_api_token(SYSTEM_USER, "", "province")
    assert parse_token_scope("branch:hami") == "hami" and parse_token_scope("province") is None


def test_language_choice():
    assert pick_language(None, None) == "zh"
    assert pick_language(None, "en-US,en;q=0.9") == "en"
    assert pick_language(None, "fr, zh;q=0.4, en;q=0.8") == "en"
    assert pick_language("zh", "en") == "zh"
    with pytest.raises(ParameterError, match="lang must be zh or en; got 'de'"):
        pick_language("de", None)


def test_every_call_is_audited_and_the_queue_is_written_on_clean_shutdown(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with Store(url, progress=False) as store:
        seed_published(store.engine)
        token = store.create_api_token(SYSTEM_USER, "crm", "province")
    served = Served(url, flush=3600)             # nothing is written before the shutdown
    statuses = [served.get("/v1/subscribers/1001", token).status_code,
                served.get("/v1/subscribers/1001/eligibility/STOCK", token).status_code,
                served.get("/v1/subscribers/7").status_code,
                served.get("/v1/subscribers/abc", token).status_code]
    assert statuses == [200, 200, 401, 422]
    with Store(url, progress=False) as store:
        assert store.audit_log(SYSTEM_USER, action="api.card").empty       # still queued in memory
    assert served.stop() in (0, -signal.SIGTERM)   # uvicorn re-raises the signal after its clean shutdown
    with Store(url, progress=False) as store:
        audit = store.audit_log(SYSTEM_USER)
        tokens = store.api_tokens(SYSTEM_USER)
    calls = audit[audit["action"].str.startswith("api.") & (audit["action"] != "api.token_create")]
    calls = calls.sort_values("at")
    assert calls["action"].tolist() == ["api.card", "api.eligibility", "api.card", "api.card"]
    assert calls["user_name"].tolist() == ["api:crm", "api:crm", "api:-", "api:crm"]
    assert [d["status"] for d in calls["details"]] == [200, 200, 401, 422]
    assert calls["details"].iloc[1]["product"] == "STOCK" and calls["details"].iloc[0]["subscriber_id"] == 1001
    assert tokens.loc[tokens["name"] == "crm", "last_used_at"].notna().all()
