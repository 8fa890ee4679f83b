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
from collections.abc import Mapping

import pandas as pd

__all__ = [
    "MISSING", "KINDS", "is_missing", "pct_text", "pp_text", "ci_text", "count_text", "number_text", "p_text",
    "money_header", "PeopleTable", "people_table",
]

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


# ------------------------------------------------------------------ tables for people
#: Kinds of a column :func:`people_table` formats, each with its formatter.
KINDS: dict[str, object] = {
    "pct": lambda v: pct_text(v),
    "pct0": lambda v: pct_text(v, 0),
    "pct1": lambda v: pct_text(v, 1),
    "signed_pct": lambda v: pct_text(v, sign=True),
    "pp": lambda v: pp_text(v),
    "count": lambda v: count_text(v),
    "money": lambda v: number_text(v, 0),
    "money1": lambda v: number_text(v, 1),
    "money2": lambda v: number_text(v, 2),
    "number": lambda v: number_text(v, 2),
    "number1": lambda v: number_text(v, 1),
    "number3": lambda v: number_text(v, 3),
    "p": lambda v: p_text(v),
    "text": lambda v: MISSING if is_missing(v) and not isinstance(v, str) else str(v),
}
_MONEY = ("money", "money1", "money2")


def money_header(header: str, lang: str | None = None) -> str:
    """A money column's header with its unit: ``'成本'`` -> ``'成本（元）'`` (unchanged when it names one)."""
    from workbench.i18n import t

    if any(unit in header for unit in ("元", "yuan")):
        return header
    return t("report.money_header", lang=lang, header=header)


class PeopleTable(pd.DataFrame):
    """A display table: a DataFrame shown without its index (0..n means nothing to a reader).

    It is a DataFrame in every other respect, so code and tests read it as one.
    """

    @property
    def _constructor(self):
        return PeopleTable

    def _named(self) -> bool:
        return any(n is not None for n in self.index.names)

    def _repr_html_(self) -> str:
        style = self.style if self._named() else self.style.hide(axis="index")
        return style.set_table_attributes('class="dataframe wb-table"').to_html()

    def __repr__(self) -> str:
        return self.to_string(index=self._named())


def _guess(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "text"
    finite = pd.to_numeric(values, errors="coerce").dropna()
    if pd.api.types.is_integer_dtype(values) or (len(finite) and (finite == finite.round()).all()):
        return "count"
    return "number"


def people_table(frame: pd.DataFrame, kinds: Mapping[str, str] | None = None, *, missing: Mapping[str, str] | None
                 = None, lang: str | None = None) -> PeopleTable:
    """A table formatted for people: no index column, every number as text of its kind, money with its unit.

    Parameters
    ----------
    frame : pandas.DataFrame
        Headers already in words.  A named index (e.g. a channel's name) stays and is shown as the
        rows' labels; an unnamed one (0..n) is dropped and not shown.
    kinds : mapping of header to kind, optional
        One of :data:`KINDS` per column: ``pct`` (``3.51%``), ``count`` (``19,194``), ``money``
        (``1,315``, header gets ``（元）``), ``number`` ... Columns not named are guessed: whole
        numbers as counts, other numbers with two decimals, the rest as text.  Text already formatted
        stays as it is.
    missing : mapping of header to text, optional
        What a missing value of a column says (default :data:`MISSING`), e.g. ``"无对照组"``.

    Returns
    -------
    PeopleTable
        A DataFrame of text shown without its index.

    Examples
    --------
    >>> people_table(pd.DataFrame({"rate": [0.035], "n": [23.0]}), {"rate": "pct"}).iloc[0].tolist()
    ['3.50%', '23']
    """
    from workbench.errors import ParameterError

    kinds = dict(kinds or {})
    missing = dict(missing or {})
    bad = {c: k for c, k in kinds.items() if k not in KINDS}
    if bad:
        raise ParameterError.invalid("kinds", f"kinds among {sorted(KINDS)}", bad)
    out = frame.copy()
    if not any(n is not None for n in out.index.names):
        out = out.reset_index(drop=True)
    renamed = {}
    for col in out.columns:
        values = out[col]
        kind = kinds.get(col) or _guess(values)
        fmt = KINDS[kind]
        gap = missing.get(col, MISSING)
        out[col] = pd.Series([v if isinstance(v, str) else (gap if is_missing(v) and kind != "text" else fmt(v))
                              for v in values], index=out.index, dtype="str")
        if kind == "text":
            out[col] = [gap if (not isinstance(v, str) and is_missing(v)) or v in ("nan", "None") else v
                        for v in out[col]]
        if kind in _MONEY:
            renamed[col] = money_header(str(col), lang)
    return PeopleTable(out.rename(columns=renamed))
