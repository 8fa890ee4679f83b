"""The core of the campaign store: sessions, the acting user, audit writing, campaign lookup.

Every concern of :class:`workbench.store.Store` (users, campaigns, member
lists, results, progress, responses, audit) is a class over :class:`StoreCore`,
so each reads and writes through the same session handling, re-reads the
acting user from ``users`` on every call (a deactivated user is refused at
once) and writes its ``audit_log`` row in the same transaction.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

import pandas as pd
from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import sessionmaker

from workbench.checks import jsonable
from workbench.errors import AccessDenied, ParameterError
from workbench.store.access import SYSTEM_USER, AccessPolicy, User
from workbench.store.db import engine_for, upgrade
from workbench.store.models import (
    AuditEntry, Campaign, CampaignMember, CampaignVersion, ContactResult, StoreSession, UserRecord, utcnow,
)
from workbench.store.passwords import PasswordPolicy

__all__ = ["StoreCore"]

#: Integer columns that may be empty: returned as pandas' nullable ``Int64``.
_NULLABLE_INT = ("campaign_id", "version", "member_count")


def _row_tuples(frame: pd.DataFrame, lead, columns) -> list[tuple]:
    """Rows of ``frame[columns]`` as tuples of Python values (None for missing), each led by ``lead``
    (a version id) - what a bulk insert takes."""
    out = [[lead] * len(frame)]
    for col in columns:
        s = frame[col]
        values = s.tolist()
        missing = s.isna().to_numpy()
        if missing.any():
            values = [None if m else v for v, m in zip(values, missing)]
        out.append(values)
    return list(zip(*out))


def _shared_texts(values: tuple) -> list:
    """``values`` as a list in which equal texts are one object (the driver makes a new one per row).

    Where pandas keeps text as Python objects (an app kernel imports pandas without pyarrow, see
    :mod:`workbench.apps.heap`), a 20,000-row worklist held 20,000 copies of each channel, group,
    branch, band, edition and talking points; a column without text is returned as it is.
    """
    if not any(isinstance(v, str) for v in values):
        return list(values)
    seen: dict = {}
    return [seen.setdefault(v, v) if isinstance(v, str) else v for v in values]


def _frame(result, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    keys = list(result.keys())
    rows = result.fetchall()
    values = list(zip(*rows)) if rows else [()] * len(keys)
    del rows
    # each column's type inferred on its own: inferring the whole frame left the columns that stay object
    # as views of one consolidated object block, which kept every fetched value alive (a 20,000-row
    # worklist held +23 MiB in an app kernel instead of +9 MiB)
    frame = pd.DataFrame({k: pd.Series(_shared_texts(v), dtype=object).infer_objects()
                          for k, v in zip(keys, values)})
    for col in _NULLABLE_INT:
        if col in frame.columns and frame[col].isna().any():
            frame[col] = frame[col].astype("Int64")
    return frame[list(columns)] if columns else frame


class StoreCore:
    """What every part of :class:`workbench.store.Store` stands on (its parameters are the Store's).

    The engine and session factories, the acting user as the ``users`` table
    knows them now (:meth:`_actor`), audit writing (:meth:`_audit`) and the
    campaign / released-version lookups every concern needs.
    """

    def __init__(self, url: str | None = None, *, engine: Engine | None = None, migrate: bool = True,
                 password_policy: PasswordPolicy | None = None, chunk_size: int = 50_000, progress: bool = True,
                 policy: AccessPolicy | None = None):
        if chunk_size < 1:
            raise ParameterError.invalid("chunk_size", "a positive integer", chunk_size)
        self.engine = engine if engine is not None else engine_for(url)
        self._owns_engine = engine is None
        self.passwords = password_policy or PasswordPolicy()
        #: the organisation's access settings (store/access.py); default from the environment
        self.policy = policy if policy is not None else AccessPolicy.from_env()
        self.chunk_size = int(chunk_size)
        self.show_progress = progress
        if migrate:
            upgrade(self.engine)
        self._read = sessionmaker(bind=self.engine, class_=StoreSession, expire_on_commit=False)
        self._write = sessionmaker(bind=self.engine.execution_options(sqlite_immediate=True),
                                   class_=StoreSession, expire_on_commit=False)

    # ----------------------------------------------------------------- plumbing
    def close(self) -> None:
        """Release the database connections (only when the store made its own engine)."""
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def _session(self, write: bool = False) -> Iterator[StoreSession]:
        factory = self._write if write else self._read
        with factory() as session, session.begin():
            yield session

    def _actor(self, session: StoreSession, user: User) -> User:
        """The acting user as the ``users`` table knows them now."""
        if not isinstance(user, User):
            raise ParameterError.invalid("user", "a workbench.store.User (from Store.authenticate)",
                                         type(user).__name__)
        if user == SYSTEM_USER:
            return user
        row = session.execute(select(UserRecord).where(UserRecord.name == user.name)).scalar_one_or_none()
        if row is None or not row.active:
            raise AccessDenied(f"user {user.name!r} is unknown or deactivated; sign in again")
        return User(row.name, row.role, row.branch_id, row.display_name)

    @staticmethod
    def _audit(session: StoreSession, actor: User | str, action: str, campaign_id: int | None = None,
               **details) -> None:
        name = actor.name if isinstance(actor, User) else str(actor)
        session.add(AuditEntry(at=utcnow(), user_name=name[:64], action=action, campaign_id=campaign_id,
                               details=jsonable(details)))

    def _campaign(self, session: StoreSession, campaign_id: int, *, lock: bool = False) -> Campaign:
        """The campaign row; ``lock`` holds it (PostgreSQL ``FOR UPDATE``) so concurrent changes queue."""
        campaign = session.get(Campaign, campaign_id, with_for_update=lock or None)
        if campaign is None:
            raise ParameterError(f"The 'campaign_id' parameter names no campaign. Got {campaign_id!r}.")
        return campaign

    def _version(self, session: StoreSession, campaign_id: int, version: int | None) -> CampaignVersion:
        """The released version ``version`` of a campaign (default: the newest released)."""
        query = select(CampaignVersion).where(CampaignVersion.campaign_id == campaign_id,
                                              CampaignVersion.released_at.is_not(None))
        if version is None:
            query = query.order_by(CampaignVersion.version.desc()).limit(1)
        else:
            query = query.where(CampaignVersion.version == int(version))
        found = session.execute(query).scalar_one_or_none()
        if found is None:
            what = "no released version" if version is None else f"no released version {version}"
            raise ParameterError(f"campaign {campaign_id} has {what}")
        return found

    def _contact_summary(self, campaign_id: int):
        """Per subscriber, over every version of the campaign: contacts, last result id, reached, accepted."""
        m, v, r = CampaignMember, CampaignVersion, ContactResult
        return (
            select(
                m.subscriber_id.label("subscriber_id"),
                func.count(r.id).label("contacts"),
                func.max(r.id).label("last_id"),
                func.max(case((r.result != "not_reachable", 1), else_=0)).label("reached"),
                func.max(case((r.result == "accepted", 1), else_=0)).label("accepted"),
            )
            .join(m, r.member_id == m.id)
            .join(v, m.campaign_version_id == v.id)
            .where(v.campaign_id == campaign_id)
            .group_by(m.subscriber_id)
            .subquery("contacts")
        )

    @staticmethod
    def _executor_names(session: StoreSession, logins) -> dict[str, str]:
        """The name people know each executor of ``logins`` by: their ``display_name`` in ``users``.

        The login is kept when the display name is empty or the user no longer exists; a display
        name that several of ``logins`` share gets the login in brackets ("张伟 (urumqi_exec3)"), so
        no two executors look alike in a grid, a table or a chart.  ``logins`` come from rows the
        caller already read in the acting user's scope: no name outside it is read.  One query.
        """
        wanted = sorted({x for x in logins if isinstance(x, str) and x})
        if not wanted:
            return {}
        found = dict(session.execute(select(UserRecord.name, UserRecord.display_name)
                                     .where(UserRecord.name.in_(wanted))).all())
        shown = {login: (found.get(login) or "").strip() or login for login in wanted}
        counts: dict[str, int] = {}
        for name in shown.values():
            counts[name] = counts.get(name, 0) + 1
        return {login: name if counts[name] == 1 or name == login else f"{name} ({login})"
                for login, name in shown.items()}
