"""Words of template 08 (handset-change triggers) and of ``workbench trigger``: numbers as labelled text."""
from __future__ import annotations

import pandas as pd

from workbench.i18n import t
from workbench.report.format import ci_text, count_text, p_text, pct_text

__all__ = [
    "detect_line", "wave_line", "funnel_table", "arms_table", "extra_line", "intro_story", "presence_story",
    "detection_story", "waves_story", "changers_display", "rerun_story", "files_story", "truth_uplift_story",
    "waves_display",
]


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


def intro_story(spec) -> tuple[str, dict]:
    """The template's opening, with the rule's numbers."""
    return "t08.intro", {"window": spec.window_days, "min_days": spec.min_active_days}


def presence_story(first, last, day, n: int) -> tuple[str, dict]:
    """Which days the daily records cover and how many stable changers ``day`` had."""
    iso = [pd.Timestamp(x).date().isoformat() for x in (first, last, day)]
    return "t08.presence", {"first": iso[0], "last": iso[1], "day": iso[2], "n": count_text(n)}


def detection_story(check: dict) -> tuple[str, dict]:
    """Detection against the synthetic truth."""
    return "t08.truth_detection", {"detected": count_text(check["detected"]), "true": count_text(check["true"]),
                                   "precision": pct_text(check["precision"], 1), "recall": pct_text(check["recall"], 1)}


def waves_story(table: pd.DataFrame) -> tuple[str, dict]:
    """How many waves ran, were released now, and their members."""
    return "t08.waves", {"n": count_text(len(table)), "created": count_text(int(table["created"].sum())),
                         "members": count_text(int(table["members"].sum()))}


def rerun_story(release, lang: str | None = None) -> tuple[str, dict]:
    """What re-running a released day did."""
    return "t08.rerun", {"day": release.day, "line": wave_line(release, lang)}


def files_story(paths) -> tuple[str, dict]:
    """Where the platform files went."""
    return "t08.files", {"n": count_text(len(paths))}


def truth_uplift_story(result: dict, true_extra: float, lang: str | None = None) -> tuple[str, dict]:
    """The simulator's true extra uplift and whether the CI covers it."""
    inside = result["extra_low"] <= true_extra <= result["extra_high"]
    return "t08.truth_uplift", {"truth": pct_text(true_extra, sign=True),
                                "verdict": t("t08.truth_in_ci" if inside else "t08.truth_outside_ci", lang)}


def waves_display(table: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """The waves table with labelled columns."""
    steps = [c for c in ("detected", "held_back", "no_service", "listed_changers", "comparison") if c in table]
    out = pd.DataFrame({t("triggers.col.day", lang): table["day"], t("triggers.col.version", lang): table["version"]})
    for s in steps:
        out[t(f"triggers.step.{s}", lang)] = table[s].fillna(0).astype(int)
    return out


def changers_display(changers: pd.DataFrame, rows: int = 10, lang: str | None = None) -> pd.DataFrame:
    """The first changers with labelled columns and the capabilities the new handset added."""
    from workbench.data.tables import CAPABILITIES

    c = changers.head(rows)
    gained = [", ".join(cap.upper() for cap in CAPABILITIES if r[f"new_cap_{cap}"] and not r[f"old_cap_{cap}"])
              for _, r in c.iterrows()]
    return pd.DataFrame({
        t("t08.col.subscriber", lang): c["subscriber_id"].to_numpy(),
        t("t08.col.change_day", lang): pd.to_datetime(c["change_day"]).dt.date.astype(str).to_numpy(),
        t("t08.col.old_model", lang): c["old_model"].to_numpy(),
        t("t08.col.new_model", lang): c["new_model"].to_numpy(),
        t("t08.col.active_days", lang): c["active_days"].to_numpy(),
        t("t08.col.gained", lang): gained,
    })
