"""Synthetic replicas of small public marketing and churn tables, for testing the generic defaults.

Nothing is downloaded: each replica draws a table with the columns, level sets,
size and positive share of a well-known small public set, and a label from a
plausible, mostly additive generating function with a few interactions (what
such tables look like: one or two strong categorical drivers, a tenure-like
clock, skewed amounts, many weak columns).  The functions are written from the
sets' documented column meanings, not fitted to them, so a default that does
well on the replicas is not tuned to any one public set.

* :func:`bank_marketing_like` - 4,521 rows, ~11.5 % positives (a term-deposit
  campaign: job, marital, education, balance, housing and personal loan, contact
  type, month and day of the last contact, calls in this campaign, days since and
  outcome of the previous campaign);
* :func:`telco_churn_like` - 7,043 rows, ~26.5 % positives (churn of a mobile /
  internet operator's customers: contract, tenure, internet service and its
  add-ons, payment method, monthly and total charges with a few blanks).

Used by ``tests/test_estimator.py`` and ``benchmarks/model_generic.py``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["bank_marketing_like", "telco_churn_like", "REPLICAS"]


def _rate(logit: np.ndarray, rate: float) -> np.ndarray:
    """Probabilities whose mean is ``rate``: ``logit`` shifted by the solved intercept."""
    lo, hi = -30.0, 30.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if (1 / (1 + np.exp(-(logit + mid)))).mean() > rate:
            hi = mid
        else:
            lo = mid
    return 1 / (1 + np.exp(-(logit + (lo + hi) / 2)))


def _text(values) -> pd.arrays.StringArray:
    return pd.array(np.asarray(values, dtype=object), dtype="str")


def bank_marketing_like(n: int = 4_521, *, seed: int = 0, rate: float = 0.115) -> tuple[pd.DataFrame, str, str]:
    """A bank-marketing-like table: ``(table, target column, positive value)``; the label is ``y`` (``yes``)."""
    rng = np.random.default_rng(seed)
    jobs = ["admin.", "blue-collar", "entrepreneur", "housemaid", "management", "retired", "self-employed",
            "services", "student", "technician", "unemployed", "unknown"]
    job = rng.choice(jobs, n, p=[.11, .21, .04, .03, .21, .05, .04, .09, .02, .17, .03, .0])
    age = np.where(job == "retired", rng.normal(62, 8, n), np.where(job == "student", rng.normal(24, 4, n),
                                                                    rng.normal(40, 10, n)))
    age = np.clip(age, 18, 95).round()
    marital = rng.choice(["married", "single", "divorced"], n, p=[.6, .28, .12])
    education = rng.choice(["primary", "secondary", "tertiary", "unknown"], n, p=[.15, .51, .3, .04])
    default = rng.random(n) < 0.017
    balance = np.round(rng.lognormal(6.5, 1.4, n) * np.where(rng.random(n) < 0.08, -0.3, 1.0))
    housing = rng.random(n) < np.where(age < 60, 0.6, 0.25)
    loan = rng.random(n) < 0.15
    contact = rng.choice(["cellular", "telephone", "unknown"], n, p=[.64, .07, .29])
    months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    month = rng.choice(months, n, p=[.03, .06, .01, .07, .31, .12, .15, .14, .01, .02, .08, .00])
    day = rng.integers(1, 32, n)
    campaign = 1 + rng.geometric(0.38, n) - 1
    contacted = rng.random(n) < 0.18
    pdays = np.where(contacted, rng.integers(1, 400, n), -1)
    previous = np.where(contacted, rng.geometric(0.45, n), 0)
    poutcome = np.where(contacted, rng.choice(["failure", "other", "success"], n, p=[.6, .22, .18]), "unknown")
    month_eff = dict(zip(months, [-.3, .1, 1.3, .2, -.6, -.2, -.3, -.2, 1.2, 1.1, -.2, 1.0]))
    logit = (2.3 * (poutcome == "success") - 0.2 * (poutcome == "failure")
             + np.vectorize(month_eff.get)(month) - 1.0 * (contact == "unknown")
             - 0.7 * housing - 0.4 * loan - 0.25 * np.log(campaign)
             + 0.8 * ((age < 25) | (age > 60)) + 0.3 * (job == "student") + 0.2 * (marital == "single")
             + 0.25 * (education == "tertiary") + 0.15 * np.tanh(balance / 3000) - 0.5 * default
             + 0.4 * (contacted & (pdays < 100)) + 0.3 * ((month == "may") & housing)
             - 0.15 * (day > 28))
    y = rng.random(n) < _rate(logit, rate)
    table = pd.DataFrame({
        "age": age.astype(int), "job": _text(job), "marital": _text(marital), "education": _text(education),
        "default": _text(np.where(default, "yes", "no")), "balance": balance.astype(int),
        "housing": _text(np.where(housing, "yes", "no")), "loan": _text(np.where(loan, "yes", "no")),
        "contact": _text(contact), "day": day, "month": _text(month), "campaign": campaign,
        "pdays": pdays, "previous": previous, "poutcome": _text(poutcome),
        "y": _text(np.where(y, "yes", "no")),
    })
    return table, "y", "yes"


def telco_churn_like(n: int = 7_043, *, seed: int = 0, rate: float = 0.265) -> tuple[pd.DataFrame, str, str]:
    """A telco-churn-like table: ``(table, target column, positive value)``; the label is ``Churn`` (``Yes``)."""
    rng = np.random.default_rng(seed)
    yes_no = lambda b: _text(np.where(b, "Yes", "No"))     # noqa: E731
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[.55, .21, .24])
    tenure = np.where(contract == "Month-to-month", rng.gamma(1.1, 16, n),
                      np.where(contract == "One year", rng.gamma(3, 13, n), rng.gamma(6, 9, n)))
    tenure = np.clip(tenure, 0, 72).round().astype(int)
    senior = rng.random(n) < 0.16
    partner = rng.random(n) < 0.48
    dependents = rng.random(n) < np.where(partner, 0.5, 0.1)
    phone = rng.random(n) < 0.9
    multiple = np.where(phone, np.where(rng.random(n) < 0.47, "Yes", "No"), "No phone service")
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[.34, .44, .22])
    has_net = internet != "No"
    addons = {name: np.where(has_net, np.where(rng.random(n) < p, "Yes", "No"), "No internet service")
              for name, p in (("OnlineSecurity", .37), ("OnlineBackup", .44), ("DeviceProtection", .44),
                              ("TechSupport", .37), ("StreamingTV", .49), ("StreamingMovies", .5))}
    paperless = rng.random(n) < 0.59
    payment = rng.choice(["Electronic check", "Mailed check", "Bank transfer (automatic)",
                          "Credit card (automatic)"], n, p=[.34, .23, .22, .21])
    monthly = (20 + 25 * (internet == "DSL") + 50 * (internet == "Fiber optic") + 5 * (multiple == "Yes")
               + sum(5 * (v == "Yes") for v in addons.values()) + rng.normal(0, 3, n)).round(2)
    total = (monthly * np.maximum(tenure, 1) * rng.normal(1, 0.05, n)).round(2)
    total = np.where(tenure == 0, np.nan, total)      # blank for brand-new customers, as exported
    logit = (1.4 * (contract == "Month-to-month") - 0.9 * (contract == "Two year")
             - 0.9 * np.log1p(tenure) / np.log(73) * 2 + 0.8 * (internet == "Fiber optic") - 0.6 * ~has_net
             + 0.6 * (payment == "Electronic check") + 0.35 * senior - 0.2 * partner - 0.2 * dependents
             + 0.45 * (addons["OnlineSecurity"] == "No") + 0.4 * (addons["TechSupport"] == "No")
             + 0.3 * paperless + 0.15 * (addons["StreamingMovies"] == "Yes") + 0.008 * (monthly - 65)
             + 0.5 * ((contract == "Month-to-month") & (tenure < 6))
             - 0.4 * ((internet == "Fiber optic") & (addons["TechSupport"] == "Yes")))
    y = rng.random(n) < _rate(logit, rate)
    table = pd.DataFrame({
        "customerID": _text([f"{i:04d}-{a}" for i, a in zip(rng.integers(0, 10_000, n),
                                                             rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), n))]),
        "gender": _text(rng.choice(["Female", "Male"], n)), "SeniorCitizen": senior.astype(int),
        "Partner": yes_no(partner), "Dependents": yes_no(dependents), "tenure": tenure,
        "PhoneService": yes_no(phone), "MultipleLines": _text(multiple), "InternetService": _text(internet),
        **{k: _text(v) for k, v in addons.items()},
        "Contract": _text(contract), "PaperlessBilling": yes_no(paperless), "PaymentMethod": _text(payment),
        "MonthlyCharges": monthly, "TotalCharges": total, "Churn": yes_no(y),
    })
    return table, "Churn", "Yes"


#: name -> maker of each replica (``table, target, positive = maker(seed=...)``).
REPLICAS = {"bank_marketing_like": bank_marketing_like, "telco_churn_like": telco_churn_like}
