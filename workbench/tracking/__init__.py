"""Tracking and evaluation of campaigns: effect tables (attribution and quality come later)."""
from workbench.tracking.effect import (
    ADJUSTED_COLUMNS,
    COST_COLUMNS,
    EFFECT_TABLE_COLUMNS,
    SEGMENT_COLUMN,
    SRM_COLUMNS,
    effect_table,
    outcome_kind,
    resolve_value,
    srm_table,
)

__all__ = [
    "ADJUSTED_COLUMNS",
    "COST_COLUMNS",
    "EFFECT_TABLE_COLUMNS",
    "SEGMENT_COLUMN",
    "SRM_COLUMNS",
    "effect_table",
    "outcome_kind",
    "resolve_value",
    "srm_table",
]
