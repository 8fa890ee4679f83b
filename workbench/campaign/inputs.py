"""What a campaign plan reads: the scored users' branch and brand, product subscribers, capable handsets,
phone numbers - every DuckDB read of planning, at the edge.

Each reader takes a source (path, mapping, :class:`~workbench.data.Source` or an open DuckDB
connection, see :func:`workbench.data.source.connection`) and returns plain arrays or
DataFrames; :class:`PlanInputs` holds all of them for
:func:`~workbench.campaign.plan_from_inputs` (filled by
:func:`~workbench.campaign.gather_plan_inputs`, which adds the store's contact history).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.checks import (
    check_date, require_columns, require_complete, require_integers, require_unique, require_within,
)
from workbench.data.source import connection, require_tables
from workbench.data.tables import BRANCHES, BRANDS, CAPABILITIES, table
from workbench.errors import DataValidationError, ParameterError

__all__ = ["PlanInputs", "PLAN_TABLES", "candidate_frame", "capable_subscribers", "phone_numbers"]

# ----------------------------------------------------------- names of the data model
_SUBS = table("subscribers")
SUBSCRIBER_ID: str = _SUBS.column("subscriber_id").name
BRANCH_ID: str = _SUBS.column("branch_id").name
BRAND: str = _SUBS.column("brand").name
_HE = table("handset_events")
_HE_ID, _HE_DATE, _HE_MODEL = (_HE.column(c).name for c in ("subscriber_id", "event_date", "handset_model"))
_HM = table("handset_models")
_HM_MODEL = _HM.column("handset_model").name
_CAP_COLUMNS: dict[str, str] = {c: _HM.column(f"cap_{c}").name for c in CAPABILITIES}
_VP = table("vas_products")
_VP_ID, _VP_FAMILY, _VP_CAP = (_VP.column(c).name for c in ("product_id", "family", "required_capability"))
_BRANCH_IDS: tuple[str, ...] = tuple(b[0] for b in BRANCHES)
#: Tables a campaign plan reads.
PLAN_TABLES: tuple[str, ...] = ("subscribers", "vas_orders", "vas_products", "handset_events", "handset_models")


@dataclass
class PlanInputs:
    """Everything :func:`~workbench.campaign.plan_from_inputs` needs from the data and the store.

    Attributes
    ----------
    as_of : pandas.Timestamp
        The day eligibility is evaluated.
    scores : DataFrame
        The scores as given (``reason_1`` ... and ``edition`` are read from it for the list rows).
    candidates : DataFrame
        ``subscriber_id, score, branch_id, brand`` of every scored user (:func:`candidate_frame`).
    product_subscribers : numpy.ndarray
        Ids of the current subscribers of the offer's family at ``as_of``.
    capable : numpy.ndarray or None
        Ids whose handset at ``as_of`` can use the product (:func:`capable_subscribers`;
        ``None``: the product needs nothing).
    contact_history : DataFrame or None
        ``subscriber_id, contact_date`` of every contact the store recorded (``None``: no store).
    msisdn : Series
        Phone numbers of the candidates in the spec's segment, indexed by subscriber id
        (only their masked form enters the list rows).
    seconds : dict
        Seconds of the reads, by step of :data:`~workbench.campaign.PLAN_STEPS`.
    """

    as_of: pd.Timestamp
    scores: pd.DataFrame
    candidates: pd.DataFrame
    product_subscribers: np.ndarray
    capable: np.ndarray | None
    contact_history: pd.DataFrame | None
    msisdn: pd.Series
    seconds: dict = field(default_factory=dict)


def _sql_date(day: pd.Timestamp) -> str:
    return f"DATE '{day.date().isoformat()}'"


def _scores_frame(scores, score_col: str) -> pd.DataFrame:
    require_columns(scores, "scores", [SUBSCRIBER_ID, score_col])
    require_complete(scores, "scores", [SUBSCRIBER_ID, score_col])
    require_unique(scores, "scores", SUBSCRIBER_ID)
    require_integers(scores, "scores", SUBSCRIBER_ID, "subscriber ids")
    s = require_within(scores, "scores", score_col, 0, 1, "probabilities")
    ids = scores[SUBSCRIBER_ID]
    return pd.DataFrame({SUBSCRIBER_ID: pd.to_numeric(ids).astype("int64").to_numpy(),
                         "score": s.astype(float).to_numpy()})


def candidate_frame(scores: pd.DataFrame, source, *, score_col: str = "score") -> pd.DataFrame:
    """The scored users with their branch and brand from ``subscribers``.

    Parameters
    ----------
    scores : DataFrame
        ``subscriber_id`` and ``score_col`` (probabilities).
    source : path, mapping, Source or duckdb connection
        The province data (needs ``subscribers``).

    Returns
    -------
    DataFrame
        ``subscriber_id, score, branch_id, brand`` in the order of ``scores``.

    Raises
    ------
    DataValidationError
        Missing / repeated / non-integer ids, scores outside [0, 1], or ids the
        data does not know (scores of another extract).
    """
    frame = _scores_frame(scores, score_col)
    vocab = {BRANCH_ID: list(_BRANCH_IDS), BRAND: list(BRANDS)}
    join = f'FROM subscribers s JOIN _wb_scored c ON c."{SUBSCRIBER_ID}" = s."{SUBSCRIBER_ID}"'
    with connection(source) as con:
        require_tables(con, ("subscribers",), "candidate_frame")
        con.register("_wb_scored", frame[[SUBSCRIBER_ID]])
        try:
            # codes of the data model's vocabularies travel faster than a million strings ...
            info = con.execute(
                f'SELECT s."{SUBSCRIBER_ID}", '
                + ", ".join(f'coalesce(list_position(${c}, CAST(s."{c}" AS VARCHAR)), 0) AS "{c}"' for c in vocab)
                + f" {join}", vocab).df()
            if all((info[c] > 0).all() for c in vocab):
                for c, values in vocab.items():
                    info[c] = np.asarray(values, dtype=object)[info[c].to_numpy() - 1]
            else:   # ... a value outside them (the data was not validated) comes as text
                info = con.execute(f'SELECT s."{SUBSCRIBER_ID}", '
                                   + ", ".join(f'CAST(s."{c}" AS VARCHAR) AS "{c}"' for c in vocab)
                                   + f" {join}").df()
        finally:
            con.unregister("_wb_scored")
    pos = pd.Index(info[SUBSCRIBER_ID].to_numpy()).get_indexer(frame[SUBSCRIBER_ID].to_numpy())
    unknown = pos < 0
    if unknown.any():
        examples = frame.loc[unknown, SUBSCRIBER_ID].head(5).tolist()
        raise DataValidationError(
            f"scores: {int(unknown.sum())} scored subscriber id(s) are not in the data's subscribers table, e.g. "
            f"{examples}; the scores must come from the same extract as the data",
            [{"table": "scores", "column": SUBSCRIBER_ID, "check": "in subscribers", "count": int(unknown.sum()),
              "examples": examples}])
    for col in (BRANCH_ID, BRAND):
        frame[col] = pd.Series(info[col].to_numpy()[pos], dtype="str").to_numpy()
    return frame


def capable_subscribers(source, as_of, family: str, product_id: str | None = None) -> np.ndarray | None:
    """Subscribers whose handset at ``as_of`` can use the product (``None``: the product needs nothing).

    The handset at ``as_of`` is the latest ``handset_events`` row dated on or
    before that day.  The product's needs are ``vas_products.required_capability``
    of ``product_id``, or of every product of ``family`` (a handset capable of
    any of them qualifies); a product needing nothing switches the rule off.

    Raises
    ------
    ParameterError
        When the catalogue has no such product, or no product of the family.
    """
    day = check_date("as_of", as_of)
    with connection(source) as con:
        require_tables(con, ("vas_products", "handset_events", "handset_models"), "capable_subscribers")
        where = f'"{_VP_ID}" = $p' if product_id else f'"{_VP_FAMILY}" = $p'
        caps = con.execute(f'SELECT DISTINCT CAST("{_VP_CAP}" AS VARCHAR) FROM vas_products WHERE {where}',
                           {"p": product_id or family}).fetchall()
        if not caps:
            what = f"product {product_id!r}" if product_id else f"a product of family {family!r}"
            raise ParameterError(f"The product catalogue (vas_products) has no {what}; the offer cannot be checked "
                                 "against handsets.")
        needed = [c[0] for c in caps]
        if any(c is None for c in needed):
            return None
        unknown = sorted(set(needed) - set(_CAP_COLUMNS))
        if unknown:
            raise DataValidationError(f"vas_products: required_capability {unknown} is not one of {list(CAPABILITIES)}")
        cond = " OR ".join(f'coalesce(CAST(m."{_CAP_COLUMNS[c]}" AS BOOLEAN), false)' for c in sorted(set(needed)))
        ids = con.execute(f"""
            SELECT h.sid FROM (
                SELECT "{_HE_ID}" AS sid, arg_max("{_HE_MODEL}", CAST("{_HE_DATE}" AS DATE)) AS model
                FROM handset_events WHERE CAST("{_HE_DATE}" AS DATE) <= {_sql_date(day)} GROUP BY 1) h
            JOIN handset_models m ON m."{_HM_MODEL}" = h.model
            WHERE {cond}""").df()["sid"]
    return ids.to_numpy()


def phone_numbers(source, ids) -> pd.Series:
    """Full phone numbers (personal data) of ``ids`` from ``subscribers``, as a Series indexed by subscriber id.

    For an export to a role that may see numbers (:func:`workbench.campaign.can_see_numbers`); never store them.
    The reader is :func:`workbench.data.numbers.phone_numbers` (shared with the worklist's "show number").
    """
    from workbench.data.numbers import phone_numbers as read

    return read(source, ids)
