"""What template 09 (model monitoring) says: its stories, KPI tiles, display tables and figures.

:func:`workbench.monitoring.monitor_months` computes and :func:`workbench.monitoring.recommend`
decides; this module words them (catalogue keys ``t09.*``) and picks the figures of
:mod:`workbench.viz.monitoring`.

Examples
--------
>>> key, values = story(result, "drift")             # doctest: +SKIP
>>> narrate(key, **values)                           # doctest: +SKIP
"""
from __future__ import annotations

import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import get_language, t
from workbench.models.province_inputs import feature_labels
from workbench.report.format import MISSING, count_text, number_text

__all__ = ["story", "monitoring_cards", "psi_table", "action_stories", "actions_story", "drift_figures",
           "decay_figures"]

_LIST = 5   # features named in a sentence


def _names(features, lang: str) -> str:
    label = feature_labels(lang)
    shown = [label(f) for f in list(features)[:_LIST]]
    more = len(features) - len(shown)
    text = "、".join(shown) if lang == "zh" else ", ".join(shown)
    return text + (t("t09.more", lang, n=more) if more > 0 else "") if shown else t("t09.none", lang)


def story(result, section: str) -> tuple[str, dict]:
    """The catalogue key and values of template 09's narrative for ``section``.

    Sections: ``intro``, ``drift``, ``score``, ``decay``, ``calibration``.
    """
    lang = get_language()
    latest = result.latest()
    if section == "intro":
        return "t09.intro.story", {"first": result.months[0], "last": result.months[-1],
                                   "months": len(result.months), "features": len(result.psi)}
    if section == "drift":
        return "t09.drift.story", {"month": latest["month"], "alert": len(latest["alert"]),
                                   "watch": len(latest["watch"]), "alert_names": _names(latest["alert"], lang),
                                   "watch_names": _names(latest["watch"], lang)}
    if section == "score":
        last = result.score.iloc[-1]
        return "t09.score.story", {"month": last["month"], "psi": number_text(last["psi"], 3),
                                   "status": t(f"model.monitor.status.{last['status']}", lang),
                                   "mean_first": f"{result.score['mean_score'].iloc[0]:.2%}",
                                   "mean_last": f"{last['mean_score']:.2%}"}
    if section == "decay":
        if not len(result.decay):
            return "t09.decay.none", {}
        last = result.decay.iloc[-1]
        tr = result.training
        return "t09.decay.story", {
            "month": last["month"], "scored_at": last["scored_at"], "auc": number_text(last["auc"], 3),
            "lift": number_text(last["top_decile_lift"], 2), "training_auc": number_text(tr.get("auc"), 3),
            "training_lift": number_text(tr.get("top_decile_lift"), 2)}
    if section == "calibration":
        cal = result.calibration
        if cal is None or not len(cal):
            return "t09.decay.none", {}
        return "t09.calibration.story", {"month": cal["month"].iloc[0]}
    raise ParameterError.invalid("section", "one of intro, drift, score, decay, calibration", section)


def monitoring_cards(result) -> tuple[dict, dict]:
    """Values and formats of the KPI tiles (for :func:`workbench.notebook.kpi_cards`)."""
    latest = result.latest()
    last_auc = result.decay["auc"].iloc[-1] if len(result.decay) else None
    values = {"t09.kpi.months": len(result.months), "t09.kpi.alert": len(latest["alert"]),
              "t09.kpi.watch": len(latest["watch"]), "t09.kpi.score_psi": float(result.score["psi"].iloc[-1]),
              "t09.kpi.auc": MISSING if last_auc is None else float(last_auc)}
    formats = {"t09.kpi.score_psi": "{:.3f}"}
    if last_auc is not None:
        formats["t09.kpi.auc"] = "{:.3f}"
    return values, formats


def psi_table(result, *, top: int = 15, lang: str | None = None) -> pd.DataFrame:
    """The ``top`` most moved features: PSI by month as text and the latest status, indexed by feature name."""
    lang = lang or get_language()
    psi = result.psi
    order = psi.max(axis=1).sort_values(ascending=False).index[:top]
    label = feature_labels(lang)
    table = pd.DataFrame({m: pd.array([number_text(v, 3) for v in psi.loc[order, m]], dtype="str")
                          for m in result.months}, index=pd.Index([label(f) for f in order],
                                                                   name=t("model.monitor.feature", lang)))
    last = result.months[-1]
    status = result.status.loc[order, last]
    table[t("model.monitor.status", lang)] = [t(f"model.monitor.status.{s}", lang) for s in status]
    return table


def action_stories(actions: list[dict]) -> list[tuple[str, dict]]:
    """Each action of :func:`workbench.monitoring.recommend` as a narrative key and values."""
    lang = get_language()
    out = []
    for a in actions:
        kind = a["action"]
        if kind == "retrain_outcomes":
            out.append(("t09.action.retrain_outcomes", {
                "month": a["month"], "auc": number_text(a["auc"], 3), "training_auc": number_text(a["training_auc"], 3),
                "lift": number_text(a["lift"], 2), "training_lift": number_text(a["training_lift"], 2)}))
        elif kind == "retrain":
            out.append(("t09.action.retrain", {"month": a["month"], "count": count_text(len(a["features"])),
                                               "names": _names(a["features"], lang),
                                               "score": t(f"model.monitor.status.{a['score']}", lang)}))
        elif kind == "recut_grades":
            out.append(("t09.action.recut_grades", {"psi": number_text(a["psi"], 3)}))
        elif kind == "watch":
            out.append(("t09.action.watch", {"month": a["month"], "names": _names(a["features"], lang)}))
        else:
            out.append(("t09.action.keep", {"month": a["month"]}))
    return out


def actions_story(actions: list[dict]) -> tuple[str, dict]:
    """All actions as one narrative (``t09.actions.story``): one paragraph per action, most urgent first."""
    lang = get_language()
    text = "\n\n".join(f"{i}. " + t(key, lang).format(**values)
                       for i, (key, values) in enumerate(action_stories(actions), 1))
    return "t09.actions.story", {"actions": text}


def drift_figures(result, *, top: int = 20) -> list:
    """The drift figures: PSI heat map of the most moved features, then score PSI and alert counts by month."""
    from workbench.viz.monitoring import drift_over_time_figure, psi_heatmap

    lang = get_language()
    return [psi_heatmap(result, top=top, names=feature_labels(lang), lang=lang), drift_over_time_figure(result, lang)]


def decay_figures(result) -> list:
    """AUC and lift by month of outcome, and the latest calibration (none without outcomes)."""
    from workbench.viz.monitoring import decay_figure, monitoring_calibration_figure

    if not len(result.decay):
        return []
    lang = get_language()
    figs = [decay_figure(result, lang)]
    if result.calibration is not None and len(result.calibration):
        figs.append(monitoring_calibration_figure(result.calibration, lang))
    return figs
