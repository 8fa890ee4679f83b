"""The changers' extra uplift and the outcome window (workbench.triggers.evaluate)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import DataValidationError, ParameterError
from workbench.triggers import evaluate_triggers, member_outcomes


def _cells(counts, n=200):
    rows = []
    for (arm, group), k in counts.items():
        rows += [(arm, group, i < k) for i in range(n)]
    return pd.DataFrame(rows, columns=["score_band", "group", "ordered"]).assign(wave_day="2026-10-12")


def test_extra_uplift_is_the_difference_of_the_arms_uplifts():
    out = evaluate_triggers(_cells({("changer", "target"): 60, ("changer", "control"): 20,
                                    ("comparison", "target"): 30, ("comparison", "control"): 20}))
    arms = out["arms"].set_index("arm")
    assert arms.loc["changer", "uplift"] == pytest.approx(0.2)
    assert arms.loc["comparison", "uplift"] == pytest.approx(0.05)
    assert out["extra_uplift"] == pytest.approx(0.15)
    assert out["extra_low"] < 0.15 < out["extra_high"] and out["p_value"] < 0.01
    assert arms.loc["changer", "uplift_low"] < 0.2 < arms.loc["changer", "uplift_high"]


def test_no_difference_gives_a_ci_around_zero_and_missing_cells_give_none():
    out = evaluate_triggers(_cells({("changer", "target"): 30, ("changer", "control"): 30,
                                    ("comparison", "target"): 30, ("comparison", "control"): 30}))
    assert out["extra_uplift"] == pytest.approx(0) and out["extra_low"] < 0 < out["extra_high"]
    only = evaluate_triggers(_cells({("changer", "target"): 3, ("changer", "control"): 1}))
    assert np.isnan(only["extra_uplift"])


def test_outcome_counts_the_offered_product_within_the_window():
    members = pd.DataFrame({"subscriber_id": [1, 2, 3, 4], "group": "target", "score_band": "changer",
                            "edition": ["SONG", "SONG", "STOCK", "SONG"], "channel": "sms",
                            "wave_day": pd.Timestamp("2026-10-01")})
    responses = pd.DataFrame({"subscriber_id": [1, 2, 3, 4],
                              "order_date": pd.to_datetime(["2026-10-05", "2026-11-05", "2026-10-02",
                                                            "2026-09-30"]),
                              "product": ["SONG", "SONG", "SONG", "SONG"]})
    out = member_outcomes(members, responses)
    assert out["ordered"].tolist() == [True, False, False, False]   # late, other product, before the wave
    assert member_outcomes(members, responses, response_days=40)["ordered"].tolist() == [True, True, False, False]


def test_bad_input_is_named():
    with pytest.raises(DataValidationError, match="score_band"):
        evaluate_triggers(pd.DataFrame({"group": ["target"], "ordered": [True]}))
    with pytest.raises(ParameterError, match="confidence"):
        evaluate_triggers(_cells({("changer", "target"): 1}), confidence=2)
    with pytest.raises(ParameterError, match="response_days"):
        member_outcomes(pd.DataFrame(columns=["subscriber_id", "group", "score_band", "edition", "wave_day",
                                              "channel"]),
                        pd.DataFrame(columns=["subscriber_id", "order_date", "product"]), response_days=0)
