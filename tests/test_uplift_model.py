"""Uplift estimators on constructed data with known heterogeneous effects, and campaign training data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from workbench.errors import DataValidationError, ParameterError
from workbench.metrics.uplift import auuc, qini_coefficient
from workbench.models.uplift import (
    TransformedOutcomeUplift, TwoModelUplift, UpliftData, make_uplift_model, transformed_outcome,
    uplift_training_data,
)


def _true_uplift(X: pd.DataFrame) -> np.ndarray:
    """Persuadables grow with x1; below 0.2 they are sleeping dogs (the contact puts them off)."""
    return np.where(X["x1"] < 0.2, -0.04, 0.25 * X["x1"])


@pytest.fixture(scope="module")
def constructed() -> tuple[UpliftData, UpliftData]:
    rng = np.random.default_rng(1)
    n = 8000
    X = pd.DataFrame({"x1": rng.random(n), "x2": rng.random(n), "noise": rng.normal(size=n),
                      "segment": pd.array(rng.choice(["a", "b", "c"], n), dtype="str")},
                     index=pd.Index(np.arange(10_000, 10_000 + n), name="subscriber_id"))
    base = 0.05 + 0.05 * X["x2"].to_numpy()      # the base response does not tell who is persuadable
    treated = rng.random(n) < 0.5
    y = rng.random(n) < np.clip(base + treated * _true_uplift(X), 0, 1)
    return UpliftData(X, y, treated).split(test_size=0.4, random_state=0)


@pytest.mark.parametrize("method", ["two_model", "transformed_outcome"])
def test_uplift_ranking_is_recovered_on_held_out_rows(constructed, method):
    train, test = constructed
    model = make_uplift_model(method, n_jobs=1).fit(train.X, train.y, train.treatment)
    score = model.predict(test.X)
    truth = _true_uplift(test.X)
    assert qini_coefficient(score, test.treatment, test.y) > 0.1
    assert auuc(score, test.treatment, test.y) > 0.05
    assert spearmanr(score, truth)[0] > 0.7
    order = np.argsort(-score)
    decile = len(score) // 10
    assert truth[order[:decile]].mean() > 0.18 > 0.0 > truth[order[-decile:]].mean()   # sleeping dogs last
    dogs = (test.X["x1"] < 0.2).to_numpy()
    assert score[dogs].mean() < score[(test.X["x1"] > 0.8).to_numpy()].mean() - 0.1


def test_two_model_predicts_both_outcomes_and_fits_deterministically(constructed):
    train, test = constructed
    a = TwoModelUplift(n_jobs=1).fit(train.X, train.y, train.treatment)
    b = TwoModelUplift(n_jobs=1).fit(train.X, train.y, train.treatment)
    out = a.predict_outcomes(test.X.head(50))
    assert list(out.columns) == ["p_treated", "p_control", "uplift"]
    assert out.index.equals(test.X.head(50).index)
    np.testing.assert_allclose(out["uplift"], out["p_treated"] - out["p_control"])
    assert ((out[["p_treated", "p_control"]] > 0) & (out[["p_treated", "p_control"]] < 1)).all().all()
    np.testing.assert_array_equal(a.predict(test.X), b.predict(test.X))
    assert a.n_treated_ + a.n_control_ == len(train) and a.n_features_in_ == 4
    assert a.response_treated_ == pytest.approx(train.y[train.treatment].mean())
    assert list(a.feature_names_in_) == ["x1", "x2", "noise", "segment"]


def test_transformed_outcome_uses_the_planned_share_and_numpy_input():
    rng = np.random.default_rng(3)
    n = 4000
    X = rng.random((n, 2))
    t = rng.random(n) < 0.8                                       # 20 % control, as a campaign plans it
    y = rng.random(n) < 0.05 + 0.2 * t * X[:, 0]
    model = TransformedOutcomeUplift(treated_share=0.8, n_jobs=1).fit(X, y.astype(int), t.astype(int))
    assert model.treated_share_ == 0.8 and model.best_iteration_ >= 1 and model.validation_loss_ > 0
    assert list(model.feature_names_in_) == ["x0", "x1"]
    high, low = model.predict(np.array([[0.95, 0.5], [0.05, 0.5]]))
    assert high > low
    assert model.predict(np.empty((0, 2))).shape == (0,)


def test_transformed_outcome_by_hand():
    # e = 0.5: z = 2y for treated, -2y for control
    assert transformed_outcome([1, 1, 0, 0], [1, 0, 1, 0]).tolist() == [2.0, -2.0, 0.0, -0.0]
    # e = 0.8: treated responder 1 * 0.2 / 0.16 = 1.25; control responder -0.8 / 0.16 = -5
    z = transformed_outcome([1, 1], [1, 0], treated_share=0.8)
    assert z.tolist() == pytest.approx([1.25, -5.0])
    # its mean is the difference of the response rates
    rng = np.random.default_rng(0)
    t = rng.random(200_000) < 0.7
    y = rng.random(200_000) < np.where(t, 0.09, 0.05)
    assert transformed_outcome(y, t, 0.7).mean() == pytest.approx(0.04, abs=0.004)
    with pytest.raises(ParameterError, match="'treated_share' parameter must be a share strictly between 0 and 1"):
        transformed_outcome([1], [1], treated_share=1.0)


def test_estimators_follow_the_scikit_learn_contract(constructed):
    train, _ = constructed
    for model in (TwoModelUplift(model_params={"num_leaves": 7}), TransformedOutcomeUplift(num_leaves=5)):
        twin = clone(model)
        assert twin.get_params() == model.get_params()
        assert not [k for k in vars(twin) if k.endswith("_")]          # __init__ stores arguments only
        with pytest.raises(NotFittedError):
            twin.predict(train.X)
        assert twin.fit(train.X, train.y, train.treatment) is twin


def test_fit_errors_say_what_is_wrong():
    X = pd.DataFrame({"x": np.arange(40.0)})
    t = np.r_[np.ones(20, bool), np.zeros(20, bool)]
    y = np.tile([0, 1], 20)
    with pytest.raises(ParameterError, match=r"The control rows have no responders \(0 of 20\)"):
        TwoModelUplift().fit(X, np.r_[y[:20], np.zeros(20, int)], t)
    with pytest.raises(ParameterError, match=r"The treated rows have only responders"):
        TransformedOutcomeUplift().fit(X, np.r_[np.ones(20, int), y[20:]], t)
    with pytest.raises(ParameterError, match=r"at least 10 treated and 10 control rows; got 35 treated and 5"):
        TwoModelUplift().fit(X, y, np.arange(40) < 35)
    with pytest.raises(ParameterError, match="'treatment' parameter must be booleans or 0/1"):
        TwoModelUplift().fit(X, y, np.where(t, "sms", "none"))
    with pytest.raises(ParameterError, match=r"'y' parameter must be one-dimensional with one value per row of X"):
        TwoModelUplift().fit(X, y[:30], t)
    with pytest.raises(ParameterError, match="'model_params' parameter must be a dict"):
        TwoModelUplift(model_params=[("num_leaves", 7)]).fit(X, y, t)
    with pytest.raises(ParameterError, match="'treated_share' parameter must be a share strictly between"):
        TransformedOutcomeUplift(treated_share=1.5).fit(X, y, t)
    with pytest.raises(ParameterError, match="'num_leaves' parameter must be a positive integer >= 2"):
        TransformedOutcomeUplift(num_leaves=1).fit(X, y, t)
    with pytest.raises(ParameterError, match=r"'method' parameter must be one of \['two_model', 'transformed_outcome"):
        make_uplift_model("causal_forest")


# ------------------------------------------------------------------ training data from a campaign
def _members() -> pd.DataFrame:
    return pd.DataFrame({
        "subscriber_id": [5, 3, 9, 7, 1],
        "group": ["target", "control", "target", "excluded", "control"],
        "responded": [True, False, False, True, True],
        "score": [0.9, 0.8, 0.7, 0.6, 0.5],
        "channel": ["sms"] * 5,
    })


def _features() -> pd.DataFrame:
    return pd.DataFrame({"gprs_mb_mean": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
                         "brand": pd.array(["mzone", "gotone", "mzone", "easyown", "mzone", "gotone"], dtype="str")},
                        index=pd.Index([1, 3, 5, 7, 9, 11], name="subscriber_id"))


def test_training_data_joins_members_to_their_snapshot_features():
    data = uplift_training_data(_members(), _features())
    assert data.ids.tolist() == [5, 3, 9, 1]                       # member order; other groups left out
    assert data.treatment.tolist() == [True, False, True, False]
    assert data.y.tolist() == [True, False, False, True]
    assert data.X.columns.tolist() == ["gprs_mb_mean", "brand", "score"]
    assert data.X["gprs_mb_mean"].tolist() == [30.0, 20.0, 50.0, 10.0]
    assert data.X["score"].tolist() == [0.9, 0.8, 0.7, 0.5]
    only = uplift_training_data(_members(), _features().reset_index(), feature_columns=["brand"], extra_columns=())
    assert only.X.columns.tolist() == ["brand"] and only.X["brand"].tolist() == ["mzone", "gotone", "mzone", "mzone"]
    train, test = data.split(test_size=0.5, random_state=1)
    assert sorted(train.ids.tolist() + test.ids.tolist()) == [1, 3, 5, 9]
    assert train.treatment.sum() == test.treatment.sum() == 1      # stratified by group


def test_training_data_errors():
    with pytest.raises(DataValidationError, match=r"features: 1 members have no feature row, e\.g\. subscriber_id \[9"):
        uplift_training_data(_members(), _features().drop(index=9))
    with pytest.raises(ParameterError, match=r"must have the columns \['subscriber_id', 'group', 'responded'\]"):
        uplift_training_data(_members().drop(columns="responded"), _features())
    with pytest.raises(ParameterError, match=r"'feature_columns' \['arpu_mean'\] are not columns"):
        uplift_training_data(_members(), _features(), feature_columns=["arpu_mean"])
    with pytest.raises(ParameterError, match="outcome column 'responded' must hold 0/1 or booleans"):
        uplift_training_data(_members().assign(responded=[1, 0, 2, 0, 1]), _features())
    with pytest.raises(ParameterError, match="X has 2 rows, y 1 and treatment 2"):
        UpliftData(pd.DataFrame({"x": [1, 2]}), np.array([True]), np.array([True, False]))
    with pytest.raises(ParameterError, match="'test_size' parameter must be a share strictly between 0 and 1"):
        uplift_training_data(_members(), _features()).split(test_size=1.0)
