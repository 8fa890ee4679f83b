"""Shared parameter checks (workbench.checks): check_day."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from workbench.checks import check_day
from workbench.errors import ParameterError


@pytest.mark.parametrize("value", ["2026-11-01", dt.date(2026, 11, 1), pd.Timestamp("2026-11-01 23:59"),
                                   pd.Timestamp("2026-11-01 08:00", tz="Asia/Shanghai"), np.datetime64("2026-11-01")])
def test_a_day_in_any_form_is_that_calendar_day(value):
    day = check_day("start", value)
    assert day == np.datetime64("2026-11-01", "D") and day.dtype == np.dtype("datetime64[D]")


@pytest.mark.parametrize("value", ["2026-13-01", "soon", None, float("nan"), pd.NaT, [2026, 11, 1]])
def test_what_is_not_a_day_is_named_with_an_example(value):
    with pytest.raises(ParameterError, match=r"The 'as_of' parameter must be a date"):
        check_day("as_of", value)
