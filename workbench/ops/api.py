"""The real-time look-up API: operational systems ask for one subscriber's published card.

``workbench api serve`` runs :func:`create_app` under uvicorn on 127.0.0.1.  A calling
system (the CRM of the halls, the call centre's desktop, the OCS) holds a token made by
``workbench api token create NAME --scope province|branch:ID`` and sends it as
``Authorization: Bearer <token>``.

==============================================================  ======================================
``GET /v1/subscribers/{subscriber_id}``                          the card: scores, grades, deciles,
                                                                 reasons, offers, versions, valid dates
``GET /v1/subscribers/{subscriber_id}/eligibility/{product_id}``  may they order it, and why not
``GET /openapi.json``                                             the OpenAPI description
==============================================================  ======================================

Words (reasons, answers, errors) are Chinese unless ``?lang=en`` or ``Accept-Language``
prefers English.  Answers: 200; 401 without a valid token; 403 for a subscriber outside the
token's branch; 404 for an unknown subscriber or product; 422 for a malformed id.  Numbers
are masked (the published rows hold no full number).

Each request costs one indexed query (:meth:`workbench.store.Store.published_rows`), run on
the event loop itself: a primary-key read takes well under a millisecond, less than handing
the request to a worker thread would (measured: about half the latency at 8 clients); the
current versions and valid tokens are re-read every ``refresh_seconds``, so a revoked
token is refused within that time.  Every call under ``/v1`` is audited: the call is queued
in memory (:class:`AuditQueue`) and a background thread writes the queue to ``audit_log``
every ``flush_seconds`` in one transaction; a clean shutdown (SIGINT/SIGTERM) writes what
is left before the process exits.  Only a crash loses the calls of the last interval.
"""
from __future__ import annotations

import collections
import datetime as dt
import logging
import re
import threading
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from workbench.errors import ParameterError
from workbench.i18n import LANGUAGES, t
from workbench.ops.card import UnknownProduct, build_card, eligibility

__all__ = ["create_app", "serve", "AuditQueue", "pick_language", "HOST", "DEFAULT_PORT", "MAX_SUBSCRIBER_ID"]

log = logging.getLogger(__name__)

#: The API listens on the loopback unless told otherwise.
HOST = "127.0.0.1"
DEFAULT_PORT = 8870
#: Largest subscriber id (a signed 64-bit integer, the column's type).
MAX_SUBSCRIBER_ID = 2**63 - 1
_SUBSCRIBER = re.compile(r"[1-9][0-9]{0,18}")
_PRODUCT = re.compile(r"[A-Za-z0-9_-]{1,32}")
_BEARER = re.compile(r"bearer\s+(\S+)\s*", re.IGNORECASE)


def pick_language(query: str | None, accept: str | None) -> str:
    """The language of an answer: ``?lang=`` if given, else the first of zh/en ``Accept-Language`` prefers, else zh.

    Raises
    ------
    ParameterError
        ``query`` is given but neither zh nor en.
    """
    if query is not None:
        if query not in LANGUAGES:
            raise ParameterError(t("ops_api.error.lang", "en", got=query))
        return query
    best, best_q = "zh", -1.0
    for i, part in enumerate((accept or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGUAGES:
            continue
        q = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                q = float(match.group(1))
            except ValueError:
                q = 0.0
        if q - i * 1e-6 > best_q:
            best, best_q = lang, q - i * 1e-6
    return best


class AuditQueue:
    """API calls waiting to be written to ``audit_log`` (a background thread writes them in batches).

    Parameters
    ----------
    store : workbench.store.Store
        Where the calls are written (:meth:`~workbench.store.Store.record_api_calls`).
    flush_seconds : float
        Longest time a call waits in memory.
    max_batch : int
        Calls written per transaction at most.
    """

    def __init__(self, store, *, flush_seconds: float = 1.0, max_batch: int = 2000):
        self.store = store
        self.flush_seconds = float(flush_seconds)
        self.max_batch = int(max_batch)
        self._calls: collections.deque = collections.deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0

    def put(self, call: dict) -> None:
        """Queue one call (thread-safe, no I/O)."""
        self._calls.append(call)
        if len(self._calls) >= self.max_batch:
            self._wake.set()

    def start(self) -> None:
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._run, name="api-audit", daemon=True)
        self._thread.start()

    def flush(self) -> int:
        """Write every queued call now; returns how many were written.  A failed batch goes back to the queue."""
        total = 0
        while self._calls:
            batch = []
            while self._calls and len(batch) < self.max_batch:
                batch.append(self._calls.popleft())
            try:
                total += self.store.record_api_calls(batch)
            except Exception:
                self._calls.extendleft(reversed(batch))
                raise
        self.written += total
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the database is away: keep the calls, try again next time
                log.exception("writing API calls to audit_log failed; %d call(s) kept for the next try",
                              len(self._calls))

    def stop(self) -> int:
        """Stop the thread and write what is left (clean shutdown); returns the calls written last."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        return self.flush()


class _Audit:
    """Pure ASGI middleware: every request under ``/v1`` becomes one queued audit call."""

    def __init__(self, app, queue: AuditQueue):
        self.app = app
        self.queue = queue

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = {"code": 500}

        async def send_status(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            state = scope.get("state") or {}
            self.queue.put({
                "at": dt.datetime.now(dt.timezone.utc), "caller": state.get("caller"),
                "action": state.get("action", "api.other"), "path": scope["path"][:200],
                "status": status["code"], "ms": round((time.perf_counter() - start) * 1000, 2),
                "subscriber_id": state.get("subscriber_id"), "product": state.get("product"),
                "client": (scope.get("client") or ("", 0))[0],
            })


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"status": status, "detail": message}, status_code=status, headers=headers)


def create_app(store, *, flush_seconds: float = 1.0, title: str = "workbench look-up API"):
    """The FastAPI application over ``store`` (its lifespan starts and stops the audit writer).

    Parameters
    ----------
    store : workbench.store.Store
        The campaign store holding the published results and the tokens.
    flush_seconds : float
        How often the audit queue is written.

    Returns
    -------
    fastapi.FastAPI
        ``app.state.audit`` is its :class:`AuditQueue`.
    """
    queue = AuditQueue(store, flush_seconds=flush_seconds)

    @asynccontextmanager
    async def lifespan(app):
        store.refresh_lookup(force=True)
        queue.start()
        try:
            yield
        finally:
            queue.stop()

    app = FastAPI(title=title, version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="Published results of the precision-marketing workbench, one subscriber at a time "
                              "(masked numbers). Send `Authorization: Bearer <token>`.")
    app.state.audit = queue

    def caller_of(request: Request, authorization: str | None):
        match = _BEARER.fullmatch(authorization or "")
        caller = store.verify_api_token(match.group(1)) if match else None
        if caller is not None:
            request.state.caller = caller.name
        return caller

    def card_for(request: Request, subscriber_id: str, authorization: str | None, lang: str | None,
                 accept: str | None, product_id: str | None = None):
        """(card, None) or (None, an error response)."""
        try:
            language = pick_language(lang, accept)
        except ParameterError as exc:
            return None, _error(422, str(exc))
        caller = caller_of(request, authorization)
        if caller is None:
            return None, _error(401, t("ops_api.error.no_token", language), {"WWW-Authenticate": "Bearer"})
        if not _SUBSCRIBER.fullmatch(subscriber_id) or int(subscriber_id) > MAX_SUBSCRIBER_ID:
            return None, _error(422, t("ops_api.error.subscriber_id", language, max=MAX_SUBSCRIBER_ID,
                                       got=subscriber_id))
        if product_id is not None and not _PRODUCT.fullmatch(product_id):
            return None, _error(422, t("ops_api.error.product_id", language, got=product_id))
        sid = int(subscriber_id)
        request.state.subscriber_id = sid
        rows = store.published_rows(sid)
        if not rows:
            return None, _error(404, t("ops_api.error.no_subscriber", language, subscriber_id=sid))
        outside = next((r["branch_id"] for r in rows if not caller.allows(r["branch_id"])), None)
        if outside is not None:
            return None, _error(403, t("ops_api.error.scope", language, branch=outside, scope=caller.scope))
        return build_card(rows, store.current_versions(), language), None

    responses = {401: {"description": "no valid token"}, 403: {"description": "outside the token's branch"},
                 404: {"description": "unknown subscriber (or product)"}, 422: {"description": "malformed id"}}

    @app.get("/v1/subscribers/{subscriber_id}", responses=responses, summary="A subscriber's published card")
    async def subscriber_card(request: Request,
                        subscriber_id: str = Path(description="subscriber id, a positive whole number"),
                        lang: str | None = Query(None, description="zh or en (default: Accept-Language, else zh)"),
                        authorization: str | None = Header(None),
                        accept_language: str | None = Header(None)):
        request.state.action = "api.card"
        card, error = card_for(request, subscriber_id, authorization, lang, accept_language)
        return error or JSONResponse(card)

    @app.get("/v1/subscribers/{subscriber_id}/eligibility/{product_id}", responses=responses,
             summary="May the subscriber order the product, and why not")
    async def product_eligibility(request: Request,
                            subscriber_id: str = Path(description="subscriber id, a positive whole number"),
                            product_id: str = Path(description="product id, as in the card's offers"),
                            lang: str | None = Query(None, description="zh or en"),
                            authorization: str | None = Header(None),
                            accept_language: str | None = Header(None)):
        request.state.action = "api.eligibility"
        request.state.product = product_id[:40]
        card, error = card_for(request, subscriber_id, authorization, lang, accept_language, product_id)
        if error is not None:
            return error
        language = card["language"]
        try:
            return JSONResponse(eligibility(card, product_id, language))
        except UnknownProduct as exc:
            return _error(404, str(exc))

    app.add_middleware(_Audit, queue=queue)
    return app


def serve(store_url: str | None = None, *, host: str = HOST, port: int = DEFAULT_PORT,
          refresh_seconds: float = 5.0, flush_seconds: float = 1.0, log_level: str = "warning") -> None:
    """Run the API under uvicorn until SIGINT/SIGTERM (then the audit queue is written and the store closed).

    Parameters
    ----------
    store_url : str, optional
        The campaign store (default ``$WORKBENCH_STORE_URL`` / the workspace's).
    host, port
        Where to listen (the loopback by default).
    refresh_seconds : float
        How often the current versions and valid tokens are re-read.
    flush_seconds : float
        How often the audit queue is written.
    """
    import uvicorn

    from workbench.store import Store, engine_for

    if refresh_seconds < 0:
        raise ParameterError.invalid("refresh_seconds", "a number >= 0", refresh_seconds)
    engine = engine_for(store_url, pool_size=16, max_overflow=24)
    store = Store(engine=engine, progress=False)
    store.lookup_refresh_seconds = float(refresh_seconds)
    try:
        app = create_app(store, flush_seconds=flush_seconds)
        config = uvicorn.Config(app, host=host, port=int(port), server_header=False, access_log=False,
                                log_level=log_level, lifespan="on")
        uvicorn.Server(config).run()
    finally:
        engine.dispose()
