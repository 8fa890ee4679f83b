"""Predefined feeds: published results delivered on a fixed cycle and format (DOMAIN.md: 预定义).

A feed is a YAML file in the workspace's ``feeds/`` folder (or the folder named by
``[feeds] folder`` in ``workbench.toml``)::

    name: grades_to_ocs            # default: the file name
    kind: credit                   # target | credit | trigger | preference: the current published version
    filter:                        # optional: column -> list of values, or {min: x, max: y}
      grade: [D, E]
    columns: [subscriber_id, msisdn, branch_id, grade, score]
    format: csv                    # csv | parquet (folder destinations)
    numbers: masked                # masked (default) | unmasked - see below
    destination: outbox/ocs        # a folder (relative to the workspace) or a database URL
    table: wb_feed_grades          # the table of a database destination (default: feed_<name>)
    cycle: "0 3 1 * *"             # cron expression (minute hour day month weekday)

Phone numbers (column ``msisdn``) are masked unless the feed asks for
``numbers: unmasked`` **and** the workspace allows its destination::

    [feeds]                                   # in workbench.toml
    folder = "feeds"
    unmasked_destinations = ["outbox/ocs"]    # folders (relative to the workspace) or database URLs

Each delivery writes the data under a temporary name and renames it when
complete, then its manifest (``<file>.manifest.json``: rows, sha256, model
version, time), the same way; a database destination gets the rows and the
manifest row (``wb_feed_manifests``) in one transaction.  Nothing is half
delivered.  :func:`build_scheduler` runs every feed on its cycle with
APScheduler's ``BlockingScheduler`` and ``CronTrigger`` (``workbench feed schedule``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.errors import AccessDenied, DeliveryError, ParameterError

__all__ = ["FEED_COLUMNS", "FEED_FORMATS", "NUMBER_MODES", "Feed", "FeedSettings", "feed_settings", "load_feed",
           "list_feeds", "find_feed", "feed_rows", "run_feed", "build_scheduler", "MANIFEST_TABLE"]

#: Columns a feed may deliver.
FEED_COLUMNS: tuple[str, ...] = ("subscriber_id", "branch_id", "msisdn", "score", "grade", "decile", "reasons",
                                 "offers", "version_id", "model_version", "valid_from")
#: Formats of a folder destination.
FEED_FORMATS: tuple[str, ...] = ("csv", "parquet")
#: How phone numbers leave: masked (138****1234) or as they are (only to allowed destinations).
NUMBER_MODES: tuple[str, ...] = ("masked", "unmasked")
#: Table of a database destination holding one row per delivery.
MANIFEST_TABLE = "wb_feed_manifests"
_KEYS = ("name", "description", "kind", "filter", "columns", "format", "numbers", "destination", "table", "cycle")
_KINDS = ("target", "preference", "credit", "trigger")


@dataclass(frozen=True)
class Feed:
    """One feed definition (see the module docstring for the YAML)."""

    name: str
    kind: str
    columns: tuple[str, ...]
    destination: str
    cycle: str
    format: str = "csv"
    numbers: str = "masked"
    filter: dict = field(default_factory=dict)
    table: str | None = None
    description: str = ""
    source: str = ""

    @property
    def is_database(self) -> bool:
        """Whether the destination is a database URL (``scheme://``)."""
        return "://" in self.destination


@dataclass(frozen=True)
class FeedSettings:
    """The workspace's feed settings: where definitions live, which destinations may get full numbers."""

    root: Path
    folder: Path
    unmasked: tuple[str, ...] = ()

    def destination(self, value: str) -> str:
        """A destination as compared with the allow list: a folder resolved against the root, a URL as is."""
        return value if "://" in value else str((self.root / Path(value).expanduser()).resolve())

    def allows_unmasked(self, destination: str) -> bool:
        """Whether the allow list names ``destination``."""
        return self.destination(destination) in {self.destination(v) for v in self.unmasked}


def feed_settings(root=None) -> FeedSettings:
    """The ``[feeds]`` table of the workspace's ``workbench.toml`` (defaults: ``feeds/``, no allow list)."""
    from workbench.workspace import CONFIG_FILE, cli_workspace

    ws_root = Path(root) if root is not None else cli_workspace(hint=False).root
    config = ws_root / CONFIG_FILE
    table = {}
    if config.is_file():
        with config.open("rb") as fh:
            table = tomllib.load(fh).get("feeds", {})
    unknown = sorted(set(table) - {"folder", "unmasked_destinations"})
    if unknown:
        raise ParameterError(f"The [feeds] table of {str(config)!r} has unknown key(s) {unknown}; the keys are "
                             "['folder', 'unmasked_destinations'].")
    allowed = table.get("unmasked_destinations", [])
    if not isinstance(allowed, list) or not all(isinstance(v, str) for v in allowed):
        raise ParameterError(f"[feeds] unmasked_destinations in {str(config)!r} must be a list of folders or URLs. "
                             f"Got {allowed!r} instead.")
    folder = ws_root / str(table.get("folder", "feeds"))
    return FeedSettings(root=ws_root, folder=folder.resolve(), unmasked=tuple(allowed))


def _bad(path, key: str, allowed: str, got) -> ParameterError:
    return ParameterError(f"The feed definition {str(path)!r}: {key!r} must be {allowed}. Got {got!r} instead.")


def load_feed(path) -> Feed:
    """Read and check one feed definition (every key checked; the message names file, key, allowed, found)."""
    import yaml
    from apscheduler.triggers.cron import CronTrigger

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParameterError(f"The feed definition {str(path)!r} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise _bad(path, "(file)", "a mapping of keys", type(raw).__name__)
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise _bad(path, unknown[0], f"one of the keys {list(_KEYS)}", unknown[0])
    for key in ("kind", "columns", "destination", "cycle"):
        if not raw.get(key):
            raise _bad(path, key, "given", None)
    if raw["kind"] not in _KINDS:
        raise _bad(path, "kind", f"one of {list(_KINDS)}", raw["kind"])
    cols = raw["columns"]
    if not isinstance(cols, list) or not cols or any(c not in FEED_COLUMNS for c in cols):
        raise _bad(path, "columns", f"a list of {list(FEED_COLUMNS)}", cols)
    fmt = raw.get("format", "csv")
    if fmt not in FEED_FORMATS:
        raise _bad(path, "format", f"one of {list(FEED_FORMATS)}", fmt)
    numbers = raw.get("numbers", "masked")
    if numbers not in NUMBER_MODES:
        raise _bad(path, "numbers", f"one of {list(NUMBER_MODES)}", numbers)
    filters = raw.get("filter") or {}
    if not isinstance(filters, dict) or any(k not in FEED_COLUMNS for k in filters):
        raise _bad(path, "filter", f"a mapping of columns among {list(FEED_COLUMNS)} to values", filters)
    try:
        CronTrigger.from_crontab(str(raw["cycle"]))
    except ValueError as exc:
        raise _bad(path, "cycle", "a cron expression 'minute hour day month weekday'", raw["cycle"]) from exc
    return Feed(name=str(raw.get("name") or path.stem), kind=raw["kind"], columns=tuple(cols),
                destination=str(raw["destination"]), cycle=str(raw["cycle"]), format=fmt, numbers=numbers,
                filter=dict(filters), table=raw.get("table"), description=str(raw.get("description", "")),
                source=str(path))


def list_feeds(settings: FeedSettings) -> list[Feed]:
    """Every feed of the settings' folder (``*.yaml``, ``*.yml``), by name; duplicates are an error."""
    files = sorted([*settings.folder.glob("*.yaml"), *settings.folder.glob("*.yml")]) if settings.folder.is_dir() \
        else []
    feeds = [load_feed(f) for f in files]
    names = [f.name for f in feeds]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ParameterError(f"feed name(s) {twice} are defined more than once in {str(settings.folder)!r}")
    return sorted(feeds, key=lambda f: f.name)


def find_feed(name: str, settings: FeedSettings) -> Feed:
    """The feed called ``name``; :class:`ParameterError` listing the feeds there are."""
    feeds = {f.name: f for f in list_feeds(settings)}
    if name not in feeds:
        raise ParameterError(f"Unknown feed {name!r}: the feeds of {str(settings.folder)!r} are {sorted(feeds)}.")
    return feeds[name]


# ------------------------------------------------------------------ the rows
def _apply_filter(frame: pd.DataFrame, filters: dict) -> pd.DataFrame:
    keep = pd.Series(True, index=frame.index)
    for col, cond in filters.items():
        if isinstance(cond, dict):
            values = pd.to_numeric(frame[col], errors="coerce")
            if "min" in cond:
                keep &= values >= float(cond["min"])
            if "max" in cond:
                keep &= values <= float(cond["max"])
        else:
            wanted = cond if isinstance(cond, list) else [cond]
            keep &= frame[col].astype("str").isin([str(v) for v in wanted])
    return frame[keep.fillna(False).astype(bool)]


def feed_rows(feed: Feed, store, user, *, data=None, settings: FeedSettings | None = None) -> tuple[pd.DataFrame, dict]:
    """The rows a feed delivers now and the current version they come from.

    Raises
    ------
    AccessDenied
        The feed asks for unmasked numbers and the workspace does not allow its destination.
    ParameterError
        No current version of the feed's kind.
    """
    if feed.numbers == "unmasked" and "msisdn" in feed.columns:
        if settings is None or not settings.allows_unmasked(feed.destination):
            raise AccessDenied(
                f"The feed {feed.name!r} asks for unmasked phone numbers (numbers: unmasked), but its destination "
                f"{feed.destination!r} is not in the workspace's allow list ([feeds] unmasked_destinations in "
                "workbench.toml). Add the destination there, or set numbers: masked. Nothing was delivered.")
    version = store.current_published(user, feed.kind)
    if version is None:
        raise ParameterError(f"The feed {feed.name!r} delivers the current {feed.kind!r} results, but none is "
                             "published: run workbench publish RUN_DIR first. Nothing was delivered.")
    frame = store.published_frame(user, int(version["id"]))
    frame["model_version"] = version["model_version"]
    frame["valid_from"] = str(version["valid_from"])
    frame = _apply_filter(frame, feed.filter)
    frame = frame.rename(columns={"msisdn_masked": "msisdn"})
    if feed.numbers == "unmasked" and "msisdn" in feed.columns:
        from workbench.data.source import connection
        from workbench.ops.publish import run_data

        with connection(run_data(version["run_dir"], data), progress=False) as con:
            numbers = con.execute("SELECT subscriber_id, msisdn FROM subscribers").df()
        frame = frame.drop(columns="msisdn").merge(numbers, on="subscriber_id", how="left")
    return frame[list(feed.columns)].reset_index(drop=True), version


# ------------------------------------------------------------------ delivery
def _writable_folder(feed: Feed, settings: FeedSettings) -> Path:
    folder = Path(settings.destination(feed.destination))
    if folder.exists() and not folder.is_dir():
        raise DeliveryError(f"The destination of feed {feed.name!r} is {str(folder)!r}, which is not a folder. "
                            "Nothing was delivered.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise DeliveryError(f"The destination folder {str(folder)!r} of feed {feed.name!r} is not writable "
                            f"({exc.strerror or exc}). Nothing was delivered.") from None
    return folder


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _deliver_folder(feed: Feed, frame: pd.DataFrame, manifest: dict, settings: FeedSettings, stamp: str) -> dict:
    folder = _writable_folder(feed, settings)
    target = folder / f"{feed.name}-{stamp}.{feed.format}"
    if feed.format == "csv":
        _atomic_write(target, lambda p: frame.to_csv(p, index=False, encoding="utf-8"))
    else:
        _atomic_write(target, lambda p: frame.to_parquet(p, index=False))
    manifest = {**manifest, "file": target.name, "sha256": _sha256(target)}
    side = target.with_name(target.name + ".manifest.json")
    try:
        _atomic_write(side, lambda p: p.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                                   encoding="utf-8"))
    except BaseException:
        target.unlink(missing_ok=True)  # no data without its manifest
        raise
    return {**manifest, "path": str(target), "manifest": str(side)}


def _deliver_database(feed: Feed, frame: pd.DataFrame, manifest: dict) -> dict:
    import sqlalchemy as sa

    from workbench.ops.backfill import target_engine

    engine = target_engine(feed.destination)
    table = feed.table or f"feed_{feed.name}"
    csv = frame.to_csv(index=False).encode("utf-8")
    manifest = {**manifest, "table": table, "sha256": hashlib.sha256(csv).hexdigest()}
    try:
        with engine.begin() as conn:   # rows and manifest row together, or neither
            frame.to_sql(table, conn, if_exists="replace", index=False, chunksize=50_000)
            meta = sa.MetaData()
            log = sa.Table(MANIFEST_TABLE, meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                           sa.Column("feed", sa.String(64)), sa.Column("delivered_at", sa.String(40)),
                           sa.Column("rows", sa.BigInteger), sa.Column("sha256", sa.String(64)),
                           sa.Column("manifest", sa.Text))
            meta.create_all(conn, checkfirst=True)
            conn.execute(log.insert(), [{"feed": feed.name, "delivered_at": manifest["delivered_at"],
                                         "rows": manifest["rows"], "sha256": manifest["sha256"],
                                         "manifest": json.dumps(manifest, ensure_ascii=False)}])
    except sa.exc.SQLAlchemyError as exc:
        raise DeliveryError(f"The feed {feed.name!r} could not be delivered to "
                            f"{engine.url.render_as_string(hide_password=True)!r}: {exc.__class__.__name__}: "
                            f"{str(exc).splitlines()[0]}. Nothing was delivered.") from None
    finally:
        engine.dispose()
    return {**manifest, "path": f"{engine.url.render_as_string(hide_password=True)}#{table}",
            "manifest": MANIFEST_TABLE}


def run_feed(feed: Feed, store, user, *, settings: FeedSettings, data=None, now: dt.datetime | None = None) -> dict:
    """Deliver a feed once; return its manifest (plus ``path`` and ``manifest``: where they went).

    The manifest holds ``feed, kind, version_id, model_version, valid_from, rows, columns,
    format, numbers, filter, delivered_at, sha256`` (and ``file`` or ``table``).
    The delivery is audit-logged in the store (action ``feed``).

    Raises
    ------
    AccessDenied
        Unmasked numbers asked for a destination the workspace does not allow.
    DeliveryError
        The destination is not a folder, not writable, or the database refuses the rows.
    """
    if not feed.is_database:
        _writable_folder(feed, settings)   # before reading anything: a bad destination fails fast
    frame, version = feed_rows(feed, store, user, data=data, settings=settings)
    when = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    manifest = {"feed": feed.name, "kind": feed.kind, "version_id": int(version["id"]),
                "model_version": version["model_version"], "valid_from": str(version["valid_from"]),
                "rows": int(len(frame)), "columns": list(feed.columns), "format": feed.format,
                "numbers": feed.numbers, "filter": feed.filter, "delivered_at": when.isoformat(timespec="seconds")}
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    done = (_deliver_database(feed, frame, manifest) if feed.is_database
            else _deliver_folder(feed, frame, manifest, settings, stamp))
    store.record_feed(user, feed.name, version_id=int(version["id"]), rows=len(frame),
                      destination=done["path"], sha256=done["sha256"])
    return done


def build_scheduler(feeds: list[Feed], job, *, timezone: str = "UTC"):
    """An APScheduler ``BlockingScheduler`` with one ``CronTrigger`` job per feed (not started).

    Parameters
    ----------
    feeds : list of Feed
    job : callable
        Called with the feed's name on each tick (e.g. a function running :func:`run_feed`).
    timezone : str
        Time zone of the cron expressions.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = BlockingScheduler(timezone=timezone)
    for feed in feeds:
        scheduler.add_job(job, CronTrigger.from_crontab(feed.cycle, timezone=timezone), args=[feed.name],
                          id=feed.name, name=feed.name, max_instances=1, coalesce=True,
                          misfire_grace_time=3600)
    return scheduler
