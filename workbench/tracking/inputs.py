"""Gather what the evaluation of a campaign reads: the only part of it that touches the store and DuckDB.

:func:`gather_evaluation_inputs` reads the stored plan, the list (target and control) and the recorded
contacts from the campaign store, and from the province the catalogue, the members' order records, their
ARPU panel, the features of the campaign snapshot and the product's trend.  It returns an
:class:`EvaluationInputs` of plain DataFrames, which :func:`workbench.tracking.evaluation.evaluate`
turns into the evaluation without any further I/O.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.checks import check_day, require_columns
from workbench.data.source import connection
from workbench.data.tables import table
from workbench.errors import ParameterError
from workbench.store.models import BRANCH_ID, SUBSCRIBER_ID
from workbench.tracking.attribution import FAMILY, PRODUCT_ID
from workbench.tracking.terms import CampaignTerms, campaign_terms

__all__ = [
    "DEFAULT_COVARIATES",
    "MEMBER_COLUMNS",
    "CampaignRecords",
    "EvaluationInputs",
    "gather_evaluation_inputs",
    "read_catalogue",
    "read_member_orders",
]

#: Pre-campaign columns used for the CUPED / regression-adjusted estimates (those present are used).
DEFAULT_COVARIATES: tuple[str, ...] = (
    "score", "arpu_mean", "vas_spend_mean", "gprs_mb_mean", "wap_visits_mean", "content_news_mean",
)
#: Columns of the stored list the evaluation keeps (those present).
MEMBER_COLUMNS: tuple[str, ...] = (
    "member_id", SUBSCRIBER_ID, BRANCH_ID, "group", "score", "score_band", "channel", "executor", "edition",
)
_USAGE = table("monthly_usage")
_MONTH = _USAGE.column("month").name
_ARPU = _USAGE.column("arpu").name
_BRAND = table("subscribers").column("brand").name


@dataclass
class CampaignRecords:
    """A released campaign as recorded on a day: which one, its terms, its members and their contacts.

    The common part of what an evaluation reads (:class:`EvaluationInputs`) and what it reports
    (:class:`~workbench.tracking.evaluation.CampaignEvaluation`).

    Attributes
    ----------
    campaign_id, version : int
        The campaign and its released version.
    name : str
        The campaign's name in its plan.
    terms : CampaignTerms
    as_of : pandas.Timestamp
        The day of the evaluation.
    members : pandas.DataFrame
        One row per member, target and control.
    contacts : pandas.DataFrame
        The recorded contacts (:meth:`workbench.store.Store.contact_results`).
    """

    campaign_id: int
    version: int
    name: str
    terms: CampaignTerms
    as_of: pd.Timestamp
    members: pd.DataFrame
    contacts: pd.DataFrame


@dataclass
class EvaluationInputs(CampaignRecords):
    """Everything :func:`~workbench.tracking.evaluation.evaluate` computes on, as DataFrames.

    Attributes
    ----------
    campaign_id, version, name, terms, as_of, contacts
        As :class:`CampaignRecords`.
    members : pandas.DataFrame
        The list, target and control (:data:`MEMBER_COLUMNS` present).
    orders : pandas.DataFrame
        The members' order records of the offered family (the source's, then the extra ones).
    products : pandas.DataFrame
        The ``vas_products`` catalogue.
    arpu : pandas.DataFrame or None
        Monthly ARPU panel (``subscriber_id``, ``month``, ``arpu``).
    features : pandas.DataFrame or None
        Features at the campaign snapshot (indexed by ``subscriber_id``).
    trend : pandas.DataFrame or None
        :func:`~workbench.tracking.quality.product_trend` (None: it could not be computed).
    """

    orders: pd.DataFrame
    products: pd.DataFrame
    arpu: pd.DataFrame | None = None
    features: pd.DataFrame | None = None
    trend: pd.DataFrame | None = None


def read_catalogue(con) -> pd.DataFrame:
    """The province's ``vas_products`` table."""
    return con.execute("SELECT * FROM vas_products").df()


def read_member_orders(con, ids: np.ndarray, family_products: list[str], extra: pd.DataFrame | None) -> pd.DataFrame:
    """The family's order records of the members: the source's, then ``extra`` (e.g. simulated)."""
    from workbench.tracking.attribution import ORDER_COLUMNS

    con.register("_wb_members", pd.DataFrame({SUBSCRIBER_ID: ids}))
    try:
        cols = ", ".join(f"o.{c}" for c in ORDER_COLUMNS)
        observed = con.execute(
            f"SELECT {cols} FROM vas_orders o JOIN _wb_members m USING ({SUBSCRIBER_ID}) "
            f"WHERE o.{PRODUCT_ID} IN (SELECT unnest(?))", [family_products],
        ).df()
    finally:
        con.unregister("_wb_members")
    parts = [observed]
    if extra is not None and len(extra):
        require_columns(extra, "orders", ORDER_COLUMNS)
        mine = extra[extra[SUBSCRIBER_ID].isin(ids) & extra[PRODUCT_ID].isin(family_products)]
        parts.append(mine[list(ORDER_COLUMNS)])
    orders = pd.concat([p for p in parts if len(p)] or [observed], ignore_index=True)
    orders["event_date"] = pd.to_datetime(orders["event_date"])
    for col in (PRODUCT_ID, "event_type", "channel"):
        orders[col] = orders[col].astype("str")
    return orders


def _member_arpu(con, ids: np.ndarray) -> pd.DataFrame:
    """The members' ``monthly_usage`` ARPU rows."""
    con.register("_wb_members", pd.DataFrame({SUBSCRIBER_ID: ids}))
    try:
        return con.execute(f"SELECT u.{SUBSCRIBER_ID}, u.{_MONTH}, u.{_ARPU} FROM monthly_usage u "
                           f"JOIN _wb_members m USING ({SUBSCRIBER_ID})").df()
    finally:
        con.unregister("_wb_members")


def gather_evaluation_inputs(store, campaign_id: int, source, *, as_of, version: int | None = None, user=None,
                             orders: pd.DataFrame | None = None, arpu: pd.DataFrame | None = None,
                             features: pd.DataFrame | None = None,
                             covariates: Sequence[str] | None = DEFAULT_COVARIATES, simulated: bool | None = None,
                             **terms) -> EvaluationInputs:
    """Read what the evaluation of a released campaign needs from the store and the province.

    Parameters are those of :func:`~workbench.tracking.evaluation.evaluate_campaign`: ``orders`` are
    appended to the source's order records, ``arpu`` and ``features`` replace what would be read,
    ``covariates`` tells whether the features are needed, ``simulated`` whether ``orders`` are simulated
    months (the product trend marks them; default True when ``orders`` is given) and ``**terms``
    override the plan's :class:`~workbench.tracking.terms.CampaignTerms`.

    Returns
    -------
    EvaluationInputs

    Raises
    ------
    ParameterError
        Unknown campaign or version, a campaign without members, a plan without a period.
    AccessDenied
        When ``user`` may not read responses or the control group.
    """
    from workbench.store import SYSTEM_USER
    from workbench.tracking.quality import product_trend

    actor = SYSTEM_USER if user is None else user
    spec = store.spec(actor, campaign_id, version)
    t = campaign_terms(spec, **terms)
    cutoff = pd.Timestamp(check_day("as_of", as_of))
    listed = store.worklist(actor, campaign_id, version=version, include_control=True)
    if listed.empty:
        raise ParameterError(f"campaign {campaign_id} has no members to evaluate")
    number = int(listed["version"].iloc[0])
    contacts = store.contact_results(actor, campaign_id)
    contacts = contacts[contacts["version"] == number].reset_index(drop=True)   # this version's contacts only
    # the members as assigned, with the name people know each executor by (for the report's executor table)
    members = listed[[c for c in (*MEMBER_COLUMNS, "executor_name") if c in listed.columns]].reset_index(drop=True)
    ids = members[SUBSCRIBER_ID].to_numpy(np.int64)

    with connection(source, progress=False) as con:
        products = read_catalogue(con)
        family_products = products.loc[products[FAMILY] == t.family, PRODUCT_ID].astype(str).tolist()
        records = read_member_orders(con, ids, family_products, orders)
        if arpu is None:
            arpu = _member_arpu(con, ids)
    wanted = [c for c in (covariates or ()) if c not in members.columns]
    if features is None and (wanted or _BRAND not in members.columns):
        from workbench.features import build_features

        with connection(source, progress=False) as con:
            features = build_features(con, t.snapshot)
    sim = (orders is not None) if simulated is None else bool(simulated)
    try:
        with connection(source, progress=False) as con:
            trend = product_trend(con, orders if sim else None, campaign_start=t.start, campaign_end=t.end,
                                  family=t.family, end=None if sim else cutoff.strftime("%Y-%m"),
                                  products=products if sim else None)
    except ParameterError:
        trend = None
    return EvaluationInputs(
        campaign_id=int(campaign_id), version=number, name=str(spec.get("name", "")), terms=t, as_of=cutoff,
        members=members, contacts=contacts, orders=records, products=products, arpu=arpu, features=features,
        trend=trend,
    )
