"""Channel plan: which targeted user is contacted through which channel.

Every targeted user gets **at most one** channel.  The plan maximises the
expected net value

.. math::

    \\sum_{i,c} x_{ic} \\, (\\Delta_{ic} \\, v - k_c)

subject to ``sum_c x_ic <= 1`` per user, ``sum_{i in b} x_ic <= cap_bc`` per
(branch, channel) - the daily capacity times the days of the campaign - and
``sum_{i,c} k_c x_ic <= budget``.  ``Delta_ic`` is the expected *incremental*
orders of user ``i`` when contacted through channel ``c``
(:func:`expected_incremental`), ``v`` the value of one order and ``k_c`` the
unit cost of the channel.

Two solvers share one problem (:class:`ChannelPlanProblem`) and one result
(:class:`ChannelPlan`):

:func:`solve_exact_lp`
    The LP relaxation with HiGHS (:func:`scipy.optimize.linprog`, sparse
    constraint matrix), or the integer programme with
    :func:`scipy.optimize.milp`.  Its optimum is an upper bound of every plan.
    For instances up to ~20,000 users (HiGHS needs ~2 s there and grows
    super-linearly: ~50 s at 100,000).
:func:`plan_channels`
    The scalable solver (a province of a million users in seconds), pure numpy:

    1. *Lagrangian dual.*  Prices ``lambda_bc`` for every capacity and ``mu``
       for the budget; given prices each user takes
       ``argmax_c (Delta_ic v - k_c - lambda_bc - mu k_c)`` if positive.  The
       dual is minimised by block-coordinate descent: the exact minimiser in
       ``lambda_bc`` is the (cap+1)-th largest margin of the branch's users for
       that channel (one :func:`numpy.partition` per branch), the one in ``mu``
       is where the spend crosses the budget (bisection).  On large inputs the
       prices are first found on a random sample (capacities and budget scaled)
       and then refined by a few sweeps over all users.
    2. *Repair* to exact feasibility: keep the best users of an over-full
       (branch, channel), drop the users with the lowest value per yuan until
       the budget holds.
    3. *Improve*: greedy fill of remaining capacity and budget; exchange moves
       along paths and cycles of the (branch-local) graph of channels, i.e.
       cycle cancelling, which makes the capacity-only problem exactly optimal;
       budget exchanges that drop the lowest value-per-yuan users to pay for a
       better, dearer contact.

    The dual value at the final prices is a certified upper bound
    (``ChannelPlan.upper_bound``), so every plan states its own optimality gap.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from workbench.checks import (
    check_int, check_num, check_probabilities, require_columns, require_complete, require_unique,
)
from workbench.campaign.spec import CAMPAIGN_CHANNELS, CampaignSpec
from workbench.data.tables import table
from workbench.errors import ParameterError

__all__ = [
    "PLAN_COLUMNS",
    "SUMMARY_COLUMNS",
    "ChannelPlanProblem",
    "ChannelPlan",
    "expected_incremental",
    "build_problem",
    "channel_inputs",
    "solve_exact_lp",
    "plan_channels",
    "evaluate_plan",
]

_SUBSCRIBERS = table("subscribers")
SUBSCRIBER_ID: str = _SUBSCRIBERS.column("subscriber_id").name
BRANCH_ID: str = _SUBSCRIBERS.column("branch_id").name

#: Columns of :attr:`ChannelPlan.plan` (the id and branch columns come first, named as given).
PLAN_COLUMNS: tuple[str, ...] = ("channel", "share", "expected_orders", "unit_cost", "net_value")
#: Columns of :attr:`ChannelPlan.summary` (after the branch column).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "channel", "users", "capacity", "expected_orders", "cost", "revenue", "net_value", "roi",
)

_EPS = 1e-9


# ---------------------------------------------------------------------- problem
@dataclass(frozen=True)
class ChannelPlanProblem:
    """One channel-planning instance, as arrays.

    Build it with :func:`build_problem` from DataFrames; both solvers take it.

    Parameters
    ----------
    user_ids : numpy.ndarray, shape (n,)
        Subscriber ids.
    branch_codes : numpy.ndarray of int, shape (n,)
        Index of each user's branch in ``branches``.
    branches : tuple of str
        Branch ids.
    channels : tuple of str
        Channel names.
    incremental : numpy.ndarray, shape (n, C)
        Expected incremental orders of each user per channel.
    unit_cost : numpy.ndarray, shape (C,)
        Cost of one contact per channel (yuan).
    capacity : numpy.ndarray, shape (B, C)
        Contacts each (branch, channel) can make over the campaign; ``inf`` = unlimited.
    budget : float
        Total contact budget (yuan); ``inf`` = unlimited.
    value_per_order : float
        Value of one incremental order (yuan).
    scores : numpy.ndarray, optional
        The users' scores, carried into the plan.
    id_col, branch_col : str
        Column names used in the result frames.
    """

    user_ids: np.ndarray
    branch_codes: np.ndarray
    branches: tuple[str, ...]
    channels: tuple[str, ...]
    incremental: np.ndarray
    unit_cost: np.ndarray
    capacity: np.ndarray
    budget: float
    value_per_order: float
    scores: np.ndarray | None = None
    id_col: str = SUBSCRIBER_ID
    branch_col: str = BRANCH_ID

    @property
    def n_users(self) -> int:
        return int(len(self.user_ids))

    def net_values(self) -> np.ndarray:
        """``Delta_ic * value_per_order - k_c``, shape (n, C)."""
        return self.incremental * self.value_per_order - self.unit_cost[None, :]


@dataclass
class ChannelPlan:
    """A channel plan and its figures.

    Attributes
    ----------
    plan : pandas.DataFrame
        One row per contacted user (``share`` < 1 only in a fractional LP
        solution): id, branch, score (when known) and :data:`PLAN_COLUMNS`.
    summary : pandas.DataFrame
        Per branch x channel: :data:`SUMMARY_COLUMNS` (``roi`` = net value / cost).
    objective : float
        Expected net value of the plan (yuan).
    upper_bound : float
        An upper bound of the optimum (the LP optimum, or the Lagrangian dual value).
    method : str
        ``"lagrangian"``, ``"lp"`` or ``"milp"``.
    info : dict
        Diagnostics: prices, iterations, seconds.
    """

    plan: pd.DataFrame
    summary: pd.DataFrame
    objective: float
    upper_bound: float
    method: str
    info: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Relative distance to the upper bound, ``(upper_bound - objective) / |upper_bound|``."""
        if not np.isfinite(self.upper_bound) or self.upper_bound == 0:
            return 0.0 if self.objective == self.upper_bound else float("nan")
        return float((self.upper_bound - self.objective) / abs(self.upper_bound))


def expected_incremental(scores, multipliers, *, organic_multiplier: float = 1.0) -> np.ndarray:
    """Expected incremental orders per user and channel from scores and channel multipliers.

    A user's score ``p0`` is the probability to order without contact (the
    calibrated model score).  Contacted through channel ``c`` the probability
    becomes ``min(p0 * m_c, 1)``; the increment is that minus
    ``p0 * organic_multiplier``.  Channels with ``m_c <= 1`` bring nothing.

    Parameters
    ----------
    scores : array-like, shape (n,)
        Probabilities in [0, 1].
    multipliers : array-like, shape (C,)
        Expected response multiplier of each channel (>= 0).
    organic_multiplier : float
        Multiplier of the no-contact baseline (1 = the score itself).

    Returns
    -------
    numpy.ndarray, shape (n, C)

    Examples
    --------
    >>> expected_incremental([0.1, 0.5], [1.5, 3.0]).round(2).tolist()
    [[0.05, 0.2], [0.25, 0.5]]
    """
    p0 = check_probabilities("scores", scores)
    m = np.asarray(multipliers, dtype=float)
    if m.ndim != 1 or not np.all(np.isfinite(m)) or (m < 0).any():
        raise ParameterError.invalid("multipliers", "a 1-d array of finite numbers >= 0", m.tolist())
    return np.minimum(p0[:, None] * m[None, :], 1.0) - organic_multiplier * p0[:, None]


def build_problem(users: pd.DataFrame, channels: pd.DataFrame, *, value_per_order: float,
                  budget: float | None = None, capacity: pd.DataFrame | None = None,
                  incremental: np.ndarray | None = None, id_col: str = SUBSCRIBER_ID,
                  branch_col: str = BRANCH_ID, score_col: str = "score", channel_col: str = "channel",
                  cost_col: str = "unit_cost", multiplier_col: str = "response_multiplier",
                  capacity_col: str = "capacity") -> ChannelPlanProblem:
    """A :class:`ChannelPlanProblem` from DataFrames.

    Parameters
    ----------
    users : DataFrame
        One row per targeted user: ``id_col``, ``branch_col`` and ``score_col``
        (probability to order without contact, see :func:`expected_incremental`).
    channels : DataFrame
        One row per channel: ``channel_col``, ``cost_col`` (yuan per contact)
        and ``multiplier_col`` (expected response multiplier).
    value_per_order : float
        Value of one incremental order (yuan), > 0.
    budget : float, optional
        Total contact budget (yuan); ``None`` = unlimited.
    capacity : DataFrame, optional
        ``branch_col``, ``channel_col``, ``capacity_col``: contacts a branch can
        make through a channel over the whole campaign.  A (branch, channel)
        absent from the frame is unlimited; ``None`` = all unlimited.
    incremental : ndarray, optional
        Precomputed expected incremental orders, shape (n, C) in the row order
        of ``users`` and ``channels`` (e.g. from an uplift model); when given,
        ``score_col`` and ``multiplier_col`` are not used for it.

    Returns
    -------
    ChannelPlanProblem

    Raises
    ------
    DataValidationError
        A frame misses a column, or has duplicate users / channels.
    ParameterError
        An unknown channel, a negative cost, capacity or budget, a value per
        order that is not positive.
    """
    require_columns(users, "users", [id_col, branch_col] + ([] if incremental is not None else [score_col]))
    require_columns(channels, "channels",
                     [channel_col, cost_col] + ([] if incremental is not None else [multiplier_col]))
    check_num("value_per_order", value_per_order, 0, lo_open=True)
    if budget is not None and not (budget >= 0):
        raise ParameterError.invalid("budget", "a number >= 0 (yuan) or None for unlimited", budget)
    require_unique(users, "users", id_col)
    require_complete(users, "users", [branch_col])
    names = [str(c) for c in channels[channel_col]]
    unknown = sorted(set(names) - set(CAMPAIGN_CHANNELS))
    if unknown:
        raise ParameterError.invalid(f"channels.{channel_col}", f"channels from {list(CAMPAIGN_CHANNELS)}", unknown)
    require_unique(channels, "channels", channel_col)
    cost = channels[cost_col].to_numpy(dtype=float)
    if not np.all(np.isfinite(cost)) or (cost < 0).any():
        raise ParameterError.invalid(f"channels.{cost_col}", "finite numbers >= 0 (yuan per contact)", cost.tolist())
    if incremental is None:
        inc = expected_incremental(users[score_col].to_numpy(dtype=float),
                                   channels[multiplier_col].to_numpy(dtype=float))
    else:
        inc = np.asarray(incremental, dtype=float)
        if inc.shape != (len(users), len(names)) or not np.all(np.isfinite(inc)):
            raise ParameterError.invalid("incremental", f"a finite array of shape {(len(users), len(names))}",
                                         getattr(inc, "shape", inc))
    codes, uniques = pd.factorize(users[branch_col].astype(str), sort=True)
    branches = tuple(str(b) for b in uniques)
    cap = np.full((len(branches), len(names)), np.inf)
    if capacity is not None:
        require_columns(capacity, "capacity", [branch_col, channel_col, capacity_col])
        values = capacity[capacity_col].to_numpy(dtype=float)
        if np.isnan(values).any() or (values < 0).any():
            raise ParameterError.invalid(f"capacity.{capacity_col}", "numbers >= 0 (contacts over the campaign)",
                                         values[np.isnan(values) | (values < 0)][:5].tolist())
        bad = sorted(set(capacity[channel_col].astype(str)) - set(names))
        if bad:
            raise ParameterError.invalid(f"capacity.{channel_col}", f"one of the planned channels {names}", bad)
        bidx = {b: i for i, b in enumerate(branches)}
        cidx = {c: j for j, c in enumerate(names)}
        for b, c, v in zip(capacity[branch_col].astype(str), capacity[channel_col].astype(str), values):
            if b in bidx:
                cap[bidx[b], cidx[c]] = np.floor(v)
    scores = users[score_col].to_numpy(dtype=float) if score_col in users.columns else None
    return ChannelPlanProblem(
        user_ids=users[id_col].to_numpy(), branch_codes=codes.astype(np.int64), branches=branches,
        channels=tuple(names), incremental=inc, unit_cost=cost, capacity=cap,
        budget=float("inf") if budget is None else float(budget), value_per_order=float(value_per_order),
        scores=scores, id_col=id_col, branch_col=branch_col,
    )


def channel_inputs(spec: CampaignSpec, *, branch_col: str = BRANCH_ID) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``channels`` and ``capacity`` frames of :func:`build_problem` from a spec.

    Capacity over the campaign = daily capacity x the days of the goal period,
    for each of the spec's branches; a channel without a daily capacity for a
    branch (and no default) is unlimited there.

    Returns
    -------
    (channels, capacity) : tuple of DataFrame
    """
    days = spec.goal.period_days
    chans = pd.DataFrame({
        "channel": [c.name for c in spec.channels],
        "unit_cost": [c.unit_cost for c in spec.channels],
        "response_multiplier": [c.response_multiplier for c in spec.channels],
    })
    rows = []
    for c in spec.channels:
        for b in spec.campaign_branches:
            daily = c.capacity_for(b)
            if daily is not None:
                rows.append((b, c.name, float(daily) * days))
    cap = pd.DataFrame(rows, columns=[branch_col, "channel", "capacity"])
    return chans, cap


# ------------------------------------------------------------------ evaluation
def _frames(problem: ChannelPlanProblem, users: np.ndarray, chans: np.ndarray, share: np.ndarray
            ) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Plan rows, branch x channel summary and objective of an assignment."""
    inc = problem.incremental[users, chans]
    cost = problem.unit_cost[chans]
    orders = inc * share
    net = (inc * problem.value_per_order - cost) * share
    plan = pd.DataFrame({problem.id_col: problem.user_ids[users],
                         problem.branch_col: np.asarray(problem.branches, dtype=object)[problem.branch_codes[users]]})
    if problem.scores is not None:
        plan["score"] = problem.scores[users]
    plan["channel"] = np.asarray(problem.channels, dtype=object)[chans]
    plan["share"] = share
    plan["expected_orders"] = orders
    plan["unit_cost"] = cost
    plan["net_value"] = net
    for col in (problem.branch_col, "channel"):
        plan[col] = plan[col].astype("str")
    if problem.scores is not None:
        plan = plan.sort_values([problem.branch_col, "channel", "score"], ascending=[True, True, False],
                                kind="stable").reset_index(drop=True)

    B, C = len(problem.branches), len(problem.channels)
    key = problem.branch_codes[users] * C + chans
    users_n = np.bincount(key, weights=share, minlength=B * C)
    orders_n = np.bincount(key, weights=orders, minlength=B * C)
    cost_n = np.bincount(key, weights=cost * share, minlength=B * C)
    summary = pd.DataFrame({
        problem.branch_col: np.repeat(np.asarray(problem.branches, dtype=object), C),
        "channel": np.tile(np.asarray(problem.channels, dtype=object), B),
        "users": users_n,
        "capacity": problem.capacity.ravel(),
        "expected_orders": orders_n,
        "cost": cost_n,
    })
    summary["revenue"] = summary["expected_orders"] * problem.value_per_order
    summary["net_value"] = summary["revenue"] - summary["cost"]
    with np.errstate(divide="ignore", invalid="ignore"):
        summary["roi"] = np.where(summary["cost"] > 0, summary["net_value"] / summary["cost"], np.nan)
    for col in (problem.branch_col, "channel"):
        summary[col] = summary[col].astype("str")
    return plan, summary, float(net.sum())


def evaluate_plan(problem: ChannelPlanProblem, plan: pd.DataFrame) -> dict:
    """Check a plan against the problem's constraints and recompute its objective.

    Parameters
    ----------
    problem : ChannelPlanProblem
    plan : DataFrame
        With the problem's id column, ``channel`` and optionally ``share``.

    Returns
    -------
    dict
        ``objective``, ``spend``, ``max_channels_per_user``, ``over_capacity``
        (contacts above capacity, summed over branch x channel), ``over_budget``
        (yuan above the budget, 0 when it holds).
    """
    pos = pd.Index(problem.user_ids).get_indexer(plan[problem.id_col])
    if (pos < 0).any():
        raise ParameterError.invalid(f"plan.{problem.id_col}", "ids of the problem's users",
                                     plan.loc[pos < 0, problem.id_col].head(5).tolist())
    cidx = pd.Index(problem.channels).get_indexer(plan["channel"])
    if (cidx < 0).any():
        raise ParameterError.invalid("plan.channel", f"one of {list(problem.channels)}",
                                     plan.loc[cidx < 0, "channel"].head(5).tolist())
    share = plan["share"].to_numpy(dtype=float) if "share" in plan.columns else np.ones(len(plan))
    B, C = problem.capacity.shape
    per_user = np.bincount(pos, weights=share, minlength=problem.n_users)
    used = np.bincount(problem.branch_codes[pos] * C + cidx, weights=share, minlength=B * C)
    spend = float((problem.unit_cost[cidx] * share).sum())
    net = (problem.incremental[pos, cidx] * problem.value_per_order - problem.unit_cost[cidx]) * share
    return {
        "objective": float(net.sum()),
        "spend": spend,
        "max_channels_per_user": float(per_user.max()) if len(per_user) else 0.0,
        "over_capacity": float(np.clip(used - problem.capacity.ravel(), 0, None).sum()),
        "over_budget": float(max(spend - problem.budget, 0.0)),
    }


# ---------------------------------------------------------------------- exact
def solve_exact_lp(problem: ChannelPlanProblem, *, integral: bool = False, max_users: int = 20_000,
                   time_limit: float | None = None) -> ChannelPlan:
    """The optimal plan of the LP relaxation (or of the integer programme).

    Only (user, channel) pairs with a positive net value get a variable: the
    others never improve the objective.  Constraint rows: one per user (at most
    one channel), one per finite (branch, channel) capacity, one for a finite
    budget; the matrix is built with :mod:`scipy.sparse`.

    Parameters
    ----------
    problem : ChannelPlanProblem
    integral : bool
        Solve the integer programme with :func:`scipy.optimize.milp` (slow
        beyond a few thousand users) instead of the LP relaxation.
    max_users : int
        Refuse larger instances (use :func:`plan_channels`).
    time_limit : float, optional
        Seconds HiGHS may use.

    Returns
    -------
    ChannelPlan
        ``objective`` = ``upper_bound`` = the optimum; ``plan.share`` holds the
        fractional values of the LP (``integral=False``).

    Raises
    ------
    ParameterError
        When the instance has more than ``max_users`` users.
    RuntimeError
        When HiGHS does not reach an optimum (e.g. the time limit).
    """
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    n = problem.n_users
    if n > max_users:
        raise ParameterError.invalid(
            "problem", f"at most max_users={max_users} users for the exact LP (use plan_channels for larger)", n)
    t0 = time.perf_counter()
    B, C = problem.capacity.shape
    V = problem.net_values()
    V[:, problem.unit_cost > problem.budget] = -np.inf
    V[:, (problem.capacity == 0).all(axis=0)] = -np.inf
    ii, cc = np.nonzero(V > _EPS)
    m = len(ii)
    keys = problem.branch_codes[ii] * C + cc
    cap = problem.capacity.ravel()
    finite_caps = np.nonzero(np.isfinite(cap))[0]
    row_of_cap = np.full(B * C, -1)
    row_of_cap[finite_caps] = np.arange(len(finite_caps))
    cols = np.arange(m)
    blocks = [sp.csr_matrix((np.ones(m), (ii, cols)), shape=(n, m))]
    rhs = [np.ones(n)]
    in_cap = row_of_cap[keys] >= 0
    blocks.append(sp.csr_matrix((np.ones(int(in_cap.sum())), (row_of_cap[keys][in_cap], cols[in_cap])),
                                shape=(len(finite_caps), m)))
    rhs.append(cap[finite_caps])
    if np.isfinite(problem.budget):
        blocks.append(sp.csr_matrix(problem.unit_cost[cc][None, :]))
        rhs.append(np.array([problem.budget]))
    A = sp.vstack(blocks, format="csr")
    b = np.concatenate(rhs)
    options = {} if time_limit is None else {"time_limit": float(time_limit)}
    if m == 0:
        x, value, status = np.zeros(0), 0.0, 0
    elif integral:
        res = milp(-V[ii, cc], constraints=LinearConstraint(A, -np.inf, b), integrality=np.ones(m),
                   bounds=Bounds(0, 1), options={"disp": False, **options})
        x, status = res.x, res.status
        value = -res.fun if res.x is not None else float("nan")
    else:
        res = linprog(-V[ii, cc], A_ub=A, b_ub=b, bounds=(0, 1), method="highs", options=options)
        x, status = res.x, res.status
        value = -res.fun if res.x is not None else float("nan")
    if status != 0 or x is None:
        raise RuntimeError(f"HiGHS did not reach an optimum of the channel plan (status {status}: "
                           f"{getattr(res, 'message', '')})")
    keep = x > 1e-9
    share = np.where(np.abs(x[keep] - 1) < 1e-9, 1.0, x[keep])
    if integral:
        share = np.round(share)
    plan, summary, objective = _frames(problem, ii[keep], cc[keep], share)
    return ChannelPlan(plan, summary, objective, float(value), "milp" if integral else "lp",
                       {"variables": m, "seconds": time.perf_counter() - t0})


# ------------------------------------------------------------------ Lagrangian
def _sorted_view(problem: ChannelPlanProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Users with a usable pair, sorted by branch: (user index, branch code, V as (C, n), branch starts).

    A pair is usable when its net value is positive, its channel costs no more
    than the budget and its (branch, channel) has capacity; the others are -inf.
    """
    Vt = problem.incremental.T * problem.value_per_order - problem.unit_cost[:, None]
    usable = (Vt > _EPS) & (problem.unit_cost <= problem.budget)[:, None] \
        & (problem.capacity.T > 0)[:, problem.branch_codes]
    rows = np.nonzero(usable.any(axis=0))[0]
    order = rows[np.argsort(problem.branch_codes[rows].astype(np.int32), kind="stable")]
    Vt = np.where(usable[:, order], Vt[:, order], -np.inf)
    br = problem.branch_codes[order]
    starts = np.searchsorted(br, np.arange(problem.capacity.shape[0] + 1))
    return order, br, Vt, starts


class _Dual:
    """Block-coordinate descent on the Lagrangian dual of one (sub)problem."""

    def __init__(self, Vt: np.ndarray, br: np.ndarray, starts: np.ndarray, cost: np.ndarray,
                 cap: np.ndarray, budget: float):
        self.Vt, self.br, self.starts, self.cost, self.cap, self.budget = Vt, br, starts, cost, cap, budget
        self.C, self.n = Vt.shape
        self.B = cap.shape[0]
        self.lam = np.zeros((self.B, self.C))
        self.mu = 0.0
        # R = V - lambda_b - mu k, maintained as prices move
        self.R = Vt.copy()

    def set_prices(self, lam: np.ndarray, mu: float) -> None:
        self.lam = np.where(np.isfinite(self.cap), lam, 0.0)
        self.mu = float(mu) if np.isfinite(self.budget) else 0.0
        self.R = self.Vt - self.lam.T[:, self.br] - self.mu * self.cost[:, None]

    def _best_other(self, c: int) -> np.ndarray:
        best = np.zeros(self.n)
        for d in range(self.C):
            if d != c:
                np.maximum(best, self.R[d], out=best)
        return best

    def update_channel(self, c: int) -> float:
        """Exact minimisation over the capacity prices of channel ``c`` (all branches)."""
        if not np.isfinite(self.cap[:, c]).any():
            return 0.0
        margin = self.Vt[c] - self.mu * self.cost[c] - self._best_other(c)
        change = 0.0
        for b in range(self.B):
            cap = self.cap[b, c]
            s, e = self.starts[b], self.starts[b + 1]
            if not np.isfinite(cap) or e == s:
                continue
            seg = margin[s:e]
            k = int(cap)
            if k >= e - s:
                new = 0.0
            else:
                new = max(float(np.partition(seg, e - s - k - 1)[e - s - k - 1]), 0.0)
            delta = new - self.lam[b, c]
            if delta != 0.0:
                self.R[c, s:e] -= delta
                self.lam[b, c] = new
                change = max(change, abs(delta))
        return change

    def _pick(self, mu: float, cols: np.ndarray | None = None) -> np.ndarray:
        """Best response (-1 = none) at budget price ``mu`` of all users or of ``cols``."""
        d = mu - self.mu
        R = self.R if cols is None else self.R[:, cols]
        best = np.zeros(R.shape[1])
        pick = np.full(R.shape[1], -1, dtype=np.int8)
        for c in range(self.C):
            s = R[c] - d * self.cost[c]
            better = s > best
            np.copyto(best, s, where=better)
            pick[better] = c
        return pick

    def _spend_of(self, pick: np.ndarray) -> float:
        return float((np.bincount(pick + 1, minlength=self.C + 1)[1:] * self.cost).sum())

    def update_budget(self, rtol: float) -> float:
        """Minimisation over ``mu``: the smallest price whose spend fits the budget.

        The crossing is bracketed starting at the old price; the bisection then
        runs only over the users whose choice differs between the bracket's
        ends (a user's choice is monotone in ``mu``), so it costs little.
        """
        if not np.isfinite(self.budget):
            return 0.0
        old, budget = self.mu, self.budget
        picks: dict[float, np.ndarray] = {}

        def over(mu: float) -> bool:
            if mu not in picks:
                picks[mu] = self._pick(mu)
            return self._spend_of(picks[mu]) > budget

        if old > 0 and over(old):
            lo, step = old, 0.05 * old
            hi = lo + step
            while over(hi):
                lo, step = hi, 2.0 * step
                hi = lo + step
        elif not over(0.0):
            lo = hi = 0.0
        elif old > 0:  # spend(old) <= budget < spend(0)
            hi, step = old, 0.05 * old
            lo = max(hi - step, 0.0)
            while lo > 0 and not over(lo):
                hi, step = lo, 2.0 * step
                lo = max(hi - step, 0.0)
        else:
            lo, hi = 0.0, 1.0
            while over(hi):
                lo, hi = hi, 2.0 * hi
        if hi > 0 and hi - lo > rtol * hi:
            over(lo)
            over(hi)
            var = np.nonzero(picks[lo] != picks[hi])[0]
            fixed = self._spend_of(picks[hi]) - self._spend_of(picks[hi][var])
            while hi - lo > rtol * hi:
                mid = 0.5 * (lo + hi)
                if fixed + self._spend_of(self._pick(mid, var)) > budget:
                    lo = mid
                else:
                    hi = mid
        new = hi
        if new != old:
            self.R -= (new - old) * self.cost[:, None]
            self.mu = new
        return abs(new - old)

    def sweep(self, rtol: float) -> float:
        change = 0.0
        for c in range(self.C):
            change = max(change, self.update_channel(c))
        return max(change, self.update_budget(rtol))

    def value(self) -> float:
        """The dual function at the current prices: an upper bound of the LP optimum."""
        best = np.zeros(self.n)
        for c in range(self.C):
            np.maximum(best, self.R[c], out=best)
        caps = np.where(np.isfinite(self.cap), self.cap, 0.0)
        budget = self.budget if np.isfinite(self.budget) else 0.0
        return float(best.sum() + (self.lam * caps).sum() + self.mu * budget)

    def choices(self) -> np.ndarray:
        """Best response of every user at the current prices (-1 = no channel)."""
        return self._pick(self.mu).astype(np.int64)


def _rank_in_group(key: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order by (key, -value) and the rank of each element within its key.

    ``key`` is a small non-negative integer (branch x channel), so the second,
    stable sort is a radix sort.
    """
    order = np.argsort(-value, kind="stable")
    order = order[np.argsort(key[order].astype(np.int32), kind="stable")]
    k = key[order]
    first = np.searchsorted(k, k, side="left")
    return order, np.arange(len(k)) - first


class _Primal:
    """An assignment (one channel or none per user) kept feasible while it improves."""

    def __init__(self, V: np.ndarray, br: np.ndarray, cost: np.ndarray, cap: np.ndarray, budget: float,
                 choice: np.ndarray):
        self.V, self.br, self.cost, self.cap, self.budget = V, br, cost, cap, budget  # V: (n, C)
        self.n, self.C = V.shape
        self.B = cap.shape[0]
        self.ch = choice.astype(np.int64)

    # -- state
    def used(self) -> np.ndarray:
        a = self.ch >= 0
        return np.bincount(self.br[a] * self.C + self.ch[a], minlength=self.B * self.C).reshape(self.B, self.C)

    def spend(self) -> float:
        a = self.ch >= 0
        return float(self.cost[self.ch[a]].sum())

    def objective(self) -> float:
        a = np.nonzero(self.ch >= 0)[0]
        return float(self.V[a, self.ch[a]].sum())

    # -- repair
    def repair(self) -> None:
        """Keep the best users of each over-full (branch, channel); then drop the lowest value per yuan."""
        a = np.nonzero(self.ch >= 0)[0]
        key = self.br[a] * self.C + self.ch[a]
        order, rank = _rank_in_group(key, self.V[a, self.ch[a]])
        drop = a[order][rank >= self.cap.ravel()[key[order]]]
        self.ch[drop] = -1
        excess = self.spend() - self.budget
        if excess > 0:
            a = np.nonzero((self.ch >= 0))[0]
            a = a[self.cost[self.ch[a]] > 0]
            k = self.cost[self.ch[a]]
            order = np.argsort(self.V[a, self.ch[a]] / k, kind="stable")
            cum = np.cumsum(k[order])
            m = int(np.searchsorted(cum, excess - 1e-9)) + 1
            self.ch[a[order[:m]]] = -1

    # -- improve
    def fill(self, mu: float, max_rounds: int = 100) -> None:
        """Give free capacity and budget to unassigned users, best adjusted value first."""
        rem_cap = (self.cap - self.used()).ravel()
        rem_b = self.budget - self.spend()
        for _ in range(max_rounds):
            free = np.nonzero(self.ch < 0)[0]
            if len(free) == 0:
                return
            ok = (rem_cap.reshape(self.B, self.C)[self.br[free]] >= 1) & (self.cost[None, :] <= rem_b + _EPS) \
                & (self.V[free] > _EPS)
            score = np.where(ok, self.V[free] - mu * self.cost[None, :], -np.inf)
            pick = score.argmax(axis=1)
            best = score[np.arange(len(free)), pick]
            has = np.isfinite(best)
            if not has.any():
                return
            users, pick, best = free[has], pick[has], best[has]
            key = self.br[users] * self.C + pick
            order, rank = _rank_in_group(key, best)
            fits = rank < rem_cap[key[order]]
            users, pick, best, key = users[order][fits], pick[order][fits], best[order][fits], key[order][fits]
            order = np.argsort(-best, kind="stable")
            users, pick, key = users[order], pick[order], key[order]
            m = int(np.searchsorted(np.cumsum(self.cost[pick]), rem_b + _EPS, side="right"))
            if m == 0:
                return
            self.ch[users[:m]] = pick[:m]
            np.subtract.at(rem_cap, key[:m], 1)
            rem_b -= float(self.cost[pick[:m]].sum())

    def _move_gains(self, moves, cap_free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gain of every exchange move in every branch, and the user moved along each edge."""
        K = self.C + 1
        node = self.ch + 1
        Vn = np.concatenate([np.zeros((self.n, 1)), self.V], axis=1)
        cur = Vn[np.arange(self.n), node]
        W = np.full((self.B, K, K), -np.inf)
        U = np.full((self.B, K, K), -1, dtype=np.int64)
        bounds = np.arange(self.B)
        for a in range(K):
            idx = np.nonzero(node == a)[0]  # still sorted by branch
            if len(idx) == 0:
                continue
            b_of = self.br[idx]
            seg_start = np.searchsorted(b_of, bounds)
            present = np.unique(b_of)
            for z in range(K):
                if z == a:
                    continue
                d = Vn[idx, z] - cur[idx]
                if z > 0:
                    d = np.where(Vn[idx, z] > _EPS, d, -np.inf)
                mx = np.maximum.reduceat(d, seg_start[present])
                W[present, a, z] = mx
                hit = np.nonzero(d == mx[np.searchsorted(present, b_of)])[0]
                hb = b_of[hit]
                first = np.unique(hb, return_index=True)[1]
                U[hb[first], a, z] = idx[hit[first]]
        starts, ends, closes, _, last = moves
        gain = np.zeros((self.B, len(starts)))
        for e in range(starts.shape[1]):
            a, z = starts[:, e], ends[:, e]
            valid = a >= 0
            gain[:, valid] += W[:, a[valid], z[valid]]
        ok = closes[None, :] | (cap_free[:, last] >= 1)
        gain = np.where(ok, gain, -np.inf)
        return gain, U

    def exchange(self, moves, tol: float) -> float:
        """One round of the best exchange move per branch that fits the remaining budget."""
        rem_b = self.budget - self.spend()
        capn = np.concatenate([np.full((self.B, 1), np.inf), self.cap - self.used()], axis=1)
        gain, U = self._move_gains(moves, capn)
        starts, ends, _, dk, _ = moves
        gain = np.where(dk[None, :] <= rem_b + _EPS, gain, -np.inf)
        best = gain.argmax(axis=1)
        best_gain = gain[np.arange(self.B), best]
        applied = 0.0
        for b in np.argsort(-best_gain):
            g = best_gain[b]
            if not g > tol:
                break
            m = best[b]
            if dk[m] > rem_b + _EPS:
                continue
            for a, z in zip(starts[m], ends[m]):
                if a < 0:
                    break
                self.ch[U[b, a, z]] = z - 1
            rem_b -= dk[m]
            applied += g
        return applied

    def budget_exchange(self, tol: float) -> float:
        """Drop the lowest value-per-yuan users to pay for the best dearer contact, if it gains."""
        n = self.n
        rem_cap = self.cap - self.used()
        rem_b = self.budget - self.spend()
        a = np.nonzero(self.ch >= 0)[0]
        a = a[self.cost[self.ch[a]] > 0]
        va, ka = self.V[a, self.ch[a]], self.cost[self.ch[a]]
        order = np.argsort(va / ka, kind="stable")
        a, va, ka = a[order], va[order], ka[order]
        cumk = np.concatenate([[0.0], np.cumsum(ka)])
        cumv = np.concatenate([[0.0], np.cumsum(va)])
        rank = np.full(n, np.iinfo(np.int64).max)
        rank[a] = np.arange(len(a))
        on = self.ch >= 0
        cur_v = np.where(on, self.V[np.arange(n), np.maximum(self.ch, 0)], 0.0)
        cur_k = np.where(on, self.cost[np.maximum(self.ch, 0)], 0.0)
        need = self.cost[None, :] - cur_k[:, None] - rem_b
        ok = (rem_cap[self.br] >= 1) & (self.V > _EPS) & (self.V - cur_v[:, None] > tol) & (need > _EPS) \
            & (need <= cumk[-1])
        ii, cc = np.nonzero(ok)
        if len(ii) == 0:
            return 0.0
        k = np.searchsorted(cumk, need[ii, cc] - _EPS)
        own_kept = rank[ii] >= k
        ii, cc, k = ii[own_kept], cc[own_kept], k[own_kept]
        if len(ii) == 0:
            return 0.0
        gain = self.V[ii, cc] - cur_v[ii] - cumv[k]
        j = int(np.argmax(gain))
        if not gain[j] > tol:
            return 0.0
        self.ch[a[:k[j]]] = -1
        self.ch[ii[j]] = cc[j]
        return float(gain[j])


def _move_table(C: int, max_nodes: int = 4):
    """Exchange moves over the nodes {none, channel 1..C}: simple paths and cycles.

    A path ``a -> ... -> z`` moves one user from each node to the next; it
    frees a slot at ``a`` and takes one at ``z`` (which must be free), and costs
    ``k_z - k_a``.  A cycle returns to ``a`` and changes neither capacity nor spend.
    """
    K = C + 1
    seqs, closes = [], []
    for length in range(2, min(K, max_nodes) + 1):
        for seq in itertools.permutations(range(K), length):
            seqs.append(seq)
            closes.append(False)
            if seq[0] == min(seq):  # each cycle once, starting at its smallest node
                seqs.append(seq + (seq[0],))
                closes.append(True)
    width = max(len(s) for s in seqs) - 1
    starts = np.full((len(seqs), width), -1, dtype=np.int64)
    ends = np.full((len(seqs), width), -1, dtype=np.int64)
    last = np.zeros(len(seqs), dtype=np.int64)
    for i, s in enumerate(seqs):
        starts[i, :len(s) - 1] = s[:-1]
        ends[i, :len(s) - 1] = s[1:]
        last[i] = s[-1]
    return starts, ends, np.asarray(closes), last


def plan_channels(problem: ChannelPlanProblem, *, sample_size: int = 50_000, sample_sweeps: int = 60,
                  full_sweeps: int = 3, improve_rounds: int = 50, gap_tol: float = 1e-4, tol: float = 1e-7,
                  seed: int = 0, progress: bool = True) -> ChannelPlan:
    """A near-optimal channel plan for any number of users (Lagrangian relaxation + repair).

    See the module docstring for the method.  Every capacity and the budget
    hold exactly and each user gets at most one channel.

    Parameters
    ----------
    problem : ChannelPlanProblem
    sample_size : int
        Above this many usable users the prices are first found on a random
        sample of this size (capacities and budget scaled to it).
    sample_sweeps : int
        Maximum coordinate sweeps on the sample (or on all users when small).
    full_sweeps : int
        Sweeps over all users after the sample (large inputs only).
    improve_rounds : int
        Maximum rounds of exchange / fill after the repair.
    gap_tol : float
        Stop improving once the plan is provably within this relative distance
        of the optimum (objective >= (1 - gap_tol) x dual bound).
    tol : float
        Relative tolerance: sweeps stop when no price moves by more than
        ``tol`` x the largest net value; improvement stops when a round gains
        less than ``tol`` x the objective.
    seed : int
        Seed of the sample.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    ChannelPlan
        ``upper_bound`` is the dual value at the final prices.  ``info`` holds
        ``mu`` (budget price), ``lambda`` (capacity prices, branch x channel),
        ``sweeps``, ``improve_rounds``, ``objective_after_repair``,
        ``usable_users`` (users with a worthwhile channel) and ``seconds``
        (cumulative time at the end of each phase).
    """
    check_int("sample_size", sample_size, 1)
    t0 = time.perf_counter()
    cost, cap, budget = problem.unit_cost, problem.capacity, problem.budget
    B, C = cap.shape
    order, br, Vt, starts = _sorted_view(problem)
    n = len(order)
    seconds: dict[str, float] = {}
    bar = tqdm(total=3, desc="channel plan", disable=not progress, leave=False)
    scale = float(np.abs(Vt[np.isfinite(Vt)]).max()) if n else 1.0
    step_tol = tol * scale

    dual = _Dual(Vt, br, starts, cost, cap, budget)
    sweeps = 0
    if n:
        if n > sample_size:
            rng = np.random.default_rng(seed)
            pick = np.sort(rng.choice(n, size=sample_size, replace=False))
            sbr = br[pick]
            sizes = np.bincount(br, minlength=B)
            ssizes = np.bincount(sbr, minlength=B)
            frac = np.divide(ssizes, sizes, out=np.zeros(B), where=sizes > 0)
            scap = np.where(np.isfinite(cap), np.floor(cap * frac[:, None]), np.inf)
            sub = _Dual(np.ascontiguousarray(Vt[:, pick]), sbr, np.searchsorted(sbr, np.arange(B + 1)), cost,
                        scap, budget * sample_size / n)
            for _ in range(sample_sweeps):
                sweeps += 1
                if sub.sweep(rtol=1e-4) <= step_tol:
                    break
            dual.set_prices(sub.lam, sub.mu)
            seconds["sample"] = time.perf_counter() - t0
            for i in range(full_sweeps):
                sweeps += 1
                if dual.sweep(rtol=1e-3 if i + 1 < full_sweeps else 1e-4) <= step_tol:
                    break
        else:
            for _ in range(sample_sweeps):
                sweeps += 1
                if dual.sweep(rtol=1e-6) <= step_tol:
                    break
    seconds["dual"] = time.perf_counter() - t0
    bar.update(1)
    upper = dual.value() if n else 0.0

    primal = _Primal(np.ascontiguousarray(Vt.T), br, cost, cap, budget, dual.choices() if n else np.zeros(0, int))
    primal.repair()
    primal.fill(dual.mu)
    repaired = primal.objective()
    seconds["repair"] = time.perf_counter() - t0
    bar.update(1)
    rounds = 0
    if n and upper - repaired > gap_tol * abs(upper):
        moves = _move_table(C)
        closes, last = moves[2], moves[3]
        kn = np.concatenate([[0.0], cost])
        dk = np.where(closes, 0.0, kn[last] - kn[moves[0][:, 0]])
        move_args = (moves[0], moves[1], closes, dk, last)
        for rounds in range(1, improve_rounds + 1):  # noqa: B007 - the rounds done go into info
            before = primal.objective()
            primal.exchange(move_args, tol=_EPS)
            if np.isfinite(budget):
                primal.budget_exchange(tol=_EPS)
            primal.fill(dual.mu)
            after = primal.objective()
            if after - before <= tol * max(abs(before), 1.0) or upper - after <= gap_tol * abs(upper):
                break
    seconds["improve"] = time.perf_counter() - t0
    bar.update(1)
    bar.close()

    users = order[primal.ch >= 0]
    chans = primal.ch[primal.ch >= 0]
    plan, summary, objective = _frames(problem, users, chans, np.ones(len(users)))
    lam = pd.DataFrame(dual.lam, index=pd.Index(problem.branches, name=problem.branch_col),
                       columns=pd.Index(problem.channels, name="channel"))
    info = {"mu": dual.mu, "lambda": lam, "sweeps": sweeps, "improve_rounds": rounds,
            "objective_after_repair": repaired, "usable_users": n, "seconds": seconds}
    return ChannelPlan(plan, summary, objective, max(upper, objective), "lagrangian", info)
