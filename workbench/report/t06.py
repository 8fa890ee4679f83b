"""What template 06 (活动总结, campaign evaluation) says and shows about an evaluated campaign.

The numbers come from :mod:`workbench.tracking` (:class:`~workbench.tracking.evaluation.CampaignEvaluation`,
:class:`~workbench.tracking.uplift_fit.UpliftResult`) and, in the demo, :mod:`workbench.demo` (the
truth check and the next-round comparison); this module words them:

* :func:`evaluation_story` - the narrative of each section (:data:`STORY_SECTIONS`): a catalogue key
  and its values, one small function per section;
* :func:`lessons` - the lessons and the recommendation for the next round, as catalogue codes;
* :func:`evaluation_cards` - the KPI tiles;
* the display tables (:func:`effect_summary_table`, :func:`dimension_table`, :func:`breakdown_table`,
  :func:`executor_table`, :func:`comparison_table`) with labelled columns and formatted numbers
  (:mod:`workbench.report.format`);
* the figures a section shows (:func:`breakdown_figures`, :func:`quality_figures`,
  :func:`uplift_figures`), drawn by :mod:`workbench.viz`.
"""
from __future__ import annotations

import datetime as dt

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import t
from workbench.methodchecks import evidence
from workbench.report.format import (
    MISSING, ci_text, count_text, is_missing, number_text, p_text, pct_text, people_table,
)
from workbench.report.names import branch_name, feature_name, label
from workbench.store.members import shown_executor
from workbench.store.models import BRANCH_ID
from workbench.tracking.attribution import CONTROL, TARGET

if TYPE_CHECKING:
    from workbench.tracking.evaluation import CampaignEvaluation
    from workbench.tracking.loop import SimulationRecord
    from workbench.tracking.uplift_fit import UpliftResult

__all__ = [
    "STORY_SECTIONS",
    "evaluation_story",
    "lessons",
    "evaluation_cards",
    "effect_summary_table",
    "dimension_table",
    "dimension_effects",
    "breakdown_table",
    "executor_table",
    "comparison_table",
    "effect_figure",
    "breakdown_figures",
    "quality_figures",
    "uplift_figures",
]


def _nan(x) -> float:
    return float("nan") if x is None else float(x)


def _dimension_value(dimension: str, value, lang: str) -> str:
    from workbench.i18n import t

    if value is None or (isinstance(value, float) and np.isnan(value)):
        return t("t06.executor.unassigned", lang=lang)
    if dimension == "branch":
        return branch_name(value, lang)
    if dimension == "channel":
        return label("channel", value, lang)
    if dimension == "score_decile":
        return t("t06.value.decile", lang=lang, decile=int(value))
    if dimension == "brand":
        return label("brand", value, lang)
    return str(value)


# ------------------------------------------------------------------ the story, one function per section
@dataclass(frozen=True)
class _Story:
    """What the sections of the story read."""

    evaluation: CampaignEvaluation
    lang: str
    simulation: SimulationRecord | None
    truth: dict | None
    uplift: UpliftResult | None
    comparison: pd.DataFrame | None


def _reach_rate(h: dict) -> float:
    return h["reached"] / h["target"] if h["target"] else float("nan")


def _overview(s: _Story) -> tuple[str, dict]:
    from workbench.i18n import t

    ev, h, terms = s.evaluation, s.evaluation.headline, s.evaluation.terms
    return "t06.overview.story", {
        "name": ev.name, "product": t(f"family.{terms.family}", lang=s.lang), "start": terms.start.isoformat(),
        "end": terms.end.isoformat(), "as_of": ev.as_of.date().isoformat(), "members": h["members"],
        "target": h["target"], "control": h["control"], "contacted": h["contacted"], "reached": h["reached"],
        "reach_rate": _reach_rate(h), "window": terms.response_window_days,
    }


def _data(s: _Story) -> tuple[str, dict]:
    ev, sim = s.evaluation, s.simulation
    if sim is None:
        return "t06.data.recorded", {"contacts": int(len(ev.contacts)), "as_of": ev.as_of.date().isoformat()}
    values = {"start": sim.start.isoformat(), "days": sim.days, "contacts": int(len(ev.contacts)),
              "responses": int(ev.members["responded"].sum()), "followup_end": sim.followup_end.isoformat()}
    period = ev.terms.days
    if sim.days < period:       # the demo stops in the middle of the campaign: say so, and what is evaluated
        through = sim.start + dt.timedelta(days=sim.days - 1)
        return "t06.data.simulated_partial", {**values, "period_days": period, "through": through.isoformat(),
                                              "share": sim.days / period,
                                              "uncontacted": int(ev.headline["target"] - ev.headline["contacted"])}
    return "t06.data.simulated", values


def _effect(s: _Story) -> tuple[str, dict]:
    h = s.evaluation.headline
    values = {k: h[k] for k in ("rate_target", "rate_control", "lift", "lift_low", "lift_high", "p_value",
                                "incremental", "incremental_low", "incremental_high", "cost")}
    # relative to a control rate of 0 there is no relative lift: say why instead of "+nan%"
    values["rel_lift"] = pct_text(h["rel_lift"], 0, sign=True, missing=t("t06.effect.no_relative", s.lang))
    if h["lift_low"] > 0:
        return "t06.effect.significant", {**values, "incremental_stable": h["incremental_stable"],
                                          "cost_per_incremental": h["cost_per_incremental"]}
    return "t06.effect.not_significant", values


def _adjusted(s: _Story) -> tuple[str, dict]:
    ev = s.evaluation
    row = ev.effect_row("responded")
    if not ev.covariates or "cuped_lift" not in row.index or pd.isna(row.get("cuped_lift")):
        return "t06.adjusted.none", {}
    return "t06.adjusted.story", {
        "covariates": ("、" if s.lang == "zh" else ", ").join(feature_name(c, s.lang) for c in ev.covariates),
        "lift": ev.headline["lift"], "cuped": float(row["cuped_lift"]),
        "cuped_low": float(row["cuped_ci_low"]), "cuped_high": float(row["cuped_ci_high"]),
        "reg": float(row["reg_lift"]), "reg_low": float(row["reg_ci_low"]), "reg_high": float(row["reg_ci_high"]),
        "variance_reduction": float(row["cuped_variance_reduction"]),
    }


def _srm(s: _Story) -> tuple[str, dict]:
    ev = s.evaluation
    if ev.srm.empty:
        return "t06.srm.none", {}
    first = ev.srm.iloc[0]
    control = ev.srm[ev.srm["arm"] == CONTROL].iloc[0]
    flagged = ev.srm_by_branch
    bad = sorted({branch_name(b, s.lang) for b in flagged.loc[flagged["srm"].astype(bool), "segment"]}) \
        if len(flagged) else []
    key = "t06.srm.mismatch" if bool(first["srm"]) else "t06.srm.ok"
    return key, {"planned": float(control["planned_share"]), "observed": float(control["n"]) / ev.headline["members"],
                 "p_value": float(first["p_value"]), "branches": ", ".join(bad) or "-"}


def _channels(s: _Story) -> tuple[str, dict]:
    ev, lang = s.evaluation, s.lang
    if "channel" not in ev.by:
        return "t06.channels.single", {"channel": label("channel", ev.members["channel"].iloc[0], lang),
                                       "lift": ev.headline["lift"]}
    rows = ev.by["channel"].sort_values("abs_lift", ascending=False)
    best, worst = rows.iloc[0], rows.iloc[-1]
    return "t06.channels.story", {
        "best": label("channel", best["segment"], lang), "best_lift": float(best["abs_lift"]),
        "best_low": float(best["abs_ci_low"]), "best_high": float(best["abs_ci_high"]),
        "worst": label("channel", worst["segment"], lang), "worst_lift": float(worst["abs_lift"]),
        "channels": len(rows),
    }


def _executors(s: _Story) -> tuple[str, dict]:
    from workbench.i18n import t

    ev, h = s.evaluation, s.evaluation.headline
    ex = ev.executors[ev.executors["members"] >= 20]
    ex = ex if len(ex) else ev.executors
    top, bottom = ex.iloc[0], ex.iloc[-1]
    unassigned = t("t06.executor.unassigned", lang=s.lang)
    return "t06.executors.story", {
        "executors": int(ev.executors["executor"].notna().sum()), "reach_rate": _reach_rate(h),
        "top": shown_executor(top) or unassigned, "top_reach": float(top["reach_rate"]),
        "bottom": shown_executor(bottom) or unassigned, "bottom_reach": float(bottom["reach_rate"]),
        "acceptance": h["accepted"] / h["reached"] if h["reached"] else float("nan"),
    }


def _quality(s: _Story) -> tuple[str, dict]:
    ev = s.evaluation
    last = ev.retention.sort_values("months").iloc[-1]
    unsub = ev.unsubscribes.set_index("metric")
    did = ev.did
    groups = did[did["comparison"] == "groups"].iloc[0] if did is not None and len(did) else None
    key = "t06.quality.story" if groups is not None else "t06.quality.no_arpu"
    values = {
        "months": int(last["months"]), "retention_target": _nan(last["rate_treated"]),
        "retention_control": _nan(last["rate_control"]), "retention_diff": _nan(last["abs_lift"]),
        "retention_low": _nan(last["abs_ci_low"]), "retention_high": _nan(last["abs_ci_high"]),
        "leavers_target": _nan(unsub.loc["free_month_leaver", "rate_treated"]),
        "leavers_control": _nan(unsub.loc["free_month_leaver", "rate_control"]),
    }
    if is_missing(values["retention_target"]) or is_missing(values["leavers_target"]):
        return "t06.quality.no_orders", {}
    if is_missing(values["retention_control"]) or is_missing(values["leavers_control"]):
        # nobody in the control group ordered: there is no organic quality to compare with
        return "t06.quality.no_control", {k: values[k] for k in ("months", "retention_target", "leavers_target")}
    if groups is not None:
        values.update({"did": _nan(groups["did"]), "did_low": _nan(groups["ci_low"]),
                       "did_high": _nan(groups["ci_high"])})
    return key, values


def _truth(s: _Story) -> tuple[str, dict]:
    truth = s.truth
    if truth is None:
        return "t06.truth.none", {}
    key = "t06.truth.inside" if truth["inside"] else "t06.truth.outside"
    return key, {k: truth[k] for k in ("true_rate", "estimate", "ci_low", "ci_high", "true_incremental",
                                       "incremental")}


def _uplift(s: _Story) -> tuple[str, dict]:
    from workbench.i18n import t

    uplift = s.uplift
    if uplift is None:
        m = s.evaluation.members
        return "t06.uplift.none", {"responders": int(m.loc[m["group"] == TARGET, "responded"].sum()),
                                   "control_responders": int(m.loc[m["group"] != TARGET, "responded"].sum())}
    values = {"method": t(f"t06.method.{uplift.method}", lang=s.lang), "n_train": uplift.n_train,
              "n_test": uplift.n_test, "qini": uplift.qini, "auuc": uplift.auuc}
    if not np.isfinite(uplift.qini_low):
        return "t06.uplift.unmeasured", values
    key = "t06.uplift.useful" if uplift.qini_low > 0 else "t06.uplift.weak"
    return key, {**values, "qini_low": uplift.qini_low, "qini_high": uplift.qini_high}


def _comparison(s: _Story) -> tuple[str, dict]:
    if s.comparison is None:
        return "t06.comparison.none", {}
    c = s.comparison.set_index("strategy")
    return "t06.comparison.story", {
        "contacts": int(c.loc["propensity", "contacts"]),
        "propensity": float(c.loc["propensity", "incremental_per_10k"]),
        "uplift": float(c.loc["uplift", "incremental_per_10k"]),
        "random": float(c.loc["random", "incremental_per_10k"]),
        "oracle": float(c.loc["oracle", "incremental_per_10k"]),
        "ratio": float(c.loc["uplift", "vs_propensity"]),
        "dogs_propensity": float(c.loc["propensity", "sleeping_dogs_share"]),
        "dogs_uplift": float(c.loc["uplift", "sleeping_dogs_share"]),
    }


def _recommendation(s: _Story) -> tuple[str, dict]:
    from workbench.i18n import t

    items = lessons(s.evaluation, uplift=s.uplift, comparison=s.comparison, lang=s.lang)
    return "t06.recommendation.story", {"items": "\n".join(
        f"{i}. {t(f't06.lesson.{code}', lang=s.lang, **values)}" for i, (code, values) in enumerate(items, 1))}


#: The story's sections in report order, each with the function that words it.
_SECTIONS: dict[str, Callable[[_Story], tuple[str, dict]]] = {
    "overview": _overview, "data": _data, "effect": _effect, "adjusted": _adjusted, "srm": _srm,
    "channels": _channels, "executors": _executors, "quality": _quality, "truth": _truth, "uplift": _uplift,
    "comparison": _comparison, "recommendation": _recommendation,
}
#: Sections :func:`evaluation_story` narrates.
STORY_SECTIONS: tuple[str, ...] = tuple(_SECTIONS)


def evaluation_story(evaluation: CampaignEvaluation, section: str, lang: str | None = None, *,
                     simulation: SimulationRecord | None = None, truth: dict | None = None,
                     uplift: UpliftResult | None = None, comparison: pd.DataFrame | None = None) -> tuple[str, dict]:
    """The narrative of template 06 for one section: its catalogue key and values.

    Parameters
    ----------
    evaluation : CampaignEvaluation
    section : str
        One of :data:`STORY_SECTIONS`.
    lang : {"zh", "en"}, optional
        Language of names (channels, branches, ...); the current one when omitted.
    simulation : SimulationRecord, optional
        For section ``data``: the simulated execution (None: recorded by the executors).
    truth : dict, optional
        :func:`workbench.demo.campaign.truth_check` output (section ``truth``; without it the section
        says the campaign was not simulated).
    uplift : UpliftResult, optional
        For sections ``uplift`` (without it: too little data for a model) and ``recommendation``.
    comparison : pandas.DataFrame, optional
        :func:`workbench.demo.next_round.next_campaign_comparison` output (sections ``comparison`` and
        ``recommendation``; without it the section says why there is none).

    Returns
    -------
    tuple
        ``(key, values)`` for ``narrate(key, **values)``; the key depends on the
        numbers (e.g. ``t06.effect.significant`` or ``t06.effect.not_significant``).

    Raises
    ------
    ParameterError
        An unknown section, or a section whose input was not given.
    """
    from workbench.i18n import get_language

    if section not in _SECTIONS:
        raise ParameterError.invalid("section", f"one of {list(STORY_SECTIONS)}", section)
    story = _Story(evaluation, lang or get_language(), simulation, truth, uplift, comparison)
    return _SECTIONS[section](story)


def lessons(evaluation: CampaignEvaluation, *, uplift: UpliftResult | None = None,
            comparison: pd.DataFrame | None = None, lang: str | None = None) -> list[tuple[str, dict]]:
    """The lessons of the campaign and the recommendation for the next round, as catalogue codes.

    Each lesson is ``(code, values)`` for the label ``t06.lesson.<code>``:
    whether the campaign worked, the best channel, the spread of the executors'
    reach, the quality of the acquired subscribers, a sample-ratio mismatch,
    the cost per incremental order (against the value of an order when the plan
    gives one), and how to choose the next list (``no_uplift``: gather data first).
    """
    from workbench.i18n import get_language

    lang = lang or get_language()
    h = evaluation.headline
    out: list[tuple[str, dict]] = []
    if h["lift_low"] > 0:
        out.append(("worked", {"incremental": h["incremental"], "low": h["incremental_low"],
                               "high": h["incremental_high"]}))
    else:
        out.append(("unproven", {"low": h["lift_low"], "high": h["lift_high"]}))
    if "channel" in evaluation.by:
        out.append(_channel_lesson(evaluation.by["channel"], lang))
    ex = evaluation.executors[evaluation.executors["members"] >= 20]
    if len(ex) >= 2 and ex["reach_rate"].max() - ex["reach_rate"].min() >= 0.15:
        out.append(("executors", {"high": float(ex["reach_rate"].max()), "low": float(ex["reach_rate"].min())}))
    ret = evaluation.retention.sort_values("months")
    last = ret.iloc[-1] if len(ret) else None
    if last is not None and pd.notna(last["abs_ci_high"]) and last["abs_ci_high"] < 0:
        out.append(("quality_worse", {"months": int(last["months"]), "diff": float(last["abs_lift"])}))
    elif last is not None and pd.notna(last["rate_treated"]):
        out.append(("quality_ok", {"months": int(last["months"]), "rate": float(last["rate_treated"])}))
    if len(evaluation.srm) and bool(evaluation.srm["srm"].iloc[0]):
        out.append(("srm", {}))
    if np.isfinite(h["cost_per_incremental"]):
        value = evaluation.terms.value_per_order
        if not h["lift_low"] > 0:       # a cost per incremental order of an unproven effect judges nothing
            out.append(("cost_unproven", {"cost": h["cost_per_incremental"]}))
        elif value is None:
            out.append(("cost_unvalued", {"cost": h["cost_per_incremental"]}))
        else:
            key = "cost_ok" if h["cost_per_incremental"] <= value else "cost_high"
            out.append((key, {"cost": h["cost_per_incremental"], "value": float(value)}))
    control = _nan(evaluation.terms.control_share)
    if comparison is not None:
        c = comparison.set_index("strategy")
        ratio = float(c.loc["uplift", "vs_propensity"])
        per = {"propensity": float(c.loc["propensity", "incremental_per_10k"]),
               "uplift": float(c.loc["uplift", "incremental_per_10k"])}
        if uplift is not None and uplift.qini_low > 0 and ratio > 1.05:
            out.append(("target_uplift", {"ratio": ratio, **per}))
        else:
            out.append(("keep_propensity", {"control": control, **per}))
    elif uplift is None:
        out.append(("no_uplift", {"control": control}))
    return out


def _channel_lesson(by_channel: pd.DataFrame, lang: str) -> tuple[str, dict]:
    """The channel lesson: favour the best channel only when its interval excludes 0
    (:func:`workbench.methodchecks.evidence`); else say the evidence is not enough, and how many users would be."""
    best = by_channel.sort_values("abs_lift", ascending=False).iloc[0]
    check = evidence(best["segment"], best["abs_lift"], best["abs_ci_low"], best["abs_ci_high"], best["n_treated"],
                     best["n_control"], best["mean_control"])
    values = {"channel": label("channel", best["segment"], lang), "lift": _nan(best["abs_lift"])}
    if check.code == "supported":
        return "channel", values
    values.update(low=_nan(best["abs_ci_low"]), high=_nan(best["abs_ci_high"]))
    if check.code == "harmful":
        return "channel_harmful", values
    needed = check.values.get("needed_treated")
    if needed is None:
        return "channel_unproven_flat", values
    return "channel_unproven", {**values, "treated": int(needed), "control": int(check.values["needed_control"]),
                                "n_treated": int(best["n_treated"]), "n_control": int(best["n_control"])}


def evaluation_cards(evaluation: CampaignEvaluation) -> tuple[dict, dict]:
    """Values and formats of the report's KPI tiles (for :func:`workbench.notebook.kpi_cards`)."""
    h = evaluation.headline
    values = {
        "t06.kpi.target": h["target"], "t06.kpi.reached": h["reached"], "t06.kpi.rate_target": h["rate_target"],
        "t06.kpi.rate_control": h["rate_control"], "t06.kpi.lift": h["lift"], "t06.kpi.incremental": h["incremental"],
        "t06.kpi.cost_per_incremental": h["cost_per_incremental"],
    }
    formats = {"t06.kpi.rate_target": "{:.2%}", "t06.kpi.rate_control": "{:.2%}", "t06.kpi.lift": "{:+.2%}",
               "t06.kpi.incremental": "{:,.0f}", "t06.kpi.cost_per_incremental": "{:,.1f}"}
    return values, formats


# ------------------------------------------------------------------ display tables
def _estimate_ci(estimate, lo, hi) -> str:
    """A share and its interval in one cell: ``'2.89% [-5.24%, 5.10%]'`` (:data:`MISSING` without an estimate)."""
    if is_missing(estimate):
        return MISSING
    return f"{pct_text(estimate)} {ci_text(lo, hi)}"


def effect_summary_table(evaluation: CampaignEvaluation, lang: str | None = None) -> pd.DataFrame:
    """The effect of both outcomes as a readable table (plain, CUPED and regression-adjusted)."""
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    rows = []
    for _, r in evaluation.effect.iterrows():
        rows.append({
            t("t06.col.outcome", lang=lang): t(f"t06.outcome.{r['outcome']}", lang=lang),
            t("t06.col.rate_target", lang=lang): pct_text(r["mean_treated"]),
            t("t06.col.rate_control", lang=lang): pct_text(r["mean_control"]),
            t("t06.col.lift", lang=lang): pct_text(r["abs_lift"]),
            t("t06.col.ci", lang=lang): ci_text(r["abs_ci_low"], r["abs_ci_high"]),
            t("t06.col.p_value", lang=lang): p_text(r["p_value"]),
            t("t06.col.cuped", lang=lang): _estimate_ci(r.get("cuped_lift"), r.get("cuped_ci_low"),
                                                        r.get("cuped_ci_high")),
            t("t06.col.reg", lang=lang): _estimate_ci(r.get("reg_lift"), r.get("reg_ci_low"), r.get("reg_ci_high")),
            t("t06.col.incremental", lang=lang): number_text(r["incremental"], 1) + " " + ci_text(
                r["incremental_ci_low"], r["incremental_ci_high"], pct=False),
            t("t06.col.cost_per_incremental", lang=lang): number_text(r.get("cost_per_incremental"), 1),
        })
    return people_table(pd.DataFrame(rows), lang=lang)


def dimension_table(evaluation: CampaignEvaluation, dimension: str, lang: str | None = None) -> pd.DataFrame:
    """The effect on responses by one dimension (branch, channel, ...) as a readable table."""
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    if dimension not in evaluation.by:
        raise ParameterError.invalid("dimension", f"one of {sorted(evaluation.by)}", dimension)
    frame = evaluation.by[dimension]
    # a segment without control (or target) members has no comparison: say why instead of a dash
    why = [t("report.no_control", lang=lang) if not c else t("report.no_treated", lang=lang) if not n else MISSING
           for n, c in zip(frame["n_treated"], frame["n_control"])]
    return people_table(pd.DataFrame({
        t(f"t06.dimension.{dimension}", lang=lang): [_dimension_value(dimension, v, lang) for v in frame["segment"]],
        t("t06.col.n_target", lang=lang): [count_text(v) for v in frame["n_treated"]],
        t("t06.col.n_control", lang=lang): [count_text(v) for v in frame["n_control"]],
        t("t06.col.rate_target", lang=lang): [pct_text(v, missing=w) for v, w in zip(frame["mean_treated"], why)],
        t("t06.col.rate_control", lang=lang): [pct_text(v, missing=w) for v, w in zip(frame["mean_control"], why)],
        t("t06.col.lift", lang=lang): [pct_text(v, missing=w) for v, w in zip(frame["abs_lift"], why)],
        t("t06.col.ci", lang=lang): [ci_text(a, b, missing=w) for a, b, w in
                                     zip(frame["abs_ci_low"], frame["abs_ci_high"], why)],
        t("t06.col.incremental", lang=lang): [number_text(v, 1, missing=w) for v, w in zip(frame["incremental"], why)],
    }), lang=lang)


def dimension_effects(evaluation: CampaignEvaluation, dimension: str, lang: str | None = None) -> pd.DataFrame:
    """The effect table of one dimension with readable segment names (for :func:`workbench.viz.forest_plot`)."""
    from workbench.i18n import get_language

    lang = lang or get_language()
    frame = evaluation.by[dimension].copy()
    frame["segment"] = [_dimension_value(dimension, v, lang) for v in frame["segment"]]
    return frame


def breakdown_table(evaluation: CampaignEvaluation, dimensions: Sequence[str] = ("channel", "branch", "score_decile",
                                                                                 "segment", "brand"),
                    lang: str | None = None) -> pd.DataFrame:
    """:func:`dimension_table` of every dimension present, one block after the other."""
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    blocks = []
    for name in dimensions:
        if name in evaluation.by:
            block = dimension_table(evaluation, name, lang)
            heading = t(f"t06.dimension.{name}", lang=lang)
            block = block.rename(columns={heading: t("t06.col.group", lang=lang)})
            block.insert(0, t("t06.col.dimension", lang=lang), heading)
            blocks.append(block)
    return people_table(pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(), lang=lang)


def executor_table(evaluation: CampaignEvaluation, lang: str | None = None, top: int | None = None) -> pd.DataFrame:
    """The executors' results (contacts, reach, acceptance, responses) as a readable table."""
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    ex = evaluation.executors if top is None else evaluation.executors.head(int(top))
    no_control = t("report.no_control", lang=lang)
    return people_table(pd.DataFrame({
        t("t06.col.executor", lang=lang): [shown_executor(row) or t("t06.executor.unassigned", lang=lang)
                                           for _, row in ex.iterrows()],
        t("t06.dimension.branch", lang=lang): [branch_name(b, lang) for b in ex[BRANCH_ID]],
        t("t06.col.members", lang=lang): [count_text(v) for v in ex["members"]],
        t("t06.col.attempts", lang=lang): [count_text(v) for v in ex["attempts"]],
        t("t06.col.contact_rate", lang=lang): [pct_text(v) for v in ex["contact_rate"]],
        t("t06.col.reach_rate", lang=lang): [pct_text(v) for v in ex["reach_rate"]],
        t("t06.col.acceptance_rate", lang=lang): [pct_text(v) for v in ex["acceptance_rate"]],
        t("t06.col.response_rate", lang=lang): [pct_text(v) for v in ex["response_rate"]],
        t("t06.col.lift_vs_control", lang=lang): [pct_text(v, missing=no_control) for v in ex["lift_vs_control"]],
    }), lang=lang)


def comparison_table(comparison: pd.DataFrame | None, lang: str | None = None) -> pd.DataFrame:
    """The next-round comparison (:func:`workbench.demo.next_round.next_campaign_comparison`) as a readable
    table (empty for None)."""
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    if comparison is None:
        return people_table(pd.DataFrame(), lang=lang)
    return people_table(pd.DataFrame({
        t("t06.col.strategy", lang=lang): [t(f"t06.strategy.{s}", lang=lang) for s in comparison["strategy"]],
        t("t06.col.contacts", lang=lang): [count_text(v) for v in comparison["contacts"]],
        t("t06.col.expected_incremental", lang=lang): [number_text(v, 1) for v in comparison["expected_incremental"]],
        t("t06.col.per_10k", lang=lang): [number_text(v, 1) for v in comparison["incremental_per_10k"]],
        t("t06.col.vs_propensity", lang=lang): [number_text(v, 2) for v in comparison["vs_propensity"]],
        t("t06.col.sleeping_dogs", lang=lang): [pct_text(v) for v in comparison["sleeping_dogs_share"]],
    }), lang=lang)


# ------------------------------------------------------------------ the figures each section shows
def effect_figure(evaluation: CampaignEvaluation, lang: str | None = None):
    """The forest plot of the effect on responses, target vs control (:func:`workbench.viz.forest_plot`)."""
    from workbench.i18n import t
    from workbench.viz.effect import forest_plot

    return forest_plot(evaluation.effect, "responded", lang=lang,
                       outcome_label=t("t06.outcome.responded", lang=lang))


def breakdown_figures(evaluation: CampaignEvaluation, dimensions: Sequence[str] = ("channel", "branch",
                                                                                   "score_decile", "segment"),
                      lang: str | None = None) -> list:
    """Forest plots of the effect by each dimension the campaign varies (:func:`workbench.viz.forest_plot`)."""
    from workbench.i18n import get_language, t
    from workbench.viz.effect import forest_plot

    lang = lang or get_language()
    figures = []
    for name in dimensions:
        if name in evaluation.by:
            fig = forest_plot(dimension_effects(evaluation, name, lang), "responded", lang=lang,
                              outcome_label=t("t06.outcome.responded", lang=lang))
            fig.update_layout(title=f"{fig.layout.title.text} · {t(f't06.dimension.{name}', lang=lang)}")
            figures.append(fig)
    return figures


def quality_figures(evaluation: CampaignEvaluation, lang: str | None = None) -> list:
    """Retention curve, ARPU difference-in-differences and product trend (those that could be computed)."""
    from workbench.viz.quality import arpu_did_figure, product_trend_figure, retention_curve_figure

    figures = [retention_curve_figure(evaluation.retention, lang=lang)]
    if evaluation.did is not None:
        figures.append(arpu_did_figure(evaluation.did, lang=lang))
    if evaluation.trend is not None:
        terms = evaluation.terms
        figures.append(product_trend_figure(evaluation.trend, campaign_start=terms.start, campaign_end=terms.end,
                                            family=terms.family, lang=lang))
    return figures


def _thin(curve: pd.DataFrame, points: int = 500) -> pd.DataFrame:
    """At most about ``points`` rows of a curve, evenly spread, first and last kept (a figure needs no more)."""
    if len(curve) <= points:
        return curve
    keep = np.unique(np.r_[np.linspace(0, len(curve) - 1, points).round().astype(np.int64), len(curve) - 1])
    return curve.iloc[keep]


def uplift_figures(uplift: UpliftResult | None, lang: str | None = None) -> list:
    """The Qini curve (with the perfect and random curves) and the uplift by decile; none without a model."""
    if uplift is None:
        return []
    from workbench.i18n import get_language, t
    from workbench.viz.effect import curve_figure, uplift_by_bin_figure

    lang = lang or get_language()
    name = t(f"t06.method.{uplift.method}", lang=lang)
    return [curve_figure({name: _thin(uplift.qini_curve)}, kind="qini", perfect=_thin(uplift.perfect_qini),
                         lang=lang),
            uplift_by_bin_figure(uplift.by_bin, lang=lang)]
