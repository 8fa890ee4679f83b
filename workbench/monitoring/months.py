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

import numpy as np

from workbench.checks import check_int, check_num
from workbench.monitoring.drift import ALERT, WATCH, check_thresholds

__all__ = ["MonthlyMonitoring", "monitor_months", "recommend", "ACTIONS", "AUC_DROP", "MIN_POSITIVES", "auc_se",
           "default_train_month", "monitored_model"]

#: Actions :func:`recommend` can give, most urgent first.
ACTIONS: tuple[str, ...] = ("retrain_outcomes", "retrain", "recut_grades", "watch", "keep")
#: Fall of AUC (absolute) against training from which the model has decayed.
AUC_DROP = 0.05
#: Fewest converted customers (at training and now) from which a fall of AUC is judged.
MIN_POSITIVES = 10


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
        ``auc``, ``top_decile_lift``, ``rows``, ``positive_rate`` at training (None when unknown).
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


def default_train_month(source, stable_months: int = 3) -> str:
    """The first month a province model can learn at: ``stable_months`` after the data's first month (its
    out-of-time validation needs that history), so every later month can be monitored."""
    from workbench.features._db import connection
    from workbench.models.sample import last_data_month

    with connection(source) as con:
        first = con.execute("SELECT min(CAST(month AS DATE)) FROM monthly_usage").fetchall()[0][0]
        last = last_data_month(con)
    month = f"{pd.Timestamp(first) + pd.DateOffset(months=int(stable_months)):%Y-%m}"
    return min(month, last)


def monitored_model(source, run_folder, product: str = "mobile_newspaper", train_month: str | None = None, *,
                    window: int = 3, model_dir: str | None = None, n_jobs: int | None = None, progress: bool = True):
    """The province model template 09 monitors: ``model_dir`` when given, else one trained at ``train_month``.

    The trained model (out-of-time validation, final model, reference) is saved in the run folder's
    ``monitoring/`` folder, a run folder of its own, so template 03's ``model/`` is left as it is.
    The out-of-time validation trains the model alone (no baselines), to keep the run short.
    ``n_jobs``: LightGBM threads (default all cores).

    Returns
    -------
    pathlib.Path
        The model folder.
    """
    from pathlib import Path

    from workbench.models.province import ProvincePipeline, load_province_model
    from workbench.monitoring.province import _model_folder
    from workbench.runs import RunFolder

    if model_dir:
        load_province_model(model_dir)
        return _model_folder(model_dir)
    month = train_month or default_train_month(source)
    inner = RunFolder(Path(RunFolder.of(run_folder).file("monitoring")))
    with ProvincePipeline(source, product, month, window=window, n_jobs=n_jobs, progress=progress) as pipe:
        _validate_model(pipe)
        pipe.train()
        pipe.save(inner)
    RunFolder.of(run_folder).record_output("monitoring")
    return inner.file("model")


def _validate_model(pipe) -> None:
    """The out-of-time validation of the model alone (no baselines: monitoring needs the model's own figures).

    As :meth:`~workbench.models.province.ProvincePipeline.validate`: trained on the sample of ``T - k``,
    scored on its potential customers aligned to the horizon, labelled by whether they are stable
    subscribers at ``T``; the result is the pipeline's ``validation`` (what its save records).
    """
    from workbench.errors import DataValidationError
    from workbench.metrics.classification import evaluate_classifier
    from workbench.models.province import Validation, province_model
    from workbench.models.province_inputs import align_to_horizon
    from workbench.models.sample import out_of_time_labels

    plan = pipe.plan
    train, later = pipe.snapshot_data(plan.train_snapshot), pipe.snapshot_data(plan.eval_snapshot)
    labels = out_of_time_labels(pipe.con, plan, pipe.product, pipe.stable_months, train_status=train.status,
                                eval_status=later.status)
    y_eval = labels["target"].to_numpy()
    if y_eval.sum() == 0 or y_eval.sum() == len(y_eval):
        raise DataValidationError(
            f"none (or all) of the {len(labels):,} potential customers of {plan.train_snapshot} became stable "
            f"subscribers by {plan.eval_snapshot}: the out-of-time validation has no positives to measure")
    X, y = pipe.training_frame(plan.train_snapshot)
    model = province_model(len(X), random_state=pipe.random_state, n_jobs=pipe.n_jobs, progress=False,
                           **pipe.model_params).fit(X, y)
    s = model.predict_proba(align_to_horizon(train.frame.loc[labels.index], pipe.align_months))[:, 1]
    share = pipe.list_size if isinstance(pipe.list_size, float) else \
        min(1.0, pipe.list_size / max(len(pipe.snapshot_data().sample.potential_ids), 1))
    pipe.validation = Validation(
        plan=plan, composition=train.sample.composition,
        outcomes={k: int(v) for k, v in labels["outcome"].value_counts().items()},
        results={"model": evaluate_classifier(y_eval, s, list_size=share)}, list_size=pipe.list_size,
        rounds=model.best_iteration_)


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
        training={k: perf.get(k) for k in ("auc", "top_decile_lift", "rows", "positive_rate")},
        calibration=calibration, preference=pd.DataFrame(pref) if pref else None,
        thresholds={"watch": watch, "alert": alert})


def auc_se(auc: float, positives: int, negatives: int) -> float:
    """Standard error of an AUC (Hanley & McNeil, 1982) from the counts of positives and negatives."""
    a = float(auc)
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (positives - 1) * (q1 - a * a) + (negatives - 1) * (q2 - a * a)) / (positives * negatives)
    return float(np.sqrt(max(var, 0.0)))


def _decayed(result: MonthlyMonitoring, auc_drop: float, min_positives: int) -> dict | None:
    """The latest outcome month when its AUC fell by ``auc_drop`` or more *and* by more than chance."""
    if not len(result.decay) or result.training.get("auc") is None:
        return None
    last = result.decay.iloc[-1]
    tr = result.training
    pos_now = int(round(last["rows"] * last["positive_rate"]))
    pos_tr = int(round((tr.get("rows") or 0) * (tr.get("positive_rate") or 0)))
    if last["auc"] is None or pd.isna(last["auc"]) or min(pos_now, pos_tr) < min_positives:
        return None
    se = np.hypot(auc_se(last["auc"], pos_now, last["rows"] - pos_now),
                  auc_se(tr["auc"], pos_tr, tr["rows"] - pos_tr))
    drop = tr["auc"] - last["auc"]
    if drop >= auc_drop and drop > 1.96 * se:
        return {"action": "retrain_outcomes", "month": last["month"], "auc": float(last["auc"]),
                "training_auc": tr["auc"], "lift": float(last["top_decile_lift"]),
                "training_lift": tr.get("top_decile_lift"), "se": float(se)}
    return None


def recommend(result: MonthlyMonitoring, *, grades: dict | None = None, auc_drop: float = AUC_DROP,
              min_positives: int = MIN_POSITIVES) -> list[dict]:
    """What to do, from the latest month's statuses (most urgent first).

    * ``retrain_outcomes`` - the latest AUC is ``auc_drop`` or more below training *and* the fall is beyond
      chance (more than 1.96 standard errors of the difference, Hanley & McNeil), with at least
      ``min_positives`` converted customers on both sides: the relation changed; retrain on recent outcomes.
      (Lift is reported beside it, not used: on a few dozen positives it is too noisy to decide on.)
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
        ``lift``, ``training_lift``, ``se``, ``month``, ``psi``).
    """
    auc_drop = check_num("auc_drop", auc_drop, 0, 1, lo_open=True)
    min_positives = check_int("min_positives", min_positives, 1)
    latest = result.latest()
    out = []
    decayed = _decayed(result, auc_drop, min_positives)
    if decayed is not None:
        out.append(decayed)
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
