"""Stable changers of a day (workbench.triggers.detect) on small explicit presence tables."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.errors import DataValidationError, ParameterError
from workbench.triggers import CHANGER_COLUMNS, detect_changers

DAY = pd.Timestamp("2026-10-20")        # judges changes first seen on 2026-10-11
F = pd.Timestamp("2026-10-11")


def _models():
    return pd.DataFrame({"handset_model": ["OLD", "NEW"], "vendor": ["x", "y"], "price_band": ["low", "high"],
                         "cap_wap": [False, True], "cap_mms": [False, True], "cap_java": [False, True],
                         "cap_mp3": [False, False], "smartphone": [False, True]})


def _days(sid, imei, offsets):
    return pd.DataFrame({"subscriber_id": sid, "imei": imei, "day": [F + pd.Timedelta(days=o) for o in offsets]})


def _province(new_days=None, old_days=(), extra=None):
    """Subscriber 1 changes OLD (imei O1) -> NEW (imei N1) on F."""
    new_days = list(range(10)) if new_days is None else new_days
    pres = pd.DataFrame({
        "subscriber_id": [1, 1], "imei": ["O1", "N1"], "handset_model": ["OLD", "NEW"],
        "first_seen": [pd.Timestamp("2026-06-01"), F],
        "last_seen": [F - pd.Timedelta(days=1) if not old_days else F + pd.Timedelta(days=max(old_days)),
                      F + pd.Timedelta(days=max(new_days))],
        "active_days": [100, len(new_days)],
    })
    days = pd.concat([_days(1, "O1", range(-5, 0)), _days(1, "O1", old_days), _days(1, "N1", new_days)])
    frames = {"imei_presence": pres, "imei_days": days, "handset_models": _models()}
    if extra:
        for k, v in extra.items():
            frames[k] = pd.concat([frames[k], v], ignore_index=True)
    return frames


def test_a_stable_change_is_found_with_both_handsets_capabilities():
    out = detect_changers(_province(new_days=[0, 1, 2, 4, 5, 7, 9]), DAY)
    assert list(out.columns) == list(CHANGER_COLUMNS)
    row = out.iloc[0]
    assert (row.subscriber_id, row.old_imei, row.new_imei, row.active_days) == (1, "O1", "N1", 7)
    assert row.change_day == F and row.stable and not row.switched_back
    assert row.new_cap_java and not row.old_cap_java and not row.new_cap_mp3


def test_too_few_days_seen_is_not_stable():
    frames = _province(new_days=[0, 1, 2, 4, 5, 9])      # 6 of 10
    assert detect_changers(frames, DAY).empty
    judged = detect_changers(frames, DAY, stable_only=False)
    assert judged["active_days"].tolist() == [6] and not judged["stable"].any()
    assert len(detect_changers(frames, DAY, min_active_days=6)) == 1


def test_a_switch_back_is_not_stable():
    frames = _province(old_days=[3])                       # the old handset is back on F + 3
    judged = detect_changers(frames, DAY, stable_only=False)
    assert judged["switched_back"].tolist() == [True] and not judged["stable"].any()


def test_only_changes_whose_window_closes_that_day_are_judged():
    frames = _province()
    assert len(detect_changers(frames, DAY)) == 1
    assert detect_changers(frames, DAY - pd.Timedelta(days=1)).empty   # judges F - 1: nothing
    assert len(detect_changers(frames, DAY - pd.Timedelta(days=1), window_days=9)) == 1


def test_a_first_handset_is_no_change():
    joiner = pd.DataFrame({"subscriber_id": [2], "imei": ["J1"], "handset_model": ["NEW"], "first_seen": [F],
                           "last_seen": [F + pd.Timedelta(days=9)], "active_days": [10]})
    frames = _province(extra={"imei_presence": joiner, "imei_days": _days(2, "J1", range(10))})
    assert detect_changers(frames, DAY)["subscriber_id"].tolist() == [1]


def test_bad_input_is_named():
    frames = _province()
    with pytest.raises(ParameterError, match="min_active_days"):
        detect_changers(frames, DAY, min_active_days=11)
    with pytest.raises(ParameterError, match="'day'.*imei_days covers 2026-10-06 to 2026-10-20"):
        detect_changers(frames, DAY + pd.Timedelta(days=3))
    with pytest.raises(ParameterError, match="day"):
        detect_changers(frames, "20-10-2026x")
    with pytest.raises(DataValidationError, match="imei_days"):
        detect_changers({k: v for k, v in frames.items() if k != "imei_days"}, DAY)
