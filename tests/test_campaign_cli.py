"""``workbench campaign plan | release | export | list``: a round trip on a tiny province, and clear errors."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from workbench import cli
from workbench.campaign.from_goal import spec_from_goal
from workbench.campaign.planning import CampaignPlan
from workbench.store import SYSTEM_USER, PasswordPolicy, Store

PASSWORD = "s3cret-pass-123"


def write_province(folder: Path) -> None:
    """Eight subscribers in hami and urumqi, all with an MMS handset; 8 already subscribes."""
    ids = list(range(1, 9))
    tables = {
        "subscribers": pd.DataFrame({
            "subscriber_id": ids, "msisdn": [f"1390000{i:04d}" for i in ids],
            "branch_id": ["hami"] * 4 + ["urumqi"] * 4, "brand": ["gotone"] * 8, "tariff_plan": ["t"] * 8,
            "join_date": pd.to_datetime(["2024-01-01"] * 8), "age": [40] * 8, "gender": ["F"] * 8,
            "rejoined": [False] * 8}),
        "vas_products": pd.DataFrame({
            "product_id": ["MN_NEWS"], "family": ["mobile_newspaper"], "name_zh": ["新闻"], "name_en": ["News"],
            "content_category": ["news"], "edition": ["news"], "monthly_fee": [3.0], "free_months": [1],
            "required_capability": ["mms"]}),
        "vas_orders": pd.DataFrame({
            "event_id": [1], "subscriber_id": [8], "product_id": ["MN_NEWS"],
            "event_date": pd.to_datetime(["2026-06-01"]), "event_type": ["order"], "channel": ["sms"]}),
        "handset_models": pd.DataFrame({
            "handset_model": ["MMS-1"], "vendor": ["v"], "price_band": ["mid"], "cap_wap": [True],
            "cap_mms": [True], "cap_java": [False], "cap_mp3": [False], "smartphone": [False]}),
        "handset_events": pd.DataFrame({
            "subscriber_id": ids, "event_date": pd.to_datetime(["2026-01-01"] * 8),
            "imei": [f"{i:015d}" for i in ids], "handset_model": ["MMS-1"] * 8}),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)


@pytest.fixture
def setup(tmp_path):
    data = tmp_path / "province"
    write_province(data)
    scores = pd.DataFrame({"subscriber_id": range(1, 9), "score": [0.3, 0.25, 0.2, 0.15, 0.32, 0.22, 0.12, 0.9],
                           "reason_1": ["heavy WAP user"] * 8})
    scores.to_csv(tmp_path / "scores.csv", index=False)
    goal = {"product": "mobile_newspaper", "target_stable_subscribers": 1, "period_start": "2026-11-01",
            "period_end": "2026-11-03", "reason": {"text": "test"}, "branches": ["hami", "urumqi"],
            "check": {"conversion_rate": 0.2, "lookalikes": 4}}
    (tmp_path / "goal.json").write_text(json.dumps(goal), encoding="utf-8")
    spec = spec_from_goal(goal, channels={"sms": {"unit_cost": 0.01, "response_multiplier": 1.5},
                                          "outbound_call": {"unit_cost": 1.0, "response_multiplier": 4.0,
                                                            "daily_capacity": 1}},
                          list_size=6, control_share=0.3, seed=7, edition="news")
    (tmp_path / "spec.yaml").write_text(spec.to_yaml(), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with Store(url, password_policy=PasswordPolicy.fast_for_tests(), progress=False) as store:
        store.add_user(SYSTEM_USER, "ana", "analyst", password=PASSWORD)
        store.add_user(SYSTEM_USER, "hami_exec1", "executor", password=PASSWORD, branch_id="hami")
    return tmp_path, url


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = cli.main(["campaign", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_round_trip_plan_release_list_export(setup, capsys):
    root, url = setup
    rc, out, err = run(capsys, "plan", "--spec", str(root / "spec.yaml"), "--scores", str(root / "scores.csv"),
                       "--data", str(root / "province"), "--goal", str(root / "goal.json"), "--out",
                       str(root / "plan"), "--store", url, "--no-progress", "--lang", "en")
    assert rc == 0, err
    plan = CampaignPlan.load(root / "plan")
    assert f"Plan written to {root / 'plan'}: 6 listed, {plan.summary['contacted']} to contact" in out
    assert plan.summary["candidates"] == 8 and plan.funnel.set_index("step").loc["subscriber", "excluded"] == 1
    # hami has an executor in the store, urumqi gets placeholder names
    assert set(plan.rows.loc[plan.rows["branch_id"] == "hami", "executor"].dropna()) == {"hami_exec1"}
    assert plan.info["roster_sources"] == {"hami": "store", "urumqi": "default"}

    rc, out, err = run(capsys, "release", "--plan", str(root / "plan"), "--store", url, "--as", "ana", "--lang", "en")
    assert rc == 0, err
    assert out.strip() == f"Released campaign #1 version 1: {len(plan.rows)} list rows."
    rc, out, _ = run(capsys, "release", "--plan", str(root / "plan"), "--store", url, "--as", "ana",
                     "--campaign", "1", "--lang", "en")
    assert rc == 0 and "version 2" in out

    rc, out, _ = run(capsys, "list", "--store", url, "--lang", "en")
    assert rc == 0
    lines = out.strip().splitlines()
    assert lines[0].split()[:2] == ["Id", "Name"] and " ana " in lines[1] and "Released" in lines[1]

    hami = plan.rows[(plan.rows["branch_id"] == "hami") & (plan.rows["group"] == "target")]
    channel = hami["channel"].iloc[0]
    n = int((hami["channel"] == channel).sum())
    rc, out, err = run(capsys, "export", "--campaign", "1", "--branch", "hami", "--channel", channel,
                       "--format", "csv", "--role", "branch_manager", "--out", str(root / "hami.csv"),
                       "--store", url, "--lang", "en")
    assert rc == 0, err
    assert f"Exported {n} rows to {root / 'hami.csv'} (numbers masked" in out
    masked = pd.read_csv(root / "hami.csv", encoding="utf-8-sig", dtype=str)
    assert "msisdn" not in masked.columns and masked["msisdn_masked"].str.fullmatch(r"139\*{4}\d{4}").all()
    assert set(masked["branch_id"]) == {"hami"} and set(masked["channel"]) == {channel}

    rc, out, err = run(capsys, "export", "--campaign", "1", "--version", "1", "--branch", "hami", "--channel",
                       channel, "--format", "xlsx", "--role", "executor", "--data", str(root / "province"),
                       "--out", str(root / "hami_full"), "--store", url, "--as", "hami_exec1", "--headers", "zh",
                       "--lang", "en")
    assert rc == 0, err
    assert "(full numbers" in out
    full = pd.read_excel(root / "hami_full.xlsx", dtype=str)
    assert "手机号码" in full.columns and full["手机号码"].str.fullmatch(r"1390000\d{4}").all()
    assert len(full) == n

    with Store(url, progress=False) as store:
        audit = store.audit_log(SYSTEM_USER, action="export")
    assert len(audit) == 2
    details = [d if isinstance(d, dict) else json.loads(d) for d in audit["details"]]
    assert {d["version"] for d in details} == {1, 2} and all(d["branch_id"] == "hami" for d in details)
    assert any("role executor (full numbers)" in d["purpose"] for d in details)
    assert any("role branch_manager (masked numbers)" in d["purpose"] for d in details)
    assert set(audit["user_name"]) == {"system", "hami_exec1"}


def test_executor_role_without_data_gets_masked_numbers_and_a_note(setup, capsys):
    root, url = setup
    run(capsys, "plan", "--spec", str(root / "spec.yaml"), "--scores", str(root / "scores.csv"), "--data",
        str(root / "province"), "--baseline-rate", "0.05", "--out", str(root / "plan"), "--no-progress")
    run(capsys, "release", "--plan", str(root / "plan"), "--store", url, "--as", "system")
    plan = CampaignPlan.load(root / "plan")
    channel = plan.rows["channel"].iloc[0]
    branch = plan.rows["branch_id"].iloc[0]
    rc, out, _ = run(capsys, "export", "--campaign", "1", "--branch", branch, "--channel", channel, "--format", "csv",
                     "--role", "executor", "--out", str(root / "x.csv"), "--store", url, "--lang", "en")
    assert rc == 0 and "(numbers masked" in out and "without --data only the store's masked numbers" in out


def test_errors_are_clear_and_exit_with_1(setup, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LANG", "en")    # the messages are compared in English (the CLI's default is zh)
    root, url = setup
    base = ["--scores", str(root / "scores.csv"), "--data", str(root / "province"), "--out", str(root / "p")]
    rc, _, err = run(capsys, "plan", "--spec", str(root / "nope.yaml"), *base)
    assert rc == 1 and "The '--spec' spec file" in err and "does not exist" in err
    (root / "spec.txt").write_text("x")
    rc, _, err = run(capsys, "plan", "--spec", str(root / "spec.txt"), *base)
    assert rc == 1 and "The '--spec' parameter must be a .json, .yaml or .yml file" in err
    (root / "bad.yaml").write_text("name: x\nowner: y\n")
    rc, _, err = run(capsys, "plan", "--spec", str(root / "bad.yaml"), *base)
    assert rc == 1 and "spec:" in err and "missing" in err
    rc, _, err = run(capsys, "release", "--plan", str(root / "none"), "--store", url, "--as", "ana")
    assert rc == 1 and "does not exist" in err
    run(capsys, "plan", "--spec", str(root / "spec.yaml"), *base, "--no-progress")
    rc, _, err = run(capsys, "release", "--plan", str(root / "p"), "--store", url, "--as", "hami_exec1")
    assert rc == 1 and "releasing a campaign is allowed for roles ['analyst', 'admin']" in err
    rc, _, err = run(capsys, "release", "--plan", str(root / "p"), "--store", url, "--as", "ghost")
    assert rc == 1 and "The store has no active user 'ghost'" in err
    rc, _, err = run(capsys, "export", "--campaign", "5", "--branch", "hami", "--channel", "sms", "--format", "csv",
                     "--role", "analyst", "--out", str(root / "a.csv"), "--store", url)
    assert rc == 1 and "names no campaign. Got 5" in err
    rc, _, err = run(capsys, "export", "--campaign", "1", "--branch", "hami", "--channel", "sms", "--format", "xlsx",
                     "--role", "analyst", "--out", str(root / "a.csv"), "--store", url)
    assert rc == 1 and "The '--out' parameter must be a file name ending in .xlsx" in err
    rc, out, _ = run(capsys, "list", "--store", f"sqlite:///{root / 'empty.sqlite'}", "--lang", "en")
    assert rc == 0 and out.strip() == "No campaigns in the store yet."


def test_every_verb_has_help(capsys):
    for verb in ("plan", "release", "export", "list"):
        with pytest.raises(SystemExit) as exc:
            cli.main(["campaign", verb, "--help"])
        assert exc.value.code == 0
        assert f"usage: workbench campaign {verb}" in capsys.readouterr().out
    assert cli.main(["campaign"]) == 2
    assert "plan" in capsys.readouterr().out
