"""A province model monitored month by month, and what to do about it.

:func:`monitor_months` runs :func:`~workbench.monitoring.province_drift` and
:func:`~workbench.monitoring.province_decay` for every month from the model's snapshot to the last
month of the data; :func:`recommend` turns the latest statuses into actions (retrain, retrain on
recent outcomes, re-cut grades, watch, keep) with their reasons.  Compute only; template 09 words and
draws the result (:mod:`workbench.report.t09`, :mod:`workbench.viz.monitoring`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.checks import check_num
from workbench.monitoring.drift import ALERT, WATCH, check_thresholds

__all__ = ["MonthlyMonitoring", "monitor_months", "recommend", "ACTIONS", "AUC_DROP", "LIFT_DROP"]

#: Actions :func:`recommend` can give, most urgent first.
ACTIONS: tuple[str, ...] = ("retrain_outcomes", "retrain", "recut_grades", "watch", "keep")
#: Fall of AUC (absolute) against training from which the model has decayed.
AUC_DROP = 0.05
#: Fall of top-decile lift (relative) against training from which the model has decayed.
LIFT_DROP = 0.2


@dataclass
class MonthlyMonitoring:
    """A model monitored month by month.

    Attributes
    ----------
    months : list of str
    psi : DataFrame
        Index: features (reference order); one column per month: PSI.
    status : DataFrame
        Same shape: ``ok`` / ``watch`` / ``alert``.
    score : DataFrame
        ``month``, ``rows``, ``psi``, ``status``, ``mean_score``.
    decay : DataFrame
        ``month`` (outcome known), ``scored_at``, ``rows``, ``auc``, ``top_decile_lift``, ``positive_rate``,
        ``mean_score``; only the months whose outcome is known.
    training : dict
        ``auc``, ``top_decile_lift`` at training (None when unknown).
    calibration : DataFrame or None
        Calibration at the latest month with outcomes (:func:`~workbench.monitoring.compare_performance`).
    preference : DataFrame or None
        PSI of the preference model's output per month (index: its features).
    thresholds : dict
    """

    months: list[str]
    psi: pd.DataFrame
    status: pd.DataFrame
    score: pd.DataFrame
    decay: pd.DataFrame
    training: dict
    calibration: pd.DataFrame | None = None
    preference: pd.DataFrame | None = None
    thresholds: dict = field(default_factory=lambda: {"watch": WATCH, "alert": ALERT})

    def latest(self) -> dict:
        """Statuses of the last month: ``month``, ``alert`` / ``watch`` (feature lists), ``score``."""
        m = self.months[-1]
        st = self.status[m]
        return {"month": m, "alert": st.index[st == "alert"].tolist(), "watch": st.index[st == "watch"].tolist(),
                "score": self.score.iloc[-1]["status"]}


def monitor_months(source, folder, months=None, *, watch: float = WATCH, alert: float = ALERT,
                   progress: bool = True) -> MonthlyMonitoring:
    """Drift and decay of a saved province model for every month of ``months``.

    Parameters
    ----------
    source : path, mapping, Source or duckdb connection
        The province.
    folder : path
        The model folder (with ``reference.json`` and ``province.json``).
    months : sequence of "YYYY-MM", optional
        Default: from the model's snapshot to the last month of the data.
    watch, alert : float
        PSI thresholds.
    progress : bool
        A tqdm bar over the months.
    """
    from tqdm.auto import tqdm

    from workbench.features._db import connection
    from workbench.models.province import load_province_model
    from workbench.models.registry import load_reference
    from workbench.models.sample import last_data_month
    from workbench.monitoring.province import _model_folder, province_decay, province_drift

    watch, alert = check_thresholds(watch, alert)
    _, spec = load_province_model(folder)
    folder = _model_folder(folder)
    reference = load_reference(folder)
    with connection(source) as con:
        if months is None:
            last = last_data_month(con)
            months = [f"{m:%Y-%m}" for m in pd.period_range(spec["snapshot"], last, freq="M").to_timestamp()]
        months = list(months)
        psi, status, score, decay, pref = {}, {}, [], [], {}
        calibration = None
        for m in tqdm(months, desc="monitoring", unit="month", disable=not progress):
            r = province_drift(con, folder, m, watch=watch, alert=alert, reference=reference)
            f = r["features"].set_index("feature")
            psi[m], status[m] = f["psi"], f["status"]
            sc = r["score"] or {"psi": None, "status": None}
            score.append({"month": m, "rows": r["rows"], "psi": sc["psi"], "status": sc["status"],
                          "mean_score": float(r["score_values"].mean())})
            if "parts" in r:
                pref[m] = r["parts"]["preference"]["features"].set_index("feature")["psi"]
            d = province_decay(con, folder, m, reference=reference)
            if d is not None:
                now = d["now"]
                decay.append({"month": m, "scored_at": d["scored_at"], "rows": now["rows"], "auc": now["auc"],
                              "top_decile_lift": now["top_decile_lift"], "positive_rate": now["positive_rate"]})
                calibration = d["calibration"].assign(month=m)
    perf = reference.get("performance") or {}
    return MonthlyMonitoring(
        months=months, psi=pd.DataFrame(psi), status=pd.DataFrame(status), score=pd.DataFrame(score),
        decay=pd.DataFrame(decay, columns=["month", "scored_at", "rows", "auc", "top_decile_lift", "positive_rate"]),
        training={"auc": perf.get("auc"), "top_decile_lift": perf.get("top_decile_lift")},
        calibration=calibration, preference=pd.DataFrame(pref) if pref else None,
        thresholds={"watch": watch, "alert": alert})


def recommend(result: MonthlyMonitoring, *, grades: dict | None = None, auc_drop: float = AUC_DROP,
              lift_drop: float = LIFT_DROP) -> list[dict]:
    """What to do, from the latest month's statuses (most urgent first).

    * ``retrain_outcomes`` - the latest AUC is ``auc_drop`` or more below training, or the top-decile
      lift ``lift_drop`` (relative) or more below: the relation changed; retrain on recent outcomes.
    * ``retrain`` - the score or some features are in alert: the population moved; retrain on the
      recent months (check the alerted features' sources first).
    * ``recut_grades`` - ``grades`` (:func:`~workbench.monitoring.compare_grades`) is in alert: re-cut
      the grade thresholds so the grades mean what they meant.
    * ``watch`` - features to watch, nothing in alert.
    * ``keep`` - nothing moved.

    Returns
    -------
    list of dict
        ``action`` (one of :data:`ACTIONS`) and its evidence (``features``, ``auc``, ``training_auc``,
        ``lift``, ``training_lift``, ``month``, ``psi``).
    """
    auc_drop = check_num("auc_drop", auc_drop, 0, 1, lo_open=True)
    lift_drop = check_num("lift_drop", lift_drop, 0, 1, lo_open=True)
    latest = result.latest()
    out = []
    tr = result.training
    if len(result.decay):
        last = result.decay.iloc[-1]
        auc_fell = tr.get("auc") is not None and last["auc"] is not None and last["auc"] <= tr["auc"] - auc_drop
        lift_fell = (tr.get("top_decile_lift") and last["top_decile_lift"] is not None
                     and last["top_decile_lift"] <= tr["top_decile_lift"] * (1 - lift_drop))
        if auc_fell or lift_fell:
            out.append({"action": "retrain_outcomes", "month": last["month"], "auc": float(last["auc"]),
                        "training_auc": tr.get("auc"), "lift": float(last["top_decile_lift"]),
                        "training_lift": tr.get("top_decile_lift")})
    if latest["alert"] or latest["score"] == "alert":
        out.append({"action": "retrain", "month": latest["month"], "features": latest["alert"],
                    "score": latest["score"]})
    if grades is not None and grades.get("status") == "alert":
        out.append({"action": "recut_grades", "psi": float(grades["psi"])})
    if not out and (latest["watch"] or latest["score"] == "watch"):
        out.append({"action": "watch", "month": latest["month"], "features": latest["watch"]})
    if not out:
        out.append({"action": "keep", "month": latest["month"]})
    return out
