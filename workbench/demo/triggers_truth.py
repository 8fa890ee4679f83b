"""The handset-change truth: detection quality and the changers' true extra uplift.

Reads the truth folder (``handset_changes.parquet``, ``trigger_response.parquet``);
only the demo, its tests and ``benchmarks/`` use it.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from workbench.data.synth.presence import PRESENCE_TRUTH_TABLE, RESPONSE_TRUTH_TABLE
from workbench.errors import ParameterError

__all__ = ["load_changes_truth", "load_response_truth", "detection_quality"]


def _read(folder, table: str, columns=None) -> pd.DataFrame:
    path = Path(folder) / f"{table}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"no {table}.parquet in the truth folder {str(folder)!r}; regenerate the province "
                                "with `workbench sample` (generator with daily handset presence)")
    return pq.read_table(path, columns=columns).to_pandas()


def load_changes_truth(truth_folder) -> pd.DataFrame:
    """Every IMEI change of the daily window: ``subscriber_id, imei, change_day, kind, stable``."""
    frame = _read(truth_folder, PRESENCE_TRUTH_TABLE)
    frame["change_day"] = pd.to_datetime(frame["change_day"]).astype("datetime64[us]")
    return frame


def load_response_truth(truth_folder, subscriber_ids=None) -> pd.DataFrame:
    """Per subscriber, the hidden trigger-offer logits and contact lift."""
    frame = _read(truth_folder, RESPONSE_TRUTH_TABLE)
    if subscriber_ids is not None:
        frame = frame[frame["subscriber_id"].isin(pd.Series(subscriber_ids))]
    return frame.reset_index(drop=True)


def detection_quality(detected: pd.DataFrame, truth: pd.DataFrame, first_day, last_day) -> dict:
    """Precision and recall of detected stable changers against the truth's stable changes.

    Only changes first seen from ``first_day`` to ``last_day`` count on both sides.

    Parameters
    ----------
    detected : DataFrame
        ``subscriber_id, new_imei, change_day`` of the detected stable changers.
    truth : DataFrame
        :func:`load_changes_truth`.
    first_day, last_day : date

    Returns
    -------
    dict
        ``detected``, ``true``, ``hits``, ``precision``, ``recall``.
    """
    lo, hi = pd.Timestamp(first_day), pd.Timestamp(last_day)
    if hi < lo:
        raise ParameterError.invalid("last_day", f"a day on or after first_day {lo.date()}", hi.date())
    t = truth[truth["stable"] & truth["change_day"].between(lo, hi)]
    d = detected[pd.to_datetime(detected["change_day"]).between(lo, hi)]
    keys_t = set(zip(t["subscriber_id"].astype("int64"), t["imei"].astype(str)))
    keys_d = set(zip(d["subscriber_id"].astype("int64"), d["new_imei"].astype(str)))
    hits = len(keys_t & keys_d)
    return {"detected": len(keys_d), "true": len(keys_t), "hits": hits,
            "precision": hits / len(keys_d) if keys_d else float("nan"),
            "recall": hits / len(keys_t) if keys_t else float("nan")}
