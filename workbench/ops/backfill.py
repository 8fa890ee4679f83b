"""Back-fill: write the current published versions into the operations' shared database.

The operational side (CRM, OCS, the hall's systems) reads a database of its own;
the back-fill writes the workbench's current published results there in batch
(DOMAIN.md: 回填).  The target is any SQLAlchemy URL (PostgreSQL in production,
SQLite in tests) and an optional schema; three tables are made there when missing:

``wb_published_versions``   one row per back-filled version (id = the store's version id)
``wb_published_results``    that version's rows (key: version id + subscriber)
``wb_backfill_log``         one row per back-fill: when, kind, version, rows, source store

Per kind, one transaction of the target replaces the kind's rows by the current
version's: a re-run gives the same rows (no duplicates), a failure leaves the
target as it was (the old version stays visible).  The store's audit log records
each back-fill (action ``backfill``).
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from workbench.errors import ParameterError
from workbench.store.models import PUBLISHED_KINDS

__all__ = ["BACKFILL_TABLES", "target_tables", "backfill", "target_engine"]

#: Tables the back-fill keeps in the target database.
BACKFILL_TABLES: tuple[str, ...] = ("wb_published_versions", "wb_published_results", "wb_backfill_log")


def target_tables(schema: str | None = None) -> tuple[sa.MetaData, sa.Table, sa.Table, sa.Table]:
    """The target's tables (in ``schema`` when given)."""
    meta = sa.MetaData(schema=schema)
    versions = sa.Table(
        "wb_published_versions", meta,
        sa.Column("version_id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("model_version", sa.String(64)),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_to", sa.Date),
        sa.Column("row_count", sa.BigInteger),
        sa.Column("activated_at", sa.DateTime(timezone=True)),
        sa.Column("loaded_at", sa.DateTime(timezone=True)),
    )
    results = sa.Table(
        "wb_published_results", meta,
        sa.Column("version_id", sa.Integer, primary_key=True),
        sa.Column("subscriber_id", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("branch_id", sa.String(32)),
        sa.Column("msisdn_masked", sa.String(32)),
        sa.Column("score", sa.Float),
        sa.Column("grade", sa.String(8)),
        sa.Column("decile", sa.Integer),
        sa.Column("reasons", sa.Text),
        sa.Column("offers", sa.Text),
        sa.Index("ix_wb_published_results_kind_subscriber", "kind", "subscriber_id"),
    )
    log = sa.Table(
        "wb_backfill_log", meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("by_user", sa.String(64)),
    )
    return meta, versions, results, log


def target_engine(url: str) -> sa.Engine:
    """An engine for the target URL (``postgresql://`` means psycopg 3); a clear error for a bad URL."""
    try:
        parsed = make_url(url)
    except (ArgumentError, TypeError):
        raise ParameterError.invalid("--to", "a database URL such as postgresql://user@host/db or sqlite:///x.db",
                                     url) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return sa.create_engine(parsed)
    except (ArgumentError, ImportError) as exc:
        raise ParameterError(f"The '--to' URL {parsed.render_as_string(hide_password=True)!r} cannot be used: "
                             f"{exc}") from None


def _prepare(engine: sa.Engine, meta: sa.MetaData, schema: str | None) -> None:
    with engine.begin() as conn:
        if schema and engine.dialect.name == "postgresql":
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        meta.create_all(conn, checkfirst=True)


def _insert_batch(conn, table: sa.Table, rows: list[dict]) -> None:
    """One batch into the target (a separate function, so a test can make it fail mid-way)."""
    conn.execute(table.insert(), rows)


def backfill(store, user, url: str, *, schema: str | None = None, kinds=None, batch: int = 50_000) -> list[dict]:
    """Write the current published version of each kind into the database at ``url``.

    Parameters
    ----------
    store : workbench.store.Store
        The workbench's store (the source).
    user : workbench.store.User
        A role of :data:`~workbench.store.access.PUBLISH_ROLES`.
    url : str
        The target database (SQLAlchemy URL).
    schema : str, optional
        Schema of the target (created on PostgreSQL when missing).
    kinds : list of str, optional
        Kinds to back-fill (default: each kind with a current version).
    batch : int
        Rows read and written per batch.

    Returns
    -------
    list of dict
        ``{"kind", "version_id", "rows", "target"}`` per kind back-filled.

    Raises
    ------
    ParameterError
        A bad URL or kind, or a kind asked for that has no current version.
    """
    for kind in kinds or ():
        if kind not in PUBLISHED_KINDS:
            raise ParameterError.invalid("kind", f"one of {list(PUBLISHED_KINDS)}", kind)
    store.check_publisher(user, "back-filling published results")
    current = {k: store.current_published(user, k) for k in (kinds or PUBLISHED_KINDS)}
    missing = [k for k, v in current.items() if v is None and kinds]
    if missing:
        raise ParameterError(f"no current published version of kind(s) {missing}: publish one first "
                             "(workbench publish RUN_DIR)")
    engine = target_engine(url)
    shown = engine.url.render_as_string(hide_password=True) + (f" (schema {schema})" if schema else "")
    meta, versions, results, log = target_tables(schema)
    done = []
    try:
        _prepare(engine, meta, schema)
        for kind, version in current.items():
            if version is None:
                continue
            vid = int(version["id"])
            rows = 0
            with engine.begin() as conn:    # one transaction per kind: all of it or nothing
                old = sa.select(versions.c.version_id).where(versions.c.kind == kind)
                conn.execute(results.delete().where(results.c.kind == kind))
                conn.execute(results.delete().where(results.c.version_id.in_(old)))
                conn.execute(versions.delete().where(versions.c.kind == kind))
                conn.execute(versions.insert(), [{
                    "version_id": vid, "kind": kind, "model_version": version["model_version"],
                    "valid_from": version["valid_from"], "valid_to": version["valid_to"],
                    "row_count": int(version["row_count"]), "activated_at": version["activated_at"],
                    "loaded_at": dt.datetime.now(dt.timezone.utc)}])
                for part in store.iter_published(user, vid, batch=batch):
                    part = part.assign(kind=kind)
                    records = part.astype(object).where(part.notna(), None).to_dict("records")
                    _insert_batch(conn, results, records)
                    rows += len(records)
                conn.execute(log.insert(), [{"at": dt.datetime.now(dt.timezone.utc), "kind": kind, "version_id": vid,
                                             "rows": rows, "source": repr(store), "by_user": user.name}])
            store.record_backfill(user, vid, kind=kind, rows=rows, target=shown)
            done.append({"kind": kind, "version_id": vid, "rows": rows, "target": shown})
    finally:
        engine.dispose()
    return done
