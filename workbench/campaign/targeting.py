"""Who is on a campaign's list and at what rate: the segment, the target group, calibrated rates, shadow channels.

Pure functions of DataFrames, the building blocks :func:`~workbench.campaign.plan_from_inputs`
chains: :func:`in_segment` (the spec's branches and brands), :func:`select_target`
(the best-scored eligible users), :func:`calibrate_scores` (scores to response rates),
:func:`shadow_channels` (the channel a control user stands for) and :func:`join_reasons`
(a scores row's reasons as one text for the list).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.campaign.channel_plan import ChannelPlan, build_problem
from workbench.campaign.spec import CampaignSpec, TargetGroup
from workbench.checks import check_num, check_probabilities, require_columns
from workbench.data.tables import table
from workbench.errors import ParameterError

__all__ = ["in_segment", "select_target", "calibrate_scores", "shadow_channels", "join_reasons", "reason_columns"]

_SUBS = table("subscribers")
SUBSCRIBER_ID: str = _SUBS.column("subscriber_id").name
BRANCH_ID: str = _SUBS.column("branch_id").name
BRAND: str = _SUBS.column("brand").name
_REASON_PREFIX = "reason_"


def in_segment(candidates: pd.DataFrame, spec: CampaignSpec) -> np.ndarray:
    """Whether each candidate is in the spec's segment: its branches (``target.branches``, else the
    campaign's) and brands (``target.brands``, else all).

    Parameters
    ----------
    candidates : DataFrame
        ``branch_id`` and ``brand`` per user (:func:`~workbench.campaign.candidate_frame`).
    spec : CampaignSpec

    Returns
    -------
    numpy.ndarray of bool
    """
    branches = spec.target.branches or spec.campaign_branches
    mask = candidates[BRANCH_ID].isin(branches)
    if spec.target.brands:
        mask &= candidates[BRAND].isin(spec.target.brands)
    return mask.to_numpy()


def calibrate_scores(scores, baseline_rate: float, *, reference=None, tol: float = 1e-12) -> np.ndarray:
    """Response rates from model scores: the log-odds shifted so that a reference group's mean is ``baseline_rate``.

    A look-alike score ranks users but is not the probability to order
    without contact.  Adding one constant ``delta`` to every score's log-odds,
    ``p_i = expit(logit(s_i) + delta)``, keeps the ranking, keeps every rate in
    (0, 1) and is the classical prior correction of a model trained at another
    base rate; ``delta`` is solved so that the mean rate of the ``reference``
    scores (default: ``scores`` themselves) is ``baseline_rate``.

    Parameters
    ----------
    scores : array-like
        Scores in [0, 1] (0 and 1 are moved 1e-12 inside).
    baseline_rate : float
        Mean response rate without contact of the reference group, in (0, 1).
    reference : array-like, optional
        Scores of the group ``baseline_rate`` is known for (e.g. the goal's
        look-alikes: the best-scored users); the shift found there is applied to ``scores``.
    tol : float
        Tolerance of the shift.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> p = calibrate_scores([0.1, 0.2, 0.6], 0.05)
    >>> round(float(p.mean()), 6), bool((p[0] < p[1]) and (p[1] < p[2]))
    (0.05, True)
    >>> round(float(calibrate_scores([0.6], 0.05, reference=[0.1, 0.2, 0.6])[0]), 4) == round(float(p[2]), 4)
    True
    """
    from scipy.optimize import brentq
    from scipy.special import expit, logit

    def _logit(name, values):
        return logit(np.clip(check_probabilities(name, values), 1e-12, 1 - 1e-12))

    z = _logit("scores", scores)
    ref = z if reference is None else _logit("reference", reference)
    rate = check_num("baseline_rate", baseline_rate, 0, 1, lo_open=True)
    if rate >= 1:
        raise ParameterError.invalid("baseline_rate", "a number in (0, 1)", baseline_rate)
    if ref.size == 0:
        if z.size:
            raise ParameterError.invalid("reference", "at least one score", 0)
        return expit(z)
    lo, hi = -60.0 - ref.max(), 60.0 - ref.min()
    delta = brentq(lambda d: float(expit(ref + d).mean()) - rate, lo, hi, xtol=tol, maxiter=200)
    return expit(z + delta)


def select_target(eligible: pd.DataFrame, target: TargetGroup, *, score_col: str = "score") -> pd.DataFrame:
    """The target list: the ``list_size`` best-scored users, or all scoring at least ``score_threshold``.

    Ties in the score are broken by subscriber id, so the list does not depend
    on the row order.  Returns the selected rows, best first, index reset.
    """
    if not isinstance(target, TargetGroup):
        raise ParameterError.invalid("target", "a TargetGroup", type(target).__name__)
    require_columns(eligible, "eligible", [SUBSCRIBER_ID, score_col])
    s = eligible[score_col].to_numpy(dtype=float)
    order = np.lexsort((eligible[SUBSCRIBER_ID].to_numpy(), -s))
    if target.list_size is not None:
        keep = order[: target.list_size]
    else:
        keep = order[s[order] >= target.score_threshold]
    return eligible.iloc[keep].reset_index(drop=True)


def shadow_channels(users: pd.DataFrame, plan: ChannelPlan, channels: pd.DataFrame, *, value_per_order: float,
                    rate_col: str = "response_rate") -> pd.Series:
    """The channel each user would get at the plan's prices (for the control group).

    A user takes ``argmax_c (Delta_ic v - k_c - lambda_bc - mu k_c)`` when that
    is positive and the contact itself is worth its cost (``Delta_ic v > k_c``),
    else no channel - exactly the rule the plan's Lagrangian prices give the
    target users.  A branch the plan has no price for (no target user there)
    gives no channel.

    Parameters
    ----------
    users : DataFrame
        ``subscriber_id``, ``branch_id`` and ``rate_col`` (response rate without contact).
    plan : ChannelPlan
        From :func:`~workbench.campaign.plan_channels` (``info["lambda"]``, ``info["mu"]``).
    channels : DataFrame
        The channel table of :func:`~workbench.campaign.channel_inputs`.

    Returns
    -------
    Series of str
        The channel per row of ``users`` (missing: none).
    """
    lam = plan.info.get("lambda")
    if not isinstance(lam, pd.DataFrame) or "mu" not in plan.info:
        raise ParameterError.invalid("plan", "a plan_channels() result with prices (info['lambda'], info['mu'])",
                                     sorted(plan.info))
    if len(users) == 0:
        return pd.Series([], dtype="str")
    problem = build_problem(users.rename(columns={rate_col: "score"}), channels, value_per_order=value_per_order)
    V = problem.net_values()
    L = lam.reindex(index=list(problem.branches), columns=list(problem.channels)).to_numpy(dtype=float)
    L = np.where(np.isnan(L), np.inf, L)
    mu = float(plan.info["mu"] or 0.0)
    adjusted = V - L[problem.branch_codes] - mu * problem.unit_cost[None, :]
    best = adjusted.argmax(axis=1)
    rows = np.arange(len(best))
    ok = (adjusted[rows, best] > 0) & (V[rows, best] > 0)
    names = np.asarray(problem.channels, dtype=object)[best]
    return pd.Series(np.where(ok, names, None), index=users.index, dtype="str")


def reason_columns(frame: pd.DataFrame) -> list[str]:
    """``reason_1``, ``reason_2``, ... of a scores frame, in number order."""
    cols = [c for c in frame.columns if str(c).startswith(_REASON_PREFIX) and str(c)[len(_REASON_PREFIX):].isdigit()]
    return sorted(cols, key=lambda c: int(str(c)[len(_REASON_PREFIX):]))


def join_reasons(frame: pd.DataFrame, separator: str = "; ") -> pd.Series:
    """The reason columns of each row (``reason_1`` ...) as one text, joined with ``separator`` (missing when none;
    planning passes the catalogue's ``reasons.separator``: "；" in Chinese).

    Examples
    --------
    >>> import pandas as pd
    >>> join_reasons(pd.DataFrame({"reason_1": ["a", None], "reason_2": ["b", None]})).tolist()
    ['a; b', nan]
    """
    text = pd.Series("", index=frame.index, dtype="str")
    for c in reason_columns(frame):
        part = frame[c].astype("str").fillna("")
        glue = pd.Series(np.where((text != "") & (part != ""), separator, ""), index=frame.index, dtype="str")
        text = text + glue + part
    return text.where(text != "")
