"""Predefined feeds (workbench.ops.feeds): definitions, delivery with manifest, masking, schedule, CLI."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from ops_fixtures import write_province, write_run

from workbench.cli import main
from workbench.errors import AccessDenied, DeliveryError, ParameterError
from workbench.ops.feeds import (
    MANIFEST_TABLE, FeedSettings, build_scheduler, feed_settings, find_feed, list_feeds, load_feed, run_feed,
)
from workbench.ops.publish import publish_run
from workbench.store import SYSTEM_USER, Store

REPO = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.timezone.utc)


def _feed(folder: Path, name: str, **keys) -> Path:
    body = {"kind": "target", "columns": ["subscriber_id", "msisdn", "branch_id", "score", "decile"],
            "destination": "out", "cycle": "0 5 * * 1", **keys}
    path = folder / f"{name}.yaml"
    import yaml

    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


@pytest.fixture
def workspace(tmp_path):
    """A workspace root with a feeds folder, an allow list and a store holding a current target version."""
    root = tmp_path / "ws"
    (root / "feeds").mkdir(parents=True)
    (root / "workbench.toml").write_text('[feeds]\nfolder = "feeds"\nunmasked_destinations = ["allowed"]\n',
                                         encoding="utf-8")
    data = write_province(tmp_path / "province")
    run = write_run(tmp_path / "run", data)
    with Store(f"sqlite:///{tmp_path / 'store.sqlite'}", progress=False) as store:
        publish_run(store, SYSTEM_USER, run)
        yield root, store


def test_sample_feeds_of_the_repository_are_valid():
    settings = feed_settings(REPO)
    feeds = {f.name: f for f in list_feeds(settings)}
    assert {"grades_to_ocs", "triggers_daily", "target_list_urumqi"} <= set(feeds)
    assert feeds["grades_to_ocs"].kind == "credit" and feeds["grades_to_ocs"].numbers == "unmasked"
    assert settings.allows_unmasked(feeds["grades_to_ocs"].destination)
    assert not settings.allows_unmasked(feeds["triggers_daily"].destination)


def test_run_delivers_file_and_manifest_with_masked_numbers(workspace):
    root, store = workspace
    _feed(root / "feeds", "urumqi", filter={"branch_id": ["urumqi"], "decile": {"max": 5}})
    settings = feed_settings(root)
    done = run_feed(find_feed("urumqi", settings), store, SYSTEM_USER, settings=settings, now=NOW)
    path = Path(done["path"])
    assert path.parent == root / "out" and path.name == "urumqi-20261201T030000Z.csv"
    delivered = pd.read_csv(path, dtype={"msisdn": str})
    assert delivered["subscriber_id"].tolist() == [1]          # urumqi: 1 (decile 3) and 2 (decile 6)
    assert delivered["msisdn"].tolist() == ["138****0001"]
    manifest = json.loads(Path(done["manifest"]).read_text(encoding="utf-8"))
    assert manifest["rows"] == 1 and manifest["file"] == path.name
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest["model_version"].startswith("target-") and manifest["delivered_at"] == NOW.isoformat()
    assert sorted(p.name for p in (root / "out").iterdir()) == [path.name, path.name + ".manifest.json"]
    audit = store.audit_log(SYSTEM_USER, action="feed")
    assert audit["details"].iloc[0]["feed"] == "urumqi"


def test_parquet_and_database_destinations(workspace, tmp_path):
    root, store = workspace
    _feed(root / "feeds", "pq", format="parquet")
    db = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    _feed(root / "feeds", "db", destination=db, table="target_feed")
    settings = feed_settings(root)
    done = run_feed(find_feed("pq", settings), store, SYSTEM_USER, settings=settings, now=NOW)
    assert len(pd.read_parquet(done["path"])) == 5
    for _ in range(2):   # a re-delivery replaces the table, adds a manifest row
        run_feed(find_feed("db", settings), store, SYSTEM_USER, settings=settings, now=NOW)
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM target_feed")).scalar_one() == 5
        assert conn.execute(sa.text(f"SELECT count(*) FROM {MANIFEST_TABLE}")).scalar_one() == 2
    engine.dispose()


def test_unmasked_numbers_need_the_workspace_allow_list(workspace):
    root, store = workspace
    _feed(root / "feeds", "leak", numbers="unmasked", destination="elsewhere")
    _feed(root / "feeds", "ocs", numbers="unmasked", destination="allowed")
    settings = feed_settings(root)
    with pytest.raises(AccessDenied, match=r"unmasked.*'elsewhere'.*unmasked_destinations"):
        run_feed(find_feed("leak", settings), store, SYSTEM_USER, settings=settings, now=NOW)
    assert not any((root / "elsewhere").glob("*.csv"))
    done = run_feed(find_feed("ocs", settings), store, SYSTEM_USER, settings=settings, now=NOW)
    assert pd.read_csv(done["path"], dtype={"msisdn": str})["msisdn"].tolist()[0] == "13800000001"


def test_unknown_feed_and_unwritable_destination_are_clear_errors(workspace):
    root, store = workspace
    (root / "a_file").write_text("x", encoding="utf-8")
    _feed(root / "feeds", "to_file", destination="a_file")
    _feed(root / "feeds", "under_file", destination="a_file/sub")
    settings = feed_settings(root)
    with pytest.raises(ParameterError, match=r"Unknown feed 'nope'.*\['to_file', 'under_file'\]"):
        find_feed("nope", settings)
    with pytest.raises(DeliveryError, match="not a folder"):
        run_feed(find_feed("to_file", settings), store, SYSTEM_USER, settings=settings, now=NOW)
    with pytest.raises(DeliveryError, match="not writable"):
        run_feed(find_feed("under_file", settings), store, SYSTEM_USER, settings=settings, now=NOW)
    assert store.audit_log(SYSTEM_USER, action="feed").empty


def test_a_failed_write_leaves_nothing_half_delivered(workspace, monkeypatch):
    root, store = workspace
    _feed(root / "feeds", "broken")
    settings = feed_settings(root)

    def dies(self, path, *args, **kwargs):
        Path(path).write_text("subscriber_id\n1\n", encoding="utf-8")   # part of the file, then the crash
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", dies)
    with pytest.raises(OSError, match="disk full"):
        run_feed(find_feed("broken", settings), store, SYSTEM_USER, settings=settings, now=NOW)
    assert list((root / "out").iterdir()) == []


def test_a_feed_without_a_current_version_is_refused(workspace):
    root, store = workspace
    _feed(root / "feeds", "credit", kind="credit", columns=["subscriber_id", "grade"])
    settings = feed_settings(root)
    with pytest.raises(ParameterError, match="none is published"):
        run_feed(find_feed("credit", settings), store, SYSTEM_USER, settings=settings, now=NOW)


@pytest.mark.parametrize("keys, match", [
    ({"cycle": "every day"}, "'cycle'"),
    ({"columns": ["subscriber_id", "password"]}, "'columns'"),
    ({"format": "xlsx"}, "'format'"),
    ({"numbers": "plain"}, "'numbers'"),
    ({"kind": "weather"}, "'kind'"),
    ({"filter": {"colour": ["red"]}}, "'filter'"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_definitions_name_the_key(tmp_path, keys, match):
    with pytest.raises(ParameterError, match=match):
        load_feed(_feed(tmp_path, "bad", **keys))


def test_schedule_has_one_cron_job_per_feed():
    settings = feed_settings(REPO)
    feeds = list_feeds(settings)
    scheduler = build_scheduler(feeds, lambda name: None)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {f.name for f in feeds}
    after = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.timezone.utc)
    monthly = jobs["grades_to_ocs"].trigger.get_next_fire_time(None, after)
    daily = jobs["triggers_daily"].trigger.get_next_fire_time(None, after)
    assert (monthly.month, monthly.day, monthly.hour) == (1, 1, 3)
    assert (daily.day, daily.hour, daily.minute) == (8, 6, 30)


def test_feed_settings_refuse_unknown_keys(tmp_path):
    (tmp_path / "workbench.toml").write_text('[feeds]\nallow = ["x"]\n', encoding="utf-8")
    with pytest.raises(ParameterError, match="unknown key"):
        feed_settings(tmp_path)
    assert FeedSettings(tmp_path, tmp_path / "feeds").allows_unmasked("x") is False


def test_cli_feed_list_and_run(workspace, monkeypatch, capsys):
    root, store = workspace
    _feed(root / "feeds", "weekly")
    monkeypatch.setenv("WORKBENCH_WORKSPACE", str(root))
    assert main(["feed", "list", "--json"]) == 0
    assert [f["name"] for f in json.loads(capsys.readouterr().out)] == ["weekly"]
    url = store.engine.url.render_as_string(hide_password=False)
    assert main(["feed", "run", "weekly", "--store", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 5
    assert main(["feed", "run", "nope", "--store", url]) != 0
    assert "Unknown feed 'nope'" in capsys.readouterr().err


def test_cli_schedule_runs_each_feed_through_the_scheduler(workspace, monkeypatch, capsys):
    from apscheduler.schedulers.blocking import BlockingScheduler

    root, store = workspace
    _feed(root / "feeds", "weekly")
    monkeypatch.setenv("WORKBENCH_WORKSPACE", str(root))
    seen = {}

    def start(self):      # instead of blocking: fire every job once, as its trigger would
        seen["jobs"] = {job.id: str(job.trigger) for job in self.get_jobs()}
        for job in self.get_jobs():
            job.func(*job.args)

    monkeypatch.setattr(BlockingScheduler, "start", start)
    url = store.engine.url.render_as_string(hide_password=False)
    assert main(["feed", "schedule", "--store", url]) == 0
    assert list(seen["jobs"]) == ["weekly"] and "cron" in seen["jobs"]["weekly"]
    assert "weekly (0 5 * * 1)" in capsys.readouterr().out
    assert len(list((root / "out").glob("weekly-*.csv"))) == 1
