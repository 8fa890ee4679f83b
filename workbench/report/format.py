"""Numbers as a report shows them: one formatter per kind, a missing value always shown as ``missing``.

Every percentage, interval, count and amount a template or app prints goes through these, so a
report never shows ``0.035`` for 3.5 %, ``23.0`` for a count or ``nan`` for a missing value.

Examples
--------
>>> pct_text(0.0351)
'3.51%'
>>> pct_text(0.0289, sign=True)
'+2.89%'
>>> ci_text(-0.0524, 0.051)
'[-5.24%, 5.10%]'
>>> count_text(19194.0)
'19,194'
>>> pct_text(float("nan"))
'-'
"""
from __future__ import annotations

import math

__all__ = ["MISSING", "is_missing", "pct_text", "pp_text", "ci_text", "count_text", "number_text", "p_text"]

#: What a missing or non-finite value is shown as.
MISSING = "-"


def is_missing(value) -> bool:
    """``None``, NaN, ``pd.NA`` / ``NaT`` or an infinite number."""
    if value is None:
        return True
    try:
        number = float(value)
    except (TypeError, ValueError):
        return True
    return not math.isfinite(number)


def pct_text(value, digits: int = 2, *, sign: bool = False, missing: str = MISSING) -> str:
    """A share as a percentage: ``0.0351`` -> ``'3.51%'`` (``'+3.51%'`` with ``sign``)."""
    if is_missing(value):
        return missing
    return f"{100 * float(value):{'+' if sign else ''}.{digits}f}%"


def pp_text(value, digits: int = 2, *, missing: str = MISSING) -> str:
    """A difference of shares in percentage points, always signed: ``0.0134`` -> ``'+1.34'``."""
    if is_missing(value):
        return missing
    return f"{100 * float(value):+.{digits}f}"


def ci_text(lo, hi, *, pct: bool = True, digits: int = 2, missing: str = MISSING) -> str:
    """An interval: ``'[-5.24%, 5.10%]'`` (``pct=False``: ``'[-1.5, 3.2]'``, one decimal)."""
    if is_missing(lo) or is_missing(hi):
        return missing
    if pct:
        return f"[{pct_text(lo, digits)}, {pct_text(hi, digits)}]"
    return f"[{float(lo):,.1f}, {float(hi):,.1f}]"


def count_text(value, *, missing: str = MISSING) -> str:
    """A count with thousands separators and no decimals: ``19194.0`` -> ``'19,194'``."""
    if is_missing(value):
        return missing
    return f"{round(float(value)):,d}"


def number_text(value, digits: int = 2, *, sign: bool = False, missing: str = MISSING) -> str:
    """A number with ``digits`` decimals and thousands separators: ``1234.5`` -> ``'1,234.50'``."""
    if is_missing(value):
        return missing
    return f"{float(value):{'+' if sign else ''},.{digits}f}"


def p_text(value, *, missing: str = MISSING) -> str:
    """A p-value with three decimals, ``'<0.001'`` below that: ``0.0312`` -> ``'0.031'``."""
    if is_missing(value):
        return missing
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"
