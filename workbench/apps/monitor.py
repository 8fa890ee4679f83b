"""The manager view (template 05, campaign monitoring): execution against plan, lagging branches, a first read.

Compute and draw are separate: :func:`daily_progress`, :func:`branch_status` and
:func:`early_response` return tables; :mod:`workbench.viz.monitor` draws them
with catalogue labels; :func:`lagging_panel` is the widget that lists lagging
branches; :mod:`workbench.report.t05` words the view for template 05;
:mod:`workbench.apps.live_monitor` lays it out with a refresh that redraws in place.
Every number is an aggregate the database computes (:meth:`Store.progress`,
:meth:`Store.daily_counts`, :meth:`Store.group_counts`) with the acting user, so
a branch manager sees only their branch and no member or result row is read
into pandas; days are bounded by the campaign's period (:func:`shown_days`).

The plan is simple and explicit (:func:`plan_length`): every target member contacted
evenly over the campaign's period, from its first to its last day - or, when the
analyst sets ``plan_days``, within that many days of the first contact; capacity
is ``capacity_per_day`` contacts per executor per day.
"""
from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from workbench.apps.widgets import branch_label
from workbench.checks import check_num
from workbench.errors import AccessDenied, ParameterError
from workbench.i18n import get_language, labels_for
from workbench.report.format import pct_text
from workbench.store import Store, User, can_read_responses
from workbench.store.progress import PROVINCE_UTC_HOURS

__all__ = [
    "DAILY_COLUMNS",
    "BRANCH_STATUS_COLUMNS",
    "ACTIVITY_COLUMNS",
    "shown_days",
    "DEFAULT_PLAN_DAYS",
    "plan_length",
    "daily_progress",
    "activity_by_day",
    "lagging_html",
    "branch_status",
    "EARLY_RESPONSE_COLUMNS",
    "newcombe_difference",
    "early_response",
    "lagging_panel",
    "MonitorData",
    "monitor_plan",
    "monitored_campaign",
    "monitor_data",
]

#: Columns of :func:`daily_progress`.
DAILY_COLUMNS: tuple[str, ...] = ("day", "branch", "contacted", "cumulative", "members", "contacted_rate",
                                  "planned_rate", "capacity", "results", "orders")
#: Columns of :func:`branch_status`.
BRANCH_STATUS_COLUMNS: tuple[str, ...] = ("branch", "members", "contacted", "accepted", "contacted_rate",
                                          "accepted_rate", "planned_rate", "executors", "capacity_days", "lagging")
#: Columns of :func:`activity_by_day`.
ACTIVITY_COLUMNS: tuple[str, ...] = ("day", "contacted", "results", "orders")
_PREFIX = "app_monitor"


#: Days of the plan of a campaign without an end day when the analyst sets none (from the first contact).
DEFAULT_PLAN_DAYS = 14


def _planned(days_elapsed, plan_days: float):
    return np.clip(np.asarray(days_elapsed, dtype="float64") / float(plan_days), 0.0, 1.0)


def _check_plan_days(plan_days):
    """``plan_days`` checked: None or 0 (follow the campaign's period), else a number of days > 0."""
    if plan_days is None:
        return None
    return check_num("plan_days", plan_days, 0) or None


def plan_length(period, plan_days: float | None = None) -> tuple[float, bool]:
    """How long the plan takes to contact every member, and whether it follows the campaign's period.

    Parameters
    ----------
    period : workbench.store.CampaignPeriod or tuple
        The campaign's ``(start, end)`` days; ``end`` may be None.
    plan_days : float, optional
        Days from the first contact the analyst gives the plan; None or 0 (default): the plan runs
        evenly over the campaign's period, from its start to its end (both days included) - or
        :data:`DEFAULT_PLAN_DAYS` from the first contact for a period without an end.

    Returns
    -------
    tuple
        ``(days, follows_period)``: the plan reaches 100 % after ``days`` days, counted from the
        period's first day when ``follows_period``, else from the first contact.

    Raises
    ------
    ParameterError
        A negative ``plan_days``.
    """
    plan_days = _check_plan_days(plan_days)
    if plan_days is None and period[1] is not None:
        return float(max((period[1] - period[0]).days + 1, 1)), True
    return float(plan_days or DEFAULT_PLAN_DAYS), False


def shown_days(period, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days a monitoring chart shows: the period's start to today, today clipped into the period.

    Parameters
    ----------
    period : workbench.store.CampaignPeriod or tuple
        ``(start, end)`` local days (:meth:`Store.campaign_period`); ``end`` may be None.
    today : datetime.date, optional
        Default: today in the province (UTC+8).

    Returns
    -------
    tuple of datetime.date
        ``(first, last)`` with ``first <= last``; a back-dated or future contact never widens them.
    """
    start, end = period[0], period[1]
    today = today or dt.datetime.now(dt.timezone(dt.timedelta(hours=PROVINCE_UTC_HOURS))).date()
    last = max(start, today)
    if end is not None:
        last = min(last, end)
    return start, last


def daily_progress(counts: pd.DataFrame, progress: pd.DataFrame, period, *, plan_days: int | None = None,
                   capacity_per_day: int = 40, today: dt.date | None = None) -> pd.DataFrame:
    """Per branch and day of the period: first contacts, their running total and share of members, against plan.

    Parameters
    ----------
    counts : DataFrame
        :meth:`Store.daily_counts` (``day, branch, executor, contacted, results, accepted, orders``).
    progress : DataFrame
        :meth:`Store.progress` for the same user (members per branch).
    period : workbench.store.CampaignPeriod or tuple
        The campaign's ``(start, end)`` days (:meth:`Store.campaign_period`).
    plan_days : int, optional
        Days from the first contact in which the plan contacts every member; None or 0 (default):
        evenly over the campaign's period (:func:`plan_length`).
    capacity_per_day : int, default 40
        Contacts one executor can make in a day.
    today : datetime.date, optional
        The last day shown, clipped into the period (:func:`shown_days`).

    Returns
    -------
    DataFrame
        Columns :data:`DAILY_COLUMNS`, one row per branch with members or contacts and per day
        from the period's start to today (clipped); ``day`` is a ``datetime64`` day.  A contact
        dated before the start counts on the first day, one after the last day on the last day.
        Without any contact: no row, unless the plan follows the period (then the branches are
        already behind a plan that has started).

    Raises
    ------
    ParameterError
        A missing column, a negative plan or a non-positive capacity.
    """
    length, follows_period = plan_length(period, plan_days)
    check_num("capacity_per_day", capacity_per_day, 0, lo_open=True)
    need = ("day", "branch", "executor", "contacted", "results", "orders")
    missing = [c for c in need if c not in counts.columns]
    if missing:
        raise ParameterError(f"The 'counts' table must have the columns {list(need)}; missing {missing}. "
                             f"Got columns {list(counts.columns)}.")
    first_day, last_day = (pd.Timestamp(d) for d in shown_days(period, today))
    members = progress[progress["dimension"] == "branch"].set_index("key")["members"]
    if counts.empty and not (follows_period and len(members)):   # a plan from the first contact starts with it
        return pd.DataFrame({c: [] for c in DAILY_COLUMNS})
    days = pd.to_datetime(pd.Series(counts["day"].tolist(), index=counts.index)).clip(first_day, last_day)
    frame = counts.assign(day=days, orders=counts["orders"].astype("Float64").fillna(0).astype("int64"))
    per_day = frame.groupby(["branch", "day"])[["contacted", "results", "orders"]].sum()
    grid = pd.MultiIndex.from_product([sorted(set(frame["branch"]) | set(members.index.dropna())),
                                       pd.date_range(first_day, last_day, freq="D")], names=["branch", "day"])
    daily = per_day.reindex(grid, fill_value=0).reset_index()
    daily["cumulative"] = daily.groupby("branch")["contacted"].cumsum()
    daily["members"] = daily["branch"].map(members).fillna(0).astype("int64")
    daily["contacted_rate"] = (daily["cumulative"] / daily["members"].where(daily["members"] > 0)).fillna(0.0)
    contacted = frame.loc[frame["contacted"] > 0, "day"]
    if follows_period:
        plan_start = pd.Timestamp(period[0])
    else:
        plan_start = contacted.min() if len(contacted) else last_day + pd.Timedelta(days=1)
    daily["planned_rate"] = _planned(((daily["day"] - plan_start).dt.days + 1).clip(lower=0), length)
    working = frame[frame["results"] > 0].dropna(subset=["executor"])
    executors = working.groupby("branch")["executor"].nunique()
    daily["capacity"] = daily["branch"].map(executors).fillna(0).astype("int64") * capacity_per_day
    return daily[list(DAILY_COLUMNS)]


def activity_by_day(daily: pd.DataFrame) -> pd.DataFrame:
    """The whole scope's work per day: first contacts, contact attempts and orders (from :func:`daily_progress`).

    Returns
    -------
    DataFrame
        Columns :data:`ACTIVITY_COLUMNS`, one row per day shown.
    """
    if daily.empty:
        return pd.DataFrame({c: [] for c in ACTIVITY_COLUMNS})
    return daily.groupby("day", sort=True)[list(ACTIVITY_COLUMNS[1:])].sum().reset_index()[list(ACTIVITY_COLUMNS)]


def branch_status(progress: pd.DataFrame, daily: pd.DataFrame, *, plan_days: int | None = None,
                  capacity_per_day: int = 40, lag_ratio: float = 0.8, days_elapsed: int | None = None,
                  period=None) -> pd.DataFrame:
    """Each branch against plan today: contacted and accepted shares, planned share, days of work left, lagging.

    A branch is lagging when its contacted share is below ``lag_ratio`` times the
    planned share of the last day in ``daily`` (:func:`daily_progress`, computed with the same
    plan) - or, given ``days_elapsed``, the share after that many days of the plan
    (:func:`plan_length` of ``period`` and ``plan_days``).

    Returns
    -------
    DataFrame
        Columns :data:`BRANCH_STATUS_COLUMNS`, slowest branch first.
    """
    _check_plan_days(plan_days)
    check_num("capacity_per_day", capacity_per_day, 0, lo_open=True)
    check_num("lag_ratio", lag_ratio, 0, 1, lo_open=True)
    branches = progress[progress["dimension"] == "branch"].rename(columns={"key": "branch"}).copy()
    if days_elapsed is not None:
        planned = float(_planned(days_elapsed, plan_length(period or (None, None), plan_days)[0]))
    else:
        planned = float(daily.loc[daily["day"] == daily["day"].max(), "planned_rate"].max()) if len(daily) else 0.0
    branches["planned_rate"] = planned
    executors = daily.groupby("branch")["capacity"].max() // capacity_per_day if len(daily) else pd.Series(dtype=int)
    branches["executors"] = branches["branch"].map(executors).fillna(0).astype("int64")
    left = branches["members"] - branches["contacted"]
    per_day = (branches["executors"] * capacity_per_day).where(branches["executors"] > 0)
    branches["capacity_days"] = (left / per_day).round(1)
    branches["lagging"] = branches["contacted_rate"] < lag_ratio * branches["planned_rate"]
    return branches.sort_values(["contacted_rate", "branch"]).reset_index(drop=True)[list(BRANCH_STATUS_COLUMNS)]


#: Columns of :func:`early_response`'s row (the names of :data:`workbench.metrics.experiment.EFFECT_COLUMNS`).
EARLY_RESPONSE_COLUMNS: tuple[str, ...] = ("n_treated", "n_control", "mean_treated", "mean_control", "abs_lift",
                                           "abs_ci_low", "abs_ci_high")


def _wilson(count: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval of ``count / n`` (``statsmodels`` ``proportion_confint(method="wilson")``)."""
    centre = (count + z * z / 2) / (n + z * z)
    half = z * math.sqrt(count * (n - count) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


def newcombe_difference(count_treated: int, n_treated: int, count_control: int, n_control: int,
                        alpha: float = 0.05) -> tuple[float, float, float]:
    """Difference of two proportions with the Newcombe hybrid score interval (Newcombe 1998, method 10).

    The interval :func:`workbench.metrics.experiment.proportion_effect` gives by default
    (``statsmodels`` ``confint_proportions_2indep(method="newcomb")``), in closed form from the two
    Wilson score intervals, with the normal quantile of the standard library
    (:class:`statistics.NormalDist`): the monitoring page computes its provisional read without
    importing ``statsmodels`` and ``scipy`` (1.1 s and ~70 MiB in the page's kernel);
    ``tests/test_app_monitor.py`` checks it equals statsmodels'.

    Returns
    -------
    tuple of float
        ``(difference, low, high)`` of ``count_treated / n_treated - count_control / n_control``.

    Raises
    ------
    ParameterError
        A group without members, a count outside ``[0, n]``, ``alpha`` outside (0, 1).
    """
    if not 0 < check_num("alpha", alpha) < 1:
        raise ParameterError.invalid("alpha", "a number between 0 and 1 (exclusive)", alpha)
    for name, count, n in (("count_treated", count_treated, n_treated), ("count_control", count_control, n_control)):
        if not (n > 0 and 0 <= count <= n):
            raise ParameterError(f"The {name!r} parameter must be between 0 and its group's size {n} (> 0). "
                                 f"Got {count}.")
    z = NormalDist().inv_cdf(1 - alpha / 2)
    pt, pc = count_treated / n_treated, count_control / n_control
    (lt, ut), (lc, uc) = _wilson(count_treated, n_treated, z), _wilson(count_control, n_control, z)
    diff = pt - pc
    return diff, diff - math.sqrt((pt - lt) ** 2 + (uc - pc) ** 2), diff + math.sqrt((ut - pt) ** 2 + (pc - lc) ** 2)


def early_response(store: Store, user: User, campaign_id: int) -> pd.DataFrame | None:
    """A first read of target vs control: order rate so far, from :meth:`Store.group_counts` (PROVISIONAL).

    Returns None when the user's role may not read responses (branch roles) or
    no order is recorded yet; otherwise one row (:data:`EARLY_RESPONSE_COLUMNS`): the order
    rates of the target and control groups and their difference with its 95 % Newcombe
    interval (:func:`newcombe_difference`, what the campaign evaluation's
    :func:`workbench.metrics.experiment.proportion_effect` reports), from counts the
    database computes (no member rows read).
    """
    if not can_read_responses(user):
        return None
    try:
        groups = store.group_counts(user, campaign_id).set_index("group")
    except AccessDenied:
        return None
    if not {"target", "control"} <= set(groups.index) or int(groups["ordered"].sum()) == 0:
        return None
    xt, nt = int(groups.at["target", "ordered"]), int(groups.at["target", "members"])
    xc, nc = int(groups.at["control", "ordered"]), int(groups.at["control", "members"])
    if nt == 0 or nc == 0:
        return None
    diff, low, high = newcombe_difference(xt, nt, xc, nc)
    return pd.DataFrame([dict(zip(EARLY_RESPONSE_COLUMNS, (nt, nc, xt / nt, xc / nc, diff, low, high)))])


def lagging_html(status: pd.DataFrame, lang: str | None = None) -> str:
    """HTML of the branch table of :func:`lagging_panel` (a ``wb-branch-status`` element)."""
    lang = lang or get_language()
    labels = labels_for(_PREFIX, lang)
    head = "".join(f"<th>{html.escape(labels[f'col.{c}'])}</th>" for c in
                   ("branch", "members", "contacted_rate", "accepted_rate", "planned_rate", "capacity_days", "lagging"))
    rows = []
    for row in status.itertuples(index=False):
        style = ' style="background:#fdecea;color:#a61b1b;font-weight:bold"' if row.lagging else ""
        days = "-" if pd.isna(row.capacity_days) else f"{row.capacity_days:g}"
        rows.append(
            f'<tr class="{"wb-lagging" if row.lagging else "wb-on-plan"}" '
            f'data-branch="{html.escape(str(row.branch))}" '
            f'data-lagging="{str(bool(row.lagging)).lower()}"{style}>'
            f'<td>{html.escape(branch_label(row.branch, lang))}</td>'
            f"<td>{row.members}</td><td>{pct_text(row.contacted_rate, 0)}</td>"
            f"<td>{pct_text(row.accepted_rate, 0)}</td><td>{pct_text(row.planned_rate, 0)}</td><td>{days}</td>"
            f"<td>{html.escape(labels['yes'] if row.lagging else labels['no'])}</td></tr>")
    return (f'<div class="wb-branch-status"><table style="border-collapse:collapse" cellpadding="6">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def lagging_panel(status: pd.DataFrame, lang: str | None = None):
    """An HTML widget listing each branch against plan; lagging rows are marked (class ``wb-lagging``).

    Returns
    -------
    ipywidgets.HTML
        A table inside an element of class ``wb-branch-status``; each row has
        ``data-branch`` and ``data-lagging``.
    """
    import ipywidgets as widgets

    return widgets.HTML(lagging_html(status, lang))


# ------------------------------------------------------------------ one call for the template
@dataclass(frozen=True)
class MonitorData:
    """Everything the manager view shows, read once from the store for one user (aggregates only)."""

    campaign_id: int
    campaign_name: str
    period: tuple
    progress: pd.DataFrame
    counts: pd.DataFrame
    daily: pd.DataFrame
    status: pd.DataFrame
    effect: pd.DataFrame | None

    def totals(self) -> dict[str, float]:
        """Members, contacted, accepted and their shares over the user's scope."""
        row = self.progress[self.progress["dimension"] == "total"].iloc[0]
        return {"members": int(row["members"]), "contacted": int(row["contacted"]),
                "accepted": int(row["accepted"]), "contacted_rate": float(row["contacted_rate"]),
                "accepted_rate": float(row["accepted_rate"])}

    def lagging_branches(self, lang: str | None = None) -> list[str]:
        """Names of the lagging branches, slowest first."""
        return [branch_label(b, lang) for b in self.status.loc[self.status["lagging"], "branch"]]

    def activity(self) -> pd.DataFrame:
        """The scope's first contacts, attempts and orders per day (:func:`activity_by_day`)."""
        return activity_by_day(self.daily)

    def shows_orders(self) -> bool:
        """Whether the user's role reads orders (the store gives none to the others)."""
        return bool(len(self.counts)) and bool(self.counts["orders"].notna().all())


def monitor_plan(plan_days: int | None = None, capacity_per_day: int = 40, lag_ratio: float = 0.8
                 ) -> dict[str, float]:
    """The plan's parameters checked (what :func:`monitor_data` is given), as keyword arguments.

    ``plan_days`` None or 0: the plan follows the campaign's period (:func:`plan_length`).

    Raises
    ------
    ParameterError
        A negative plan, a non-positive capacity, a lag ratio outside (0, 1].
    """
    plan_days = _check_plan_days(plan_days)
    check_num("capacity_per_day", capacity_per_day, 0, lo_open=True)
    check_num("lag_ratio", lag_ratio, 0, 1, lo_open=True)
    return {"plan_days": plan_days, "capacity_per_day": capacity_per_day, "lag_ratio": lag_ratio}


def monitored_campaign(store: Store, user: User, campaign_id: int = 0) -> tuple[int, str]:
    """The campaign :func:`monitor_data` reads for ``user``: ``(id, name)`` (campaign 0: the newest one they may see).

    Raises
    ------
    ParameterError
        When the user sees no released campaign, or ``campaign_id`` is not one of them
        (the message lists those they may see).
    """
    campaigns = store.visible_campaigns(user)
    campaigns = campaigns[campaigns["status"] != "draft"]
    visible = [int(c) for c in campaigns["campaign_id"]]
    if not visible:
        raise ParameterError(f"user {user.name!r} sees no released campaign to monitor")
    if campaign_id in (0, None):
        campaign_id = visible[0]
    if campaign_id not in visible:
        raise ParameterError.invalid("campaign_id", f"one of the campaigns user {user.name!r} may see {visible}",
                                     campaign_id)
    return campaign_id, str(campaigns.loc[campaigns["campaign_id"] == campaign_id, "name"].iloc[0])


def monitor_data(store: Store, user: User, campaign_id: int = 0, *, plan_days: int | None = None,
                 capacity_per_day: int = 40, lag_ratio: float = 0.8, today: dt.date | None = None
                 ) -> MonitorData:
    """Read and compute the manager view for ``user`` (campaign 0: the newest one the user may see).

    Every count comes from the database as an aggregate (:meth:`Store.progress`,
    :meth:`Store.daily_counts`, :meth:`Store.group_counts`); days are bounded by the
    campaign's period (:meth:`Store.campaign_period`, :func:`shown_days`).

    Raises
    ------
    ParameterError
        When the user sees no released campaign, or ``campaign_id`` is not one of them
        (the message lists those they may see); bad plan parameters.
    """
    campaign_id, name = monitored_campaign(store, user, campaign_id)
    period = store.campaign_period(user, campaign_id)
    progress = store.progress(user, campaign_id)
    counts = store.daily_counts(user, campaign_id)
    daily = daily_progress(counts, progress, period, plan_days=plan_days, capacity_per_day=capacity_per_day,
                           today=today)
    status = branch_status(progress, daily, plan_days=plan_days, capacity_per_day=capacity_per_day,
                           lag_ratio=lag_ratio)
    return MonitorData(campaign_id, name, period, progress, counts, daily, status,
                       early_response(store, user, campaign_id))
