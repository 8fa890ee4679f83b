"""Sign-in sessions and sign-in throttling, kept in the store (part of :class:`workbench.store.Store`).

Sessions: each sign-in is a row of ``app_sessions``; the apps' cookie carries
only its random id.  A session is valid while it is neither expired nor revoked,
so a sign-out (of one session, or of all of a user's sessions) holds across a
restart and on every server that shares the store.

Throttling: failed sign-ins are counted per key - ``account:<name>`` and
``client:<address>`` - within :attr:`ThrottlePolicy.window`.  At ``limit``
failures the key is locked for ``lock`` (doubling with every further failure, up
to ``max_lock``); while locked, sign-ins for it are refused before any password
is checked (no argon2 work for an attacker), even with the right password.  A
successful sign-in clears the account's count.  Every failure, refusal and
lock-out is in the audit log.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from workbench.errors import ParameterError
from workbench.store.core import StoreCore
from workbench.store.models import AppSession, SignInThrottle, utcnow

__all__ = ["StoreSessions", "ThrottlePolicy", "account_key", "client_key"]


@dataclass(frozen=True)
class ThrottlePolicy:
    """When failed sign-ins lock a key, and for how long.

    Attributes
    ----------
    account_limit, client_limit : int
        Failures within ``window`` that lock an account / a client address.  A
        client address is shared by a branch's PCs behind one NAT, so its limit
        is higher: one person's typos do not lock out a branch.
    window, lock, max_lock : datetime.timedelta
        Counting window; first lock-out; longest lock-out (each further failure
        while counting doubles the lock).
    """

    account_limit: int = 5
    client_limit: int = 30
    window: dt.timedelta = dt.timedelta(minutes=15)
    lock: dt.timedelta = dt.timedelta(minutes=1)
    max_lock: dt.timedelta = dt.timedelta(hours=1)

    def __post_init__(self):
        for name in ("account_limit", "client_limit"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ParameterError.invalid(name, "a positive integer", getattr(self, name))

    def limit_of(self, key: str) -> int:
        return self.account_limit if key.startswith("account:") else self.client_limit

    def lock_for(self, failures: int, limit: int) -> dt.timedelta:
        return min(self.lock * (2 ** max(failures - limit, 0)), self.max_lock)


def account_key(name: str) -> str:
    """Throttle key of an account name (case-folded, bounded)."""
    return "account:" + str(name).strip().casefold()[:64]


def client_key(address: str | None) -> str:
    """Throttle key of a client address."""
    return "client:" + str(address or "-")[:64]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


class StoreSessions(StoreCore):
    """Sessions and sign-in throttling (part of :class:`workbench.store.Store`)."""

    # ------------------------------------------------------------ sessions
    def open_session(self, session_id: str, user_name: str, *, lifetime: dt.timedelta, client: str = "") -> None:
        """Record a new sign-in of ``user_name`` valid for ``lifetime``."""
        now = utcnow()
        with self._session(write=True) as session:
            session.add(AppSession(id=str(session_id)[:64], user_name=str(user_name)[:64], client=str(client)[:64],
                                   issued_at=now, expires_at=now + lifetime))

    def session_valid(self, session_id: str, user_name: str) -> bool:
        """Whether the session exists for this user and is neither expired nor revoked."""
        with self._session() as session:
            row = session.get(AppSession, str(session_id)[:64])
            return (row is not None and row.user_name == user_name and row.revoked_at is None
                    and _aware(row.expires_at) > utcnow())

    def revoke_session(self, session_id: str, *, actor: str) -> int:
        """End one session (audited); the number of sessions ended (0 or 1)."""
        with self._session(write=True) as session:
            done = session.execute(update(AppSession).where(AppSession.id == str(session_id)[:64],
                                                            AppSession.revoked_at.is_(None))
                                   .values(revoked_at=utcnow())).rowcount
            self._audit(session, actor, "sign_out", sessions=done, all_sessions=False)
            return done

    def revoke_sessions_of(self, user_name: str, *, actor: str) -> int:
        """End every open session of ``user_name`` (audited); how many were ended."""
        with self._session(write=True) as session:
            done = session.execute(update(AppSession).where(AppSession.user_name == user_name,
                                                            AppSession.revoked_at.is_(None),
                                                            AppSession.expires_at > utcnow())
                                   .values(revoked_at=utcnow())).rowcount
            self._audit(session, actor, "sign_out", sessions=done, all_sessions=True, user=user_name)
            return done

    def signed_in(self, user_names) -> set[str]:
        """Which of ``user_names`` hold at least one session neither revoked nor expired (on any server)."""
        names = sorted({str(name)[:64] for name in user_names})
        if not names:
            return set()
        with self._session() as session:
            query = select(AppSession.user_name).distinct().where(
                AppSession.user_name.in_(names), AppSession.revoked_at.is_(None), AppSession.expires_at > utcnow())
            return set(session.execute(query).scalars())

    def forget_expired_sessions(self) -> int:
        """Delete sessions that expired (housekeeping); how many were deleted."""
        from sqlalchemy import delete

        with self._session(write=True) as session:
            return session.execute(delete(AppSession).where(AppSession.expires_at < utcnow())).rowcount

    # ------------------------------------------------------------ throttling
    def sign_in_wait(self, keys: list[str]) -> float:
        """Seconds until a sign-in with these keys is allowed again (0 when it is allowed now)."""
        now = utcnow()
        with self._session() as session:
            rows = session.execute(select(SignInThrottle.locked_until)
                                   .where(SignInThrottle.key.in_(list(keys)))).scalars().all()
        waits = [(_aware(until) - now).total_seconds() for until in rows if until is not None]
        return max([w for w in waits if w > 0], default=0.0)

    def sign_in_refused(self, keys: list[str], *, name: str, client: str, wait: float) -> None:
        """Audit a sign-in refused because a key is locked."""
        with self._session(write=True) as session:
            self._audit(session, str(name)[:64] or "-", "login_throttled", client=client, retry_after=round(wait))

    def sign_in_failed(self, keys: list[str], *, policy: ThrottlePolicy, name: str, client: str) -> float:
        """Count a failed sign-in for each key; the lock-out in seconds it caused (0 when none).

        The failure itself is audited by :meth:`Store.authenticate`; a lock-out is audited here.
        """
        for attempt in range(2):
            try:
                return self._count_failure(keys, policy, name, client)
            except IntegrityError:  # a concurrent first failure of the same key: count again
                if attempt:
                    raise
        return 0.0

    def _count_failure(self, keys, policy, name, client) -> float:
        now = utcnow()
        locked = 0.0
        with self._session(write=True) as session:
            for key in keys:
                row = session.get(SignInThrottle, key, with_for_update=True)
                if row is None:
                    row = SignInThrottle(key=key, failures=0, first_failure_at=now)
                    session.add(row)
                elif now - _aware(row.first_failure_at) > policy.window and (
                        row.locked_until is None or _aware(row.locked_until) <= now):
                    row.failures, row.first_failure_at, row.locked_until = 0, now, None
                row.failures += 1
                limit = policy.limit_of(key)
                if row.failures >= limit:
                    lock = policy.lock_for(row.failures, limit)
                    row.locked_until = now + lock
                    locked = max(locked, lock.total_seconds())
                    self._audit(session, str(name)[:64] or "-", "login_locked", key=key, client=client,
                                failures=row.failures, locked_seconds=round(lock.total_seconds()))
            session.flush()
        return locked

    def sign_in_succeeded(self, name: str) -> None:
        """Clear the account's failure count after a successful sign-in."""
        from sqlalchemy import delete

        with self._session(write=True) as session:
            session.execute(delete(SignInThrottle).where(SignInThrottle.key == account_key(name)))
