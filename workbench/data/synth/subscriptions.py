"""The VAS subscription process: orders, free-month leavers, churn and re-orders, month by month.

Each month, for every subscriber and product family (one subscription per
family at a time):

1. a held subscription ages by a month; at age 1 (the first paid month) it is
   dropped with the free-month leave probability (unsubscribed in the first days
   of the month), later with the monthly churn probability;
2. a subscriber without the family (and who did not just leave it) orders it with
   the monthly order probability of :mod:`workbench.data.synth.uptake`;
   a newspaper order picks an edition from the content preference.

The process runs from ``timeline.history`` months before the window (so the
window opens on a mature base, and order dates may precede the first month,
never the join date) to ``timeline.after`` months past it.  Events up to the
end month are written; the months after only feed the realised ground truth.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.data.synth.catalogue import VAS_PRODUCTS
from workbench.data.synth.timeline import Timeline, days_in_month, month_start_day
from workbench.data.synth.traits import EASYOWN, GOTONE, Population
from workbench.data.synth.uptake import NEWSPAPER, UptakeModel, order_probability
from workbench.data.tables import BRANDS, ORDER_CHANNELS, PRODUCT_FAMILIES

__all__ = [
    "SubscriptionHistory",
    "simulate_subscriptions",
    "ORDER_CHANNEL_MIX",
    "UNSUBSCRIBE_CHANNEL_MIX",
    "STABLE_MONTHS",
    "FREE_LEAVE_DAYS",
]

#: A subscription is *stable* when held at the end of this many consecutive months.
STABLE_MONTHS = 3
#: Free-month leavers unsubscribe within the first this-many days of the first paid month.
FREE_LEAVE_DAYS = 7
_F = len(PRODUCT_FAMILIES)
_C = {c: i for i, c in enumerate(ORDER_CHANNELS)}


def _mix(**w: float) -> np.ndarray:
    v = np.array([w.get(c, 0.0) for c in ORDER_CHANNELS])
    return v / v.sum()


#: Organic order channel mix per family (rows follow ``PRODUCT_FAMILIES``; columns ``ORDER_CHANNELS``).
ORDER_CHANNEL_MIX: np.ndarray = np.vstack([
    _mix(sms=.30, wap=.12, hall=.14, call_center=.05, ivr=.06, web=.04, outbound_call=.14, wap_push=.12,
         key_account=.03),
    _mix(sms=.30, wap=.10, hall=.15, call_center=.08, ivr=.20, web=.05, outbound_call=.06, wap_push=.04,
         key_account=.02),
    _mix(sms=.20, wap=.40, hall=.05, call_center=.03, ivr=.05, web=.12, outbound_call=.03, wap_push=.10,
         key_account=.02),
    _mix(sms=.15, wap=.20, hall=.20, call_center=.10, ivr=.02, web=.15, outbound_call=.08, wap_push=.03,
         key_account=.07),
    _mix(sms=.35, wap=.15, hall=.15, call_center=.03, ivr=.02, web=.25, outbound_call=.02, wap_push=.02,
         key_account=.01),
    _mix(sms=.15, wap=.45, hall=.12, call_center=.05, ivr=.02, web=.06, outbound_call=.05, wap_push=.08,
         key_account=.02),
])
#: Unsubscribe channel mix.
UNSUBSCRIBE_CHANNEL_MIX: np.ndarray = _mix(sms=.45, wap=.05, hall=.15, call_center=.25, ivr=.05, web=.05)


def _brand_mix_cdf() -> np.ndarray:
    """(brand, family, channel) cumulative order-channel mix: key-account managers serve GoTone."""
    out = np.empty((len(BRANDS), _F, len(ORDER_CHANNELS)))
    for b in range(len(BRANDS)):
        m = ORDER_CHANNEL_MIX.copy()
        m[:, _C["key_account"]] *= 5.0 if b == GOTONE else (0.3 if b == EASYOWN else 1.0)
        out[b] = np.cumsum(m / m.sum(axis=1, keepdims=True), axis=1)
    return out


_ORDER_CDF = _brand_mix_cdf()
_UNSUB_CDF = np.cumsum(UNSUBSCRIBE_CHANNEL_MIX)
_FAMILY_PRODUCTS = [np.flatnonzero(VAS_PRODUCTS["family_code"] == f) for f in range(_F)]
_FIRST_PRODUCT = np.array([p[0] for p in _FAMILY_PRODUCTS])
_FEE = VAS_PRODUCTS["monthly_fee"]
_FREE = VAS_PRODUCTS["free_months"]


@dataclass
class SubscriptionHistory:
    """The subscription process of one chunk.

    Attributes
    ----------
    ev_user, ev_product, ev_day, ev_type, ev_channel : ndarray
        Written events (up to the end month), sorted by user and day: chunk
        position, product index, day, 0 = order / 1 = unsubscribe, channel index.
    fees : ndarray (n, months)
        Subscription fees billed in each observed month (yuan).
    held_end, age_end : ndarray (n, families)
        Whether each family is held at the end of the window, and for how many
        months since the order month (-1 when not held).
    product_end : ndarray (n, families)
        Product held at the end of the window (-1 when none).
    next_order, next_stable : ndarray (n, families)
        Realised outcomes after the window among those not holding the family at
        its end: ordered in the next 3 months; and such an order was still held
        ``STABLE_MONTHS`` month-ends after it (first one included).
    """

    ev_user: np.ndarray
    ev_product: np.ndarray
    ev_day: np.ndarray
    ev_type: np.ndarray
    ev_channel: np.ndarray
    fees: np.ndarray
    held_end: np.ndarray
    age_end: np.ndarray
    product_end: np.ndarray
    next_order: np.ndarray
    next_stable: np.ndarray


def _pick(u: np.ndarray, cdf_rows: np.ndarray) -> np.ndarray:
    return np.minimum((u[:, None] >= cdf_rows).sum(axis=1), cdf_rows.shape[1] - 1)


def simulate_subscriptions(pop: Population, model: UptakeModel, handset_by_month: np.ndarray,
                           timeline: Timeline, rng: np.random.Generator) -> SubscriptionHistory:
    """Run the monthly subscription process of one chunk (see the module docstring).

    Parameters
    ----------
    pop : Population
    model : UptakeModel
    handset_by_month : ndarray (n, timeline.n_sim)
        Handset model held at the start of every simulated month.
    timeline : Timeline
    rng : numpy.random.Generator
        The chunk's generator for subscriptions.
    """
    n = pop.n
    held = np.zeros((n, _F), dtype=bool)
    age = np.full((n, _F), -1, dtype=np.int64)
    product = np.full((n, _F), -1, dtype=np.int64)
    next_order = np.zeros((n, _F), dtype=bool)
    next_stable = np.zeros((n, _F), dtype=bool)
    fees = np.zeros((n, timeline.months))
    eligible_next = None
    ev: list[tuple[np.ndarray, ...]] = []
    end = timeline.end_index
    months = timeline.sim_months
    for j, month in enumerate(months):
        ms = int(month_start_day(month))
        dim = int(days_in_month(month))
        age[held] += 1
        # 1. unsubscribe: free-month leavers at age 1, churn later
        leave_p = np.where(age == 1, model.free_leave, model.churn)
        leave = held & (rng.random((n, _F)) < leave_p)
        held &= ~leave
        # 2. orders by those without the family (leavers wait a month)
        p = order_probability(model, pop, int(month), handset_by_month[:, j])
        p[pop.join_month > month] = 0.0
        order = ~held & ~leave & (rng.random((n, _F)) < p)
        o_user, o_fam = np.nonzero(order)
        prod = _FIRST_PRODUCT[o_fam]
        is_mn = o_fam == NEWSPAPER
        if is_mn.any():
            prod[is_mn] = _FAMILY_PRODUCTS[NEWSPAPER][_pick(rng.random(int(is_mn.sum())),
                                                            model.edition_cdf[o_user[is_mn]])]
        held[o_user, o_fam] = True
        age[o_user, o_fam] = 0
        product[o_user, o_fam] = prod
        if j <= end:
            l_user, l_fam = np.nonzero(leave)
            free = age[l_user, l_fam] == 1
            # order day: not before the join day in the join month
            lo = np.where(pop.join_month[o_user] == month, pop.join_day[o_user] - ms, 0)
            o_day = ms + lo + np.floor(rng.random(o_user.size) * (dim - lo)).astype(np.int64)
            l_day = ms + np.floor(rng.random(l_user.size) * np.where(free, FREE_LEAVE_DAYS, dim)).astype(np.int64)
            o_chan = _pick(rng.random(o_user.size), _ORDER_CDF[pop.brand[o_user], o_fam])
            l_chan = _pick(rng.random(l_user.size), _UNSUB_CDF[None, :])
            ev.append((o_user, prod, o_day, np.zeros(o_user.size, np.int8), o_chan))
            ev.append((l_user, product[l_user, l_fam], l_day, np.ones(l_user.size, np.int8), l_chan))
            product[l_user, l_fam] = -1
            if j >= timeline.history:
                paid = held & (age >= _FREE[np.maximum(product, 0)])
                fees[:, j - timeline.history] = np.where(paid, _FEE[np.maximum(product, 0)], 0.0).sum(axis=1)
            if j == end:
                held_end = held.copy()
                age_end = np.where(held, age, -1)
                product_end = np.where(held, product, -1)
                eligible_next = ~held
        else:
            product[leave] = -1
            k = j - end                                   # 1, 2, ... months after the window
            if k <= 3:
                next_order |= order & eligible_next
            # a next-period order (months end+1 .. end+3) that reaches the stable age
            reached = held & (age == STABLE_MONTHS - 1) & eligible_next & (k - age >= 1) & (k - age <= 3)
            next_stable |= reached
        age[~held] = -1

    user = np.concatenate([e[0] for e in ev])
    day = np.concatenate([e[2] for e in ev])
    typ = np.concatenate([e[3] for e in ev])
    prod = np.concatenate([e[1] for e in ev])
    order_ix = np.lexsort((prod, typ, day, user))
    return SubscriptionHistory(
        ev_user=user[order_ix], ev_product=prod[order_ix], ev_day=day[order_ix],
        ev_type=typ[order_ix], ev_channel=np.concatenate([e[4] for e in ev])[order_ix],
        fees=fees, held_end=held_end, age_end=age_end, product_end=product_end,
        next_order=next_order, next_stable=next_stable,
    )
