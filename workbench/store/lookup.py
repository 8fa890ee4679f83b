"""Reading published results one subscriber at a time, and the look-up API's tokens and audit.

The look-up API (:mod:`workbench.ops.api`) and the hall / call-centre page read a
subscriber's published card while the customer waits, so a request costs **one
indexed query**: ``published_results`` by its primary key ``(version_id,
subscriber_id)`` for the ids of the current versions.  Which versions are
current, and which API tokens are valid, is kept in memory and re-read at most
every :attr:`StoreLookup.lookup_refresh_seconds` (two small queries), so a newly
switched version or a revoked token takes effect within that time.

Tokens are random 32-byte strings (``secrets.token_urlsafe``) printed once at
creation; only their SHA-256 is stored (``api_tokens.token_hash``).  A salted slow
hash (argon2) protects low-entropy passwords; a 256-bit random token cannot be
guessed, and a fast hash keeps verification out of the request's latency.

Every API call is audited (:meth:`StoreLookup.record_api_calls`): the API queues
its calls in memory and writes them in batches (one transaction per batch, also
stamping each token's ``last_used_at``), flushing on clean shutdown.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import insert, select, update

from workbench.checks import jsonable
from workbench.errors import AccessDenied, ParameterError
from workbench.store.access import (
    API_TOKEN_ADMINS, User, lookup_branch, parse_token_scope, require_role, scope_allows,
)
from workbench.store.core import StoreCore, _frame
from workbench.store.models import ApiToken, AuditEntry, PublishedVersion, utcnow

__all__ = ["StoreLookup", "ApiCaller", "CurrentVersion", "CARD_FIELDS", "TOKEN_PREFIX", "hash_token",
           "API_CALL_ACTIONS"]

#: Columns of one published row, in the order :meth:`StoreLookup.published_rows` returns them.
CARD_FIELDS: tuple[str, ...] = ("version_id", "subscriber_id", "branch_id", "msisdn_masked", "score", "grade",
                                "decile", "reasons", "offers")
#: Start of every token (tells a reader what the secret is for).
TOKEN_PREFIX = "wbk_"
#: ``audit_log.action`` of the API's calls.
API_CALL_ACTIONS: tuple[str, ...] = ("api.card", "api.eligibility", "api.other")
_MAX_TOKEN_NAME = 48        # "api:" + name fits audit_log.user_name (64)

_PLACEHOLDER = {"qmark": "?", "numeric": ":1", "named": ":sid", "format": "%s", "pyformat": "%(sid)s"}


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiCaller:
    """A calling system, as its valid token names it.

    Attributes
    ----------
    name : str
        The token's name (one per calling system).
    scope : str
        ``"province"`` or ``"branch:<id>"``.
    branch_id : str or None
        The branch the scope limits it to (None: the whole province).
    """

    name: str
    scope: str
    branch_id: str | None

    def allows(self, branch_id: str | None) -> bool:
        """Whether this caller may read a card of ``branch_id``."""
        return scope_allows(self.branch_id, branch_id)


@dataclass(frozen=True)
class CurrentVersion:
    """The current published version of one kind (what a card names as its source)."""

    id: int
    kind: str
    label: str
    model_version: str
    valid_from: dt.date
    valid_to: dt.date | None
    activated_at: dt.datetime | None


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    loaded_at: float = float("-inf")
    versions: dict[int, CurrentVersion] = field(default_factory=dict)
    tokens: dict[str, ApiCaller] = field(default_factory=dict)
    local: threading.local = field(default_factory=threading.local)
    query: str = ""


class StoreLookup(StoreCore):
    """Published cards one subscriber at a time, API tokens and the API's audit (part of the Store)."""

    #: Seconds between re-reads of the current versions and the valid tokens.
    lookup_refresh_seconds: float = 5.0

    # ------------------------------------------------------------- the cache
    def _lookup_cache(self) -> _Cache:
        cache = self.__dict__.get("_lookup")
        if cache is None:
            cache = self.__dict__.setdefault("_lookup", _Cache())
        return cache

    def refresh_lookup(self, force: bool = False) -> None:
        """Re-read the current versions and the valid tokens when older than the refresh time (or ``force``)."""
        cache = self._lookup_cache()
        if not force and time.monotonic() - cache.loaded_at < self.lookup_refresh_seconds:
            return
        with cache.lock:
            if not force and time.monotonic() - cache.loaded_at < self.lookup_refresh_seconds:
                return
            v, k = PublishedVersion, ApiToken
            with self.engine.connect() as conn:
                versions = conn.execute(
                    select(v.id, v.kind, v.label, v.model_version, v.valid_from, v.valid_to, v.activated_at)
                    .where(v.status == "current").order_by(v.kind)).all()
                tokens = conn.execute(select(k.name, k.scope, k.token_hash).where(k.revoked_at.is_(None))).all()
            cache.versions = {r.id: CurrentVersion(*r) for r in versions}
            cache.query = self._card_query(list(cache.versions))
            cache.tokens = {r.token_hash: ApiCaller(r.name, r.scope, _scope_branch(r.scope)) for r in tokens}
            cache.loaded_at = time.monotonic()

    def current_versions(self) -> dict[int, CurrentVersion]:
        """The current published version of each kind, by version id (cached, see :meth:`refresh_lookup`)."""
        self.refresh_lookup()
        return dict(self._lookup_cache().versions)

    # ------------------------------------------------------------- cards
    def _card_query(self, version_ids: list[int]) -> str:
        """The card's SQL for these current versions (ids are integers from the database, written inline)."""
        if not version_ids:
            return ""
        placeholder = _PLACEHOLDER[self.engine.dialect.paramstyle]
        ids = ", ".join(str(int(v)) for v in version_ids)
        return (f"SELECT {', '.join(CARD_FIELDS)} FROM published_results "
                f"WHERE version_id IN ({ids}) AND subscriber_id = {placeholder}")

    def _reader(self):
        """This thread's own pooled DBAPI connection for card reads, in autocommit mode.

        A request is a single SELECT: SQLAlchemy's per-use checkout, BEGIN and ROLLBACK cost
        about ten times the primary-key lookup itself on SQLite, so each thread keeps one
        connection (SQLite connections of the store are in autocommit already; a PostgreSQL
        one is switched to autocommit, so no transaction stays open between requests).
        """
        local = self._lookup_cache().local
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = self.engine.raw_connection()
            if self.engine.dialect.name == "postgresql":
                conn.driver_connection.autocommit = True
            local.conn = conn
        return conn

    def published_rows(self, subscriber_id: int) -> list[dict]:
        """The rows of ``subscriber_id`` in every current version (one primary-key query; no access check).

        The look-up API decides the caller's scope itself (:class:`ApiCaller`); apps call
        :meth:`subscriber_rows`, which checks the signed-in user.
        """
        self.refresh_lookup()
        query = self._lookup_cache().query
        if not query:
            return []
        sid = int(subscriber_id)
        params = {"sid": sid} if self.engine.dialect.paramstyle in ("named", "pyformat") else (sid,)
        conn = self._reader()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(query, params)
                rows = cursor.fetchall()
            finally:
                cursor.close()
        except Exception:
            self._lookup_cache().local.conn = None
            conn.invalidate()          # a broken connection is not reused
            raise
        return [dict(zip(CARD_FIELDS, r)) for r in rows]

    def close(self) -> None:
        """Release this thread's card-read connection, then the engine (see :meth:`StoreCore.close`)."""
        cache = self.__dict__.get("_lookup")
        conn = getattr(cache.local, "conn", None) if cache is not None else None
        if conn is not None:
            cache.local.conn = None
            conn.close()
        super().close()

    def subscriber_rows(self, user: User, subscriber_id: int) -> list[dict]:
        """:meth:`published_rows` for a signed-in user: branch roles see only their branch's subscribers.

        The look-up is audit-logged (``hall.lookup``), also when refused.

        Raises
        ------
        AccessDenied
            The subscriber belongs to another branch than the user's (branch roles).
        """
        with self._session() as session:
            actor = self._actor(session, user)
        branch = lookup_branch(actor)
        rows = self.published_rows(subscriber_id)
        allowed = all(scope_allows(branch, r["branch_id"]) for r in rows)
        with self._session(write=True) as session:
            self._audit(session, actor, "hall.lookup", subscriber_id=int(subscriber_id), found=bool(rows),
                        allowed=allowed)
        if not allowed:
            raise AccessDenied(f"subscriber {subscriber_id} belongs to another branch than user {actor.name!r}'s "
                               f"({actor.branch_id!r}); branch staff look up their own branch's subscribers only")
        return rows

    # ------------------------------------------------------------- tokens
    def create_api_token(self, user: User, name: str, scope: str) -> str:
        """Create the token of calling system ``name``; returns the token, which is never shown again.

        Raises
        ------
        ParameterError
            A bad name or scope, or a token of that name exists (revoked or not: names are not reused).
        AccessDenied
            ``user`` is not in :data:`~workbench.store.access.API_TOKEN_ADMINS`.
        """
        if not isinstance(name, str) or not name.strip() or len(name) > _MAX_TOKEN_NAME or not name.isprintable():
            raise ParameterError.invalid("name", f"a printable name of 1 to {_MAX_TOKEN_NAME} characters", name)
        parse_token_scope(scope)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, API_TOKEN_ADMINS, "creating an API token")
            if session.execute(select(ApiToken.id).where(ApiToken.name == name)).first() is not None:
                raise ParameterError(f"an API token named {name!r} exists already (names are not reused, also "
                                     "after revoking); choose another name.")
            session.add(ApiToken(name=name, scope=scope, token_hash=hash_token(token), created_at=utcnow(),
                                 created_by=actor.name))
            self._audit(session, actor, "api.token_create", name=name, scope=scope)
        return token

    def revoke_api_token(self, user: User, name: str) -> None:
        """Revoke the token ``name`` (the API refuses it within the refresh time).

        Raises
        ------
        ParameterError
            No token of that name, or it is revoked already.
        """
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, API_TOKEN_ADMINS, "revoking an API token")
            row = session.execute(select(ApiToken).where(ApiToken.name == name)).scalar_one_or_none()
            if row is None:
                known = session.execute(select(ApiToken.name).order_by(ApiToken.name)).scalars().all()
                raise ParameterError(f"The 'name' parameter must name an API token, one of {known}. "
                                     f"Got {name!r} instead.")
            if row.revoked_at is not None:
                raise ParameterError(f"API token {name!r} was revoked already at {row.revoked_at:%Y-%m-%d %H:%M} UTC.")
            row.revoked_at = utcnow()
            self._audit(session, actor, "api.token_revoke", name=name)
        self.refresh_lookup(force=True)

    def api_tokens(self, user: User) -> pd.DataFrame:
        """The API tokens (never their hashes): ``name, scope, created_at, created_by, revoked_at, last_used_at``."""
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, API_TOKEN_ADMINS, "listing API tokens")
            k = ApiToken
            return _frame(session.execute(select(k.name, k.scope, k.created_at, k.created_by, k.revoked_at,
                                                 k.last_used_at).order_by(k.name)))

    def verify_api_token(self, token: str | None) -> ApiCaller | None:
        """The caller a presented token belongs to, or None (unknown, malformed or revoked).

        Valid tokens are held in memory (see :meth:`refresh_lookup`); an unknown token is
        looked up once in the database so a token created a moment ago works at once.
        """
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 128:
            return None
        self.refresh_lookup()
        digest = hash_token(token)
        caller = self._lookup_cache().tokens.get(digest)
        if caller is not None:
            return caller
        k = ApiToken
        with self.engine.connect() as conn:
            row = conn.execute(select(k.name, k.scope).where(k.token_hash == digest, k.revoked_at.is_(None))).first()
        if row is None:
            return None
        caller = ApiCaller(row.name, row.scope, _scope_branch(row.scope))
        self._lookup_cache().tokens[digest] = caller
        return caller

    # ------------------------------------------------------------- audit of API calls
    def record_api_calls(self, calls: list[dict]) -> int:
        """Write a batch of API calls to ``audit_log`` in one transaction; stamp each token's ``last_used_at``.

        Parameters
        ----------
        calls : list of dict
            Each with ``at`` (aware datetime), ``caller`` (token name or None), ``action`` (one of
            :data:`API_CALL_ACTIONS`) and any further details (path, status, milliseconds ...).

        Returns
        -------
        int
            Rows written.
        """
        if not calls:
            return 0
        rows, used = [], {}
        for call in calls:
            details = {k: v for k, v in call.items() if k not in ("at", "caller", "action")}
            caller = call.get("caller")
            rows.append({"at": call["at"], "user_name": f"api:{caller or '-'}"[:64],
                         "action": call.get("action", "api.other"), "campaign_id": None,
                         "details": jsonable(details)})
            if caller:
                used[caller] = max(used.get(caller, call["at"]), call["at"])
        with self._session(write=True) as session:
            session.execute(insert(AuditEntry), rows)
            for name, at in used.items():
                session.execute(update(ApiToken).where(ApiToken.name == name).values(last_used_at=at))
        return len(rows)


def _scope_branch(scope: str) -> str | None:
    try:
        return parse_token_scope(scope)
    except ParameterError:   # a scope no longer valid (a branch removed): the token reads nothing
        return "\x00none"
