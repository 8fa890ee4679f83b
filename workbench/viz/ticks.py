"""Numbers on charts as people read them: funnel labels and axis ranges (draw-side helpers, no words).

Examples
--------
>>> funnel_text(18000, 19194)
'18,000 (93.8%)'
>>> funnel_text(19194.4, 19194)
'19,194 (100.0%)'
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["funnel_text", "rate_axis"]


def funnel_text(count, first) -> str:
    """A funnel step's label: whole users and their share of the first step (``'18,000 (93.8%)'``).

    Never plotly's SI notation (``19.194k``) nor a share rounded to a whole percent (``98 0%``).
    """
    whole = f"{int(round(float(count))):,}"
    if not first or not math.isfinite(float(first)):
        return whole
    return f"{whole} ({100 * float(count) / float(first):.1f}%)"


def rate_axis(values, *, pad: float = 1.1) -> dict:
    """A plotly axis for rates spread over ``values``: linear from 0 when they span less than a factor of 20,
    else logarithmic over the positive values; ticks as percentages either way."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return {"tickformat": ".1%", "rangemode": "tozero"}
    lo, hi = float(v.min()), float(v.max())
    if hi / lo < 20:
        return {"tickformat": ".1%", "range": [0, hi * pad]}
    return {"type": "log", "tickformat": ".2~%", "range": [math.log10(lo / pad), math.log10(hi * pad)]}
