"""The trigger campaign's effect: uplift per arm and the changers' extra uplift, with CIs.

Outcome of a member: an order of the offered product (``edition`` of the list
row) within ``response_days`` from the wave day (recorded responses).

* uplift of an arm = order rate of its pushed (``target``) members minus that of
  its held-back (``control``) members, with a Newcombe score CI
  (:func:`statsmodels.stats.proportion.confint_proportions_2indep`);
* the **changers' extra uplift** = uplift(changers) - uplift(comparison), the
  interaction of a linear probability model ``ordered ~ pushed * changer`` fitted by
  OLS with heteroskedasticity-robust (HC1) errors (statsmodels): with both arms
  randomised within each wave it is the difference of the two arms' uplifts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.checks import check_int, check_num, require_columns

__all__ = ["RESPONSE_DAYS", "member_outcomes", "evaluate_triggers"]

#: Days after the wave in which an order of the offered product counts.
RESPONSE_DAYS = 30


def member_outcomes(members: pd.DataFrame, responses: pd.DataFrame, *, response_days: int = RESPONSE_DAYS
                    ) -> pd.DataFrame:
    """Each member with ``ordered`` (the offered product within ``response_days`` of the wave day).

    Parameters
    ----------
    members : DataFrame
        :func:`workbench.triggers.wave_members` rows (``subscriber_id, group, score_band, edition, wave_day``).
    responses : DataFrame
        ``subscriber_id, order_date, product`` (the store's responses).
    """
    require_columns(members, "members", ["subscriber_id", "group", "score_band", "edition", "wave_day"])
    require_columns(responses, "responses", ["subscriber_id", "order_date", "product"])
    response_days = check_int("response_days", response_days, 1, 365)
    m = members[["subscriber_id", "group", "score_band", "edition", "wave_day", "channel"]].copy()
    m["wave_day"] = pd.to_datetime(m["wave_day"])
    r = responses[["subscriber_id", "order_date", "product"]].copy()
    r["order_date"] = pd.to_datetime(r["order_date"])
    hit = m.reset_index().merge(r, left_on=["subscriber_id", "edition"], right_on=["subscriber_id", "product"])
    lag = (hit["order_date"] - hit["wave_day"]).dt.days
    ok = hit.loc[(lag >= 0) & (lag < response_days), "index"].unique()
    m["ordered"] = False
    m.loc[ok, "ordered"] = True
    return m


def _rate_table(m: pd.DataFrame, confidence: float) -> pd.DataFrame:
    from statsmodels.stats.proportion import confint_proportions_2indep

    rows = []
    for arm in ("changer", "comparison"):
        a = m[m["score_band"] == arm]
        t, c = a[a["group"] == "target"]["ordered"], a[a["group"] == "control"]["ordered"]
        row = {"arm": arm, "pushed": len(t), "held_back": len(c), "orders_pushed": int(t.sum()),
               "orders_held_back": int(c.sum()),
               "rate_pushed": t.mean() if len(t) else np.nan, "rate_held_back": c.mean() if len(c) else np.nan}
        row["uplift"] = row["rate_pushed"] - row["rate_held_back"]
        if len(t) and len(c):
            lo, hi = confint_proportions_2indep(int(t.sum()), len(t), int(c.sum()), len(c), method="newcomb",
                                                compare="diff", alpha=1 - confidence)
        else:
            lo = hi = np.nan
        row["uplift_low"], row["uplift_high"] = float(lo), float(hi)
        rows.append(row)
    return pd.DataFrame(rows)


def evaluate_triggers(outcomes: pd.DataFrame, *, confidence: float = 0.95) -> dict:
    """Uplift of changers and comparison members, and the changers' extra uplift with its CI.

    Parameters
    ----------
    outcomes : DataFrame
        :func:`member_outcomes` rows (``group``, ``score_band``, ``ordered``).
    confidence : float
        Confidence level of the intervals.

    Returns
    -------
    dict
        ``arms`` (DataFrame: per arm counts, rates, uplift and its CI),
        ``extra_uplift``, ``extra_low``, ``extra_high``, ``p_value``, ``members``, ``waves``.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [(arm, g, o) for arm, g, k in [("changer", "target", 30), ("changer", "control", 10),
    ...         ("comparison", "target", 15), ("comparison", "control", 10)] for o in [True] * k + [False] * 90]
    >>> out = pd.DataFrame(rows, columns=["score_band", "group", "ordered"]).assign(wave_day="2026-10-12")
    >>> round(evaluate_triggers(out)["extra_uplift"], 3)
    0.107
    """
    import statsmodels.api as sm

    require_columns(outcomes, "outcomes", ["score_band", "group", "ordered"])
    confidence = check_num("confidence", confidence, 0.5, 0.999)
    m = outcomes[outcomes["score_band"].isin(["changer", "comparison"]) & outcomes["group"].isin(
        ["target", "control"])]
    arms = _rate_table(m, confidence)
    cells = m.groupby(["score_band", "group"]).size()
    result = {"arms": arms, "members": int(len(m)),
              "waves": int(m["wave_day"].nunique()) if "wave_day" in m else None,
              "extra_uplift": np.nan, "extra_low": np.nan, "extra_high": np.nan, "p_value": np.nan,
              "confidence": confidence}
    if len(cells) < 4 or (cells < 2).any():
        return result
    pushed = (m["group"] == "target").to_numpy(float)
    changer = (m["score_band"] == "changer").to_numpy(float)
    x = np.column_stack([np.ones(len(m)), pushed, changer, pushed * changer])
    fit = sm.OLS(m["ordered"].to_numpy(float), x).fit(cov_type="HC1")
    lo, hi = fit.conf_int(alpha=1 - confidence)[3]
    result.update(extra_uplift=float(fit.params[3]), extra_low=float(lo), extra_high=float(hi),
                  p_value=float(fit.pvalues[3]))
    return result
