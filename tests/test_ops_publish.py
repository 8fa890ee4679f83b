"""Publishing a run folder's results (workbench.ops.publish, Store published versions, the CLI, the demo step)."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from ops_fixtures import PRODUCTS, write_province, write_run
from store_fixtures import fresh_database, postgres_url  # noqa: F401 - fixture

from workbench.cli import main
from workbench.errors import AccessDenied, ParameterError
from workbench.ops.publish import demo_publish, publish_run
from workbench.runs import RunFileMissing, RunFolder
from workbench.store import SYSTEM_USER, Store
from workbench.store.published import StorePublished


@pytest.fixture
def store(tmp_path):
    with Store(f"sqlite:///{tmp_path / 'store.sqlite'}", progress=False, chunk_size=2) as s:
        yield s


@pytest.fixture
def data(tmp_path):
    return write_province(tmp_path / "province")


def _statuses(store) -> dict[int, str]:
    v = store.published_versions(SYSTEM_USER)
    return dict(zip(v["id"].astype(int), v["status"]))


def test_publish_writes_a_card_per_subscriber_and_makes_it_current(store, data, tmp_path):
    run = write_run(tmp_path / "run", data)
    done = publish_run(store, SYSTEM_USER, run)
    assert [(d["kind"], d["rows"], d["retired"]) for d in done] == [("target", 5, None)]
    version = store.current_published(SYSTEM_USER, "target")
    assert version["id"] == done[0]["version_id"] and version["row_count"] == 5
    assert version["model_version"].startswith("target-") and len(version["source_sha256"]) == 64
    rows = store.published_frame(SYSTEM_USER, version["id"]).set_index("subscriber_id")
    assert rows.loc[3, "score"] == pytest.approx(0.9) and rows.loc[3, "decile"] == 1
    assert pd.isna(rows.loc[5, "score"])                # unscored, but its eligibility is published
    assert rows.loc[1, "msisdn_masked"] == "138****0001"
    assert rows.loc[1, "branch_id"] == "urumqi"
    reasons = json.loads(rows.loc[3, "reasons"])
    assert [r["en"] for r in reasons] == ["Customer for 30 months", "Often reads news content"]
    assert [r["zh"] for r in reasons] == ["入网 30 个月", "常看新闻内容"]
    assert [(r["code"], r["value"], r["band"]) for r in reasons] == [("tenure_months", "30", None),
                                                                    ("content_pref_news", "0.6", "top10")]
    assert pd.isna(rows.loc[2, "reasons"])
    offers = json.loads(rows.loc[1, "offers"])
    assert [o["product"] for o in offers] == list(PRODUCTS)
    assert offers[1] == {"product": "B", "eligible": False, "reason": "exclusive:A"}
    assert {o["reason"] for o in json.loads(rows.loc[5, "offers"])} == {"inactive"}


def test_second_publish_retires_the_first_and_rollback_restores_it(store, data, tmp_path):
    run = write_run(tmp_path / "run", data)
    first = publish_run(store, SYSTEM_USER, run, valid_from="2026-11-01")[0]["version_id"]
    second = publish_run(store, SYSTEM_USER, run, valid_from="2026-12-01")[0]
    assert second["retired"] == first
    assert _statuses(store) == {first: "retired", second["version_id"]: "current"}
    versions = store.published_versions(SYSTEM_USER).set_index("id")
    assert str(versions.loc[first, "valid_to"]) == "2026-12-01"
    back = store.rollback_published(SYSTEM_USER, "target")
    assert back == {"version_id": first, "kind": "target", "rows": 5, "retired": second["version_id"]}
    assert _statuses(store) == {first: "current", second["version_id"]: "retired"}
    actions = store.audit_log(SYSTEM_USER)["action"].tolist()
    assert actions.count("publish") == 2 and "publish_rollback" in actions
    with pytest.raises(ParameterError, match="no earlier version"):
        store.rollback_published(SYSTEM_USER, "target")


def test_failure_mid_way_leaves_the_previous_version_current(store, data, tmp_path, monkeypatch):
    run = write_run(tmp_path / "run", data)
    first = publish_run(store, SYSTEM_USER, run)[0]["version_id"]
    calls = {"n": 0}
    original = StorePublished._insert_published

    def dies_on_second_batch(self, version_id, batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed while loading")
        return original(self, version_id, batch)

    monkeypatch.setattr(StorePublished, "_insert_published", dies_on_second_batch)
    with pytest.raises(RuntimeError, match="killed while loading"):
        publish_run(store, SYSTEM_USER, run)
    statuses = _statuses(store)
    assert statuses[first] == "current"
    failed = [v for v, s in statuses.items() if v != first]
    assert [statuses[v] for v in failed] == ["failed"]
    assert store.published_frame(SYSTEM_USER, failed[0]).empty       # its first batch was removed
    assert len(store.published_frame(SYSTEM_USER, first)) == 5
    assert "publish_failed" in store.audit_log(SYSTEM_USER)["action"].tolist()


def test_a_loading_version_is_never_current_and_one_current_per_kind(store, data, tmp_path):
    run = write_run(tmp_path / "run", data)
    publish_run(store, SYSTEM_USER, run)
    loading = store.create_published(SYSTEM_USER, "target", valid_from=pd.Timestamp("2026-12-01").date())
    assert store.current_published(SYSTEM_USER, "target")["id"] != loading
    with pytest.raises(ParameterError, match="valid_to"):
        store.create_published(SYSTEM_USER, "target", valid_from=pd.Timestamp("2026-12-01").date(),
                               valid_to=pd.Timestamp("2026-11-01").date())
    with pytest.raises(ParameterError, match="kind"):
        store.create_published(SYSTEM_USER, "nonsense", valid_from=pd.Timestamp("2026-12-01").date())


def test_credit_grades_are_published_and_exclude_promotions(store, data, tmp_path):
    run = write_run(tmp_path / "run", data, credit={1: "A", 3: "E"})
    done = publish_run(store, SYSTEM_USER, run)
    assert [d["kind"] for d in done] == ["target", "credit"]
    credit = store.published_frame(SYSTEM_USER, done[1]["version_id"]).set_index("subscriber_id")
    assert credit["grade"].to_dict() == {1: "A", 3: "E"}
    target = store.published_frame(SYSTEM_USER, done[0]["version_id"]).set_index("subscriber_id")
    offers = {o["product"]: o["reason"] for o in json.loads(target.loc[3, "offers"])}
    assert offers == {"A": "credit_grade:E", "B": "credit_grade:E", "C": "credit_grade:E", "D": "held"}


def test_run_folder_without_scores_is_refused_and_nothing_is_published(store, data, tmp_path):
    run = write_run(tmp_path / "run", data, scores=False)
    with pytest.raises(RunFileMissing, match="nothing to publish"):
        publish_run(store, SYSTEM_USER, run)
    with pytest.raises(RunFileMissing, match="scores"):
        publish_run(store, SYSTEM_USER, run, kinds=["target"])
    with pytest.raises(ParameterError, match="run_dir"):
        publish_run(store, SYSTEM_USER, tmp_path / "absent")
    assert store.published_versions(SYSTEM_USER).empty


def test_only_publishing_roles_publish(store, data, tmp_path):
    run = write_run(tmp_path / "run", data)
    executor = store.add_user(SYSTEM_USER, "exe", "executor", branch_id="urumqi", password="s3cret-pass-1")
    with pytest.raises(AccessDenied, match="publishing results"):
        publish_run(store, executor, run)
    analyst = store.add_user(SYSTEM_USER, "ana", "analyst", password="s3cret-pass-2")
    assert publish_run(store, analyst, run)[0]["rows"] == 5
    with pytest.raises(AccessDenied):
        store.published_versions(executor)


def test_scores_without_reason_codes_publish_their_text_in_both_languages(store, data, tmp_path):
    run = write_run(tmp_path / "run", data)
    folder = RunFolder(run)
    scores = folder.read_scores().drop(columns=["reason_1_code", "reason_2_code", "reason_3_code"])
    folder.step("03_target_model", {"data": str(data), "language": "en"})
    folder.write_scores(scores)
    folder.finish("03_target_model")
    done = publish_run(store, SYSTEM_USER, run)
    rows = store.published_frame(SYSTEM_USER, done[0]["version_id"]).set_index("subscriber_id")
    reasons = json.loads(rows.loc[3, "reasons"])
    assert [(r["code"], r["zh"], r["en"]) for r in reasons] == [
        ("reason", "Customer for 30 months", "Customer for 30 months"),
        ("reason", "Often reads news content", "Often reads news content")]


def test_cli_publish_list_and_rollback(data, tmp_path, capsys):
    run = write_run(tmp_path / "run", data)
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["publish", str(run), "--store", url, "--no-progress", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)[0]["version_id"]
    assert main(["publish", str(run), "--store", url, "--no-progress", "--valid-from", "2026-12-01"]) == 0
    capsys.readouterr()
    assert main(["publish", "list", "--store", url, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [v["status"] for v in listed] == ["current", "retired"]
    assert main(["publish", "rollback", "target", "--store", url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version_id"] == first
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["publish", str(empty), "--store", url]) != 0
    assert "nothing to publish" in capsys.readouterr().err


def test_demo_step_publishes_into_the_runs_store(data, tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    run = write_run(tmp_path / "run", data, store_url=url)
    line = demo_publish(str(data), str(run))
    assert "#1" in line
    with Store(url, progress=False) as store:
        assert store.current_published(SYSTEM_USER, "target")["row_count"] == 5
    empty = write_run(tmp_path / "empty", data, scores=False, store_url=url)
    assert str(empty) in demo_publish(str(data), str(empty))


def test_trigger_waves_of_template_08_are_published(store, data, tmp_path):
    run = write_run(tmp_path / "run", data, scores=False)
    for day, rows in (("2026-10-01", [(4, "D")]), ("2026-10-02", [(2, "C"), (3, "A")])):
        folder = run / "triggers" / day
        folder.mkdir(parents=True)
        pd.DataFrame({"subscriber_id": [r[0] for r in rows], "msisdn_masked": ["138****0000"] * len(rows),
                      "product_id": [r[1] for r in rows], "branch_id": ["hami"] * len(rows)}).to_csv(
            folder / "sms.csv", index=False)
        pd.DataFrame({"step": ["changers"], "count": [9]}).to_csv(folder / "funnel.csv", index=False)
    done = publish_run(store, SYSTEM_USER, run)
    assert [(d["kind"], d["rows"]) for d in done] == [("trigger", 2)]       # the newest day only
    rows = store.published_frame(SYSTEM_USER, done[0]["version_id"]).set_index("subscriber_id")
    reason = json.loads(rows.loc[2, "reasons"])[0]
    assert reason["code"] == "trigger:C" and "SMS" in reason["en"] and "短信" in reason["zh"]
    assert rows.loc[2, "branch_id"] == "urumqi"             # from the subscribers table, not the file


@pytest.mark.postgres
def test_switch_and_rollback_on_postgresql(data, tmp_path, postgres_url, monkeypatch):  # noqa: F811
    url, drop = fresh_database(postgres_url)
    try:
        with Store(url, progress=False, chunk_size=2) as store:
            run = write_run(tmp_path / "run", data)
            first = publish_run(store, SYSTEM_USER, run)[0]["version_id"]
            second = publish_run(store, SYSTEM_USER, run)[0]["version_id"]
            assert _statuses(store) == {first: "retired", second: "current"}
            monkeypatch.setattr(StorePublished, "_insert_published",
                                lambda self, version_id, batch: (_ for _ in ()).throw(RuntimeError("killed")))
            with pytest.raises(RuntimeError, match="killed"):
                publish_run(store, SYSTEM_USER, run)
            assert store.current_published(SYSTEM_USER, "target")["id"] == second
            assert store.rollback_published(SYSTEM_USER, "target")["version_id"] == first
            assert len(store.published_frame(SYSTEM_USER, first)) == 5
    finally:
        drop()


def test_a_killed_publish_leaves_the_previous_version_current(store, data, tmp_path):
    import subprocess
    import sys
    import textwrap

    run = write_run(tmp_path / "run", data)
    first = publish_run(store, SYSTEM_USER, run)[0]["version_id"]
    url = store.engine.url.render_as_string(hide_password=False)
    script = textwrap.dedent(f"""
        import os
        from workbench.ops.publish import publish_run
        from workbench.store import SYSTEM_USER, Store
        from workbench.store.published import StorePublished
        original, calls = StorePublished._insert_published, []
        def insert(self, version_id, batch):
            calls.append(1)
            if len(calls) == 2:
                os._exit(9)            # the process dies between two batches: no clean-up runs
            original(self, version_id, batch)
        StorePublished._insert_published = insert
        publish_run(Store({url!r}, progress=False, chunk_size=2), SYSTEM_USER, {str(run)!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 9, done.stderr
    statuses = _statuses(store)
    assert statuses[first] == "current"
    assert sorted(statuses.values()) == ["current", "loading"]      # the dead one never became current
    assert len(store.published_frame(SYSTEM_USER, first)) == 5
    third = publish_run(store, SYSTEM_USER, run)[0]          # the leftover blocks nothing
    assert third["retired"] == first and store.current_published(SYSTEM_USER, "target")["id"] == third["version_id"]
