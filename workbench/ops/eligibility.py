"""Who may order which product, and why not: eligibility of every subscriber x product.

Front-line staff must answer "why can't I order product A?" (DOMAIN.md). The answer
is computed for the whole province at once in DuckDB (one query; a million
subscribers x nine products in seconds) from the province's tables:

===================  ===============================================================  ======================
reason code          rule                                                             tables
===================  ===============================================================  ======================
``inactive``         no usage row in the data's last month (left, or silent)          monthly_usage
``held``             the product's last order event (as of ``as_of``) is an order     vas_orders
``exclusive:<P>``    the subscriber holds product P of the same family (one           vas_orders, vas_products
                     subscription per family at a time: the newspaper's editions)
``handset``          the current handset (last IMEI record) lacks the product's        handset_events,
                     ``required_capability`` (``cap_<capability>`` of the model)        handset_models
``handset_unknown``  the product needs a capability and no handset is on record       handset_events
``credit_grade:<G>`` the subscriber's credit grade excludes promotions                a credit run's grades
===================  ===============================================================  ======================

One reason is given per product, the first that applies in the order above
(:data:`REASON_ORDER`); the words of each code are the labels ``ops.reason.<code>``
(``workbench/i18n/labels/ops.yaml``, placeholder ``{arg}``: the part of the code after the colon).
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from workbench.checks import check_date, require_columns
from workbench.data.source import connection
from workbench.errors import DataValidationError, ParameterError

__all__ = ["REASON_ORDER", "DEFAULT_EXCLUDED_GRADES", "ELIGIBILITY_COLUMNS", "eligibility", "offers_json",
           "offers_sql", "reason_code"]

#: Reason codes, in the order they are tried (the first that applies is the answer).
REASON_ORDER: tuple[str, ...] = ("inactive", "held", "exclusive", "handset", "handset_unknown", "credit_grade")
#: Credit grades whose subscribers are never promotion targets (DOMAIN.md: high-risk subscribers).
DEFAULT_EXCLUDED_GRADES: tuple[str, ...] = ("D", "E")
#: Columns of :func:`eligibility`.
ELIGIBILITY_COLUMNS: tuple[str, ...] = ("subscriber_id", "product_id", "eligible", "reason")
_USES = {
    "subscribers": ("subscriber_id",),
    "vas_products": ("product_id", "family", "required_capability"),
    "vas_orders": ("subscriber_id", "product_id", "event_date", "event_type"),
    "handset_events": ("subscriber_id", "event_date", "handset_model"),
    "handset_models": ("handset_model",),
    "monthly_usage": ("subscriber_id", "month"),
}


def reason_code(code: str) -> tuple[str, str | None]:
    """Split ``"exclusive:MN_NEWS"`` into ``("exclusive", "MN_NEWS")`` (``(code, None)`` without an argument)."""
    base, _, arg = str(code).partition(":")
    if base not in REASON_ORDER:
        raise ParameterError.invalid("code", f"a reason code starting with one of {list(REASON_ORDER)}", code)
    return base, arg or None


def _columns(con, table: str) -> list[str]:
    try:
        return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    except Exception:  # noqa: BLE001 - a missing view: say which table
        raise DataValidationError(f"Eligibility needs the table {table!r} in the data; it is missing.") from None


def _capability_sql(con) -> str:
    """``CASE`` giving the current handset's support of each product's required capability."""
    caps = [r[0] for r in con.execute("SELECT DISTINCT required_capability FROM vas_products "
                                      "WHERE required_capability IS NOT NULL ORDER BY 1").fetchall()]
    have = set(_columns(con, "handset_models"))
    missing = [f"cap_{c}" for c in caps if f"cap_{c}" not in have]
    if missing:
        raise DataValidationError(
            f"handset_models: the columns {missing} are missing; vas_products.required_capability names the "
            f"capabilities {caps}, each needs a boolean column cap_<capability>. Found columns {sorted(have)}.")
    if not caps:
        return "NULL"
    whens = " ".join(f"WHEN '{c}' THEN m.cap_{c}" for c in caps)
    return f"CASE p.required_capability {whens} END"


def _query(con, as_of: dt.date, credit: bool, excluded: tuple[str, ...]) -> str:
    day = f"DATE '{as_of.isoformat()}'"
    grades = ", ".join("'" + g.replace("'", "''") + "'" for g in excluded) or "NULL"
    credit_join = ("LEFT JOIN credit_grades g ON g.subscriber_id = s.subscriber_id" if credit
                   else "LEFT JOIN (SELECT NULL::BIGINT AS subscriber_id, NULL::VARCHAR AS grade) g ON false")
    return f"""
    WITH last_event AS (
        SELECT subscriber_id, product_id, arg_max(event_type, (event_date::DATE, event_id)) AS last_type
        FROM vas_orders WHERE event_date::DATE <= {day} GROUP BY 1, 2),
    held AS (SELECT e.subscriber_id, e.product_id, p.family
             FROM last_event e JOIN vas_products p USING (product_id) WHERE e.last_type = 'order'),
    held_family AS (SELECT subscriber_id, family, list(product_id ORDER BY product_id) AS products
                    FROM held GROUP BY 1, 2),
    handset AS (SELECT subscriber_id, arg_max(handset_model, event_date::DATE) AS handset_model
                FROM handset_events WHERE event_date::DATE <= {day} GROUP BY 1),
    last_month AS (SELECT max(month::DATE) AS m FROM monthly_usage WHERE month::DATE <= {day}),
    active AS (SELECT DISTINCT u.subscriber_id FROM monthly_usage u, last_month l WHERE u.month::DATE = l.m),
    pairs AS (
        SELECT s.subscriber_id, p.product_id, p.family, p.required_capability,
               a.subscriber_id IS NOT NULL AS is_active,
               h.subscriber_id IS NOT NULL AS is_held,
               list_filter(hf.products, lambda x: x <> p.product_id)[1] AS exclusive_with,
               hs.handset_model IS NOT NULL AS has_handset,
               {_capability_sql(con)} AS capable,
               g.grade
        FROM subscribers s CROSS JOIN vas_products p
        LEFT JOIN active a ON a.subscriber_id = s.subscriber_id
        LEFT JOIN held h ON h.subscriber_id = s.subscriber_id AND h.product_id = p.product_id
        LEFT JOIN held_family hf ON hf.subscriber_id = s.subscriber_id AND hf.family = p.family
        LEFT JOIN handset hs ON hs.subscriber_id = s.subscriber_id
        LEFT JOIN handset_models m ON m.handset_model = hs.handset_model
        {credit_join})
    SELECT subscriber_id, product_id,
           CASE WHEN NOT is_active THEN 'inactive'
                WHEN is_held THEN 'held'
                WHEN exclusive_with IS NOT NULL THEN 'exclusive:' || exclusive_with
                WHEN required_capability IS NOT NULL AND has_handset AND NOT coalesce(capable, false)
                     THEN 'handset'
                WHEN required_capability IS NOT NULL AND NOT has_handset THEN 'handset_unknown'
                WHEN grade IN ({grades}) THEN 'credit_grade:' || grade
           END AS reason
    FROM pairs"""


def _prepare(con, credit: pd.DataFrame | None, as_of) -> tuple[dt.date, bool]:
    for table, cols in _USES.items():
        found = _columns(con, table)
        lacking = [c for c in cols if c not in found]
        if lacking:
            raise DataValidationError(f"{table}: eligibility needs the columns {list(cols)}; missing {lacking}. "
                            f"Found {found}.")
    if credit is not None:
        require_columns(credit, "credit", ("subscriber_id", "grade"))
        con.register("credit_grades", credit[["subscriber_id", "grade"]].astype({"grade": "str"}))
    if as_of is None:
        last = con.execute("SELECT max(event_date::DATE) FROM vas_orders").fetchall()[0][0]
        as_of = last or dt.date.today()
    else:
        as_of = check_date("as_of", as_of)
    return (as_of.date() if isinstance(as_of, dt.datetime) else as_of), credit is not None


def eligibility(source, *, credit: pd.DataFrame | None = None, as_of=None,
                excluded_grades: tuple[str, ...] = DEFAULT_EXCLUDED_GRADES) -> pd.DataFrame:
    """Eligibility of every subscriber x product, with the reason when not eligible.

    Parameters
    ----------
    source : path, mapping of DataFrames, Source or duckdb connection
        The province's tables (see :data:`_USES` for the columns read).
    credit : DataFrame, optional
        ``subscriber_id, grade`` of a credit run (template 07); without it no
        ``credit_grade`` reason is given.
    as_of : date-like, optional
        Holdings and handsets as of this day (default: the last order event of the data).
    excluded_grades : tuple of str
        Credit grades excluded from promotions.

    Returns
    -------
    DataFrame
        :data:`ELIGIBILITY_COLUMNS`, sorted by subscriber and product; ``reason`` is
        missing when ``eligible``.

    Raises
    ------
    DataValidationError
        A table or column is missing (named), or a required capability has no ``cap_`` column.
    """
    with connection(source, progress=False) as con:
        day, has_credit = _prepare(con, credit, as_of)
        frame = con.execute(_query(con, day, has_credit, tuple(excluded_grades))
                            + " ORDER BY subscriber_id, product_id").df()
    frame["reason"] = frame["reason"].astype("str")
    frame.insert(2, "eligible", frame["reason"].isna())
    return frame[list(ELIGIBILITY_COLUMNS)]


def offers_json(source, *, credit: pd.DataFrame | None = None, as_of=None,
                excluded_grades: tuple[str, ...] = DEFAULT_EXCLUDED_GRADES) -> pd.DataFrame:
    """Per subscriber, the ``offers`` JSON of the published results (built in DuckDB).

    Returns
    -------
    DataFrame
        ``subscriber_id, offers``: a JSON list over every product of
        ``{"product": id, "eligible": bool, "reason": null | code}``, products in id order.
    """
    with connection(source, progress=False) as con:
        frame = con.execute(offers_sql(con, credit=credit, as_of=as_of, excluded_grades=excluded_grades)
                            + " ORDER BY subscriber_id").df()
    frame["offers"] = frame["offers"].astype("str")
    return frame


def offers_sql(con, *, credit: pd.DataFrame | None = None, as_of=None,
               excluded_grades: tuple[str, ...] = DEFAULT_EXCLUDED_GRADES) -> str:
    """The query of :func:`offers_json` on an open DuckDB connection ``con`` over the province's tables
    (for callers that join it further in DuckDB instead of holding the JSON in pandas)."""
    day, has_credit = _prepare(con, credit, as_of)
    inner = _query(con, day, has_credit, tuple(excluded_grades))
    return f"""
        SELECT subscriber_id,
               to_json(list({{'product': product_id, 'eligible': reason IS NULL, 'reason': reason}}
                            ORDER BY product_id))::VARCHAR AS offers
        FROM ({inner}) GROUP BY subscriber_id"""
