"""Ground truth of the synthetic province (never read by the workbench's models).

Per subscriber:

* ``pref_<category>``            the true content preference vector;
* ``trait_*``                    the hidden traits behind the behaviour;
* ``held_end_<family>``          holds the family at the end of the window;
* ``stable_end_<family>``        ... and has held it at the last ``STABLE_MONTHS`` month-ends;
* ``p_stable_next_<family>``     true probability of becoming a *new* stable subscriber: not
  holding the family at the end of the window, ordering it in one of the 3 months after it
  and still holding that order ``STABLE_MONTHS`` month-ends later (0 for current holders);
* ``next_order_<family>``, ``next_stable_<family>`` the realised 0/1 outcomes of the same
  process continued past the window (the labels a model is scored on);
* ``p_order_base``               probability of ordering the mobile newspaper within a
  30-day response window without contact (0 for current holders and handsets without MMS);
* ``p_order_<channel>``          the same with a contact through ``CAMPAIGN_CHANNELS``;
* ``p_keep``                     probability an ordering user still holds the newspaper
  3 month-ends after the order month.

A contact raises the subscriber's awareness in proportion to a persuadability
trait that is only partly aligned with the base propensity, so there are sure
things (high base, little uplift), persuadables (moderate base, large uplift)
and sleeping dogs (``trait_contact_averse``: negative uplift).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.data.synth.catalogue import HANDSET_MODELS
from workbench.data.synth.subscriptions import STABLE_MONTHS, SubscriptionHistory
from workbench.data.synth.timeline import Timeline
from workbench.data.synth.traits import Population
from workbench.data.synth.uptake import NEWSPAPER, UptakeModel, order_probability, tenure_factor
from workbench.data.tables import CONTENT_CATEGORIES, PRODUCT_FAMILIES
from workbench.errors import ParameterError

__all__ = [
    "CAMPAIGN_CHANNELS",
    "CHANNEL_GAIN",
    "TRAIT_COLUMNS",
    "truth_schema",
    "stable_next_probability",
    "campaign_probabilities",
    "truth_columns",
    "draw_campaign_response",
]

#: Campaign contact channels with a true response model.
CAMPAIGN_CHANNELS: tuple[str, ...] = ("sms", "wap_push", "outbound_call", "ivr")
#: Strength of each channel's contact on the order logit (times the person's persuadability).
CHANNEL_GAIN: dict[str, float] = {"sms": 0.45, "wap_push": 0.6, "outbound_call": 1.2, "ivr": 0.7}
#: Contact effect of a "sleeping dog" (times the channel gain): a contact puts them off.
AVERSE_EFFECT = -1.0
#: Hidden traits written to the truth: column -> Population attribute.
TRAIT_COLUMNS: dict[str, str] = {
    "trait_wealth": "wealth",
    "trait_voice_level": "voice_level",
    "trait_sms_level": "sms_level",
    "trait_data_affinity": "data_affinity",
    "trait_content_level": "content_level",
    "trait_price_sensitivity": "price_sens",
    "trait_awareness": "awareness",
    "trait_persuadability": "persuadability",
    "trait_contact_averse": "contact_averse",
}


def truth_schema() -> pa.Schema:
    """Columns and Arrow types of ``subscriber_truth.parquet``."""
    fields = [pa.field("subscriber_id", pa.int64(), nullable=False)]
    fields += [pa.field(f"pref_{c}", pa.float64()) for c in CONTENT_CATEGORIES]
    fields += [pa.field(k, pa.bool_() if k == "trait_contact_averse" else pa.float64()) for k in TRAIT_COLUMNS]
    fields += [pa.field(f"held_end_{f}", pa.bool_()) for f in PRODUCT_FAMILIES]
    fields += [pa.field(f"stable_end_{f}", pa.bool_()) for f in PRODUCT_FAMILIES]
    fields += [pa.field(f"p_stable_next_{f}", pa.float64()) for f in PRODUCT_FAMILIES]
    fields += [pa.field("p_order_base", pa.float64())]
    fields += [pa.field(f"p_order_{ch}", pa.float64()) for ch in CAMPAIGN_CHANNELS]
    fields += [pa.field("p_keep", pa.float64())]
    fields += [pa.field(f"next_order_{f}", pa.int8()) for f in PRODUCT_FAMILIES]
    fields += [pa.field(f"next_stable_{f}", pa.int8()) for f in PRODUCT_FAMILIES]
    return pa.schema(fields)


def stable_next_probability(model: UptakeModel, pop: Population, handset_end: np.ndarray, held_end: np.ndarray,
                            timeline: Timeline) -> np.ndarray:
    """Exact probability (n, families) of becoming a new stable subscriber after the window.

    A small Markov chain per subscriber and family, with the same monthly
    probabilities as the simulation: *free* (may order), *ordered this month*,
    *held one month*, and *stable* (held ``STABLE_MONTHS`` month-ends).  Orders
    are counted in the 3 months after the window; subscribers holding the family
    at its end get 0.
    """
    if STABLE_MONTHS != 3:  # pragma: no cover - the chain below has three live states
        raise NotImplementedError("the chain is written for STABLE_MONTHS == 3")
    q, c = model.free_leave, model.churn
    free = np.ones_like(model.logit)
    a0 = np.zeros_like(free)
    a1 = np.zeros_like(free)
    success = np.zeros_like(free)
    for k in range(1, timeline.after + 1):
        success += a1 * (1 - c)
        leavers = a1 * c + a0 * q
        to_a1 = a0 * (1 - q)
        if k <= 3:
            h = order_probability(model, pop, timeline.end_month + k, handset_end)
            new_a0 = free * h
            free = free * (1 - h) + leavers
        else:
            new_a0 = np.zeros_like(free)
            free = free + leavers
        a1, a0 = to_a1, new_a0
    return np.where(held_end, 0.0, success)


def campaign_probabilities(model: UptakeModel, pop: Population, handset_end: np.ndarray,
                           held_end: np.ndarray, timeline: Timeline) -> dict[str, np.ndarray]:
    """``p_order_base``, ``p_order_<channel>`` and ``p_keep`` of the mobile newspaper (month after the window)."""
    month = timeline.end_month + 1
    eligible = ~held_end[:, NEWSPAPER] & HANDSET_MODELS["cap_mms"][handset_end]
    scale = tenure_factor(month - pop.join_month) * eligible
    logit = model.logit[:, NEWSPAPER]
    lift = np.maximum(0.0, 1.0 - 0.45 * pop.awareness + 0.5 * pop.persuadability)
    lift = np.where(pop.contact_averse, AVERSE_EFFECT, lift)
    out = {"p_order_base": 1.0 / (1.0 + np.exp(-logit)) * scale}
    for ch in CAMPAIGN_CHANNELS:
        gain = CHANNEL_GAIN[ch] * lift
        if ch == "wap_push":                       # a WAP Push needs a WAP handset to be seen at all
            gain = gain * HANDSET_MODELS["cap_wap"][handset_end]
        out[f"p_order_{ch}"] = 1.0 / (1.0 + np.exp(-(logit + gain))) * scale
    q, c = model.free_leave[:, NEWSPAPER], model.churn[:, NEWSPAPER]
    out["p_keep"] = (1 - q) * (1 - c) ** 2
    return out


def _single(x: np.ndarray) -> np.ndarray:
    """Round to single precision (7 significant digits): exact enough, and compresses twice as well."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def truth_columns(pop: Population, model: UptakeModel, subs: SubscriptionHistory, handset_end: np.ndarray,
                  timeline: Timeline) -> dict[str, np.ndarray]:
    """All ground-truth columns of one chunk (see the module docstring).

    Probabilities and preferences are stored to single precision (7 significant
    digits), trait values to 4 decimals.
    """
    out: dict[str, np.ndarray] = {"subscriber_id": pop.subscriber_id}
    for i, c in enumerate(CONTENT_CATEGORIES):
        out[f"pref_{c}"] = _single(pop.pref[:, i])
    for col, attr in TRAIT_COLUMNS.items():
        value = getattr(pop, attr)
        out[col] = value if value.dtype == bool else np.round(value, 4)
    stable_end = subs.held_end & (subs.age_end >= STABLE_MONTHS - 1)
    p_next = stable_next_probability(model, pop, handset_end, subs.held_end, timeline)
    for i, f in enumerate(PRODUCT_FAMILIES):
        out[f"held_end_{f}"] = subs.held_end[:, i]
        out[f"stable_end_{f}"] = stable_end[:, i]
        out[f"p_stable_next_{f}"] = _single(p_next[:, i])
    out.update({k: _single(v) for k, v in campaign_probabilities(model, pop, handset_end, subs.held_end,
                                                                  timeline).items()})
    for i, f in enumerate(PRODUCT_FAMILIES):
        out[f"next_order_{f}"] = subs.next_order[:, i].astype(np.int8)
    for i, f in enumerate(PRODUCT_FAMILIES):
        out[f"next_stable_{f}"] = subs.next_stable[:, i].astype(np.int8)
    return out


def draw_campaign_response(truth: pd.DataFrame, treated, channel: str,
                           rng: np.random.Generator | int | None = None) -> pd.DataFrame:
    """Simulate a mobile-newspaper campaign's outcome from the ground truth.

    Each subscriber orders within the 30-day response window with probability
    ``p_order_<channel>`` when treated (contacted) and ``p_order_base``
    otherwise; an order is kept for 3 months with probability ``p_keep``.

    Parameters
    ----------
    truth : pandas.DataFrame
        Rows of ``subscriber_truth.parquet`` (at least ``subscriber_id``,
        ``p_order_base``, ``p_order_<channel>``, ``p_keep``).
    treated : array-like of bool
        Contacted subscribers, aligned with ``truth``'s rows.
    channel : {"sms", "wap_push", "outbound_call", "ivr"}
        Contact channel.
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    pandas.DataFrame
        ``subscriber_id``, ``treated``, ``ordered`` and ``kept`` (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> truth = pd.DataFrame({"subscriber_id": [1, 2], "p_order_base": [0.0, 1.0],
    ...                       "p_order_sms": [1.0, 1.0], "p_keep": [1.0, 0.0]})
    >>> draw_campaign_response(truth, [True, False], "sms", rng=0)["ordered"].tolist()
    [True, True]
    """
    if channel not in CAMPAIGN_CHANNELS:
        raise ParameterError.invalid("channel", f"one of {set(CAMPAIGN_CHANNELS)}", channel)
    needed = ["subscriber_id", "p_order_base", f"p_order_{channel}", "p_keep"]
    missing = [c for c in needed if c not in truth.columns]
    if missing:
        raise ParameterError(f"truth table lacks columns {missing}; it needs {needed}. "
                             f"Got columns {list(truth.columns)[:12]} ...")
    treated = np.asarray(treated, dtype=bool)
    if treated.shape != (len(truth),):
        raise ParameterError.invalid("treated", f"a boolean mask of length {len(truth)} (one per truth row)",
                                     f"shape {treated.shape}")
    rng = np.random.default_rng(rng)
    p = np.where(treated, truth[f"p_order_{channel}"].to_numpy(float), truth["p_order_base"].to_numpy(float))
    ordered = rng.random(len(p)) < p
    kept = ordered & (rng.random(len(p)) < truth["p_keep"].to_numpy(float))
    return pd.DataFrame({"subscriber_id": truth["subscriber_id"].to_numpy(), "treated": treated,
                         "ordered": ordered, "kept": kept})
