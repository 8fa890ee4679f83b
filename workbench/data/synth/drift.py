"""Drift: a province whose later months no longer look like its earlier ones.

``workbench sample --drift KIND[,KIND] [--drift-from YYYY-MM]`` (:func:`drift_spec`) makes the months
from ``drift_from`` on (default: the middle month of the observed window) differ in documented ways,
so that model monitoring (template 09, ``workbench model monitor``) has something real to find.
Every kind is deterministic (no draw, or draws from their own seed stream), and a province generated
without ``--drift`` is byte-identical to one generated before this module existed.

Kinds (:data:`KINDS`):

``usage``
    The mobile internet takes off: from ``drift_from`` on every subscriber's GPRS traffic
    (``gprs_mb``) and WAP visits (``wap_visits``) are ``usage_factor`` (4) times what they would have
    been - a flat-rate data pack, so the bill (``arpu``, ``vas_spend``) is unchanged.  The features
    built on those two measures shift (more with every month of the feature window past the start);
    nothing else does.
``mix``
    A recruitment wave: a share ``mix_share`` (40 %) of the subscribers are new M-Zone customers who
    join in the months from ``drift_from`` on (brand M-Zone, an M-Zone tariff, a join date in those
    months; their other traits as drawn), so the M-Zone share of the base about doubles.  The brand
    and tariff mix and tenure move (alert); the joiners' short histories move the usage *trends* a
    little (watch at most); usage levels do not (a wave of joiners is what moves a mix the data model
    keeps no history of).
``concept``
    The relation changes, not the inputs: from ``drift_from`` on, mobile-newspaper uptake no longer
    follows the fit of the editions' content to the user's taste and falls with data affinity (news
    moved to free apps; the newspaper now sells to light data users).  The order logit is shifted so
    the mean monthly order probability stays the same: the level holds, the ranking changes.  Features
    stay; a model trained before the start decays (its AUC and lift fall on outcomes after it).

The ground truth of a drifted province describes the drifted world (the probabilities after the window
use the changed relation).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from workbench.data.synth.timeline import Timeline, days_in_month, format_month, month_start_day, parse_month
from workbench.errors import ParameterError

__all__ = ["KINDS", "DriftSpec", "drift_spec", "drift_population", "drift_uptake", "drift_usage"]

#: The kinds of drift, in the order they are applied.
KINDS: tuple[str, ...] = ("usage", "mix", "concept")
#: Seed-stream key of the drift's own draws (apart from the chunk's four generators).
_STREAM = 1000


@dataclass(frozen=True)
class DriftSpec:
    """What drifts and from when.

    Attributes
    ----------
    kinds : tuple of str
        Some of :data:`KINDS`.
    start : int
        First drifted month (month number of :mod:`workbench.data.synth.timeline`).
    usage_factor : float
        ``usage``: multiplier of GPRS MB and WAP visits.
    mix_share : float
        ``mix``: share of the subscribers recruited in the wave.
    """

    kinds: tuple[str, ...]
    start: int
    usage_factor: float = 4.0
    mix_share: float = 0.4

    def to_dict(self) -> dict:
        """JSON-ready form (recorded in the truth's ``meta.json``)."""
        return {"kinds": list(self.kinds), "from": format_month(self.start), "usage_factor": self.usage_factor,
                "mix_share": self.mix_share, "mix_brand": "mzone"}


def drift_spec(kinds, drift_from: str | None, timeline: Timeline) -> DriftSpec | None:
    """The drift of a province (None when ``kinds`` is empty).

    Parameters
    ----------
    kinds : str or sequence of str
        ``"usage,concept"`` or ``["usage", "concept"]``; each one of :data:`KINDS`.
    drift_from : "YYYY-MM", optional
        First drifted month, inside the observed window and after its first month; default the middle
        month of the window.
    timeline : Timeline

    Raises
    ------
    ParameterError
        An unknown kind, or a month outside the window (the message names the allowed months).
    """
    if kinds is None or kinds == "" or kinds == ():
        if drift_from is not None:
            raise ParameterError("drift_from needs drift kinds: pass --drift KIND[,KIND] "
                                 f"(one or more of {', '.join(KINDS)}).")
        return None
    names = [k.strip() for k in kinds.split(",")] if isinstance(kinds, str) else [str(k).strip() for k in kinds]
    unknown = [k for k in names if k not in KINDS]
    if unknown or not names:
        raise ParameterError.invalid("drift", f"one or more of {', '.join(KINDS)} (comma-separated)", kinds)
    first, last = timeline.window_start + 1, timeline.end_month
    if first > last:
        raise ParameterError("a drifted province needs at least 2 observed months (months >= 2): the drift "
                             "starts after the first month.")
    start = (timeline.window_start + timeline.months // 2) if drift_from is None \
        else parse_month(drift_from, "drift_from")
    if not first <= start <= last:
        raise ParameterError.invalid("drift_from", f"a month from {format_month(first)} to {format_month(last)} "
                                     "(after the first observed month, not after the last)", drift_from)
    return DriftSpec(kinds=tuple(k for k in KINDS if k in names), start=int(start))


def stream(entropy: int, chunk: int) -> np.random.Generator:
    """The drift's own generator for chunk ``chunk`` (the chunk's other draws are untouched)."""
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(chunk, _STREAM)))


def drift_population(pop, timeline: Timeline, spec: DriftSpec | None, rng: np.random.Generator):
    """``mix``: recast a share of the chunk as M-Zone joiners of the drifted months (else ``pop`` as is)."""
    if spec is None or "mix" not in spec.kinds:
        return pop
    from workbench.data.synth.traits import BRAND_TARIFF_OFFSET, MZONE

    n = pop.n
    wave = rng.random(n) < spec.mix_share
    k = int(wave.sum())
    months = np.arange(spec.start, timeline.end_month + 1)
    join_month = months[rng.integers(0, len(months), k)]
    join_day = month_start_day(join_month) + np.floor(rng.random(k) * days_in_month(join_month)).astype(np.int64)
    tariff = BRAND_TARIFF_OFFSET[MZONE] + rng.integers(0, 3, k)
    brand, tariffs, jm, jd = pop.brand.copy(), pop.tariff.copy(), pop.join_month.copy(), pop.join_day.copy()
    brand[wave], tariffs[wave], jm[wave], jd[wave] = MZONE, tariff, join_month, join_day
    return replace(pop, brand=brand, tariff=tariffs, join_month=jm, join_day=jd)


def drift_uptake(model, pop, spec: DriftSpec | None):
    """``concept``: the newspaper's order logit from ``spec.start`` on (the earlier one kept for earlier months)."""
    if spec is None or "concept" not in spec.kinds:
        return model
    from workbench.data.synth.uptake import _MN_SPREAD, NEWSPAPER, NEWSPAPER_CATEGORIES, _sigmoid
    from workbench.data.tables import CONTENT_CATEGORIES

    idx = [CONTENT_CATEGORIES.index(c) for c in NEWSPAPER_CATEGORIES]
    fit = np.tanh(4.0 * (pop.pref[:, idx].max(axis=1) - 0.3))
    d = pop.data_affinity
    old = model.logit[:, NEWSPAPER]
    # remove the content fit and the data-affinity terms, put in their opposites
    new = old - _MN_SPREAD * (2.2 * fit + 0.9 * d - 0.28 * d ** 2) + _MN_SPREAD * (-1.5 * fit - 1.2 * d)
    new = new + _recentre(new, old, _sigmoid)
    logit = model.logit.copy()
    logit[:, NEWSPAPER] = new
    return replace(model, logit=logit, base=_sigmoid(logit), earlier=(spec.start, model.base))


def _recentre(new: np.ndarray, old: np.ndarray, sigmoid) -> float:
    """The shift of ``new`` that gives the same mean order probability as ``old`` (bisection, 60 steps)."""
    target = float(sigmoid(old).mean())
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sigmoid(new + mid).mean() < target else (lo, mid)
    return (lo + hi) / 2


def drift_usage(usage: dict, spec: DriftSpec | None) -> dict:
    """``usage``: GPRS MB and WAP visits times ``usage_factor`` in the drifted months."""
    if spec is None or "usage" not in spec.kinds:
        return usage
    late = usage["month"] >= spec.start
    f = spec.usage_factor
    return {**usage,
            "gprs_mb": np.where(late, np.round(usage["gprs_mb"] * f, 3), usage["gprs_mb"]),
            "wap_visits": np.where(late, np.round(usage["wap_visits"] * f), usage["wap_visits"]).astype(np.int64)}
