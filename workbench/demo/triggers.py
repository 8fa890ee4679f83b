"""The trigger campaign's simulator: responses of each wave's members drawn from the truth.

A member offered product ``p`` (family ``f``) by channel ``c`` orders it within
30 days with :func:`workbench.data.synth.presence.trigger_order_probability`:
the hidden ``trigger_logit_<f>``, the contact lift, the channel's gain, and the
boost of a stable changer within ``BOOST_DAYS`` of the change.  The true extra
uplift of the changers is the mean of ``p(pushed) - p(held back)`` over the changer
members minus the same over the comparison members - what the evaluation estimates.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.data.synth.catalogue import VAS_PRODUCTS
from workbench.data.synth.presence import BOOST_DAYS, TRIGGER_FAMILIES, trigger_order_probability
from workbench.data.synth.truth import CHANNEL_GAIN
from workbench.demo.triggers_truth import load_changes_truth, load_response_truth
from workbench.triggers.evaluate import RESPONSE_DAYS
from workbench.triggers.waves import TriggerSpec, wave_members

__all__ = ["true_probabilities", "simulate_trigger_responses", "detection_check", "trigger_truth_folder"]

_FAMILY = dict(zip(VAS_PRODUCTS["product_id"], VAS_PRODUCTS["family"]))


def true_probabilities(members: pd.DataFrame, truth_folder) -> pd.DataFrame:
    """``p_pushed`` and ``p_held_back`` of each member (its offered product, channel and change)."""
    resp = load_response_truth(truth_folder, members["subscriber_id"])
    changes = load_changes_truth(truth_folder)
    stable = changes[changes["stable"]][["subscriber_id", "change_day"]]
    m = members.reset_index(drop=True).merge(resp, on="subscriber_id", how="left")
    fam = m["edition"].map(_FAMILY)
    logit = np.full(len(m), -20.0)
    for f in TRIGGER_FAMILIES:
        is_f = (fam == f).to_numpy()
        logit[is_f] = m.loc[is_f, f"trigger_logit_{f}"].to_numpy(float)
    pairs = m[["subscriber_id", "wave_day"]].reset_index().merge(stable, on="subscriber_id")
    lag = (pd.to_datetime(pairs["wave_day"]) - pairs["change_day"]).dt.days
    boosted_idx = pairs.loc[(lag >= 0) & (lag <= BOOST_DAYS), "index"].unique()
    boosted = np.zeros(len(m), bool)
    boosted[boosted_idx] = True
    boosted &= (m["score_band"] == "changer").to_numpy()
    gain = m["channel"].map(CHANNEL_GAIN).fillna(0.0).to_numpy(float)
    lift = m["trigger_lift"].fillna(0.0).to_numpy(float)
    out = members.reset_index(drop=True).copy()
    out["boosted"] = boosted
    out["p_pushed"] = trigger_order_probability(logit, lift, gain, True, boosted)
    out["p_held_back"] = trigger_order_probability(logit, lift, gain, False, boosted)
    return out


def simulate_trigger_responses(store, user, truth_folder, *, name: str = TriggerSpec.name, seed: int = 0) -> dict:
    """Draw and record the orders of every wave not simulated yet; return the truth's uplifts.

    Returns
    -------
    dict
        ``responses`` (rows recorded), ``true_uplift_changer``, ``true_uplift_comparison``,
        ``true_extra_uplift`` (over every wave's members).
    """
    members = wave_members(store, user, name)
    if members.empty:
        return {"responses": 0, "true_uplift_changer": float("nan"), "true_uplift_comparison": float("nan"),
                "true_extra_uplift": float("nan")}
    cid = int(members["campaign_id"].iloc[0])
    probs = true_probabilities(members, truth_folder)
    done = set(store.responses(user, cid)["version"].astype(int)) if len(store.responses(user, cid)) else set()
    rng = np.random.default_rng(seed)
    written = 0
    for version, rows in probs.groupby("version"):
        u = rng.random(len(rows))
        lag = rng.integers(0, RESPONSE_DAYS, len(rows))
        if int(version) in done:
            continue
        p = np.where(rows["group"] == "target", rows["p_pushed"], rows["p_held_back"])
        hit = u < p
        resp = pd.DataFrame({"subscriber_id": rows.loc[hit, "subscriber_id"].to_numpy(),
                             "order_date": (pd.to_datetime(rows.loc[hit, "wave_day"])
                                            + pd.to_timedelta(lag[hit], unit="D")).to_numpy(),
                             "product": rows.loc[hit, "edition"].to_numpy()})
        written += store.record_responses(user, cid, resp, version=int(version))
    d = probs["p_pushed"] - probs["p_held_back"]
    ch = (probs["score_band"] == "changer").to_numpy()
    up_c, up_n = float(d[ch].mean()), float(d[~ch].mean())
    return {"responses": written, "true_uplift_changer": up_c, "true_uplift_comparison": up_n,
            "true_extra_uplift": up_c - up_n}


def detection_check(source, truth_folder, *, window_days: int = 10, min_active_days: int = 7) -> dict:
    """Precision and recall of the day-by-day detection over every day ``imei_days`` can judge."""
    from workbench.data.source import connection
    from workbench.demo.triggers_truth import detection_quality
    from workbench.triggers import detect_changers, presence_days

    with connection(source, progress=False) as con:
        lo, hi = presence_days(con)
        days = pd.date_range(lo + pd.Timedelta(days=window_days - 1), hi)
        found = pd.concat([detect_changers(con, d, window_days=window_days, min_active_days=min_active_days)
                           for d in days], ignore_index=True)
    return detection_quality(found, load_changes_truth(truth_folder), lo, hi - pd.Timedelta(days=window_days - 1))


def trigger_truth_folder(data, truth: str = ""):
    """The truth folder for template 08: ``truth`` when given, else ``<data>_truth`` when it has the trigger truth."""
    from pathlib import Path

    from workbench.data.synth.generate import default_truth_folder
    from workbench.data.synth.presence import PRESENCE_TRUTH_TABLE

    folder = Path(truth) if truth else default_truth_folder(data)
    return folder if (folder / f"{PRESENCE_TRUTH_TABLE}.parquet").is_file() else None
