"""The uplift model a campaign teaches: who is persuadable, fitted on part of its members, measured on the rest.

:func:`fit_uplift` turns a :class:`~workbench.tracking.evaluation.CampaignEvaluation`'s contacts,
responses and controls into training data (members joined to their features at the campaign
snapshot), fits an uplift model (:mod:`workbench.models.uplift`) on part of the members and measures its
Qini curve, AUUC and a bootstrap interval of the Qini coefficient on the members held out
-> :class:`UpliftResult`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.store.models import SUBSCRIBER_ID
from workbench.tracking.evaluation import CampaignEvaluation

__all__ = ["UpliftResult", "fit_uplift", "feature_table"]


@dataclass
class UpliftResult:
    """An uplift model learned from a campaign and its quality on held-out members.

    Attributes
    ----------
    method : str
        ``"two_model"`` or ``"transformed_outcome"``.
    model : estimator
        Fitted on the training members only (the curves are of the others).
    final_model : estimator
        Fitted on every member (what the next round would use).
    columns : list of str
        Its input columns.
    n_train, n_test : int
    qini, auuc : float
        Normalised Qini coefficient and AUUC on the held-out members (1 = perfect, 0 = random).
    qini_low, qini_high : float
        Percentile bootstrap interval of the Qini coefficient (resampling the held-out members).
    qini_curve, perfect_qini, uplift_curve : pandas.DataFrame
        :mod:`workbench.metrics.uplift` curves on the held-out members.
    by_bin : pandas.DataFrame
        Uplift by decile of the predicted uplift on the held-out members.
    """

    method: str
    model: object
    final_model: object
    columns: list
    n_train: int
    n_test: int
    qini: float
    auuc: float
    qini_low: float
    qini_high: float
    qini_curve: pd.DataFrame
    perfect_qini: pd.DataFrame
    uplift_curve: pd.DataFrame
    by_bin: pd.DataFrame


def feature_table(features: pd.DataFrame) -> pd.DataFrame:
    """``features`` indexed by ``subscriber_id`` (set from that column when it is one)."""
    return features.set_index(SUBSCRIBER_ID) if SUBSCRIBER_ID in features.columns else features


def _qini_interval(score, treatment, y, *, n_boot: int, alpha: float, seed: int) -> tuple[float, float]:
    """Percentile bootstrap interval of the normalised Qini coefficient."""
    from workbench.metrics.uplift import qini_coefficient

    rng = np.random.default_rng(seed)
    n = len(score)
    values = []
    for _ in range(n_boot):
        k = rng.integers(0, n, n)
        t, yy = treatment[k], y[k]
        if t.all() or not t.any() or not yy[t].any() or not yy[~t].any():
            continue
        q = qini_coefficient(score[k], t, yy)
        if np.isfinite(q):
            values.append(q)
    if len(values) < max(10, n_boot // 2):
        return float("nan"), float("nan")
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def fit_uplift(evaluation: CampaignEvaluation, features: pd.DataFrame | None = None, *, method: str = "two_model",
               feature_columns: Sequence[str] | None = None, outcome: str = "responded", test_size: float = 0.3,
               bins: int = 10, seed: int = 0, refit: bool = True, n_boot: int = 100, alpha: float = 0.05,
               on_error: str = "raise", **params) -> UpliftResult | None:
    """Learn who is persuadable from a campaign: fit on part of the members, measure on the rest.

    Parameters
    ----------
    evaluation : CampaignEvaluation
        The campaign's members, groups and attributed responses.
    features : pandas.DataFrame, optional
        Features at the campaign snapshot (indexed by ``subscriber_id``; default
        the evaluation's); the members' look-alike ``score`` is added as a feature.
    method : {"two_model", "transformed_outcome"}
    feature_columns : sequence of str, optional
        Feature columns used (default all).
    outcome : str, default "responded"
    test_size : float, default 0.3
        Share of members held out (stratified by group and outcome).
    bins : int, default 10
    seed : int, default 0
    refit : bool, default True
        Also fit :attr:`UpliftResult.final_model` on every member (otherwise it
        is the training model).
    n_boot : int, default 100
        Bootstrap resamples of the held-out members for the Qini interval.
    alpha : float, default 0.05
        ``1 - alpha`` is the coverage of the Qini interval.
    on_error : {"raise", "none"}, default "raise"
        With ``"none"`` a campaign too small to learn from (a group without
        responders in the training part, too few rows) gives None instead of
        an error, so a report can say so.
    **params
        Passed to the estimator (e.g. ``n_jobs=1``).

    Returns
    -------
    UpliftResult or None

    Raises
    ------
    ParameterError
        An unknown method or ``on_error``, missing features, or (with
        ``on_error="raise"``) too few members or responders.
    """
    from workbench.metrics.uplift import auuc, perfect_qini_curve, qini_coefficient, qini_curve, uplift_by_bin, \
        uplift_curve
    from workbench.models.uplift import UPLIFT_METHODS, make_uplift_model, uplift_training_data

    if on_error not in ("raise", "none"):
        raise ParameterError.invalid("on_error", "'raise' or 'none'", on_error)
    if method not in UPLIFT_METHODS:
        raise ParameterError.invalid("method", f"one of {list(UPLIFT_METHODS)}", method)
    features = evaluation.features if features is None else features
    if features is None:
        raise ParameterError("fit_uplift needs the features of the campaign snapshot: pass features= or evaluate "
                             "with them (evaluate_campaign(features=...)).")
    data = uplift_training_data(evaluation.members, feature_table(features), outcome=outcome,
                                feature_columns=feature_columns)
    try:
        train, test = data.split(test_size=test_size, random_state=seed)
        model = make_uplift_model(method, random_state=seed, **params).fit(train.X, train.y, train.treatment)
        final = make_uplift_model(method, random_state=seed, **params).fit(data.X, data.y, data.treatment) \
            if refit else model
        score = model.predict(test.X)
        qini = qini_coefficient(score, test.treatment, test.y)
        curves = (qini_curve(score, test.treatment, test.y), perfect_qini_curve(test.treatment, test.y),
                  uplift_curve(score, test.treatment, test.y))
    except ParameterError:
        if on_error == "none":
            return None
        raise
    lo, hi = _qini_interval(score, test.treatment, test.y, n_boot=n_boot, alpha=alpha, seed=seed)
    return UpliftResult(
        method=method, model=model, final_model=final, columns=list(data.X.columns), n_train=len(train),
        n_test=len(test), qini=qini, auuc=auuc(score, test.treatment, test.y), qini_low=lo, qini_high=hi,
        qini_curve=curves[0], perfect_qini=curves[1], uplift_curve=curves[2],
        by_bin=uplift_by_bin(score, test.treatment, test.y, bins=min(bins, len(test))),
    )
