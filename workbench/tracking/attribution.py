"""Response attribution: which campaign members ordered the product, when, and did they keep it.

:func:`attribute_responses` turns a released list (``campaign_members``), the
recorded contacts (``contact_results``) and the order records (``vas_orders``)
into one row per member with ``responded``, ``response_date``,
``days_to_response`` and ``stable`` - the outcomes the effect table compares
between the target and the control group.

Rules
-----
Reference day
    A target-group member with at least one contact whose result is a
    *reached* result (:data:`REACHED_RESULTS`: anything but ``not_reachable``)
    has the local calendar day of the first such contact.  Everyone else - the
    control group, and target members never reached (never attempted, or only
    ``not_reachable``) - has the campaign start.  Contacts recorded for control
    members are ignored (they must not exist; the store refuses them).
Response
    The first order (``event_type == "order"``) of a product of the campaign's
    family (optionally only ``product_ids``) dated on day ``d`` with
    ``0 <= d - reference day <= response_window_days``: **both ends are
    inclusive** - an order on the contact day itself counts (day 0), and so
    does an order exactly ``response_window_days`` days later; the day after
    does not, and neither does an order before the reference day.  Several
    orders in the window count once (the first one; ties broken by
    ``event_id``).  Orders dated after ``as_of`` are not read.
Stable response
    The responder is still subscribed to the family (one continuous stay, editions
    switched without a gap count as one stay; see
    :func:`workbench.features.family_spells`) on the day ``response_date +
    stable_months`` calendar months.  A subscriber who unsubscribes on a day is
    no longer subscribed that day (as in :mod:`workbench.features.subscriptions`).
    ``stable`` is ``True`` / ``False`` when known by ``as_of`` and missing
    (``<NA>``) when the stable day is after ``as_of`` and the stay is still open:
    *unknown is not "no"*.  A stay that ended before ``as_of`` (and before the
    stable day) is known to be not stable.

Times of contacts are converted to the province's local time (``tz``,
default :data:`LOCAL_TIMEZONE`) before their day is taken; naive times are
taken to be local already.

>>> import pandas as pd
>>> members = pd.DataFrame({"subscriber_id": [1, 2], "group": ["target", "control"]})
>>> contacts = pd.DataFrame({"subscriber_id": [1], "result": ["reached"],
...                          "contacted_at": pd.to_datetime(["2026-11-03 10:00"])})
>>> orders = pd.DataFrame({"event_id": [1, 2], "subscriber_id": [1, 2], "product_id": ["MN_NEWS"] * 2,
...     "event_date": pd.to_datetime(["2026-11-05", "2026-12-20"]), "event_type": ["order"] * 2,
...     "channel": ["sms"] * 2})
>>> out = attribute_responses(members, contacts, orders, campaign_start="2026-11-01",
...                           response_window_days=30, stable_months=3, as_of="2026-12-31")
>>> out[["subscriber_id", "responded", "days_to_response"]].values.tolist()
[[1, True, 2], [2, False, <NA>]]
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.checks import check_day, check_int, require_columns
from workbench.data.tables import PRODUCT_FAMILIES, table
from workbench.errors import DataValidationError, ParameterError
from workbench.store.models import CONTACT_RESULTS, GROUPS, SUBSCRIBER_ID

__all__ = [
    "ATTRIBUTION_COLUMNS",
    "REACHED_RESULTS",
    "LOCAL_TIMEZONE",
    "attribute_responses",
    "reference_dates",
    "catalogue_products",
]

_ORDERS = table("vas_orders")
_PRODUCTS = table("vas_products")
EVENT_ID: str = _ORDERS.column("event_id").name
PRODUCT_ID: str = _ORDERS.column("product_id").name
EVENT_DATE: str = _ORDERS.column("event_date").name
EVENT_TYPE: str = _ORDERS.column("event_type").name
ORDER_CHANNEL: str = _ORDERS.column("channel").name
FAMILY: str = _PRODUCTS.column("family").name
EDITION: str = _PRODUCTS.column("edition").name
MONTHLY_FEE: str = _PRODUCTS.column("monthly_fee").name
FREE_MONTHS: str = _PRODUCTS.column("free_months").name
#: The order and unsubscribe values of ``vas_orders.event_type``.
ORDER, UNSUBSCRIBE = _ORDERS.column("event_type").allowed
#: Every column of a ``vas_orders`` table, in order.
ORDER_COLUMNS: tuple[str, ...] = tuple(_ORDERS.column_names)

#: Contact results meaning the person was reached (an SMS or WAP Push: delivered).
REACHED_RESULTS: tuple[str, ...] = tuple(r for r in CONTACT_RESULTS if r != "not_reachable")
#: The province's local time zone (China Standard Time), in which contact days are counted.
LOCAL_TIMEZONE: str = "Asia/Shanghai"
#: The target (contacted) and control values of the member ``group`` column.
TARGET, CONTROL = GROUPS
#: Columns :func:`attribute_responses` adds to the member columns.
ATTRIBUTION_COLUMNS: tuple[str, ...] = (
    "reference_date", "reference", "responded", "response_date", "response_product", "response_channel",
    "days_to_response", "subscribed_until", "stable",
)


# ------------------------------------------------------------------ small helpers (shared by the tracking modules)
def add_months(days: np.ndarray, months) -> np.ndarray:
    """``days`` (``datetime64[D]``) plus ``months`` calendar months, clipped to the month end (as ``DateOffset``)."""
    days = np.asarray(days, dtype="datetime64[D]")
    month = days.astype("datetime64[M]")
    offset = days - month.astype("datetime64[D]")
    target = month + np.asarray(months, dtype=np.int64)
    last = (target + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    return np.minimum(target.astype("datetime64[D]") + offset, last)


def _as_days(series: pd.Series, name: str, tz: str | None = None) -> np.ndarray:
    """A date / time column as local calendar days (``datetime64[D]``, NaT kept)."""
    try:
        ts = pd.to_datetime(series)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"Column {name!r} must hold dates or times; {exc}") from None
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert(tz or LOCAL_TIMEZONE).dt.tz_localize(None)
    return ts.dt.floor("D").to_numpy(dtype="datetime64[D]")


def unique_member_ids(members: pd.DataFrame, name: str = "members") -> np.ndarray:
    ids = members[SUBSCRIBER_ID]
    if ids.isna().any():
        raise DataValidationError(f"{name}: {int(ids.isna().sum())} rows have no {SUBSCRIBER_ID}",
                                  [{"table": name, "column": SUBSCRIBER_ID, "check": "not null",
                                    "count": int(ids.isna().sum()), "examples": []}])
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise DataValidationError(
            f"{name}: {SUBSCRIBER_ID} must be unique; {int(dup.sum())} rows repeat one, e.g. "
            f"{ids[dup].head(5).tolist()}",
            [{"table": name, "column": SUBSCRIBER_ID, "check": "unique", "count": int(dup.sum()),
              "examples": ids[dup].head(5).tolist()}],
        )
    return ids.to_numpy(dtype=np.int64)


def catalogue_products() -> pd.DataFrame:
    """The synthetic province's ``vas_products`` table as a DataFrame (the default product catalogue)."""
    from workbench.data.synth.catalogue import VAS_PRODUCTS

    names = _PRODUCTS.column_names
    frame = pd.DataFrame({c: VAS_PRODUCTS[c] for c in names})
    return frame


def _family_products(products: pd.DataFrame | None, family: str, product_ids) -> tuple[pd.DataFrame, list[str]]:
    """(the catalogue, the product ids that count as a response) with clear errors."""
    if family not in PRODUCT_FAMILIES:
        raise ParameterError.invalid("family", f"one of {list(PRODUCT_FAMILIES)}", family)
    if products is not None:
        require_columns(products, "products", (PRODUCT_ID, FAMILY, FREE_MONTHS))
    catalogue = catalogue_products() if products is None else products
    in_family = catalogue.loc[catalogue[FAMILY] == family, PRODUCT_ID].astype(str).tolist()
    if not in_family:
        raise ParameterError(f"The product catalogue has no product of family {family!r}; "
                             f"its families are {sorted(catalogue[FAMILY].dropna().unique().tolist())}.")
    if product_ids is None:
        return catalogue, in_family
    wanted = [product_ids] if isinstance(product_ids, str) else list(product_ids)
    unknown = [p for p in wanted if p not in in_family]
    if unknown or not wanted:
        raise ParameterError.invalid("product_ids", f"products of family {family!r}: {in_family}", product_ids)
    return catalogue, wanted


def reference_dates(members: pd.DataFrame, contacts: pd.DataFrame | None, campaign_start, *,
                    group_col: str = "group", treated_value=TARGET,
                    tz: str = LOCAL_TIMEZONE) -> pd.DataFrame:
    """The day each member's response window opens (see the module notes).

    Parameters
    ----------
    members : pandas.DataFrame
        One row per member with ``subscriber_id`` and ``group_col``.
    contacts : pandas.DataFrame or None
        ``subscriber_id``, ``result`` and ``contacted_at`` of each contact attempt.
    campaign_start : date
        First day of the campaign.
    group_col : str, default "group"
        Column of the experiment group.
    treated_value : object, default "target"
        Value of ``group_col`` of the contacted group.
    tz : str, default :data:`LOCAL_TIMEZONE`
        Local time zone of the contact days.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``members``: ``subscriber_id``, ``reference_date``
        (``datetime64``) and ``reference`` (``"contact"`` or ``"campaign_start"``).
    """
    require_columns(members, "members", (SUBSCRIBER_ID, group_col))
    ids = unique_member_ids(members)
    start = check_day("campaign_start", campaign_start)
    ref = np.full(len(ids), start, dtype="datetime64[D]")
    from_contact = np.zeros(len(ids), dtype=bool)
    if contacts is not None and len(contacts):
        require_columns(contacts, "contacts", (SUBSCRIBER_ID, "result", "contacted_at"))
        unknown = ~contacts["result"].isin(CONTACT_RESULTS)
        if unknown.any():
            raise ParameterError(
                f"contacts: column 'result' must hold {list(CONTACT_RESULTS)}; found "
                f"{sorted(contacts.loc[unknown, 'result'].astype(str).unique().tolist())[:10]}"
            )
        reached = contacts[contacts["result"].isin(REACHED_RESULTS)]
        if len(reached):
            days = _as_days(reached["contacted_at"], "contacted_at", tz)
            first = pd.Series(days, index=reached[SUBSCRIBER_ID].to_numpy(dtype=np.int64)).groupby(level=0).min()
            treated = (members[group_col] == treated_value).to_numpy(dtype=bool, na_value=False)
            pos = pd.Index(first.index).get_indexer(ids)
            use = treated & (pos >= 0)
            values = first.to_numpy(dtype="datetime64[D]")
            ref[use] = values[pos[use]]
            from_contact = use & ~np.isnat(ref)
            ref[np.isnat(ref)] = start
    return pd.DataFrame({
        SUBSCRIBER_ID: ids,
        "reference_date": ref.astype("datetime64[us]"),
        "reference": np.where(from_contact, "contact", "campaign_start"),
    })


def _stays(orders: pd.DataFrame, catalogue: pd.DataFrame, family: str, as_of: np.datetime64) -> pd.DataFrame:
    """Family stays (islands of spells) of the given order records, as seen on ``as_of``."""
    from workbench.features.subscriptions import family_spells

    products = catalogue.copy()
    for col in _PRODUCTS.column_names:
        if col not in products.columns:
            products[col] = None
    return family_spells({"vas_orders": orders, "vas_products": products}, family,
                         as_of=pd.Timestamp(as_of))


def attribute_responses(
    members: pd.DataFrame,
    contacts: pd.DataFrame | None,
    orders: pd.DataFrame,
    *,
    campaign_start,
    response_window_days: int = 30,
    stable_months: int = 3,
    as_of,
    family: str = "mobile_newspaper",
    product_ids: str | Sequence[str] | None = None,
    products: pd.DataFrame | None = None,
    group_col: str = "group",
    treated_value=TARGET,
    tz: str = LOCAL_TIMEZONE,
) -> pd.DataFrame:
    """One row per member: did they respond within the window, when, and is the response stable.

    Parameters
    ----------
    members : pandas.DataFrame
        The released list: ``subscriber_id`` (unique) and ``group_col``; every
        other column (branch, channel, executor, score, ...) is passed through.
    contacts : pandas.DataFrame or None
        Contact attempts: ``subscriber_id``, ``result`` (one of
        ``workbench.store.CONTACT_RESULTS``) and ``contacted_at`` (as
        :meth:`workbench.store.Store.contact_results` or
        :func:`~workbench.demo.simulate.simulate_execution` return them).
    orders : pandas.DataFrame
        ``vas_orders`` records (every column of the data model); records of
        other subscribers and products are ignored.
    campaign_start : date
        First day of the campaign (the reference day of the control group).
    response_window_days : int, default 30
        Length of the window in days after the reference day (both ends inclusive).
    stable_months : int, default 3
        Calendar months a response must be held to be stable.
    as_of : date
        The day the evaluation is made; later records are not read.
    family : str, default "mobile_newspaper"
        Product family of the campaign.
    product_ids : str or list of str, optional
        Only orders of these products of the family count (default: every product of it).
    products : pandas.DataFrame, optional
        The ``vas_products`` catalogue (default: :func:`catalogue_products`).
    group_col : str, default "group"
        Column of the experiment group.
    treated_value : object, default "target"
        Value of ``group_col`` of the contacted group.
    tz : str, default :data:`LOCAL_TIMEZONE`
        Time zone in which contact days are counted.

    Returns
    -------
    pandas.DataFrame
        The member columns followed by :data:`ATTRIBUTION_COLUMNS`:
        ``reference_date``, ``reference`` (``"contact"`` / ``"campaign_start"``),
        ``responded`` (bool), ``response_date`` (NaT without a response),
        ``response_product``, ``response_channel``, ``days_to_response``
        (nullable ``Int64``), ``subscribed_until`` (end of the stay of the
        response; NaT while still subscribed on ``as_of``) and ``stable``
        (nullable ``boolean``: ``<NA>`` when not known yet or no response).

    Raises
    ------
    ParameterError
        A missing column (names the table and the columns), a bad date or
        window, ``as_of`` before ``campaign_start``, an unknown family or product.
    DataValidationError
        Repeated or missing subscriber ids in ``members``.
    """
    require_columns(members, "members", (SUBSCRIBER_ID, group_col))
    require_columns(orders, "orders", ORDER_COLUMNS)
    window = check_int("response_window_days", response_window_days, 0)
    stable_m = check_int("stable_months", stable_months, 1)
    start = check_day("campaign_start", campaign_start)
    cutoff = check_day("as_of", as_of)
    if cutoff < start:
        raise ParameterError.invalid("as_of", f"a day on or after campaign_start ({start})", as_of)
    catalogue, counted = _family_products(products, family, product_ids)
    family_ids = catalogue.loc[catalogue[FAMILY] == family, PRODUCT_ID].astype(str).tolist()

    refs = reference_dates(members, contacts, campaign_start, group_col=group_col, treated_value=treated_value,
                           tz=tz)
    ids = refs[SUBSCRIBER_ID].to_numpy()
    ref_days = refs["reference_date"].to_numpy(dtype="datetime64[D]")
    n = len(ids)

    # the family's records of the members, up to as_of ------------------------------------
    mine = orders[orders[SUBSCRIBER_ID].isin(ids) & orders[PRODUCT_ID].isin(family_ids)]
    event_days = _as_days(mine[EVENT_DATE], EVENT_DATE)
    keep = event_days <= cutoff
    mine, event_days = mine[keep], event_days[keep]

    # responses: the first counted order inside the window ----------------------------------
    is_order = (mine[EVENT_TYPE] == ORDER).to_numpy(dtype=bool) & mine[PRODUCT_ID].isin(counted).to_numpy()
    cand = mine[is_order]
    cand_days = event_days[is_order]
    pos = pd.Index(ids).get_indexer(cand[SUBSCRIBER_ID].to_numpy(dtype=np.int64))
    lag = (cand_days - ref_days[pos]).astype(np.int64)
    inside = (lag >= 0) & (lag <= window)
    hits = pd.DataFrame({
        "pos": pos[inside], "day": cand_days[inside], "lag": lag[inside],
        "event_id": cand[EVENT_ID].to_numpy()[inside],
        "product": cand[PRODUCT_ID].astype(str).to_numpy()[inside],
        "channel": cand[ORDER_CHANNEL].astype(str).to_numpy()[inside],
    }).sort_values(["pos", "day", "event_id"], kind="stable").drop_duplicates("pos", keep="first")

    responded = np.zeros(n, dtype=bool)
    responded[hits["pos"].to_numpy()] = True
    resp_day = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    resp_day[hits["pos"].to_numpy()] = hits["day"].to_numpy(dtype="datetime64[D]")
    days_to = pd.array([pd.NA] * n, dtype="Int64")
    days_to[hits["pos"].to_numpy()] = hits["lag"].to_numpy()
    product = np.full(n, None, dtype=object)
    product[hits["pos"].to_numpy()] = hits["product"].to_numpy()
    channel = np.full(n, None, dtype=object)
    channel[hits["pos"].to_numpy()] = hits["channel"].to_numpy()

    # the stay that holds each response, and whether it is stable ---------------------------
    until = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    stable = pd.array([pd.NA] * n, dtype="boolean")
    if len(hits):
        resp_ids = set(ids[hits["pos"].to_numpy()].tolist())
        stays = _stays(mine[mine[SUBSCRIBER_ID].isin(resp_ids)], catalogue, family, cutoff)
        spos = pd.Index(ids).get_indexer(stays[SUBSCRIBER_ID].to_numpy(dtype=np.int64))
        s_start = stays["start_date"].to_numpy(dtype="datetime64[D]")
        s_end = stays["end_date"].to_numpy(dtype="datetime64[D]")
        r_day = resp_day[spos]
        holds = (s_start <= r_day) & (np.isnat(s_end) | (s_end >= r_day))
        match = pd.DataFrame({"pos": spos[holds], "start": s_start[holds], "end": s_end[holds]})
        match = match.sort_values(["pos", "start"], kind="stable").drop_duplicates("pos", keep="last")
        until[match["pos"].to_numpy()] = match["end"].to_numpy(dtype="datetime64[D]")
        rows = hits["pos"].to_numpy()
        stable_day = add_months(resp_day[rows], stable_m)
        end = until[rows]
        known_end = ~np.isnat(end)
        verdict = pd.array([pd.NA] * len(rows), dtype="boolean")
        verdict[known_end] = end[known_end] > stable_day[known_end]
        open_done = ~known_end & (stable_day <= cutoff)
        verdict[open_done] = True
        stable[rows] = verdict

    out = members.reset_index(drop=True).copy()
    out["reference_date"] = refs["reference_date"].to_numpy()
    out["reference"] = refs["reference"].to_numpy()
    out["responded"] = responded
    out["response_date"] = resp_day.astype("datetime64[us]")
    out["response_product"] = pd.array(product, dtype="str")
    out["response_channel"] = pd.array(channel, dtype="str")
    out["days_to_response"] = days_to
    out["subscribed_until"] = until.astype("datetime64[us]")
    out["stable"] = stable
    return out
