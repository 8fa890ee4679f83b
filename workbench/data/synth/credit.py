"""Credit of recent joiners: accounts, charges, bills, payments, stops for arrears, and the truth.

Every subscriber who joined in the last :data:`CREDIT_SPAN_MONTHS` months (the
end month included) gets an account: payment type, a hashed ID-document key
(several numbers may share one), join channel and dealer, credit limit and OCS
membership, and - for a re-joiner - the earlier subscription found through the
ID document.  Month by month from the join month the account is charged, pays
(postpaid: a bill due on the 20th of the next month; prepaid: top-ups) and may
be stopped for arrears, restarted or written off.

The hidden trait behind it is ``credit_risk`` (a standard normal).  The
observables reveal it only in part: a re-joiner's earlier outcome, numbers
sharing one ID document, late payments, lapses and thin top-ups in the first
two months.  The monthly *default* hazard from the third month on is
``sigmoid(risk_logit)`` where ``risk_logit`` adds to the trait drivers that
differ by region: outside Urumqi low spending power, a bad dealer and the
Easy-Own brand; in Urumqi heavy first-month usage (a usage spike), shared ID
documents and the online channel - Urumqi's bad payers look different.  A
defaulting account is stopped for arrears in that month; :data:`RETURN_SHARE`
of the stops are paid and restarted within days, the rest are never restarted
and are written off three months later.

The outcome is **bad** when the account is stopped for arrears in months
:data:`OUTCOME_MONTHS` after joining (the join month is month 1) and not
restarted; ``p_bad`` is its exact probability given the traits and
``bad_realised`` the simulated outcome (both in ``credit_truth.parquet`` only).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.data.synth.timeline import Timeline, days_in_month, month_start_day
from workbench.data.synth.traits import EASYOWN, GOTONE, TARIFF_RENT, Population
from workbench.data.synth.writer import date_column, digits_column, string_column
from workbench.data.tables import (
    ACCOUNT_EVENTS, BRANCHES, JOIN_CHANNELS, PAYMENT_CHANNELS, PAYMENT_KINDS, PAYMENT_TYPES, PREVIOUS_END_REASONS,
)

__all__ = [
    "CREDIT_SPAN_MONTHS",
    "OUTCOME_MONTHS",
    "RETURN_SHARE",
    "DEALERS",
    "CREDIT_TRUTH_TABLE",
    "CreditHistory",
    "credit_rng",
    "simulate_credit",
    "credit_table_columns",
    "credit_truth_schema",
    "credit_truth_columns",
    "load_credit_truth",
]

#: Months of joiners (the end month included) whose accounts are written.
CREDIT_SPAN_MONTHS = 18
#: Months after joining (join month = 1) in which a stop for arrears not restarted is bad.
OUTCOME_MONTHS = (3, 6)
#: Share of stops for arrears that are paid and restarted within days (not bad).
RETURN_SHARE = 0.25
#: Truth file stem of the credit ground truth.
CREDIT_TRUTH_TABLE = "credit_truth"
#: Dealers per branch (``<branch>_d1`` ...).
DEALERS_PER_BRANCH = 6
DEALERS: tuple[str, ...] = tuple(f"{b[0]}_d{j + 1}" for b in BRANCHES for j in range(DEALERS_PER_BRANCH))
#: Fixed risk effect of each dealer (a few dealers sign up many bad payers).
DEALER_EFFECT: np.ndarray = np.random.default_rng(20261207).normal(0.0, 0.7, len(DEALERS))
_RISK_INTERCEPT = -4.3
_PREVIOUS_ID_OFFSET = 1_000_000_000         # earlier subscriptions' keys never collide with current ones
_ID_A, _ID_B, _ID_MOD = 7_368_787, 982_451_653, 10**12
_DUE_DAY = 20
_PAY_CHANNEL_P = np.array([0.35, 0.25, 0.2, 0.2])
_STREAM = 101                                # spawn key of the credit stream (beside the chunk's own streams)


def credit_rng(entropy, chunk: int) -> np.random.Generator:
    """The credit stream of chunk ``chunk``: independent of the chunk's other streams."""
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(chunk, _STREAM)))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class CreditHistory:
    """Credit records and truth of one chunk (arrays hold chunk positions in ``user`` columns)."""

    user: np.ndarray                 # chunk positions of the accounts
    accounts: dict
    months: dict
    bills: dict
    payments: dict
    events: dict
    previous: dict
    truth: dict


def _risk(pop: Population, idx: np.ndarray, rng: np.random.Generator, n: int):
    """Trait, observables drawn from it and the default logit of the accounts ``idx``."""
    cap = pop.is_capital[idx]
    brand = pop.brand[idx]
    wealth = pop.wealth[idx]
    age = pop.age[idx]
    z = rng.standard_normal(n)                                    # the hidden credit character
    postpaid = rng.random(n) < np.where(brand == GOTONE, 0.85, np.where(brand == EASYOWN, 0.04, 0.12))
    u = rng.random(n)
    p_dealer = np.where(brand == GOTONE, 0.2, 0.45)
    p_online = np.where(cap, 0.2, 0.08)
    p_key = np.where(brand == GOTONE, 0.15, 0.01)
    channel = np.where(u < p_key, 3, np.where(u < p_key + p_dealer, 1, np.where(u < p_key + p_dealer + p_online,
                                                                               2, 0)))
    dealer = pop.branch[idx] * DEALERS_PER_BRANCH + rng.integers(0, DEALERS_PER_BRANCH, n)
    dealer_eff = np.where(channel == 1, DEALER_EFFECT[dealer], 0.0)
    shares_id = rng.random(n) < _sigmoid(-2.3 + 0.7 * z + 0.7 * cap)
    rejoined = pop.rejoined[idx]
    prev_bad = rejoined & (rng.random(n) < _sigmoid(-1.1 + 1.3 * z))
    spike = np.where(cap, np.maximum(0.0, 0.5 * z + 0.6 * rng.standard_normal(n)), 0.0)
    # drivers: outside Urumqi poverty, dealers, the Easy-Own brand, youth; in Urumqi the usage spike,
    # shared ID documents and online sign-ups
    other = -0.45 * (wealth - 0.1) + 0.9 * dealer_eff + 0.35 * (brand == EASYOWN) + 0.3 * (age < 24)
    urumqi = 0.9 * spike + 0.7 * shares_id + 0.6 * (channel == 2) + 0.1 * wealth
    logit = _RISK_INTERCEPT + 0.9 * z + np.where(cap, urumqi, other) + 1.0 * prev_bad - 0.4 * (channel == 3)
    return dict(z=z, postpaid=postpaid, channel=channel, dealer=dealer, shares_id=shares_id, prev_bad=prev_bad,
                spike=spike, logit=logit, rejoined=rejoined)


def _id_keys(sid: np.ndarray, shares_id: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Hashed ID-document keys; sharers hold their number under another sharer's document."""
    owner = sid.copy()
    sharers = np.flatnonzero(shares_id)
    if sharers.size:
        holders = sharers[: max(1, sharers.size // 3)]           # about three numbers per shared document
        owner[sharers] = sid[holders[rng.integers(0, holders.size, sharers.size)]]
    y = (owner % _ID_MOD * _ID_A + _ID_B) % _ID_MOD
    return digits_column(y, 12, prefix=np.full(len(y), 65, dtype=np.int64), prefix_width=2)


def simulate_credit(pop: Population, timeline: Timeline, rng: np.random.Generator) -> CreditHistory:
    """Accounts, monthly records and truth of the chunk's recent joiners.

    Parameters
    ----------
    pop : Population
        The chunk's subscribers.
    timeline : Timeline
        The calendar (records are written up to its last day).
    rng : numpy.random.Generator
        The chunk's credit stream (:func:`credit_rng`).
    """
    end = timeline.end_month
    idx = np.flatnonzero(pop.join_month > end - CREDIT_SPAN_MONTHS)
    n = idx.size
    r = _risk(pop, idx, rng, n)
    sid = pop.subscriber_id[idx]
    join_month = pop.join_month[idx]
    join_day = pop.join_day[idx]
    L = max(CREDIT_SPAN_MONTHS, OUTCOME_MONTHS[1])
    rel = np.arange(1, L + 1)
    cal = join_month[:, None] + rel[None, :] - 1                 # calendar month of relative month j
    ms = month_start_day(cal)
    dim = days_in_month(cal)
    observed = cal <= end
    # charges: rent + usage, pro-rated in the join month, Urumqi's risky heavy users spike in months 1-2
    level = (TARIFF_RENT[pop.tariff[idx]] + np.exp(np.log(25.0) + 0.45 * (pop.voice_level[idx] - 5.0)
                                                   + 0.3 * rng.standard_normal(n)))
    frac = np.where(rel[None, :] == 1, (ms + dim - join_day[:, None]) / dim, 1.0)
    charge = level[:, None] * np.exp(0.25 * rng.standard_normal((n, L)) - 0.03) * frac
    charge *= np.where(rel[None, :] <= 2, np.exp(r["spike"])[:, None], 1.0)
    # monthly states: lapse (late, sometimes a short stop), default (stop; RETURN_SHARE restart)
    z = r["z"]
    h = _sigmoid(r["logit"])[:, None]
    lapse = rng.random((n, L)) < _sigmoid(-2.6 + 1.0 * z)[:, None]
    u = rng.random((n, L))
    can_default = rel[None, :] >= OUTCOME_MONTHS[0]
    default = can_default & (u < h)
    returns = default & (u < h * RETURN_SHARE)
    bad_now = default & ~returns
    first_bad = np.where(bad_now.any(axis=1), bad_now.argmax(axis=1), L + 99)  # index into rel
    j = np.arange(L)[None, :]
    alive = j <= first_bad[:, None]                                # account open (stop month included)
    gone = j > first_bad[:, None]
    lo, hi = OUTCOME_MONTHS
    bad_realised = (first_bad >= lo - 1) & (first_bad <= hi - 1)
    p_bad = 1.0 - (1.0 - _sigmoid(r["logit"]) * (1 - RETURN_SHARE)) ** (hi - lo + 1)

    stop_day = ms + 2 + np.floor(rng.random((n, L)) * 13).astype(np.int64)          # day 3..15
    short_stop = lapse & (rng.random((n, L)) < 0.35) & ~default
    is_stop = (default | short_stop) & alive
    restart_day = stop_day + 2 + np.floor(rng.random((n, L)) * 9).astype(np.int64)
    is_restart = is_stop & ~(j == first_bad[:, None])
    charge = np.where(j == first_bad[:, None], charge * (stop_day - ms) / dim, np.where(gone, 0.0, charge))
    charge = np.round(charge, 2)

    post = r["postpaid"]
    pay_channel = rng.choice(len(PAYMENT_CHANNELS), size=(n, L), p=_PAY_CHANNEL_P)
    # postpaid: bill of month j due on the 20th of month j+1; late when lapsing or when risky
    due = month_start_day(cal + 1) + _DUE_DAY - 1
    late_p = _sigmoid(-2.0 + 0.9 * z)[:, None]
    late = lapse | (rng.random((n, L)) < late_p)
    pay_day = np.where(late, due + 1 + np.floor(rng.random((n, L)) * np.where(lapse, 30, 12)),
                       due - np.floor(rng.random((n, L)) * 18)).astype(np.int64)
    # a restart pays what is owed: the previous bill is paid on the restart day
    restart_next = np.zeros_like(is_restart)
    restart_next[:, :-1] = is_restart[:, 1:]
    pay_day = np.where(restart_next & post[:, None], restart_day[:, np.r_[1:L, L - 1]], pay_day)
    unpaid_bill = j >= first_bad[:, None] - 1                     # the bills of the stop month and the one before
    last_day = timeline.last_day
    bill_issued = observed & (cal < end) & alive & post[:, None]
    bill_paid = bill_issued & ~unpaid_bill & (pay_day <= last_day)
    # prepaid: top-ups of about the month's charges (thinner for risky people), one or two a month
    ratio = np.exp(0.08 - 0.18 * z[:, None] + 0.25 * rng.standard_normal((n, L)))
    topup = np.where(lapse, 0.6, 1.0) * ratio * charge
    topup = np.where(~post[:, None] & alive & (j < first_bad[:, None]), np.ceil(topup / 10.0) * 10.0, 0.0)
    top_day = ms + np.floor(rng.random((n, L)) * dim).astype(np.int64)
    top_day = np.where(is_restart, restart_day, top_day)
    top_day = np.maximum(top_day, join_day[:, None])
    top_ok = (topup > 0) & (top_day <= last_day)
    # money in per month and month-end balances (payments to date minus charges to date)
    paid_month = np.zeros((n, L))
    bill_pay_month = np.where(pay_day < month_start_day(cal + 1), cal, np.where(
        pay_day < month_start_day(cal + 2), cal + 1, cal + 2))
    pj = bill_pay_month - join_month[:, None]
    rows, cols = np.nonzero(bill_paid & (pj < L))
    np.add.at(paid_month, (rows, pj[rows, cols]), charge[rows, cols])
    paid_month += np.where(top_ok, topup, 0.0)
    opening = np.where(post, 0.0, 30.0)                            # a prepaid starter card holds 30 yuan
    balance = np.round(opening[:, None] + np.cumsum(paid_month - charge, axis=1), 2)
    closed = gone & (j > first_bad[:, None] + 3)                   # written off 3 months after the stop

    credit_limit = np.where(post, np.where(pop.brand[idx] == GOTONE, 300.0, 100.0), 10.0)
    ocs = ~post | (rng.random(n) < 0.3)

    # ---- rows
    m_rows = observed & ~closed
    mu, mj = np.nonzero(m_rows)
    months = dict(user=idx[mu], month=cal[mu, mj], charges=charge[mu, mj], paid=np.round(paid_month[mu, mj], 2),
                  balance=balance[mu, mj])
    bu, bj = np.nonzero(bill_issued)
    bills = dict(user=idx[bu], bill_month=cal[bu, bj], amount_due=charge[bu, bj], due_date=due[bu, bj],
                 amount_paid=np.where(bill_paid[bu, bj], charge[bu, bj], 0.0),
                 paid_date=pay_day[bu, bj], paid_mask=~bill_paid[bu, bj])
    # payments: bill payments + top-ups, ordered by user then date
    pu1, pj1 = np.nonzero(bill_paid & (charge > 0))
    pu2, pj2 = np.nonzero(top_ok)
    p_user = np.concatenate([pu1, pu2])
    p_day = np.concatenate([pay_day[pu1, pj1], top_day[pu2, pj2]])
    p_amount = np.concatenate([charge[pu1, pj1], topup[pu2, pj2]])
    p_kind = np.concatenate([np.zeros(pu1.size, np.int64), np.ones(pu2.size, np.int64)])
    p_chan = np.concatenate([pay_channel[pu1, pj1], pay_channel[pu2, pj2]])
    order = np.lexsort((p_kind, p_day, p_user))
    payments = dict(user=idx[p_user[order]], day=p_day[order], amount=np.round(p_amount[order], 2),
                    kind=p_kind[order], channel=p_chan[order])
    # status events: stops, restarts, write-offs
    owed_stop = np.round(np.maximum(-balance, 0.0) + np.where(post[:, None], charge, 0.5 * charge), 2)
    su, sj = np.nonzero(is_stop & observed & (stop_day <= last_day))
    ru, rj = np.nonzero(is_restart & observed & (restart_day <= last_day))
    wo_month = join_month + first_bad + 3
    wu = np.flatnonzero((first_bad < L) & (wo_month <= end))
    wu_day = month_start_day(wo_month[wu])
    e_user = np.concatenate([su, ru, wu])
    e_day = np.concatenate([stop_day[su, sj], restart_day[ru, rj], wu_day])
    e_kind = np.concatenate([np.zeros(su.size, np.int64), np.ones(ru.size, np.int64), np.full(wu.size, 2)])
    e_owed = np.concatenate([owed_stop[su, sj], np.zeros(ru.size), owed_stop[wu, first_bad[wu]]])
    order = np.lexsort((e_kind, e_day, e_user))
    events = dict(user=idx[e_user[order]], day=e_day[order], kind=e_kind[order], owed=e_owed[order])
    # a re-joiner's earlier subscription
    ru_ = np.flatnonzero(r["rejoined"])
    prev_end = join_day[ru_] - 1 - np.floor(rng.exponential(120.0, ru_.size)).astype(np.int64)
    prev_join = prev_end - 60 - np.floor(rng.exponential(500.0, ru_.size)).astype(np.int64)
    pb = r["prev_bad"][ru_]
    reason = np.where(pb, np.where(rng.random(ru_.size) < 0.55, 2, 1), 0)
    unpaid = np.where(pb, np.round(20 + rng.exponential(150.0, ru_.size), 2), 0.0)
    previous = dict(user=idx[ru_], previous_id=_PREVIOUS_ID_OFFSET + sid[ru_], join=prev_join, end=prev_end,
                    reason=reason, unpaid=unpaid)
    accounts = dict(user=idx, postpaid=post, id_key=_id_keys(sid, r["shares_id"], rng), channel=r["channel"],
                    dealer=r["dealer"], credit_limit=credit_limit, ocs=ocs)
    truth = dict(subscriber_id=sid, join_month=ms[:, 0], trait_credit_risk=np.round(z, 4),
                 default_logit=np.round(r["logit"], 4), p_bad=np.asarray(p_bad, np.float32).astype(np.float64),
                 bad_realised=bad_realised.astype(np.int8))
    return CreditHistory(user=idx, accounts=accounts, months=months, bills=bills, payments=payments,
                         events=events, previous=previous, truth=truth)


def _keyed(sid: np.ndarray) -> np.ndarray:
    """Row keys ``subscriber_id * 1000 + k`` (k counts a subscriber's rows, in order)."""
    first = np.searchsorted(sid, sid, side="left")
    return sid * 1000 + (np.arange(len(sid)) - first)


def credit_table_columns(pop: Population, ch: CreditHistory) -> dict[str, dict]:
    """Columns of the six credit tables of one chunk (``{table: {column: array}}``)."""
    sid = pop.subscriber_id
    a, mo, b, p, e, pr = ch.accounts, ch.months, ch.bills, ch.payments, ch.events, ch.previous
    channel = a["channel"]
    p_sid = sid[p["user"]]
    e_sid = sid[e["user"]]
    return {
        "credit_accounts": {
            "subscriber_id": sid[a["user"]],
            "payment_type": string_column(PAYMENT_TYPES, a["postpaid"].astype(np.int64)),
            "id_key": a["id_key"],
            "join_channel": string_column(JOIN_CHANNELS, channel),
            "dealer_id": string_column(DEALERS, a["dealer"], null_mask=channel != 1),
            "credit_limit": a["credit_limit"],
            "ocs_member": a["ocs"],
        },
        "account_months": {
            "subscriber_id": sid[mo["user"]], "month": date_column(month_start_day(mo["month"])),
            "charges": mo["charges"], "paid": mo["paid"], "balance": mo["balance"],
        },
        "monthly_bills": {
            "subscriber_id": sid[b["user"]], "bill_month": date_column(month_start_day(b["bill_month"])),
            "amount_due": b["amount_due"], "due_date": date_column(b["due_date"]),
            "amount_paid": b["amount_paid"],
            "paid_date": pa.array(np.asarray(b["paid_date"], np.int64).astype("datetime64[D]"), type=pa.date32(),
                                  mask=b["paid_mask"]),
        },
        "payments": {
            "payment_id": _keyed(p_sid), "subscriber_id": p_sid, "payment_date": date_column(p["day"]),
            "amount": p["amount"], "kind": string_column(PAYMENT_KINDS, p["kind"]),
            "channel": string_column(PAYMENT_CHANNELS, p["channel"]),
        },
        "account_events": {
            "event_id": _keyed(e_sid), "subscriber_id": e_sid, "event_date": date_column(e["day"]),
            "event": string_column(ACCOUNT_EVENTS, e["kind"]), "amount_owed": e["owed"],
        },
        "previous_subscriptions": {
            "subscriber_id": sid[pr["user"]], "previous_subscriber_id": pr["previous_id"],
            "previous_join_date": date_column(pr["join"]), "previous_end_date": date_column(pr["end"]),
            "end_reason": string_column(PREVIOUS_END_REASONS, pr["reason"]), "unpaid_amount": pr["unpaid"],
        },
    }


def credit_truth_schema() -> pa.Schema:
    """Columns of ``credit_truth.parquet``: one row per credit account."""
    return pa.schema([
        pa.field("subscriber_id", pa.int64(), nullable=False),
        pa.field("join_month", pa.date32()),
        pa.field("trait_credit_risk", pa.float64()),
        pa.field("default_logit", pa.float64()),
        pa.field("p_bad", pa.float64()),
        pa.field("bad_realised", pa.int8()),
    ])


def credit_truth_columns(ch: CreditHistory) -> dict:
    """Truth columns of one chunk (``join_month`` as a date column)."""
    return {**ch.truth, "join_month": date_column(ch.truth["join_month"])}


def load_credit_truth(truth_folder) -> pd.DataFrame:
    """Read ``credit_truth.parquet`` of a province's truth folder (one row per credit account)."""
    path = Path(truth_folder) / f"{CREDIT_TRUTH_TABLE}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"no credit truth in {str(truth_folder)!r}: expected {path.name} "
                                "as written by `workbench sample`")
    return pq.read_table(path).to_pandas()
