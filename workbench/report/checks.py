"""The method checks (:mod:`workbench.methodchecks`) in words: one line per check, a card near the top of a step.

Words come from ``workbench/i18n/labels/method_checks.yaml``; numbers through
:mod:`workbench.report.format`, codes through :mod:`workbench.report.names`.

Examples
--------
>>> from workbench.methodchecks import plan_vs_goal
>>> check_text(plan_vs_goal(71, 50.0), "zh")
'方案预期新增订购只有 50.0，低于模板 02 的目标 71 个稳定用户（缺口 21.0，只达到目标的 70%）。'
"""
from __future__ import annotations

from collections.abc import Sequence

from workbench.i18n import get_language, t
from workbench.methodchecks import MethodCheck
from workbench.report.format import MISSING, ci_text, count_text, number_text, pct_text
from workbench.report.names import label

__all__ = ["check_text", "check_line", "checks_story", "MARKS"]

#: A sign per severity of a check that did not pass (a passed check gets ``ok``'s).
MARKS: dict[str, str] = {"ok": "✅", "info": "ℹ️", "warning": "⚠️", "error": "⛔"}


def _subject(subject, lang: str) -> str:
    if subject is None or subject == "campaign":
        return t("method_checks.subject.campaign", lang=lang)
    return label("channel", subject, lang)


def _values(check: MethodCheck, lang: str) -> dict:
    v = check.values
    if check.check == "plan_vs_goal":
        return {"goal": count_text(v["goal"]), "planned": number_text(v["planned"], 1),
                "shortfall": number_text(v["shortfall"], 1), "reached": pct_text(v["reached"], 0)}
    if check.check == "spend_vs_budget":
        return {"stage": t(f"method_checks.stage.{v['stage']}", lang=lang), "spend": number_text(v["spend"], 0),
                "budget": number_text(v.get("budget"), 0), "overrun": number_text(v.get("overrun"), 0),
                "used": pct_text(v.get("used"), 0)}
    if check.check == "control_power":
        return {"n_control": count_text(v["n_control"]), "n_treated": count_text(v["n_treated"]),
                "needed_lift": pct_text(v["needed_lift"]), "power": pct_text(v["power"], 0),
                "target_power": pct_text(v["target_power"], 0), "required": count_text(v.get("required_control"))}
    if check.check == "evidence":
        values = {"subject": _subject(check.subject, lang), "estimate": pct_text(v["estimate"], sign=True),
                  "interval": ci_text(v["low"], v["high"])}
        if check.code == "not_enough_evidence":
            if v.get("needed_treated") is None:
                values["needed"] = t("method_checks.evidence.needed_unknown", lang=lang)
            else:
                values["needed"] = t("method_checks.evidence.needed", lang=lang,
                                     treated=count_text(v["needed_treated"]), control=count_text(v["needed_control"]),
                                     n_treated=count_text(v["n_treated"]), n_control=count_text(v["n_control"]))
        return values
    if check.check == "list_overlap":
        return {"live": count_text(v["live"]), "overlap": count_text(v["overlap"]), "share": pct_text(v["share"], 1),
                "campaigns": ", ".join(f"#{c}" for c in v["campaigns"]) or MISSING}
    return {"model": v.get("model") or MISSING, "campaign": v.get("campaign") or MISSING}


def check_text(check: MethodCheck, lang: str | None = None) -> str:
    """What a check found, in one sentence of the catalogue (``method_checks.<check>.<code>``)."""
    lang = lang or get_language()
    return t(f"method_checks.{check.check}.{check.code}", lang=lang, **_values(check, lang))


def check_line(check: MethodCheck, lang: str | None = None) -> str:
    """One Markdown bullet: sign, severity, finding and the suggested action."""
    lang = lang or get_language()
    severity = "ok" if check.passed else check.severity
    action = "" if check.action is None else t("method_checks.action_prefix", lang=lang,
                                               action=t(f"method_checks.action.{check.action}", lang=lang))
    return t("method_checks.item", lang=lang, mark=MARKS[severity],
             severity=t(f"method_checks.severity.{severity}", lang=lang), text=check_text(check, lang), action=action)


def checks_story(checks: Sequence[MethodCheck], lang: str | None = None) -> tuple[str, dict]:
    """The card of a step's method checks, for ``narrate(key, **values)``: the most serious first."""
    lang = lang or get_language()
    if not checks:
        return "method_checks.card.none", {}
    order = {"error": 0, "warning": 1, "info": 2}
    ranked = sorted(checks, key=lambda c: (c.passed, order[c.severity]))
    warnings = sum(1 for c in checks if not c.passed and c.severity == "warning")
    errors = sum(1 for c in checks if not c.passed and c.severity == "error")
    summary = t("method_checks.card.all_passed", lang=lang) if not (warnings or errors) else \
        t("method_checks.card.flagged", lang=lang, warnings=warnings, errors=errors)
    return "method_checks.card.story", {"summary": summary, "items": "\n".join(check_line(c, lang) for c in ranked)}
