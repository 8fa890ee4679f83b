"""What template 07 (credit grading of new users) says: its stories, KPI tiles and display tables.

:mod:`workbench.credit.province` and :mod:`workbench.credit.actions` compute; this module words
them.  :func:`story` returns a catalogue key and its values for :func:`workbench.notebook.narrate`;
the ``*_display`` functions return tables with headers from the catalogue (``t07.col.*``) and
numbers as text (:mod:`workbench.report.format`).
"""
from __future__ import annotations

import pandas as pd

from workbench.credit.province import CreditGrading, grade_psi, grade_table, method_table
from workbench.errors import ParameterError
from workbench.i18n import catalogue, t
from workbench.report.format import count_text, number_text, pct_text

__all__ = [
    "cohort_cards", "story", "segment_display", "method_display", "grade_display", "rules_display",
    "ocs_display", "dunning_display", "oot_grades",
]


def _text(values, fmt) -> pd.api.extensions.ExtensionArray:
    return pd.array([fmt(v) for v in values], dtype="str")


def _segment_name(name, lang: str | None) -> str:
    """``joiner=rejoined & region=urumqi`` in words (``*`` = every account)."""
    if name is None or name == "*":
        return t("t07.segment.all", lang)
    parts = []
    for part in str(name).split(" & "):
        key = f"t07.segment.{part.replace('=', '.')}"
        parts.append(t(key, lang) if key in catalogue() else part)
    return " · ".join(parts)


def _method_name(method, lang: str | None) -> str:
    key = f"credit.method.{method}"
    return t(key, lang) if key in catalogue() else str(method)


def _feature_words(text: str, lang: str | None) -> str:
    """A rule with every credit feature's column name replaced by its label (longest names first)."""
    from workbench.credit.features import FEATURE_COLUMNS

    for name in sorted(FEATURE_COLUMNS, key=len, reverse=True):
        if name in text:
            text = text.replace(name, t(f"credit.feature.{name}", lang))
    return text


def oot_grades(grading: CreditGrading) -> pd.DataFrame:
    """Accounts, bads and bad rate per grade of the out-of-time cohort."""
    return grade_table(grading.scores[grading.scores["cohort"] == "oot"])


def cohort_cards(grading: CreditGrading) -> tuple[dict, dict]:
    """Values and formats of the KPI tiles: ``kpi_cards(*cohort_cards(grading))``."""
    c = grading.frame["cohort"].value_counts()
    learn = grading.frame[grading.frame["cohort"] != "base"]
    return ({"t07.kpi.accounts": int(len(grading.frame)), "t07.kpi.train": int(c.get("train", 0)),
             "t07.kpi.oot": int(c.get("oot", 0)), "t07.kpi.base": int(c.get("base", 0)),
             "t07.kpi.bad_rate": float(learn["bad"].mean())}, {"t07.kpi.bad_rate": "{:.2%}"})


def story(grading: CreditGrading, section: str, **extra) -> tuple[str, dict]:
    """The catalogue key and values of template 07's narrative for ``section``.

    Sections: ``label``, ``segments``, ``methods``, ``grades``, ``stability``, ``ocs``
    (``rules=`` the OCS rules table), ``dunning`` (``dunning=`` the list).
    """
    fr = grading.frame
    rule = grading.rule
    summary = grading.summary
    if section == "label":
        learn = fr[fr["cohort"] != "base"]
        arrears = ("" if rule.arrears_yuan is None else
                   t("t07.label.arrears", None).format(yuan=rule.arrears_yuan, days=rule.arrears_days))
        return "t07.label.story", {
            "feature_months": rule.feature_months, "first": rule.outcome_first, "last": rule.outcome_last,
            "arrears": arrears, "matured": count_text(len(learn)), "bads": count_text(int(learn["bad"].sum())),
            "bad_rate": pct_text(learn["bad"].mean()), "oot_months": grading.parameters.get("oot_months"),
            "base": count_text(int((fr["cohort"] == "base").sum()))}
    if section == "segments":
        merges = summary.get("merges") or []
        text = "; ".join(f"{_segment_name(m.get('segment'), None)} → {_segment_name(m.get('into'), None)}"
                         for m in merges)
        return "t07.segments.story", {
            "segments": len(summary.get("segments") or []), "models": len(summary.get("models") or []),
            "merges": text or t("t07.segments.no_merge"), "min_rows": grading.parameters.get("min_segment_rows")}
    if section == "methods":
        mt = method_table(summary)
        chosen = mt[mt["chosen"]]
        text = "; ".join(f"{_segment_name(r.segment, None)}: {_method_name(r.method, None)} "
                         f"(AUC {number_text(r.auc_oot, 3)})" for r in chosen.itertuples())
        return "t07.methods.story", {"chosen": text}
    if section == "grades":
        g = oot_grades(grading)
        rates = g["bad_rate"].tolist()
        increasing = all(b > a for a, b in zip(rates, rates[1:]))
        return "t07.grades.story", {
            "first": g["grade"].iloc[0], "last": g["grade"].iloc[-1], "low": pct_text(rates[0]),
            "high": pct_text(rates[-1]),
            "order": t("t07.grades.increasing") if increasing else t("t07.grades.not_increasing")}
    if section == "stability":
        sc = grading.scores
        psi_oot = grade_psi(sc.loc[sc["cohort"] == "train", "grade"], sc.loc[sc["cohort"] == "oot", "grade"])
        psi_base = grade_psi(sc.loc[sc["cohort"] == "train", "grade"], sc.loc[sc["cohort"] == "base", "grade"])
        verdict = "t07.stability.stable" if max(psi_oot, psi_base) < 0.1 else "t07.stability.shift"
        return "t07.stability.story", {"psi_oot": number_text(psi_oot, 3), "psi_base": number_text(psi_base, 3),
                                       "verdict": t(verdict)}
    if section == "ocs":
        rules = extra.get("rules")
        if rules is None:
            raise ParameterError.invalid("rules", "the OCS rules table (ocs_rules())", None)
        base = grading.base
        excluded = rules.loc[rules["promotions_excluded"], "grade"].tolist()
        n_ex = int(base["grade"].isin(excluded).sum())
        return "t07.ocs.story", {"excluded": ", ".join(excluded) or "-", "n_excluded": count_text(n_ex),
                                 "share": pct_text(n_ex / max(len(base), 1)),
                                 "ocs": ", ".join(rules.loc[rules["ocs_inclusion"], "grade"]) or "-"}
    if section == "dunning":
        dunning = extra.get("dunning")
        if dunning is None:
            raise ParameterError.invalid("dunning", "the dunning list (dunning_list())", None)
        top = dunning[dunning["stop_priority"] <= 2]
        return "t07.dunning.story", {"accounts": count_text(len(dunning)), "first": count_text(len(top)),
                                     "owed": number_text(float(top["amount_owed"].sum()), 0)}
    raise ParameterError.invalid("section", "one of label, segments, methods, grades, stability, ocs, dunning",
                                 section)


def segment_display(grading: CreditGrading, lang: str | None = None) -> pd.DataFrame:
    """Rows, bads and bad rate of every segment and the model segment it is scored by."""
    seg = pd.DataFrame(grading.summary.get("segments") or [])
    if seg.empty:
        return seg
    return pd.DataFrame({
        t("t07.col.rows", lang): _text(seg["rows"], count_text),
        t("t07.col.bads", lang): _text(seg["bads"], count_text),
        t("t07.col.bad_rate", lang): _text(seg["bad_rate"], pct_text),
        t("t07.col.model_segment", lang): _text(seg["model_segment"], lambda s: _segment_name(s, lang)),
    }, index=pd.Index(_text(seg["segment"], lambda s: _segment_name(s, lang)), name=t("t07.col.segment", lang)))


def method_display(grading: CreditGrading, lang: str | None = None) -> pd.DataFrame:
    """Out-of-time AUC, training AUC and score PSI of every method of every modelled segment."""
    mt = method_table(grading.summary)
    return pd.DataFrame({
        t("t07.col.method", lang): _text(mt["method"], lambda m: _method_name(m, lang)),
        t("t07.col.auc_oot", lang): _text(mt["auc_oot"], lambda v: number_text(v, 3)),
        t("t07.col.auc_train", lang): _text(mt["auc_train"], lambda v: number_text(v, 3)),
        t("t07.col.psi", lang): _text(mt["psi"], lambda v: number_text(v, 3)),
        t("t07.col.chosen", lang): _text(mt["chosen"], lambda c: "✔" if c else ""),
    }, index=pd.Index(_text(mt["segment"], lambda s: _segment_name(s, lang)), name=t("t07.col.segment", lang)))


def grade_display(grades: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """A :func:`~workbench.credit.province.grade_table` with words and numbers as text."""
    return pd.DataFrame({
        t("t07.col.rows", lang): _text(grades["accounts"], count_text),
        t("t07.col.share", lang): _text(grades["share"], pct_text),
        t("t07.col.bads", lang): _text(grades["bads"], count_text),
        t("t07.col.bad_rate", lang): _text(grades["bad_rate"], pct_text),
    }, index=pd.Index(pd.array(grades["grade"].astype(str), dtype="str"), name=t("t07.col.grade", lang)))


def rules_display(grading: CreditGrading, n: int = 6, lang: str | None = None) -> pd.DataFrame:
    """The first ``n`` readable rules of every modelled segment (the model's wording, features by their labels)."""
    rows = []
    for entry in grading.model.rules(language=lang or None):
        for rule in list(entry.get("rules") or [])[:n]:
            rows.append((_segment_name(entry.get("segment"), lang), _method_name(entry.get("method"), lang),
                         _feature_words(str(rule), lang)))
    frame = pd.DataFrame(rows, columns=["segment", "method", "rule"])
    return pd.DataFrame({
        t("t07.col.method", lang): pd.array(frame["method"], dtype="str"),
        t("t07.col.rule", lang): pd.array(frame["rule"], dtype="str"),
    }, index=pd.Index(pd.array(frame["segment"], dtype="str"), name=t("t07.col.segment", lang)))


def ocs_display(rules: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """The OCS rules per grade in words."""
    yes, no = t("common.yes", lang), t("common.no", lang)
    return pd.DataFrame({
        t("t07.col.score_range", lang): _text(zip(rules["score_min"], rules["score_max"]),
                                              lambda r: f"{pct_text(r[0])} – {pct_text(r[1])}"),
        t("t07.col.bad_rate", lang): _text(rules["bad_rate"], pct_text),
        t("t07.col.ocs", lang): _text(rules["ocs_inclusion"], lambda v: yes if v else no),
        t("t07.col.credit_limit", lang): _text(rules["credit_limit_yuan"], lambda v: number_text(v, 0)),
        t("t07.col.exit", lang): _text(rules["exit_condition"], lambda v: t(f"credit.exit.{v}", lang)),
        t("t07.col.stop_priority", lang): _text(rules["stop_priority"], count_text),
        t("t07.col.promotions", lang): _text(rules["promotions_excluded"], lambda v: no if v else yes),
    }, index=pd.Index(pd.array(rules["grade"], dtype="str"), name=t("t07.col.grade", lang)))


def dunning_display(dunning: pd.DataFrame, n: int = 10, lang: str | None = None) -> pd.DataFrame:
    """The first ``n`` accounts of the dunning list."""
    head = dunning.head(n)
    return pd.DataFrame({
        t("t07.col.subscriber", lang): _text(head["subscriber_id"], str),
        t("t07.col.grade", lang): pd.array(head["grade"].astype(str), dtype="str"),
        t("t07.col.score", lang): _text(head["score"], lambda v: number_text(v, 3)),
        t("t07.col.owed", lang): _text(head["amount_owed"], lambda v: number_text(v, 2)),
    }, index=pd.Index(head["priority"], name=t("t07.col.priority", lang)))
