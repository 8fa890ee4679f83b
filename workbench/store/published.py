"""Published results: versioned tables of what operations may use, with an atomic switch of the current one.

A version's life (``published_versions.status``)::

    loading --(rows written in batches)--> current --(a newer one becomes current)--> retired
       \\--(a failure while loading)--> failed           retired --(rollback)--> current

Rows (``published_results``) are written only while their version is ``loading``;
:meth:`StorePublished.activate_published` makes it ``current`` and the previous
current one ``retired`` in one transaction (the database's partial unique index
allows one current version per kind), so a reader sees the old version or the
new one, never half of one.  A failure (or a killed process) while loading leaves
the previous version current.  Every step writes an ``audit_log`` row.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
from sqlalchemy import delete, func, select

from workbench.errors import ParameterError
from workbench.store.access import PUBLISH_ROLES, PUBLISHED_READERS, User, require_role
from workbench.store.core import StoreCore, _frame, _row_tuples
from workbench.store.models import PUBLISHED_KINDS, PublishedResult, PublishedVersion, utcnow

__all__ = ["StorePublished", "PUBLISHED_COLUMNS", "VERSION_COLUMNS"]

#: Columns of a published row (besides ``version_id``).
PUBLISHED_COLUMNS: tuple[str, ...] = (
    "subscriber_id", "branch_id", "msisdn_masked", "score", "grade", "decile", "reasons", "offers",
)
#: Columns of :meth:`StorePublished.published_versions`.
VERSION_COLUMNS: tuple[str, ...] = (
    "id", "kind", "status", "label", "model_version", "row_count", "valid_from", "valid_to", "created_at",
    "created_by", "activated_at", "run_dir", "source_sha256",
)


def _kind(kind: str) -> str:
    if kind not in PUBLISHED_KINDS:
        raise ParameterError.invalid("kind", f"one of {list(PUBLISHED_KINDS)}", kind)
    return kind


def _rows(frame: pd.DataFrame, version_id: int) -> list[tuple]:
    """Rows of ``frame`` (:data:`PUBLISHED_COLUMNS`) as tuples of Python values (None for missing)."""
    return _row_tuples(frame, version_id, PUBLISHED_COLUMNS)


class StorePublished(StoreCore):
    """Published results for operations (part of :class:`workbench.store.Store`)."""

    def _published(self, session, version_id: int, *, lock: bool = False) -> PublishedVersion:
        found = session.get(PublishedVersion, int(version_id), with_for_update=lock or None)
        if found is None:
            raise ParameterError(f"The 'version_id' parameter names no published version. Got {version_id!r}.")
        return found

    def check_publisher(self, user: User, action: str = "publishing results") -> User:
        """The acting user when their role may publish (:data:`PUBLISH_ROLES`); :class:`AccessDenied` else."""
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, PUBLISH_ROLES, action)
            return actor

    def record_backfill(self, user: User, version_id: int, *, kind: str, rows: int, target: str) -> None:
        """Audit a back-fill of a published version into an operational database (action ``backfill``)."""
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, PUBLISH_ROLES, "back-filling published results")
            self._audit(session, actor, "backfill", version_id=int(version_id), kind=kind, rows=int(rows),
                        target=target)

    def record_feed(self, user: User, feed: str, *, version_id: int, rows: int, destination: str,
                    sha256: str) -> None:
        """Audit a feed delivery (action ``feed``)."""
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, PUBLISHED_READERS, "delivering a feed")
            self._audit(session, actor, "feed", feed=feed, version_id=int(version_id), rows=int(rows),
                        destination=destination, sha256=sha256)

    def create_published(self, user: User, kind: str, *, valid_from: dt.date, valid_to: dt.date | None = None,
                         label: str = "", model_version: str = "", run_dir: str = "",
                         source_sha256: str = "") -> int:
        """Open a new version of ``kind`` in status ``loading``; return its id (audit ``publish_start``)."""
        _kind(kind)
        if valid_to is not None and valid_to < valid_from:
            raise ParameterError(f"The 'valid_to' parameter must be on or after valid_from ({valid_from}). "
                                 f"Got {valid_to} instead.")
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, PUBLISH_ROLES, "publishing results")
            version = PublishedVersion(kind=kind, label=label[:200], model_version=model_version[:64],
                                       run_dir=run_dir, source_sha256=source_sha256, status="loading",
                                       row_count=0, valid_from=valid_from, valid_to=valid_to,
                                       created_by=actor.name)
            session.add(version)
            session.flush()
            self._audit(session, actor, "publish_start", version_id=version.id, kind=kind, run_dir=run_dir,
                        model_version=model_version)
            return int(version.id)

    def load_published(self, user: User, version_id: int, frame: pd.DataFrame) -> int:
        """Append rows (:data:`PUBLISHED_COLUMNS`) to a ``loading`` version, in batches of ``chunk_size``.

        Each batch is its own transaction (a million rows never sit in one); the
        version stays invisible to readers until :meth:`activate_published`.
        Returns the number of rows written.
        """
        from tqdm.auto import tqdm

        missing = [c for c in PUBLISHED_COLUMNS if c not in frame.columns]
        if missing:
            raise ParameterError(f"The published rows must have the columns {list(PUBLISHED_COLUMNS)}; "
                                 f"missing {missing}. Got {list(frame.columns)}.")
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, PUBLISH_ROLES, "publishing results")
            if self._published(session, version_id).status != "loading":
                raise ParameterError(f"published version {version_id} is not loading; rows are written only "
                                     "into a new version (workbench publish RUN_DIR)")
        frame = frame[list(PUBLISHED_COLUMNS)]
        starts = range(0, len(frame), self.chunk_size)
        bar = tqdm(starts, desc="published_results", unit="batch",
                   disable=not self.show_progress or len(starts) < 2)
        for start in bar:
            self._insert_published(version_id, frame.iloc[start:start + self.chunk_size])
        return len(frame)

    def _insert_published(self, version_id: int, batch: pd.DataFrame) -> None:
        """One batch in one transaction: COPY on PostgreSQL, executemany on SQLite (a separate method, so a
        test can make it fail mid-way)."""
        names = ", ".join(f'"{c}"' for c in ("version_id", *PUBLISHED_COLUMNS))
        rows = _rows(batch, version_id)
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                driver = conn.connection.driver_connection
                with driver.cursor() as cur, cur.copy(f"COPY published_results ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            marks = ", ".join("?" * (len(PUBLISHED_COLUMNS) + 1))
            conn.exec_driver_sql(f"INSERT INTO published_results ({names}) VALUES ({marks})", rows)

    def activate_published(self, user: User, version_id: int) -> dict:
        """Make a ``loading`` version ``current`` and the kind's current one ``retired``, in one transaction.

        Returns ``{"version_id", "kind", "rows", "retired"}`` (``retired``: the id made retired, or None).
        """
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, PUBLISH_ROLES, "publishing results")
            version = self._published(session, version_id, lock=True)
            if version.status != "loading":
                raise ParameterError(f"published version {version_id} is {version.status!r}, not 'loading'")
            rows = session.execute(select(func.count()).select_from(PublishedResult)
                                   .where(PublishedResult.version_id == version.id)).scalar_one()
            retired = self._retire_current(session, version.kind, until=version.valid_from)
            version.status, version.row_count, version.activated_at = "current", int(rows), utcnow()
            self._audit(session, actor, "publish", version_id=version.id, kind=version.kind, rows=int(rows),
                        retired=retired)
            return {"version_id": int(version.id), "kind": version.kind, "rows": int(rows), "retired": retired}

    @staticmethod
    def _retire_current(session, kind: str, *, until: dt.date | None) -> int | None:
        current = session.execute(select(PublishedVersion).where(PublishedVersion.kind == kind,
                                                                  PublishedVersion.status == "current")
                                  .with_for_update()).scalar_one_or_none()
        if current is None:
            return None
        current.status = "retired"
        if current.valid_to is None and until is not None:
            current.valid_to = max(until, current.valid_from)
        session.flush()  # the unique index sees the retired row before the next one becomes current
        return int(current.id)

    def fail_published(self, user: User, version_id: int, error: str) -> None:
        """Mark a ``loading`` version ``failed`` and delete its rows (audit ``publish_failed``)."""
        with self._session(write=True) as session:
            version = self._published(session, version_id)
            if version.status != "loading":
                return
            session.execute(delete(PublishedResult).where(PublishedResult.version_id == version.id))
            version.status = "failed"
            self._audit(session, user, "publish_failed", version_id=version.id, kind=version.kind,
                        error=str(error)[:500])

    def rollback_published(self, user: User, kind: str) -> dict:
        """Re-activate the version that was current before the current one of ``kind``.

        The current version becomes ``retired``; the newest retired version first activated
        before it becomes ``current`` again (one transaction, audit ``publish_rollback``).
        Rolling back again goes one version further back.
        """
        _kind(kind)
        with self._session(write=True) as session:
            actor = self._actor(session, user)
            require_role(actor, PUBLISH_ROLES, "rolling back published results")
            v = PublishedVersion
            current = session.execute(select(v).where(v.kind == kind, v.status == "current")
                                      .with_for_update()).scalar_one_or_none()
            if current is None:
                raise ParameterError(f"no current published version of kind {kind!r} to roll back")
            previous = session.execute(
                select(v).where(v.kind == kind, v.status == "retired", v.id != current.id,
                                v.activated_at.is_not(None), v.activated_at < current.activated_at)
                .order_by(v.activated_at.desc(), v.id.desc()).limit(1)).scalar_one_or_none()
            if previous is None:
                raise ParameterError(f"published {kind!r} version {current.id} has no earlier version to roll back "
                                     "to (see workbench publish list)")
            current.status = "retired"
            session.flush()
            # activated_at keeps the first activation, so a second rollback goes further back, not forth
            previous.status, previous.valid_to = "current", None
            self._audit(session, actor, "publish_rollback", version_id=previous.id, kind=kind,
                        retired=current.id)
            return {"version_id": int(previous.id), "kind": kind, "rows": int(previous.row_count),
                    "retired": int(current.id)}

    def published_versions(self, user: User, kind: str | None = None) -> pd.DataFrame:
        """Every published version (newest first): :data:`VERSION_COLUMNS`."""
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, PUBLISHED_READERS, "listing published results")
            query = select(*[getattr(PublishedVersion, c) for c in VERSION_COLUMNS]).order_by(
                PublishedVersion.id.desc())
            if kind is not None:
                query = query.where(PublishedVersion.kind == _kind(kind))
            return _frame(session.execute(query), VERSION_COLUMNS)

    def current_published(self, user: User, kind: str) -> dict | None:
        """The current version of ``kind`` as a dict of :data:`VERSION_COLUMNS`, or None."""
        frame = self.published_versions(user, kind)
        found = frame[frame["status"] == "current"]
        return None if found.empty else found.iloc[0].to_dict()

    def iter_published(self, user: User, version_id: int, *, batch: int | None = None) -> Iterator[pd.DataFrame]:
        """The rows of a version in batches (subscriber order): ``version_id`` + :data:`PUBLISHED_COLUMNS`."""
        size = int(batch or self.chunk_size)
        with self._session() as session:
            actor = self._actor(session, user)
            require_role(actor, PUBLISHED_READERS, "reading published results")
            self._published(session, version_id)
        r = PublishedResult
        cols = [r.version_id, *[getattr(r, c) for c in PUBLISHED_COLUMNS]]
        last = None
        while True:
            query = select(*cols).where(r.version_id == int(version_id)).order_by(r.subscriber_id).limit(size)
            if last is not None:
                query = query.where(r.subscriber_id > last)
            with self.engine.connect() as conn:
                part = _frame(conn.execute(query), ("version_id", *PUBLISHED_COLUMNS))
            if part.empty:
                return
            last = int(part["subscriber_id"].iloc[-1])
            yield part
            if len(part) < size:
                return

    def published_frame(self, user: User, version_id: int) -> pd.DataFrame:
        """All rows of a version as one DataFrame (see :meth:`iter_published`)."""
        parts = list(self.iter_published(user, version_id))
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ("version_id", *PUBLISHED_COLUMNS)})
        return pd.concat(parts, ignore_index=True)
