"""The province's credit pipeline: cohorts, training per segment, grading the new-user base.

1. :func:`~workbench.credit.features.credit_frame` describes every credit account at its grade
   date (the first day of its third month) and labels the accounts whose outcome period
   (months 3-6 by default) has ended.
2. :func:`split_cohorts`: the matured accounts train the model; the latest ``oot_months``
   join months among them are held **out of time** (the later cohort) to choose the method
   per segment and to set the grade cut-offs; the accounts not yet matured - on the network
   less than six months, their first two months behind them - are the **new-user base**
   that is graded.
3. :func:`train_province_credit` trains through the generic model
   (:func:`workbench.credit.model.train_credit`) with the segments joiner (re-joined / new) x
   region (Urumqi / other); a segment too small for its own model is merged with its sibling
   (the model's summary says so).
4. :func:`grade_table` and :func:`grade_psi` describe the grades: bad rate per grade of a
   cohort, and the stability of the grade mix between two cohorts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.checks import check_int
from workbench.credit.features import FEATURE_COLUMNS, SEGMENT_COLUMNS, LabelRule, credit_frame
from workbench.errors import DataValidationError, ParameterError

__all__ = [
    "CreditGrading",
    "split_cohorts",
    "model_table",
    "train_province_credit",
    "grade_table",
    "grade_psi",
    "cohort_table",
    "method_table",
    "grading_actions",
    "GRADE_LETTERS",
]

GRADE_LETTERS: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H", "I", "J")
_MODEL_COLUMNS = ("subscriber_id", *SEGMENT_COLUMNS, *FEATURE_COLUMNS, "bad")


@dataclass
class CreditGrading:
    """A trained province credit model and the graded new-user base.

    Attributes
    ----------
    model : CreditModel
        The generic segmented model (``workbench.credit.model``).
    frame : DataFrame
        Every credit account at its grade date (:func:`~workbench.credit.features.credit_frame`)
        with a ``cohort`` column: ``train``, ``oot`` or ``base``.
    scores : DataFrame
        Score and grade of every account: ``subscriber_id``, ``segment``, ``score``, ``grade``,
        ``cohort``, ``joiner``, ``region``, ``join_month``, ``bad`` (matured cohorts only).
    rule : LabelRule
    parameters : dict
    """

    model: object
    frame: pd.DataFrame
    scores: pd.DataFrame
    rule: LabelRule
    parameters: dict = field(default_factory=dict)

    @property
    def base(self) -> pd.DataFrame:
        """Scores of the new-user base (accounts not yet matured)."""
        return self.scores[self.scores["cohort"] == "base"].reset_index(drop=True)

    @property
    def summary(self) -> dict:
        """The model's summary per segment (rows, bad rate, method, out-of-time AUCs, merges ...)."""
        return self.model.summary


def split_cohorts(frame: pd.DataFrame, oot_months: int = 3) -> pd.Series:
    """Cohort of every account: ``train``, ``oot`` (latest ``oot_months`` matured join months) or ``base``.

    Raises
    ------
    DataValidationError
        When fewer than ``oot_months + 1`` join months have matured (no earlier cohort to train on).
    """
    oot_months = check_int("oot_months", oot_months, 1, 24)
    matured = frame["matured"].to_numpy(bool)
    months = np.sort(frame.loc[matured, "join_month"].unique())
    if len(months) < oot_months + 1:
        raise DataValidationError(
            f"credit grading needs at least {oot_months + 1} join months whose outcome period has ended "
            f"(train + {oot_months} out of time); the data has {len(months)}",
            [{"table": "credit_accounts", "column": "join_month", "check": "matured cohorts",
              "count": len(months), "examples": [str(m)[:7] for m in months[-3:]]}])
    oot_from = months[-oot_months]
    cohort = np.where(~matured, "base", np.where(frame["join_month"].to_numpy() >= oot_from, "oot", "train"))
    return pd.Series(cohort, index=frame.index, name="cohort")


def model_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns the generic model is given: id, segments, features and the label."""
    return frame.loc[:, list(_MODEL_COLUMNS)]


#: Modules training imports, in the order they are first needed: :mod:`workbench.models` first (it sets
#: ``OMP_WAIT_POLICY`` before LightGBM's OpenMP runtime loads).
_TRAINING_MODULES = ("workbench.models.generic", "workbench.credit.model", "lightgbm", "sklearn.tree",
                     "sklearn.linear_model", "sklearn.metrics", "sklearn.model_selection", "scipy.stats", "optbinning",
                     "workbench.monitoring", "tqdm.auto")


def _import_in_background():
    """Start importing the training libraries on a thread; returns it (join it before training).

    A fresh process spends about a second importing them (optbinning alone brings matplotlib and
    OR-Tools); DuckDB releases the GIL while it computes the features, so the imports run meanwhile.
    A failed import is left for the training code to raise where it needs the module.
    """
    import importlib
    import threading

    def run():
        for name in _TRAINING_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - raised again, with its context, where the module is used
                return

    thread = threading.Thread(target=run, name="credit-imports", daemon=True)
    thread.start()
    return thread


def train_province_credit(source, *, rule: LabelRule | None = None, oot_months: int = 3, grades: int = 5,
                          min_segment_rows: int = 500, seed: int = 0, progress: bool = True,
                          frame: pd.DataFrame | None = None, **model_options) -> CreditGrading:
    """Train the segmented credit model on the matured cohorts and grade every account.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        The province (with the credit tables).
    rule : LabelRule, optional
        Feature window and label (default: two months of behaviour; bad = stopped for arrears
        in months 3-6 and not restarted).
    oot_months : int
        Latest matured join months held out of time.
    grades : int
        Number of grades (A = lowest risk).
    min_segment_rows : int
        Training rows a segment needs for its own model (else merged with its sibling).
    seed : int
        Seed of the model.
    progress : bool
        Show progress bars.
    frame : DataFrame, optional
        A credit frame already computed from ``source`` (skips the features).
    **model_options
        Passed on to :func:`workbench.credit.model.train_credit`.

    Returns
    -------
    CreditGrading
    """
    rule = rule or LabelRule()
    grades = check_int("grades", grades, 2, len(GRADE_LETTERS))
    if frame is None:
        importing = _import_in_background()
        try:
            frame = credit_frame(source, rule)
        finally:
            importing.join()
    from workbench.credit.model import train_credit

    if frame.empty:
        raise DataValidationError("credit grading found no credit account with two months of behaviour",
                                  [{"table": "credit_accounts", "column": None, "check": "rows", "count": 0,
                                    "examples": []}])
    frame = frame.assign(cohort=split_cohorts(frame, oot_months))
    is_base = (frame["cohort"] == "base").to_numpy()
    learn = frame[~is_base].reset_index(drop=True)
    if learn["bad"].nunique() < 2:
        raise DataValidationError(
            f"the credit label has one class only ({int(learn['bad'].iloc[0])}) in the matured cohorts",
            [{"table": "account_events", "column": "event", "check": "two label classes", "count": len(learn),
              "examples": []}])
    model = train_credit(model_table(learn), target="bad", positive=1, id_col="subscriber_id",
                         segments=list(SEGMENT_COLUMNS), grades=grades, oot=learn["cohort"] == "oot",
                         min_segment_rows=min_segment_rows, seed=seed, progress=progress, score_rows=True,
                         **model_options)
    # the matured accounts keep the final model's scores from training; only the new-user base is scored
    segment = np.empty(len(frame), dtype=object)
    score = np.empty(len(frame), dtype=np.float64)
    segment[~is_base] = model.row_scores["segment"].to_numpy(dtype=object)
    score[~is_base] = model.row_scores["score"].to_numpy(dtype=np.float64)
    if is_base.any():
        segment[is_base], score[is_base] = model.predict_score(model_table(frame[is_base]).drop(columns=["bad"]))
    model.row_scores = None
    scores = pd.DataFrame({"subscriber_id": frame["subscriber_id"].to_numpy(), "segment": segment, "score": score,
                           "grade": model.grade(score), "cohort": frame["cohort"].to_numpy(),
                           **{c: frame[c].to_numpy() for c in (*SEGMENT_COLUMNS, "join_month")},
                           "bad": pd.array(frame["bad"].to_numpy(), dtype="Int64")})
    scores.loc[~frame["matured"].to_numpy(bool), "bad"] = pd.NA
    parameters = {"rule": rule.as_dict(), "oot_months": oot_months, "grades": grades,
                  "min_segment_rows": min_segment_rows, "seed": seed}
    return CreditGrading(model=model, frame=frame, scores=scores, rule=rule, parameters=parameters)


def grade_table(scores: pd.DataFrame, outcome: str = "bad", by: list[str] | None = None) -> pd.DataFrame:
    """Accounts, bads and bad rate per grade (optionally per ``by`` columns) of labelled rows.

    Parameters
    ----------
    scores : DataFrame
        At least ``grade`` and ``outcome`` (rows with a missing outcome are left out).
    outcome : str
        The 0/1 outcome column.
    by : list of str, optional
        Further grouping columns (e.g. ``["segment"]``).

    Returns
    -------
    DataFrame
        ``[*by, grade, accounts, bads, bad_rate, share]`` (share of the group's accounts).
    """
    for col in ("grade", outcome, *(by or [])):
        if col not in scores.columns:
            raise ParameterError.invalid("scores", f"a table with a column {col!r}", list(scores.columns))
    keys = [*(by or []), "grade"]
    rows = scores[scores[outcome].notna()]
    out = (rows.assign(_bad=rows[outcome].astype(float))
           .groupby(keys, observed=True, sort=True)["_bad"].agg(accounts="size", bads="sum").reset_index())
    out["bads"] = out["bads"].astype(int)
    out["bad_rate"] = out["bads"] / out["accounts"]
    total = out.groupby(by)["accounts"].transform("sum") if by else out["accounts"].sum()
    out["share"] = out["accounts"] / total
    return out


def grade_psi(expected: pd.Series, actual: pd.Series, grades=None, floor: float = 1e-4) -> float:
    """Population stability index of the grade mix of two cohorts.

    ``sum((a - e) * ln(a / e))`` over the grades, shares floored at ``floor``.

    >>> round(grade_psi(pd.Series(list("AABBC")), pd.Series(list("AABBC"))), 6)
    0.0
    """
    grades = sorted(set(expected.dropna()) | set(actual.dropna())) if grades is None else list(grades)
    e = expected.value_counts(normalize=True).reindex(grades, fill_value=0.0).to_numpy(float)
    a = actual.value_counts(normalize=True).reindex(grades, fill_value=0.0).to_numpy(float)
    e, a = np.maximum(e, floor), np.maximum(a, floor)
    return float(np.sum((a - e) * np.log(a / e)))


def cohort_table(grading: CreditGrading) -> pd.DataFrame:
    """Accounts and bad rate per join month: ``join_month``, ``cohort``, ``accounts``, ``bads``, ``bad_rate``."""
    fr = grading.frame
    out = (fr.assign(_bad=fr["bad"].where(fr["matured"]).astype(float))
           .groupby(["join_month", "cohort"], sort=True)["_bad"]
           .agg(accounts="size", bads="sum").reset_index())
    out["bads"] = out["bads"].astype(int)
    out["bad_rate"] = (out["bads"] / out["accounts"]).where(out["cohort"] != "base")
    return out


def method_table(summary: dict) -> pd.DataFrame:
    """Out-of-time AUC of every method of every modelled segment: ``segment``, ``method``, ``auc_oot``,
    ``auc_train``, ``psi``, ``chosen``, ``rows``, ``bads`` (from the model's summary)."""
    rows = []
    for m in summary.get("models", []):
        for method, auc in (m.get("auc_oot") or {}).items():
            rows.append({"segment": m.get("segment"), "method": method, "auc_oot": auc,
                         "auc_train": (m.get("auc_train") or {}).get(method),
                         "psi": (m.get("psi") or {}).get(method), "chosen": method == m.get("method"),
                         "rows": m.get("rows"), "bads": m.get("bads")})
    return pd.DataFrame(rows, columns=["segment", "method", "auc_oot", "auc_train", "psi", "chosen", "rows",
                                       "bads"])


def grading_actions(grading: CreditGrading, source, *, exclude_credit_grades=("D", "E"), policy=None,
                    limit_scale: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The OCS rules per grade (with the out-of-time bad rates) and the dunning list of the accounts in arrears.

    Returns
    -------
    (DataFrame, DataFrame)
        :func:`workbench.credit.actions.ocs_rules` and :func:`workbench.credit.actions.dunning_list`.
    """
    from workbench.credit.actions import dunning_list, ocs_rules
    from workbench.credit.features import current_arrears

    cutoffs = getattr(grading.model, "cutoffs", None)
    if cutoffs is None:
        cutoffs = (grading.summary.get("grades") or {}).get("cutoffs")
    oot = grade_table(grading.scores[grading.scores["cohort"] == "oot"]).set_index("grade")["bad_rate"]
    letters = [chr(ord("A") + i) for i in range(len(cutoffs) + 1)]
    rules = ocs_rules(cutoffs, [oot.get(g) for g in letters], policy=policy, excluded_grades=exclude_credit_grades,
                      limit_scale=limit_scale)
    latest = grading.scores[grading.scores["cohort"] == "base"]
    dunning = dunning_list(latest, current_arrears(source), rules)
    return rules, dunning
