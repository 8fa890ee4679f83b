"""Quality of the acquired subscribers and growth of the product.

Pure functions on the output of
:func:`~workbench.tracking.attribution.attribute_responses` (one row per
member) and on monthly tables; figures are in :mod:`workbench.viz.quality`.

* :func:`retention_table` - of the responders (acquired subscribers), the share
  still subscribed 1, 2, 3 months after the order, target vs control
  acquisitions, with each share's Wilson interval and the difference's
  Newcombe interval and p-value (:func:`workbench.metrics.experiment.proportion_effect`);
* :func:`unsubscribe_table` - unsubscribe rate and free-month-leaver rate of
  the responders, target vs control, with the same statistics;
* :func:`arpu_did` - ARPU change before / after the campaign as a
  difference-in-differences (target vs control group, and target responders vs
  control responders), OLS with a heteroskedasticity-robust standard error;
* :func:`product_trend` - the product's subscribers and flows by month: the
  province's history followed by the simulated (or observed) campaign months,
  with the campaign period marked.

Definitions (days, as in :mod:`workbench.features.subscriptions`: a subscriber
who unsubscribes on day *d* is no longer subscribed on *d*):

retained at *k* months
    the stay of the response is still open on ``response_date + k`` calendar
    months.  Only responders whose *k*-month day is on or before ``as_of`` are
    counted (a cohort is compared once it has been observed that long).
free-month leaver
    the stay ended before ``response_date + free_months`` months; counted among
    the responders whose free period ended on or before ``as_of``.
unsubscribed
    the stay ended on or before ``as_of`` (all responders; a rate that grows with
    the follow-up, so compare groups evaluated on the same day).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.checks import check_day, check_int, require_columns
from workbench.errors import ParameterError
from workbench.metrics.experiment import proportion_effect
from workbench.store.models import SUBSCRIBER_ID
from workbench.tracking.attribution import CONTROL, ORDER_COLUMNS, TARGET, add_months

__all__ = [
    "RATE_COLUMNS",
    "RETENTION_COLUMNS",
    "UNSUBSCRIBE_COLUMNS",
    "DID_COLUMNS",
    "TREND_COLUMNS",
    "retention_table",
    "unsubscribe_table",
    "arpu_did",
    "product_trend",
]

#: Statistics columns shared by :func:`retention_table` and :func:`unsubscribe_table`.
RATE_COLUMNS: tuple[str, ...] = (
    "n_treated", "count_treated", "rate_treated", "rate_treated_ci_low", "rate_treated_ci_high",
    "n_control", "count_control", "rate_control", "rate_control_ci_low", "rate_control_ci_high",
    "abs_lift", "abs_ci_low", "abs_ci_high", "p_value", "note",
)
#: Columns of :func:`retention_table`.
RETENTION_COLUMNS: tuple[str, ...] = ("months", *RATE_COLUMNS)
#: Columns of :func:`unsubscribe_table`.
UNSUBSCRIBE_COLUMNS: tuple[str, ...] = ("metric", *RATE_COLUMNS)
#: Columns of :func:`arpu_did`.
DID_COLUMNS: tuple[str, ...] = (
    "comparison", "n_treated", "n_control",
    "pre_treated", "post_treated", "change_treated", "pre_control", "post_control", "change_control",
    "did", "se", "ci_low", "ci_high", "p_value", "note",
)
#: Columns of :func:`product_trend`.
TREND_COLUMNS: tuple[str, ...] = (
    "month", "subscribers", "orders", "unsubscribes", "free_month_leavers", "net_adds", "source", "in_campaign",
)
#: The comparisons :func:`arpu_did` can make.
DID_COMPARISONS: tuple[str, ...] = ("groups", "responders")
_ATTR_NEEDED = ("responded", "response_date", "subscribed_until")


# ------------------------------------------------------------------ helpers
def _groups(attribution: pd.DataFrame, group_col: str, treated_value, control_value) -> tuple[np.ndarray, np.ndarray]:
    g = attribution[group_col]
    treated = (g == treated_value).to_numpy(dtype=bool, na_value=False)
    control = (g == control_value).to_numpy(dtype=bool, na_value=False)
    if not treated.any() and not control.any():
        raise ParameterError(
            f"Column {group_col!r} holds neither the treated value {treated_value!r} nor the control value "
            f"{control_value!r}; its values are {sorted(g.dropna().astype(str).unique().tolist())[:10]}."
        )
    return treated, control


def _wilson(count: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.stats.proportion import proportion_confint

    lo = np.full(len(n), np.nan)
    hi = np.full(len(n), np.nan)
    ok = n > 0
    if ok.any():
        lo[ok], hi[ok] = proportion_confint(count[ok], n[ok], alpha=alpha, method="wilson")
    return lo, hi


def _rates(count_t, n_t, count_c, n_c, alpha: float) -> pd.DataFrame:
    """One row per comparison: both groups' rates with Wilson intervals and the lift (Newcombe)."""
    count_t, n_t, count_c, n_c = (np.asarray(a, dtype=float) for a in (count_t, n_t, count_c, n_c))
    eff = proportion_effect(count_t, n_t, count_c, n_c, alpha=alpha)
    t_lo, t_hi = _wilson(count_t, n_t, alpha)
    c_lo, c_hi = _wilson(count_c, n_c, alpha)
    return pd.DataFrame({
        "n_treated": n_t.astype(np.int64), "count_treated": count_t.astype(np.int64),
        "rate_treated": eff["mean_treated"].to_numpy(), "rate_treated_ci_low": t_lo, "rate_treated_ci_high": t_hi,
        "n_control": n_c.astype(np.int64), "count_control": count_c.astype(np.int64),
        "rate_control": eff["mean_control"].to_numpy(), "rate_control_ci_low": c_lo, "rate_control_ci_high": c_hi,
        "abs_lift": eff["abs_lift"].to_numpy(), "abs_ci_low": eff["abs_ci_low"].to_numpy(),
        "abs_ci_high": eff["abs_ci_high"].to_numpy(), "p_value": eff["p_value"].to_numpy(),
        "note": eff["note"].to_numpy(),
    })


def _responders(attribution, group_col, treated_value, control_value):
    require_columns(attribution, "attribution", (group_col, *_ATTR_NEEDED))
    treated, control = _groups(attribution, group_col, treated_value, control_value)
    resp = attribution["responded"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    day = attribution["response_date"].to_numpy(dtype="datetime64[D]")
    end = attribution["subscribed_until"].to_numpy(dtype="datetime64[D]")
    return treated & resp, control & resp, day, end


def _check_alpha(alpha) -> float:
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ParameterError.invalid("alpha", "a number strictly between 0 and 1", alpha)
    return float(alpha)


# ------------------------------------------------------------------ retention and unsubscribes
def retention_table(
    attribution: pd.DataFrame,
    *,
    as_of,
    months: Sequence[int] = (1, 2, 3),
    group_col: str = "group",
    treated_value=TARGET,
    control_value=CONTROL,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Share of acquired subscribers still subscribed ``k`` months after their order, target vs control.

    Parameters
    ----------
    attribution : pandas.DataFrame
        :func:`~workbench.tracking.attribution.attribute_responses` output
        (``group``, ``responded``, ``response_date``, ``subscribed_until``).
    as_of : date
        The day of the evaluation (the ``as_of`` of the attribution).
    months : sequence of int, default (1, 2, 3)
        Months after the order (each >= 1).
    group_col : str, default "group"
        Column of the experiment group.
    treated_value, control_value : object
        Values of ``group_col`` of the target and the control group.
    alpha : float, default 0.05
        ``1 - alpha`` is the coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per ``months`` value, columns :data:`RETENTION_COLUMNS`:
        ``n_*`` responders observed that long, ``count_*`` still subscribed,
        ``rate_*`` with Wilson intervals, the difference (target - control) with
        the Newcombe interval and the pooled z-test p-value; ``note`` as in
        :mod:`workbench.metrics.experiment`.

    Raises
    ------
    ParameterError
        Missing columns, no member in either group, a bad month or alpha.

    Examples
    --------
    >>> att = pd.DataFrame({"group": ["target", "target", "control"], "responded": [True, True, True],
    ...     "response_date": pd.to_datetime(["2026-11-05"] * 3),
    ...     "subscribed_until": pd.to_datetime(["2026-11-20", None, None])})
    >>> retention_table(att, as_of="2027-03-31", months=[1])[["rate_treated", "rate_control"]].values.tolist()
    [[0.5, 1.0]]
    """
    alpha = _check_alpha(alpha)
    ks = [check_int("months", k, 1) for k in (months if not isinstance(months, int) else [months])]
    if not ks:
        raise ParameterError.invalid("months", "at least one month count >= 1", months)
    cutoff = check_day("as_of", as_of)
    t_resp, c_resp, day, end = _responders(attribution, group_col, treated_value, control_value)
    counts = []
    for k in ks:
        point = add_months(day, k)
        seen = ~np.isnat(day) & (point <= cutoff)
        kept = seen & (np.isnat(end) | (end > point))
        counts.append((np.sum(kept & t_resp), np.sum(seen & t_resp), np.sum(kept & c_resp), np.sum(seen & c_resp)))
    ct, nt, cc, nc = (np.array(x) for x in zip(*counts))
    out = _rates(ct, nt, cc, nc, alpha)
    out.insert(0, "months", np.asarray(ks, dtype=np.int64))
    return out[list(RETENTION_COLUMNS)]


def unsubscribe_table(
    attribution: pd.DataFrame,
    *,
    as_of,
    free_months: int = 1,
    group_col: str = "group",
    treated_value=TARGET,
    control_value=CONTROL,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Unsubscribe rate and free-month-leaver rate of the acquired subscribers, target vs control.

    Parameters
    ----------
    attribution : pandas.DataFrame
        :func:`~workbench.tracking.attribution.attribute_responses` output.
    as_of : date
        The day of the evaluation.
    free_months : int, default 1
        Free months of the offer (the mobile newspaper's first month is free).
    group_col, treated_value, control_value, alpha
        As for :func:`retention_table`.

    Returns
    -------
    pandas.DataFrame
        Two rows, ``metric`` = ``"unsubscribed"`` (stay ended by ``as_of``,
        among all responders) and ``"free_month_leaver"`` (ended inside the free
        months, among responders whose free months are over by ``as_of``), with
        :data:`RATE_COLUMNS`.

    Raises
    ------
    ParameterError
        Missing columns, no member in either group, a bad ``free_months`` or alpha.
    """
    alpha = _check_alpha(alpha)
    fm = check_int("free_months", free_months, 1)
    cutoff = check_day("as_of", as_of)
    t_resp, c_resp, day, end = _responders(attribution, group_col, treated_value, control_value)
    ended = ~np.isnat(end) & (end <= cutoff)
    free_end = add_months(day, fm)
    seen = ~np.isnat(day) & (free_end <= cutoff)
    leaver = seen & ~np.isnat(end) & (end < free_end)
    ct = [np.sum(ended & t_resp), np.sum(leaver & t_resp)]
    nt = [np.sum(t_resp), np.sum(seen & t_resp)]
    cc = [np.sum(ended & c_resp), np.sum(leaver & c_resp)]
    nc = [np.sum(c_resp), np.sum(seen & c_resp)]
    out = _rates(ct, nt, cc, nc, alpha)
    out.insert(0, "metric", ["unsubscribed", "free_month_leaver"])
    return out[list(UNSUBSCRIBE_COLUMNS)]


# ------------------------------------------------------------------ ARPU difference-in-differences
def _ols_did(change: np.ndarray, treated: np.ndarray, alpha: float, cov_type: str) -> tuple[float, ...]:
    """(estimate, se, ci_low, ci_high, p) of ``change ~ 1 + treated`` with a robust covariance."""
    import statsmodels.api as sm

    X = np.column_stack([np.ones(len(change)), treated.astype(float)])
    fit = sm.OLS(change, X).fit(cov_type=cov_type)
    lo, hi = fit.conf_int(alpha=alpha)[1]
    return float(fit.params[1]), float(fit.bse[1]), float(lo), float(hi), float(fit.pvalues[1])


def arpu_did(
    arpu: pd.DataFrame,
    attribution: pd.DataFrame,
    *,
    campaign_start,
    pre_months: Sequence | None = None,
    post_months: Sequence | None = None,
    compare: str | Sequence[str] = DID_COMPARISONS,
    value_col: str = "arpu",
    group_col: str = "group",
    treated_value=TARGET,
    control_value=CONTROL,
    alpha: float = 0.05,
    cov_type: str = "HC1",
) -> pd.DataFrame:
    """ARPU change before / after the campaign as a difference-in-differences, target vs control.

    Each member's ARPU is averaged over the pre months and over the post months;
    the estimate is the coefficient of the target indicator in the OLS
    regression of the change (post - pre) on a constant and that indicator,
    i.e. ``(post - pre)_target - (post - pre)_control``, with a
    heteroskedasticity-robust standard error (``cov_type``).  This first-difference
    form of the 2 x 2 design equals the two-way regression
    ``arpu ~ target * post`` with the errors clustered by member when every
    member has the same months, and needs one row per member, so it runs on
    millions of members.

    Parameters
    ----------
    arpu : pandas.DataFrame
        Monthly panel: ``subscriber_id``, ``month`` and ``value_col``
        (``monthly_usage`` rows or :attr:`SimulatedOutcomes.arpu`).
    attribution : pandas.DataFrame
        :func:`~workbench.tracking.attribution.attribute_responses` output
        (``subscriber_id``, ``group``, ``responded``).
    campaign_start : date
        First day of the campaign.
    pre_months, post_months : sequence of months, optional
        The months compared (default: every month before the campaign month,
        and every month after it; the campaign month itself is left out as a
        transition month).
    compare : str or sequence, default ("groups", "responders")
        ``"groups"``: the whole target vs control group (the causal,
        intention-to-treat effect); ``"responders"``: target responders vs
        control responders (are campaign-acquired users worth as much as
        organic ones?).
    value_col : str, default "arpu"
        The measure.
    group_col, treated_value, control_value
        The experiment group column and its values.
    alpha : float, default 0.05
        ``1 - alpha`` is the interval's coverage.
    cov_type : {"HC0", "HC1", "HC2", "HC3"}, default "HC1"
        Robust covariance of statsmodels.

    Returns
    -------
    pandas.DataFrame
        One row per comparison, columns :data:`DID_COLUMNS` (means of the
        members with both pre and post months; ``note`` ``"too_few"`` when a
        side has fewer than two members, ``"dropped_missing"`` when members
        without pre or post months were left out).

    Raises
    ------
    ParameterError
        Missing columns, an unknown comparison or covariance type, or no pre /
        post month.
    """
    alpha = _check_alpha(alpha)
    comparisons = [compare] if isinstance(compare, str) else list(compare)
    bad = [c for c in comparisons if c not in DID_COMPARISONS]
    if bad or not comparisons:
        raise ParameterError.invalid("compare", f"one or more of {list(DID_COMPARISONS)}", compare)
    if cov_type not in ("HC0", "HC1", "HC2", "HC3"):
        raise ParameterError.invalid("cov_type", "one of ['HC0', 'HC1', 'HC2', 'HC3']", cov_type)
    require_columns(arpu, "arpu", (SUBSCRIBER_ID, "month", value_col))
    require_columns(attribution, "attribution", (SUBSCRIBER_ID, group_col, "responded"))
    first = check_day("campaign_start", campaign_start).astype("datetime64[M]")
    month = pd.to_datetime(arpu["month"]).to_numpy(dtype="datetime64[M]")
    if pre_months is None:
        pre = month < first
    else:
        pre = np.isin(month, np.array([check_day("pre_months", m) for m in pre_months]).astype("datetime64[M]"))
    if post_months is None:
        post = month > first
    else:
        post = np.isin(month, np.array([check_day("post_months", m) for m in post_months]).astype("datetime64[M]"))
    if not pre.any() or not post.any():
        which = "pre" if not pre.any() else "post"
        raise ParameterError(f"The ARPU panel has no {which}-campaign month (campaign month {first}); its months are "
                             f"{sorted(set(str(m) for m in np.unique(month)))[:12]}.")
    value = pd.to_numeric(arpu[value_col], errors="coerce").to_numpy(float)
    sid = arpu[SUBSCRIBER_ID].to_numpy(dtype=np.int64)
    ok = ~np.isnan(value)
    pre_mean = pd.Series(value[pre & ok]).groupby(sid[pre & ok]).mean()
    post_mean = pd.Series(value[post & ok]).groupby(sid[post & ok]).mean()

    ids = attribution[SUBSCRIBER_ID].to_numpy(dtype=np.int64)
    treated, control = _groups(attribution, group_col, treated_value, control_value)
    responded = attribution["responded"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    b = pre_mean.reindex(ids).to_numpy(float)
    a = post_mean.reindex(ids).to_numpy(float)
    both = ~np.isnan(b) & ~np.isnan(a)

    rows = []
    for comp in comparisons:
        base = responded if comp == "responders" else np.ones(len(ids), dtype=bool)
        in_t, in_c = base & treated, base & control
        notes = []
        if ((in_t | in_c) & ~both).any():
            notes.append("dropped_missing")
        t_ok, c_ok = in_t & both, in_c & both
        row = {"comparison": comp, "n_treated": int(t_ok.sum()), "n_control": int(c_ok.sum())}
        for side, sel in (("treated", t_ok), ("control", c_ok)):
            with np.errstate(all="ignore"):
                row[f"pre_{side}"] = float(np.mean(b[sel])) if sel.any() else np.nan
                row[f"post_{side}"] = float(np.mean(a[sel])) if sel.any() else np.nan
            row[f"change_{side}"] = row[f"post_{side}"] - row[f"pre_{side}"]
        if t_ok.sum() >= 2 and c_ok.sum() >= 2:
            sel = t_ok | c_ok
            est, se, lo, hi, p = _ols_did((a - b)[sel], t_ok[sel], alpha, cov_type)
        else:
            est, se, lo, hi, p = (np.nan,) * 5
            notes.append("too_few")
        row.update({"did": est, "se": se, "ci_low": lo, "ci_high": hi, "p_value": p, "note": ";".join(notes)})
        rows.append(row)
    return pd.DataFrame(rows, columns=list(DID_COLUMNS))


# ------------------------------------------------------------------ product trend
def product_trend(
    source,
    simulated_orders: pd.DataFrame | None = None,
    *,
    campaign_start,
    campaign_end,
    family: str = "mobile_newspaper",
    start=None,
    end=None,
    products: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The product's subscribers and flows by month, history then campaign months, campaign marked.

    The months before the campaign month come from ``source``
    (:func:`workbench.features.monthly_flows` of the province).  From the
    campaign month on, the flows are those of ``simulated_orders`` (the
    campaign members' simulated events) and the subscriber count continues from
    the last observed month: subscribers outside the campaign are carried at
    their last observed state (the simulation does not move them).  Without
    ``simulated_orders`` the months come from ``source`` too (a real campaign
    whose months are observed).

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        The province (``vas_orders``, ``vas_products``).
    simulated_orders : pandas.DataFrame, optional
        ``vas_orders``-shaped events of the campaign months
        (:attr:`SimulatedOutcomes.orders`).
    campaign_start, campaign_end : date
        The campaign period (months overlapping it are marked ``in_campaign``).
    family : str, default "mobile_newspaper"
        Product family.
    start : "YYYY-MM", optional
        First month reported (default: the first month with an order).
    end : "YYYY-MM", optional
        Last month reported (default: the last simulated month, or the source's last).
    products : pandas.DataFrame, optional
        Catalogue for the simulated events (default: the source's ``vas_products``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TREND_COLUMNS`; ``source`` is ``"observed"`` or ``"simulated"``.

    Raises
    ------
    ParameterError
        A campaign end before its start, a bad month or family.
    """
    from workbench.features._db import connection
    from workbench.features.subscriptions import monthly_flows

    c0 = check_day("campaign_start", campaign_start)
    c1 = check_day("campaign_end", campaign_end)
    if c1 < c0:
        raise ParameterError.invalid("campaign_end", f"a day on or after campaign_start ({c0})", campaign_end)
    first_sim = c0.astype("datetime64[M]")
    last_hist = pd.Timestamp(first_sim - 1)
    fmt = "%Y-%m"
    with connection(source) as con:
        if simulated_orders is None:
            trend = monthly_flows(con, family, start=start, end=end)
            trend["source"] = "observed"
        else:
            history = monthly_flows(con, family, start=start, end=last_hist.strftime(fmt))
            history["source"] = "observed"
            catalogue = products if products is not None else con.execute("SELECT * FROM vas_products").df()
            require_columns(simulated_orders, "simulated_orders", ORDER_COLUMNS)
            if end is None:
                days = pd.to_datetime(simulated_orders["event_date"])
                last = days.max() if len(days) else pd.Timestamp(c1)
                end_month = max(pd.Timestamp(last), pd.Timestamp(c1)).strftime(fmt)
            else:
                end_month = end
            sim = monthly_flows({"vas_orders": simulated_orders, "vas_products": catalogue}, family,
                                start=pd.Timestamp(first_sim).strftime(fmt), end=end_month)
            carried = int(history["subscribers"].iloc[-1]) if len(history) else 0
            sim["subscribers"] = sim["subscribers"] + carried
            sim["source"] = "simulated"
            trend = pd.concat([history, sim], ignore_index=True)
    month = trend["month"].to_numpy(dtype="datetime64[M]")
    trend["in_campaign"] = (month >= c0.astype("datetime64[M]")) & (month <= c1.astype("datetime64[M]"))
    trend["source"] = trend["source"].astype("str")
    return trend[list(TREND_COLUMNS)]
