"""What template 02 (goal setting) says: the goal's statement and verdict, its tiles and its arithmetic.

The goal is computed by :mod:`workbench.status.goal` (:func:`~workbench.status.goal.propose_goal`,
a JSON-ready dict); this module words it.  Numbers are formatted by
:mod:`workbench.report.format`.

Examples
--------
>>> from workbench.notebook import kpi_cards, narrate          # doctest: +SKIP
>>> kpi_cards(*goal_cards(goal))                                # doctest: +SKIP
>>> key, values = goal_story(goal, "verdict")                   # doctest: +SKIP
>>> narrate(key, **values)                                      # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from workbench.errors import ParameterError
from workbench.report.format import count_text, number_text, pct_text, people_table
from workbench.report.t01 import story
from workbench.status.goal import goal_check

__all__ = ["goal_arithmetic", "goal_story", "goal_cards", "findings_story", "scope_story", "reason_story"]


def goal_arithmetic(goal: Mapping, lang: str | None = None) -> pd.DataFrame:
    """The check's arithmetic, one step a row, for the report.

    Parameters
    ----------
    goal : dict
        :func:`workbench.status.goal.propose_goal` output.
    lang : {"zh", "en"}, optional
        Language of the step names and the column headers.

    Returns
    -------
    pandas.DataFrame
        Indexed by the step (index name and column headers from the catalogue),
        text columns calculation and result; the steps: target, conversion over
        the period, expected new stable subscribers, stretch limit, conversion
        needed, target over expected, verdict.
    """
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    c = goal_check(goal)
    n, L, E = count_text(c["target"]), count_text(c["lookalikes"]), number_text(c["expected_new_stable"], 1)
    if goal.get("ambition") is None:
        target_calc = t("goal.arithmetic.given", lang=lang)
    else:
        target_calc = f"⌈{pct_text(goal['ambition'], 0)} × {count_text(goal['stable_subscribers'])}⌉"
    if c["conversion_source"] == "given":
        conv_calc = t("goal.arithmetic.given", lang=lang)
    else:
        conv_calc = f"{pct_text(c['observed_conversion'])} × {c['period_months']} / {c['horizon_months']}"
    rows = [
        ("target", target_calc, n),
        ("conversion", conv_calc, pct_text(c["conversion_rate"])),
        ("expected", f"{L} × {pct_text(c['conversion_rate'])}", E),
        ("stretch_limit", f"{c['stretch']:g} × {E}", number_text(c["stretch_limit"], 1)),
        ("required", f"{n} ÷ {L}", pct_text(c["required_conversion"])),
        ("ratio", f"{n} ÷ {E}", number_text(c["target_over_expected"], 2)),
        ("verdict", "", t(f"goal.verdict.{c['verdict']}", lang=lang)),
    ]
    step, calculation, result = (t(f"goal.arithmetic.{h}", lang=lang) for h in ("step", "calculation", "result"))
    out = pd.DataFrame({calculation: [r[1] for r in rows], result: [r[2] for r in rows]},
                       index=pd.Index([t(f"goal.step.{r[0]}", lang=lang) for r in rows], name=step, dtype="str"))
    return people_table(out, lang=lang).astype("str")


def goal_story(goal: Mapping, part: str, lang: str | None = None) -> tuple[str, dict]:
    """A goal narrative of template 02: its catalogue key and values.

    Parameters
    ----------
    goal : dict
        :func:`workbench.status.goal.propose_goal` output.
    part : {"statement", "verdict"}
        The goal statement (``t02.goal.statement``: target, period, growth,
        reason) or the verdict of the check (``t02.verdict.<verdict>``).
    lang : {"zh", "en"}, optional
        Language of the product name.

    Returns
    -------
    tuple
        ``(key, values)`` for ``narrate(key, **values)``; ratios stay fractions,
        NaN where undefined (no stable subscribers, no look-alikes).
    """
    from workbench.i18n import get_language, t

    lang = lang or get_language()
    c = goal_check(goal)
    nan = float("nan")
    if part == "statement":
        stable = goal.get("stable_subscribers") or 0
        return "t02.goal.statement", {
            "product": t(f"family.{goal['product']}", lang=lang), "target": c["target"],
            "start": goal["period_start"], "end": goal["period_end"], "months": goal["period_months"],
            "stable": stable, "growth": c["target"] / stable if stable else nan, "reason": goal["reason"]["text"]}
    if part == "verdict":
        return f"t02.verdict.{c['verdict']}", {
            "target": c["target"], "lookalikes": c["lookalikes"], "expected": c["expected_new_stable"],
            "limit": c["stretch_limit"], "stretch": c["stretch"], "conversion": c["conversion_rate"],
            "required": nan if c["required_conversion"] is None else c["required_conversion"],
            "ratio": nan if c["target_over_expected"] is None else c["target_over_expected"]}
    raise ParameterError.invalid("part", "one of ['statement', 'verdict']", part)


def goal_cards(goal: Mapping) -> tuple[dict, dict]:
    """The goal's KPI tiles, each number as the report shows it: ``kpi_cards(*goal_cards(goal))``.

    Returns
    -------
    tuple
        ``(values, formats)``: every value is text (:mod:`workbench.report.format`), ``formats`` is empty.
    """
    c = goal_check(goal)
    values = {
        "goal.card.target": count_text(c["target"]),
        "goal.card.period": f"{goal['period_start'][:7]} – {goal['period_end'][:7]}",
        "goal.card.stable": count_text(goal["stable_subscribers"]),
        "goal.card.lookalikes": count_text(c["lookalikes"]),
        "goal.card.expected": number_text(c["expected_new_stable"], 0),
    }
    return values, {}


def findings_story(how: str, run_dir) -> tuple[str, dict]:
    """Where the status findings came from: ``how`` is ``"file"`` (template 01's) or ``"computed"``
    (:func:`workbench.status.analysis.load_findings`)."""
    if how not in ("file", "computed"):
        raise ParameterError.invalid("how", "one of ['file', 'computed']", how)
    return f"t02.findings.{how}", {"run_dir": run_dir}


def scope_story(findings: Mapping, lang: str | None = None) -> tuple[str, dict]:
    """The scope of the findings the goal is set on (template 01's scope story)."""
    return story(findings, "scope", lang)


def reason_story(goal: Mapping) -> tuple[str, dict]:
    """Why this goal: the reason sentence :func:`workbench.status.goal.propose_goal` wrote."""
    goal_check(goal)
    return "t02.reason", {"reason": goal["reason"]["text"]}
