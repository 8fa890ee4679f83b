"""Uplift and Qini curves, AUUC, Qini coefficient and uplift by bin on constructed data."""
import numpy as np
import pytest

from workbench.errors import ParameterError
from workbench.metrics.uplift import (
    BIN_COLUMNS,
    CURVE_COLUMNS,
    auuc,
    perfect_qini_curve,
    perfect_uplift_curve,
    qini_coefficient,
    qini_curve,
    uplift_by_bin,
    uplift_curve,
)

# four units: a treated responder, a control non-responder, a treated non-responder, a control non-responder
SCORE = [0.9, 0.8, 0.2, 0.1]
TREAT = [1, 0, 1, 0]
OUTCOME = [1, 0, 0, 0]


def test_curves_by_hand():
    # top-n:   n=1: N_T=1 Y_T=1 N_C=0 Y_C=0 -> qini 1, uplift (1/1 - 0) * 1 = 1
    #          n=2: N_T=1 Y_T=1 N_C=1 Y_C=0 -> qini 1, uplift (1 - 0) * 2 = 2
    #          n=3: N_T=2 Y_T=1 N_C=1 Y_C=0 -> qini 1, uplift (0.5 - 0) * 3 = 1.5
    #          n=4: N_T=2 Y_T=1 N_C=2 Y_C=0 -> qini 1, uplift 0.5 * 4 = 2
    q = qini_curve(SCORE, TREAT, OUTCOME)
    u = uplift_curve(SCORE, TREAT, OUTCOME)
    assert list(q.columns) == list(CURVE_COLUMNS)
    assert q["n"].tolist() == [0, 1, 2, 3, 4]
    assert q["share"].tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert q["value"].tolist() == [0, 1, 1, 1, 1]
    assert u["value"].tolist() == [0, 1, 2, 1.5, 2]
    # area over the random line with the share on x: trapezoid 0.875 - random 0.5 = 0.375
    assert qini_coefficient(SCORE, TREAT, OUTCOME, normalize=False) == pytest.approx(0.375)


def _sklift_qini_by_loop(score, treatment, outcome):
    """scikit-uplift's Qini curve written as a plain loop over thresholds (the reference)."""
    score, treatment, outcome = map(np.asarray, (score, treatment, outcome))
    xs, ys = [0], [0.0]
    for thr in sorted(set(score.tolist()), reverse=True):
        top = score >= thr
        nt, nc = (top & (treatment == 1)).sum(), (top & (treatment == 0)).sum()
        yt, yc = outcome[top & (treatment == 1)].sum(), outcome[top & (treatment == 0)].sum()
        xs.append(int(top.sum()))
        ys.append(yt - (yc * nt / nc if nc else 0.0))
    return xs, ys


def test_qini_curve_matches_reference_definition_with_ties():
    score = [5, 3, 3, 9, 1, 3, 7, 7, 2, 5, 1, 4]
    treat = [1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0]
    outcome = [1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0]
    xs, ys = _sklift_qini_by_loop(score, treat, outcome)
    q = qini_curve(score, treat, outcome)
    assert q["n"].tolist() == xs
    assert q["value"].tolist() == pytest.approx(ys)


def _uninformative():
    # five score levels with the same make-up: 3 treated (2 respond), 2 control (1 responds).
    # After k levels: Y_T = 2k, Y_C = k, N_T = 3k, N_C = 2k -> qini = 2k - 1.5k = 0.5k, a straight line,
    # uplift = (2/3 - 1/2) * 5k, also a straight line: both equal the random line
    score, treat, outcome = [], [], []
    for level in range(5):
        score += [level] * 5
        treat += [1, 1, 1, 0, 0]
        outcome += [1, 1, 0, 1, 0]
    return np.array(score, float), np.array(treat), np.array(outcome, float)


def test_uninformative_scores_give_zero():
    s, t, y = _uninformative()
    assert qini_curve(s, t, y)["value"].tolist() == pytest.approx([0, 0.5, 1, 1.5, 2, 2.5])
    assert qini_coefficient(s, t, y) == pytest.approx(0, abs=1e-12)
    assert auuc(s, t, y) == pytest.approx(0, abs=1e-12)
    # a single score for everyone is random targeting too
    assert qini_coefficient(np.zeros(len(s)), t, y) == pytest.approx(0, abs=1e-12)


def test_perfect_ordering_gives_one_and_reverse_is_negative():
    s, t, y = _uninformative()
    # perfect order: treated responders first, control responders last
    perfect = np.where(t == 1, y, -y)
    assert qini_coefficient(perfect, t, y) == pytest.approx(1.0)
    assert qini_coefficient(-perfect, t, y) < 0
    assert auuc(perfect, t, y) > 0.5
    best = perfect_uplift_curve(t, y)
    assert best["value"].iloc[-1] == pytest.approx(uplift_curve(s, t, y)["value"].iloc[-1])


def test_perfect_qini_curve_by_hand():
    # t = [1, 1, 0, 0], y = [1, 0, 1, 0]: order treated responder, the two non-responders, control responder
    # n=1: 1 ; n=3: Y_T=1 - 0 = 1 ; n=4: 1 - 1 * 2/2 = 0
    c = perfect_qini_curve([1, 1, 0, 0], [1, 0, 1, 0])
    assert c["n"].tolist() == [0, 1, 3, 4]
    assert c["value"].tolist() == [0, 1, 1, 0]
    # without negative effects: jump to the total increment (here 1 - 1 = 0) at once
    flat = perfect_qini_curve([1, 1, 0, 0], [1, 1, 1, 0], negative_effect=False)
    # total = Y_T - Y_C * N_T / N_C = 2 - 1 = 1 reached after 1 unit
    assert flat["n"].tolist() == [0, 1, 4]
    assert flat["value"].tolist() == [0, 1, 1]


def test_numeric_outcome_curves_and_normalisation_rule():
    spend = [30.0, 0, 10, 5]
    q = qini_curve(SCORE, TREAT, spend)
    assert q["value"].iloc[-1] == pytest.approx(40 - 5 * 2 / 2)
    assert np.isfinite(auuc(SCORE, TREAT, spend, normalize=False))
    assert np.isfinite(qini_coefficient(SCORE, TREAT, spend))
    with pytest.raises(ParameterError, match="'outcome' parameter must be 0/1 values for the perfect uplift curve"):
        auuc(SCORE, TREAT, spend)


def test_uplift_by_bin_constructed():
    # top 10 by score: treated 4/5 respond, control 1/5 -> uplift 0.6; bottom 10: 1/5 vs 1/5 -> 0
    score = np.arange(20, 0, -1, dtype=float)
    treat = np.array([1, 0] * 10)
    outcome = np.array([1, 1, 1, 0, 1, 0, 1, 0, 0, 0] + [1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    b = uplift_by_bin(score, treat, outcome, bins=2)
    assert list(b.columns) == list(BIN_COLUMNS)
    assert b["n"].tolist() == [10, 10]
    assert b["rate_treated"].tolist() == pytest.approx([0.8, 0.2])
    assert b["rate_control"].tolist() == pytest.approx([0.2, 0.2])
    assert b["uplift"].tolist() == pytest.approx([0.6, 0.0])
    assert b["score_max"].tolist() == [20, 10] and b["score_min"].tolist() == [11, 1]


def test_uplift_by_bin_sizes_and_empty_groups():
    # ten units into three bins by position: 4, 3, 3 (as numpy.array_split)
    b = uplift_by_bin(np.arange(10.0), [1, 1, 1, 1, 0, 0, 0, 0, 0, 0], np.zeros(10), bins=3)
    assert b["n"].tolist() == [4, 3, 3]
    # the top bin (scores 9..6) holds only control units: no treated rate
    assert np.isnan(b.loc[0, "rate_treated"]) and np.isnan(b.loc[0, "uplift"])


def test_input_errors():
    with pytest.raises(ParameterError, match="same length"):
        qini_curve([1, 2], [1, 0, 1], [0, 1, 0])
    with pytest.raises(ParameterError, match="'score' parameter must not contain missing"):
        qini_curve([1, np.nan], [1, 0], [0, 1])
    with pytest.raises(ParameterError, match="'treatment' parameter must be booleans or 0/1"):
        uplift_curve([1, 2, 3], [0, 1, 2], [0, 1, 0])
    with pytest.raises(ParameterError, match="both treated and control units. Got 3 treated and 0 control"):
        qini_coefficient([1, 2, 3], [1, 1, 1], [0, 1, 0])
    with pytest.raises(ParameterError, match="'bins' parameter must be an integer between 1 and the number of units"):
        uplift_by_bin(SCORE, TREAT, OUTCOME, bins=5)
    with pytest.raises(ParameterError, match="'negative_effect' parameter must be True or False"):
        perfect_qini_curve(TREAT, OUTCOME, negative_effect="yes")
