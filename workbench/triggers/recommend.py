"""Services to recommend to stable handset changers, and the channel each goes by.

A service is **eligible** for a changer when

* it needs a handset capability (``vas_products.required_capability``; with
  ``capability_only=False`` every product is considered) and the *new* handset
  has it;
* the changer does not hold it on the day (latest ``vas_orders`` event of the
  product up to the day is an order);
* the product rule allows it: one product per family (a subscriber holding any
  product of a family - e.g. one mobile-newspaper edition - is not offered
  another of that family).

Eligible services are **ranked** by the changer's content preference
(:class:`workbench.models.PreferenceModel` on ``monthly_usage``) for the
product's content category (a product without one gets the average share
``1 / len(CONTENT_CATEGORIES)``), times ``1 + gained_bonus`` when the old
handset lacked the capability (the change is what makes the offer new).  The
**channel** follows the service's capability (:data:`DEFAULT_CHANNEL_RULES`); a
WAP Push to a handset without WAP falls back to SMS.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.checks import check_date, check_num, require_columns
from workbench.data.source import connection, require_tables
from workbench.data.tables import CAPABILITIES, CONTENT_CATEGORIES, ORDER_CHANNELS
from workbench.errors import ParameterError

__all__ = [
    "DEFAULT_CHANNEL_RULES",
    "OFFER_COLUMNS",
    "RecommendInputs",
    "gather_recommend_inputs",
    "recommend",
]

#: Channel of a service by the capability it needs (the source: SMS, WAP Push, outbound call, IVR).
DEFAULT_CHANNEL_RULES: dict[str, str] = {"wap": "wap_push", "mp3": "wap_push", "mms": "sms", "java": "outbound_call"}
_NO_CAPABILITY_CHANNEL = "sms"
#: Columns of :func:`recommend` (one row per changer and eligible service, best first).
OFFER_COLUMNS: tuple[str, ...] = (
    "subscriber_id", "product_id", "family", "required_capability", "gained", "preference", "score", "rank",
    "channel",
)


class RecommendInputs:
    """What :func:`recommend` needs besides the changers (see :func:`gather_recommend_inputs`).

    Attributes
    ----------
    products : DataFrame
        ``vas_products`` (``product_id, family, content_category, required_capability``).
    holdings : DataFrame
        ``subscriber_id, product_id`` held on the day.
    preferences : DataFrame
        Index ``subscriber_id``, one column per content category (rows sum to 1).
    """

    def __init__(self, products: pd.DataFrame, holdings: pd.DataFrame, preferences: pd.DataFrame):
        self.products = products
        self.holdings = holdings
        self.preferences = preferences


def gather_recommend_inputs(source, subscriber_ids, day, *, months: int = 6) -> RecommendInputs:
    """Read the catalogue, the holdings on ``day`` and the preferences of ``subscriber_ids``.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        Needs ``vas_products``, ``vas_orders``, ``subscribers`` and ``monthly_usage``.
    subscriber_ids : array-like of int
    day : date
        Holdings are those on this day; preferences use the ``months`` months before its month.
    months : int

    The preference model (:class:`workbench.models.PreferenceModel`) learns its prior from
    these subscribers' content items (the ``months`` months up to the month before ``day``).
    """
    from workbench.models.preference import PreferenceModel

    day = check_date("day", day)
    ids = pd.DataFrame({"subscriber_id": pd.Series(subscriber_ids, dtype="int64").unique()})
    snapshot = (day.to_period("M") - 1).strftime("%Y-%m")
    with connection(source, progress=False) as con:
        require_tables(con, ("vas_products", "vas_orders"), "gather_recommend_inputs")
        products = con.execute("SELECT product_id, family, content_category, required_capability "
                               "FROM vas_products ORDER BY product_id").df()
        con.register("_ids", ids)
        holdings = con.execute("""
            SELECT subscriber_id, product_id FROM (
                SELECT o.subscriber_id, o.product_id, o.event_type,
                       row_number() OVER (PARTITION BY o.subscriber_id, o.product_id
                                          ORDER BY CAST(o.event_date AS DATE) DESC, o.event_id DESC) AS rn
                FROM vas_orders o JOIN _ids USING (subscriber_id)
                WHERE CAST(o.event_date AS DATE) <= $day)
            WHERE rn = 1 AND event_type = 'order'""", {"day": day.date()}).df()
        cats = ", ".join(f'sum(coalesce(u."content_{c}", 0)) AS "{c}"' for c in CONTENT_CATEGORIES)
        counts = con.execute(f"""
            SELECT _ids.subscriber_id, {cats} FROM _ids
            LEFT JOIN monthly_usage u ON u.subscriber_id = _ids.subscriber_id
                 AND CAST(u.month AS DATE) > $start AND CAST(u.month AS DATE) <= $end
            GROUP BY 1 ORDER BY 1""", {"start": (pd.Period(snapshot, "M") - months).to_timestamp().date(),
                                       "end": pd.Period(snapshot, "M").to_timestamp().date()}).df()
        con.unregister("_ids")
    counts = counts.set_index("subscriber_id").astype("int64")
    preferences = PreferenceModel().fit(counts).transform(counts) if len(counts) else counts.astype(float)
    return RecommendInputs(products, holdings, preferences)


def recommend(changers: pd.DataFrame, inputs: RecommendInputs, *, channel_rules: dict | None = None,
              gained_bonus: float = 0.5, capability_only: bool = True) -> pd.DataFrame:
    """Eligible services of each changer, ranked, with their channel (pure: DataFrames in, DataFrame out).

    Parameters
    ----------
    changers : DataFrame
        :func:`workbench.triggers.detect_changers` rows (``subscriber_id`` and
        ``new_cap_<c>`` / ``old_cap_<c>`` for every capability).
    inputs : RecommendInputs
    channel_rules : dict, optional
        Capability -> channel (default :data:`DEFAULT_CHANNEL_RULES`); each a channel of
        :data:`workbench.data.tables.ORDER_CHANNELS`.
    gained_bonus : float
        Relative score bonus of a service the old handset could not use (>= 0).
    capability_only : bool
        Offer only services that need a capability (the trigger's point).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OFFER_COLUMNS`; ``rank`` 1 is each changer's best service.

    Examples
    --------
    >>> import pandas as pd
    >>> ch = pd.DataFrame({"subscriber_id": [1], **{f"{s}_cap_{c}": [s == "new"]
    ...                    for s in ("new", "old") for c in ("wap", "mms", "java", "mp3")}})
    >>> prods = pd.DataFrame({"product_id": ["SONG", "STOCK"], "family": ["full_song", "mobile_stock"],
    ...                       "content_category": ["music", "finance"], "required_capability": ["mp3", "java"]})
    >>> pref = pd.DataFrame({c: [0.1] for c in ("news", "sports", "entertainment", "games")}
    ...                     | {"finance": [0.5], "music": [0.1]}, index=pd.Index([1], name="subscriber_id"))
    >>> out = recommend(ch, RecommendInputs(prods, pd.DataFrame({"subscriber_id": [], "product_id": []}), pref))
    >>> out[["product_id", "rank", "channel"]].values.tolist()
    [['STOCK', 1, 'outbound_call'], ['SONG', 2, 'wap_push']]
    """
    caps = [f"{s}_cap_{c}" for s in ("new", "old") for c in CAPABILITIES]
    require_columns(changers, "changers", ["subscriber_id", *caps])
    require_columns(inputs.products, "products", ["product_id", "family", "content_category",
                                                   "required_capability"])
    require_columns(inputs.holdings, "holdings", ["subscriber_id", "product_id"])
    gained_bonus = check_num("gained_bonus", gained_bonus, 0, 100)
    rules = dict(DEFAULT_CHANNEL_RULES if channel_rules is None else channel_rules)
    bad = {k: v for k, v in rules.items() if k not in CAPABILITIES or v not in ORDER_CHANNELS}
    if bad:
        raise ParameterError.invalid("channel_rules", f"capabilities of {list(CAPABILITIES)} mapped to channels of "
                                     f"{list(ORDER_CHANNELS)}", bad)
    missing_pref = [c for c in CONTENT_CATEGORIES if c not in inputs.preferences.columns]
    if missing_pref:
        raise ParameterError.invalid("preferences", f"a column per content category {list(CONTENT_CATEGORIES)}",
                                     list(inputs.preferences.columns))
    products = inputs.products.copy()
    products["required_capability"] = products["required_capability"].astype(object).where(
        products["required_capability"].notna(), None)
    if capability_only:
        products = products[products["required_capability"].notna()]
    ch = changers.drop_duplicates("subscriber_id")
    pairs = ch[["subscriber_id", *caps]].merge(products, how="cross")
    if pairs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in OFFER_COLUMNS})
    need = pairs["required_capability"]
    cap_new = np.ones(len(pairs), bool)
    cap_old = np.ones(len(pairs), bool)
    for c in CAPABILITIES:
        is_c = (need == c).to_numpy()
        cap_new[is_c] = pairs.loc[is_c, f"new_cap_{c}"].to_numpy(bool)
        cap_old[is_c] = pairs.loc[is_c, f"old_cap_{c}"].to_numpy(bool)
    held = inputs.holdings.merge(products[["product_id", "family"]], on="product_id")[["subscriber_id", "family"]]
    held = held.drop_duplicates().assign(_held=True)
    pairs = pairs.merge(held, on=["subscriber_id", "family"], how="left")
    keep = cap_new & pairs["_held"].isna().to_numpy()
    pairs = pairs.loc[keep].assign(gained=~cap_old[keep]).reset_index(drop=True)
    pref = inputs.preferences.reindex(pairs["subscriber_id"].to_numpy())
    share = np.full(len(pairs), 1.0 / len(CONTENT_CATEGORIES))
    cat = pairs["content_category"]
    for c in CONTENT_CATEGORIES:
        is_c = (cat == c).to_numpy()
        share[is_c] = pref[c].to_numpy(float)[is_c]
    share = np.nan_to_num(share, nan=1.0 / len(CONTENT_CATEGORIES))
    pairs["preference"] = share
    pairs["score"] = share * (1.0 + gained_bonus * pairs["gained"].to_numpy(float))
    pairs = pairs.sort_values(["subscriber_id", "score", "product_id"], ascending=[True, False, True],
                              kind="stable")
    pairs["rank"] = pairs.groupby("subscriber_id").cumcount() + 1
    channel = pairs["required_capability"].map(rules).fillna(_NO_CAPABILITY_CHANNEL)
    no_wap = ~pairs["new_cap_wap"].to_numpy(bool)
    pairs["channel"] = np.where((channel == "wap_push").to_numpy() & no_wap, "sms", channel.to_numpy())
    return pairs[list(OFFER_COLUMNS)].reset_index(drop=True)
