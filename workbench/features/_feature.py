"""The description of one feature, and the time frame features are built for."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from workbench.features._db import add_months, month_end, sql_date

__all__ = ["Feature", "Frame", "DTYPES", "FAMILIES"]

#: Logical feature types and the pandas dtype each becomes.
DTYPES: dict[str, str] = {"int": "int64", "float": "float64", "bool": "bool", "category": "category"}
#: Feature families, in catalogue order.
FAMILIES: tuple[str, ...] = ("attributes", "usage", "content", "vas_family", "vas_category", "handset")


@dataclass(frozen=True)
class Feature:
    """One column of the feature table.

    Parameters
    ----------
    name : str
        Column name (stable: models and reports refer to it).
    family : str
        Feature family, one of :data:`FAMILIES`.
    dtype : {"int", "float", "bool", "category"}
        Logical type; ``float`` features may be missing (NaN), the others never
        are except ``category`` (NaN for unknown).
    meaning, meaning_zh : str
        What the feature holds, in English and Chinese.
    fill : str, optional
        SQL literal used when the subscriber has no row in the feature family's
        source (e.g. ``0`` orders); ``None`` leaves it missing.
    categories : tuple of str, optional
        Known categories of a ``category`` feature (others seen in the data are
        appended, sorted).
    product_family, content_category, measure : str, optional
        What the feature is about, so that a model can e.g. drop the features
        of the product family it predicts.
    """

    name: str
    family: str
    dtype: str
    meaning: str
    meaning_zh: str
    fill: str | None = None
    categories: tuple[str, ...] | None = None
    product_family: str | None = None
    content_category: str | None = None
    measure: str | None = None

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ValueError(f"feature {self.name!r}: dtype must be one of {list(DTYPES)}, got {self.dtype!r}")
        if self.family not in FAMILIES:
            raise ValueError(f"feature {self.name!r}: family must be one of {FAMILIES}, got {self.family!r}")


@dataclass(frozen=True)
class Frame:
    """The snapshot month and the window of months before it that features read.

    ``start`` is the first day of the snapshot month, ``end`` its last day (the
    last day of data read), ``window_start`` the first day of the first month
    of the window (``window`` months ending with the snapshot month).
    """

    start: pd.Timestamp
    window: int

    @property
    def end(self) -> pd.Timestamp:
        return month_end(self.start)

    @property
    def window_start(self) -> pd.Timestamp:
        return add_months(self.start, 1 - self.window)

    @property
    def s(self) -> str:
        """SQL literal of the snapshot month's first day."""
        return sql_date(self.start)

    @property
    def e(self) -> str:
        """SQL literal of the snapshot month's last day."""
        return sql_date(self.end)

    @property
    def w(self) -> str:
        """SQL literal of the window's first day."""
        return sql_date(self.window_start)
