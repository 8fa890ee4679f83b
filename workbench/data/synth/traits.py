"""Who the subscribers are: observable attributes and the hidden traits behind their behaviour.

:func:`draw_population` draws, for one chunk of subscribers, everything that is
constant per person: branch, brand, tariff plan, join date, age, gender,
re-joined flag (all written to ``subscribers``) and the hidden traits that
drive usage, handset choice and VAS uptake (written only to the ground truth):

* ``wealth``        - spending power (ARPU, tariff, handset price band, handset changes);
* ``voice_level``   - log of typical monthly voice minutes;
* ``sms_level``     - log of typical monthly SMS;
* ``data_affinity`` - appetite for GPRS/WAP (the mobile internet);
* ``content_level`` - log of typical monthly content items consumed;
* ``pref``          - content preference over ``CONTENT_CATEGORIES`` (a Dirichlet draw);
* ``price_sens``    - price sensitivity (lower uptake, earlier unsubscribe);
* ``awareness``     - how well the person knows the VAS offer (contact raises it);
* ``persuadability``- how much a marketing contact moves the person;
* ``contact_averse``- "sleeping dogs": a contact makes them less likely to order;
* ``noise``         - one idiosyncratic, unobservable uptake term per product family.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.data.synth.catalogue import (
    BRANCH_GOTONE_SHARE, BRANCH_SHARES, BRANCH_WEALTH, TARIFF_PLANS,
)
from workbench.data.synth.timeline import Timeline, days_in_month, month_start_day
from workbench.data.tables import BRANDS, CONTENT_CATEGORIES, PRODUCT_FAMILIES

__all__ = ["Population", "draw_population", "TARIFF_CODES", "TARIFF_RENT", "BRAND_TARIFF_OFFSET"]

GOTONE, MZONE, EASYOWN = (BRANDS.index(b) for b in ("gotone", "mzone", "easyown"))
#: Every tariff code in one vocabulary (brand blocks in ``BRANDS`` order) and its monthly rent.
TARIFF_CODES: tuple[str, ...] = tuple(code for b in BRANDS for code, _ in TARIFF_PLANS[b])
TARIFF_RENT: np.ndarray = np.array([rent for b in BRANDS for _, rent in TARIFF_PLANS[b]], dtype=np.float64)
#: Position of each brand's first tariff in :data:`TARIFF_CODES`.
BRAND_TARIFF_OFFSET: np.ndarray = np.cumsum([0] + [len(TARIFF_PLANS[b]) for b in BRANDS])[:-1]

# Share of M-Zone among the non-GoTone subscribers: higher in the capital (students, young workers).
_MZONE_OF_REST_CAPITAL = 0.49
_MZONE_OF_REST_OTHER = 0.33
# Tenure: a mixture of an exponential (recent growth) and a flat tail of long-standing customers.
_TENURE_MEAN_MONTHS = 34.0
_TENURE_TAIL_SHARE = 0.18
_TENURE_MAX_MONTHS = 180
_AGE_MISSING = np.array([0.03, 0.06, 0.10])      # by brand
_GENDER_MISSING = 0.04
_MALE_SHARE = 0.56
# Content-preference Dirichlet: base concentration per category, scaled per person.
_PREF_ALPHA = np.array([1.0, 0.7, 0.45, 0.9, 1.1, 0.8])
_I = {c: i for i, c in enumerate(CONTENT_CATEGORIES)}


@dataclass
class Population:
    """One chunk of subscribers: attributes (observable) and hidden traits (ground truth only)."""

    subscriber_id: np.ndarray
    branch: np.ndarray            # index into BRANCHES
    is_capital: np.ndarray
    brand: np.ndarray             # index into BRANDS
    tariff: np.ndarray            # index into TARIFF_CODES
    join_day: np.ndarray          # days since 1970-01-01
    join_month: np.ndarray        # month number
    age: np.ndarray               # true age (years)
    age_missing: np.ndarray
    gender: np.ndarray            # 0 = M, 1 = F
    gender_missing: np.ndarray
    rejoined: np.ndarray
    wealth: np.ndarray
    voice_level: np.ndarray
    sms_level: np.ndarray
    data_affinity: np.ndarray
    content_level: np.ndarray
    pref: np.ndarray              # (n, len(CONTENT_CATEGORIES)), rows sum to 1
    price_sens: np.ndarray
    awareness: np.ndarray
    persuadability: np.ndarray
    contact_averse: np.ndarray
    noise: np.ndarray             # (n, len(PRODUCT_FAMILIES))

    @property
    def n(self) -> int:
        """Number of subscribers in the chunk."""
        return len(self.subscriber_id)


def _tenure_months(rng: np.random.Generator, n: int) -> np.ndarray:
    tail = rng.random(n) < _TENURE_TAIL_SHARE
    t = np.where(tail, rng.uniform(36, _TENURE_MAX_MONTHS, n), rng.exponential(_TENURE_MEAN_MONTHS, n))
    return np.minimum(t, _TENURE_MAX_MONTHS).astype(np.int64)


def draw_population(subscriber_id: np.ndarray, timeline: Timeline, rng: np.random.Generator) -> Population:
    """Draw the attributes and hidden traits of the subscribers ``subscriber_id``.

    Parameters
    ----------
    subscriber_id : ndarray of int64
        Keys of the chunk's subscribers.
    timeline : Timeline
        The province's calendar (join dates are not after its last day).
    rng : numpy.random.Generator
        The chunk's generator for attributes and traits.

    Returns
    -------
    Population
    """
    n = len(subscriber_id)
    branch = rng.choice(len(BRANCH_SHARES), size=n, p=BRANCH_SHARES / BRANCH_SHARES.sum()).astype(np.int64)
    cap = branch == 0

    # brand: GoTone share per branch, the rest split M-Zone / Easy-Own (more M-Zone in the capital)
    u = rng.random(n)
    p_go = BRANCH_GOTONE_SHARE[branch]
    p_mz = (1 - p_go) * np.where(cap, _MZONE_OF_REST_CAPITAL, _MZONE_OF_REST_OTHER)
    brand = np.where(u < p_go, GOTONE, np.where(u < p_go + p_mz, MZONE, EASYOWN)).astype(np.int64)
    go, mz, eo = brand == GOTONE, brand == MZONE, brand == EASYOWN

    # tenure and join date (never after the end month's last day)
    tenure = _tenure_months(rng, n)
    join_month = timeline.end_month - tenure
    dim = days_in_month(join_month)
    join_day = month_start_day(join_month) + np.floor(rng.random(n) * dim).astype(np.int64)
    # M-Zone (launched for the young) rarely has very old contracts
    # re-joiners are common among recent joiners (numbers come back after a stop or a switch): about 3 in 10
    # of the last 18 months' joiners, so credit grading has enough of them per region
    rejoined = rng.random(n) < (0.055 + 0.22 * (tenure < 18) + 0.035 * eo)

    # age by brand; some missing
    age = np.where(
        mz, 16 + rng.gamma(3.0, 2.6, n),
        np.where(go, rng.normal(40, 9, n), rng.normal(37, 13, n)),
    )
    age = np.clip(np.round(age), 12, 85)
    age_missing = rng.random(n) < _AGE_MISSING[brand]
    gender = (rng.random(n) >= _MALE_SHARE).astype(np.int64)
    gender_missing = rng.random(n) < _GENDER_MISSING
    young = age < 28

    brand_wealth = np.where(go, 0.9, np.where(eo, -0.3, 0.0))
    wealth = 0.9 * rng.standard_normal(n) + BRANCH_WEALTH[branch] + brand_wealth

    # tariff plan: richer plans for wealthier people within each brand
    score = wealth - brand_wealth + 0.6 * rng.standard_normal(n)
    step = np.where(go, np.searchsorted([-0.4, 0.5, 1.3], score),
                    np.where(mz, np.searchsorted([-0.1, 0.8], score), np.searchsorted([-0.6, 0.4, 1.2], score)))
    tariff = BRAND_TARIFF_OFFSET[brand] + step

    voice_level = (np.log(np.where(go, 330.0, np.where(mz, 150.0, 115.0))) + 0.35 * (wealth - brand_wealth) + 0.2 * cap
                   + 0.6 * rng.standard_normal(n))
    sms_level = (np.log(np.where(go, 70.0, np.where(mz, 220.0, 40.0))) - 0.03 * (age - 30)
                 + 0.8 * rng.standard_normal(n))
    data_affinity = (rng.standard_normal(n) + np.where(mz, 0.5, np.where(go, 0.3, -0.4)) + 0.45 * cap
                     - 0.035 * (age - 32) + 0.25 * wealth)
    content_level = np.log(4.0) + 0.8 * data_affinity + 0.7 * rng.standard_normal(n)

    alpha = np.tile(_PREF_ALPHA, (n, 1))
    male = gender == 0
    alpha[:, _I["sports"]] *= np.where(male, 1.7, 0.7)
    alpha[:, _I["games"]] *= np.where(male, 1.3, 0.8)
    alpha[:, _I["entertainment"]] *= np.where(male, 0.8, 1.6)
    alpha[:, _I["music"]] *= np.where(young, 1.7, 0.8)
    alpha[:, _I["games"]] *= np.where(young, 1.6, 0.7)
    alpha[:, _I["news"]] *= np.where(young, 0.6, 1.3) * np.where(go, 1.3, 1.0)
    alpha[:, _I["finance"]] *= np.where(young, 0.5, 1.2) * np.where(go, 2.0, 1.0) * np.where(cap, 1.3, 1.0)
    g = rng.gamma(alpha)
    pref = g / g.sum(axis=1, keepdims=True)

    price_sens = -0.8 * (wealth - BRANCH_WEALTH[branch]) + np.where(eo, 0.5, np.where(go, -0.4, 0.0)) \
        + 0.7 * rng.standard_normal(n)
    awareness = 0.45 * data_affinity + 0.25 * np.minimum(tenure, 60) / 60 + 0.85 * rng.standard_normal(n)
    persuadability = rng.standard_normal(n)
    contact_averse = rng.random(n) < (0.04 + 0.05 * go + 0.02 * (tenure > 60))
    noise = rng.standard_normal((n, len(PRODUCT_FAMILIES)))

    return Population(
        subscriber_id=np.asarray(subscriber_id, dtype=np.int64), branch=branch, is_capital=cap, brand=brand,
        tariff=tariff.astype(np.int64), join_day=join_day, join_month=join_month, age=age,
        age_missing=age_missing, gender=gender, gender_missing=gender_missing, rejoined=rejoined,
        wealth=wealth, voice_level=voice_level, sms_level=sms_level, data_affinity=data_affinity,
        content_level=content_level, pref=pref, price_sens=price_sens, awareness=awareness,
        persuadability=persuadability, contact_averse=contact_averse, noise=noise,
    )
