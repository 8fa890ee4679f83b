"""Monitoring the province target model (issue 20 acceptance on the synthetic province): the reference
ProvincePipeline.save writes, `workbench model monitor` on a province folder, the shifted features of a
drifted province alert and the others do not, a changed relation shows as decay, and the actions."""
from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.cli import main
from workbench.errors import ParameterError
from workbench.data.synth import generate_province
from workbench.models.province import ProvincePipeline
from workbench.models.registry import load_reference
from workbench.monitoring import (
    PREFERENCE_PART, compare, monitor_months, province_decay, province_drift, province_inputs, recommend,
)

pytestmark = pytest.mark.slow   # five provinces and two province models (about a minute)

N, MONTHS, SEED = 6000, 9, 5
TRAIN_AT, LAST = "2026-05", "2026-10"      # the drift starts in 2026-06 (the middle of 2026-02 .. 2026-10)
DATA_FEATURES = ("gprs_mb_", "wap_visits_")


def _gen(root, name, drift=None, seed=SEED):
    out = root / name
    generate_province(N, MONTHS, seed=seed, out=out, progress=False, drift=drift)
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("province_monitor")
    provinces = {"plain": _gen(root, "plain"), "other_seed": _gen(root, "other", seed=SEED + 1),
                 **{k: _gen(root, k, k) for k in ("usage", "mix", "concept")}}
    runs = {}
    for name, snap in (("late", LAST), ("early", TRAIN_AT)):
        with ProvincePipeline(provinces["plain"], "mobile_newspaper", snap, window=3, n_jobs=1, progress=False) as p:
            p.validate()
            p.train()
            p.save(root / f"run_{name}")
        runs[name] = root / f"run_{name}" / "model"
    return provinces, runs


def _monitor(capsys, *args):
    capsys.readouterr()
    rc = main(["model", "monitor", *map(str, args)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _status(res) -> dict:
    return {f["feature"]: f["status"] for f in res["features"]}


def test_save_writes_a_reference_with_out_of_time_performance_and_the_preference_part(world):
    _, runs = world
    ref = load_reference(runs["late"])
    columns = json.loads((runs["late"] / "province.json").read_text())["columns"]
    assert list(ref["features"]) == columns
    perf = ref["performance"]
    assert perf["basis"] == "out_of_time" and 0.5 < perf["auc"] <= 1 and perf["top_decile_lift"] > 1
    part = ref["parts"][PREFERENCE_PART]
    assert "top_category" in part["features"] and any(f.startswith("pref_") for f in part["features"])


def test_another_draw_of_the_same_province_does_not_alert(world, capsys):
    provinces, runs = world
    rc, out, _ = _monitor(capsys, "--model", runs["late"], "--data", provinces["other_seed"], "--json")
    assert rc == 0
    res = json.loads(out)
    assert res["snapshot"] == LAST
    assert all(f["status"] != "alert" for f in res["features"]), [f for f in res["features"] if f["status"] != "ok"]
    assert res["score"]["status"] == "ok"
    assert all(f["status"] == "ok" for f in res["parts"]["preference"]["features"])


def test_one_sd_shift_and_a_doubled_share_alert_and_nothing_else(world):
    """The generic acceptance on the province model's own inputs."""
    provinces, runs = world
    ref = load_reference(runs["late"])
    frame = province_inputs(provinces["other_seed"], runs["late"], LAST).frame.copy()
    rng = np.random.default_rng(0)
    frame["voice_minutes_mean"] = frame["voice_minutes_mean"] + frame["voice_minutes_mean"].std()
    mzone = (frame["brand"] == "mzone").to_numpy()        # about 31 % of the base
    share = mzone.mean()
    moved = rng.choice(np.flatnonzero(~mzone), int(round(share * len(frame))), replace=False)
    frame.iloc[moved, frame.columns.get_loc("brand")] = "mzone"
    assert (frame["brand"] == "mzone").mean() == pytest.approx(2 * share, abs=0.002)
    res = compare(ref, frame)
    alerts = set(res["features"].query("status == 'alert'")["feature"])
    assert alerts == {"voice_minutes_mean", "brand"}, res["features"].query("status != 'ok'")


def test_usage_drift_alerts_on_the_data_traffic_features_only(world, capsys):
    provinces, runs = world
    rc, out, _ = _monitor(capsys, "--model", runs["late"], "--data", provinces["usage"], "--snapshot", LAST, "--json")
    assert rc == 0
    status = _status(json.loads(out))
    shifted = {f for f in status if f.startswith(DATA_FEATURES)}
    assert {"gprs_mb_mean", "wap_visits_mean"} <= {f for f, s in status.items() if s == "alert"}, status
    assert all(s == "ok" for f, s in status.items() if f not in shifted), \
        {f: s for f, s in status.items() if s != "ok" and f not in shifted}


def test_mix_drift_alerts_on_brand_tariff_and_tenure_only(world):
    provinces, runs = world
    res = province_drift(provinces["mix"], runs["late"], LAST)
    st = res["features"].set_index("feature")["status"]
    assert set(st.index[st == "alert"]) == {"brand", "tariff_plan", "tenure_months"}, st[st != "ok"]
    # the joiners' short histories move the trends a little (watch at most), levels not at all
    assert all(st[f] == "ok" for f in st.index if f.endswith(("_mean", "_max", "_last")))


def test_concept_drift_keeps_the_inputs_and_shows_as_decay(world):
    provinces, runs = world
    drift = province_drift(provinces["concept"], runs["late"], LAST)
    assert (drift["features"]["status"] == "ok").all() and drift["score"]["status"] == "ok"
    plain = province_decay(provinces["plain"], runs["early"], LAST)
    concept = province_decay(provinces["concept"], runs["early"], LAST)
    assert plain["scored_at"] == "2026-07" and plain["outcome_at"] == LAST
    assert concept["now"]["auc"] < plain["now"]["auc"] - 0.1, (concept["now"], plain["now"])
    assert plain["training"]["auc"] == load_reference(runs["early"])["performance"]["auc"]
    cal = concept["calibration"]
    assert list(cal.columns) == ["bin", "training_predicted", "training_observed", "rows", "predicted", "observed"]
    assert cal["rows"].sum() == concept["now"]["rows"]


def test_months_and_actions(world):
    provinces, runs = world
    plain = monitor_months(provinces["plain"], runs["early"], progress=False)
    assert plain.months == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert list(plain.psi.columns) == plain.months and plain.psi["2026-05"].max() == pytest.approx(0, abs=1e-12)
    assert list(plain.decay["month"]) == plain.months     # the outcome of month - 3 is known in every month
    drifted = monitor_months(provinces["usage"], runs["early"], ["2026-05", LAST], progress=False)
    latest = drifted.latest()
    assert "gprs_mb_mean" in latest["alert"] or "wap_visits_mean" in latest["alert"]
    assert "retrain" in [a["action"] for a in recommend(drifted)]
    concept = monitor_months(provinces["concept"], runs["early"], ["2026-05", LAST], progress=False)
    assert concept.decay["auc"].iloc[-1] < plain.decay["auc"].iloc[-1]
    assert {a["action"] for a in recommend(concept)} <= {"retrain_outcomes", "retrain", "watch", "keep"}


def test_province_monitor_bad_input(world, capsys, tmp_path):
    provinces, runs = world
    rc, _, err = _monitor(capsys, "--model", runs["late"], "--data", provinces["plain"], "--target", "y")
    assert rc == 1 and "--target" in err
    rc, _, err = _monitor(capsys, "--model", runs["late"], "--data", provinces["plain"], "--snapshot", "2027-03")
    assert rc == 1 and "snapshot" in err and LAST in err
    (tmp_path / "t.csv").write_text("a\n1\n")
    rc, _, err = _monitor(capsys, "--model", runs["late"], "--data", tmp_path / "t.csv")
    assert rc == 1 and "全省数据表所在的文件夹" in err and "t.csv" in err


def test_human_output_names_the_month(world, capsys):
    provinces, runs = world
    # a run folder is taken for its model/ folder
    rc, out, _ = _monitor(capsys, "--model", runs["early"].parent, "--data", provinces["concept"], "--lang", "en")
    assert rc == 0 and f"Month monitored: {LAST}" in out and "Calibration" in out and "AUC" in out
    assert "content-preference model's output" in out and "top_category" in out


# ------------------------------------------------------------------ the actions, on explicit results
def _result(auc_now: float, rows: int, rate: float, *, alert=(), watch=(), score="ok"):
    import pandas as pd

    from workbench.monitoring import MonthlyMonitoring

    features = ["a", "b", "c"]
    status = pd.DataFrame({"2026-10": ["alert" if f in alert else "watch" if f in watch else "ok" for f in features]},
                          index=features)
    return MonthlyMonitoring(
        months=["2026-10"], psi=pd.DataFrame({"2026-10": [0.0, 0.0, 0.0]}, index=features), status=status,
        score=pd.DataFrame([{"month": "2026-10", "rows": rows, "psi": 0.01, "status": score, "mean_score": 0.1}]),
        decay=pd.DataFrame([{"month": "2026-10", "scored_at": "2026-07", "rows": rows, "auc": auc_now,
                             "top_decile_lift": 1.5, "positive_rate": rate}]),
        training={"auc": 0.80, "top_decile_lift": 4.0, "rows": rows, "positive_rate": rate})


def test_recommend_decides_decay_only_beyond_chance():
    from workbench.monitoring import auc_se

    # 2,000 conversions on each side: a fall of 0.80 -> 0.65 is far beyond chance
    assert [a["action"] for a in recommend(_result(0.65, 100_000, 0.02))] == ["retrain_outcomes"]
    # the same fall on 12 conversions is within chance: no decay decided, nothing else moved
    assert [a["action"] for a in recommend(_result(0.65, 6000, 0.002))] == ["keep"]
    # fewer conversions than min_positives: not judged
    assert [a["action"] for a in recommend(_result(0.40, 3000, 0.002), min_positives=10)] == ["keep"]
    # a small fall, however many conversions, is below auc_drop
    assert [a["action"] for a in recommend(_result(0.78, 1_000_000, 0.02))] == ["keep"]
    assert auc_se(0.5, 1000, 1000) == pytest.approx(0.0129, abs=1e-4)   # Hanley & McNeil: sqrt(1/12 * 2/1000)


def test_recommend_orders_actions_and_uses_the_statuses():
    acts = recommend(_result(0.65, 100_000, 0.02, alert=("a",)), grades={"status": "alert", "psi": 0.4})
    assert [a["action"] for a in acts] == ["retrain_outcomes", "retrain", "recut_grades"]
    assert acts[1]["features"] == ["a"]
    assert [a["action"] for a in recommend(_result(0.80, 1000, 0.02, watch=("b",)))] == ["watch"]
    assert [a["action"] for a in recommend(_result(0.80, 1000, 0.02, score="alert"))] == ["retrain"]
    with pytest.raises(ParameterError, match="auc_drop"):
        recommend(_result(0.8, 1000, 0.02), auc_drop=0)
