"""Synthetic applicant tables shaped like small public credit sets (1,000 rows, 20 mixed columns, ~30 % bad).

The probability of bad is a known logistic function of a few columns (``p`` is returned beside the
table), so tests can compare a model's ranking with the best possible one on fresh rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def applicants(n: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """``(table, p_bad)``: 20 input columns (13 text, 7 numeric, some missing), ``app_id``, ``risk`` (bad/good)."""
    rng = np.random.default_rng(seed)
    status = rng.choice(["A11", "A12", "A13", "A14"], n, p=[.27, .27, .06, .40])
    duration = rng.integers(4, 72, n).astype(float)
    history = rng.choice(["A30", "A31", "A32", "A33", "A34"], n, p=[.04, .05, .53, .09, .29])
    amount = np.round(np.exp(rng.normal(7.8, 0.8, n)))
    savings = rng.choice(["A61", "A62", "A63", "A64", "A65"], n, p=[.6, .1, .06, .05, .19])
    age = rng.integers(19, 75, n).astype(float)
    plans = rng.choice(["A141", "A142", "A143"], n, p=[.14, .05, .81])
    rate = rng.integers(1, 5, n)
    z = (np.select([status == "A11", status == "A12", status == "A13"], [1.0, 0.5, -0.2], -1.2)
         + 0.03 * (duration - 20) + 0.25 * np.log(amount / 2500)
         + np.select([history == "A34", history == "A30"], [-0.6, 0.8], 0.0)
         + np.where(savings == "A61", 0.4, -0.2) - 0.015 * (age - 35) + 0.1 * (rate - 2.5)
         + np.where(plans == "A141", 0.4, 0.0) - 1.3)
    p = 1 / (1 + np.exp(-z))
    age[rng.random(n) < 0.05] = np.nan
    savings = savings.astype(object)
    savings[rng.random(n) < 0.05] = None
    df = pd.DataFrame({
        "app_id": np.arange(100_001, 100_001 + n),
        "status": status, "duration": duration, "history": history,
        "purpose": rng.choice(list("abcdefghij"), n), "amount": amount, "savings": savings,
        "employment": rng.choice(["A71", "A72", "A73", "A74", "A75"], n), "rate": rate,
        "personal": rng.choice(["A91", "A92", "A93", "A94"], n),
        "debtors": rng.choice(["A101", "A102", "A103"], n, p=[.9, .04, .06]), "residence": rng.integers(1, 5, n),
        "property": rng.choice(["A121", "A122", "A123", "A124"], n), "age": age, "plans": plans,
        "housing": rng.choice(["A151", "A152", "A153"], n), "credits": rng.integers(1, 4, n),
        "job": rng.choice(["A171", "A172", "A173", "A174"], n), "people": rng.integers(1, 3, n),
        "telephone": rng.choice(["A191", "A192"], n), "foreign": rng.choice(["A201", "A202"], n, p=[.96, .04]),
        "risk": np.where(rng.random(n) < p, "bad", "good"),
    })
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].astype("str")
    return df, p
