"""Words of template 08 (handset-change triggers) and of ``workbench trigger``: numbers as labelled text."""
from __future__ import annotations

import pandas as pd

from workbench.i18n import t
from workbench.report.format import ci_text, count_text, p_text, pct_text

__all__ = ["detect_line", "wave_line", "funnel_table", "arms_table", "extra_line"]


def detect_line(day, n: int, window: int, min_days: int, lang: str | None = None) -> str:
    """One line: the day's stable changers and the rule."""
    return t("triggers.detect.title", lang, day=pd.Timestamp(day).date().isoformat(), n=count_text(n),
             window=window, min_days=min_days)


def wave_line(release, lang: str | None = None) -> str:
    """What releasing a wave did (created, already there, nothing to release)."""
    if release.version is None:
        return t("triggers.wave.empty", lang, day=release.day)
    key = "triggers.wave.created" if release.created else "triggers.wave.exists"
    return t(key, lang, day=release.day, campaign_id=release.campaign_id, version=release.version,
             members=count_text(release.members))


def funnel_table(funnel: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """A wave's funnel with labelled steps."""
    return pd.DataFrame({t("triggers.col.step", lang): [t(f"triggers.step.{s}", lang) for s in funnel["step"]],
                         t("triggers.col.count", lang): [count_text(c) for c in funnel["count"]]})


def arms_table(arms: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """Per arm: pushed, held back, order rates, uplift and its CI, as text."""
    col = {k: t(f"triggers.col.{k}", lang) for k in
           ("arm", "pushed", "held_back", "rate_pushed", "rate_held_back", "uplift", "ci")}
    return pd.DataFrame({
        col["arm"]: [t(f"triggers.arm.{a}", lang) for a in arms["arm"]],
        col["pushed"]: [count_text(v) for v in arms["pushed"]],
        col["held_back"]: [count_text(v) for v in arms["held_back"]],
        col["rate_pushed"]: [pct_text(v) for v in arms["rate_pushed"]],
        col["rate_held_back"]: [pct_text(v) for v in arms["rate_held_back"]],
        col["uplift"]: [pct_text(v, sign=True) for v in arms["uplift"]],
        col["ci"]: [ci_text(lo, hi) for lo, hi in zip(arms["uplift_low"], arms["uplift_high"])],
    })


def extra_line(result: dict, lang: str | None = None) -> str:
    """The changers' extra uplift with its CI and p-value (or that there is nothing to evaluate)."""
    if result.get("extra_uplift") is None or pd.isna(result.get("extra_uplift")):
        return t("triggers.eval.none", lang)
    return t("triggers.eval.extra", lang, extra=pct_text(result["extra_uplift"], sign=True),
             ci=ci_text(result["extra_low"], result["extra_high"]), p=p_text(result["p_value"]))
