"""Monthly usage: voice, SMS, GPRS/WAP, content consumption, VAS spend and ARPU.

Every measure is a hidden per-person level (:mod:`workbench.data.synth.traits`)
times a seasonal factor, a personal trend and month-to-month log-normal noise,
so usage is heavy-tailed and persistent but never a copy of a trait.  The
handset held in the month matters: no WAP, no GPRS; a smartphone triples the
data traffic.  A subscriber who joined inside the window starts in the join
month with a pro-rated first month.
"""
from __future__ import annotations

import numpy as np

from workbench.data.synth.catalogue import HANDSET_MODELS
from workbench.data.synth.timeline import Timeline, days_in_month, month_start_day
from workbench.data.synth.traits import GOTONE, TARIFF_RENT, Population
from workbench.data.tables import CONTENT_CATEGORIES

__all__ = ["simulate_usage", "VOICE_SEASON", "SMS_SEASON"]

#: Seasonal factor of voice minutes by calendar month (January = index 0; Spring Festival peaks).
VOICE_SEASON = np.array([1.05, 1.12, 0.97, 0.98, 1.0, 0.98, 1.0, 1.02, 1.0, 1.06, 0.97, 1.0])
#: Seasonal factor of SMS by calendar month (greetings at the Spring Festival and New Year).
SMS_SEASON = np.array([1.15, 1.45, 0.95, 0.95, 1.0, 0.95, 0.95, 1.0, 1.0, 1.1, 0.95, 1.1])
_VOICE_RATE = np.array([0.20, 0.18, 0.22])       # yuan per minute by brand
_SMS_RATE = 0.10
_GPRS_RATE = np.array([0.02, 0.03, 0.05])        # yuan per MB by brand (M-Zone has data packs)


def simulate_usage(pop: Population, handset_by_month: np.ndarray, fees: np.ndarray, timeline: Timeline,
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Usage rows of one chunk: one per subscriber and observed month since joining.

    Parameters
    ----------
    pop : Population
    handset_by_month : ndarray (n, timeline.n_sim)
        Handset model at the start of every simulated month.
    fees : ndarray (n, timeline.months)
        Subscription fees billed per observed month.
    timeline : Timeline
    rng : numpy.random.Generator
        The chunk's generator for usage.

    Returns
    -------
    dict
        ``user`` (chunk position), ``month`` (month number) and one array per
        ``monthly_usage`` measure, rows ordered by user then month.
    """
    n, m = pop.n, timeline.months
    months = timeline.window_start + np.arange(m)
    ms = month_start_day(months)
    dim = days_in_month(months)
    active = pop.join_month[:, None] <= months[None, :]
    # share of the month the subscriber was on the network (pro-rated join month)
    frac = np.where(pop.join_month[:, None] == months[None, :],
                    (ms[None, :] + dim[None, :] - pop.join_day[:, None]) / dim[None, :], 1.0)
    frac = np.where(active, frac, 0.0)
    season_v = VOICE_SEASON[months % 12][None, :]
    season_s = SMS_SEASON[months % 12][None, :]
    hs = handset_by_month[:, timeline.window_index]
    wap = HANDSET_MODELS["cap_wap"][hs]
    smart = HANDSET_MODELS["smartphone"][hs]
    t = np.arange(m)[None, :] - (m - 1)              # 0 at the end month
    go = pop.brand == GOTONE

    def lognoise(sd: float) -> np.ndarray:
        return np.exp(sd * rng.standard_normal((n, m)) - 0.5 * sd * sd)

    trend_v = 0.01 * rng.standard_normal(n)[:, None]
    voice = np.exp(pop.voice_level[:, None] + trend_v * t) * season_v * lognoise(0.25) * frac
    call_len = np.exp(np.log(2.2) + 0.25 * rng.standard_normal(n))[:, None]
    calls = rng.poisson(voice / call_len)
    roam_p = 1.0 / (1.0 + np.exp(-(-2.4 + 0.8 * pop.wealth + 0.8 * go)))
    roam_share = np.minimum(np.exp(np.log(0.15) + 0.5 * rng.standard_normal(n)), 0.8)[:, None]
    roaming = voice * roam_share * lognoise(0.4) * (rng.random((n, m)) < roam_p[:, None])
    roaming = np.minimum(roaming, voice)
    ld_share = (1.0 / (1.0 + np.exp(-(-2.2 + 0.8 * rng.standard_normal(n)))))[:, None]
    long_distance = np.minimum(voice * ld_share * lognoise(0.3), voice - roaming)
    sms = rng.poisson(np.exp(pop.sms_level[:, None]) * season_s * lognoise(0.3) * frac)

    trend_d = (0.03 + 0.03 * rng.standard_normal(n))[:, None]
    uses_data = rng.random((n, m)) < (1.0 / (1.0 + np.exp(-(1.0 + 1.2 * pop.data_affinity))))[:, None]
    gprs = (np.exp(np.log(2.0) + 1.1 * pop.data_affinity[:, None] + trend_d * t) * np.where(smart, 3.0, 1.0)
            * lognoise(0.6) * uses_data * wap * frac)
    visits_per_mb = np.exp(np.log(3.0) + 0.3 * rng.standard_normal(n))[:, None]
    wap_visits = rng.poisson(gprs * visits_per_mb)
    content_scale = np.exp(pop.content_level)[:, None] * np.where(wap, 1.0, 0.25) * lognoise(0.4) * frac
    content = {c: rng.poisson(content_scale * pop.pref[:, i][:, None]) for i, c in enumerate(CONTENT_CATEGORIES)}
    items = sum(content.values())
    other_vas = np.exp(np.log(2.0) + 1.0 * rng.standard_normal((n, m))) * (rng.random((n, m)) < 0.6) * frac
    vas_spend = fees * (frac > 0) + 0.15 * items + other_vas
    brand = pop.brand[:, None]
    arpu = (TARIFF_RENT[pop.tariff][:, None] * frac + _VOICE_RATE[brand] * voice + 0.6 * roaming
            + 0.3 * long_distance + _SMS_RATE * sms + _GPRS_RATE[brand] * gprs + vas_spend)

    rows = np.nonzero(active)                          # C order: by user, then month
    out = {
        "user": rows[0],
        "month": months[rows[1]],
        "voice_minutes": np.round(voice[rows], 1),
        "voice_calls": calls[rows].astype(np.int64),
        "roaming_minutes": np.round(roaming[rows], 1),
        "long_distance_minutes": np.round(np.maximum(long_distance[rows], 0.0), 1),
        "sms_count": sms[rows].astype(np.int64),
        "gprs_mb": np.round(gprs[rows], 3),
        "wap_visits": wap_visits[rows].astype(np.int64),
        "vas_spend": np.round(vas_spend[rows], 2),
        "arpu": np.round(arpu[rows], 2),
        **{f"content_{c}": v[rows].astype(np.int64) for c, v in content.items()},
    }
    return out
