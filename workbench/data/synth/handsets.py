"""Handsets: the first handset seen per subscriber and every change of handset in the window.

About a quarter of active users change handset within a year, more often at
higher spend; a new handset tends to sit in a higher price band and be a newer
model of its band, so it supports more services (the handset-change case).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.data.synth.catalogue import HANDSET_MODELS
from workbench.data.synth.ids import MAX_HANDSETS_PER_SUBSCRIBER
from workbench.data.synth.timeline import Timeline, days_in_month, month_start_day
from workbench.data.synth.traits import Population

__all__ = ["HandsetHistory", "simulate_handsets", "CHANGE_RATE_MONTHLY", "CHANGE_WEALTH_SLOPE"]

#: Monthly handset-change probability of a subscriber of average wealth (~25 % a year overall).
CHANGE_RATE_MONTHLY = 0.0265
#: Log-hazard slope of the change rate on wealth (richer people change more often).
CHANGE_WEALTH_SLOPE = 0.45
_BAND_CUTS = np.array([0.0, 1.35])            # price-band score cut points (low | mid | high)
_BAND = HANDSET_MODELS["band_code"].astype(np.int64)
_N_MODELS = len(_BAND)


def _model_cdfs(newer_bias: float) -> np.ndarray:
    """Cumulative choice probabilities of each model within its band (rows = band)."""
    w = HANDSET_MODELS["weight"].copy()
    cdf = np.zeros((3, _N_MODELS))
    for b in range(3):
        in_band = _BAND == b
        rank = np.cumsum(in_band) - 1             # position within the band: later = newer
        wb = np.where(in_band, w * (1.0 + newer_bias * rank / max(in_band.sum() - 1, 1)), 0.0)
        cdf[b] = np.cumsum(wb) / wb.sum()
    return cdf


_CDF_FIRST = _model_cdfs(0.0)
_CDF_NEW = _model_cdfs(2.0)


def _pick_model(band: np.ndarray, u: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    return np.minimum((u[:, None] >= cdf[band]).sum(axis=1), _N_MODELS - 1)


@dataclass
class HandsetHistory:
    """Handsets of one chunk.

    Attributes
    ----------
    model_by_month : ndarray (n, timeline.n_sim)
        Model index held at the start of each simulated month (history months hold
        the first handset seen, months after the window the last one).
    event_user, event_day, event_no, event_model : ndarray
        One row per ``handset_events`` row: chunk position, day, handset number
        (0 = first seen) and model index.
    """

    model_by_month: np.ndarray
    event_user: np.ndarray
    event_day: np.ndarray
    event_no: np.ndarray
    event_model: np.ndarray


def simulate_handsets(pop: Population, timeline: Timeline, rng: np.random.Generator) -> HandsetHistory:
    """First handset and monthly handset changes over the observed window.

    Parameters
    ----------
    pop : Population
    timeline : Timeline
    rng : numpy.random.Generator
        The chunk's generator for handsets.
    """
    n = pop.n
    score = 0.8 * pop.wealth + 0.3 * pop.data_affinity + 0.3 * pop.is_capital + 0.8 * rng.standard_normal(n)
    band = np.searchsorted(_BAND_CUTS, score)
    model = _pick_model(band, rng.random(n), _CDF_FIRST)

    w0 = timeline.window_start
    first_day = np.maximum(pop.join_day, month_start_day(w0))
    ev_user = [np.arange(n)]
    ev_day = [first_day]
    ev_no = [np.zeros(n, dtype=np.int64)]
    ev_model = [model.copy()]

    model_by_month = np.empty((n, timeline.n_sim), dtype=np.int16)
    model_by_month[:, : timeline.history + 1] = model[:, None]
    rate = CHANGE_RATE_MONTHLY * np.exp(CHANGE_WEALTH_SLOPE * (pop.wealth - 0.15)
                                        - 0.5 * CHANGE_WEALTH_SLOPE ** 2 * 0.9)
    count = np.zeros(n, dtype=np.int64)
    for k in range(timeline.months):
        month = w0 + k
        j = timeline.history + k
        model_by_month[:, j] = model
        can = (pop.join_month < month) & (count < MAX_HANDSETS_PER_SUBSCRIBER - 1)
        change = can & (rng.random(n) < rate)
        idx = np.flatnonzero(change)
        if idx.size:
            score[idx] = score[idx] + 0.5 + 0.7 * rng.standard_normal(idx.size)
            new_band = np.searchsorted(_BAND_CUTS, score[idx])
            new_model = _pick_model(new_band, rng.random(idx.size), _CDF_NEW)
            day = month_start_day(month) + 1 + np.floor(rng.random(idx.size) * (days_in_month(month) - 1))
            count[idx] += 1
            model[idx] = new_model
            ev_user.append(idx)
            ev_day.append(day.astype(np.int64))
            ev_no.append(count[idx].copy())
            ev_model.append(new_model)
    model_by_month[:, timeline.end_index + 1:] = model[:, None]

    user = np.concatenate(ev_user)
    day = np.concatenate(ev_day)
    order = np.lexsort((day, user))
    return HandsetHistory(
        model_by_month=model_by_month,
        event_user=user[order], event_day=day[order],
        event_no=np.concatenate(ev_no)[order], event_model=np.concatenate(ev_model)[order],
    )

