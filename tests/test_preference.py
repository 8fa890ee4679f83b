"""Content-preference model: smoothing, learned strength, held-out evaluation, edition matching, figures."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from workbench.data.tables import CONTENT_CATEGORIES
from workbench.errors import DataValidationError, ParameterError
from workbench.models.preference import (
    PREFERENCE_PREFIX, PreferenceModel, content_counts, counts_from_features, edition_agreement, edition_catalogue,
    evaluate_counts, evaluate_preference, match_editions, preference_features, subscriber_groups, truth_correlation,
)
from workbench.viz.preference import (
    content_mix_figure, edition_figure, preference_evaluation_figure, truth_correlation_figure,
)

NS = ["news", "sports"]


# ------------------------------------------------------------------ smoothing
def test_smoothing_toward_the_province_mix_by_hand():
    counts = pd.DataFrame({"news": [9, 0, 1], "sports": [1, 0, 0]}, index=[10, 20, 30])
    model = PreferenceModel(strength=2.0, categories=NS).fit(counts)
    # province mix: 10 news and 1 sports item in all -> (10/11, 1/11)
    assert model.province_mix_.tolist() == pytest.approx([10 / 11, 1 / 11])
    pref = model.transform(counts)
    # user 10: (9 + 2 x 10/11) / (10 + 2), (1 + 2 x 1/11) / 12
    assert pref.loc[10].tolist() == pytest.approx([(9 + 20 / 11) / 12, (1 + 2 / 11) / 12])
    # user 20 consumed nothing: the prior mix itself
    assert pref.loc[20].tolist() == pytest.approx([10 / 11, 1 / 11])
    # user 30: a single news item is pulled toward the mix, not read as 100 % news
    assert pref.loc[30].tolist() == pytest.approx([(1 + 20 / 11) / 3, (2 / 11) / 3])
    assert pref.sum(axis=1).tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert model.predict(counts).tolist() == ["news", "news", "news"]


def test_strength_zero_gives_raw_shares_and_the_mix_for_empty_users():
    counts = pd.DataFrame({"news": [3, 0], "sports": [1, 0]})
    pref = PreferenceModel(strength=0, categories=NS).fit(counts).transform(counts)
    assert pref.loc[0].tolist() == pytest.approx([0.75, 0.25])
    assert pref.loc[1].tolist() == pytest.approx([0.75, 0.25])


def test_branch_prior_uses_each_group_mix_and_the_province_for_unknown_groups():
    counts = pd.DataFrame({"news": [4, 0, 0, 1], "sports": [0, 4, 0, 0]}, index=[1, 2, 3, 4])
    groups = pd.Series(["a", "b", "a", "c"], index=[1, 2, 3, 4])
    model = PreferenceModel(strength=1.0, prior="branch", categories=NS).fit(counts, groups)
    # group a: 4 news (user 1) + nothing (user 3) -> (1, 0); group b: (0, 1); group c: 1 news -> (1, 0)
    assert model.group_mix_.loc["a"].tolist() == [1.0, 0.0]
    assert model.group_mix_.loc["b"].tolist() == [0.0, 1.0]
    new = pd.DataFrame({"news": [0, 0], "sports": [0, 0]}, index=[7, 8])
    pref = model.transform(new, pd.Series(["b", "zzz"], index=[7, 8]))
    assert pref.loc[7].tolist() == [0.0, 1.0]                        # group b's mix
    assert pref.loc[8].tolist() == pytest.approx([5 / 9, 4 / 9])     # unknown group: province (5 news, 4 sports)


def _dm_loglik(n: np.ndarray, m: np.ndarray, s: float) -> float:
    from scipy.special import gammaln

    total = n.sum(axis=1)
    return float((gammaln(s) - gammaln(total + s) + (gammaln(n + s * m) - gammaln(s * m)).sum(axis=1)).sum())


def test_learned_strength_is_the_dirichlet_multinomial_maximum_likelihood():
    from scipy.optimize import minimize_scalar

    rng = np.random.default_rng(3)
    prefs = rng.dirichlet([2.0, 1.0, 1.0], size=400)
    n = np.vstack([rng.multinomial(rng.integers(1, 30), p) for p in prefs])
    counts = pd.DataFrame(n, columns=["a", "b", "c"])
    model = PreferenceModel(categories=["a", "b", "c"]).fit(counts)
    m = model.province_mix_.to_numpy()[None, :].repeat(len(n), axis=0)
    best = minimize_scalar(lambda x: -_dm_loglik(n, m, math.exp(x)), bounds=(-5, 10), method="bounded",
                           options={"xatol": 1e-8})
    assert model.strength_ == pytest.approx(math.exp(best.x), rel=1e-3)
    # the Dirichlet(2, 1, 1) draws have precision 4: the estimate is of that order
    assert 2 < model.strength_ < 8


def test_learned_strength_is_large_when_users_do_not_differ_and_small_when_they_do():
    rng = np.random.default_rng(0)
    alike = pd.DataFrame(rng.multinomial(20, [0.5, 0.5], size=500), columns=NS)
    apart = pd.DataFrame({"news": [20, 0] * 250, "sports": [0, 20] * 250})
    s_alike = PreferenceModel(categories=NS).fit(alike).strength_
    s_apart = PreferenceModel(categories=NS).fit(apart).strength_
    assert s_alike > 100 * s_apart
    assert s_apart < 0.1


def test_preference_model_to_dict_round_trip():
    counts = pd.DataFrame({"news": [4, 0, 2], "sports": [1, 3, 0]}, index=[1, 2, 3])
    groups = pd.Series(["a", "b", "a"], index=[1, 2, 3])
    model = PreferenceModel(prior="branch", categories=NS).fit(counts, groups)
    again = PreferenceModel.from_dict(model.to_dict())
    pd.testing.assert_frame_equal(model.transform(counts, groups), again.transform(counts, groups), check_exact=True)
    with pytest.raises(ParameterError, match="not a saved preference model"):
        PreferenceModel.from_dict({"categories": NS})


def test_preference_model_errors():
    counts = pd.DataFrame({"news": [1, 2], "sports": [0, 1]})
    with pytest.raises(ParameterError, match="'prior' parameter must be one of"):
        PreferenceModel(prior="country", categories=NS).fit(counts)
    with pytest.raises(ParameterError, match="'strength' parameter must be a number >= 0 or 'auto'"):
        PreferenceModel(strength=-1, categories=NS).fit(counts)
    with pytest.raises(ParameterError, match="prior='branch' needs groups"):
        PreferenceModel(prior="branch", categories=NS).fit(counts)
    with pytest.raises(DataValidationError, match=r"lacks the content category column\(s\) \['games'\]"):
        PreferenceModel(categories=["news", "games"]).fit(counts)
    with pytest.raises(DataValidationError, match="missing or negative count"):
        PreferenceModel(categories=NS).fit(pd.DataFrame({"news": [1, -2], "sports": [0, 1]}))
    with pytest.raises(DataValidationError, match="no user consumed any content"):
        PreferenceModel(categories=NS).fit(pd.DataFrame({"news": [0, 0], "sports": [0, 0]}))


# ------------------------------------------------------------------ evaluation
def test_evaluation_on_a_hand_computed_example():
    fit = pd.DataFrame({"news": [3, 0], "sports": [1, 1]}, index=[1, 2])
    test = pd.DataFrame({"news": [0, 0, 0], "sports": [2, 1, 0]}, index=[1, 2, 3])   # user 3: nothing, not evaluated
    ev = evaluate_counts(fit, test, strength=1.0, k=2, sparse_items=3, categories=NS)
    # mix (3, 2)/5; user 1: (3.6/5, 1.4/5) -> news first, but the test month is all sports: a miss;
    # NDCG: order [news, sports], gains [0, 2] -> 2/log2(3) over the ideal 2/log2(2)
    # user 2: (0.6/2, 1.4/2) -> sports: a hit, NDCG 1; popularity ranks news first for both
    ndcg_miss = 1 / math.log2(3)
    assert ev.value("model", "users") == 2
    assert ev.value("model", "top1") == pytest.approx(0.5)
    assert ev.value("model", "ndcg") == pytest.approx((ndcg_miss + 1) / 2)
    assert ev.value("popularity", "top1") == pytest.approx(0.0)
    assert ev.value("popularity", "ndcg") == pytest.approx(ndcg_miss)
    assert ev.value("raw", "top1") == pytest.approx(0.5)
    # cross-entropy per item: user 1 -ln(1.4/5), user 2 -ln(1.4/2)
    assert ev.value("model", "loss") == pytest.approx((-math.log(0.28) - math.log(0.7)) / 2)
    # sparse users (fewer than 3 items before): user 2 only
    assert ev.value("model", "users", "sparse") == 1
    assert ev.value("model", "top1", "sparse") == pytest.approx(1.0)
    assert ev.strength == 1.0
    with pytest.raises(ParameterError, match="no 'accuracy' for method 'model'"):
        ev.value("model", "accuracy")


def test_a_tie_in_the_held_out_month_counts_any_of_the_tied_categories():
    fit = pd.DataFrame({"news": [0], "sports": [5]})
    test = pd.DataFrame({"news": [1], "sports": [1]})
    ev = evaluate_counts(fit, test, strength=1.0, k=1, categories=NS)
    assert ev.value("model", "top1") == 1.0
    assert ev.value("popularity", "top1") == 1.0


def test_smoothing_beats_raw_shares_on_the_loss_of_sparse_users():
    rng = np.random.default_rng(5)
    prefs = rng.dirichlet([3.0, 2.0, 2.0, 1.0], size=3000)
    cats = ["a", "b", "c", "d"]
    fit = pd.DataFrame(np.vstack([rng.multinomial(rng.integers(0, 6), p) for p in prefs]), columns=cats)
    test = pd.DataFrame(np.vstack([rng.multinomial(8, p) for p in prefs]), columns=cats)
    ev = evaluate_counts(fit, test, categories=cats)
    assert ev.value("model", "loss", "sparse") < ev.value("raw", "loss", "sparse")
    assert ev.value("model", "loss", "sparse") < ev.value("popularity", "loss", "sparse")
    assert ev.value("model", "top1") > ev.value("popularity", "top1")


# ------------------------------------------------------------------ data
@pytest.fixture
def province() -> dict:
    subs = pd.DataFrame({"subscriber_id": [1, 2, 3, 4], "branch_id": ["urumqi", "hami", "hami", "urumqi"],
                         "join_date": pd.to_datetime(["2020-01-01", "2020-01-01", "2026-09-15", "2026-11-02"])})
    cats = {f"content_{c}": [0] * 5 for c in CONTENT_CATEGORIES}
    usage = pd.DataFrame({"subscriber_id": [1, 1, 1, 2, 3],
                          "month": pd.to_datetime(["2026-08-01", "2026-09-01", "2026-10-01", "2026-10-01",
                                                   "2026-10-01"]), **cats})
    usage["content_news"] = [5, 2, 1, 0, 0]
    usage["content_sports"] = [0, 1, 4, 3, 0]
    products = pd.DataFrame({"product_id": ["MN_NEWS", "MN_SPORTS", "RBT"],
                             "family": ["mobile_newspaper", "mobile_newspaper", "ringback_tone"],
                             "edition": ["news", "sports", None], "content_category": ["news", "sports", "music"],
                             "free_months": [1, 1, 0]})
    orders = pd.DataFrame({"event_id": [1, 2, 3], "subscriber_id": [1, 2, 2],
                           "product_id": ["MN_NEWS", "MN_SPORTS", "RBT"],
                           "event_date": pd.to_datetime(["2026-05-03", "2026-06-01", "2026-06-01"]),
                           "event_type": ["order", "order", "order"], "channel": ["sms", "sms", "sms"]})
    return {"subscribers": subs, "monthly_usage": usage, "vas_products": products, "vas_orders": orders}


def test_content_counts_sum_the_window_and_keep_every_joined_subscriber(province):
    counts = content_counts(province, "2026-10", 2)
    assert counts.index.tolist() == [1, 2, 3]                    # subscriber 4 joined after the snapshot
    assert counts.loc[1, ["news", "sports"]].tolist() == [3, 5]  # September and October only
    assert counts.loc[3].sum() == 0
    assert list(counts.columns) == list(CONTENT_CATEGORIES)
    monthly = content_counts(province, "2026-10", 3, by_month=True)
    assert len(monthly) == 5 and monthly.loc[1, "news"].tolist() == [5, 2, 1]
    assert subscriber_groups(province).loc[2] == "hami"


def test_counts_from_features_recover_the_window_sums():
    feats = pd.DataFrame({"usage_months": [3, 0], "content_news_mean": [8 / 3, np.nan],
                          "content_sports_mean": [5 / 3, np.nan]}, index=[1, 2])
    counts = counts_from_features(feats, NS)
    assert counts.loc[1].tolist() == [8, 5] and counts.loc[2].tolist() == [0, 0]
    with pytest.raises(DataValidationError, match="lacks"):
        counts_from_features(feats.drop(columns="usage_months"), NS)


def test_evaluate_preference_holds_out_the_last_month(province):
    ev = evaluate_preference(province, "2026-10", 3, strength=1.0, k=2)
    assert ev.fit_months == "2026-08..2026-09" and ev.test_month == "2026-10"
    # only subscribers 1 and 2 consumed in October; subscriber 1 read news before and sports in October
    assert ev.value("model", "users") == 2
    assert ev.to_dict()["table"][0]["segment"] == "all"
    with pytest.raises(ParameterError, match="'months' parameter must be an integer >= 2"):
        evaluate_preference(province, "2026-10", 1)


def test_truth_correlation_is_one_for_the_truth_itself():
    truth = pd.DataFrame({"subscriber_id": [1, 2, 3], "pref_news": [0.2, 0.5, 0.9], "pref_sports": [0.8, 0.5, 0.1]})
    est = pd.DataFrame({"news": [0.2, 0.5, 0.9], "sports": [0.8, 0.5, 0.1]}, index=[1, 2, 3])
    noisy = pd.DataFrame({"news": [0.3, 0.2, 0.9], "sports": [0.7, 0.8, 0.1]}, index=[1, 2, 3])
    corr = truth_correlation(est, truth, raw=noisy)
    assert corr["category"].tolist() == ["news", "sports", "mean"]
    assert corr["model"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert (corr["raw"] < 1).all()
    with pytest.raises(DataValidationError, match="no pref_<category> column"):
        truth_correlation(est.rename(columns={"news": "x", "sports": "y"}), truth)


# ------------------------------------------------------------------ matching
def test_edition_catalogue_lists_the_family_editions(province):
    ed = edition_catalogue(province)
    assert ed["edition"].tolist() == ["news", "sports"]
    assert ed["product_id"].tolist() == ["MN_NEWS", "MN_SPORTS"]
    with pytest.raises(DataValidationError, match="no product of family 'fetion'"):
        edition_catalogue(province, "fetion")


def test_matching_names_the_best_edition_and_the_runner_up():
    editions = pd.DataFrame({"edition": ["news", "sports", "finance"],
                             "content_category": ["news", "sports", "finance"]})
    prefs = pd.DataFrame({"news": [0.1, 0.3, 0.2], "sports": [0.5, 0.3, 0.1], "finance": [0.2, 0.1, 0.1],
                          "music": [0.2, 0.3, 0.6]}, index=[7, 8, 9])
    m = match_editions(prefs, editions)
    assert m.loc[7, ["edition", "edition_2"]].tolist() == ["sports", "finance"]
    assert m.loc[8, ["edition", "edition_2"]].tolist() == ["news", "sports"]      # a tie goes to the first listed
    assert m.loc[9, ["edition", "edition_2"]].tolist() == ["news", "sports"]      # music has no edition
    assert m.loc[7, "edition_pref"] == pytest.approx(0.5) and m.loc[7, "edition_2_pref"] == pytest.approx(0.2)
    feats = preference_features(prefs, editions)
    assert feats.loc[9, f"{PREFERENCE_PREFIX}edition_top"] == pytest.approx(0.2)
    assert feats.loc[9, f"{PREFERENCE_PREFIX}music"] == pytest.approx(0.6)
    single = match_editions(prefs, editions.iloc[:1])
    assert single["edition"].tolist() == ["news"] * 3 and single["edition_2"].isna().all()
    with pytest.raises(DataValidationError, match=r"lack the categories \['games'\]"):
        match_editions(prefs, pd.DataFrame({"edition": ["g"], "content_category": ["games"]}))
    with pytest.raises(ParameterError, match="'editions' parameter must be a DataFrame"):
        match_editions(prefs, ["news"])


def test_edition_agreement_with_current_subscribers(province):
    matches = pd.DataFrame({"edition": ["news", "news"], "edition_2": ["sports", "sports"]}, index=[1, 2])
    ag = edition_agreement(province, matches, snapshot="2026-10")
    # subscriber 1 holds the news edition (matched: hit), subscriber 2 the sports edition (runner-up)
    assert ag == {"subscribers": 2, "top1": 0.5, "top2": 1.0, "chance": 0.5}


# ------------------------------------------------------------------ figures
def test_preference_figures():
    table = pd.DataFrame({"segment": ["all", "all", "sparse", "sparse"], "method": ["model", "popularity"] * 2,
                          "top1": [0.6, 0.3, 0.4, 0.3], "ndcg": [0.8, 0.5, 0.6, 0.5], "loss": [1.4, 1.7, 1.6, 1.8]})
    fig = preference_evaluation_figure(table, metric="loss", lang="en")
    assert isinstance(fig, go.Figure) and len(fig.data) == 2
    assert fig.data[0].name == "Preference model (smoothed)"
    with pytest.raises(ParameterError, match="'metric' parameter must be one of"):
        preference_evaluation_figure(table, metric="auc")
    with pytest.raises(ParameterError, match="'table' parameter must be the result of"):
        preference_evaluation_figure(table.drop(columns="top1"))
    mix = pd.Series([0.7, 0.3], index=NS)
    assert content_mix_figure(mix, lang="zh").data[0].x == ("新闻", "体育")
    with pytest.raises(ParameterError, match="'mix' parameter"):
        content_mix_figure(pd.Series(dtype=float))
    matches = pd.DataFrame({"edition": ["news", "sports", "news"], "edition_2": ["sports", "news", "sports"]})
    fig = edition_figure(matches, editions=pd.DataFrame({"edition": NS, "content_category": NS}), lang="en")
    assert fig.data[0].y == (2, 1) and fig.data[1].y == (1, 2)
    corr = pd.DataFrame({"category": ["news", "mean"], "model": [0.8, 0.8], "raw": [0.7, 0.7]})
    assert len(truth_correlation_figure(corr, lang="en").data) == 2
