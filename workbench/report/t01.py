"""What template 01 (status analysis) says: its stories, KPI tiles and the names in them.

The numbers come from :mod:`workbench.status.analysis` (the findings: a dict of
summaries, JSON-ready); this module words them.  :func:`story` turns one
section of the findings into a narrative key of the label catalogue and the
values it needs, with names (branches, segments, features) in the report's
language; :func:`status_cards` gives the KPI tiles, their numbers formatted by
:mod:`workbench.report.format`.

Examples
--------
>>> from workbench.notebook import narrate                  # doctest: +SKIP
>>> key, values = story(findings, "capital")                 # doctest: +SKIP
>>> narrate(key, **values)                                   # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from workbench.data import tables as data_tables
from workbench.errors import ParameterError
from workbench.i18n import get_language
from workbench.report.format import count_text, number_text, pct_text
from workbench.status.analysis import CAPITAL
from workbench.viz.status import segment_label

__all__ = ["SECTIONS", "CARDS", "story", "status_cards", "branch_name", "feature_label"]

#: Sections of the narrative that :func:`story` knows.
SECTIONS: tuple[str, ...] = ("scope", "kpis", "capital", "segment", "retention", "drivers", "potential")

_BRANCH_COL = data_tables.TABLES["subscribers"].column("branch_id").name


# ----------------------------------------------------------------- names
def branch_name(branch_id: str, lang: str | None = None) -> str:
    """The name of a branch in ``lang`` (the id itself when unknown); the current language when omitted."""
    return data_tables.branch_name(branch_id, lang or get_language())


def feature_label(name: str, lang: str | None = None) -> str:
    """What a feature means, in ``lang``, from the feature catalogue (the name itself when unknown)."""
    from workbench.features.catalogue import FEATURE_INDEX
    from workbench.i18n import get_language

    f = FEATURE_INDEX.get(name)
    if f is None:
        return name
    return f.meaning_zh if (lang or get_language()) == "zh" else f.meaning


# ----------------------------------------------------------------- stories
def _nan(x) -> float:
    return float("nan") if x is None else float(x)


def _section(findings: Mapping, name: str) -> Mapping:
    part = findings.get(name) if isinstance(findings, Mapping) else None
    if not isinstance(part, Mapping):
        raise ParameterError.invalid("findings", f"status findings holding the {name!r} summary",
                                     sorted(findings) if isinstance(findings, Mapping) else type(findings).__name__)
    return part


def _join(names: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(names)


def story(findings: Mapping, section: str, lang: str | None = None, *,
          dimension: str | None = None) -> tuple[str, dict]:
    """The narrative of template 01 for one section of the findings: its catalogue key and values.

    Parameters
    ----------
    findings : dict
        :func:`workbench.status.analysis.status_findings` output holding the section's summary.
    section : str
        One of :data:`SECTIONS`.
    lang : {"zh", "en"}, optional
        Language of names (product, branches, segments, features); the current one when omitted.
    dimension : str, optional
        For ``section="segment"``: the penetration dimension (``"brand"``, ``"age_band"``, ...).

    Returns
    -------
    tuple
        ``(key, values)`` for :func:`workbench.notebook.narrate`: ``narrate(key, **values)``.
        The key is ``t01.<section>.story``, or ``t01.capital.single`` when the
        scope lacks the capital or every prefecture.  Ratios stay fractions (the
        catalogue formats them, e.g. ``{share:.1%}``); a ratio that could not be
        computed is NaN.

    Raises
    ------
    ParameterError
        When ``section`` or ``dimension`` is unknown or the findings lack the section.
    """
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    if section not in SECTIONS:
        raise ParameterError.invalid("section", f"one of {list(SECTIONS)}", section)
    key = f"t01.{section}.story"
    product = t(f"family.{findings['product']}", lang=lang)
    if section == "scope":
        names = _join([branch_name(b, lang) for b in findings.get("branches") or []], lang)
        return key, {"product": product, "snapshot": findings["snapshot"],
                     "scope": names or t("t01.scope.province", lang=lang), "stable_months": findings["stable_months"]}
    if section == "kpis":
        k = _section(findings, "kpis")
        return key, {
            "product": product, "first_month": k["first_month"], "last_month": k["last_month"], "months": k["months"],
            "subscribers": k["subscribers"], "subscribers_before": k["subscribers_before"],
            "orders_per_month": k["orders_per_month"], "unsubscribes_per_month": k["unsubscribes_per_month"],
            "net_adds_per_month": k["net_adds_per_month"], "growth": _nan(k["growth"]),
            "free_month_leaver_share": _nan(k["free_month_leaver_share"]), "churn_rate": _nan(k["churn_rate"])}
    if section == "capital":
        p = _section(findings, "penetration")
        seg = p["segments"].get(_BRANCH_COL)
        if seg is None:
            raise ParameterError.invalid("findings", "penetration summarised by branch_id", sorted(p["segments"]))
        hi, lo = seg["highest"], seg["lowest"]
        values = {"product": product, "penetration": _nan(p["penetration"]),
                  "highest": branch_name(hi["value"], lang), "highest_penetration": _nan(hi["penetration"]),
                  "lowest": branch_name(lo["value"], lang), "lowest_penetration": _nan(lo["penetration"])}
        if not (p.get("capital") and p.get("prefectures")):
            return "t01.capital.single", values
        return key, {**values, "capital": branch_name(CAPITAL[0], lang),
                     "capital_penetration": _nan(p["capital"]["penetration"]),
                     "prefecture_penetration": _nan(p["prefectures"]["penetration"]),
                     "capital_ratio": _nan(p["capital_ratio"])}
    if section == "segment":
        segs = _section(findings, "penetration")["segments"]
        if dimension not in segs:
            raise ParameterError.invalid("dimension", f"one of {sorted(segs)}", dimension)
        hi, lo = segs[dimension]["highest"], segs[dimension]["lowest"]
        return key, {
            "dimension": t(f"status.dimension.{dimension}", lang=lang),
            "highest": segment_label(dimension, hi["value"], lang), "highest_penetration": _nan(hi["penetration"]),
            "highest_lift": _nan(hi["lift"]),
            "lowest": segment_label(dimension, lo["value"], lang), "lowest_penetration": _nan(lo["penetration"]),
            "penetration": _nan(findings["penetration"]["penetration"])}
    if section == "retention":
        r = _section(findings, "retention")
        return key, {"orders": r["orders"], "cohorts": r["cohorts"], "stable_months": findings["stable_months"],
                     "at_stable": _nan(r["at_stable"]), "lost_before_stable": _nan(r["lost_before_stable"]),
                     "k_last": r["k_last"] if r["k_last"] is not None else 0, "at_last": _nan(r["at_last"])}
    if section == "drivers":
        top = _section(findings, "drivers")["top"]
        if not top:
            raise ParameterError.invalid("findings", "at least one driver of uptake", "none")
        first = top[0]
        return key, {"product": product, "first": feature_label(first["feature"], lang), "first_iv": _nan(first["iv"]),
                     "first_bin": first["top_bin"], "first_lift": _nan(first["lift"]),
                     "others": _join([feature_label(x["feature"], lang) for x in top[1:]], lang) or "-",
                     "count": len(top)}
    p = _section(findings, "potential")
    return key, {"product": product, "base": p["base"], "stable": p["stable"], "nonsubscribers": p["nonsubscribers"],
                 "lookalikes": p["lookalikes"], "high_bands": p["high_bands"], "k": p["k"],
                 "conversion_rate": _nan(p["conversion_rate"]), "horizon": p["horizon_months"],
                 "expected": p["expected_new_stable"]}


# ----------------------------------------------------------------- KPI tiles
_Text = Callable[[object], str]

#: KPI tiles of :func:`status_cards`: which -> ((label key, section, field, how the number is shown), ...).
CARDS: dict[str, tuple[tuple[str, str, str, _Text], ...]] = {
    "overview": (
        ("t01.card.subscribers", "kpis", "subscribers", count_text),
        ("t01.card.penetration", "penetration", "penetration", partial(pct_text, digits=2)),
        ("t01.card.net_adds", "kpis", "net_adds_per_month", partial(number_text, digits=1)),
        ("t01.card.churn", "kpis", "churn_rate", partial(pct_text, digits=2)),
        ("t01.card.free_month", "kpis", "free_month_leaver_share", partial(pct_text, digits=1)),
    ),
    "potential": (
        ("t01.card.stable", "potential", "stable", count_text),
        ("t01.card.retained", "retention", "at_stable", partial(pct_text, digits=1)),
        ("t01.card.lookalikes", "potential", "lookalikes", count_text),
        ("t01.card.conversion", "potential", "conversion_rate", partial(pct_text, digits=2)),
        ("t01.card.expected", "potential", "expected_new_stable", partial(number_text, digits=0)),
    ),
}


def status_cards(findings: Mapping, which: str = "overview") -> tuple[dict, dict]:
    """A row of KPI tiles for :func:`workbench.notebook.kpi_cards`: each number as the report shows it.

    Parameters
    ----------
    findings : dict
        :func:`workbench.status.analysis.status_findings` output holding the sections the tiles read.
    which : {"overview", "potential"}
        The row: the product at a glance (KPIs and penetration), or stable
        subscribers, retention and potential.

    Returns
    -------
    tuple
        ``(values, formats)``: ``kpi_cards(*status_cards(findings))``.  Every value
        is text formatted by :mod:`workbench.report.format` (a value that could
        not be computed is ``"-"``), so ``formats`` is empty.

    Raises
    ------
    ParameterError
        When ``which`` is unknown or the findings lack a section a tile reads.
    """
    if which not in CARDS:
        raise ParameterError.invalid("which", f"one of {list(CARDS)}", which)
    return {label: text(_section(findings, section).get(name)) for label, section, name, text in CARDS[which]}, {}
