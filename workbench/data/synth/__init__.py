"""The synthetic province: a deterministic, realistic province and its ground truth.

:func:`generate_province` writes every table of :mod:`workbench.data.tables`
(one Parquet file each) and, in a separate folder, the ground truth the
workbench's models never see: true content preferences, hidden traits, the
exact probability of becoming a stable subscriber of each product family after
the window, the realised next-period outcomes, and the true campaign response
per channel (:func:`draw_campaign_response` simulates a campaign from it).

Modules: ``catalogue`` (branches, handsets, products, tariffs), ``traits`` (who
the subscribers are), ``handsets`` (handset changes), ``uptake`` (why people
order), ``subscriptions`` (the order / unsubscribe process), ``usage`` (monthly
usage), ``truth`` (ground truth), ``ids`` (phone numbers, IMEIs), ``writer``
(Parquet), ``timeline`` (calendar), ``generate`` (the whole run).
See ``docs/synthetic-province.md``.
"""
from workbench.data.synth.generate import (
    DEFAULT_CHUNK_SIZE, DEFAULT_END_MONTH, DEFAULT_MONTHS, DEFAULT_SEED, DEFAULT_SUBSCRIBERS, HISTORY_MONTHS,
    META_FILE, TARGET_STABLE_SHARE, TRUTH_FILE, default_truth_folder, generate_province, load_truth,
)
from workbench.data.synth.subscriptions import STABLE_MONTHS
from workbench.data.synth.truth import CAMPAIGN_CHANNELS, draw_campaign_response, truth_schema

__all__ = [
    "generate_province",
    "default_truth_folder",
    "load_truth",
    "draw_campaign_response",
    "truth_schema",
    "CAMPAIGN_CHANNELS",
    "STABLE_MONTHS",
    "TARGET_STABLE_SHARE",
    "TRUTH_FILE",
    "META_FILE",
    "HISTORY_MONTHS",
    "DEFAULT_SEED",
    "DEFAULT_SUBSCRIBERS",
    "DEFAULT_MONTHS",
    "DEFAULT_END_MONTH",
    "DEFAULT_CHUNK_SIZE",
]
