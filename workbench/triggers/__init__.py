"""Handset-change trigger campaigns (issue 18).

Stable changers of a day found from daily IMEI presence (:func:`detect_changers`),
eligible services recommended by handset capability and preference
(:func:`recommend`), rolling daily waves with a randomized control per wave and a
comparison group of similar non-changers (:func:`run_wave`), and the changers'
extra uplift (:func:`evaluate_triggers`).  Compute only: it returns data; words
live in ``workbench.report``, figures in ``workbench.viz``.
"""
from workbench.triggers.detect import CHANGER_COLUMNS, MIN_ACTIVE_DAYS, WINDOW_DAYS, detect_changers, presence_days
from workbench.triggers.evaluate import RESPONSE_DAYS, evaluate_triggers, member_outcomes
from workbench.triggers.recommend import (
    DEFAULT_CHANNEL_RULES, OFFER_COLUMNS, RecommendInputs, gather_recommend_inputs, recommend,
)
from workbench.triggers.waves import (
    ARMS, TriggerSpec, Wave, WaveRelease, channel_files, plan_wave, release_wave, releases_table, run_wave, run_waves,
    wave_days, wave_files, wave_members,
)

__all__ = [
    "CHANGER_COLUMNS", "MIN_ACTIVE_DAYS", "WINDOW_DAYS", "detect_changers", "presence_days",
    "RESPONSE_DAYS", "evaluate_triggers", "member_outcomes",
    "DEFAULT_CHANNEL_RULES", "OFFER_COLUMNS", "RecommendInputs", "gather_recommend_inputs", "recommend",
    "ARMS", "TriggerSpec", "Wave", "WaveRelease", "channel_files", "plan_wave", "release_wave", "run_wave",
    "wave_members", "wave_days", "run_waves", "releases_table", "wave_files",
]
