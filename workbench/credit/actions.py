"""Grades into action: OCS rules per grade, the dunning priority list, the promotion exclusion.

The grades of the new-user model drive three operational rules (the source's
credit case): the **OCS** (online charging / real-time credit control) inclusion
and exit rules and the credit limit of each grade; the **stop priority** - the
riskiest are stopped first when in arrears, and dunned first; and **no
promotions** for the grades chosen (by default D and E).  Every number is a
parameter with a default a credit analyst would start from (``DEFAULT_POLICY``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.checks import check_num
from workbench.errors import ParameterError

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_EXCLUDED_GRADES",
    "OCS_RULE_COLUMNS",
    "ocs_rules",
    "dunning_list",
    "excluded_subscribers",
]

#: Grades excluded from promotions by default (the two riskiest of five).
DEFAULT_EXCLUDED_GRADES: tuple[str, ...] = ("D", "E")
#: Per grade: OCS membership, credit limit (yuan), exit condition (a code the report words).
DEFAULT_POLICY: dict[str, dict] = {
    "A": {"ocs": False, "credit_limit_yuan": 300.0, "exit_condition": "positive_credit_at_6_months"},
    "B": {"ocs": False, "credit_limit_yuan": 150.0, "exit_condition": "positive_credit_at_6_months"},
    "C": {"ocs": True, "credit_limit_yuan": 50.0, "exit_condition": "three_bills_on_time"},
    "D": {"ocs": True, "credit_limit_yuan": 20.0, "exit_condition": "six_bills_on_time_and_deposit"},
    "E": {"ocs": True, "credit_limit_yuan": 0.0, "exit_condition": "prepay_only"},
}
#: Columns of the OCS rules table (file and store table ``ocs_rules``).
OCS_RULE_COLUMNS: tuple[str, ...] = (
    "grade", "score_min", "score_max", "bad_rate", "ocs_inclusion", "credit_limit_yuan", "exit_condition",
    "stop_priority", "promotions_excluded",
)


def ocs_rules(cutoffs, grade_bad_rates=None, *, policy: dict | None = None,
              excluded_grades=DEFAULT_EXCLUDED_GRADES, limit_scale: float = 1.0) -> pd.DataFrame:
    """The OCS rules table: one row per grade, A (lowest risk) first.

    Parameters
    ----------
    cutoffs : sequence of float
        Score (probability of bad) cut-offs between consecutive grades (``grades - 1`` increasing values).
    grade_bad_rates : sequence of float, optional
        Bad rate of each grade on the out-of-time cohort (shown beside the rule).
    policy : dict, optional
        ``{grade: {"ocs", "credit_limit_yuan", "exit_condition"}}``; default :data:`DEFAULT_POLICY`
        (a model with other than five grades needs its own).
    excluded_grades : iterable of str
        Grades never targeted by promotions.
    limit_scale : float
        Multiplies every credit limit (a province's tariff level).

    Returns
    -------
    DataFrame
        :data:`OCS_RULE_COLUMNS`; ``stop_priority`` 1 = stopped (and dunned) first.

    Examples
    --------
    >>> ocs_rules([0.05, 0.1, 0.2, 0.4])[["grade", "ocs_inclusion", "stop_priority"]].iloc[-1].tolist()
    ['E', True, 1]
    """
    cut = np.asarray(list(cutoffs), dtype=float)
    if cut.ndim != 1 or np.any(np.diff(cut) <= 0) or np.any((cut < 0) | (cut > 1)):
        raise ParameterError.invalid("cutoffs", "increasing probabilities between 0 and 1", list(cut))
    grades = [chr(ord("A") + i) for i in range(len(cut) + 1)]
    policy = DEFAULT_POLICY if policy is None else policy
    missing = [g for g in grades if g not in policy]
    if missing:
        raise ParameterError.invalid("policy", f"a rule for every grade {grades}", f"no rule for {missing}")
    excluded = {str(g) for g in excluded_grades}
    unknown = sorted(excluded - set(grades))
    if unknown:
        raise ParameterError.invalid("excluded_grades", f"grades of the model {grades}", unknown)
    scale = check_num("limit_scale", limit_scale, 0, 100)
    rates = [None] * len(grades) if grade_bad_rates is None else list(grade_bad_rates)
    if len(rates) != len(grades):
        raise ParameterError.invalid("grade_bad_rates", f"{len(grades)} values (one per grade)", len(rates))
    bounds = np.concatenate([[0.0], cut, [1.0]])
    rows = []
    for i, g in enumerate(grades):
        rule = policy[g]
        rows.append({
            "grade": g, "score_min": float(bounds[i]), "score_max": float(bounds[i + 1]),
            "bad_rate": None if rates[i] is None else float(rates[i]),
            "ocs_inclusion": bool(rule["ocs"]), "credit_limit_yuan": float(rule["credit_limit_yuan"]) * scale,
            "exit_condition": str(rule["exit_condition"]), "stop_priority": len(grades) - i,
            "promotions_excluded": g in excluded,
        })
    return pd.DataFrame(rows, columns=list(OCS_RULE_COLUMNS))


def dunning_list(scores: pd.DataFrame, arrears: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """Accounts in arrears, riskiest grade first, then the largest arrears.

    Parameters
    ----------
    scores : DataFrame
        ``subscriber_id``, ``grade`` and ``score`` of graded accounts.
    arrears : DataFrame
        ``subscriber_id`` and ``amount_owed`` (yuan) of accounts in arrears.
    rules : DataFrame
        :func:`ocs_rules` (its ``stop_priority``).

    Returns
    -------
    DataFrame
        ``priority`` (1 = first), ``subscriber_id``, ``grade``, ``score``, ``amount_owed``, ``stop_priority``.
    """
    for name, frame, cols in (("scores", scores, ("subscriber_id", "grade", "score")),
                              ("arrears", arrears, ("subscriber_id", "amount_owed")),
                              ("rules", rules, ("grade", "stop_priority"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ParameterError.invalid(name, f"a table with columns {list(cols)}", list(frame.columns))
    owed = arrears.groupby("subscriber_id", as_index=False)["amount_owed"].sum()
    out = owed[owed["amount_owed"] > 0].merge(scores[["subscriber_id", "grade", "score"]], on="subscriber_id")
    out = out.merge(rules[["grade", "stop_priority"]], on="grade", how="left")
    out = out.sort_values(["stop_priority", "amount_owed", "score"], ascending=[True, False, False],
                          kind="mergesort").reset_index(drop=True)
    out.insert(0, "priority", np.arange(1, len(out) + 1))
    return out[["priority", "subscriber_id", "grade", "score", "amount_owed", "stop_priority"]]


def excluded_subscribers(grades: pd.DataFrame, excluded_grades=DEFAULT_EXCLUDED_GRADES) -> pd.Index:
    """Subscribers whose credit grade is one of ``excluded_grades`` (never promotion targets)."""
    if "subscriber_id" not in grades.columns or "grade" not in grades.columns:
        raise ParameterError.invalid("grades", "a table with columns ['subscriber_id', 'grade']",
                                     list(grades.columns))
    keep = grades["grade"].astype(str).isin({str(g) for g in excluded_grades})
    return pd.Index(grades.loc[keep, "subscriber_id"].astype("int64").unique(), name="subscriber_id")
