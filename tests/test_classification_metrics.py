"""Classification metrics against values worked out by hand, and against scikit-learn / SciPy."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve

from workbench.errors import ParameterError
from workbench.metrics.classification import (
    auc, brier_score, calibration_table, evaluate_classifier, gains_by_percentile, gains_table, ks_statistic,
    lift_at, pr_auc, roc_points,
)

# Ten rows, no ties, 4 positives / 6 negatives (base rate 0.4), sorted by score:
#   score 0.95 0.90 0.80 0.70 0.60 0.50 0.40 0.30 0.20 0.10
#   y        1    0    1    1    0    0    1    0    0    0
SCORE = np.array([0.95, 0.90, 0.80, 0.70, 0.60, 0.50, 0.40, 0.30, 0.20, 0.10])
Y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 0])
# rows deliberately not in score order: results must not depend on row order
PERM = np.array([3, 9, 0, 6, 1, 8, 2, 5, 7, 4])


def test_auc_by_hand():
    # negatives scored below each positive: 0.95 -> 6, 0.80 -> 5, 0.70 -> 5, 0.40 -> 3; 19 of 4 * 6 pairs
    assert auc(Y, SCORE) == pytest.approx(19 / 24)
    assert auc(Y[PERM], SCORE[PERM]) == pytest.approx(19 / 24)


def test_pr_auc_by_hand():
    # precision at each positive, in rank order: 1/1, 2/3, 3/4, 4/7; each adds recall 1/4
    assert pr_auc(Y, SCORE) == pytest.approx((1 + 2 / 3 + 3 / 4 + 4 / 7) / 4)


def test_ks_by_hand():
    # TPR - FPR flagging score >= t: t=0.95 .25, 0.90 .25-1/6, 0.80 .5-1/6, 0.70 .75-1/6 = 7/12 (max), 0.60 .75-2/6
    ks, threshold = ks_statistic(Y[PERM], SCORE[PERM])
    assert ks == pytest.approx(7 / 12)
    assert threshold == 0.70


def test_gains_table_by_hand():
    g = gains_table(Y[PERM], SCORE[PERM], n_bins=5)
    # bins of 2 rows: (0.95 y1, 0.90 y0) (0.80 y1, 0.70 y1) (0.60, 0.50) (0.40 y1, 0.30) (0.20, 0.10)
    assert g["size"].tolist() == [2, 2, 2, 2, 2]
    assert g["positives"].tolist() == [1, 2, 0, 1, 0]
    assert g["rate"].tolist() == [0.5, 1.0, 0.0, 0.5, 0.0]
    assert g["lift"].to_numpy() == pytest.approx([1.25, 2.5, 0.0, 1.25, 0.0])  # rate / 0.4
    assert g["cum_capture"].to_numpy() == pytest.approx([0.25, 0.75, 0.75, 1.0, 1.0])
    # cumulative rate 1/2, 3/4, 3/6, 4/8, 4/10 over base 0.4
    assert g["cum_lift"].to_numpy() == pytest.approx([1.25, 1.875, 1.25, 1.25, 1.0])
    assert g["cum_share"].to_numpy() == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert g["max_score"].tolist() == [0.95, 0.80, 0.60, 0.40, 0.20]
    assert g["min_score"].tolist() == [0.90, 0.70, 0.50, 0.30, 0.10]


def test_lift_at_count_and_share_by_hand():
    # top 3: 0.95 (1), 0.90 (0), 0.80 (1) -> 2 positives, rate 2/3, lift (2/3) / 0.4, capture 2/4
    for size in (3, 0.3):
        r = lift_at(Y[PERM], SCORE[PERM], size)
        assert r["list_size"] == 3 and r["positives"] == 2
        assert r["rate"] == pytest.approx(2 / 3)
        assert r["lift"] == pytest.approx(5 / 3)
        assert r["capture"] == pytest.approx(0.5)


def test_brier_by_hand():
    # squared errors .0025 .81 .04 .09 .36 .25 .36 .09 .04 .01 sum to 2.0525
    assert brier_score(Y, SCORE) == pytest.approx(0.20525)


def test_calibration_tables_by_hand():
    q = calibration_table(Y, SCORE, n_bins=2)
    # top half: mean of .95 .9 .8 .7 .6 = .79, 3 of 5 positive; bottom half: mean .3, 1 of 5
    assert q["mean_score"].to_numpy() == pytest.approx([0.79, 0.30])
    assert q["observed_rate"].to_numpy() == pytest.approx([0.6, 0.2])
    u = calibration_table(Y, SCORE, n_bins=2, strategy="uniform")
    # [0, .5): .4 .3 .2 .1 -> mean .25, 1 of 4; [.5, 1]: .95 .9 .8 .7 .6 .5 -> mean 4.45 / 6, 3 of 6
    assert u["size"].tolist() == [4, 6]
    assert u["mean_score"].to_numpy() == pytest.approx([0.25, 4.45 / 6])
    assert u["observed_rate"].to_numpy() == pytest.approx([0.25, 0.5])


# Ties: score 0.9 (y1) | 0.5 0.5 0.5 (y 1 0 0) | 0.1 0.1 (y 0 1); 3 positives of 6, base 0.5
TIE_SCORE = np.array([0.9, 0.5, 0.5, 0.5, 0.1, 0.1])
TIE_Y = np.array([1, 1, 0, 0, 0, 1])


def test_ties_share_positives_pro_rata_whatever_the_row_order():
    # halves of 3 rows: the top half takes 0.9 and 2 of the 3 tied 0.5 rows (1 positive among 3):
    # 1 + 2 * (1/3) expected positives; the bottom half 1/3 + 1.
    g = gains_table(TIE_Y, TIE_SCORE, n_bins=2)
    assert g["positives"].to_numpy() == pytest.approx([5 / 3, 4 / 3])
    for seed in range(5):
        p = np.random.default_rng(seed).permutation(6)
        pd.testing.assert_frame_equal(gains_table(TIE_Y[p], TIE_SCORE[p], n_bins=2), g)
    # top 2: 0.9 and one of three tied rows -> 1 + 1/3 positives
    r = lift_at(TIE_Y, TIE_SCORE, 2)
    assert r["positives"] == pytest.approx(4 / 3)
    assert r["lift"] == pytest.approx((4 / 3) / 2 / 0.5)
    assert r["capture"] == pytest.approx(4 / 9)


def test_auc_with_ties_by_hand_and_as_sklearn():
    # positive 0.9 beats 3 negatives; 0.5 beats one (0.1) and ties two (2 * 0.5); 0.1 ties one (0.5): 5.5 / 9
    assert auc(TIE_Y, TIE_SCORE) == pytest.approx(5.5 / 9)
    assert auc(TIE_Y, TIE_SCORE) == pytest.approx(roc_auc_score(TIE_Y, TIE_SCORE))


def test_against_sklearn_and_scipy_on_random_scores_with_ties():
    rng = np.random.default_rng(42)
    y = (rng.random(2000) < 0.08).astype(int)
    s = np.round(rng.random(2000) * 0.6 + 0.3 * y, 2)  # rounding creates many ties
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert pr_auc(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert brier_score(y, s) == pytest.approx(brier_score_loss(y, s), abs=1e-12)
    assert ks_statistic(y, s)[0] == pytest.approx(ks_2samp(s[y == 1], s[y == 0]).statistic, abs=1e-12)
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    roc = roc_points(y, s)
    np.testing.assert_allclose(roc["fpr"], fpr)
    np.testing.assert_allclose(roc["tpr"], tpr)
    g = gains_by_percentile(y, s)
    assert len(g) == 100 and g["size"].sum() == 2000
    assert g["positives"].sum() == pytest.approx(y.sum())
    assert g["cum_capture"].iloc[-1] == pytest.approx(1.0)


def test_evaluate_classifier_collects_everything():
    r = evaluate_classifier(Y, SCORE, list_size=3, n_bins=5)
    assert r["n"] == 10 and r["positives"] == 4 and r["base_rate"] == 0.4
    assert r["auc"] == pytest.approx(19 / 24) and r["ks"] == pytest.approx(7 / 12)
    assert r["at_list"]["lift"] == pytest.approx(5 / 3)
    assert list(r["gains"]["positives"]) == [1, 2, 0, 1, 0]
    assert len(r["calibration"]) == 5


def test_documented_errors():
    with pytest.raises(ParameterError, match="same length; got 3 labels and 2 scores"):
        auc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ParameterError, match="score contains 1 missing value"):
        auc([0, 1], [0.1, np.nan])
    with pytest.raises(ParameterError, match=r"y must hold 0/1 or boolean labels; found \['no', 'yes'\]"):
        auc(["yes", "no"], [0.1, 0.2])
    with pytest.raises(ParameterError, match="y holds only one class"):
        ks_statistic([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ParameterError, match="y contains 1 missing label"):
        pr_auc(np.array([1, np.nan, 0]), [0.1, 0.2, 0.3])
    with pytest.raises(ParameterError, match="'list_size' parameter must be a count between 1 and 10 rows"):
        lift_at(Y, SCORE, 11)
    with pytest.raises(ParameterError, match="'list_size' parameter must be a count between 1 and 10 rows"):
        lift_at(Y, SCORE, 1.5)
    with pytest.raises(ParameterError, match=r"n_bins \(20\) exceeds the number of rows \(10\)"):
        gains_table(Y, SCORE, n_bins=20)
    with pytest.raises(ParameterError, match="'strategy' parameter must be one of"):
        calibration_table(Y, SCORE, strategy="kmeans")
    with pytest.raises(ParameterError, match="needs probabilities in"):
        calibration_table(Y, SCORE * 2, strategy="uniform")
    with pytest.raises(ParameterError, match="empty"):
        brier_score([], [])
