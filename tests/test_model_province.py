"""The province path of the target model on a small generated province: inputs without leakage,
out-of-time validation, scores, registry round trip, rules, narrative values and the oracle benchmark."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.data.synth import generate_province
from workbench.data.tables import CONTENT_CATEGORIES
from workbench.errors import DataValidationError, ParameterError
from workbench.models.preference import PREFERENCE_PREFIX
from workbench.models.reason_words import Reason
from workbench.demo.benchmark import benchmark_against_truth, truth_benchmark
from workbench.models.province import (
    MODEL_NAMES, PROVINCE_FILE, SCORE_COLUMNS, ProvincePipeline, load_province_model, score_province,
)
from workbench.models.province_inputs import align_to_horizon, build_snapshot, feature_labels
from workbench.models.registry import load_card, load_model, score
from workbench.notebook import narrative
from workbench.report.t03 import (
    benchmark_display, composition_table, example_reasons, exclusion_table, gains_display, registry_table,
    rules_display, sample_cards, story, validation_table,
)

# Holdout early stopping keeps the module fast; the defaults (cross-validation below 50,000 rows) are
# exercised by template 03's test.
FAST = {"validation": "holdout", "max_rounds": 300}


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prov") / "province"
    generate_province(4000, 6, seed=11, out=folder, progress=False)
    return folder


@pytest.fixture(scope="module")
def pipe(province, tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    p = ProvincePipeline(province, "mobile_newspaper", "2026-10", 3, list_size=0.1, model_params=FAST,
                         n_jobs=1, progress=False)
    p.run(run)
    yield p
    p.close()


# ------------------------------------------------------------------ inputs
def test_inputs_exclude_the_target_own_subscription(pipe):
    cols = pipe.columns
    assert not set(cols) & set(pipe.excluded)
    assert {"vas_fam_mobile_newspaper_active", "vas_cat_news_active", "arpu_mean"} <= set(pipe.excluded)
    X, y = pipe.training_frame()
    assert list(X.columns) == cols == pipe.model.feature_names_
    preferences = [c for c in cols if c.startswith(PREFERENCE_PREFIX)]
    assert [f"{PREFERENCE_PREFIX}{c}" for c in CONTENT_CATEGORIES] == preferences[:6]
    assert len(X) == pipe.composition.sample_size and int(y.sum()) == pipe.composition.stable


def _truncate(folder, last_day: str) -> dict:
    """The province's tables without any row dated after ``last_day`` (a frames source)."""
    cut = pd.Timestamp(last_day)
    tables = {}
    for name in ("branches", "handset_models", "vas_products", "subscribers", "monthly_usage", "vas_orders",
                 "handset_events"):
        df = pd.read_parquet(folder / f"{name}.parquet")
        date = {"subscribers": "join_date", "monthly_usage": "month", "vas_orders": "event_date",
                "handset_events": "event_date"}.get(name)
        tables[name] = df if date is None else df[pd.to_datetime(df[date]) <= cut].reset_index(drop=True)
    return tables


def test_the_out_of_time_training_data_use_nothing_after_their_snapshot(pipe, province):
    train = pipe.plan.train_snapshot
    assert (train, pipe.plan.eval_snapshot) == ("2026-07", "2026-10")
    short = _truncate(province, "2026-07-31")
    full = build_snapshot(province, "mobile_newspaper", train, 3)
    cut = build_snapshot(short, "mobile_newspaper", train, 3)
    pd.testing.assert_frame_equal(full.frame, cut.frame)
    pd.testing.assert_frame_equal(full.sample.rows, cut.sample.rows)
    pd.testing.assert_frame_equal(full.preferences, cut.preferences)
    # the later data do exist and do matter at T: the check is not vacuous
    assert len(pd.read_parquet(province / "vas_orders.parquet")) > len(short["vas_orders"])
    assert build_snapshot(short, "mobile_newspaper", "2026-10", 3).sample.composition != pipe.composition


# ------------------------------------------------------------------ validation
def test_the_final_model_boosts_the_rounds_its_validation_stopped_at_on_every_row(pipe):
    X, _ = pipe.training_frame()
    rounds = pipe.choice.candidates[pipe.method]["rounds"]
    assert pipe.validation.rounds == rounds
    assert pipe.model.params_["validation"] == "none" and pipe.model.params_["n_train_rows"] == len(X)
    assert pipe.model.best_iteration_ == rounds == pipe.model.booster_.current_iteration()


def test_out_of_time_validation_compares_three_models_on_the_same_users(pipe):
    v = pipe.validation
    assert tuple(v.results) == MODEL_NAMES
    n = {r["n"] for r in v.results.values()}
    assert n == {v.composition.potential} and sum(v.outcomes.values()) == v.composition.potential
    assert {r["positives"] for r in v.results.values()} == {v.outcomes["stable"]}
    assert v.composition.snapshot == "2026-07"
    s = v.summary()
    assert s["model"].tolist() == list(MODEL_NAMES)
    assert ((s["auc"] > 0.5) & (s["auc"] <= 1)).all()
    assert s["list_share"].iloc[0] == pytest.approx(0.1, abs=1e-3)
    assert set(v.gains()) == set(MODEL_NAMES) and set(v.calibration()) == set(MODEL_NAMES)
    assert json.loads(json.dumps(v.to_dict()))["plan"]["horizon"] == 3


# ------------------------------------------------------------------ scores and registry
def test_scores_cover_every_potential_customer_best_first(pipe):
    s = pipe.scores
    assert tuple(s.columns) == SCORE_COLUMNS
    assert len(s) == pipe.composition.potential
    assert s["rank"].tolist() == list(range(1, len(s) + 1))
    assert (np.diff(s["score"].to_numpy()) <= 0).all()
    assert s["decile"].min() == 1 and s["decile"].max() == 10
    assert set(s["edition"]) <= set(pipe.editions["edition"]) and (s["edition"] != s["edition_2"]).all()
    assert s["reason_1"].head(20).notna().all()
    assert len(pipe.target_list()) == round(0.1 * len(s))


def test_registry_round_trip_gives_identical_scores(pipe, province):
    folder = pipe.paths["model"]
    assert (folder / PROVINCE_FILE).is_file() and (folder / "model.txt").is_file()
    written = pd.read_parquet(pipe.paths["scores"])
    pd.testing.assert_frame_equal(written, pipe.scores, check_dtype=False, check_exact=True)
    again = score_province(province, folder, "2026-10")
    pd.testing.assert_frame_equal(again, pipe.scores, check_exact=True)
    model = load_model(folder)
    X = align_to_horizon(pipe.snapshot_data().frame.loc[pipe.scores["subscriber_id"].to_numpy()], 3).reset_index()
    direct = score(model, X, "subscriber_id", reasons=0)
    assert direct["score"].tolist() == pipe.scores["score"].tolist()
    card = load_card(folder)
    assert card["label"]["stable_months"] == 3 and card["model"]["training_window"]["to"] == "2026-10"
    assert card["metrics"]["out_of_time"]["summary"][0]["model"] == "model"
    assert "vas_fam_mobile_newspaper_active" in card["metrics"]["excluded_features"]
    assert card["rules"] and card["importance"]
    model2, spec = load_province_model(folder)
    assert spec["columns"] == pipe.columns and model2.best_iteration_ == pipe.model.best_iteration_


def test_load_province_model_needs_a_province_folder(tmp_path):
    with pytest.raises(ParameterError, match="holds no province.json"):
        load_province_model(tmp_path)


# ------------------------------------------------------------------ explanations
def test_rules_reproduce_their_stated_counts_on_the_model_sample(pipe):
    X, y = pipe.training_frame()
    assert pipe.explanation.rules
    for rule in pipe.explanation.rules:
        mask = rule.mask(X)
        assert int(mask.sum()) == rule.size
        assert float(y[mask].sum()) == rule.positives
        assert len(X.query(rule.to_query())) == rule.size
    imp = pipe.explanation.importance
    assert set(imp["feature"]) == set(pipe.columns) and "mean_abs_shap" in imp.columns


def test_feature_labels_name_catalogue_and_preference_columns():
    en, zh = feature_labels("en"), feature_labels("zh")
    assert en("content_pref_news") == "Preference for News content (smoothed)"
    assert zh("content_pref_edition_top") == "最匹配版本的内容偏好"
    assert en("gprs_mb_mean").startswith("GPRS/WAP data traffic")
    assert en("not_a_feature") == "not_a_feature"


# ------------------------------------------------------------------ narrative and tables
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_story_fills_its_narrative(pipe, province, lang):
    from workbench.i18n import set_language

    set_language(lang)
    bench = benchmark_against_truth(pipe, source=province)
    for section in ("sample", "validation", "baselines", "gains", "importance", "rules", "reasons", "preference",
                    "editions", "saved"):
        key, values = story(pipe, section)
        assert narrative(key, lang, **values)
    key, values = story(pipe, "truth", truth=bench)
    assert key == "t03.truth.story" and narrative(key, lang, **values)
    assert story(pipe, "truth", truth=None) == ("t03.truth.none", {})
    with pytest.raises(ParameterError, match="'section' parameter must be one of"):
        story(pipe, "everything")


def test_tables_for_the_template(pipe):
    comp = composition_table(pipe, "en")
    assert comp.index.name == "Item" and comp.columns.tolist() == ["Users", "Share"]
    assert comp.iloc[0].tolist() == [f"{pipe.composition.sample_size:,}", "100.00%"]     # text, not 4000.0 / 1.0
    ex = exclusion_table(pipe, "en")
    assert len(ex) == len(pipe.excluded) and ex.index.name == "Feature"
    names = feature_labels("en")   # features by their meaning, not their column names (the report scan's rule)
    assert ex.columns.tolist() == ["Why excluded"] and ex.index.tolist() == [names(f) for f in pipe.excluded]
    val = validation_table(pipe, "en")
    assert val.index.tolist() == ["Target model", "Logistic baseline", "Rules baseline"]
    assert val.columns.tolist() == ["AUC", "PR-AUC (average precision)", "KS", "Lift at top 10%", "Capture at top 10%"]
    summary = pipe.validation.summary().set_index("model")
    assert val.loc["Target model", "AUC"] == f"{summary.loc['model', 'auc']:.3f}"
    assert val.loc["Target model", "Capture at top 10%"] == f"{100 * summary.loc['model', 'capture']:.2f}%"
    gains = gains_display(pipe, lang="en")
    raw = pipe.validation.results["model"]["gains"]
    assert gains.index.tolist() == raw["bin"].tolist() and gains.index.name == "Bin"
    assert gains["Users"].iloc[0] == f"{int(raw['size'].iloc[0]):,}" and gains["Positive rate"].iloc[0].endswith("%")
    rules = rules_display(pipe, "en")
    assert len(rules) == len(pipe.explanation.rules) and rules.index.name == "Rule"
    assert rules["Stable subscribers"].tolist() == [f"{round(r.positives):,}" for r in pipe.explanation.rules]
    ex5 = example_reasons(pipe, 5, "en")
    assert len(ex5) == 5 and ex5["Edition"].iloc[0] in {"News", "Sports", "Finance", "Entertainment"}
    assert ex5.index.tolist() == pipe.scores["subscriber_id"].head(5).tolist() and ex5["Rank"].tolist()[0] == "1"
    reg = registry_table(pipe.paths["model"], "en")
    assert reg.index.tolist()[0] == "Model folder" and reg.columns.tolist() == ["Value"]
    assert reg.loc["Training rows", "Value"] == f"{pipe.composition.sample_size:,}"
    values, formats = sample_cards(pipe)
    assert values["t03.kpi.sample"] == pipe.composition.sample_size and formats == {"t03.kpi.share": "{:.3%}"}
    with pytest.raises(ParameterError, match="'name' parameter must be one of"):
        gains_display(pipe, "forest")
    with pytest.raises(ParameterError, match="'n' parameter must be an integer >= 1"):
        example_reasons(pipe, 0)


# ------------------------------------------------------------------ oracle benchmark
def test_truth_benchmark_against_the_oracle(pipe, province):
    bench = benchmark_against_truth(pipe, source=province)
    assert bench["contender"].tolist() == ["model", "oracle"]
    assert bench["users"].tolist() == [len(pipe.scores)] * 2
    assert bench.loc[1, "auc_ratio"] == 1.0 and bench.loc[1, "lift_ratio"] == 1.0
    assert 0.5 < bench.loc[0, "auc"] < 1
    shown = benchmark_display(bench, "en")
    assert shown.index.name == "Contender" and shown.index.tolist() == ["Target model", "Oracle (true probability)"]
    assert shown["AUC ratio (model / oracle)"].iloc[1] == "100.0%"
    assert benchmark_display(None) is None
    assert benchmark_against_truth(pipe, truth_folder=province) is None        # no truth there
    with pytest.raises(DataValidationError, match="not in the truth"):
        truth_benchmark(pd.DataFrame({"subscriber_id": [10**9], "score": [0.5]}), province.with_name("province_truth"))
    with pytest.raises(DataValidationError, match="truth lacks"):
        truth_benchmark(pipe.scores, pd.DataFrame({"subscriber_id": [1], "x": [0]}))


# ------------------------------------------------------------------ errors
def test_pipeline_parameter_errors(province):
    with pytest.raises(ParameterError, match="'snapshot' parameter must be a month with data"):
        ProvincePipeline(province, snapshot="2027-01", progress=False)
    with pytest.raises(ParameterError, match="the data start in 2026-05"):
        ProvincePipeline(province, snapshot="2026-10", horizon=6, progress=False)
    with pytest.raises(ParameterError, match="'list_size' parameter must be a share"):
        ProvincePipeline(province, list_size=0, progress=False)
    with pytest.raises(ParameterError, match="'product' parameter must be one of"):
        ProvincePipeline(province, product="newspaper", progress=False)
    with pytest.raises(ParameterError, match="'prior' parameter must be one of"):
        ProvincePipeline(province, preference_prior="world", progress=False)
    with ProvincePipeline(province, progress=False) as fresh:
        with pytest.raises(ParameterError, match="call train"):
            fresh.score()
        with pytest.raises(ParameterError, match="run validate"):
            validation_table(fresh)


# ------------------------------------------------------------------ pure helpers
def test_align_to_horizon_moves_the_clock_and_keeps_behaviour():
    frame = pd.DataFrame({"tenure_months": [1, 40], "handset_months_since_change": [0.0, np.nan],
                          "vas_fam_fetion_months_since_order": [2.0, np.nan], "handset_changed_1m": [True, False],
                          "handset_changed_2m": [True, True], "gprs_mb_mean": [5.0, 7.0]}, index=[3, 4])
    out = align_to_horizon(frame, 3)
    assert out["tenure_months"].tolist() == [4, 43]
    assert out["handset_months_since_change"].iloc[0] == 3.0 and np.isnan(out["handset_months_since_change"].iloc[1])
    assert out["vas_fam_fetion_months_since_order"].iloc[0] == 5.0
    assert not out["handset_changed_1m"].any() and not out["handset_changed_2m"].any()
    assert out["gprs_mb_mean"].tolist() == [5.0, 7.0]
    assert frame["tenure_months"].tolist() == [1, 40]            # the input is not modified
    pd.testing.assert_frame_equal(align_to_horizon(frame, 0), frame)
    same = align_to_horizon(frame, 0)                              # no copy of the values, yet independent
    same.loc[3, "gprs_mb_mean"] = 99.0
    assert frame.loc[3, "gprs_mb_mean"] == 5.0
    with pytest.raises(ParameterError, match="'months' parameter must be an integer >= 0"):
        align_to_horizon(frame, -1)


def test_columns_frame_is_the_constructors_frame_without_stacking_the_columns():
    from workbench.models.province_inputs import columns_frame

    index = pd.Index([7, 3, 5], name="subscriber_id")
    a = pd.Series([1.0, 2.0, 3.0], index=index)
    b = pd.Series([30, 70, 50], index=[3, 7, 5])                  # another order: aligned like the constructor
    c = pd.Series(pd.Categorical(["x", None, "y"]), index=index)
    out = columns_frame({"a": a, "b": b, "c": c}, index)
    pd.testing.assert_frame_equal(out, pd.DataFrame({"a": a, "b": b, "c": c}, index=index))
    assert out._mgr.nblocks == 3                                   # one block per column, none stacked
    assert np.shares_memory(out["a"].to_numpy(), a.to_numpy())    # and the values are not copied
    empty = columns_frame({}, index)
    assert empty.shape == (3, 0) and empty.index.equals(index)


def test_model_frame_derives_the_bill_without_vas():
    from workbench.models.province_inputs import model_frame

    feats = pd.DataFrame({"arpu_mean": [50.0, 80.0], "vas_spend_mean": [5.0, 0.0], "arpu_last": [40.0, 90.0],
                          "vas_spend_last": [8.0, 1.0], "brand": ["gotone", "mzone"]}, index=[1, 2])
    out = model_frame(feats, ["brand", "bill_excl_vas_mean", "bill_excl_vas_last"])
    assert out.columns.tolist() == ["brand", "bill_excl_vas_mean", "bill_excl_vas_last"]
    assert out["bill_excl_vas_mean"].tolist() == [45.0, 80.0] and out["bill_excl_vas_last"].tolist() == [32.0, 89.0]
    with pytest.raises(DataValidationError, match=r"inputs \['age'\] cannot be built"):
        model_frame(feats, ["brand", "age"])


def test_reasons_can_be_limited_to_the_best_users(pipe):
    from workbench.models.province import score_base

    data = pipe.snapshot_data()
    observed = data.frame.loc[data.sample.potential_ids]
    frame = align_to_horizon(observed, 3)
    part = score_base(pipe.model, frame, data.preferences, pipe.editions, reason_rows=50, observed=observed)
    assert part["reason_1"].iloc[:50].notna().all() and part["reason_1"].iloc[50:].isna().all()
    # the best users' reasons are the same words: values are still placed among all scored users
    pd.testing.assert_frame_equal(part.iloc[:50], pipe.scores.iloc[:50], check_exact=True)
    pd.testing.assert_series_equal(part["score"], pipe.scores["score"], check_exact=True)
    # the words say the observed tenure, not the one the look-alike scores (3 months on)
    aligned = score_base(pipe.model, frame, data.preferences, pipe.editions, reason_rows=50)
    said = part["reason_1_code"].iloc[:50].map(Reason.from_code)
    moved = aligned["reason_1_code"].iloc[:50].map(Reason.from_code)
    tenure = [(a.value, b.value) for a, b in zip(said, moved) if a.feature == "tenure_months"]
    assert tenure and all(b == a + 3 for a, b in tenure)


def test_province_model_shortens_the_patience_on_large_samples_only():
    from workbench.models.province import LARGE_PATIENCE, LARGE_SAMPLE, province_model

    assert province_model(LARGE_SAMPLE).early_stopping_rounds == LARGE_PATIENCE
    assert province_model(LARGE_SAMPLE - 1).early_stopping_rounds is None        # the estimator's own rule
    assert province_model(10**6, early_stopping_rounds=80).early_stopping_rounds == 80
    assert province_model(10**6, n_jobs=1).n_jobs == 1
    # the small-sample search over tree shapes is the generic path's; the province's is off unless asked for
    assert province_model(5_000).select == "off" and province_model(5_000, select="auto").select == "auto"


# ------------------------------------------------------------------ the conversion method
@pytest.fixture(scope="module")
def long_province(tmp_path_factory):
    """Nine months (2026-02 .. 2026-10): enough history to validate a conversion model out of time."""
    folder = tmp_path_factory.mktemp("prov9") / "province"
    generate_province(4000, 9, seed=12, out=folder, progress=False)
    return folder


@pytest.fixture(scope="module")
def conversion(long_province, tmp_path_factory):
    run = tmp_path_factory.mktemp("run_conv")
    p = ProvincePipeline(long_province, "mobile_newspaper", "2026-10", 3, method="conversion", model_params=FAST,
                         n_jobs=1, progress=False)
    p.run(run)
    yield p
    p.close()


def test_conversion_learns_from_the_potential_customers_of_t_minus_k(conversion, long_province):
    from workbench.features import subscriber_status
    from workbench.features._db import connection

    X, y = conversion.training_frame()
    with connection(long_province) as con:
        before = subscriber_status(con, "mobile_newspaper", "2026-07", 3)
        after = subscriber_status(con, "mobile_newspaper", "2026-10", 3)
    potential = before.index[~before["active"].to_numpy(dtype=bool)]
    assert X.index.equals(potential)
    held = after["active"].reindex(potential).fillna(False).to_numpy(dtype=bool)
    assert y.tolist() == held.astype(int).tolist() and 0 < y.sum() < len(y)
    # inputs as they were at 2026-07, not at the snapshot
    np.testing.assert_array_equal(X["tenure_months"].to_numpy(),
                                  conversion.snapshot_data("2026-07").frame.loc[potential, "tenure_months"].to_numpy())
    assert conversion.metrics()["final_model"]["rows"] == len(X)


def test_conversion_validation_is_out_of_time_on_the_lookalikes_users(conversion, long_province):
    v = conversion.validation
    assert (v.plan.train_snapshot, v.plan.eval_snapshot) == ("2026-07", "2026-10")
    with ProvincePipeline(long_province, "mobile_newspaper", "2026-10", 3, model_params=FAST, n_jobs=1,
                          progress=False) as look:
        lv = look.validate()
    # same evaluation users and labels for both methods: like-for-like comparison
    assert v.outcomes == lv.outcomes
    assert v.results["model"]["positives"] == lv.results["model"]["positives"]
    assert set(v.results) == set(MODEL_NAMES)


def test_conversion_scores_unaligned_and_round_trips(conversion, long_province):
    assert conversion.align_months == 0
    folder = conversion.paths["model"]
    model, spec = load_province_model(folder)
    assert spec["method"] == "conversion" and spec["align_months"] == 0
    label = load_card(folder)["label"]
    assert label["method"] == "conversion" and label["features_at"] == "2026-07", label
    again = score_province(long_province, folder, "2026-10", reasons=0)
    mine = conversion.scores.set_index("subscriber_id")["score"]
    np.testing.assert_allclose(again.set_index("subscriber_id")["score"].loc[mine.index].to_numpy(), mine.to_numpy())


def test_conversion_needs_the_history_its_validation_uses(province):
    with ProvincePipeline(province, "mobile_newspaper", "2026-10", 3, method="conversion", model_params=FAST,
                          n_jobs=1, progress=False) as p:
        with pytest.raises(ParameterError,
                           match=r"data start in 2026-05\. Its out-of-time validation needs 6 months of history"):
            p.validate()
        p.train()                         # the final model alone needs only T - 3
        assert p.training_rows["rows"] > 0
    with pytest.raises(ParameterError,
                       match=r"'method' parameter must be one of \('auto', 'lookalike', 'conversion'\)"):
        ProvincePipeline(province, method="uplift")


# ------------------------------------------------------------------ the method chosen by evidence ("auto", the default)
@pytest.fixture(scope="module")
def chosen(long_province, tmp_path_factory):
    run = tmp_path_factory.mktemp("run_auto")
    p = ProvincePipeline(long_province, "mobile_newspaper", "2026-10", 3, model_params=FAST, n_jobs=1, progress=False)
    p.run(run)
    yield p
    p.close()


def test_with_enough_history_the_method_is_chosen_by_out_of_time_evidence(chosen, long_province):
    from workbench.models.province import choose_method

    choice = chosen.choice
    assert choice.reason == "evidence" and set(choice.candidates) == {"lookalike", "conversion"}
    assert chosen.method == choice.method == choose_method(choice.candidates)
    other = next(m for m in choice.candidates if m != choice.method)
    assert choice.candidates[choice.method]["auc"] > choice.candidates[other]["auc"] - 0.001
    # the candidates' figures are those each method reaches alone on the same users and labels
    for method in ("lookalike", "conversion"):
        with ProvincePipeline(long_province, "mobile_newspaper", "2026-10", 3, method=method, model_params=FAST,
                              n_jobs=1, progress=False) as alone:
            v = alone.validate()
        assert choice.candidates[method]["auc"] == pytest.approx(v.results["model"]["auc"], abs=1e-12)
        assert choice.candidates[method]["lift"] == pytest.approx(v.results["model"]["at_list"]["lift"], abs=1e-12)
        assert alone.choice.reason == "requested"
    # the headline validation and the final model are the chosen method's
    assert chosen.validation.results["model"]["auc"] == choice.candidates[choice.method]["auc"]
    assert chosen.align_months == (3 if choice.method == "lookalike" else 0)
    # the model folder records both methods' out-of-time figures and the choice
    folder = chosen.paths["model"]
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    recorded = metrics["method_choice"]
    assert recorded["method"] == choice.method and recorded["reason"] == "evidence"
    assert set(recorded["candidates"]) == {"lookalike", "conversion"} and "AUC" in recorded["rule"]
    _, spec = load_province_model(folder)
    assert spec["method"] == choice.method and spec["method_choice"]["candidates"] == recorded["candidates"]
    assert load_card(folder)["label"]["method"] == choice.method


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_shows_both_methods_and_the_choice(chosen, lang):
    from workbench.report.t03 import method_table

    key, values = story(chosen, "method")
    assert key == "t03.method.story.evidence"
    text = narrative(key, lang=lang, **values)
    assert f"{values['auc']:.3f}" in text and f"{values['auc_other']:.3f}" in text
    table = method_table(chosen, lang=lang)
    assert len(table) == 2 and (table.iloc[:, -1] != "").sum() == 1


def test_with_too_little_history_the_lookalike_is_used_and_the_report_says_why(pipe):
    choice = pipe.choice
    assert (choice.method, choice.reason) == ("lookalike", "history")
    assert (choice.first_month, choice.needed_from) == ("2026-05", "2026-04")
    assert set(choice.candidates) == {"lookalike"}                        # its own out-of-time figures
    assert pipe.metrics()["method_choice"]["reason"] == "history"
    key, values = story(pipe, "method")
    assert key == "t03.method.story.history"
    text = narrative(key, lang="en", **values)
    assert "start in 2026-05" in text and "from 2026-04" in text and "6 months of data" in text


def test_choose_method_rule():
    from workbench.models.province import choose_method

    assert choose_method({"lookalike": {"auc": 0.80}, "conversion": {"auc": 0.82}}) == "conversion"
    assert choose_method({"lookalike": {"auc": 0.82}, "conversion": {"auc": 0.80}}) == "lookalike"
    assert choose_method({"lookalike": {"auc": 0.80}, "conversion": {"auc": 0.8005}}) == "lookalike"   # a tie
    with pytest.raises(ParameterError, match="candidates"):
        choose_method({"lookalike": {"auc": 0.8}})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_validation_story_of_a_conversion_model_says_what_it_learnt_from(conversion, lang):
    key, values = story(conversion, "validation")
    assert key == "t03.validation.story_conversion" and values["before"] == "2026-04"
    text = narrative(key, lang, **values)
    assert "2026-04" in text and "2026-07" in text and "2026-10" in text
    key, values = story(conversion, "method")
    assert key == "t03.method.story.requested" and narrative(key, lang, **values)
