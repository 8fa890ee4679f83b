"""Control groups: stratified exact shares, reproducible from the seed whatever the row order; universal control."""
import numpy as np
import pandas as pd
import pytest

from workbench.campaign import (
    GROUP_CONTROL, GROUP_TARGET, assign_control, control_balance, hash_uniform, score_deciles, universal_control,
)
from workbench.errors import DataValidationError, ParameterError
from workbench.viz.campaign import control_balance_figure


@pytest.fixture
def candidates():
    rng = np.random.default_rng(5)
    n = 2_000
    return pd.DataFrame({
        "subscriber_id": rng.permutation(np.arange(10_000, 10_000 + n)),
        "branch_id": rng.choice(["urumqi", "hami", "aksu"], size=n, p=[0.6, 0.3, 0.1]),
        "score": rng.beta(1, 20, size=n).round(3),  # rounded: many ties
    })


def test_hash_uniform_is_uniform_and_seeded():
    ids = np.arange(100_000)
    u = hash_uniform(ids, seed=1)
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert counts.min() > 9_500 and counts.max() < 10_500
    assert not np.array_equal(u, hash_uniform(ids, seed=2))
    assert not np.array_equal(u, hash_uniform(ids, seed=1, salt="x"))
    np.testing.assert_array_equal(u, hash_uniform(ids, seed=1))
    # text ids work and depend only on the id
    t = hash_uniform(np.array(["a", "b", "c"]), seed=1)
    assert t[0] == hash_uniform(["c", "a"], seed=1)[1]
    with pytest.raises(ParameterError, match="'seed' parameter must be an integer in \\[0, "):
        hash_uniform(ids, seed=-1)
    with pytest.raises(ParameterError, match="'ids' parameter must be ids without missing values"):
        hash_uniform(["a", None], seed=1)


def test_each_stratum_holds_out_the_rounded_share(candidates):
    out = assign_control(candidates, share=0.15, seed=42)
    assert list(out.columns) == ["subscriber_id", "branch_id", "score", "score_decile", "group"]
    assert set(out["group"]) == {GROUP_TARGET, GROUP_CONTROL}
    sizes = out.groupby(["branch_id", "score_decile"]).size()
    controls = out[out["group"] == GROUP_CONTROL].groupby(["branch_id", "score_decile"]).size()
    expected = np.floor(0.15 * sizes + 0.5).astype(int)
    pd.testing.assert_series_equal(controls.reindex(sizes.index, fill_value=0), expected, check_names=False)
    # deciles are equal-sized ranks of the score, 1 = best
    assert out["score_decile"].value_counts().sort_index().tolist() == [200] * 10
    assert out.loc[out["score_decile"] == 1, "score"].min() >= out.loc[out["score_decile"] == 2, "score"].max()


def test_same_seed_same_split_regardless_of_row_order(candidates):
    a = assign_control(candidates, share=0.1, seed=7).set_index("subscriber_id")
    shuffled = candidates.sample(frac=1.0, random_state=3).reset_index(drop=True)
    b = assign_control(shuffled, share=0.1, seed=7).set_index("subscriber_id").loc[a.index]
    pd.testing.assert_series_equal(a["group"], b["group"])
    pd.testing.assert_series_equal(a["score_decile"], b["score_decile"])
    c = assign_control(candidates, share=0.1, seed=8).set_index("subscriber_id").loc[a.index]
    assert (a["group"] != c["group"]).sum() > 50


def test_row_order_of_output_is_the_input_order(candidates):
    out = assign_control(candidates, share=0.1, seed=7)
    assert out["subscriber_id"].tolist() == candidates["subscriber_id"].tolist()
    assert out.index.equals(candidates.index)


def test_zero_share_and_tiny_strata():
    c = pd.DataFrame({"subscriber_id": [1, 2, 3], "branch_id": ["hami", "hami", "aksu"], "score": [0.3, 0.2, 0.1]})
    assert (assign_control(c, share=0.0, seed=1)["group"] == GROUP_TARGET).all()
    out = assign_control(c, share=0.5, seed=1, n_deciles=1)
    # hami stratum of 2 -> 1 control; aksu stratum of 1 -> round(0.5) = 1 (halves round up)
    controls = out["group"].eq(GROUP_CONTROL).groupby(out["branch_id"]).sum()
    assert controls.to_dict() == {"aksu": 1, "hami": 1}


def test_score_deciles_ties_broken_by_tie_break():
    bins = score_deciles([0.5, 0.5, 0.5, 0.5], tie_break=[0.4, 0.1, 0.3, 0.2], n_bins=2)
    assert bins.tolist() == [2, 1, 2, 1]
    with pytest.raises(ParameterError, match="'n_bins' parameter must be an integer >= 1"):
        score_deciles([0.1], [0.1], n_bins=0)


def test_control_balance_counts_and_means(candidates):
    out = assign_control(candidates, share=0.2, seed=1)
    bal = control_balance(out)
    assert list(bal.columns) == ["branch_id", "score_decile", "target", "control", "control_share",
                                 "score_target", "score_control"]
    assert bal["target"].sum() + bal["control"].sum() == len(candidates)
    assert bal["control_share"].between(0.1, 0.3).all()
    big = bal[(bal["branch_id"] == "urumqi") & (bal["score_decile"] == 1)].iloc[0]
    assert big["score_control"] == pytest.approx(big["score_target"], rel=0.2)


def test_control_balance_figure(candidates):
    bal = control_balance(assign_control(candidates, share=0.2, seed=1))
    fig = control_balance_figure(bal, lang="en")
    assert [d.name for d in fig.data] == ["Target", "Control", "Control share"]
    assert sum(fig.data[1].y) == bal["control"].sum()
    assert len(fig.data[0].x) == len(bal)


def test_universal_control_is_stable_per_subscriber_and_period():
    ids = np.arange(200_000)
    member = universal_control(ids, share=0.02, period_key="2026H2", seed=11)
    assert member.dtype == bool
    assert abs(member.mean() - 0.02) < 0.002
    # membership of a subscriber does not depend on who else is passed, nor on the order
    subset = ids[::7][::-1]
    np.testing.assert_array_equal(universal_control(subset, 0.02, "2026H2", 11), member[subset])
    # a new period draws a new group; a larger share contains the smaller one
    other = universal_control(ids, share=0.02, period_key="2027H1", seed=11)
    assert (member & other).sum() < 0.1 * member.sum()
    assert (member <= universal_control(ids, share=0.05, period_key="2026H2", seed=11)).all()
    with pytest.raises(ParameterError, match="'share' parameter must be a finite number in \\[0, 0.2\\]. Got 0.5"):
        universal_control(ids, share=0.5, period_key="2026H2")
    with pytest.raises(ParameterError, match="'period_key' parameter must be a non-empty string"):
        universal_control(ids, share=0.02, period_key="")


def test_errors_name_table_column_and_parameter(candidates):
    with pytest.raises(DataValidationError, match="candidates: missing column\\(s\\) \\['score'\\]"):
        assign_control(candidates.drop(columns="score"), share=0.1, seed=1)
    with pytest.raises(DataValidationError, match="candidates: column 'subscriber_id' must be unique"):
        assign_control(pd.concat([candidates, candidates.head(2)]), share=0.1, seed=1)
    with pytest.raises(DataValidationError, match="candidates: column 'score' has 1 missing value"):
        assign_control(candidates.assign(score=candidates["score"].where(candidates.index != 3)), share=0.1, seed=1)
    with pytest.raises(ParameterError, match="'share' parameter must be a finite number in \\[0, 0.9\\]. Got 1.2"):
        assign_control(candidates, share=1.2, seed=1)
    with pytest.raises(ParameterError, match="'seed' parameter must be an integer"):
        assign_control(candidates, share=0.1, seed=1.5)
    with pytest.raises(ParameterError, match="'n_deciles' parameter must be an integer >= 1. Got 0"):
        assign_control(candidates, share=0.1, seed=1, n_deciles=0)
    with pytest.raises(ParameterError, match="'assigned' parameter must be a pandas DataFrame"):
        control_balance([1, 2])
