"""Uplift models: who is *persuadable*, learned from a randomised campaign.

A look-alike model (:class:`~workbench.models.TargetModel`) ranks people by how
likely they are to order; a campaign, though, only earns the orders it
*causes*.  Sure things order anyway, lost causes never do, and sleeping dogs
order less when contacted.  An uplift model estimates, per person, the effect
of the contact on the probability of a response:
``uplift(x) = P(y=1 | x, contacted) - P(y=1 | x, not contacted)``.  It can only
be learned where the contact was randomised: from a campaign's target group and
its control group.

Two estimators, scikit-learn style (``__init__`` stores arguments, ``fit``
validates and returns ``self``, learned attributes end in ``_``).  As in
scikit-uplift, ``fit`` takes ``(X, y, treatment)`` and ``predict`` returns the
estimated uplift:

:class:`TwoModelUplift`
    the "two-model" (T-learner) approach: one :class:`~workbench.models.TargetModel`
    on the treated rows and one on the control rows; the uplift is the
    difference of their probabilities.  Each model inherits TargetModel's
    size-adaptive defaults and early stopping.
:class:`TransformedOutcomeUplift`
    the transformed-outcome (class-variable transformation) approach of
    Athey & Imbens: with ``e`` the share of treated rows,
    ``z = y (t - e) / (e (1 - e))`` has ``E[z | x] = uplift(x)`` under
    randomisation, so one LightGBM regression on ``z`` estimates the uplift
    directly.  ``z`` is noisy (it is ``y / e`` or ``-y / (1 - e)``), so the
    trees are shallow with large leaves and the rounds are early-stopped on the
    held-out squared error of ``z``.

Training data from a campaign: :func:`uplift_training_data` joins the members
of the campaign (one row per member with the experiment group and the
attributed response, see :func:`workbench.tracking.attribute_responses`) to
their features at the campaign snapshot (:func:`workbench.features.build_features`)
and returns an :class:`UpliftData`; :meth:`UpliftData.split` holds part of it
out, stratified by group and outcome, so the Qini curve and AUUC
(:mod:`workbench.metrics.uplift`) are measured on members the model never saw.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame({"x": rng.random(4000)})
>>> t = rng.random(4000) < 0.5
>>> y = (rng.random(4000) < 0.05 + 0.3 * t * X["x"]).astype(int)
>>> model = TwoModelUplift(n_jobs=1).fit(X, y, t)
>>> bool(model.predict(pd.DataFrame({"x": [0.9]}))[0] > model.predict(pd.DataFrame({"x": [0.1]}))[0])
True
"""
from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from workbench.errors import DataValidationError, ParameterError
from workbench.models.estimator import TargetModel
from workbench.models.schema import CATEGORICAL, encode_frame, infer_features

__all__ = [
    "UpliftData",
    "TwoModelUplift",
    "TransformedOutcomeUplift",
    "UPLIFT_METHODS",
    "make_uplift_model",
    "uplift_training_data",
    "transformed_outcome",
]

#: Names of the uplift methods of :func:`make_uplift_model`.
UPLIFT_METHODS: tuple[str, ...] = ("two_model", "transformed_outcome")
#: Fewest rows of each group (treated, control) an uplift model is fitted on.
MIN_GROUP_ROWS = 10


# ------------------------------------------------------------------ inputs
def _frame(X, name: str = "X") -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        if not all(isinstance(c, str) for c in X.columns):
            return X.set_axis([str(c) for c in X.columns], axis=1)
        return X
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ParameterError.invalid(name, "a DataFrame or a 2-dimensional array", f"shape {arr.shape}")
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ParameterError.invalid(name, "numbers (pass a DataFrame for text columns)", arr[:1].tolist()) from None
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def _binary(values, name: str, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ParameterError(f"The {name!r} parameter must be one-dimensional with one value per row of X "
                             f"({n}); got shape {arr.shape}.")
    if arr.dtype == bool:
        return arr
    if pd.isna(arr).any():
        raise ParameterError(f"The {name!r} parameter must not contain missing values; "
                             f"found {int(pd.isna(arr).sum())}.")
    found = set(pd.unique(pd.Series(arr)).tolist())
    if not found <= {0, 1}:
        raise ParameterError.invalid(name, "booleans or 0/1", sorted(map(str, found))[:5])
    return arr.astype(float) == 1


def _fit_inputs(X, y, treatment) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``X`` as a DataFrame, ``y`` and ``treatment`` as booleans, with clear errors."""
    X = _frame(X)
    if len(X) == 0 or X.shape[1] == 0:
        raise ParameterError.invalid("X", "at least one row and one column", f"shape {X.shape}")
    y = _binary(y, "y", len(X))
    t = _binary(treatment, "treatment", len(X))
    n_t, n_c = int(t.sum()), int((~t).sum())
    if min(n_t, n_c) < MIN_GROUP_ROWS:
        raise ParameterError(
            f"An uplift model needs at least {MIN_GROUP_ROWS} treated and {MIN_GROUP_ROWS} control rows; "
            f"got {n_t} treated and {n_c} control."
        )
    for side, mask in (("treated", t), ("control", ~t)):
        hits = int(y[mask].sum())
        if hits == 0 or hits == int(mask.sum()):
            raise ParameterError(
                f"The {side} rows have {'no' if hits == 0 else 'only'} responders ({hits} of {int(mask.sum())}); "
                "an uplift model needs both outcomes in the treated and in the control group."
            )
    return X, y, t


# ------------------------------------------------------------------ training data
@dataclass(frozen=True)
class UpliftData:
    """Training data of an uplift model: features, outcome and treatment of the same rows.

    Attributes
    ----------
    X : pandas.DataFrame
        Features, indexed by ``subscriber_id``.
    y : numpy.ndarray of bool
        The outcome (e.g. responded within the response window).
    treatment : numpy.ndarray of bool
        True for the target (contacted) group, False for the control group.
    """

    X: pd.DataFrame
    y: np.ndarray
    treatment: np.ndarray

    def __post_init__(self):
        n = len(self.X)
        if len(self.y) != n or len(self.treatment) != n:
            raise ParameterError(f"UpliftData: X has {n} rows, y {len(self.y)} and treatment {len(self.treatment)}; "
                                 "they must be the same rows.")

    def __len__(self) -> int:
        return len(self.X)

    @property
    def ids(self) -> np.ndarray:
        """The ``subscriber_id`` of each row (the index of ``X``)."""
        return self.X.index.to_numpy()

    def subset(self, rows) -> "UpliftData":
        """The rows at the positions ``rows`` (an integer array or a boolean mask)."""
        rows = np.asarray(rows)
        return UpliftData(self.X.iloc[rows], self.y[rows], self.treatment[rows])

    def split(self, test_size: float = 0.3, random_state: int = 0) -> tuple["UpliftData", "UpliftData"]:
        """(train, test), stratified by treatment and outcome so both parts keep their shares.

        Raises
        ------
        ParameterError
            ``test_size`` outside (0, 1).
        """
        if not (isinstance(test_size, numbers.Real) and 0 < test_size < 1):
            raise ParameterError.invalid("test_size", "a share strictly between 0 and 1", test_size)
        strata = self.treatment.astype(int) * 2 + self.y.astype(int)
        counts = np.bincount(strata, minlength=4)
        stratify = strata if (counts[counts > 0] >= 2).all() else self.treatment.astype(int)
        train, test = train_test_split(np.arange(len(self)), test_size=test_size, stratify=stratify,
                                       random_state=random_state)
        return self.subset(np.sort(train)), self.subset(np.sort(test))


def uplift_training_data(members: pd.DataFrame, features: pd.DataFrame, *, outcome: str = "responded",
                         group_col: str = "group", treated_value="target", control_value="control",
                         feature_columns=None, extra_columns=("score",), id_col: str = "subscriber_id"
                         ) -> UpliftData:
    """Join a campaign's members (group and outcome) to their features at the campaign snapshot.

    Parameters
    ----------
    members : pandas.DataFrame
        One row per member of a released list, e.g. the output of
        :func:`workbench.tracking.attribute_responses`: ``id_col``,
        ``group_col`` and the ``outcome`` column.
    features : pandas.DataFrame
        Features of (at least) the members, indexed by ``id_col`` (as
        :func:`workbench.features.build_features` returns them) or holding it
        as a column.  Use the snapshot before the campaign started: anything
        later could carry the campaign's own effect.
    outcome : str, default "responded"
        The 0/1 or boolean outcome column of ``members``.
    group_col : str, default "group"
        The experiment group column of ``members``.
    treated_value, control_value : object
        The values of ``group_col`` of the contacted and the held-out group;
        rows of any other value are left out.
    feature_columns : list of str, optional
        Feature columns to use (default: every column of ``features``).
    extra_columns : sequence of str, default ("score",)
        Columns of ``members`` added as features when present (the look-alike
        score the list was drawn with is a pre-campaign quantity).
    id_col : str, default "subscriber_id"
        The key column.

    Returns
    -------
    UpliftData
        Rows in the order of ``members`` (treated and control rows only).

    Raises
    ------
    ParameterError
        A missing column, an outcome that is not 0/1 or boolean, or a feature
        column that ``features`` lacks.
    DataValidationError
        Members without a row in ``features``.
    """
    if not isinstance(members, pd.DataFrame):
        raise ParameterError.invalid("members", "a pandas DataFrame", type(members).__name__)
    if not isinstance(features, pd.DataFrame):
        raise ParameterError.invalid("features", "a pandas DataFrame", type(features).__name__)
    missing = [c for c in (id_col, group_col, outcome) if c not in members.columns]
    if missing:
        raise ParameterError(f"The 'members' table must have the columns {[id_col, group_col, outcome]}; "
                             f"missing {missing}. Got columns {list(members.columns)}.")
    feats = features.set_index(id_col) if id_col in features.columns else features
    columns = list(feats.columns) if feature_columns is None else list(feature_columns)
    absent = [c for c in columns if c not in feats.columns]
    if absent:
        raise ParameterError(f"The 'feature_columns' {absent} are not columns of the features table; "
                             f"it has {list(feats.columns)[:20]}{' ...' if feats.shape[1] > 20 else ''}.")
    group = members[group_col]
    keep = (group == treated_value) | (group == control_value)
    rows = members.loc[keep.to_numpy(dtype=bool, na_value=False)]
    y = rows[outcome]
    if y.isna().any() or not set(pd.unique(y.astype(object)).tolist()) <= {0, 1}:  # True == 1, False == 0
        raise ParameterError(f"The outcome column {outcome!r} must hold 0/1 or booleans without missing values; "
                             f"found {sorted(map(str, pd.unique(y.astype(object))))[:5]}.")
    ids = rows[id_col].to_numpy()
    pos = pd.Index(feats.index).get_indexer(ids)
    if (pos < 0).any():
        lost = ids[pos < 0]
        raise DataValidationError(
            f"features: {len(lost)} members have no feature row, e.g. {id_col} {lost[:5].tolist()}; build the "
            "features of the campaign snapshot for the whole province.",
            [{"table": "features", "column": id_col, "check": "covers the members", "count": int(len(lost)),
              "examples": lost[:5].tolist()}],
        )
    X = feats.iloc[pos][columns].copy()
    X.index = pd.Index(ids, name=id_col)
    for col in extra_columns or ():
        if col in rows.columns and col not in X.columns:
            X[col] = pd.to_numeric(rows[col], errors="coerce").to_numpy(float)
    return UpliftData(X, y.astype(bool).to_numpy(), (rows[group_col] == treated_value).to_numpy(dtype=bool))


def transformed_outcome(y, treatment, treated_share: float | None = None) -> np.ndarray:
    """The transformed outcome ``z = y (t - e) / (e (1 - e))`` whose expectation given ``x`` is the uplift.

    Parameters
    ----------
    y, treatment : array-like of bool or 0/1
        Outcome and treatment of each row.
    treated_share : float, optional
        ``e``, the probability of being treated (default: the observed share).

    Returns
    -------
    numpy.ndarray of float

    Examples
    --------
    >>> transformed_outcome([1, 1, 0, 0], [1, 0, 1, 0]).tolist()
    [2.0, -2.0, 0.0, -0.0]
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(treatment, dtype=float)
    e = float(t.mean()) if treated_share is None else float(treated_share)
    if not 0 < e < 1:
        raise ParameterError.invalid("treated_share", "a share strictly between 0 and 1", treated_share)
    return y * (t - e) / (e * (1 - e))


# ------------------------------------------------------------------ estimators
class _UpliftBase(BaseEstimator):
    """What both estimators share: input checks and the uplift table."""

    def _remember_inputs(self, X: pd.DataFrame, t: np.ndarray, y: np.ndarray) -> None:
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        self.treated_share_ = float(t.mean())
        self.n_treated_ = int(t.sum())
        self.n_control_ = int((~t).sum())
        self.response_treated_ = float(y[t].mean())
        self.response_control_ = float(y[~t].mean())

    def _predict_frame(self, X) -> pd.DataFrame:
        check_is_fitted(self, "feature_names_in_")
        return _frame(X)

    def predict(self, X) -> np.ndarray:
        """Estimated uplift of each row: change in the response probability caused by the contact."""
        raise NotImplementedError


class TwoModelUplift(_UpliftBase):
    """Two look-alike models, one per group; uplift = P(response | contacted) - P(response | not contacted).

    Parameters
    ----------
    model_params : dict, optional
        Parameters of both :class:`~workbench.models.TargetModel` s (e.g.
        ``{"num_leaves": 15}``); by default TargetModel's size-adaptive ones.
    random_state : int
        Seed of both models.
    n_jobs : int, optional
        LightGBM threads (as :class:`~workbench.models.TargetModel`).
    progress : bool
        Show the models' progress bars.

    Attributes
    ----------
    treated_model_, control_model_ : TargetModel
        The fitted models of the treated and the control rows.
    treated_share_ : float
        Share of treated rows at fit.
    n_treated_, n_control_ : int
        Rows of each group at fit.
    response_treated_, response_control_ : float
        Observed response rates of the groups at fit.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    Simple and robust, but each model spends its capacity on the *level* of the
    response, not on the difference; with a small control group the control
    model is the weak part (it decides half of every uplift estimate).
    """

    def __init__(self, *, model_params=None, random_state=0, n_jobs=None, progress=False):
        self.model_params = model_params
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.progress = progress

    def fit(self, X, y, treatment):
        """Fit one model on the treated rows and one on the control rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Features (text / category columns of a DataFrame are categorical).
        y : array-like of bool or 0/1
            Outcome.
        treatment : array-like of bool or 0/1
            True (1) for the contacted group.

        Returns
        -------
        self

        Raises
        ------
        ParameterError
            Lengths that differ, non-binary ``y`` or ``treatment``, fewer than
            :data:`MIN_GROUP_ROWS` rows in a group, a group without responders
            (or with only responders), or ``model_params`` that is not a dict.
        """
        if self.model_params is not None and not isinstance(self.model_params, dict):
            raise ParameterError.invalid("model_params", "a dict of TargetModel parameters or None", self.model_params)
        X, y, t = _fit_inputs(X, y, treatment)
        params = {**(self.model_params or {}), "random_state": self.random_state, "n_jobs": self.n_jobs,
                  "progress": self.progress}
        self.treated_model_ = TargetModel(**params).fit(X[t], y[t].astype(int))
        self.control_model_ = TargetModel(**params).fit(X[~t], y[~t].astype(int))
        self._remember_inputs(X, t, y)
        return self

    def predict_outcomes(self, X) -> pd.DataFrame:
        """Response probability with and without contact, and their difference.

        Returns
        -------
        pandas.DataFrame
            ``p_treated``, ``p_control`` and ``uplift``, one row per row of ``X``.
        """
        X = self._predict_frame(X)
        pt = self.treated_model_.predict_proba(X)[:, 1]
        pc = self.control_model_.predict_proba(X)[:, 1]
        return pd.DataFrame({"p_treated": pt, "p_control": pc, "uplift": pt - pc}, index=X.index)

    def predict(self, X) -> np.ndarray:
        """Estimated uplift of each row (``p_treated - p_control``)."""
        return self.predict_outcomes(X)["uplift"].to_numpy()


class TransformedOutcomeUplift(_UpliftBase):
    """One LightGBM regression on the transformed outcome, whose expectation is the uplift.

    Parameters
    ----------
    treated_share : float, optional
        The planned probability of being treated (``1 - control_share``);
        default the observed share of treated rows.
    learning_rate : float, default 0.03
    num_leaves : int, default 7
        Leaves per tree: the transformed outcome is noisy, small trees generalise.
    min_child_samples : int, optional
        Rows per leaf; default ``clip(n / 40, 50, 5000)``.
    reg_lambda : float, default 10.0
        L2 penalty on leaf values.
    colsample : float, default 0.7
        Feature fraction per tree.
    subsample : float, default 0.8
        Row fraction per round.
    max_rounds : int, default 2000
    early_stopping_rounds : int, default 100
        Patience on the held-out squared error of the transformed outcome.
    validation_fraction : float, default 0.25
        Share of rows held out (stratified by treatment and outcome) for early stopping.
    max_levels : int, default 1000
        Most levels kept per categorical column.
    random_state : int
    n_jobs : int, optional
        LightGBM threads (default 1 up to 50,000 rows, else all cores).
    progress : bool
        Show a progress bar over the boosting rounds.

    Attributes
    ----------
    booster_ : lightgbm.Booster
    features_ : list of FeatureSpec
    best_iteration_ : int
    treated_share_ : float
        ``e`` of the transformation (the parameter, or the observed share).
    validation_loss_ : float
        Held-out mean squared error of the transformed outcome at ``best_iteration_``.
    n_treated_, n_control_, response_treated_, response_control_, n_features_in_, feature_names_in_
        As :class:`TwoModelUplift`.
    """

    def __init__(self, *, treated_share=None, learning_rate=0.03, num_leaves=7, min_child_samples=None,
                 reg_lambda=10.0, colsample=0.7, subsample=0.8, max_rounds=2000, early_stopping_rounds=100,
                 validation_fraction=0.25, max_levels=1000, random_state=0, n_jobs=None, progress=False):
        self.treated_share = treated_share
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.colsample = colsample
        self.subsample = subsample
        self.max_rounds = max_rounds
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.max_levels = max_levels
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.progress = progress

    def _check_params(self) -> None:
        share = self.treated_share
        if share is not None and not (isinstance(share, numbers.Real) and 0 < share < 1):
            raise ParameterError.invalid("treated_share", "a share strictly between 0 and 1 or None", share)
        if not (isinstance(self.validation_fraction, numbers.Real) and 0 < self.validation_fraction < 1):
            raise ParameterError.invalid("validation_fraction", "a number strictly between 0 and 1",
                                         self.validation_fraction)
        for name in ("num_leaves", "max_rounds", "early_stopping_rounds", "max_levels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < (2 if name == "num_leaves"
                                                                                              else 1):
                raise ParameterError.invalid(name, "a positive integer" + (" >= 2" if name == "num_leaves" else ""),
                                             value)
        if self.min_child_samples is not None and (not isinstance(self.min_child_samples, numbers.Integral)
                                                   or self.min_child_samples < 1):
            raise ParameterError.invalid("min_child_samples", "a positive integer or None", self.min_child_samples)
        for name in ("learning_rate", "colsample", "subsample"):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and 0 < value <= 1):
                raise ParameterError.invalid(name, "a number in (0, 1]", value)
        if not (isinstance(self.reg_lambda, numbers.Real) and self.reg_lambda >= 0):
            raise ParameterError.invalid("reg_lambda", "a non-negative number", self.reg_lambda)

    def fit(self, X, y, treatment):
        """Fit the regression of the transformed outcome on ``X``; returns ``self``.

        ``X``, ``y`` and ``treatment`` are as for :meth:`TwoModelUplift.fit`.

        Raises
        ------
        ParameterError
            Bad hyper-parameters, or as :meth:`TwoModelUplift.fit`.
        """
        import os

        from workbench.models.estimator import CV_MAX_ROWS, _Progress

        self._check_params()
        X, y, t = _fit_inputs(X, y, treatment)
        e = float(t.mean()) if self.treated_share is None else float(self.treated_share)
        z = transformed_outcome(y, t, e)
        self.features_ = infer_features(X, max_levels=self.max_levels)
        matrix = encode_frame(X, self.features_, table="the training table")
        cat_idx = [j for j, f in enumerate(self.features_) if f.kind == CATEGORICAL]
        seed = int(self.random_state) if isinstance(self.random_state, numbers.Integral) else 0
        strata = t.astype(int) * 2 + y.astype(int)
        counts = np.bincount(strata, minlength=4)
        stratify = strata if (counts[counts > 0] >= 2).all() else t.astype(int)
        idx_tr, idx_val = train_test_split(np.arange(len(X)), test_size=self.validation_fraction,
                                           stratify=stratify, random_state=seed)
        n_train = len(idx_tr)
        min_leaf = self.min_child_samples or int(np.clip(n_train / 40, 50, 5000))
        threads = (int(self.n_jobs) if self.n_jobs and self.n_jobs > 0
                   else max(1, (os.cpu_count() or 1) + 1 + int(self.n_jobs)) if self.n_jobs
                   else 1 if n_train <= CV_MAX_ROWS else (os.cpu_count() or 1))
        params = {
            "objective": "regression", "metric": "l2", "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves), "min_child_samples": int(min_leaf),
            "reg_lambda": float(self.reg_lambda), "feature_fraction": float(self.colsample),
            "bagging_fraction": float(self.subsample), "bagging_freq": 1 if self.subsample < 1 else 0,
            "seed": seed, "deterministic": True, "force_col_wise": True, "num_threads": threads, "verbose": -1,
            "feature_pre_filter": False,
        }
        names = [f"f{j}" for j in range(matrix.shape[1])]
        dtrain = lgb.Dataset(matrix[idx_tr], label=z[idx_tr], categorical_feature=cat_idx, feature_name=names,
                             params={"verbose": -1}, free_raw_data=False)
        dval = lgb.Dataset(matrix[idx_val], label=z[idx_val], categorical_feature=cat_idx, feature_name=names,
                           params={"verbose": -1}, reference=dtrain, free_raw_data=False)
        evals: dict = {}
        progress = _Progress(int(self.max_rounds), "TransformedOutcomeUplift", bool(self.progress))
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*categorical_feature.*", category=UserWarning)
                booster = lgb.train(params, dtrain, num_boost_round=int(self.max_rounds), valid_sets=[dval],
                                    valid_names=["valid"],
                                    callbacks=[lgb.early_stopping(int(self.early_stopping_rounds), verbose=False),
                                               lgb.record_evaluation(evals), progress])
        finally:
            progress.close()
        booster.free_dataset()
        rounds = int(booster.best_iteration) or booster.current_iteration()
        self.booster_ = booster
        self.best_iteration_ = rounds
        self.validation_loss_ = float(evals["valid"]["l2"][rounds - 1])
        self.params_ = {**params, "n_train_rows": n_train, "best_iteration": rounds}
        self._remember_inputs(X, t, y)
        self.treated_share_ = e
        return self

    def predict(self, X) -> np.ndarray:
        """Estimated uplift of each row."""
        check_is_fitted(self, "booster_")
        matrix = encode_frame(self._predict_frame(X), self.features_)
        if matrix.shape[0] == 0:
            return np.empty(0)
        return self.booster_.predict(matrix, num_iteration=self.best_iteration_)


def make_uplift_model(method: str = "two_model", **params):
    """An unfitted uplift estimator by name.

    Parameters
    ----------
    method : {"two_model", "transformed_outcome"}
        :class:`TwoModelUplift` or :class:`TransformedOutcomeUplift`.
    **params
        Passed to the estimator.

    Raises
    ------
    ParameterError
        An unknown method.
    """
    if method == "two_model":
        return TwoModelUplift(**params)
    if method == "transformed_outcome":
        return TransformedOutcomeUplift(**params)
    raise ParameterError.invalid("method", f"one of {list(UPLIFT_METHODS)}", method)
