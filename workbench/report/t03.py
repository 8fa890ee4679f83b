"""What template 03 (the target-user model) says: its stories, KPI tiles and display tables.

:class:`~workbench.models.ProvincePipeline` computes; this module words it.
Every function takes the pipeline (after the step it reports on) and returns
either a narrative key and its values for :func:`workbench.notebook.narrate`
(:func:`story`), the values and formats of a row of KPI tiles for
:func:`workbench.notebook.kpi_cards` (:func:`sample_cards`), or a table to
display: headers from the label catalogue (``t03.col.*``, ``model.*``), numbers
as text through :mod:`workbench.report.format` (``3.51%``, ``19,194``, ``0.712``)
and a meaningful index (the item, model, decile, rule, subscriber or contender
of the row) instead of a row number.

Examples
--------
>>> key, values = story(pipe, "validation")            # doctest: +SKIP
>>> narrate(key, **values)                             # doctest: +SKIP
>>> validation_table(pipe)                             # doctest: +SKIP
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from workbench.checks import check_int
from workbench.errors import ParameterError
from workbench.i18n import get_language, t
from workbench.models.province_inputs import feature_labels, value_labels
from workbench.report.format import count_text, number_text, pct_text, people_table

if TYPE_CHECKING:
    from workbench.models.province import ProvincePipeline

__all__ = [
    "story", "sample_cards", "composition_table", "exclusion_table", "validation_table", "method_table",
    "gains_display",
    "rules_display", "example_reasons", "benchmark_display", "registry_table",
]

#: Decimals of a score-quality figure (AUC, PR-AUC, KS, a score) and of a lift.
SCORE_DIGITS = 3
LIFT_DIGITS = 2


def _texts(values, fmt) -> pd.api.extensions.ExtensionArray:
    """``fmt`` applied to every value, as a text column."""
    return pd.array([fmt(v) for v in values], dtype="str")


# ------------------------------------------------------------------ narrative numbers
def story(pipe: ProvincePipeline, section: str, **extra) -> tuple[str, dict]:
    """The catalogue key and values of template 03's narrative for ``section``.

    Sections: ``sample``, ``method``, ``validation``, ``baselines``, ``gains``, ``importance``,
    ``rules``, ``reasons``, ``preference``, ``editions``, ``saved``, ``truth``
    (``truth=`` the :func:`workbench.demo.benchmark.truth_benchmark` table).
    """
    lang = get_language()
    comp = pipe.composition
    if section == "sample":
        return "t03.sample.story", {
            "product": t(f"family.{pipe.product}", lang), "snapshot": pipe.snapshot,
            "equation": comp.equation(lang), "recent": comp.recent, "stable_months": pipe.stable_months,
            "excluded": len(pipe.excluded), "inputs": len(pipe.columns)}
    if section == "method":
        return _method_story(pipe, lang)
    if section in ("validation", "baselines", "gains"):
        v = pipe.validation
        if v is None:
            raise ParameterError("run validate() before the validation narrative")
        m = v.results["model"]
        if section == "validation":
            values = {"train": v.plan.train_snapshot, "eval": v.plan.eval_snapshot, "horizon": v.plan.horizon,
                      "potential": v.composition.potential, "converted": v.outcomes.get("stable", 0),
                      "recent": v.outcomes.get("recent", 0), "rate": m["base_rate"]}
            if pipe.method == "conversion":      # learnt one horizon earlier still: who converted by T - k
                before = pd.Timestamp(v.plan.train_snapshot + "-01") - pd.DateOffset(months=v.plan.horizon)
                return "t03.validation.story_conversion", {**values, "before": f"{before:%Y-%m}"}
            return "t03.validation.story", values
        if section == "baselines":
            s = v.summary().set_index("model")
            return "t03.baselines.story", {
                "auc": s.loc["model", "auc"], "auc_logistic": s.loc["logistic", "auc"],
                "auc_rules": s.loc["rules", "auc"], "lift": s.loc["model", "lift"],
                "lift_logistic": s.loc["logistic", "lift"], "share": s.loc["model", "list_share"]}
        g = m["gains"]
        return "t03.gains.story", {
            "capture": float(g["cum_capture"].iloc[0]), "lift": float(g["lift"].iloc[0]),
            "capture_3": float(g["cum_capture"].iloc[min(2, len(g) - 1)]), "rate": float(g["rate"].iloc[0]),
            "base_rate": m["base_rate"]}
    if section == "importance":
        imp = pipe.explanation.importance
        names = feature_labels(lang)
        return "t03.importance.story", {"snapshot": pipe.snapshot, "first": names(imp["feature"].iloc[0]),
                                        "second": names(imp["feature"].iloc[1]),
                                        "third": names(imp["feature"].iloc[2])}
    if section == "rules":
        best = pipe.explanation.rules[0]
        return "t03.rules.story", {"rule": best.render(lang, feature_labels(lang), value_labels(lang)),
                                   "size": best.size, "share": best.target_share, "lift": best.lift,
                                   "base_rate": comp.target_share}
    if section == "reasons":
        return "t03.reasons.story", {"users": len(pipe.scores)}
    if section == "preference":
        ev = pipe.preference_result["evaluation"]
        return "t03.preference.story", {
            "fit_months": ev.fit_months, "test_month": ev.test_month, "strength": pipe.preference_result["strength"],
            "top1": ev.value("model", "top1"), "top1_pop": ev.value("popularity", "top1"),
            "ndcg": ev.value("model", "ndcg"), "ndcg_pop": ev.value("popularity", "ndcg"), "k": ev.k,
            "loss": ev.value("model", "loss", "sparse"), "loss_raw": ev.value("raw", "loss", "sparse"),
            "sparse_items": ev.sparse_items}
    if section == "editions":
        ag = pipe.preference_result["agreement"]
        top = pipe.target_list()
        counts = top["edition"].value_counts()
        return "t03.editions.story", {
            "listed": len(top), "edition": t(f"category.{_edition_category(pipe, counts.index[0])}", lang),
            "edition_share": float(counts.iloc[0] / len(top)), "subscribers": ag["subscribers"],
            "agree": ag["top1"], "agree_2": ag["top2"], "chance": ag["chance"]}
    if section == "saved":
        return "t03.saved", {"model": str(pipe.paths.get("model", "")), "scores": str(pipe.paths.get("scores", "")),
                             "users": 0 if pipe.scores is None else len(pipe.scores)}
    if section == "truth":
        if "truth" not in extra:
            raise ParameterError("the truth section needs truth=<truth_benchmark() table or None>")
        bench = extra["truth"]
        if bench is None:
            return "t03.truth.none", {}
        b = bench.set_index("contender")
        return "t03.truth.story", {
            "auc": b.loc["model", "auc"], "auc_oracle": b.loc["oracle", "auc"],
            "auc_ratio": b.loc["model", "auc_ratio"],
            "lift": b.loc["model", "lift"], "lift_oracle": b.loc["oracle", "lift"],
            "lift_ratio": b.loc["model", "lift_ratio"], "positives": int(b.loc["model", "positives"]),
            "users": int(b.loc["model", "users"])}
    raise ParameterError.invalid("section", "one of sample, method, validation, baselines, gains, importance, rules, "
                                 "reasons, preference, editions, saved, truth", section)




def _method_story(pipe: ProvincePipeline, lang: str) -> tuple[str, dict]:
    """``t03.method.story.<reason>``: which method the model uses and why (:class:`MethodChoice`)."""
    choice = pipe.choice
    if choice is None:
        raise ParameterError("run validate() before the method narrative: the pipeline compares both methods there")
    name = t(f"t03.method.name.{choice.method}", lang)
    if choice.reason == "history":
        return "t03.method.story.history", {"method": name, "first": choice.first_month,
                                            "needed": choice.needed_from, "months": 2 * pipe.plan.horizon,
                                            "snapshot": pipe.snapshot}
    if choice.reason == "requested":
        return "t03.method.story.requested", {"method": name}
    other = next(m for m in choice.candidates if m != choice.method)
    c, o = choice.candidates[choice.method], choice.candidates[other]
    return "t03.method.story.evidence", {
        "method": name, "other": t(f"t03.method.name.{other}", lang), "auc": c["auc"], "auc_other": o["auc"],
        "lift": c["lift"], "lift_other": o["lift"], "train": pipe.plan.train_snapshot,
        "eval": pipe.plan.eval_snapshot}


def _edition_category(pipe: ProvincePipeline, edition: str) -> str:
    row = pipe.editions[pipe.editions["edition"] == edition]
    return str(row["content_category"].iloc[0]) if len(row) else str(edition)


# ------------------------------------------------------------------ KPI tiles
def sample_cards(pipe: ProvincePipeline) -> tuple[dict, dict]:
    """Values and formats of the model sample's KPI tiles: ``kpi_cards(*sample_cards(pipe))``.

    The model sample, its potential customers and stable subscribers (counts) and
    the target share (``{:.3%}``) at ``T``.
    """
    comp = pipe.composition
    return ({"t03.kpi.sample": comp.sample_size, "t03.kpi.potential": comp.potential, "t03.kpi.stable": comp.stable,
             "t03.kpi.share": comp.target_share}, {"t03.kpi.share": "{:.3%}"})


# ------------------------------------------------------------------ tables for the template (labels from the catalogue)
def composition_table(pipe: ProvincePipeline, lang: str | None = None) -> pd.DataFrame:
    """The sample composition at ``T``: users and share per item (indexed by the item)."""
    table = pipe.composition.table(lang)
    return people_table(pd.DataFrame({
        t("t03.col.users", lang): _texts(table["users"], count_text),
        t("t03.col.share", lang): _texts(table["share"], pct_text),
    }, index=pd.Index(table["item"], name=t("t03.col.item", lang))), lang=lang)


def exclusion_table(pipe: ProvincePipeline, lang: str | None = None) -> pd.DataFrame:
    """The excluded features by their meaning (the index; a feature's code means nothing to a reader) and why
    they are excluded."""
    names = feature_labels(lang)
    return people_table(pd.DataFrame({
        t("t03.col.reason", lang): pd.array([t(f"t03.exclusion.{r}", lang) for r in pipe.excluded.values()],
                                            dtype="str"),
    }, index=pd.Index(pd.array([names(f) for f in pipe.excluded], dtype="str"), name=t("t03.col.feature", lang))),
        lang=lang)


def validation_table(pipe: ProvincePipeline, lang: str | None = None) -> pd.DataFrame:
    """Out-of-time figures of the model and the baselines, one row per model (the index)."""
    if pipe.validation is None:
        raise ParameterError("run validate() before asking for the validation table")
    s = pipe.validation.summary()
    share = float(s["list_share"].iloc[0])
    share_text = pct_text(share, 0) if share >= 0.01 else pct_text(share)
    score = lambda v: number_text(v, SCORE_DIGITS)          # noqa: E731
    return pd.DataFrame({
        t("model.metric.auc", lang): _texts(s["auc"], score),
        t("model.metric.pr_auc", lang): _texts(s["pr_auc"], score),
        t("model.metric.ks", lang): _texts(s["ks"], score),
        t("model.metric.lift_at", lang, share=share_text): _texts(s["lift"], lambda v: number_text(v, LIFT_DIGITS)),
        t("model.metric.capture_at", lang, share=share_text): _texts(s["capture"], pct_text),
    }, index=pd.Index(pd.array([t(f"model.name.{m}", lang) for m in s["model"]], dtype="str"),
                      name=t("t03.col.model", lang)))


def method_table(pipe: ProvincePipeline, lang: str | None = None) -> pd.DataFrame:
    """The out-of-time figures of every validated training method, one row per method (the index), and which
    one the model uses (:attr:`ProvincePipeline.choice`)."""
    if pipe.choice is None or not pipe.choice.candidates:
        raise ParameterError("run validate() before asking for the methods' comparison")
    table = pipe.choice.table()
    share = pipe.validation.summary()["list_share"].iloc[0] if pipe.validation is not None else pipe.list_size
    share_text = pct_text(float(share), 0) if float(share) >= 0.01 else pct_text(float(share))
    score = lambda v: number_text(v, SCORE_DIGITS)          # noqa: E731
    return pd.DataFrame({
        t("t03.col.training_rows", lang): _texts(table["rows"], count_text),
        t("t03.col.training_positives", lang): _texts(table["positives"], count_text),
        t("model.metric.auc", lang): _texts(table["auc"], score),
        t("model.metric.lift_at", lang, share=share_text): _texts(table["lift"],
                                                                  lambda v: number_text(v, LIFT_DIGITS)),
        t("model.metric.capture_at", lang, share=share_text): _texts(table["capture"], pct_text),
        t("t03.col.used", lang): _texts(table["chosen"], lambda v: t("t03.method.used", lang) if v else ""),
    }, index=pd.Index(pd.array([t(f"t03.method.name.{m}", lang) for m in table["method"]], dtype="str"),
                      name=t("t03.col.method", lang)))


def gains_display(pipe: ProvincePipeline, name: str = "model", lang: str | None = None) -> pd.DataFrame:
    """The out-of-time gains table of one model, one row per decile (the index, 1 = best scores)."""
    if pipe.validation is None:
        raise ParameterError("run validate() before asking for the gains table")
    if name not in pipe.validation.results:
        raise ParameterError.invalid("name", f"one of {list(pipe.validation.results)}", name)
    g = pipe.validation.results[name]["gains"]
    lift = lambda v: number_text(v, LIFT_DIGITS)            # noqa: E731
    formats = {"size": count_text, "positives": count_text, "rate": pct_text, "lift": lift,
               "cum_capture": pct_text, "cum_lift": lift}
    return people_table(pd.DataFrame({t(f"model.gains.{c}", lang): _texts(g[c], fmt) for c, fmt in formats.items()},
                                     index=pd.Index(g["bin"].to_numpy(), name=t("model.gains.bin", lang))), lang=lang)


def rules_display(pipe: ProvincePipeline, lang: str | None = None) -> pd.DataFrame:
    """The rule examples in words (the index) with size, stable subscribers, stable share and lift."""
    if pipe.explanation is None:
        raise ParameterError("run explain() before asking for the rule examples")
    rules = pipe.explanation.rules
    return pd.DataFrame({
        t("t03.col.size", lang): _texts([r.size for r in rules], count_text),
        t("t03.col.positives", lang): _texts([r.positives for r in rules], count_text),
        t("t03.col.target_share", lang): _texts([r.target_share for r in rules], pct_text),
        t("t03.col.lift", lang): _texts([r.lift for r in rules], lambda v: number_text(v, LIFT_DIGITS)),
    }, index=pd.Index(pd.array([r.render(lang, feature_labels(lang), value_labels(lang)) for r in rules],
                               dtype="str"), name=t("t03.col.rule", lang)))


def example_reasons(pipe: ProvincePipeline, n: int = 5, lang: str | None = None) -> pd.DataFrame:
    """The ``n`` best-scored users (indexed by subscriber) with score, rank, reasons and editions in words."""
    if pipe.scores is None:
        raise ParameterError("run score() before asking for example users")
    n = check_int("n", n, 1)
    top = pipe.scores.head(n)
    cat = dict(zip(pipe.editions["edition"], pipe.editions["content_category"]))
    out = {t("t03.col.score", lang): _texts(top["score"], lambda v: number_text(v, SCORE_DIGITS)),
           t("t03.col.rank", lang): _texts(top["rank"], count_text)}
    for c in ("reason_1", "reason_2", "reason_3", "edition", "edition_2"):
        col = top[c]
        if c in ("edition", "edition_2"):
            col = col.map(lambda e: t(f"category.{cat.get(e, e)}", lang) if isinstance(e, str) else e)
        out[t(f"t03.col.{c}", lang)] = col.to_numpy()
    return pd.DataFrame(out, index=pd.Index(top["subscriber_id"].to_numpy(), name=t("t03.col.subscriber", lang)))


def benchmark_display(bench: pd.DataFrame | None, lang: str | None = None) -> pd.DataFrame | None:
    """The :func:`workbench.demo.benchmark.truth_benchmark` table in words, one row per contender
    (the index); ``None`` without a truth."""
    if bench is None:
        return None
    score = lambda v: number_text(v, SCORE_DIGITS)          # noqa: E731
    formats = {"users": ("t03.col.users", count_text), "positives": ("t03.col.positives", count_text),
               "auc": ("model.metric.auc", score), "lift": ("t03.col.lift", lambda v: number_text(v, LIFT_DIGITS)),
               "auc_ratio": ("t03.col.auc_ratio", lambda v: pct_text(v, 1)),
               "lift_ratio": ("t03.col.lift_ratio", lambda v: pct_text(v, 1))}
    return pd.DataFrame({t(key, lang): _texts(bench[c], fmt) for c, (key, fmt) in formats.items()},
                        index=pd.Index(pd.array([t(f"t03.contender.{c}", lang) for c in bench["contender"]],
                                                dtype="str"), name=t("t03.col.contender", lang)))


def registry_table(folder, lang: str | None = None) -> pd.DataFrame:
    """What the registry folder records, one line per item (the index; read back from the files)."""
    from workbench.models.registry import load_card

    card = load_card(folder)
    meta = card["model"]
    win = meta.get("training_window") or {}
    versions = ", ".join(f"{k} {v}" for k, v in (meta.get("versions") or {}).items() if v)
    rows = [
        ("folder", str(folder)),
        ("trained", str(card["label"].get("snapshot", ""))),
        ("window", f"{win.get('from', '')} .. {win.get('to', '')}"),
        ("rows", count_text(meta["fingerprint"]["rows"])),
        ("features", count_text(len(card["features"]["features"]))),
        ("rounds", str(meta.get("best_iteration"))),
        ("fingerprint", meta["fingerprint"]["sha256"][:16]),
        ("versions", versions),
    ]
    return pd.DataFrame({t("t03.col.value", lang): pd.array([v for _, v in rows], dtype="str")},
                        index=pd.Index(pd.array([t(f"t03.registry.{k}", lang) for k, _ in rows], dtype="str"),
                                       name=t("t03.col.key", lang)))
