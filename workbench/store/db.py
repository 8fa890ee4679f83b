"""Connections to the campaign store and its migrations.

The store is a SQLite file by default (WAL journal, a busy timeout and foreign
keys on, so a few dozen app users can write at once) or a PostgreSQL server
(``postgresql+psycopg://user@host:port/db``, psycopg 3).  The schema is made
only by the Alembic migrations shipped in ``workbench/store/migrations``;
:func:`upgrade` runs them programmatically, no ``alembic.ini`` needed.

>>> from workbench.store.db import engine_for, upgrade
>>> engine = engine_for("sqlite://")        # in memory, for a quick look
>>> upgrade(engine)
'0001'
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

from workbench import extras
from workbench.errors import ParameterError

__all__ = [
    "DEFAULT_STORE_PATH",
    "STORE_URL_ENV",
    "default_url",
    "engine_for",
    "owner_only_file",
    "upgrade",
    "current_revision",
    "head_revision",
    "MIGRATIONS_DIR",
]

#: Environment variable holding the store URL.
STORE_URL_ENV = "WORKBENCH_STORE_URL"
#: The SQLite file used when neither a URL nor the environment names a store.
DEFAULT_STORE_PATH = Path("runs") / "store.sqlite"
#: Folder of the Alembic environment and revisions (shipped inside the package).
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Milliseconds a SQLite writer waits for the lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 120_000
#: Page cache per SQLite connection, in KiB (SQLite's default is 2 MiB).
SQLITE_CACHE_KIB = 65_536
_DIALECTS = ("sqlite", "postgresql")
#: Key of the PostgreSQL advisory lock held while migrating.
_MIGRATION_LOCK = 7_252_010


def default_url() -> str:
    """The store URL: ``$WORKBENCH_STORE_URL``, else ``sqlite:///runs/store.sqlite``."""
    return os.environ.get(STORE_URL_ENV) or f"sqlite:///{DEFAULT_STORE_PATH.as_posix()}"


def _set_wal(cur) -> None:
    """``PRAGMA journal_mode = WAL``, retried while another connection holds the file.

    Switching a new database to WAL needs it to itself, and SQLite answers
    "database is locked" at once rather than waiting on the busy timeout: app
    kernels opening a new store together failed so (8 in 60 runs of four at
    once).  A database already in WAL mode is left as it is.
    """
    import sqlite3
    import time

    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, busy timeout, foreign keys; writes start with ``BEGIN IMMEDIATE``.

    pysqlite's own transaction handling is switched off and SQLAlchemy emits
    ``BEGIN`` itself.  A connection whose execution options carry
    ``sqlite_immediate=True`` takes the write lock at ``BEGIN``: two writers then
    queue on the busy timeout instead of failing with "database is locked" when
    both try to upgrade a read lock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")  # index pages of big lists stay in memory
            if engine.url.database not in (None, "", ":memory:"):
                _set_wal(cur)
                cur.execute("PRAGMA synchronous = NORMAL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def owner_only_file(path: Path) -> None:
    """Make sure the SQLite store file exists and only its owner may read or write it (mode 600).

    The store holds password hashes and subscribers' data.  SQLite creates the
    ``-wal``, ``-shm`` and ``-journal`` files with the mode of the database file,
    so they follow.  An existing file readable by others is tightened, as are
    such side files left by an earlier run.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    for item in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        try:
            if stat.S_IMODE(item.stat().st_mode) & 0o077:
                item.chmod(0o600)
        except (FileNotFoundError, PermissionError):  # gone, or another owner's file: leave it
            continue


def engine_for(url: str | None = None, **engine_kwargs) -> Engine:
    """A SQLAlchemy engine for the campaign store.

    Parameters
    ----------
    url : str, optional
        ``sqlite:///path/to/store.sqlite`` or ``postgresql+psycopg://user@host:port/db``.
        Default: :func:`default_url` (``$WORKBENCH_STORE_URL`` or ``runs/store.sqlite``).
        ``postgresql://`` without a driver is taken to mean psycopg 3.
    **engine_kwargs
        Passed to :func:`sqlalchemy.create_engine` (e.g. ``pool_size``).

    Returns
    -------
    sqlalchemy.Engine

    Raises
    ------
    ParameterError
        When the URL names a database other than SQLite or PostgreSQL.
    MissingExtraError
        A PostgreSQL URL without psycopg installed (``pip install 'workbench[postgres]'``).
    """
    parsed = make_url(url or default_url())
    backend = parsed.get_backend_name()
    if backend not in _DIALECTS:
        raise ParameterError.invalid("url", f"a SQLite or PostgreSQL URL (one of {_DIALECTS})", str(parsed))
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "postgresql+psycopg":
        extras.require("psycopg", "a PostgreSQL store")
    if backend == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            owner_only_file(Path(db))
        engine_kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(parsed, **engine_kwargs)
        _configure_sqlite(engine)
        return engine
    engine_kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **engine_kwargs)


def _alembic_config(connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(target: str | Engine | None = None, revision: str = "head") -> str | None:
    """Bring the store's schema to ``revision`` (default: the newest) with Alembic.

    Parameters
    ----------
    target : str or Engine, optional
        Store URL or engine; default :func:`default_url`.
    revision : str
        Alembic revision to upgrade to.

    Returns
    -------
    str or None
        The revision the store is at afterwards.
    """
    from alembic import command

    engine = target if isinstance(target, Engine) else engine_for(target)
    try:
        # one migrator at a time: app kernels starting together must not race to create tables
        with engine.execution_options(sqlite_immediate=True).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            command.upgrade(_alembic_config(conn), revision)
        return current_revision(engine)
    finally:
        if not isinstance(target, Engine):
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the store is at (``None`` for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision the shipped migrations know."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()
