"""Why people order VAS products: the hidden uptake and retention model.

For every subscriber and product family the model gives

* a monthly **order probability** ``sigmoid(logit) x tenure factor x handset gate``;
  the logit combines content preference, data affinity, SMS habit, brand, age,
  branch, price sensitivity and awareness *non-linearly* (saturating content fit,
  an inverted U in data affinity, a capital x data interaction, a non-capital x
  SMS interaction) plus an unobservable idiosyncratic term;
* a **free-month leave probability** (leave when the first bill comes);
* a monthly **churn probability** afterwards.

A handset without the capability a family needs (``vas_products.required_capability``)
gives an order probability of zero: no MMS, no mobile newspaper.

The same functions drive the simulated history, the window and the months after
it, and give the ground-truth probabilities, so the truth is exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.data.synth.catalogue import BRANCH_UPTAKE, HANDSET_MODELS, VAS_PRODUCTS
from workbench.data.synth.traits import EASYOWN, GOTONE, MZONE, Population
from workbench.data.tables import CONTENT_CATEGORIES, PRODUCT_FAMILIES

__all__ = [
    "UptakeModel",
    "uptake_model",
    "order_probability",
    "tenure_factor",
    "family_gate",
    "NEWSPAPER",
    "NEWSPAPER_CATEGORIES",
    "MN_INTERCEPT",
]

NEWSPAPER = PRODUCT_FAMILIES.index("mobile_newspaper")
#: Content categories of the newspaper editions, in product order.
NEWSPAPER_CATEGORIES: tuple[str, ...] = tuple(
    c for c, f in zip(VAS_PRODUCTS["content_category"], VAS_PRODUCTS["family"]) if f == "mobile_newspaper"
)
_I = {c: i for i, c in enumerate(CONTENT_CATEGORIES)}
_F = {f: i for i, f in enumerate(PRODUCT_FAMILIES)}

#: Intercept of the mobile-newspaper order logit, tuned once so that 3.66 % of the
#: subscribers are stable newspaper subscribers at the end of a 6-month window.
MN_INTERCEPT = -6.325
# scale of every driver of the newspaper logit (sets how predictable uptake is)
_MN_SPREAD = 0.6
# intercepts of the other families (held shares of roughly 10 %, 2 %, 1 %, 8 %, 5 %)
_INTERCEPTS = {
    "ringback_tone": -4.75, "full_song": -6.6, "mobile_stock": -7.6, "fetion": -5.4, "wap_portal": -5.6,
}
# idiosyncratic (unobservable) part of each family's logit
_NOISE_SD = {"mobile_newspaper": 0.85, "ringback_tone": 0.8, "full_song": 0.8, "mobile_stock": 0.8,
             "fetion": 0.8, "wap_portal": 0.8}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def family_gate() -> dict[int, str | None]:
    """Family index -> handset capability its products need (from the VAS catalogue)."""
    gate: dict[int, str | None] = {}
    for fam, cap in zip(VAS_PRODUCTS["family"], VAS_PRODUCTS["required_capability"]):
        gate[_F[fam]] = cap
    return gate


_GATE = family_gate()


@dataclass
class UptakeModel:
    """Per-subscriber uptake and retention parameters of one chunk.

    Attributes
    ----------
    logit : ndarray (n, families)
        Order logit before the tenure factor and the handset gate.
    free_leave : ndarray (n, families)
        Probability of unsubscribing when the first paid month comes.
    churn : ndarray (n, families)
        Monthly probability of unsubscribing afterwards.
    edition_cdf : ndarray (n, editions)
        Cumulative probability of each newspaper edition when ordering.
    base : ndarray (n, families)
        ``sigmoid(logit)``: the monthly order probability of an established
        customer whose handset supports the family.
    """

    logit: np.ndarray
    free_leave: np.ndarray
    churn: np.ndarray
    edition_cdf: np.ndarray
    base: np.ndarray
    earlier: tuple[int, np.ndarray] | None = None   # (month, base before it): a drifted relation (synth/drift.py)


def uptake_model(pop: Population) -> UptakeModel:
    """The uptake and retention parameters of every subscriber and family."""
    n = pop.n
    pref = pop.pref
    go, mz, eo = pop.brand == GOTONE, pop.brand == MZONE, pop.brand == EASYOWN
    cap = pop.is_capital
    d = pop.data_affinity
    sms_z = (pop.sms_level - np.log(70.0)) / 1.0
    age = pop.age
    ps = pop.price_sens
    aw = pop.awareness
    ed_idx = [_I[c] for c in NEWSPAPER_CATEGORIES]
    ed_pref = pref[:, ed_idx]
    top = ed_pref.max(axis=1)

    logit = np.empty((n, len(PRODUCT_FAMILIES)))
    # mobile newspaper: saturating content fit, inverted U in data affinity, capital x data, others x SMS
    logit[:, NEWSPAPER] = (
        MN_INTERCEPT + _MN_SPREAD * (
        2.2 * np.tanh(4.0 * (top - 0.3))
        + 0.9 * d - 0.28 * d ** 2
        + np.where(cap, 0.55 * d - 0.3 * np.tanh(4.0 * (top - 0.3)), 0.35 * np.clip(sms_z, -2, 3))
        + np.where(mz, 0.35, np.where(go, 0.2, -0.25))
        + np.where((age >= 25) & (age <= 45), 0.3, 0.0)
        + BRANCH_UPTAKE[pop.branch]
        - 0.45 * ps
        + 0.5 * aw
        + _NOISE_SD["mobile_newspaper"] * pop.noise[:, NEWSPAPER]
    ))
    f = _F["ringback_tone"]
    logit[:, f] = (_INTERCEPTS["ringback_tone"] + 3.0 * (pref[:, _I["music"]] - 0.17) + 0.5 * mz + 0.2 * go
                   - 0.025 * (age - 28) + 0.2 * pop.wealth - 0.3 * ps + 0.3 * aw
                   + _NOISE_SD["ringback_tone"] * pop.noise[:, f])
    f = _F["full_song"]
    logit[:, f] = (_INTERCEPTS["full_song"] + 3.5 * (pref[:, _I["music"]] - 0.17) + 0.5 * d + 0.4 * mz
                   - 0.3 * ps + 0.3 * aw + _NOISE_SD["full_song"] * pop.noise[:, f])
    f = _F["mobile_stock"]
    logit[:, f] = (_INTERCEPTS["mobile_stock"] + 5.0 * (pref[:, _I["finance"]] - 0.1) + 0.8 * go
                   + np.where((age >= 30) & (age <= 55), 0.5, 0.0) + 0.4 * pop.wealth + 0.3 * cap
                   + 0.3 * aw + _NOISE_SD["mobile_stock"] * pop.noise[:, f])
    f = _F["fetion"]
    logit[:, f] = (_INTERCEPTS["fetion"] + 0.6 * np.clip(sms_z, -2, 3) + 0.4 * d + 0.6 * mz - 0.02 * (age - 28)
                   + 0.3 * aw + _NOISE_SD["fetion"] * pop.noise[:, f])
    f = _F["wap_portal"]
    logit[:, f] = (_INTERCEPTS["wap_portal"] + 1.0 * d + 0.4 * (pop.content_level - np.log(4.0))
                   - 0.3 * ps + 0.3 * aw + _NOISE_SD["wap_portal"] * pop.noise[:, f])

    free_leave = np.empty_like(logit)
    churn = np.empty_like(logit)
    fit = np.tanh(4.0 * (top - 0.3))
    free_leave[:] = _sigmoid(-1.1 + 0.6 * ps)[:, None]
    churn[:] = _sigmoid(-3.2 + 0.4 * ps)[:, None]
    free_leave[:, NEWSPAPER] = _sigmoid(-1.0 + 0.7 * ps - 1.0 * fit - 0.2 * aw + 0.3 * eo)
    churn[:, NEWSPAPER] = _sigmoid(-2.9 + 0.5 * ps - 0.8 * fit)
    f = _F["fetion"]                                  # free: no bill shock, little churn
    free_leave[:, f] = 0.08
    churn[:, f] = 0.02

    w = ed_pref ** 2 + 1e-3
    edition_cdf = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
    return UptakeModel(logit=logit, free_leave=free_leave, churn=churn, edition_cdf=edition_cdf,
                       base=_sigmoid(logit))


def tenure_factor(months_since_join: np.ndarray) -> np.ndarray:
    """New customers rarely order VAS: x0.35 in their first 3 months, x0.75 until a year."""
    return np.where(months_since_join < 3, 0.35, np.where(months_since_join < 12, 0.75, 1.0))


def order_probability(model: UptakeModel, pop: Population, month: int, handset_model: np.ndarray) -> np.ndarray:
    """Monthly order probability (n, families) in month number ``month``.

    Parameters
    ----------
    model : UptakeModel
    pop : Population
    month : int
        Month number.
    handset_model : ndarray
        Model index of the handset each subscriber holds at the start of the month.
    """
    base = model.base if model.earlier is None or month >= model.earlier[0] else model.earlier[1]
    p = base * tenure_factor(month - pop.join_month)[:, None]
    for f, capability in _GATE.items():
        if capability:
            p[:, f] *= HANDSET_MODELS[f"cap_{capability}"][handset_model]
    return p
