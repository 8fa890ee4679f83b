"""The campaign simulator: contacts, orders, unsubscribes and ARPU from the province's ground truth.

For the demo and the tests, a released campaign can be "run" without people:

* :func:`simulate_execution` records contact attempts as the executors would:
  one row per attempt with ``reached``, ``not_reachable``, ``refused``,
  ``accepted`` or ``call_back`` and a time inside the campaign period.  Each
  channel has a :class:`ChannelProfile` (reach per attempt, attempts, result
  mix); calls are limited by each executor's daily capacity.  With the
  defaults an outbound call reaches ~65 % of the list in three attempts, an SMS
  is "reached" when delivered (95 %).
* :func:`simulate_outcomes` draws what the members then do, from the ground
  truth of :mod:`workbench.data.synth` (``p_order_base``,
  ``p_order_<channel>``, ``p_keep``): a reached target member orders within the
  response window with ``p_order_<channel>`` (after the first reached contact);
  a control member, or a target member never reached, with ``p_order_base``
  (after the campaign start).  Members without a window order keep ordering
  with ``p_order_base`` per 30 days afterwards (the product's ordinary flow).
  Every order is then kept or dropped month by month (free-month leavers
  included) so that it is still held three months later with probability
  ``p_keep``; the result also carries a monthly ARPU panel before and after the
  campaign and the **true** expected incremental orders of the target group.
* :func:`write_simulated` records the simulated contacts and responses in the
  campaign store through its API.

Everything is vectorised numpy over members (the only Python loops run over
attempts and months), seeded and deterministic: the same inputs and seed give
identical frames.  A million members take a few seconds.

Simplifications (documented so the evaluation is read correctly):

* the truth's probabilities are for a 30-day window and are applied to whatever
  ``response_window_days`` is given;
* a member orders at most once during the simulation (no re-order after leaving);
* the executor's ``accepted`` is their record of the conversation; the order
  itself is drawn from the truth independently of it (as in the field, where an
  "accepted" customer may never complete the order and others order later by SMS);
* the month-by-month survival splits ``p_keep`` between the free-month leave
  (share ``free_leave_share`` of ``-log p_keep``) and two months of churn, and
  the churn continues at the same monthly rate afterwards.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.checks import check_day, check_int, require_columns
from workbench.data.tables import ORDER_CHANNELS, PRODUCT_FAMILIES, table
from workbench.errors import ParameterError
from workbench.store.models import BRANCH_ID, CONTACT_RESULTS, SUBSCRIBER_ID
from workbench.tracking.attribution import (
    EDITION, EVENT_DATE, EVENT_ID, EVENT_TYPE, FAMILY, FREE_MONTHS, LOCAL_TIMEZONE, MONTHLY_FEE, ORDER,
    ORDER_CHANNEL, ORDER_COLUMNS, PRODUCT_ID, REACHED_RESULTS, TARGET, UNSUBSCRIBE, add_months,
    catalogue_products, reference_dates, unique_member_ids,
)

__all__ = [
    "ChannelProfile",
    "DEFAULT_PROFILES",
    "TRUTH_CHANNEL_FALLBACK",
    "CONTACT_COLUMNS",
    "EXPOSURE_COLUMNS",
    "ARPU_COLUMNS",
    "SimulatedOutcomes",
    "simulate_execution",
    "simulate_outcomes",
    "arpu_levels",
    "write_simulated",
]

_USAGE = table("monthly_usage")
MONTH: str = _USAGE.column("month").name
ARPU: str = _USAGE.column("arpu").name
#: Columns of :func:`simulate_execution` (``member_id`` only when the members carry it).
CONTACT_COLUMNS: tuple[str, ...] = (
    SUBSCRIBER_ID, "member_id", BRANCH_ID, "channel", "executor", "attempt", "result", "contacted_at",
)
#: Columns of :attr:`SimulatedOutcomes.exposure`.
EXPOSURE_COLUMNS: tuple[str, ...] = (
    SUBSCRIBER_ID, "group", "channel", "reached", "reference_date", "p_order", "p_order_base", "product_id",
    "window_order",
)
#: Columns of :attr:`SimulatedOutcomes.arpu` (a ``monthly_usage``-shaped panel).
ARPU_COLUMNS: tuple[str, ...] = (SUBSCRIBER_ID, MONTH, ARPU)
_RESULT_CODE = {r: i for i, r in enumerate(CONTACT_RESULTS)}
_NOT_REACHABLE = _RESULT_CODE["not_reachable"]
_CALL_BACK = _RESULT_CODE["call_back"]
_NAT = np.datetime64("NaT", "D")


# ------------------------------------------------------------------ execution
@dataclass(frozen=True)
class ChannelProfile:
    """How contacts through one channel go.

    Parameters
    ----------
    reach : float
        Probability that one attempt reaches the person (SMS / WAP Push: is delivered).
    max_attempts : int, default 1
        Attempts per member; another attempt follows ``not_reachable`` and ``call_back``.
    outcomes : mapping of result to probability
        Result mix of a reached attempt over :data:`~workbench.tracking.attribution.REACHED_RESULTS`
        (``reached``, ``refused``, ``accepted``, ``call_back``); must sum to 1.
    capacity_limited : bool, default False
        Attempts take an executor's time (calls, key-account visits): first
        attempts are limited by ``daily_capacity`` per executor and day.
    send_days : int, default 1
        Days over which the first attempts of an unlimited channel (SMS batches,
        IVR runs) are spread.
    retry_days : (int, int), default (1, 3)
        Smallest and largest number of days before the next attempt.
    """

    reach: float
    max_attempts: int = 1
    outcomes: Mapping[str, float] = field(default_factory=lambda: {"reached": 1.0})
    capacity_limited: bool = False
    send_days: int = 1
    retry_days: tuple[int, int] = (1, 3)

    def __post_init__(self):
        if not (isinstance(self.reach, (int, float)) and 0.0 <= self.reach <= 1.0):
            raise ParameterError.invalid("reach", "a probability in [0, 1]", self.reach)
        check_int("max_attempts", self.max_attempts, 1)
        check_int("send_days", self.send_days, 1)
        bad = [k for k in self.outcomes if k not in REACHED_RESULTS]
        if bad:
            raise ParameterError.invalid("outcomes", f"a mapping over {list(REACHED_RESULTS)}", dict(self.outcomes))
        total = float(sum(self.outcomes.values()))
        if any(v < 0 for v in self.outcomes.values()) or abs(total - 1.0) > 1e-9:
            raise ParameterError.invalid("outcomes", "non-negative probabilities summing to 1",
                                         dict(self.outcomes))
        lo, hi = self.retry_days
        if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
            raise ParameterError.invalid("retry_days", "(smallest, largest) days with 1 <= smallest <= largest",
                                         self.retry_days)


#: Default profiles of the campaign channels (``workbench.campaign.spec.CAMPAIGN_CHANNELS``).
#: Outbound calls reach ~65 % in three attempts; SMS and WAP Push count a delivery as reached.
DEFAULT_PROFILES: dict[str, ChannelProfile] = {
    "sms": ChannelProfile(0.95, 1, {"reached": 1.0}, send_days=2),
    "wap_push": ChannelProfile(0.90, 1, {"reached": 1.0}, send_days=2),
    "outbound_call": ChannelProfile(0.30, 3, {"reached": 0.33, "refused": 0.40, "accepted": 0.12, "call_back": 0.15},
                                    capacity_limited=True),
    "ivr": ChannelProfile(0.45, 2, {"reached": 0.64, "refused": 0.28, "accepted": 0.08}, send_days=5),
    "hall": ChannelProfile(0.35, 1, {"reached": 0.50, "refused": 0.35, "accepted": 0.15}, send_days=30),
    "key_account": ChannelProfile(0.60, 3, {"reached": 0.45, "refused": 0.30, "accepted": 0.15, "call_back": 0.10},
                                  capacity_limited=True),
}


#: Channels without their own ``p_order_<channel>`` column in the truth use the response model of
#: another channel: a key-account manager's or a retail hall's personal conversation acts like a call.
TRUTH_CHANNEL_FALLBACK: dict[str, str] = {"key_account": "outbound_call", "hall": "outbound_call"}


def _rngs(seed, k: int) -> list[np.random.Generator]:
    """``k`` independent generators from one seed (each stage draws from its own stream)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError.invalid("seed", "a non-negative integer", seed)
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(k)]


def _treated_rows(members: pd.DataFrame, group_col: str, treated_value) -> np.ndarray:
    return (members[group_col] == treated_value).to_numpy(dtype=bool, na_value=False)


def _pick(u: np.ndarray, cdf_rows: np.ndarray) -> np.ndarray:
    """Index of the category ``u`` falls in, per row of cumulative probabilities."""
    return np.minimum((u[:, None] >= cdf_rows).sum(axis=1), cdf_rows.shape[1] - 1)


def simulate_execution(
    members: pd.DataFrame,
    *,
    start,
    days: int = 14,
    daily_capacity: int = 80,
    coverage: float = 1.0,
    profiles: Mapping[str, ChannelProfile] | None = None,
    hours: tuple[int, int] = (9, 20),
    seed: int = 0,
    group_col: str = "group",
    treated_value=TARGET,
    pace_days: int | None = None,
) -> pd.DataFrame:
    """Contact attempts of the target group as executors would record them.

    Parameters
    ----------
    members : pandas.DataFrame
        The released list (``campaign_members`` / a worklist): ``subscriber_id``,
        ``branch_id``, ``group`` and ``channel``; optional ``executor`` (calls
        without one share a pool per branch), ``score`` (higher scores are called
        first, as the worklist sorts them) and ``member_id`` (passed through).
        Control rows are never contacted.
    start : date
        First day of the campaign period.
    days : int, default 14
        Length of the campaign period; no attempt is made after it.
    daily_capacity : int, default 80
        First attempts one executor makes per day on capacity-limited channels
        (retries come on top); members beyond ``days x daily_capacity`` of their
        executor are never attempted.
    coverage : float, default 1.0
        Share of the target members the executors work at all.
    profiles : mapping of channel to ChannelProfile, optional
        Override or add channel profiles (default :data:`DEFAULT_PROFILES`).
    hours : (int, int), default (9, 20)
        Working hours: attempts fall uniformly between them (local time).
    seed : int, default 0
        Seed of the random streams.
    group_col : str, default "group"
        Column of the experiment group.
    treated_value : object, default "target"
        Value of ``group_col`` of the contacted group.
    pace_days : int, optional
        Spread each executor's first attempts on capacity-limited channels evenly over this
        many days (the plan's period: an executor works the list at the pace that finishes it
        on the last day) instead of filling ``daily_capacity`` from the first day.  With
        ``days`` shorter than ``pace_days`` the lists are left part-worked, as in the middle of
        a campaign.  Batch channels (SMS, WAP Push) then send in waves over the whole period (a
        member's first attempt on a day drawn uniformly from it) instead of their send days.

    Returns
    -------
    pandas.DataFrame
        One row per attempt, columns :data:`CONTACT_COLUMNS` (``member_id`` only
        if given), sorted by subscriber and attempt; ``contacted_at`` is a naive
        local time (``datetime64[us]``).

    Raises
    ------
    ParameterError
        A missing column, a channel without a profile, or a bad parameter.

    Examples
    --------
    >>> members = pd.DataFrame({"subscriber_id": [1, 2, 3], "branch_id": ["hami"] * 3,
    ...     "group": ["target", "target", "control"], "channel": ["sms", "outbound_call", "sms"]})
    >>> c = simulate_execution(members, start="2026-11-02", seed=1)
    >>> sorted(set(c["subscriber_id"]))
    [1, 2]
    """
    require_columns(members, "members", (SUBSCRIBER_ID, BRANCH_ID, group_col, "channel"))
    unique_member_ids(members)
    first_day = check_day("start", start)
    n_days = check_int("days", days, 1)
    capacity = check_int("daily_capacity", daily_capacity, 1)
    pace = None if pace_days is None else check_int("pace_days", pace_days, 1)
    if not (isinstance(coverage, (int, float)) and 0.0 <= coverage <= 1.0):
        raise ParameterError.invalid("coverage", "a share in [0, 1]", coverage)
    h0, h1 = hours
    if not (isinstance(h0, int) and isinstance(h1, int) and 0 <= h0 < h1 <= 24):
        raise ParameterError.invalid("hours", "(first hour, last hour) with 0 <= first < last <= 24", hours)
    table_ = {**DEFAULT_PROFILES, **(dict(profiles) if profiles else {})}
    for name, prof in table_.items():
        if not isinstance(prof, ChannelProfile):
            raise ParameterError.invalid(f"profiles[{name!r}]", "a ChannelProfile", type(prof).__name__)

    rows = members[_treated_rows(members, group_col, treated_value)].reset_index(drop=True)
    channels = list(table_)
    code = pd.Index(channels).get_indexer(rows["channel"])
    if (code < 0).any():
        missing = sorted(rows.loc[code < 0, "channel"].astype(str).unique().tolist())
        raise ParameterError(f"members: channel(s) {missing} have no contact profile; "
                             f"profiles exist for {channels} (pass profiles={{channel: ChannelProfile(...)}}).")
    n = len(rows)
    rng_work, rng_order, rng_attempt = _rngs(seed, 3)
    reach = np.array([table_[c].reach for c in channels])
    max_att = np.array([table_[c].max_attempts for c in channels])
    limited = np.array([table_[c].capacity_limited for c in channels])
    send = np.array([min(table_[c].send_days, n_days) if pace is None else pace for c in channels])
    retry_lo = np.array([table_[c].retry_days[0] for c in channels])
    retry_hi = np.array([table_[c].retry_days[1] for c in channels])
    outcome_cdf = np.zeros((len(channels), len(CONTACT_RESULTS)))
    for i, c in enumerate(channels):
        probs = np.array([table_[c].outcomes.get(r, 0.0) for r in CONTACT_RESULTS])
        outcome_cdf[i] = np.cumsum(probs)

    worked = rng_work.random(n) < coverage
    # first attempt: a batch channel spreads over its send days; a limited one queues per executor
    day = np.floor(rng_order.random(n) * send[code]).astype(np.int64)
    lim = limited[code] & worked
    if lim.any():
        if "executor" in rows.columns:
            owner = rows["executor"].astype(object).where(rows["executor"].notna(),
                                                          "branch:" + rows[BRANCH_ID].astype(str))
        else:
            owner = "branch:" + rows[BRANCH_ID].astype(str)
        owner_code = pd.factorize(owner.astype(str))[0]
        score = (pd.to_numeric(rows["score"], errors="coerce").fillna(-np.inf).to_numpy(float)
                 if "score" in rows.columns else np.zeros(n))
        tie = rng_order.random(n)
        idx = np.flatnonzero(lim)
        order = idx[np.lexsort((tie[idx], -score[idx], owner_code[idx]))]
        grp = owner_code[order]
        starts = np.r_[0, np.flatnonzero(grp[1:] != grp[:-1]) + 1]
        sizes = np.diff(np.r_[starts, len(order)])
        rank = np.arange(len(order)) - np.repeat(starts, sizes)
        day[order] = rank // capacity
        if pace is not None:     # the pace that finishes each executor's list on the period's last day
            day[order] = np.maximum(day[order], rank * pace // np.repeat(sizes, sizes))
    pending = worked & (day < n_days)

    parts = []
    max_attempts = int(max_att.max()) if n else 0
    for attempt in range(1, max_attempts + 1):
        active = pending & (attempt <= max_att[code]) & (day < n_days)
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        c = code[idx]
        u_reach, u_result, u_time, u_retry = (rng_attempt.random(len(idx)) for _ in range(4))
        reached = u_reach < reach[c]
        result = np.full(len(idx), _NOT_REACHABLE, dtype=np.int64)
        result[reached] = _pick(u_result[reached], outcome_cdf[c[reached]])
        seconds = np.floor(h0 * 3600 + u_time * (h1 - h0) * 3600).astype(np.int64)
        when = (first_day + day[idx]).astype("datetime64[s]") + seconds.astype("timedelta64[s]")
        parts.append((idx, np.full(len(idx), attempt), result, when))
        again = (result == _NOT_REACHABLE) | (result == _CALL_BACK)
        pending = np.zeros(n, dtype=bool)
        pending[idx[again]] = True
        gap = retry_lo[c] + np.floor(u_retry * (retry_hi[c] - retry_lo[c] + 1)).astype(np.int64)
        day[idx] = day[idx] + gap

    if parts:
        who = np.concatenate([p[0] for p in parts])
        attempt_no = np.concatenate([p[1] for p in parts])
        result = np.concatenate([p[2] for p in parts])
        when = np.concatenate([p[3] for p in parts])
    else:
        who = np.zeros(0, np.int64)
        attempt_no = np.zeros(0, np.int64)
        result = np.zeros(0, np.int64)
        when = np.zeros(0, "datetime64[s]")
    sort = np.lexsort((attempt_no, rows[SUBSCRIBER_ID].to_numpy(dtype=np.int64)[who]))
    who, attempt_no, result, when = who[sort], attempt_no[sort], result[sort], when[sort]
    out = {SUBSCRIBER_ID: rows[SUBSCRIBER_ID].to_numpy(dtype=np.int64)[who]}
    if "member_id" in rows.columns:
        out["member_id"] = rows["member_id"].to_numpy()[who]
    out[BRANCH_ID] = pd.array(rows[BRANCH_ID].to_numpy()[who], dtype="str")
    out["channel"] = pd.array(rows["channel"].to_numpy()[who], dtype="str")
    executors = rows["executor"].to_numpy(dtype=object) if "executor" in rows.columns else np.full(n, None, object)
    out["executor"] = pd.array(executors[who], dtype="str")
    out["attempt"] = attempt_no.astype(np.int64)
    out["result"] = pd.array(np.asarray(CONTACT_RESULTS, dtype=object)[result], dtype="str")
    out["contacted_at"] = when.astype("datetime64[us]")
    return pd.DataFrame(out)


# ------------------------------------------------------------------ outcomes
@dataclass(frozen=True)
class SimulatedOutcomes:
    """What :func:`simulate_outcomes` returns.

    Attributes
    ----------
    orders : pandas.DataFrame
        ``vas_orders``-shaped order and unsubscribe events of the members
        (every column of the data model), sorted by subscriber and date.
    arpu : pandas.DataFrame
        Monthly ARPU panel (:data:`ARPU_COLUMNS`) of the members before and
        after the campaign; empty without ``arpu_level``.
    exposure : pandas.DataFrame
        One row per member (:data:`EXPOSURE_COLUMNS`): whether reached, the
        reference day, the order probability used, the product offered and
        whether the member ordered inside the response window.
    true_incremental : float
        Expected extra orders of the target group caused by the contacts:
        sum over reached target members of ``p_order_<channel> - p_order_base``.
    true_incremental_kept : float
        The same weighted by ``p_keep`` (extra orders still held 3 months later).
    n_treated : int
        Members of the target group.
    followup_end : pandas.Timestamp
        Last day simulated (events after it are not written).
    """

    orders: pd.DataFrame
    arpu: pd.DataFrame
    exposure: pd.DataFrame
    true_incremental: float
    true_incremental_kept: float
    n_treated: int
    followup_end: pd.Timestamp

    @property
    def true_incremental_rate(self) -> float:
        """True expected lift of the target group's response rate (``true_incremental / n_treated``)."""
        return self.true_incremental / self.n_treated if self.n_treated else float("nan")


def arpu_levels(usage: pd.DataFrame, before, months: int = 3) -> pd.Series:
    """Each subscriber's ARPU level: the mean ``arpu`` of the last ``months`` months before ``before``.

    Parameters
    ----------
    usage : pandas.DataFrame
        ``monthly_usage`` rows (at least ``subscriber_id``, ``month``, ``arpu``).
    before : date
        Months starting on or after the month of this day are not used.
    months : int, default 3
        How many of the latest months before it to average.

    Returns
    -------
    pandas.Series
        Indexed by ``subscriber_id``, named ``arpu``.
    """
    require_columns(usage, "usage", (SUBSCRIBER_ID, MONTH, ARPU))
    k = check_int("months", months, 1)
    first = check_day("before", before).astype("datetime64[M]")
    month = pd.to_datetime(usage[MONTH]).to_numpy(dtype="datetime64[M]")
    keep = (month < first) & (month >= first - k)
    part = usage.loc[keep, [SUBSCRIBER_ID, ARPU]]
    level = part.groupby(SUBSCRIBER_ID, sort=True)[ARPU].mean()
    level.name = ARPU
    return level


def _product_choice(members: pd.DataFrame, truth_rows: pd.DataFrame, family_products: pd.DataFrame,
                    edition_col: str) -> np.ndarray:
    """Index into ``family_products`` of the product each member would order."""
    n = len(members)
    editions = family_products[EDITION].astype(object).tolist() if EDITION in family_products else []
    pref_cols = [f"pref_{e}" for e in editions if e is not None and f"pref_{e}" in truth_rows.columns]
    choice = np.zeros(n, dtype=np.int64)
    if pref_cols and len(pref_cols) == len(editions):
        choice = np.argmax(truth_rows[pref_cols].to_numpy(float), axis=1)
    if edition_col in members.columns and editions:
        offered = pd.Index([e for e in editions]).get_indexer(members[edition_col].astype(object))
        choice = np.where(offered >= 0, offered, choice)
    return choice


def simulate_outcomes(
    members: pd.DataFrame,
    contacts: pd.DataFrame | None,
    truth: pd.DataFrame,
    *,
    campaign_start,
    response_window_days: int = 30,
    months_after: int = 3,
    seed: int = 0,
    family: str = "mobile_newspaper",
    products: pd.DataFrame | None = None,
    arpu_level: pd.Series | pd.DataFrame | None = None,
    months_before: int = 3,
    arpu_noise: float = 0.15,
    free_leave_share: float = 0.75,
    response_lag_days: float = 5.0,
    background: bool = True,
    group_col: str = "group",
    treated_value=TARGET,
    edition_col: str = "edition",
    truth_channel: Mapping[str, str] | None = None,
    first_event_id: int = 10**13,
    tz: str = LOCAL_TIMEZONE,
) -> SimulatedOutcomes:
    """Orders, unsubscribes and ARPU of a campaign's members, drawn from the ground truth.

    Parameters
    ----------
    members : pandas.DataFrame
        The released list: ``subscriber_id``, ``group`` and ``channel`` (the
        channel of a target member's contact); optional ``edition`` (the
        offered edition; default the member's preferred one).
    contacts : pandas.DataFrame or None
        Contact attempts (:func:`simulate_execution` or the store's
        ``contact_results``): a target member is *reached* by the first contact
        with a reached result; with None nobody is reached.
    truth : pandas.DataFrame
        ``subscriber_truth`` rows of the members (``subscriber_id``,
        ``p_order_base``, ``p_order_<channel>`` of every channel used,
        ``p_keep``; ``pref_<edition>`` used when present).
    campaign_start : date
        First day of the campaign.
    response_window_days : int, default 30
        Days after the reference day in which campaign orders fall (inclusive).
    months_after : int, default 3
        Calendar months simulated after the month of the last window day.
    seed : int, default 0
        Seed of the random streams.
    family : str, default "mobile_newspaper"
        Product family ordered.
    products : pandas.DataFrame, optional
        ``vas_products`` catalogue (default: the synthetic province's).
    arpu_level : pandas.Series or DataFrame, optional
        Each member's monthly ARPU level: a Series indexed by ``subscriber_id``
        or ``monthly_usage`` rows (then :func:`arpu_levels` of the
        ``months_before`` months before the campaign).  Without it no ARPU panel
        is made.  Members without a level get no ARPU rows.
    months_before : int, default 3
        Months of ARPU panel before the campaign month.
    arpu_noise : float, default 0.15
        Standard deviation of the monthly log-normal ARPU noise.
    free_leave_share : float, default 0.75
        Share of the 3-month loss ``-log p_keep`` due to free-month leavers.
    response_lag_days : float, default 5.0
        Mean days from a reached contact to the order (truncated exponential).
    background : bool, default True
        Draw the ordinary ``p_order_base`` flow after the window too.
    group_col : str, default "group"
        Column of the experiment group.
    treated_value : object, default "target"
        Value of ``group_col`` of the contacted group.
    edition_col : str, default "edition"
        Column of the offered edition.
    truth_channel : mapping of channel to channel, optional
        For channels without a ``p_order_<channel>`` truth column, the channel
        whose response model they use (default :data:`TRUTH_CHANNEL_FALLBACK`).
    first_event_id : int, default 10**13
        ``event_id`` of the first simulated event (the province's ids stay below).
    tz : str, default :data:`~workbench.tracking.attribution.LOCAL_TIMEZONE`
        Time zone in which contact days are counted.

    Returns
    -------
    SimulatedOutcomes

    Raises
    ------
    ParameterError
        Missing columns, members without truth rows, a channel without a
        ``p_order_<channel>`` column, an unknown family, or a bad parameter.
    """
    require_columns(members, "members", (SUBSCRIBER_ID, group_col, "channel"))
    ids = unique_member_ids(members)
    require_columns(truth, "truth", (SUBSCRIBER_ID, "p_order_base", "p_keep"))
    start = check_day("campaign_start", campaign_start)
    window = check_int("response_window_days", response_window_days, 0)
    after = check_int("months_after", months_after, 0)
    before_m = check_int("months_before", months_before, 0)
    if family not in PRODUCT_FAMILIES:
        raise ParameterError.invalid("family", f"one of {list(PRODUCT_FAMILIES)}", family)
    for name, value, lo, hi in (("free_leave_share", free_leave_share, 0.0, 1.0), ("arpu_noise", arpu_noise, 0.0, 5.0),
                                ("response_lag_days", response_lag_days, 1e-9, 1e6)):
        if not (isinstance(value, (int, float)) and lo <= value <= hi):
            raise ParameterError.invalid(name, f"a number in [{lo:g}, {hi:g}]", value)
    if products is not None:
        require_columns(products, "products", (PRODUCT_ID, FAMILY, FREE_MONTHS, MONTHLY_FEE))
    catalogue = catalogue_products() if products is None else products
    fam_products = catalogue[catalogue[FAMILY] == family].reset_index(drop=True)
    if fam_products.empty:
        raise ParameterError(f"The product catalogue has no product of family {family!r}.")

    n = len(ids)
    tpos = pd.Index(truth[SUBSCRIBER_ID].to_numpy(dtype=np.int64)).get_indexer(ids)
    if (tpos < 0).any():
        raise ParameterError(f"truth: no row for {int((tpos < 0).sum())} members, e.g. subscriber_id "
                             f"{ids[tpos < 0][:5].tolist()}; pass the truth of the same province.")
    t = truth.iloc[tpos].reset_index(drop=True)
    p_base = t["p_order_base"].to_numpy(float)
    p_keep = t["p_keep"].to_numpy(float)
    for name, arr in (("p_order_base", p_base), ("p_keep", p_keep)):
        if np.isnan(arr).any() or (arr < 0).any() or (arr > 1).any():
            raise ParameterError(f"truth: column {name!r} must hold probabilities in [0, 1] for every member.")

    treated = _treated_rows(members, group_col, treated_value)
    refs = reference_dates(members, contacts, campaign_start, group_col=group_col, treated_value=treated_value,
                           tz=tz)
    ref = refs["reference_date"].to_numpy(dtype="datetime64[D]")
    reached = treated & (refs["reference"].to_numpy() == "contact")
    p_order = p_base.copy()
    chan = members["channel"].astype(object).to_numpy()
    fallback = TRUTH_CHANNEL_FALLBACK if truth_channel is None else dict(truth_channel)
    for ch in pd.unique(chan[reached]):
        col = f"p_order_{ch}"
        if col not in t.columns and ch in fallback:
            col = f"p_order_{fallback[ch]}"
        if col not in t.columns:
            have = [c for c in t.columns if c.startswith("p_order_") and c != "p_order_base"]
            raise ParameterError(f"truth has no column {col!r} for members contacted through {ch!r}; "
                                 f"it has {have} (map the channel to one of them with truth_channel=).")
        sel = reached & (chan == ch)
        p_order[sel] = t[col].to_numpy(float)[sel]
    true_inc = float(np.sum((p_order - p_base)[reached]))
    true_inc_kept = float(np.sum(((p_order - p_base) * p_keep)[reached]))

    rng_order, rng_lag, rng_back, rng_keep, rng_chan, rng_arpu = _rngs(seed, 6)
    product_ix = _product_choice(members.reset_index(drop=True), t, fam_products, edition_col)

    # 1. orders inside the window ---------------------------------------------------------
    window_order = rng_order.random(n) < p_order
    u_lag = rng_lag.random(n)
    span = window + 1
    lam = 1.0 / float(response_lag_days)
    expo = np.floor(-np.log1p(-u_lag * (1.0 - np.exp(-lam * span))) / lam).astype(np.int64)
    uniform = np.floor(rng_lag.random(n) * span).astype(np.int64)
    lag = np.minimum(np.where(reached, expo, uniform), window)
    order_day = np.where(window_order, ref + lag, _NAT)

    last_window_day = (ref.max() if n else start) + window
    end_month = last_window_day.astype("datetime64[M]") + after
    followup_end = (end_month + 1).astype("datetime64[D]") - np.timedelta64(1, "D")

    # 2. the ordinary flow after the window: p_order_base per 30 days ------------------------
    if background and n:
        free = ~window_order
        period = ref + window + 1
        while free.any() and (period[free] <= followup_end).any():
            draw = free & (period <= followup_end) & (rng_back.random(n) < p_base)
            day = period + np.floor(rng_back.random(n) * 30).astype(np.int64)
            take = draw & (day <= followup_end)
            order_day[take] = day[take]
            free &= ~take
            period = period + 30
    ordered = ~np.isnat(order_day)
    via_campaign = ordered & window_order & reached

    # 3. keep or leave, month by month -----------------------------------------------------
    who = np.flatnonzero(ordered)
    d0 = order_day[who]
    keep = p_keep[who]
    free_m = fam_products[FREE_MONTHS].to_numpy(dtype=np.int64)[product_ix[who]]
    with np.errstate(divide="ignore"):
        q = 1.0 - np.power(keep, free_leave_share)
        c = 1.0 - np.power(keep, (1.0 - free_leave_share) / 2.0)
    end = np.full(len(who), _NAT, dtype="datetime64[D]")
    first_end = add_months(d0, np.maximum(free_m, 1))
    leave = rng_keep.random(len(who)) < q
    from workbench.data.synth.subscriptions import FREE_LEAVE_DAYS
    back = 1 + np.floor(rng_keep.random(len(who)) * FREE_LEAVE_DAYS).astype(np.int64)
    in_first = d0 + 1 + np.floor(rng_keep.random(len(who)) * np.maximum((first_end - d0).astype(np.int64) - 1, 1)
                                 ).astype(np.int64)
    leave_day = np.where(free_m > 0, np.maximum(first_end - back, d0 + 1), in_first)
    end[leave] = leave_day[leave]
    k = 1
    while True:
        p_start = add_months(d0, np.maximum(free_m, 1) + k - 1)
        alive = np.isnat(end) & (p_start <= followup_end)
        if not alive.any():
            break
        p_end = add_months(d0, np.maximum(free_m, 1) + k)
        churn = alive & (rng_keep.random(len(who)) < c)
        offset = np.floor(rng_keep.random(len(who)) * (p_end - p_start).astype(np.int64)).astype(np.int64)
        end[churn] = (p_start + offset)[churn]
        k += 1
    gone = ~np.isnat(end) & (end <= followup_end)

    # 4. the events ---------------------------------------------------------------------------
    from workbench.data.synth.subscriptions import (
        ORDER_CHANNEL_MIX,
        UNSUBSCRIBE_CHANNEL_MIX,
    )

    organic_cdf = np.cumsum(ORDER_CHANNEL_MIX[PRODUCT_FAMILIES.index(family)])
    unsub_cdf = np.cumsum(UNSUBSCRIBE_CHANNEL_MIX)
    channels = np.asarray(ORDER_CHANNELS, dtype=object)
    o_chan = channels[_pick(rng_chan.random(len(who)), organic_cdf[None, :])]
    campaign = via_campaign[who]
    contact_chan = chan[who]
    known = pd.Index(ORDER_CHANNELS).get_indexer(contact_chan) >= 0
    o_chan = np.where(campaign & known, contact_chan, o_chan)
    u_who = who[gone]
    u_chan = channels[_pick(rng_chan.random(len(u_who)), unsub_cdf[None, :])]
    pid = fam_products[PRODUCT_ID].astype(str).to_numpy()
    ev_sub = np.r_[ids[who], ids[u_who]]
    ev_day = np.r_[d0, end[gone]]
    ev_type = np.r_[np.zeros(len(who), np.int8), np.ones(len(u_who), np.int8)]
    ev_prod = np.r_[product_ix[who], product_ix[u_who]]
    ev_chan = np.r_[o_chan, u_chan]
    sort = np.lexsort((ev_type, ev_day, ev_sub))
    orders = pd.DataFrame({
        EVENT_ID: np.int64(first_event_id) + np.arange(len(sort), dtype=np.int64),
        SUBSCRIBER_ID: ev_sub[sort],
        PRODUCT_ID: pd.array(pid[ev_prod[sort]], dtype="str"),
        EVENT_DATE: ev_day[sort].astype("datetime64[us]"),
        EVENT_TYPE: pd.array(np.where(ev_type[sort] == 0, ORDER, UNSUBSCRIBE), dtype="str"),
        ORDER_CHANNEL: pd.array(ev_chan[sort].astype(str), dtype="str"),
    })[list(ORDER_COLUMNS)]

    # 5. ARPU panel -------------------------------------------------------------------------------
    arpu = pd.DataFrame({SUBSCRIBER_ID: np.zeros(0, np.int64), MONTH: np.zeros(0, "datetime64[us]"),
                         ARPU: np.zeros(0, float)})
    if arpu_level is not None:
        if isinstance(arpu_level, pd.DataFrame):
            level_s = arpu_levels(arpu_level, campaign_start, max(before_m, 1))
        elif isinstance(arpu_level, pd.Series):
            level_s = arpu_level
        else:
            raise ParameterError.invalid("arpu_level", "a Series indexed by subscriber_id or monthly_usage rows",
                                         type(arpu_level).__name__)
        lpos = pd.Index(level_s.index.to_numpy(dtype=np.int64)).get_indexer(ids)
        has = lpos >= 0
        level = np.where(has, level_s.to_numpy(float)[np.maximum(lpos, 0)], np.nan)
        has &= ~np.isnan(level)
        months = np.arange(start.astype("datetime64[M]") - before_m, end_month + 1)
        fee = np.zeros((n, len(months)))
        o_month = d0.astype("datetime64[M]")
        fee_of = fam_products[MONTHLY_FEE].to_numpy(float)[product_ix[who]]
        for j, m in enumerate(months):
            m_end = (m + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
            held = (d0 <= m_end) & (np.isnat(end) | (end > m_end))
            billed = held & ((m - o_month).astype(np.int64) >= free_m)
            np.add.at(fee[:, j], who[billed], fee_of[billed])
        sigma = float(arpu_noise)
        noise = np.exp(rng_arpu.normal(-0.5 * sigma**2, sigma, size=(n, len(months))))
        value = level[:, None] * noise + fee
        rows = np.flatnonzero(has)
        arpu = pd.DataFrame({
            SUBSCRIBER_ID: np.repeat(ids[rows], len(months)),
            MONTH: np.tile(months.astype("datetime64[us]"), len(rows)),
            ARPU: np.round(value[rows].ravel(), 2),
        })

    exposure = pd.DataFrame({
        SUBSCRIBER_ID: ids,
        "group": members[group_col].to_numpy(),
        "channel": members["channel"].to_numpy(),
        "reached": reached,
        "reference_date": ref.astype("datetime64[us]"),
        "p_order": p_order,
        "p_order_base": p_base,
        PRODUCT_ID: pd.array(pid[product_ix], dtype="str"),
        "window_order": window_order,
    })
    return SimulatedOutcomes(orders=orders, arpu=arpu, exposure=exposure, true_incremental=true_inc,
                             true_incremental_kept=true_inc_kept, n_treated=int(treated.sum()),
                             followup_end=pd.Timestamp(followup_end))


# ------------------------------------------------------------------ the store
def write_simulated(store, campaign_id: int, contacts: pd.DataFrame, responses: pd.DataFrame | None = None, *,
                    user=None, version: int | None = None, note: str = "simulated", tz: str = LOCAL_TIMEZONE,
                    batch_size: int = 100_000, progress: bool = True) -> dict[str, int]:
    """Record simulated contacts and responses in the campaign store, through its API.

    Contacts go through :meth:`~workbench.store.Store.record_results` in
    batches of ``batch_size`` (each batch one transaction and one audit row),
    recorded on behalf of the member's executor (the acting user where the
    list names none), each with the ``client_request_id``
    ``sim-<campaign>-<member>-<attempt>``, so running it again records nothing
    twice.  Responses (the responders of
    :func:`~workbench.tracking.attribution.attribute_responses`) go through
    :meth:`~workbench.store.Store.record_responses` in one call; rows already
    stored for the version are left out.

    Parameters
    ----------
    store : workbench.store.Store
        The campaign store.
    campaign_id : int
        The released campaign.
    contacts : pandas.DataFrame
        :func:`simulate_execution` rows (``subscriber_id``, ``result``,
        ``contacted_at``, ``attempt``).  Naive times are local (``tz``).
    responses : pandas.DataFrame, optional
        :func:`~workbench.tracking.attribution.attribute_responses` output;
        its ``responded`` rows are recorded with ``response_date``,
        ``response_product`` and ``stable``.
    user : workbench.store.User, optional
        The acting user (default :data:`workbench.store.SYSTEM_USER`, an admin).
    version : int, optional
        Campaign version (default: the newest released).
    note : str, default "simulated"
        Note stored with each contact.
    tz : str
        Time zone of naive contact times.
    batch_size : int, default 100_000
        Contacts per call of :meth:`~workbench.store.Store.record_results`.
    progress : bool, default True
        Show a progress bar over the batches.

    Returns
    -------
    dict
        ``contacts_written``, ``contacts_already_stored`` and ``responses_written``.

    Raises
    ------
    ParameterError
        Missing columns, a subscriber not on the campaign's target list, or
        contact times in the future (the store refuses them; simulate an
        earlier campaign period).
    """
    from tqdm.auto import tqdm

    from workbench.store import SYSTEM_USER

    actor = SYSTEM_USER if user is None else user
    require_columns(contacts, "contacts", (SUBSCRIBER_ID, "result", "contacted_at"))
    listed = store.worklist(actor, campaign_id, version=version)
    member_of = pd.Series(listed["member_id"].to_numpy(), index=listed[SUBSCRIBER_ID].to_numpy(dtype=np.int64))
    pos = pd.Index(member_of.index).get_indexer(contacts[SUBSCRIBER_ID].to_numpy(dtype=np.int64))
    if (pos < 0).any():
        raise ParameterError(
            f"contacts: {int((pos < 0).sum())} rows name subscribers not on the target list of campaign "
            f"{campaign_id}, e.g. {contacts.loc[pos < 0, SUBSCRIBER_ID].head(5).tolist()}"
        )
    when = pd.to_datetime(contacts["contacted_at"])
    if getattr(when.dt, "tz", None) is None:
        when = when.dt.tz_localize(tz)
    when = when.dt.tz_convert("UTC")
    now = pd.Timestamp(dt.datetime.now(dt.timezone.utc))
    future = when > now
    if future.any():
        raise ParameterError(
            f"contacts: {int(future.sum())} contact times are in the future (latest {when.max()}); the store "
            f"accepts only past contacts. Simulate a campaign period that has passed."
        )
    attempts = (contacts["attempt"].to_numpy(dtype=np.int64) if "attempt" in contacts.columns
                else contacts.groupby(SUBSCRIBER_ID).cumcount().to_numpy() + 1)
    size = check_int("batch_size", batch_size, 1)
    member_ids = member_of.to_numpy()[pos].astype(np.int64)
    executor = (contacts["executor"].astype(object).where(contacts["executor"].notna(), None).to_numpy()
                if "executor" in contacts.columns else np.full(len(contacts), None, dtype=object))
    batch = pd.DataFrame({
        "member_id": member_ids,
        "result": contacts["result"].astype(str).to_numpy(),
        "contacted_at": when.dt.tz_localize(None).to_numpy(),   # naive UTC
        "note": note,
        "client_request_id": [f"sim-{campaign_id}-{mid}-{k}" for mid, k in zip(member_ids.tolist(),
                                                                                 attempts.tolist())],
        "executor": executor,
    })
    written = 0
    for start in tqdm(range(0, len(batch), size), desc="contact results", unit="batch",
                      disable=not progress or len(batch) <= size):
        recorded = store.record_results(actor, batch.iloc[start:start + size])
        written += int(recorded["created"].sum())
    out = {"contacts_written": written, "contacts_already_stored": len(contacts) - written, "responses_written": 0}
    if responses is not None:
        require_columns(responses, "responses",
                        (SUBSCRIBER_ID, "responded", "response_date", "response_product", "stable"))
        hit = responses[responses["responded"].astype(bool)]
        frame = pd.DataFrame({
            SUBSCRIBER_ID: hit[SUBSCRIBER_ID].to_numpy(dtype=np.int64),
            "order_date": pd.to_datetime(hit["response_date"]).dt.date,
            "product": hit["response_product"].astype(str).to_numpy(),
            "stable": hit["stable"].astype("boolean").to_numpy(dtype=object, na_value=None),
        })
        number = int(listed["version"].iloc[0]) if len(listed) else version
        stored = store.responses(actor, campaign_id)
        if len(stored) and len(frame):
            stored = stored[stored["version"] == number]
            have = set(zip(stored[SUBSCRIBER_ID].astype(np.int64), pd.to_datetime(stored["order_date"]).dt.date,
                           stored["product"].astype(str)))
            keys = zip(frame[SUBSCRIBER_ID], frame["order_date"], frame["product"])
            new = [key not in have for key in keys]
            frame = frame[np.asarray(new, dtype=bool)]
        if len(frame):
            out["responses_written"] = store.record_responses(actor, campaign_id, frame, version=number)
    return out
