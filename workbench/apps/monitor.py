"""The manager view (template 05, campaign monitoring): execution against plan, lagging branches, a first read.

Compute and draw are separate: :func:`daily_progress`, :func:`branch_status` and
:func:`early_response` return tables; :mod:`workbench.viz.monitor` draws them
with catalogue labels; :func:`lagging_panel` is the widget that lists lagging
branches; :mod:`workbench.report.t05` words the view for template 05.  Every
number is recomputed from the store (:meth:`Store.progress`,
:meth:`Store.contact_results`, :meth:`Store.responses`) with the acting user,
so a branch manager sees only their branch.

The plan is simple and explicit: every target member contacted within
``plan_days`` days of the first contact, evenly; capacity is
``capacity_per_day`` contacts per executor per day.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.apps.widgets import branch_label
from workbench.checks import check_num
from workbench.errors import AccessDenied, ParameterError
from workbench.i18n import get_language, labels_for
from workbench.report.format import pct_text
from workbench.store import Store, User, can_read_responses

__all__ = [
    "DAILY_COLUMNS",
    "BRANCH_STATUS_COLUMNS",
    "daily_progress",
    "branch_status",
    "early_response",
    "lagging_panel",
    "MonitorData",
    "monitor_data",
]

#: Columns of :func:`daily_progress`.
DAILY_COLUMNS: tuple[str, ...] = ("day", "branch", "contacted", "cumulative", "members", "contacted_rate",
                                  "planned_rate", "capacity")
#: Columns of :func:`branch_status`.
BRANCH_STATUS_COLUMNS: tuple[str, ...] = ("branch", "members", "contacted", "accepted", "contacted_rate",
                                          "accepted_rate", "planned_rate", "executors", "capacity_days", "lagging")
_PREFIX = "app_monitor"


def _planned(days_elapsed, plan_days: float):
    return np.clip(np.asarray(days_elapsed, dtype="float64") / float(plan_days), 0.0, 1.0)


def daily_progress(results: pd.DataFrame, progress: pd.DataFrame, *, plan_days: int = 14,
                   capacity_per_day: int = 40) -> pd.DataFrame:
    """Per branch and day: first contacts, their running total and share of members, against plan and capacity.

    Parameters
    ----------
    results : DataFrame
        :meth:`Store.contact_results` (``member_id, branch_id, executor, contacted_at``).
    progress : DataFrame
        :meth:`Store.progress` for the same user (members per branch, executors).
    plan_days : int, default 14
        Days from the first contact in which the plan contacts every member.
    capacity_per_day : int, default 40
        Contacts one executor can make in a day.

    Returns
    -------
    DataFrame
        Columns :data:`DAILY_COLUMNS`; ``day`` counts from 1 (the first contact's day, UTC+8).

    Raises
    ------
    ParameterError
        A missing column or a non-positive plan / capacity.
    """
    check_num("plan_days", plan_days, 0, lo_open=True)
    check_num("capacity_per_day", capacity_per_day, 0, lo_open=True)
    need = ("member_id", "branch_id", "executor", "contacted_at")
    missing = [c for c in need if c not in results.columns]
    if missing:
        raise ParameterError(f"The 'results' table must have the columns {list(need)}; missing {missing}. "
                             f"Got columns {list(results.columns)}.")
    members = progress[progress["dimension"] == "branch"].set_index("key")["members"]
    if results.empty:
        return pd.DataFrame({c: [] for c in DAILY_COLUMNS})
    local = pd.to_datetime(results["contacted_at"], utc=True).dt.tz_convert("Asia/Shanghai").dt.normalize()
    first = (results.assign(day=local).sort_values("day").drop_duplicates("member_id"))
    start = first["day"].min()
    first["day"] = (first["day"] - start).dt.days + 1
    daily = first.groupby(["branch_id", "day"]).size().rename("contacted").reset_index()
    days = np.arange(1, int(daily["day"].max()) + 1)
    grid = pd.MultiIndex.from_product([sorted(daily["branch_id"].unique()), days], names=["branch_id", "day"])
    daily = daily.set_index(["branch_id", "day"]).reindex(grid, fill_value=0).reset_index()
    daily["cumulative"] = daily.groupby("branch_id")["contacted"].cumsum()
    daily["members"] = daily["branch_id"].map(members).fillna(0).astype("int64")
    daily["contacted_rate"] = (daily["cumulative"] / daily["members"].where(daily["members"] > 0)).fillna(0.0)
    daily["planned_rate"] = _planned(daily["day"], plan_days)
    executors = results.groupby("branch_id")["executor"].nunique()
    daily["capacity"] = daily["branch_id"].map(executors).fillna(0).astype("int64") * capacity_per_day
    return daily.rename(columns={"branch_id": "branch"})[list(DAILY_COLUMNS)]


def branch_status(progress: pd.DataFrame, daily: pd.DataFrame, *, plan_days: int = 14,
                  capacity_per_day: int = 40, lag_ratio: float = 0.8, days_elapsed: int | None = None
                  ) -> pd.DataFrame:
    """Each branch against plan today: contacted and accepted shares, planned share, days of work left, lagging.

    A branch is lagging when its contacted share is below ``lag_ratio`` times the
    planned share for ``days_elapsed`` (default: the last day in ``daily``).

    Returns
    -------
    DataFrame
        Columns :data:`BRANCH_STATUS_COLUMNS`, slowest branch first.
    """
    check_num("plan_days", plan_days, 0, lo_open=True)
    check_num("capacity_per_day", capacity_per_day, 0, lo_open=True)
    check_num("lag_ratio", lag_ratio, 0, 1, lo_open=True)
    branches = progress[progress["dimension"] == "branch"].rename(columns={"key": "branch"}).copy()
    if days_elapsed is None:
        days_elapsed = int(daily["day"].max()) if len(daily) else 0
    branches["planned_rate"] = float(_planned(days_elapsed, plan_days))
    executors = daily.groupby("branch")["capacity"].max() // capacity_per_day if len(daily) else pd.Series(dtype=int)
    branches["executors"] = branches["branch"].map(executors).fillna(0).astype("int64")
    left = branches["members"] - branches["contacted"]
    per_day = (branches["executors"] * capacity_per_day).where(branches["executors"] > 0)
    branches["capacity_days"] = (left / per_day).round(1)
    branches["lagging"] = branches["contacted_rate"] < lag_ratio * branches["planned_rate"]
    return branches.sort_values(["contacted_rate", "branch"]).reset_index(drop=True)[list(BRANCH_STATUS_COLUMNS)]


def early_response(store: Store, user: User, campaign_id: int) -> pd.DataFrame | None:
    """A first read of target vs control: order rate so far, from :meth:`Store.responses` (PROVISIONAL).

    Returns None when the user's role may not read responses (branch roles) or
    none are recorded yet; otherwise :func:`workbench.tracking.effect_table`'s
    row of the target group against the control group on ``responded``.
    """
    from workbench.tracking import effect_table

    if not can_read_responses(user):
        return None
    try:
        responses = store.responses(user, campaign_id)
    except AccessDenied:
        return None
    if responses.empty:
        return None
    members = store.worklist(user, campaign_id, include_control=True)
    frame = pd.DataFrame({
        "group": members["group"].astype(str),
        "responded": members["subscriber_id"].isin(responses["subscriber_id"]).astype("int64"),
    })
    if frame["group"].nunique() < 2:
        return None
    return effect_table(frame, "group", "control", "responded")


def lagging_panel(status: pd.DataFrame, lang: str | None = None):
    """An HTML widget listing each branch against plan; lagging rows are marked (class ``wb-lagging``).

    Returns
    -------
    ipywidgets.HTML
        A table inside an element of class ``wb-branch-status``; each row has
        ``data-branch`` and ``data-lagging``.
    """
    import ipywidgets as widgets

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
    body = (f'<div class="wb-branch-status"><table style="border-collapse:collapse" cellpadding="6">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
    return widgets.HTML(body)


# ------------------------------------------------------------------ one call for the template
@dataclass(frozen=True)
class MonitorData:
    """Everything the manager view shows, read once from the store for one user."""

    campaign_id: int
    campaign_name: str
    progress: pd.DataFrame
    results: pd.DataFrame
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


def monitor_data(store: Store, user: User, campaign_id: int = 0, *, plan_days: int = 14,
                 capacity_per_day: int = 40, lag_ratio: float = 0.8) -> MonitorData:
    """Read and compute the manager view for ``user`` (campaign 0: the newest one the user may see).

    Raises
    ------
    ParameterError
        When the user sees no released campaign, or ``campaign_id`` is not one of them
        (the message lists those they may see); bad plan parameters.
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
    name = str(campaigns.loc[campaigns["campaign_id"] == campaign_id, "name"].iloc[0])
    progress = store.progress(user, campaign_id)
    results = store.contact_results(user, campaign_id)
    daily = daily_progress(results, progress, plan_days=plan_days, capacity_per_day=capacity_per_day)
    status = branch_status(progress, daily, plan_days=plan_days, capacity_per_day=capacity_per_day,
                           lag_ratio=lag_ratio)
    return MonitorData(campaign_id, name, progress, results, daily, status, early_response(store, user, campaign_id))
