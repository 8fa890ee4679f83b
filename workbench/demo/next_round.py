"""What the next round would gain by choosing its list by uplift instead of propensity, from the truth.

For the demo only: :func:`next_campaign_comparison` simulates a next campaign of the same size and
reads the synthetic ground truth for each person's expected extra orders when the list is chosen by the
look-alike score (propensity) or by the uplift model, per 10,000 contacts, with random choice and the
truth's own ranking as floor and ceiling.  No model ever sees the truth.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbench.checks import check_int
from workbench.demo.campaign import truth_frame
from workbench.demo.simulate import TRUTH_CHANNEL_FALLBACK
from workbench.errors import ParameterError
from workbench.store.models import SUBSCRIBER_ID
from workbench.tracking.attribution import TARGET
from workbench.tracking.evaluation import CampaignEvaluation
from workbench.tracking.uplift_fit import UpliftResult, feature_table

__all__ = ["STRATEGIES", "COMPARISON_COLUMNS", "next_campaign_comparison"]

#: Ways of choosing the next campaign's list, in report order.
STRATEGIES: tuple[str, ...] = ("propensity", "uplift", "random", "oracle")
#: Columns of :func:`next_campaign_comparison`.
COMPARISON_COLUMNS: tuple[str, ...] = (
    "strategy", "contacts", "expected_orders", "expected_incremental", "incremental_per_10k",
    "vs_propensity", "sleeping_dogs_share", "mean_score",
)


def _channel_mix(evaluation: CampaignEvaluation) -> tuple[dict, dict]:
    """The target group's channel shares and the observed reach rate of each channel."""
    target = evaluation.members[evaluation.members["group"] == TARGET]
    share = target["channel"].value_counts(normalize=True).to_dict()
    reach = target.groupby("channel")["reached"].mean().to_dict()
    return share, reach


def next_campaign_comparison(evaluation: CampaignEvaluation, uplift, candidates: pd.DataFrame, truth, *,
                             size: int | None = None, pool_factor: float = 2.0, score_col: str = "score",
                             channel_mix: Mapping[str, float] | None = None, reach: Mapping[str, float] | None = None,
                             per: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """Expected incremental orders of a next campaign chosen by propensity vs by uplift, from the truth.

    The next campaign contacts ``size`` people (default: as many as this
    campaign's target group) from a pool: the ``pool_factor x size`` best
    look-alike scores among the candidates (the uplift model was learned on a
    look-alike list, so it re-ranks such a pool rather than the whole base).
    Four lists are compared:

    ``propensity``  the ``size`` best look-alike scores (today's method);
    ``uplift``      the ``size`` highest predicted uplifts of the pool;
    ``random``      ``size`` people of the pool at random (the floor);
    ``oracle``      the ``size`` highest *true* uplifts of the pool (the ceiling).

    Each listed person is contacted through the channel mix of this campaign and
    reached with each channel's observed reach rate, so their expected extra
    orders are ``sum_c share_c x reach_c x (p_order_c - p_order_base)`` from the
    ground truth (channels without a truth column use the outbound call's, as
    the simulator does).

    Parameters
    ----------
    evaluation : CampaignEvaluation
        This campaign (its size, channel mix and reach).
    uplift : UpliftResult or fitted uplift estimator
        The model ranking the ``uplift`` list (an :class:`UpliftResult`'s ``final_model``).
    candidates : pandas.DataFrame
        Who could be targeted, indexed by ``subscriber_id`` (or with that
        column): the model's input columns, including ``score_col``.
    truth : path or pandas.DataFrame
        The ground truth (``p_order_base``, ``p_order_<channel>``).
    size : int, optional
    pool_factor : float, default 2.0
        Pool = the best ``pool_factor x size`` scores (>= 1).
    score_col : str, default "score"
        The look-alike score column of ``candidates``.
    channel_mix, reach : mapping, optional
        Override this campaign's channel shares / reach rates.
    per : int, default 10_000
        Report incremental orders per this many contacts.
    seed : int, default 0
        Seed of the random list.

    Returns
    -------
    pandas.DataFrame
        One row per strategy of :data:`STRATEGIES`, columns :data:`COMPARISON_COLUMNS`.

    Raises
    ------
    ParameterError
        A missing score column, a pool smaller than the list, a bad
        ``pool_factor``, or a truth without the channels' columns.
    """
    model = uplift.final_model if isinstance(uplift, UpliftResult) else uplift
    cand = feature_table(candidates)
    if score_col not in cand.columns:
        raise ParameterError(f"The candidates must have the look-alike score column {score_col!r}; "
                             f"got columns {list(cand.columns)[:12]} ...")
    if not (isinstance(pool_factor, (int, float)) and pool_factor >= 1):
        raise ParameterError.invalid("pool_factor", "a number >= 1", pool_factor)
    n_list = int((evaluation.members["group"] == TARGET).sum()) if size is None else check_int("size", size, 1)
    n_pool = min(len(cand), int(round(pool_factor * n_list)))
    if n_pool < n_list:
        raise ParameterError(f"Only {len(cand)} candidates for a list of {n_list}: pass fewer (size=) or more "
                             "candidates.")
    ids = cand.index.to_numpy(np.int64)
    score = pd.to_numeric(cand[score_col], errors="coerce").fillna(-np.inf).to_numpy(float)
    order = np.lexsort((ids, -score))
    pool = order[:n_pool]
    share, observed_reach = _channel_mix(evaluation)
    share = dict(channel_mix or share)
    reach_rate = {**observed_reach, **dict(reach or {})}
    columns = ["p_order_base", *{f"p_order_{TRUTH_CHANNEL_FALLBACK.get(c, c)}" for c in share}]
    tr = truth_frame(truth, ids[pool], columns=[SUBSCRIBER_ID, *columns])
    missing = [c for c in columns if c not in tr.columns]
    if missing:
        raise ParameterError(f"The truth lacks the columns {missing} of the campaign's channels {sorted(share)}.")
    tpos = pd.Index(tr[SUBSCRIBER_ID].to_numpy(np.int64)).get_indexer(ids[pool])
    if (tpos < 0).any():
        raise ParameterError(f"The truth has no row for {int((tpos < 0).sum())} candidates; pass the truth of the "
                             "same province.")
    tr = tr.iloc[tpos].reset_index(drop=True)
    base = tr["p_order_base"].to_numpy(float)
    gain = np.zeros(len(pool))
    for ch, w in share.items():
        col = f"p_order_{TRUTH_CHANNEL_FALLBACK.get(ch, ch)}"
        gain += float(w) * float(reach_rate.get(ch, 0.0)) * (tr[col].to_numpy(float) - base)
    predicted = model.predict(cand.iloc[pool])
    rng = np.random.default_rng(seed)
    picks = {
        "propensity": np.arange(n_list),                                   # the pool is in score order
        "uplift": np.lexsort((ids[pool], -predicted))[:n_list],
        "random": np.sort(rng.choice(n_pool, size=n_list, replace=False)),
        "oracle": np.lexsort((ids[pool], -gain))[:n_list],
    }
    rows = []
    for name in STRATEGIES:
        k = picks[name]
        inc = float(gain[k].sum())
        rows.append({
            "strategy": name, "contacts": n_list, "expected_orders": float((base[k] + gain[k]).sum()),
            "expected_incremental": inc, "incremental_per_10k": inc / n_list * per,
            "sleeping_dogs_share": float((gain[k] < 0).mean()), "mean_score": float(score[pool][k].mean()),
        })
    out = pd.DataFrame(rows)
    first = out.loc[out["strategy"] == "propensity", "expected_incremental"].iloc[0]
    out["vs_propensity"] = out["expected_incremental"] / first if first > 0 else np.nan
    out.attrs.update({"pool": n_pool, "per": per, "channel_mix": share, "reach": reach_rate})
    return out[list(COMPARISON_COLUMNS)]
