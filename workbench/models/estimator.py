"""``TargetModel``: the target-user (look-alike) classifier, LightGBM inside.

The estimator follows the scikit-learn contract (``__init__`` stores arguments,
``fit`` validates and returns ``self``, learned attributes end in ``_``) and is
built for marketing tables: text columns are categories, values may be missing,
and positives are rare (1-15 %, down to ~0.1 %).

Adaptive defaults
-----------------
Every hyper-parameter left at ``None`` is resolved at fit time from the size of
the training data by :func:`resolve_params`, so one set of defaults serves
5,000 and 1,000,000 rows.  With ``n`` training rows and ``m`` rows of the
minority class (the information a look-alike model really has):

===================== =========================================================
parameter             rule
===================== =========================================================
``num_leaves``        ``clip(m / 60, 7, 63)``: 7 leaves up to ~400 positives,
                      then one more leaf per 60 positives, at most 63
``min_child_samples`` ``clip(n / 250, 2, 200)`` rows per leaf
``reg_lambda``        L2 penalty ``10`` when ``m < 1,000``, ``3`` up to
                      ``10,000``, else ``1``
``learning_rate``     ``0.03`` up to 50,000 rows, ``0.05`` up to 500,000,
                      ``0.08`` beyond (bounds the time of large fits)
``colsample``         feature fraction per tree: ``0.5`` up to 50,000 rows,
                      ``0.7`` up to 500,000, ``0.8`` beyond
``subsample``         row bagging ``0.8`` every round (``1.0`` below 2,000 rows)
categorical           ``cat_smooth`` = ``cat_l2`` = ``min_data_per_group`` =
                      ``clip(n / 1,000, 10, 100)``, ``max_cat_threshold`` 32
===================== =========================================================

The rule was chosen on synthetic marketing tables with a known generating
function (``benchmarks/model_generic.py``: text categories, missing values),
scoring each candidate on 100,000 fresh rows (mean of 2-3 training seeds).
Against LightGBM's tree defaults (31 leaves, 20 rows per leaf, no L2) with the
same early stopping, the holdout AUC gain is +0.022 at 5,000 rows and +0.009
at 20,000 rows (3 % positives), +0.018 at 20,000 rows with 1 % positives and
+0.002 at 100,000 rows; at 100,000 rows ~50 leaves beat both 31 and 100, at
1,000,000 rows 63 leaves beat 127 (0.815 vs 0.813 AUC, same time), and a
feature fraction of 0.5 beat 1.0 on small samples.

Small samples: the shape of the trees chosen by internal cross-validation
-------------------------------------------------------------------------
On a few thousand to tens of thousands of rows no single tree shape is right
for every table: campaign and churn tables are often nearly additive (one or
two strong categorical drivers, a clock such as tenure), where stumps or
3-leaf trees beat 7 leaves, while others have interactions.  Up to
:data:`SMALL_SAMPLE_ROWS` training rows validated by cross-validation, with no
tree parameter fixed by the caller (``select="auto"``), :func:`small_sample_configs`
are tried on the same folds - the rule above, stumps, 3 and 15 leaves, each
with at least ``n / 100`` rows per leaf and the rule's L2 - and the shape with
the lowest cross-validated log-loss is kept (``params_["config"]``; every
shape's loss in ``params_["config_losses"]``).  A proper score of the same folds
picks it, not the data the model is judged on: nothing is tuned to a table.
``benchmarks/model_generic.py --small`` compares these defaults with grid-tuned
small trees on replicas of small public marketing and churn sets.

The number of boosting rounds is always learned by early stopping on the
binary log-loss (``patience`` = ``early_stopping_rounds``, default
``clip(3 / learning_rate, 50, 200)`` rounds).  A separation guard also stops
as soon as the validation log-loss falls below 1 % of the loss of predicting
the base rate for everyone: no genuine look-alike model gets there, but a column
that separates the classes perfectly (a leak) does, and would otherwise lower
the loss by ever smaller steps until ``max_rounds`` (``params_["separation_stop"]``
records it).  Rounds are chosen by:

* ``validation="cv"`` (the default up to ``cv_max_rows`` = 50,000 training rows):
  ``n_folds``-fold stratified cross-validation picks the number of rounds at
  which the mean validation loss is lowest, then the final model is trained on
  ALL rows with that many rounds - small samples lose no positives to a
  validation split;
* ``validation="holdout"`` (the default above 50,000 rows): a stratified
  ``validation_fraction`` of the rows is held out for early stopping and the
  model trained on the rest is kept;
* an explicit ``eval_set=(X_val, y_val)`` passed to :meth:`TargetModel.fit`
  is used for early stopping and all of ``X`` is trained on;
* ``validation="none"``: no early stopping, ``fallback_rounds`` rounds on all
  rows - for rounds already chosen elsewhere (the province pipeline reuses
  those its out-of-time validation stopped at).

When the minority class has fewer than 2 rows per fold (tiny samples) there is
nothing to stop on: the model trains ``fallback_rounds`` rounds (documented in
``params_["validation"] = "none"``).

Class imbalance is left in the data by default (``scale_pos_weight=1``) so
scores stay calibrated probabilities (lists, reason codes and the calibration
table rely on that); the stratified splits guarantee positives in every
validation fold, and the leaf size / L2 rules above are driven by the minority
count, which is what keeps the trees from memorising few positives.

Determinism: ``deterministic=True``, ``force_col_wise=True`` and seeds derived
from ``random_state`` make two fits on the same data give identical models.
"""
from __future__ import annotations

import math
import numbers
import os
import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from workbench.errors import ParameterError
from workbench.models.schema import CATEGORICAL, FeatureSpec, encode_frame, infer_features

__all__ = ["TargetModel", "resolve_params", "small_sample_configs", "lightgbm_params", "EXPLICIT_PARAMS",
           "SMALL_SAMPLE_ROWS"]

#: Training rows up to which rounds are chosen by cross-validation (above: one holdout split).
CV_MAX_ROWS = 50_000
#: Training rows up to which ``select="auto"`` picks among :func:`small_sample_configs` by the same
#: cross-validation (a few thousand to tens of thousands of rows: where one fixed shape of tree is most often
#: wrong, and where trying four costs seconds).
SMALL_SAMPLE_ROWS = 30_000
_SELECTS = ("auto", "off")
_VALIDATIONS = ("auto", "cv", "holdout", "none")
#: Keys of ``params_`` that are LightGBM parameters (the rest describe the procedure).
_LGB_KEYS = (
    "objective", "learning_rate", "num_leaves", "min_child_samples", "reg_lambda", "colsample", "subsample",
    "cat_smooth", "min_data_per_group", "max_cat_threshold", "scale_pos_weight",
)


def _clip(x: float, lo: float, hi: float) -> float:
    return float(min(max(x, lo), hi))


def resolve_params(n_rows: int, n_minority: int) -> dict:
    """The adaptive hyper-parameters for a training sample of this size.

    Parameters
    ----------
    n_rows : int
        Training rows.
    n_minority : int
        Rows of the rarer class.

    Returns
    -------
    dict
        ``learning_rate``, ``num_leaves``, ``min_child_samples``, ``reg_lambda``,
        ``colsample``, ``subsample``, ``cat_smooth``, ``min_data_per_group``,
        ``max_cat_threshold``, ``early_stopping_rounds`` (see the module docstring
        for the rules).

    Examples
    --------
    >>> p = resolve_params(5_000, 150)
    >>> p["num_leaves"], p["learning_rate"], p["colsample"]
    (7, 0.03, 0.5)
    >>> resolve_params(1_000_000, 30_000)["num_leaves"]
    63
    """
    n, m = int(n_rows), max(int(n_minority), 1)
    num_leaves = int(_clip(round(m / 60), 7, 63))
    min_child = int(_clip(round(n / 250), 2, 200))
    reg_lambda = 10.0 if m < 1_000 else (3.0 if m < 10_000 else 1.0)
    learning_rate = 0.03 if n <= 50_000 else (0.05 if n <= 500_000 else 0.08)
    colsample = 0.5 if n <= 50_000 else (0.7 if n <= 500_000 else 0.8)
    subsample = 1.0 if n < 2_000 else 0.8
    cat = int(_clip(round(n / 1_000), 10, 100))
    patience = int(_clip(round(3 / learning_rate), 50, 200))
    return {
        "learning_rate": learning_rate,
        "num_leaves": num_leaves,
        "min_child_samples": min_child,
        "reg_lambda": reg_lambda,
        "colsample": colsample,
        "subsample": subsample,
        "cat_smooth": float(cat),
        "min_data_per_group": cat,
        "max_cat_threshold": 32,
        "early_stopping_rounds": patience,
    }


def small_sample_configs(base: dict, n_rows: int) -> dict[str, dict]:
    """The few tree shapes tried on a small sample (``select="auto"``), each as resolved parameters.

    ``rule`` is :func:`resolve_params` itself; the others change the shape of
    the trees only - ``stumps`` (2 leaves: an additive model of every input,
    what a logistic regression with bins would learn), ``shallow`` (3 leaves:
    pairs of conditions) and ``wide`` (15 leaves, for tables with
    interactions) - with at least ``n / 100`` rows per leaf and the rule's L2
    penalty, so no candidate is looser than the rule on few rows.  A shallower
    tree learns less per round, so it gets a larger learning rate (0.1 for
    stumps, 0.05 for 3 leaves) and the same early stopping.

    Parameters
    ----------
    base : dict
        :func:`resolve_params` for the sample.
    n_rows : int
        Training rows.
    """
    floor = int(max(base["min_child_samples"], round(n_rows / 100)))
    return {
        "rule": dict(base),
        "stumps": {**base, "num_leaves": 2, "learning_rate": 0.1, "min_child_samples": floor, "colsample": 0.8},
        "shallow": {**base, "num_leaves": 3, "learning_rate": 0.05, "min_child_samples": floor},
        "wide": {**base, "num_leaves": 15, "min_child_samples": floor},
    }


class _SeparationGuard:
    """Stop boosting once the validation log-loss is below ``share`` of the constant-prediction loss.

    A genuine look-alike model never gets near 1 % of the base-rate loss; a column that
    separates the classes perfectly (a leak) does, and would otherwise lower the loss
    by ever smaller steps until ``max_rounds``.
    """

    def __init__(self, base_rate: float, share: float = 0.01):
        self.order = 25  # after record_evaluation (20), before LightGBM's early stopping (30)
        r = min(max(base_rate, 1e-12), 1 - 1e-12)
        self.limit = share * -(r * math.log(r) + (1 - r) * math.log(1 - r))
        self.triggered = False

    def __call__(self, env) -> None:
        for item in env.evaluation_result_list:
            if item[1] == "binary_logloss" and item[2] < self.limit:
                self.triggered = True
                raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)


class _Progress:
    """A LightGBM callback drawing a tqdm bar over boosting rounds."""

    def __init__(self, total: int, desc: str, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.total, self.desc = total, desc

    def __call__(self, env) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc=self.desc, unit="round", leave=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class TargetModel(ClassifierMixin, BaseEstimator):
    """Binary look-alike classifier (LightGBM) with size-adaptive defaults.

    Parameters
    ----------
    learning_rate, num_leaves, min_child_samples, reg_lambda, colsample, subsample : optional
        LightGBM hyper-parameters (``colsample`` is the feature fraction per tree,
        ``subsample`` the row-bagging fraction).  ``None`` = the adaptive rule of
        :func:`resolve_params`.
    early_stopping_rounds : int, optional
        Patience of early stopping in rounds; ``None`` = adaptive.
    max_rounds : int
        Upper bound on boosting rounds.
    validation : {"auto", "cv", "holdout", "none"}
        How the number of rounds is learned (see the module docstring);
        ``"auto"`` = ``"cv"`` up to 50,000 rows, else ``"holdout"``; ``"none"``
        trains ``fallback_rounds`` rounds on all rows (rounds chosen elsewhere).
    validation_fraction : float
        Share of rows held out for early stopping with ``validation="holdout"``.
    n_folds : int
        Folds with ``validation="cv"``.
    fallback_rounds : int
        Rounds trained when the minority class is too small to validate on, or with
        ``validation="none"``.
    scale_pos_weight : float
        Weight of positive rows; 1 keeps probabilities calibrated.
    max_levels : int
        Most levels kept per categorical column (most frequent first; rarer levels
        are encoded as missing).
    lgb_params : dict, optional
        Extra LightGBM parameters, applied last (override everything above).
    random_state : int, RandomState or None
        Seed of the splits and of LightGBM's bagging / feature sampling.
    select : {"auto", "off"}
        ``"auto"``: on a sample of at most :data:`SMALL_SAMPLE_ROWS` rows validated by
        cross-validation, with no tree parameter fixed, try the shapes of
        :func:`small_sample_configs` on the same folds and keep the one with the
        lowest cross-validated log-loss (``params_["config"]``; every candidate's loss in
        ``params_["config_losses"]``).  ``"off"``: the size rule only.
    n_jobs : int, optional
        LightGBM threads (negative: all cores but ``-n_jobs - 1``).  ``None`` = 1
        thread up to 50,000 training rows (thread start-up costs more than it
        saves on small data, and on a busy machine far more), all cores above.
        Results do not depend on it (``deterministic=True``).
    progress : bool
        Show a tqdm bar over boosting rounds.

    Attributes
    ----------
    booster_ : lightgbm.Booster
        The trained booster (features named ``f0 .. f{k-1}``; real names in ``features_``).
    features_ : list of FeatureSpec
        Input schema: column names, kinds and category levels.
    classes_ : ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the positive class (the larger label).
    best_iteration_ : int
        Number of boosting rounds used for prediction.
    params_ : dict
        The resolved hyper-parameters and procedure (``validation``, ``n_rows``,
        ``n_minority``, ``best_iteration``, ``validation_loss``).
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame with string column names.

    Notes
    -----
    * Text, object and ``category`` columns of a DataFrame are categorical; their
      levels are recorded at fit.  At predict time a level not seen at fit is
      treated as a missing value (use :func:`workbench.models.registry.score`
      with ``strict=True`` to reject it instead).
    * A DataFrame passed to ``predict``/``predict_proba`` is read by column name:
      order does not matter and extra columns are ignored; a missing column or a
      column of the wrong type raises :class:`~workbench.errors.SchemaMismatchError`.
    * NumPy arrays must be numeric; their columns are named ``x0, x1, ...``.
    * ``predict`` thresholds the probability at 0.5 (scikit-learn's contract);
      with rare positives use the score ranking instead.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"gprs_mb": rng.gamma(2, 50, 400), "brand": rng.choice(["gotone", "mzone"], 400)})
    >>> y = (X["gprs_mb"] + rng.normal(0, 40, 400) > 150).astype(int)
    >>> model = TargetModel(n_jobs=1).fit(X, y)
    >>> model.predict_proba(X).shape
    (400, 2)
    """

    def __init__(self, *, learning_rate=None, num_leaves=None, min_child_samples=None, reg_lambda=None,
                 colsample=None, subsample=None, early_stopping_rounds=None, max_rounds=5000,
                 validation="auto", validation_fraction=0.1, n_folds=5, fallback_rounds=100,
                 scale_pos_weight=1.0, max_levels=1000, lgb_params=None, random_state=0, select="auto",
                 n_jobs=None, progress=False):
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.colsample = colsample
        self.subsample = subsample
        self.early_stopping_rounds = early_stopping_rounds
        self.max_rounds = max_rounds
        self.validation = validation
        self.validation_fraction = validation_fraction
        self.n_folds = n_folds
        self.fallback_rounds = fallback_rounds
        self.scale_pos_weight = scale_pos_weight
        self.max_levels = max_levels
        self.lgb_params = lgb_params
        self.random_state = random_state
        self.select = select
        self.n_jobs = n_jobs
        self.progress = progress

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.classifier_tags.multi_class = False
        return tags

    # ------------------------------------------------------------ input handling
    def _frame(self, X, *, fitting: bool) -> pd.DataFrame:
        """``X`` as a DataFrame whose columns are the feature names."""
        if isinstance(X, pd.DataFrame):
            if fitting:
                validate_data(self, X, reset=True, skip_check_array=True)
            if all(isinstance(c, str) for c in X.columns):
                return X
            if not fitting and X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
            return X.set_axis([f"x{i}" for i in range(X.shape[1])], axis=1)
        if fitting:
            X = validate_data(self, X, reset=True, dtype="numeric", ensure_all_finite="allow-nan")
        else:
            check_is_fitted(self, "features_")  # set early in fit, so an eval_set array is read too
            if any(f.kind == CATEGORICAL for f in self.features_):
                raise ParameterError(
                    "This model has categorical features "
                    f"{[f.name for f in self.features_ if f.kind == CATEGORICAL]}; pass a pandas DataFrame, "
                    "not an array."
                )
            X = validate_data(self, X, reset=False, dtype="numeric", ensure_all_finite="allow-nan")
        X = np.asarray(X, dtype=np.float64)
        names = ([f.name for f in self.features_] if not fitting
                 else [f"x{i}" for i in range(X.shape[1])])
        return pd.DataFrame(X, columns=names)

    @staticmethod
    def _check_y(y) -> np.ndarray:
        if y is None:
            raise ValueError(
                "TargetModel requires y to be passed, but the target y is None. "
                "Pass the label (two classes; the larger one is the positive class)."
            )
        y = column_or_1d(y, warn=True)
        if pd.isna(y).any():
            raise ValueError("Input y contains NaN: every training row needs a label.")
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type not in ("binary", "multiclass"):
            raise ValueError(f"Unknown label type: {y_type!r}. TargetModel needs a binary label.")
        if y_type == "multiclass":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {y_type} "
                f"({len(np.unique(y))} classes)."
            )
        return y

    def _check_params(self) -> None:
        if self.select not in _SELECTS:
            raise ParameterError.invalid("select", f"one of {set(_SELECTS)}", self.select)
        if self.validation not in _VALIDATIONS:
            raise ParameterError.invalid("validation", f"one of {set(_VALIDATIONS)}", self.validation)
        if not (isinstance(self.validation_fraction, numbers.Real) and 0 < self.validation_fraction < 1):
            raise ParameterError.invalid("validation_fraction", "a number strictly between 0 and 1",
                                         self.validation_fraction)
        for name in ("max_rounds", "fallback_rounds", "n_folds", "max_levels"):
            value = getattr(self, name)
            low = 2 if name == "n_folds" else 1
            if not isinstance(value, numbers.Integral) or value < low:
                raise ParameterError.invalid(name, f"an integer >= {low}", value)
        if not (isinstance(self.scale_pos_weight, numbers.Real) and self.scale_pos_weight > 0):
            raise ParameterError.invalid("scale_pos_weight", "a positive number", self.scale_pos_weight)
        if self.lgb_params is not None and not isinstance(self.lgb_params, dict):
            raise ParameterError.invalid("lgb_params", "a dict or None", self.lgb_params)

    # ----------------------------------------------------------------- params
    def _resolve(self, n_rows: int, n_minority: int) -> dict:
        return lightgbm_params(self, n_rows, n_minority, 0)[0]

    def _threads(self, n_rows: int) -> int:
        if self.n_jobs:
            return int(self.n_jobs) if self.n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + int(self.n_jobs))
        return 1 if n_rows <= CV_MAX_ROWS else (os.cpu_count() or 1)

    def _lgb_params(self, p: dict, seed: int, n_rows: int) -> dict:
        return _booster_params(self, p, seed, self._threads(n_rows))

    def _dataset(self, X: np.ndarray, y: np.ndarray, cat_idx: list[int], params: dict, reference=None,
                 free_raw_data: bool = False):
        return lgb.Dataset(X, label=y, categorical_feature=cat_idx,
                           feature_name=[f"f{j}" for j in range(X.shape[1])],
                           params={k: params[k] for k in ("verbose", "min_data_per_group", "max_cat_threshold")
                                   if k in params},
                           reference=reference, free_raw_data=free_raw_data)

    # -------------------------------------------------------------------- fit
    def fit(self, X, y, *, eval_set=None):
        """Learn the model.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Features; text / category columns of a DataFrame are categorical.
        y : array-like of shape (n_samples,)
            Binary label of any type (0/1, bool, text); the larger label is the
            positive class.
        eval_set : tuple (X_val, y_val), optional
            Validation data for early stopping; when given, all of ``X`` is trained on.

        Returns
        -------
        self
        """
        self._check_params()
        X = self._frame(X, fitting=True)
        y = self._check_y(y)
        if X.shape[0] == 0:
            raise ValueError("Found array with 0 sample(s) (shape=(0, ...)) while a minimum of 1 is required.")
        if X.shape[1] == 0:
            raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        if len(y) != len(X):
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: X has {len(X)} rows, y has {len(y)}."
            )
        classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y has only 1 class ({classes[0]!r}); the classifier needs both a positive and a negative class "
                f"(n_samples = {len(y)})."
            )
        self.classes_ = classes
        self.features_ = infer_features(X, max_levels=self.max_levels)
        matrix = encode_frame(X, self.features_, table="the training table")
        y_enc = y_enc.astype(np.float64)
        cat_idx = [j for j, f in enumerate(self.features_) if f.kind == CATEGORICAL]
        rng = check_random_state(self.random_state)
        seed = int(self.random_state) if isinstance(self.random_state, numbers.Integral) else int(
            rng.randint(np.iinfo(np.int32).max))

        n_min = int(min(y_enc.sum(), len(y_enc) - y_enc.sum()))
        validation = self.validation
        if eval_set is not None:
            validation = "eval_set"
        elif validation == "auto":
            validation = "cv" if len(X) <= CV_MAX_ROWS else "holdout"
        folds = min(self.n_folds, n_min // 2) if validation == "cv" else 0
        n_val_min = math.floor(n_min * self.validation_fraction)
        if (validation == "cv" and folds < 2) or (validation == "holdout" and n_val_min < 2):
            validation = "none"
        n_train = len(X) if validation in ("cv", "none", "eval_set") else len(X) - round(
            len(X) * self.validation_fraction)
        p = self._resolve(n_train, n_min)
        params = self._lgb_params(p, seed, n_train)
        progress = _Progress(self.max_rounds, "TargetModel", bool(self.progress))
        guard = _SeparationGuard(float(y_enc.mean()))
        stop = [lgb.early_stopping(int(p["early_stopping_rounds"]), first_metric_only=True, verbose=False), guard]
        loss, config, config_losses = None, None, None
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*categorical_feature.*", category=UserWarning)
                # the holdout's subsets share the parameters of the Dataset they come from
                warnings.filterwarnings("ignore", message="Overriding the parameters from Reference Dataset",
                                        category=UserWarning)
                if validation == "cv":
                    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
                    split = list(splitter.split(matrix, y_enc))
                    configs = {"rule": p}
                    if self._selects(n_train):
                        configs = small_sample_configs(p, n_train)
                    found = {}
                    for name, cp in configs.items():
                        cparams = self._lgb_params(cp, seed, n_train)
                        dtrain = self._dataset(matrix, y_enc, cat_idx, cparams)
                        hist = lgb.cv(cparams, dtrain, num_boost_round=self.max_rounds, folds=split,
                                      callbacks=[lgb.early_stopping(int(cp["early_stopping_rounds"]),
                                                                    first_metric_only=True, verbose=False),
                                                 guard, progress],
                                      stratified=False, seed=seed)
                        curve = hist["valid binary_logloss-mean"]
                        best = int(np.argmin(curve)) + 1
                        found[name] = (float(curve[best - 1]), best, cp, cparams, dtrain)
                    config = min(found, key=lambda k: found[k][0])
                    loss, rounds, p, params, dtrain = found[config][:5]
                    if len(found) > 1:
                        config_losses = {k: v[0] for k, v in found.items()}
                    progress.close()
                    progress = _Progress(rounds, "TargetModel (final)", bool(self.progress))
                    booster = lgb.train(params, dtrain, num_boost_round=rounds, callbacks=[progress])
                elif validation in ("holdout", "eval_set"):
                    if validation == "holdout":
                        # one Dataset of every row, binned once; the two parts are subsets of its binned
                        # data (no copy of the raw matrix: ~1 GB for a million rows x 115 inputs)
                        idx_tr, idx_val = train_test_split(np.arange(len(X)), test_size=self.validation_fraction,
                                                           stratify=y_enc, random_state=seed)
                        full = self._dataset(matrix, y_enc, cat_idx, params, free_raw_data=True)
                        dtrain, dval = full.subset(np.sort(idx_tr)), full.subset(np.sort(idx_val))
                    else:
                        X_val, yv = eval_set
                        yv = column_or_1d(yv)
                        uniq = np.unique(yv)
                        unknown = uniq[~np.isin(uniq, classes)].tolist()
                        if unknown:
                            raise ParameterError(f"eval_set labels {unknown} are not among the training "
                                                 f"classes {classes.tolist()}.")
                        m_tr, y_tr = matrix, y_enc
                        m_val = encode_frame(self._frame(X_val, fitting=False), self.features_,
                                             table="the eval_set table")
                        y_val = np.searchsorted(classes, yv).astype(np.float64)
                        dtrain = self._dataset(m_tr, y_tr, cat_idx, params)
                        dval = self._dataset(m_val, y_val, cat_idx, params, reference=dtrain)
                    evals: dict = {}
                    booster = lgb.train(params, dtrain, num_boost_round=self.max_rounds, valid_sets=[dval],
                                        valid_names=["valid"],
                                        callbacks=[*stop, progress, lgb.record_evaluation(evals)])
                    rounds = int(booster.best_iteration) or booster.current_iteration()
                    loss = float(evals["valid"]["binary_logloss"][rounds - 1])
                else:
                    rounds = int(self.fallback_rounds)
                    dtrain = self._dataset(matrix, y_enc, cat_idx, params)
                    booster = lgb.train(params, dtrain, num_boost_round=rounds, callbacks=[progress])
        finally:
            progress.close()
        booster.free_dataset()
        self.booster_ = booster
        self.best_iteration_ = int(rounds)
        self.params_ = {
            "objective": "binary",
            **{k: v for k, v in p.items()},
            "validation": validation,
            "n_folds": folds if validation == "cv" else None,
            "validation_fraction": self.validation_fraction if validation == "holdout" else None,
            "n_rows": int(len(X)),
            "n_train_rows": int(n_train),
            "n_minority": n_min,
            "best_iteration": int(rounds),
            "validation_loss": loss,
            "separation_stop": guard.triggered,
            "seed": seed,
            "lgb_params": dict(self.lgb_params or {}),
            "config": config,
            "config_losses": config_losses,
        }
        return self

    def _selects(self, n_train: int) -> bool:
        """Whether :func:`small_sample_configs` are tried: ``select="auto"``, a small sample, no tree
        parameter fixed by the caller."""
        fixed = any(getattr(self, k) is not None for k in EXPLICIT_PARAMS if k != "early_stopping_rounds")
        return self.select == "auto" and n_train <= SMALL_SAMPLE_ROWS and not fixed and not self.lgb_params

    # ---------------------------------------------------------------- predict
    def _matrix(self, X, *, strict: bool = False) -> np.ndarray:
        check_is_fitted(self, "booster_")
        frame = self._frame(X, fitting=False)
        return encode_frame(frame, self.features_, strict=strict)

    def _booster_predict(self, m: np.ndarray, **kwargs) -> np.ndarray:
        """The booster's prediction for an encoded matrix (threads as ``n_jobs``, by the matrix's rows;
        SHAP contributions cost ~100 times a prediction, so they use all cores above 500 rows)."""
        rows = len(m) * (100 if kwargs.get("pred_contrib") else 1)
        return self.booster_.predict(m, num_iteration=self.best_iteration_, num_threads=self._threads(rows),
                                     **kwargs)

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of the positive class, shape (n_samples,)."""
        m = self._matrix(X)
        if m.shape[0] == 0:
            return np.empty(0)
        return self._booster_predict(m, raw_score=True)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, 2); column 1 is ``classes_[1]``."""
        m = self._matrix(X)
        if m.shape[0] == 0:
            return np.empty((0, 2))
        p = self._booster_predict(m)
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """Predicted class: ``classes_[1]`` when its probability exceeds 0.5."""
        positive = self.predict_proba(X)[:, 1] > 0.5
        return self.classes_[positive.astype(int)]

    def encode(self, X, *, strict: bool = False) -> np.ndarray:
        """The numeric matrix the booster reads (category codes, NaN for missing / unseen)."""
        return self._matrix(X, strict=strict)

    @property
    def feature_names_(self) -> list[str]:
        """Names of the model's input columns, in model order."""
        check_is_fitted(self, "features_")
        return [f.name for f in self.features_]

    def _set_fitted(self, *, booster: lgb.Booster, features: list[FeatureSpec], classes, best_iteration: int,
                    params: dict, named: bool = True) -> "TargetModel":
        """Restore a fitted state (used by :func:`workbench.models.registry.load_model`)."""
        self.booster_ = booster
        self.features_ = list(features)
        self.classes_ = np.asarray(classes)
        self.best_iteration_ = int(best_iteration)
        self.params_ = dict(params)
        self.n_features_in_ = len(self.features_)
        if named:
            self.feature_names_in_ = np.asarray([f.name for f in self.features_], dtype=object)
        return self


#: Hyper-parameters a :class:`TargetModel` may fix explicitly (``None`` = adapt to the data size).
EXPLICIT_PARAMS: tuple[str, ...] = ("learning_rate", "num_leaves", "min_child_samples", "reg_lambda", "colsample",
                                    "subsample", "early_stopping_rounds")


def lightgbm_params(model: "TargetModel", n_rows: int, n_minority: int, seed: int, *,
                    num_threads: int | None = None) -> tuple[dict, dict]:
    """The resolved hyper-parameters and the LightGBM parameters ``model`` trains with on this sample size.

    The one mapping from :class:`TargetModel`'s settings to LightGBM's, used by
    :meth:`TargetModel.fit` and by the Dask path (:mod:`workbench.scale.train`).

    Parameters
    ----------
    model : TargetModel
        Its explicit hyper-parameters (:data:`EXPLICIT_PARAMS`) override the adaptive ones, its
        ``scale_pos_weight`` and ``lgb_params`` are applied.
    n_rows, n_minority : int
        Training rows and rows of the rarer class.
    seed : int
        Seed of LightGBM's sampling.
    num_threads : int, optional
        LightGBM threads; ``None`` leaves them out (e.g. each Dask worker uses its own).

    Returns
    -------
    resolved : dict
        :func:`resolve_params` with the explicit values applied and ``scale_pos_weight``.
    params : dict
        LightGBM parameters.
    """
    resolved = resolve_params(n_rows, n_minority)
    for key in EXPLICIT_PARAMS:
        value = getattr(model, key)
        if value is not None:
            resolved[key] = value
    resolved["scale_pos_weight"] = float(model.scale_pos_weight)
    return resolved, _booster_params(model, resolved, seed, num_threads)


def _booster_params(model: "TargetModel", p: dict, seed: int, num_threads: int | None) -> dict:
    params = {
        "objective": "binary",
        "metric": "binary_logloss",
        "learning_rate": p["learning_rate"],
        "num_leaves": int(p["num_leaves"]),
        "min_child_samples": int(p["min_child_samples"]),
        "reg_lambda": float(p["reg_lambda"]),
        "feature_fraction": float(p["colsample"]),
        "bagging_fraction": float(p["subsample"]),
        "bagging_freq": 1 if p["subsample"] < 1 else 0,
        "cat_smooth": p["cat_smooth"],
        "cat_l2": p["cat_smooth"],
        "min_data_per_group": int(p["min_data_per_group"]),
        "max_cat_threshold": int(p["max_cat_threshold"]),
        "scale_pos_weight": p["scale_pos_weight"],
        "seed": int(seed),
        "deterministic": True,
        "force_col_wise": True,
        "verbose": -1,
        "feature_pre_filter": False,
    }
    if num_threads is not None:
        params["num_threads"] = int(num_threads)
    params.update(model.lgb_params or {})
    if num_threads is None:
        params.pop("num_threads", None)
    return params
