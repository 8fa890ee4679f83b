"""TargetModel: scikit-learn contract, categories, missing values, adaptive parameters, determinism."""
from __future__ import annotations

import os
import subprocess
import sys
from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import estimator_checks_generator

from workbench.errors import ParameterError, SchemaMismatchError
from workbench.models import LogisticBaseline, RulesBaseline, TargetModel, resolve_params


def _check_name(check) -> str:
    check = getattr(check, "__wrapped__", check)
    return check.func.__name__ if isinstance(check, partial) else check.__name__


#: Checks run in a subprocess instead (see test_sklearn_array_api_check): the array-API input
#: check needs SCIPY_ARRAY_API=1 set before SciPy is first imported - a process-wide switch
#: this test session does not set - and would otherwise report itself as skipped.
_IN_SUBPROCESS = {"check_array_api_input"}
#: No scikit-learn check is expected to fail: every other check applies to TargetModel and passes
#: (binary only is declared by the multi_class=False tag, NaN support by allow_nan=True).
_EXPECTED_FAILED: dict[str, str] = {}
_CHECKS = [
    pytest.param(est, check, id=_check_name(check) + (f"-{i}" if isinstance(check, partial) else ""))
    for i, (est, check) in enumerate(estimator_checks_generator(
        TargetModel(n_jobs=1, n_folds=3, early_stopping_rounds=10), legacy=True,
        expected_failed_checks=_EXPECTED_FAILED, mark="xfail",
        xfail_strict=True))
    if _check_name(check) not in _IN_SUBPROCESS
]


@pytest.mark.parametrize("estimator, check", _CHECKS)
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_sklearn_array_api_check_and_omp_policy():
    code = (
        "from sklearn.utils.estimator_checks import check_array_api_input\n"
        "from workbench.models import TargetModel\n"
        "check_array_api_input('TargetModel', TargetModel(n_jobs=1), array_namespace='numpy',"
        " expect_only_array_outputs=False)\n"
        "print('array-api check passed')\n"
        "import os; print('OMP_WAIT_POLICY=' + os.environ.get('OMP_WAIT_POLICY', ''))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["SCIPY_ARRAY_API"] = "1"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "array-api check passed" in done.stdout
    # importing workbench.models set the passive OpenMP wait policy (see workbench/models/__init__.py)
    assert "OMP_WAIT_POLICY=PASSIVE" in done.stdout


def _table(n: int, seed: int = 0, rate_shift: float = -3.0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A small marketing-like table: text brand (with gaps), numeric traffic (with gaps), a noise column."""
    rng = np.random.default_rng(seed)
    brand = rng.choice(np.array(["gotone", "mzone", "easyown"]), n, p=[0.2, 0.4, 0.4]).astype(object)
    gprs = rng.gamma(2.0, 50.0, n)
    age = rng.integers(15, 70, n).astype(float)
    logit = rate_shift + 1.5 * (brand == "mzone") + 0.012 * gprs - 0.04 * np.abs(age - 25)
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    brand[rng.random(n) < 0.05] = None
    gprs[rng.random(n) < 0.1] = np.nan
    X = pd.DataFrame({"brand": pd.array(brand, dtype="str"), "gprs_mb": gprs, "age": age,
                      "noise": rng.normal(size=n)})
    return X, y, p


@pytest.fixture(scope="module")
def fitted():
    X, y, p = _table(3000, seed=1)
    return TargetModel(n_jobs=1).fit(X, y), X, y, p


def test_text_columns_become_categories_with_recorded_levels(fitted):
    model, X, _, _ = fitted
    kinds = {f.name: f.kind for f in model.features_}
    assert kinds == {"brand": "categorical", "gprs_mb": "numeric", "age": "numeric", "noise": "numeric"}
    brand = model.features_[0]
    # most frequent first (mzone and easyown 40% each, gotone 20%); missing is not a level
    assert set(brand.levels) == {"gotone", "mzone", "easyown"}
    assert brand.levels[-1] == "gotone"
    assert list(model.feature_names_in_) == ["brand", "gprs_mb", "age", "noise"]


def test_learns_the_signal_and_ranks_close_to_the_oracle(fitted):
    model, _, _, _ = fitted
    X_new, y_new, p_new = _table(20000, seed=2)
    auc_model = roc_auc_score(y_new, model.predict_proba(X_new)[:, 1])
    auc_oracle = roc_auc_score(y_new, p_new)
    assert auc_model > auc_oracle - 0.04, (auc_model, auc_oracle)


def test_unseen_level_is_treated_as_missing(fitted):
    model, X, _, _ = fitted
    rows = X.head(5).copy()
    unseen = rows.assign(brand=pd.array(["shenzhouxing"] * 5, dtype="str"))
    missing = rows.assign(brand=pd.array([None] * 5, dtype="str"))
    np.testing.assert_array_equal(model.predict_proba(unseen), model.predict_proba(missing))


def test_columns_are_read_by_name_in_any_order_extra_ignored(fitted):
    model, X, _, _ = fitted
    shuffled = X[["noise", "age", "gprs_mb", "brand"]].assign(extra=1)
    np.testing.assert_array_equal(model.predict_proba(shuffled), model.predict_proba(X))


def test_missing_or_retyped_column_raises_schema_mismatch(fitted):
    model, X, _, _ = fitted
    with pytest.raises(SchemaMismatchError, match=r"lacks 1 column.*\['gprs_mb'\]"):
        model.predict_proba(X.drop(columns="gprs_mb"))
    with pytest.raises(SchemaMismatchError, match="'brand' .*trained as text/categorical.*found int64"):
        model.predict_proba(X.assign(brand=1))
    with pytest.raises(SchemaMismatchError, match="'age' .*trained as numeric.*found str"):
        model.predict_proba(X.assign(age=pd.array(["old"] * len(X), dtype="str")))


def test_array_input_rejected_when_model_has_categories(fitted):
    model, X, _, _ = fitted
    with pytest.raises(ParameterError, match=r"categorical features \['brand'\]; pass a pandas DataFrame"):
        model.predict_proba(X.drop(columns="brand").to_numpy())


def test_same_seed_gives_identical_model():
    X, y, _ = _table(600, seed=3)
    fast = {"learning_rate": 0.2, "validation": "holdout", "random_state": 7}  # few rounds: a quick check
    a = TargetModel(n_jobs=1, **fast).fit(X, y).predict_proba(X)
    b = TargetModel(n_jobs=1, **fast).fit(X, y).predict_proba(X)
    c = TargetModel(n_jobs=2, **fast).fit(X, y).predict_proba(X)  # thread count does not change the model
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_adaptive_rule_grows_with_the_data():
    small, large = resolve_params(5_000, 150), resolve_params(1_000_000, 30_000)
    assert small["num_leaves"] == 7 and large["num_leaves"] == 63
    assert small["reg_lambda"] > large["reg_lambda"]
    assert small["learning_rate"] < large["learning_rate"]
    assert small["min_child_samples"] < large["min_child_samples"]


def test_params_record_the_resolved_values_and_the_procedure(fitted):
    model, X, y, _ = fitted
    p = model.params_
    assert p["validation"] == "cv" and p["n_folds"] == 5
    assert p["n_rows"] == 3000 and p["n_minority"] == int(min(y.sum(), 3000 - y.sum()))
    from workbench.models.estimator import small_sample_configs

    # a small sample: the size rule's values, or one of the tree shapes tried by the same CV
    expected = small_sample_configs(resolve_params(3000, p["n_minority"]), 3000)[p["config"]]
    assert {k: p[k] for k in expected} == expected
    assert p["best_iteration"] == model.best_iteration_ >= 1


def test_user_values_override_the_adaptive_rule():
    X, y, _ = _table(800, seed=4)
    model = TargetModel(num_leaves=5, learning_rate=0.2, n_jobs=1).fit(X, y)
    assert model.params_["num_leaves"] == 5 and model.params_["learning_rate"] == 0.2
    assert model.booster_.params["num_leaves"] == 5


def test_holdout_and_eval_set_early_stopping():
    X, y, _ = _table(2000, seed=5)
    holdout = TargetModel(validation="holdout", validation_fraction=0.2, n_jobs=1).fit(X, y)
    assert holdout.params_["validation"] == "holdout"
    assert holdout.params_["n_train_rows"] == 1600
    X_val, y_val, _ = _table(1000, seed=6)
    given = TargetModel(n_jobs=1).fit(X, y, eval_set=(X_val, y_val))
    assert given.params_["validation"] == "eval_set"
    assert given.params_["validation_loss"] > 0
    numeric = X.drop(columns="brand")
    arrays = TargetModel(n_jobs=1).fit(numeric.to_numpy(), y, eval_set=(X_val.drop(columns="brand").to_numpy(), y_val))
    assert arrays.params_["validation"] == "eval_set" and arrays.n_features_in_ == 3


def test_tiny_minority_falls_back_to_fixed_rounds():
    X, _, _ = _table(60, seed=8)
    y = np.zeros(60, dtype=int)
    y[:3] = 1  # 3 positives: fewer than 2 per fold
    model = TargetModel(fallback_rounds=17, n_jobs=1).fit(X, y)
    assert model.params_["validation"] == "none" and model.best_iteration_ == 17


def test_validation_none_trains_the_given_rounds_on_every_row():
    X, y, _ = _table(2000, seed=5)
    model = TargetModel(validation="none", fallback_rounds=23, n_jobs=1).fit(X, y)
    assert model.params_["validation"] == "none" and model.params_["n_train_rows"] == 2000
    assert model.best_iteration_ == 23 and model.booster_.current_iteration() == 23


def test_string_labels_keep_their_classes():
    X, y, _ = _table(600, seed=9)
    labels = np.where(y == 1, "yes", "no")
    model = TargetModel(n_jobs=1).fit(X, labels)
    assert model.classes_.tolist() == ["no", "yes"]
    assert set(model.predict(X)) <= {"no", "yes"}


def test_documented_errors():
    X, y, _ = _table(200, seed=10)
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        TargetModel().fit(X, np.arange(200) % 3)
    with pytest.raises(ValueError, match="only 1 class"):
        TargetModel().fit(X, np.ones(200))
    with pytest.raises(ParameterError, match="'validation' parameter must be one of"):
        TargetModel(validation="bootstrap").fit(X, y)
    with pytest.raises(ParameterError, match="'validation_fraction' parameter must be a number strictly"):
        TargetModel(validation_fraction=1.5).fit(X, y)
    with pytest.raises(ParameterError, match="'n_folds' parameter must be an integer >= 2"):
        TargetModel(n_folds=1).fit(X, y)
    with pytest.raises(ParameterError, match="Column 'when' has dtype datetime64"):
        TargetModel().fit(X.assign(when=pd.Timestamp("2026-01-01")), y)
    with pytest.raises(ParameterError, match=r"eval_set labels \[7\] are not among the training classes"):
        TargetModel().fit(X, y, eval_set=(X, np.full(200, 7)))


def test_separation_guard_stops_a_leaking_column():
    X, y, _ = _table(400, seed=12)
    leaky = X.assign(refund=y.astype(float))  # known only after the outcome: separates perfectly
    model = TargetModel(n_jobs=1).fit(leaky, y)
    assert model.params_["separation_stop"] is True
    assert model.best_iteration_ < model.max_rounds
    assert TargetModel(n_jobs=1).fit(X, y).params_["separation_stop"] is False


# ------------------------------------------------------------------ baselines
def test_baselines_rank_on_text_and_missing_values():
    X, y, _ = _table(2500, seed=13)
    X_new, y_new, _ = _table(3000, seed=14)
    for est in (LogisticBaseline(), RulesBaseline()):
        est.fit(X, y)
        proba = est.predict_proba(X_new)
        assert proba.shape == (3000, 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert roc_auc_score(y_new, proba[:, 1]) > 0.6
        unseen = X_new.head(3).assign(brand=pd.array(["new-brand"] * 3, dtype="str"))
        assert est.predict_proba(unseen).shape == (3, 2)  # unseen level: no error
    assert set(LogisticBaseline().fit(X, np.where(y == 1, "yes", "no")).predict(X_new)) <= {"yes", "no"}


def test_baseline_errors():
    X, y, _ = _table(200, seed=15)
    with pytest.raises(ParameterError, match="take a pandas DataFrame; got ndarray"):
        LogisticBaseline().fit(X.to_numpy(), y)
    with pytest.raises(ParameterError, match="needs exactly 2 classes in y; found 1"):
        RulesBaseline().fit(X, np.zeros(200))
    fitted = RulesBaseline().fit(X, y)
    with pytest.raises(SchemaMismatchError, match=r"\['age'\]"):
        fitted.predict_proba(X.drop(columns="age"))


# ------------------------------------------------------------------ small samples: tree shape by internal CV
def test_small_samples_pick_a_tree_shape_by_internal_cross_validation():
    from workbench.demo.replicas import bank_marketing_like
    from workbench.models.estimator import small_sample_configs
    from workbench.models.generic import prepare_training_data

    table, target, positive = bank_marketing_like(2_000, seed=3)
    prepared = prepare_training_data(table, target=target, positive=positive)
    model = TargetModel(n_jobs=1).fit(prepared.X, prepared.y)
    p = model.params_
    base = resolve_params(len(prepared.y), int(prepared.y.sum()))
    configs = small_sample_configs(base, len(prepared.y))
    assert set(p["config_losses"]) == set(configs) and p["validation"] == "cv"
    assert p["config"] == min(p["config_losses"], key=p["config_losses"].get)
    assert p["num_leaves"] == configs[p["config"]]["num_leaves"]
    assert p["validation_loss"] == pytest.approx(p["config_losses"][p["config"]])
    # a caller's tree parameter, select="off" or a large sample: the size rule alone
    for kwargs in ({"num_leaves": 7}, {"select": "off"}):
        fixed = TargetModel(n_jobs=1, **kwargs).fit(prepared.X, prepared.y)
        assert fixed.params_["config"] == "rule" and fixed.params_["config_losses"] is None
    with pytest.raises(ParameterError, match="'select' parameter"):
        TargetModel(select="grid").fit(prepared.X, prepared.y)


@pytest.mark.slow
@pytest.mark.parametrize("replica", ["bank_marketing_like", "telco_churn_like"])
def test_defaults_do_at_least_as_well_as_a_grid_tuned_small_tree_on_small_marketing_tables(replica):
    """Cross-validated AUC of the generic defaults >= a decision tree tuned by an inner grid search (nested CV)."""
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    from workbench.demo.replicas import REPLICAS
    from workbench.models.generic import prepare_training_data

    table, target, positive = REPLICAS[replica](seed=5)
    prepared = prepare_training_data(table, target=target, positive=positive)
    X, y = prepared.X, prepared.y
    text = [c for c in X.columns if pd.api.types.is_string_dtype(X[c])]
    tree = GridSearchCV(
        make_pipeline(make_column_transformer(
            (make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                           OneHotEncoder(handle_unknown="ignore")), text),
            remainder=SimpleImputer(strategy="median")), DecisionTreeClassifier(random_state=0)),
        {"decisiontreeclassifier__max_depth": [2, 3, 4, 5, 6, 8],
         "decisiontreeclassifier__min_samples_leaf": [5, 20, 50, 100]}, scoring="roc_auc", cv=3)
    ours, tuned = [], []
    for tr, te in StratifiedKFold(3, shuffle=True, random_state=0).split(X, y):
        model = TargetModel(random_state=0).fit(X.iloc[tr], y[tr])
        ours.append(roc_auc_score(y[te], model.predict_proba(X.iloc[te])[:, 1]))
        fitted_tree = tree.fit(X.iloc[tr], y[tr])
        tuned.append(roc_auc_score(y[te], fitted_tree.predict_proba(X.iloc[te])[:, 1]))
    assert np.mean(ours) >= np.mean(tuned), (ours, tuned)
