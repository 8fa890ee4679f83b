"""Two simple baselines reported beside the target model.

``LogisticBaseline``
    scikit-learn pipeline: median imputation (+ missing indicators) and
    standard scaling of numeric columns, one-hot encoding of text columns (the
    ``max_levels`` most frequent levels; rarer and unseen levels share the
    "infrequent" column, missing is its own level), then
    ``LogisticRegression(class_weight="balanced")``.  Balanced class weights
    help the solver with rare positives but inflate the probabilities: compare
    it on ranking metrics (AUC, lift), not on calibration.

``RulesBaseline``
    a depth-``max_depth`` decision tree whose leaves are readable rules
    (:mod:`workbench.models.rules`); the score of a row is the positive rate of
    its leaf.  ``rules_`` lists the leaves with their statistics on the
    training data.

Both take a DataFrame (text columns categorical, missing values allowed) and
expose ``predict_proba`` like :class:`~workbench.models.TargetModel`.  Neither
is persisted by :mod:`workbench.models.registry`: their holdout metrics are
recorded in the model's ``metrics.json`` instead.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from workbench.errors import ParameterError
from workbench.models.rules import RuleEncoder, tree_rules
from workbench.models.schema import CATEGORICAL, as_text, check_columns, infer_features

__all__ = ["LogisticBaseline", "RulesBaseline"]

_MISSING = "(missing)"


def _binary_y(y) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    if pd.isna(y).any():
        raise ParameterError("y contains missing labels; every training row needs a label.")
    classes, enc = np.unique(y, return_inverse=True)
    if len(classes) != 2:
        raise ParameterError(f"the baseline needs exactly 2 classes in y; found {len(classes)}: "
                             f"{classes.tolist()[:10]}.")
    return classes, enc


def _require_frame(X) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise ParameterError(f"the baselines take a pandas DataFrame; got {type(X).__name__}.")
    return X


class LogisticBaseline(ClassifierMixin, BaseEstimator):
    """Logistic-regression baseline (impute, one-hot, scale, balanced class weights).

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength.
    max_levels : int
        One-hot columns per text column (most frequent levels).
    max_iter : int
        Solver iterations.
    """

    def __init__(self, *, C: float = 1.0, max_levels: int = 30, max_iter: int = 500):
        self.C = C
        self.max_levels = max_levels
        self.max_iter = max_iter

    def _prep(self, X: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for f in self.features_:
            s = X[f.name]
            if f.kind == CATEGORICAL:
                out[f.name] = as_text(s).fillna(_MISSING).astype(object)
            else:
                s = pd.to_numeric(s) if pd.api.types.is_object_dtype(s.dtype) else s
                out[f.name] = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.DataFrame(out, index=X.index)

    def fit(self, X: pd.DataFrame, y):
        """Fit on a DataFrame ``X`` and binary labels ``y`` (larger label = positive)."""
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        X = _require_frame(X)
        self.classes_, y_enc = _binary_y(y)
        self.features_ = infer_features(X)
        num = [f.name for f in self.features_ if f.kind != CATEGORICAL]
        cat = [f.name for f in self.features_ if f.kind == CATEGORICAL]
        parts = []
        if num:
            parts.append(("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True,
                                                             keep_empty_features=True),
                                               StandardScaler()), num))
        if cat:
            parts.append(("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=self.max_levels,
                                               min_frequency=5, sparse_output=True), cat))
        self.pipeline_ = make_pipeline(
            ColumnTransformer(parts, sparse_threshold=0.3),
            LogisticRegression(C=self.C, class_weight="balanced", max_iter=self.max_iter),
        )
        self.pipeline_.fit(self._prep(X), y_enc)
        self.n_features_in_ = len(self.features_)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities (balanced weights: use for ranking, not calibration)."""
        check_is_fitted(self, "pipeline_")
        X = _require_frame(X)
        check_columns(X, self.features_)
        return self.pipeline_.predict_proba(self._prep(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted class at probability 0.5."""
        positive = self.predict_proba(X)[:, 1] > 0.5
        return self.classes_[positive.astype(int)]


class RulesBaseline(ClassifierMixin, BaseEstimator):
    """A shallow decision tree read as rules; the score is the leaf's positive rate.

    Parameters
    ----------
    max_depth : int
        Conditions per rule at most (depth of the tree).
    min_leaf_share : float
        Smallest leaf as a share of the training rows.
    max_levels : int
        Levels per text column the tree may name.
    random_state : int
        Seed of the tree.

    Attributes
    ----------
    rules_ : list of Rule
        One rule per leaf, in leaf order, with statistics on the training data.
    """

    def __init__(self, *, max_depth: int = 3, min_leaf_share: float = 0.02, max_levels: int = 20,
                 random_state: int = 0):
        self.max_depth = max_depth
        self.min_leaf_share = min_leaf_share
        self.max_levels = max_levels
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y):
        """Grow the tree on a DataFrame ``X`` and binary labels ``y``."""
        from sklearn.tree import DecisionTreeClassifier

        X = _require_frame(X)
        self.classes_, y_enc = _binary_y(y)
        self.features_ = infer_features(X, max_levels=self.max_levels)
        self.encoder_ = RuleEncoder(self.max_levels).fit(X)
        min_leaf = max(1, int(np.ceil(self.min_leaf_share * len(X))))
        self.tree_ = DecisionTreeClassifier(max_depth=self.max_depth, min_samples_leaf=min_leaf,
                                            criterion="entropy", random_state=self.random_state)
        self.tree_.fit(self.encoder_.transform(X), y_enc)
        self.rules_ = [rule.evaluate(X, y_enc) for _, rule in tree_rules(self.tree_, self.encoder_,
                                                                        round_thresholds=False)]
        self.n_features_in_ = len(self.features_)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Leaf positive rates as class probabilities."""
        check_is_fitted(self, "tree_")
        X = _require_frame(X)
        check_columns(X, self.features_)
        return self.tree_.predict_proba(self.encoder_.transform(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted class at probability 0.5."""
        positive = self.predict_proba(X)[:, 1] > 0.5
        return self.classes_[positive.astype(int)]
