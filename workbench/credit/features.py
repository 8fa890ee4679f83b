"""Credit features and label of recent joiners, computed in DuckDB from the credit tables.

Every credit account is described as it looked at its **grade date**, the first
day of its third month (the join month is month 1): the first ``feature_months``
months of charges, payments, top-ups and balance, postpaid bills due by then,
stops and restarts, the handset first seen, the join channel and the dealer's
bad rate known at the grade date (accounts of that dealer whose outcome period had
ended, smoothed by :data:`DEALER_PRIOR_WEIGHT` towards the province's rate known then), how
many numbers share its ID document, and a re-joiner's earlier subscription.
Nothing dated on or after the grade date is used.

The **label** (parameters, :class:`LabelRule`): an account is *bad* when, within
months ``outcome_months`` after joining, it was stopped for arrears and not
restarted by the end of that period, or (when ``arrears_yuan`` is set) a bill due
in those months stayed unpaid at least ``arrears_yuan`` yuan for at least
``arrears_days`` days.  The label is known (``matured``) once the period has
ended by the data's last month.

Monthly usage is not read: it covers the observed window only, while the charges
of ``account_months`` cover every credit account's whole life.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from workbench.checks import check_int, check_num
from workbench.data.source import connection, require_tables
from workbench.data.tables import CREDIT_TABLES
from workbench.errors import ParameterError

__all__ = [
    "LabelRule",
    "SEGMENT_COLUMNS",
    "FEATURE_COLUMNS",
    "NEEDED_TABLES",
    "credit_frame",
    "current_arrears",
]

#: The segment columns: ``joiner`` (``rejoined`` / ``new``) and ``region`` (``urumqi`` / ``other``).
SEGMENT_COLUMNS: tuple[str, ...] = ("joiner", "region")
#: Weight (in accounts) of the province's bad rate in a dealer's smoothed bad rate.
DEALER_PRIOR_WEIGHT = 50
#: Tables the credit frame reads.
NEEDED_TABLES: tuple[str, ...] = ("subscribers", "handset_events", "handset_models", *CREDIT_TABLES)
#: Model features of the credit frame (in order).
FEATURE_COLUMNS: tuple[str, ...] = (
    "brand", "payment_type", "join_channel", "dealer_bad_rate", "age", "credit_limit", "ocs_member", "handset_band",
    "smartphone", "id_numbers", "charges_m1", "charges_m2", "charges_per_day", "paid_total", "paid_ratio",
    "top_ups", "balance_end", "balance_min", "bills_late", "days_late_max", "stops_early", "restarts_early",
    "previous_bad", "previous_unpaid", "days_since_previous", "previous_tenure_days",
)


@dataclass(frozen=True)
class LabelRule:
    """The credit label and the feature window.

    Parameters
    ----------
    feature_months : int
        Months of behaviour from joining (the join month included) the features read; the grade is set
        in the month after them.
    outcome_first, outcome_last : int
        Months after joining (join month = 1) in which a bad outcome counts.
    arrears_yuan : float, optional
        Also bad: a bill due in the outcome months unpaid at least this many yuan ...
    arrears_days : int
        ... for at least this many days after its due date.
    """

    feature_months: int = 2
    outcome_first: int = 3
    outcome_last: int = 6
    arrears_yuan: float | None = None
    arrears_days: int = 60

    def __post_init__(self):
        check_int("feature_months", self.feature_months, 1, 6)
        check_int("outcome_first", self.outcome_first, self.feature_months + 1, 24)
        check_int("outcome_last", self.outcome_last, self.outcome_first, 24)
        if self.arrears_yuan is not None:
            check_num("arrears_yuan", self.arrears_yuan, 0, 1e6)
        check_int("arrears_days", self.arrears_days, 1, 365)

    def as_dict(self) -> dict:
        """The rule as plain values (for a manifest or a report)."""
        return asdict(self)


_SQL = """
WITH last AS (SELECT max(month) AS last_month FROM account_months),
acc AS (
    SELECT a.subscriber_id, a.payment_type, a.join_channel, coalesce(a.dealer_id, 'none') AS dealer_id,
           a.credit_limit::DOUBLE AS credit_limit, a.ocs_member::INT AS ocs_member, a.id_key,
           s.brand, s.age::DOUBLE AS age, s.join_date::DATE AS join_date,
           CASE WHEN s.rejoined THEN 'rejoined' ELSE 'new' END AS joiner,
           CASE WHEN s.branch_id = 'urumqi' THEN 'urumqi' ELSE 'other' END AS region,
           date_trunc('month', s.join_date)::DATE AS join_month,
           (date_trunc('month', s.join_date) + INTERVAL ({fm}) MONTH)::DATE AS grade_date,
           (date_trunc('month', s.join_date) + INTERVAL ({of} - 1) MONTH)::DATE AS outcome_start,
           (date_trunc('month', s.join_date) + INTERVAL ({ol}) MONTH)::DATE AS outcome_end
    FROM credit_accounts a JOIN subscribers s USING (subscriber_id)
),
months AS (
    SELECT m.subscriber_id,
           sum(m.charges) FILTER (WHERE m.month = acc.join_month) AS charges_m1,
           sum(m.charges) FILTER (WHERE m.month = acc.join_month + INTERVAL 1 MONTH) AS charges_m2,
           sum(m.charges) AS charges_total, sum(m.paid) AS paid_total,
           arg_max(m.balance, m.month) AS balance_end, min(m.balance) AS balance_min
    FROM account_months m JOIN acc USING (subscriber_id)
    WHERE m.month < acc.grade_date
    GROUP BY m.subscriber_id
),
pays AS (
    SELECT p.subscriber_id, count(*) FILTER (WHERE p.kind = 'top_up') AS top_ups
    FROM payments p JOIN acc USING (subscriber_id)
    WHERE p.payment_date < acc.grade_date
    GROUP BY p.subscriber_id
),
bills AS (
    SELECT b.subscriber_id,
           count(*) FILTER (WHERE b.paid_date IS NULL OR b.paid_date >= acc.grade_date
                            OR b.paid_date > b.due_date) AS bills_late,
           max(date_diff('day', b.due_date, least(coalesce(b.paid_date, acc.grade_date), acc.grade_date)))
               AS days_late_max
    FROM monthly_bills b JOIN acc USING (subscriber_id)
    WHERE b.due_date < acc.grade_date
    GROUP BY b.subscriber_id
),
early AS (
    SELECT e.subscriber_id,
           count(*) FILTER (WHERE e.event = 'stopped_arrears' AND e.event_date < acc.grade_date) AS stops_early,
           count(*) FILTER (WHERE e.event = 'restarted' AND e.event_date < acc.grade_date) AS restarts_early
    FROM account_events e JOIN acc USING (subscriber_id)
    GROUP BY e.subscriber_id
),
stops AS (
    SELECT e.subscriber_id, e.event_date AS stop_date
    FROM account_events e JOIN acc USING (subscriber_id)
    WHERE e.event = 'stopped_arrears' AND e.event_date >= acc.outcome_start AND e.event_date < acc.outcome_end
),
restarts AS (
    SELECT e.subscriber_id, e.event_date AS restart_date
    FROM account_events e JOIN acc USING (subscriber_id)
    WHERE e.event = 'restarted' AND e.event_date < acc.outcome_end
),
stop_bad AS (
    SELECT s.subscriber_id, bool_or(NOT EXISTS (
        SELECT 1 FROM restarts r WHERE r.subscriber_id = s.subscriber_id AND r.restart_date >= s.stop_date))
        AS bad_stop
    FROM stops s GROUP BY s.subscriber_id
),
arrears AS (
    SELECT b.subscriber_id, bool_or(b.amount_due - b.amount_paid >= {ay} AND
        coalesce(b.paid_date, DATE '9999-12-31') >= b.due_date + INTERVAL ({ad}) DAY) AS bad_arrears
    FROM monthly_bills b JOIN acc USING (subscriber_id)
    WHERE b.due_date >= acc.outcome_start AND b.due_date < acc.outcome_end
    GROUP BY b.subscriber_id
),
labels AS (
    SELECT acc.subscriber_id, acc.dealer_id, acc.outcome_end,
           (coalesce(stop_bad.bad_stop, false) OR ({use_arrears} AND coalesce(arrears.bad_arrears, false)))::INT
               AS bad
    FROM acc LEFT JOIN stop_bad USING (subscriber_id) LEFT JOIN arrears USING (subscriber_id)
),
dealer_known AS (
    SELECT dealer_id, outcome_end AS known_from,
           sum(count(*)) OVER w AS n, sum(sum(bad)) OVER w AS b
    FROM labels
    WHERE dealer_id <> 'none' AND outcome_end <= (SELECT last_month FROM last) + INTERVAL 1 MONTH
    GROUP BY dealer_id, outcome_end
    WINDOW w AS (PARTITION BY dealer_id ORDER BY outcome_end)
),
province_known AS (
    SELECT outcome_end AS known_from, sum(count(*)) OVER w AS n, sum(sum(bad)) OVER w AS b
    FROM labels WHERE outcome_end <= (SELECT last_month FROM last) + INTERVAL 1 MONTH
    GROUP BY outcome_end
    WINDOW w AS (ORDER BY outcome_end)
),
prior AS (
    SELECT a.subscriber_id, coalesce(p.b / nullif(p.n, 0), 0.1) AS rate
    FROM acc a ASOF LEFT JOIN province_known p ON a.grade_date >= p.known_from
),
dealer_rate AS (
    SELECT a.subscriber_id,
           (coalesce(d.b, 0) + {dealer_k} * pr.rate) / (coalesce(d.n, 0) + {dealer_k}) AS dealer_bad_rate
    FROM acc a JOIN prior pr USING (subscriber_id)
    ASOF LEFT JOIN dealer_known d ON a.dealer_id = d.dealer_id AND a.grade_date >= d.known_from
    WHERE a.dealer_id <> 'none'
),
ids AS (
    SELECT a.subscriber_id, count(o.subscriber_id) AS id_numbers
    FROM acc a JOIN acc o ON o.id_key = a.id_key AND o.join_date < a.grade_date
    GROUP BY a.subscriber_id
),
hand AS (
    SELECT h.subscriber_id, arg_min(hm.price_band, h.event_date) AS handset_band,
           arg_min(hm.smartphone::INT, h.event_date) AS smartphone
    FROM handset_events h JOIN handset_models hm USING (handset_model) JOIN acc USING (subscriber_id)
    GROUP BY h.subscriber_id
),
prev AS (
    SELECT p.subscriber_id, (p.end_reason <> 'voluntary')::INT AS previous_bad,
           p.unpaid_amount::DOUBLE AS previous_unpaid,
           date_diff('day', p.previous_end_date, acc.join_date)::DOUBLE AS days_since_previous,
           date_diff('day', p.previous_join_date, p.previous_end_date)::DOUBLE AS previous_tenure_days
    FROM previous_subscriptions p JOIN acc USING (subscriber_id)
)
SELECT acc.subscriber_id, acc.join_month, acc.grade_date, acc.joiner, acc.region,
       acc.brand, acc.payment_type, acc.join_channel, acc.dealer_id, acc.age, acc.credit_limit, acc.ocs_member,
       coalesce(hand.handset_band, 'unknown') AS handset_band, hand.smartphone::DOUBLE AS smartphone,
       coalesce(ids.id_numbers, 1)::DOUBLE AS id_numbers,
       coalesce(months.charges_m1, 0) AS charges_m1, coalesce(months.charges_m2, 0) AS charges_m2,
       coalesce(months.charges_total, 0) / greatest(date_diff('day', acc.join_date, acc.grade_date), 1)
           AS charges_per_day,
       coalesce(months.paid_total, 0) AS paid_total,
       coalesce(months.paid_total, 0) / greatest(coalesce(months.charges_total, 0), 1) AS paid_ratio,
       coalesce(pays.top_ups, 0)::DOUBLE AS top_ups, months.balance_end, months.balance_min,
       coalesce(bills.bills_late, 0)::DOUBLE AS bills_late, bills.days_late_max::DOUBLE AS days_late_max,
       coalesce(early.stops_early, 0)::DOUBLE AS stops_early,
       coalesce(early.restarts_early, 0)::DOUBLE AS restarts_early,
       coalesce(prev.previous_bad, 0)::DOUBLE AS previous_bad, coalesce(prev.previous_unpaid, 0) AS previous_unpaid,
       prev.days_since_previous,
       prev.previous_tenure_days,
       (acc.outcome_end <= (SELECT last_month FROM last) + INTERVAL 1 MONTH) AS matured,
       dealer_rate.dealer_bad_rate, labels.bad
FROM acc
LEFT JOIN months USING (subscriber_id) LEFT JOIN pays USING (subscriber_id)
LEFT JOIN bills USING (subscriber_id) LEFT JOIN early USING (subscriber_id)
LEFT JOIN labels USING (subscriber_id) LEFT JOIN dealer_rate USING (subscriber_id)
LEFT JOIN ids USING (subscriber_id) LEFT JOIN hand USING (subscriber_id) LEFT JOIN prev USING (subscriber_id)
WHERE acc.grade_date <= (SELECT last_month FROM last) + INTERVAL 1 MONTH
ORDER BY acc.subscriber_id
"""


def credit_frame(source, rule: LabelRule | None = None) -> pd.DataFrame:
    """One row per credit account whose grade date has come: segments, features, label, maturity.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        The province (it must hold the credit tables).
    rule : LabelRule, optional
        Feature window and label (default :class:`LabelRule`).

    Returns
    -------
    pandas.DataFrame
        ``subscriber_id``, ``join_month``, ``grade_date``, :data:`SEGMENT_COLUMNS`,
        :data:`FEATURE_COLUMNS`, ``matured`` (the outcome period has ended by the
        data's last month) and ``bad`` (0/1; meaningful only when matured).

    Raises
    ------
    DataValidationError
        When the source lacks a table the credit features need.
    """
    rule = rule or LabelRule()
    if not isinstance(rule, LabelRule):
        raise ParameterError.invalid("rule", "a LabelRule", type(rule).__name__)
    sql = _SQL.format(fm=rule.feature_months, of=rule.outcome_first, ol=rule.outcome_last,
                      ay=float(rule.arrears_yuan or 0.0), ad=rule.arrears_days,
                      use_arrears="true" if rule.arrears_yuan is not None else "false", dealer_k=DEALER_PRIOR_WEIGHT)
    with connection(source, progress=False) as con:
        require_tables(con, NEEDED_TABLES, "credit grading")
        frame = con.execute(sql).df()
    for col in ("join_month", "grade_date"):
        frame[col] = pd.to_datetime(frame[col])
    frame["matured"] = frame["matured"].astype(bool)
    frame["bad"] = frame["bad"].astype("int64")
    return frame


_ARREARS_SQL = """
WITH last AS (SELECT max(month) AS last_month FROM account_months),
bills AS (
    SELECT subscriber_id, sum(amount_due - amount_paid) AS owed FROM monthly_bills
    WHERE amount_paid < amount_due AND due_date < (SELECT last_month FROM last) + INTERVAL 1 MONTH
    GROUP BY subscriber_id
),
prepaid AS (
    SELECT m.subscriber_id, -m.balance AS owed
    FROM account_months m JOIN credit_accounts a USING (subscriber_id)
    WHERE a.payment_type = 'prepaid' AND m.month = (SELECT last_month FROM last) AND m.balance < 0
),
closed AS (SELECT DISTINCT subscriber_id FROM account_events WHERE event = 'written_off')
SELECT subscriber_id, round(sum(owed), 2) AS amount_owed
FROM (SELECT * FROM bills UNION ALL SELECT * FROM prepaid)
WHERE subscriber_id NOT IN (SELECT subscriber_id FROM closed)
GROUP BY subscriber_id HAVING sum(owed) > 0 ORDER BY subscriber_id
"""


def current_arrears(source) -> pd.DataFrame:
    """Accounts in arrears at the data's last month: ``subscriber_id``, ``amount_owed`` (yuan).

    Postpaid: bills due by then and not paid in full; prepaid: a negative month-end balance.
    Written-off accounts are left out (they are no longer dunned).
    """
    with connection(source, progress=False) as con:
        require_tables(con, ("credit_accounts", "account_months", "monthly_bills", "account_events"),
                       "the dunning list")
        return con.execute(_ARREARS_SQL).df()
