"""The calendar of a synthetic province: history, observed window and the months after it.

Months are handled as integers (``year * 12 + month - 1``) and days as days
since 1970-01-01 (Arrow ``date32``), so every date computation is vectorised.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from workbench.errors import ParameterError

__all__ = ["Timeline", "parse_month", "month_start_day", "days_in_month", "format_month"]

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str, name: str = "end_month") -> int:
    """``"YYYY-MM"`` -> month number ``year * 12 + month - 1``."""
    m = _MONTH_RE.match(str(text))
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1990 <= int(m.group(1)) <= 2200:
        raise ParameterError.invalid(name, "a month written 'YYYY-MM' (years 1990-2200)", text)
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def format_month(month: int) -> str:
    """Month number -> ``"YYYY-MM"``."""
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def month_start_day(month) -> np.ndarray:
    """Days since 1970-01-01 of the first day of each month number."""
    m = np.asarray(month, dtype=np.int64) - 1970 * 12
    return m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def days_in_month(month) -> np.ndarray:
    """Number of days of each month number."""
    m = np.asarray(month, dtype=np.int64)
    return month_start_day(m + 1) - month_start_day(m)


@dataclass(frozen=True)
class Timeline:
    """The months a province is simulated over.

    ``history`` months before the window (orders of that time are written; usage
    is not), the ``months`` of the observed window ending with ``end_month``, and
    ``after`` months past the window (simulated for the ground truth only).

    Parameters
    ----------
    end_month : int
        Month number of the last observed month.
    months : int
        Length of the observed window.
    history : int
        Months simulated before the window.
    after : int
        Months simulated after the window (3 order months + 2 months to become stable).
    """

    end_month: int
    months: int
    history: int = 24
    after: int = 5

    @property
    def first_month(self) -> int:
        """Month number of the first simulated (history) month."""
        return self.end_month - self.months + 1 - self.history

    @property
    def window_start(self) -> int:
        """Month number of the first observed month."""
        return self.end_month - self.months + 1

    @property
    def n_sim(self) -> int:
        """Number of simulated months (history + window + after)."""
        return self.history + self.months + self.after

    @property
    def sim_months(self) -> np.ndarray:
        """Month numbers of every simulated month."""
        return np.arange(self.first_month, self.first_month + self.n_sim, dtype=np.int64)

    @property
    def window_index(self) -> np.ndarray:
        """Indices into :attr:`sim_months` of the observed months."""
        return np.arange(self.history, self.history + self.months)

    @property
    def end_index(self) -> int:
        """Index into :attr:`sim_months` of the last observed month."""
        return self.history + self.months - 1

    @property
    def last_day(self) -> int:
        """Day number of the last day of the end month (no written date is later)."""
        return int(month_start_day(self.end_month + 1)) - 1
